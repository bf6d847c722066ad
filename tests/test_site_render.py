"""The site as readers get it: checks on the folder real Quarto rendered (``rendered_site``).

The whole site is rendered once per test session (tests/conftest.py). Pages are read with
Python's HTML parser; links are resolved the way a browser resolves them against the page.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest
from qmd import REPO, Qmd, post_paths, split_cell

POSTS = post_paths()
POST_IDS = [p.parent.name for p in POSTS]
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PROBLEM = re.compile(r"\b(WARN|WARNING|ERROR)\b")
# ipykernel >= 7 logs this on every kernel start: Quarto's kernel listens on 127.0.0.1
# only, so there is nothing for the site to fix. It is the one line let through.
KNOWN_HARMLESS = ("Kernel is running over TCP without encryption",)
# What the output folder may hold at its top level (everything else is a stray copy).
SITE_TOP_LEVEL = {
    "index.html",
    "about.html",
    "search.json",
    "listings.json",
    "sitemap.xml",
    "robots.txt",
    "site_libs",
    "posts",
    "data",
    "vendor",
}
SOURCE_SUFFIXES = {".qmd", ".py", ".quarto_ipynb", ".yml", ".scss"}
# (tag, attribute) pairs whose URL the browser loads or follows
URL_ATTRS = {
    ("a", "href"),
    ("link", "href"),
    ("script", "src"),
    ("img", "src"),
    ("source", "src"),
    ("iframe", "src"),
    ("video", "src"),
    ("audio", "src"),
}
LOADED = {(t, a) for t, a in URL_ATTRS if t != "a"}  # fetched on page load, not followed
LOADED_RELS = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest"}


class Page(HTMLParser):
    """One HTML file: its URL attributes and its images."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.imgs: list[dict[str, str | None]] = []
        self.feed(path.read_text(encoding="utf-8"))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        rel = set((values.get("rel") or "").lower().split())
        if tag == "link" and not rel & LOADED_RELS:
            tag = "a"  # a link to a page (canonical, alternate): followed, not loaded
        for name, value in attrs:
            if (tag, name) in URL_ATTRS and value is not None:
                self.urls.append((tag, name, value))
        if tag == "img":
            self.imgs.append(values)

    handle_startendtag = handle_starttag


def html_files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "site_libs" not in p.relative_to(site).parts)


@pytest.fixture(scope="module")
def pages(rendered_site: Path) -> dict[Path, Page]:
    return {p: Page(p) for p in html_files(rendered_site)}


def post_page(site: Path, qmd: Path) -> Path:
    return site / qmd.parent.relative_to(REPO) / "index.html"


# ------------------------------------------------------------------------------ the render


def test_render_prints_no_warning(render_log: str) -> None:
    lines = [_ANSI.sub("", line) for line in render_log.splitlines()]
    problems = [
        line
        for line in lines
        if _PROBLEM.search(line) and not any(k in line for k in KNOWN_HARMLESS)
    ]
    assert not problems, "quarto render printed warnings or errors:\n" + "\n".join(problems)


def test_each_post_is_executed_once_per_render(render_log: str) -> None:
    """The page and the downloadable notebook share one execution (no `ipynb` format)."""
    runs = re.findall(r"Executing '[^']*\.quarto_ipynb", _ANSI.sub("", render_log))
    assert len(runs) == len(POSTS), f"{len(runs)} executions for {len(POSTS)} posts"


def test_every_page_was_rendered(rendered_site: Path) -> None:
    expected = ["index.html", "about.html"]
    expected += [str(post_page(rendered_site, q).relative_to(rendered_site)) for q in POSTS]
    missing = [page for page in expected if not (rendered_site / page).is_file()]
    assert not missing, f"not rendered: {missing}"


def test_nothing_but_the_site_lands_in_the_output(rendered_site: Path) -> None:
    """No test fixture, benchmark, source file or notebook-in-progress is published."""
    stray = []
    for path in sorted(rendered_site.rglob("*")):
        rel = path.relative_to(rendered_site)
        source = path.is_file() and path.suffix in SOURCE_SUFFIXES
        if rel.parts[0] not in SITE_TOP_LEVEL or source:
            stray.append(str(rel))
    data = rendered_site / "data"
    if data.is_dir():
        stray += [
            str(p.relative_to(rendered_site))
            for p in data.rglob("*")
            if p.is_file() and not (REPO / "data" / p.relative_to(data)).is_file()
        ]
    assert not stray, f"files in the output that are not part of the site: {stray[:20]}"


# ---------------------------------------------------------------------------- home, search


def test_home_lists_every_post_in_week_order(rendered_site: Path) -> None:
    home = Page(rendered_site / "index.html")
    listed = []
    for tag, _, url in home.urls:
        match = re.search(r"posts/([^/]+)/(?:index\.html)?$", url)
        if tag == "a" and match and match[1] not in listed:
            listed.append(match[1])
    assert listed == POST_IDS, f"home page lists {listed}; the weeks are {POST_IDS}"


