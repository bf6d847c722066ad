"""The website's configuration, pages and links, checked from the sources in a second.

Every check is a small function ``check_*(site, ...) -> list[str]`` returning
readable problems (empty: fine). The tests run each check on the real site (the
repository root), on ``tests/fixtures/site/good`` (which must pass: proof that
the checks accept valid input) and on a broken copy (which must fail with the
expected message).

Schema checks use the compiled schema of the Quarto on PATH (1.10.18, see
``tests/quarto_schema.py``); without Quarto they fail and say how to get it. They
give in a second what ``quarto render`` reports only after executing the posts.
The other checks need nothing but the files.

Links. Markdown links and images in prose (not in code) are resolved like Quarto
resolves them in a website: a relative target against the page's folder, a
site-absolute target (``/data/x.csv``, ``/posts/02-x/``) against the project root
(Quarto rewrites those to relative links when rendering). Both are accepted;
the posts use relative links (``../../data/irony_of_spec.csv``), which also work in
``quarto preview`` and on GitHub. A ``.html`` target needs its source
(``.qmd``/``.md``/``.ipynb``); a folder needs an ``index.qmd``; a linked page must be
in the render list; any other file (data, images) must exist.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.parse
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
import quarto_schema as qs  # noqa: E402

REPO = HERE.parent
FIXTURES = HERE / "fixtures" / "site"
GOOD = FIXTURES / "good"
BROKEN_SITE = FIXTURES / "broken-site"
BROKEN_YAML = FIXTURES / "broken-yaml"

POST_DIR = re.compile(r"^(\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REQUIRED_POST_FIELDS = ("title", "description", "date", "categories", "image")
CROSSREF_KINDS = ("fig", "tbl")


# ---------------------------------------------------------------------- the site


@dataclass(frozen=True)
class Site:
    """A Quarto website on disk: its config, rendered pages and posts."""

    root: Path

    @cached_property
    def config(self) -> dict[str, Any]:
        return qs.load_yaml_file(self.root / "_quarto.yml") or {}

    @cached_property
    def pages(self) -> list[Path]:
        """The ``.qmd`` files ``quarto render`` would render (Quarto's glob rules).

        Quarto turns a render glob without a leading ``/`` into ``**/<glob>``, a
        ``dir/`` into ``dir/**/*``, subtracts the ``!`` globs, and always skips
        hidden (``.x``) and ``_x`` paths and the output directory.
        """
        project = self.config.get("project") or {}
        globs = project.get("render") or ["*.qmd"]
        include: set[Path] = set()
        exclude: set[Path] = set()
        for glob in globs:
            target = exclude if glob.startswith("!") else include
            pattern = glob.lstrip("!")
            if pattern.endswith("/"):
                pattern += "**/*"
            pattern = pattern[1:] if pattern.startswith("/") else "**/" + pattern
            target.update(p for p in self.root.glob(pattern) if p.is_file())
        out_dir = project.get("output-dir", "_site")
        pages = []
        for path in sorted(include - exclude):
            rel = path.relative_to(self.root)
            if path.suffix != ".qmd" or rel.parts[0] == out_dir:
                continue
            if any(part.startswith((".", "_")) for part in rel.parts):
                continue
            pages.append(path)
        return pages

    @cached_property
    def post_dirs(self) -> list[Path]:
        posts = self.root / "posts"
        if not posts.is_dir():
            return []
        return sorted(
            p for p in posts.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
        )

    @cached_property
    def metadata_files(self) -> list[Path]:
        """Every ``_metadata.yml`` that applies to a rendered page."""
        found = set()
        for page in self.pages:
            folder = page.parent
            while True:
                candidate = folder / "_metadata.yml"
                if candidate.is_file():
                    found.add(candidate)
                if folder == self.root:
                    break
                folder = folder.parent
        return sorted(found)

    def doc(self, path: Path) -> qs.QmdDoc:
        return qs.parse_qmd(path)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


# ------------------------------------------------------------- schema checks


def check_project_config(site: Site, schema: qs.QuartoSchema) -> list[str]:
    return [f"_quarto.yml: {m}" for m in schema.check_project_config(site.config)]


def check_metadata_files(site: Site, schema: qs.QuartoSchema) -> list[str]:
    problems = []
    for path in site.metadata_files:
        for m in schema.check_front_matter(qs.load_yaml_file(path)):
            problems.append(f"{site.rel(path)}: {m}")
    return problems


def check_front_matter(site: Site, schema: qs.QuartoSchema, pages=None) -> list[str]:
    problems = []
    for page in site.pages if pages is None else pages:
        for m in schema.check_front_matter(site.doc(page).front_matter()):
            problems.append(f"{site.rel(page)}: {m}")
    return problems


def check_cell_options(site: Site, schema: qs.QuartoSchema, pages=None) -> list[str]:
    problems = []
    for page in site.pages if pages is None else pages:
        for cell in site.doc(page).cells:
            try:
                options = cell.options()
            except Exception as err:  # a YAML error in #| lines
                problems.append(f"{site.rel(page)}:{cell.line}: unreadable #| options: {err}")
                continue
            for m in schema.check_cell_options(options):
                problems.append(f"{site.rel(page)}:{cell.line}: #| {m}")
    return problems


# --------------------------------------------------------------- site checks


def check_render_set(site: Site) -> list[str]:
    """Home, About and every post are rendered; nothing under tests/, bench/, build/."""
    rendered = {site.rel(p) for p in site.pages}
    problems = [
        f"{page} is not in the render list"
        for page in ["index.qmd", "about.qmd"] + [site.rel(d / "index.qmd") for d in site.post_dirs]
        if (site.root / page).exists() and page not in rendered
    ]
    for page in sorted(rendered):
        if page.split("/")[0] in ("tests", "bench", "build", "src", "data"):
            problems.append(f"{page} would be rendered as a page")
    return problems


def check_repo_links(site: Site) -> list[str]:
    """The navbar's GitHub icon points at ``website.repo-url`` (one URL, two places)."""
    website = site.config.get("website") or {}
    repo = website.get("repo-url")
    if not repo:
        return ["_quarto.yml: website.repo-url is not set"]
    navbar = website.get("navbar") or {}
    items = [i for side in ("left", "right") for i in navbar.get(side) or []]
    items += (navbar.get("tools") or []) if isinstance(navbar, dict) else []
    github = [i for i in items if isinstance(i, dict) and i.get("icon") == "github"]
    if not github:
        return ["_quarto.yml: the navbar has no GitHub icon"]
    return [
        f"_quarto.yml: navbar GitHub link {i.get('href')!r} differs from repo-url {repo!r}"
        for i in github
        if i.get("href", "").rstrip("/") != repo.rstrip("/")
    ]


def check_week_numbering(site: Site) -> list[str]:
    """Post folders are ``NN-slug`` with an index.qmd, numbered 01..N without gaps."""
    problems = []
    numbers = []
    for folder in site.post_dirs:
        m = POST_DIR.match(folder.name)
        if not m:
            problems.append(f"posts/{folder.name}: folder name is not NN-slug (e.g. 01-regression)")
            continue
        if not (folder / "index.qmd").is_file():
            problems.append(f"posts/{folder.name}: has no index.qmd")
        numbers.append(int(m.group(1)))
    if not numbers:
        return problems + ["posts/: no weeks found"]
    for n in sorted(set(numbers)):
        if numbers.count(n) > 1:
            problems.append(f"posts/: week {n:02d} appears {numbers.count(n)} times")
    missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
    if missing:
        problems.append(
            "posts/: weeks are not numbered 01..N without gaps; missing "
            + ", ".join(f"{n:02d}" for n in missing)
        )
    return problems


def check_post_metadata(site: Site) -> list[str]:
    """Every post has title, description, date, categories and an existing image."""
    problems = []
    for folder in site.post_dirs:
        page = folder / "index.qmd"
        if not page.is_file():
            continue
        meta = site.doc(page).front_matter()
        where = site.rel(page)
        for key in REQUIRED_POST_FIELDS:
            if meta.get(key) in (None, "", []):
                problems.append(f"{where}: missing {key}")
        date = meta.get("date")
        if date and not (isinstance(date, str) and ISO_DATE.match(date)):
            problems.append(f"{where}: date {date!r} is not YYYY-MM-DD")
        cats = meta.get("categories")
        if cats and not (isinstance(cats, list) and all(isinstance(c, str) for c in cats)):
            problems.append(f"{where}: categories must be a list of strings, got {cats!r}")
        image = meta.get("image")
        if isinstance(image, str) and image:
            target = site.root / image[1:] if image.startswith("/") else folder / image
            if not target.is_file():
                problems.append(f"{where}: image {image} does not exist")
    return problems


def check_listing_order(site: Site) -> list[str]:
    """The home page lists the weeks in week order (sorted by date, oldest first)."""
    home = site.root / "index.qmd"
    listing = site.doc(home).front_matter().get("listing")
    listings = listing if isinstance(listing, list) else [listing]
    posts_listing = [
        item for item in listings if isinstance(item, dict) and item.get("contents") == "posts"
    ]
    if not posts_listing:
        return ["index.qmd: no listing with contents: posts"]
    sort = posts_listing[0].get("sort")
    if sort not in ("date", "date asc"):
        return [f"index.qmd: listing sort is {sort!r}; use 'date' (oldest first: week order)"]
    weeks = []
    for folder in site.post_dirs:
        m = POST_DIR.match(folder.name)
        if m and (folder / "index.qmd").is_file():
            date = site.doc(folder / "index.qmd").front_matter().get("date")
            weeks.append((int(m.group(1)), str(date), folder.name))
    weeks.sort()
    problems = []
    for (_, d1, f1), (_, d2, f2) in zip(weeks, weeks[1:], strict=False):
        if not d1 < d2:
            problems.append(
                f"posts/{f2} (date {d2}) is not dated after posts/{f1} (date {d1}): "
                "the home page would list the weeks out of order"
            )
    return problems


# ----------------------------------------------------------- links and refs

_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_MD_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_REF_DEF = re.compile(r"^\s{0,3}\[(?!\^)[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")  # not [^1]: notes
_HTML_ATTR = re.compile(r"\b(?:href|src)=\"([^\"]+)\"")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_XREF = re.compile(
    r"(?<![\w\\@])@((?:" + "|".join(CROSSREF_KINDS) + r")-[A-Za-z0-9_]+(?:[-_:.][A-Za-z0-9_]+)*)"
)
_ANCHOR_ID = re.compile(r"\{[^}]*#((?:" + "|".join(CROSSREF_KINDS) + r")-[^\s}]+)[^}]*\}")


def _prose_without_code(doc: qs.QmdDoc) -> list[tuple[int, str]]:
    return [(n, _INLINE_CODE.sub("", line)) for n, line in doc.prose]


def link_targets(doc: qs.QmdDoc) -> list[tuple[int, str]]:
    """(line, target) for every markdown/HTML link or image in prose."""
    found = []
    for n, line in _prose_without_code(doc):
        for rx in (_MD_LINK, _REF_DEF, _HTML_ATTR):
            found.extend((n, m.group(1)) for m in rx.finditer(line))
    return found


def resolve_link(site: Site, page: Path, target: str) -> str | None:
    """None if ``target`` (as written in ``page``) resolves, else the problem."""
    if _SCHEME.match(target) or target.startswith(("#", "//")) or "{{" in target:
        return None
    path_part = urllib.parse.unquote(re.split(r"[#?]", target, maxsplit=1)[0])
    if not path_part:
        return None
    base = site.root if path_part.startswith("/") else page.parent
    resolved = (base / path_part.lstrip("/")).resolve()
    root = site.root.resolve()
    if not resolved.is_relative_to(root):
        return f"{target} points outside the site"
    if path_part.endswith("/") or resolved.is_dir():
        candidates = [resolved / "index.qmd", resolved / "index.md", resolved / "index.ipynb"]
    elif resolved.suffix == ".html":
        stem = resolved.with_suffix("")
        candidates = [stem.with_suffix(s) for s in (".qmd", ".md", ".ipynb")] + [resolved]
    else:
        candidates = [resolved]
    existing = next((c for c in candidates if c.is_file()), None)
    if existing is None:
        return f"{target} does not exist"
    if existing.suffix == ".qmd" and existing not in {p.resolve() for p in site.pages}:
        return f"{target} is a page that is not rendered"
    return None


def check_links(site: Site, pages=None) -> list[str]:
    problems = []
    for page in site.pages if pages is None else pages:
        for line, target in link_targets(site.doc(page)):
            problem = resolve_link(site, page, target)
            if problem:
                problems.append(f"{site.rel(page)}:{line}: broken link: {problem}")
    return problems


def crossref_labels(doc: qs.QmdDoc) -> set[str]:
    labels = set()
    for cell in doc.cells:
        try:
            label = cell.options().get("label")
        except Exception:
            continue
        if isinstance(label, str):
            labels.add(label)
    for _, line in doc.prose:
        labels.update(m.group(1) for m in _ANCHOR_ID.finditer(line))
    return labels


def check_crossrefs(site: Site, pages=None) -> list[str]:
    """Every ``@fig-x``/``@tbl-x`` has a ``#| label: fig-x`` or ``{#fig-x}`` in its page."""
    problems = []
    for page in site.pages if pages is None else pages:
        doc = site.doc(page)
        labels = crossref_labels(doc)
        for n, line in _prose_without_code(doc):
            for m in _XREF.finditer(line):
                if m.group(1) not in labels:
                    problems.append(
                        f"{site.rel(page)}:{n}: @{m.group(1)} has no matching "
                        f"'#| label: {m.group(1)}' or '{{#{m.group(1)}}}' in the page"
                    )
    return problems


def check_float_captions(site: Site, pages=None) -> list[str]:
    """A cell labelled ``fig-x``/``tbl-x`` has the caption that makes it a numbered float."""
    problems = []
    for page in site.pages if pages is None else pages:
        for cell in site.doc(page).cells:
            try:
                options = cell.options()
            except Exception:
                continue  # reported by check_cell_options
            label = options.get("label") if isinstance(options, dict) else None
            for kind in CROSSREF_KINDS:
                is_float = isinstance(label, str) and label.startswith(f"{kind}-")
                if is_float and not options.get(f"{kind}-cap"):
                    problems.append(
                        f"{site.rel(page)}:{cell.line}: cell {label} has no #| {kind}-cap"
                    )
    return problems


# ====================================================================== tests


@pytest.fixture(scope="session")
def schema() -> qs.QuartoSchema:
    """The schema of the Quarto that renders the site (fails, never skips, without one)."""
    try:
        return qs.load_schema(qs.schema_file())
    except (FileNotFoundError, RuntimeError) as err:
        pytest.fail(str(err), pytrace=False)


REAL = Site(REPO)
GOOD_SITE = Site(GOOD)
BROKEN = Site(BROKEN_SITE)


def _assert_one_problem_like(problems: list[str], pattern: str) -> None:
    assert problems, f"expected a problem matching {pattern!r}, got none"
    assert any(re.search(pattern, p) for p in problems), (
        f"no problem matches {pattern!r}: {problems}"
    )


# ---- the translated schema itself


def test_schema_translation_covers_every_definition(schema):
    assert set(schema.defs) == set(schema.raw)
    assert {"project-config", "front-matter", "engine-jupyter"} <= set(schema.defs)
    # closed objects become additionalProperties: false
    closed = [sid for sid, node in schema.raw.items() if node.get("closed") is True]
    assert closed, "expected some closed objects in Quarto's schema"
    assert all(schema.defs[sid]["additionalProperties"] is False for sid in closed)


def test_translate_rejects_unknown_node_kinds():
    with pytest.raises(ValueError, match="unknown Quarto schema node type"):
        qs.translate({"type": "tuple"}, "x")


def test_yaml_is_read_like_quarto():
    data = qs.load_yaml("a: yes\nb: 2025-09-01\nc: true\nd: ~\n")
    assert data == {"a": "yes", "b": "2025-09-01", "c": True, "d": None}
    with pytest.raises(Exception, match="duplicate key"):
        qs.load_yaml("a: 1\na: 2\n")
    with pytest.raises(Exception, match="aliases"):
        qs.load_yaml("a: &x 1\nb: *x\n")


def test_schema_location_rules(tmp_path, monkeypatch):
    """The env var wins; else the schema of the Quarto on PATH; no Quarto is an error."""
    monkeypatch.setenv(qs.SCHEMA_ENV, str(tmp_path / "nope.json"))
    with pytest.raises(FileNotFoundError, match="does not name a file"):
        qs.schema_file()
    monkeypatch.delenv(qs.SCHEMA_ENV)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="Quarto is not on PATH"):
        qs.schema_file()


def test_schema_is_the_one_of_the_quarto_that_renders(schema):
    """Quarto 1.10.18 (the version CI pins) and its own schema file."""
    import shutil
    import subprocess

    quarto = shutil.which("quarto")
    assert quarto, "quarto is not on PATH"
    version = subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout
    assert version.strip() == "1.10.18", f"Quarto {version.strip()}; CI pins 1.10.18"
    if not os.environ.get(qs.SCHEMA_ENV):
        assert qs.schema_file() == qs.quarto_share_dir() / qs.SCHEMA_IN_SHARE


def test_plain_json_schema_named_by_env_var_works(schema, tmp_path, monkeypatch):
    """Any copy of the schema (plain .json or .json.gz) can be named by DLBASICS_QUARTO_SCHEMA."""
    plain = tmp_path / "all-schema-definitions.json"
    plain.write_text(json.dumps(schema.raw))
    monkeypatch.setenv(qs.SCHEMA_ENV, str(plain))
    assert qs.schema_file() == plain
    copy = qs.QuartoSchema(qs.read_definitions(plain))
    assert copy.check_front_matter({"code-fold": "maybe"}) == schema.check_front_matter(
        {"code-fold": "maybe"}
    )
    assert copy.check_front_matter({"code-fold": "maybe"})