def test_search_index_covers_every_page(rendered_site: Path) -> None:
    entries = json.loads((rendered_site / "search.json").read_text(encoding="utf-8"))
    indexed = {urlsplit(e["href"]).path.lstrip("/") for e in entries}
    pages = {str(p.relative_to(rendered_site)) for p in html_files(rendered_site)}
    missing = sorted(pages - indexed)
    assert not missing, f"search.json has no entry for {missing}"
    for qmd in POSTS:  # the post's text is searchable, not just its title
        rel = str(post_page(rendered_site, qmd).relative_to(rendered_site))
        text = " ".join(e.get("text", "") for e in entries if e["href"].startswith(rel))
        assert len(text) > 1000, f"search.json holds only {len(text)} characters of {rel}"


# ------------------------------------------------------------------------- links, images


def local_target(site: Path, page: Path, url: str) -> Path | None:
    """The file a same-site URL on ``page`` points at (``None`` for another host)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    base = "http://site/" + page.relative_to(site).as_posix()
    resolved = urlsplit(urljoin(base, url))
    target = site / unquote(resolved.path).lstrip("/")
    return target / "index.html" if resolved.path.endswith("/") else target


def test_every_internal_link_and_source_resolves(
    rendered_site: Path, pages: dict[Path, Page]
) -> None:
    broken = []
    for path, page in pages.items():
        for tag, attr, url in page.urls:
            if url.startswith(("#", "mailto:", "data:", "javascript:")) or url == "":
                continue
            target = local_target(rendered_site, path, url)
            if target is not None and not target.exists():
                broken.append(f"{path.relative_to(rendered_site)}: <{tag} {attr}={url!r}>")
    assert not broken, f"{len(broken)} links point at nothing:\n" + "\n".join(broken[:30])


def test_pages_load_nothing_from_other_hosts(rendered_site: Path, pages: dict[Path, Page]) -> None:
    """Scripts, styles, images and frames come from the site itself (links may go anywhere)."""
    remote = [
        f"{path.relative_to(rendered_site)}: <{tag} {attr}={url!r}>"
        for path, page in pages.items()
        for tag, attr, url in page.urls
        if (tag, attr) in LOADED and (urlsplit(url).netloc or url.startswith("//"))
    ]
    css = sorted(rendered_site.rglob("*.css"))
    remote += [
        f"{p.relative_to(rendered_site)}: {m}"
        for p in css
        for m in re.findall(r"@import\s+url\(\s*['\"]?(?:https?:)?//[^)]*\)", p.read_text("utf-8"))
    ]
    assert not remote, "third-party loads:\n" + "\n".join(remote[:30])


def test_every_image_has_alt_text(rendered_site: Path, pages: dict[Path, Page]) -> None:
    missing = [
        f"{path.relative_to(rendered_site)}: <img src={str(img.get('src'))[:60]!r}>"
        for path, page in pages.items()
        for img in page.imgs
        if not (img.get("alt") or "").strip()
    ]
    assert not missing, "images without alt text:\n" + "\n".join(missing)


# ------------------------------------------------------------------------------ notebooks


@pytest.mark.parametrize("qmd", POSTS, ids=POST_IDS)
def test_post_links_its_notebook(rendered_site: Path, qmd: Path) -> None:
    path = post_page(rendered_site, qmd)
    links = [
        local_target(rendered_site, path, url)
        for tag, _, url in Page(path).urls
        if tag == "a" and url.endswith(".ipynb") and local_target(rendered_site, path, url)
    ]  # links to the notebook elsewhere (e.g. "Open in Colab") are not the download
    assert links, f"{path.relative_to(rendered_site)} has no link to its notebook"
    assert set(links) == {path.with_name("index.ipynb")}, f"notebook links: {links}"
    nb = nbformat.read(path.with_name("index.ipynb"), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code if c.outputs), "notebook not executed"
    assert sum(len(c.outputs) for c in code) > 0, "the notebook carries no outputs"
    # tools/post_render.py: front matter -> title and description, no ::: fences, no @fig-
    prose = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert prose[0].startswith("# Week "), prose[0][:80]
    assert not any(line.startswith(":::") for p in prose for line in p.splitlines())
    assert not any(re.search(r"(?<![\w@])@fig-", p) for p in prose)


@pytest.mark.parametrize("qmd", POSTS, ids=POST_IDS)
def test_qmd_reader_sees_the_cells_quarto_executed(rendered_site: Path, qmd: Path) -> None:
    """tools/qmd.py (behind the post rules and tools/post_render.py) reads the cells Quarto ran.

    Compared: every code cell's ``#|`` options and code, in order. The source compared is
    the copy that was rendered (``<site>.src``), else the checkout.
    """
    copy = rendered_site.with_name(rendered_site.name + ".src")
    source = (copy if copy.is_dir() else REPO) / qmd.relative_to(REPO)
    nb = nbformat.read(post_page(rendered_site, qmd).with_name("index.ipynb"), as_version=4)
    executed = [
        split_cell(c.source)
        for c in nb.cells
        if c.cell_type == "code" and "setup" not in c.metadata.get("tags", [])
    ]
    assert executed == [(c.options, c.code) for c in Qmd(source).cells]