# ---- the real site


def test_real_project_config_is_valid(schema):
    assert check_project_config(REAL, schema) == []


def test_real_metadata_files_are_valid(schema):
    assert REPO / "posts" / "_metadata.yml" in REAL.metadata_files
    assert check_metadata_files(REAL, schema) == []


def test_real_front_matter_is_valid(schema):
    assert REPO / "index.qmd" in REAL.pages and REPO / "about.qmd" in REAL.pages
    assert check_front_matter(REAL, schema) == []


def test_real_cell_options_are_valid(schema):
    assert check_cell_options(REAL, schema) == []


def test_real_render_set():
    assert check_render_set(REAL) == []
    rendered = {REAL.rel(p) for p in REAL.pages}
    assert not any(p.startswith("tests/") for p in rendered)


def test_real_repo_links_agree():
    assert check_repo_links(REAL) == []


def test_real_site_settings():
    cfg = REAL.config
    assert cfg["project"]["type"] == "website" and cfg["project"]["output-dir"] == "_site"
    assert cfg["website"]["title"] == "Deep Learning Basics with PyTorch"
    assert cfg["website"]["site-url"] and cfg["website"]["repo-url"]
    assert cfg["jupyter"] == "python3"
    meta = qs.load_yaml_file(REPO / "posts" / "_metadata.yml")
    # No freeze: every publish re-executes the posts (see the file's comment).
    assert meta["execute"]["freeze"] is False
    assert meta["execute"].get("error", False) is False
    # One execution per post: the page's notebook is kept and becomes the download
    # (tools/post_render.py); an `ipynb` format would execute every post again.
    assert meta["keep-ipynb"] is True and "ipynb" not in meta["format"]
    assert {"href": "index.ipynb"}.items() <= meta["other-links"][0].items()
    # ... then tools/notebook_setup.py adds the setup cell and the Colab link (issue 19)
    assert cfg["project"]["post-render"] == ["tools/post_render.py", "tools/notebook_setup.py"]


def test_real_weeks_are_numbered_without_gaps():
    assert check_week_numbering(REAL) == []


def test_real_posts_have_listing_metadata():
    assert REAL.post_dirs, "no posts yet under posts/"
    assert check_post_metadata(REAL) == []


def test_real_listing_lists_weeks_in_order():
    assert check_listing_order(REAL) == []


def test_real_links_resolve():
    assert check_links(REAL) == []


def test_real_crossrefs_resolve():
    assert check_crossrefs(REAL) == []


def test_real_labelled_cells_have_captions():
    assert check_float_captions(REAL) == []


# ---- the good fixture passes every check


def test_good_fixture_passes_schema_checks(schema):
    assert GOOD_SITE.metadata_files == [GOOD / "posts" / "_metadata.yml"]
    assert check_project_config(GOOD_SITE, schema) == []
    assert check_metadata_files(GOOD_SITE, schema) == []
    assert check_front_matter(GOOD_SITE, schema) == []
    assert check_cell_options(GOOD_SITE, schema) == []


def test_good_fixture_passes_site_checks():
    assert [GOOD_SITE.rel(p) for p in GOOD_SITE.pages] == [
        "about.qmd",
        "index.qmd",
        "posts/01-first/index.qmd",
        "posts/02-second/index.qmd",
    ]
    assert check_render_set(GOOD_SITE) == []
    assert check_repo_links(GOOD_SITE) == []
    assert check_week_numbering(GOOD_SITE) == []
    assert check_post_metadata(GOOD_SITE) == []
    assert check_listing_order(GOOD_SITE) == []
    assert check_links(GOOD_SITE) == []
    assert check_crossrefs(GOOD_SITE) == []
    assert check_float_captions(GOOD_SITE) == []


def test_good_fixture_links_and_labels_are_seen():
    """The checks really read the links and labels (not vacuously empty)."""
    doc = GOOD_SITE.doc(GOOD / "posts" / "01-first" / "index.qmd")
    targets = [t for _, t in link_targets(doc)]
    assert "../02-second/index.qmd" in targets and "/data/tiny.csv" in targets
    assert crossref_labels(doc) == {"fig-line", "tbl-numbers", "fig-picture"}
    about = [t for _, t in link_targets(GOOD_SITE.doc(GOOD / "about.qmd"))]
    assert "index.html" in about and not any("nowhere" in t for t in about)


# ---- each broken copy fails with the expected message


def test_unknown_top_level_key_in_quarto_yml_fails(schema):
    problems = check_project_config(Site(BROKEN_YAML), schema)
    _assert_one_problem_like(problems, r"webiste: unknown top-level key .*did you mean 'website'")


def test_code_fold_maybe_fails(schema):
    page = BROKEN_YAML / "code-fold-maybe.qmd"
    problems = check_front_matter(Site(BROKEN_YAML), schema, [page])
    _assert_one_problem_like(problems, r"code-fold: 'maybe' must .*`true` or `false`, 'show'")


def test_listing_carousel_fails(schema):
    page = BROKEN_YAML / "listing-carousel.qmd"
    problems = check_front_matter(Site(BROKEN_YAML), schema, [page])
    _assert_one_problem_like(
        problems, r"listing\.type: 'carousel' must be one of: `default`, `table`, `grid`"
    )


def test_echo_perhaps_cell_option_fails(schema):
    page = BROKEN_YAML / "echo-perhaps.qmd"
    problems = check_cell_options(Site(BROKEN_YAML), schema, [page])
    _assert_one_problem_like(problems, r"echo-perhaps\.qmd:5: #\| echo: 'perhaps' must be")
    assert len(problems) == 1  # the valid `label` option is not reported


def test_misspelt_cell_option_key_fails(schema):
    assert schema.check_cell_options({"label": "fig-x"}) == []
    _assert_one_problem_like(
        schema.check_cell_options({"lable": "fig-x"}), r"lable: unknown .*did you mean 'label'"
    )


def test_week_gap_fails():
    _assert_one_problem_like(check_week_numbering(BROKEN), r"without gaps; missing 02")


def test_missing_image_fails():
    _assert_one_problem_like(
        check_post_metadata(BROKEN), r"03-third/index\.qmd: image missing-thumb\.png does not exist"
    )


def test_link_to_missing_post_fails():
    problems = check_links(BROKEN)
    _assert_one_problem_like(problems, r"01-first/index\.qmd:\d+: broken link: ../02-second/")
    _assert_one_problem_like(problems, r"../../data/irony_of_spec\.csv does not exist")


def test_dangling_figure_reference_fails():
    _assert_one_problem_like(check_crossrefs(BROKEN), r"@fig-nowhere has no matching")


def test_labelled_figure_cell_without_caption_fails():
    assert check_float_captions(BROKEN) == [
        "posts/01-first/index.qmd:12: cell fig-somewhere has no #| fig-cap"
    ]


def test_footnotes_are_not_links():
    doc = qs.parse_qmd(Path("note.qmd"), "Text.[^1]\n\n[^1]: A note, not a link.\n")
    assert link_targets(doc) == []


def test_dates_out_of_week_order_fail():
    _assert_one_problem_like(check_listing_order(BROKEN), r"03-third .* not dated after")


def test_navbar_link_disagreeing_with_repo_url_fails():
    _assert_one_problem_like(check_repo_links(BROKEN), r"differs from repo-url")


def test_fixtures_are_never_rendered_by_the_real_site():
    fixture_pages = list(FIXTURES.rglob("*.qmd"))
    assert fixture_pages
    assert not set(fixture_pages) & set(REAL.pages)
