"""Shared fixtures: the site is rendered by real Quarto once per test session.

* ``rendered_site``: the folder ``quarto render`` wrote (``build/sites/<inputs hash>``,
  linked as ``build/site``); every post is executed once, in that render.
  ``DLBASICS_SITE=<folder>`` tests an existing render instead (publish.yml: ``_site``,
  with its log in ``DLBASICS_SITE_LOG``).
* ``render_log``: what that render printed.
* ``site_url``: the rendered folder served on 127.0.0.1 (base URL, ending in ``/``).
* ``browser``: headless Chromium (Playwright), ``$DLBASICS_CHROMIUM`` or ``/usr/bin/chromium``.
* ``executed_post(name)``: the notebook Quarto executed for that post in the render. When
  no selected test needs the whole site (e.g. ``pytest tests/test_week03_logistic.py``),
  only the posts asked for are rendered, one ``quarto render <post>`` each.

Quarto must be on ``PATH`` (``make test`` finds or installs it); without it the tests that
need it fail and say how to get it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import harness` from any test

import harness  # noqa: E402

REPO = harness.REPO
BUILD = REPO / "build"
SITES = BUILD / "sites"  # one folder per rendered set of inputs: sites/<hash>/, <hash>.log
SITE_DIR = BUILD / "site"  # a link to the newest render
SITE_LOG = BUILD / "site.log"  # a link to its log
KEEP_RENDERS = 3  # older renders are removed (a test session still reading one keeps it)
POST_RENDERS = BUILD / "post-renders"  # one folder per post rendered on its own
SITE_ENV, SITE_LOG_ENV = "DLBASICS_SITE", "DLBASICS_SITE_LOG"
SITE_FIXTURES = {"rendered_site", "site_url", "render_log"}
RENDER_TIMEOUT = 1800  # seconds for the whole site
# Not inputs of the render: changing them never makes a rendered site stale.
NOT_RENDER_INPUTS = ("tests/", "bench/", ".github/", ".ci/", "build/", "README.md", "Makefile")

QUARTO_MISSING = (
    "Quarto is not on PATH. `make test` finds it or installs it (the offline kit in "
    "../shared/quarto-offline, else `pip install quarto-cli`); or install Quarto 1.10.18 "
    "from https://quarto.org/docs/get-started/ and put `quarto` on PATH."
)


def quarto_exe() -> str:
    """The ``quarto`` on PATH; fails the calling test (never skips) when there is none."""
    exe = shutil.which("quarto")
    if exe is None:
        pytest.fail(QUARTO_MISSING, pytrace=False)
    return exe


def quarto_env() -> dict[str, str]:
    """Environment for Quarto: this Python (and its Jupyter) first, MNIST beside the checkout."""
    env = dict(os.environ)
    env["QUARTO_PYTHON"] = sys.executable
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if "DLBASICS_DATA" not in env and harness.SHARED_MNIST.is_dir():
        env["DLBASICS_DATA"] = str(harness.SHARED_MNIST)
    return env


def project_files() -> list[str]:
    """The checkout's files (tracked, or new and not ignored), relative to the root."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(rel for rel in set(listed.split("\0")) if rel and (REPO / rel).is_file())


def render_inputs_hash(quarto: str) -> str:
    """A hash of everything a render depends on: source files, packages, Quarto, data path."""
    digest = hashlib.sha256()
    for rel in project_files():
        if not rel.startswith(NOT_RENDER_INPUTS):
            digest.update(rel.encode() + b"\0" + (REPO / rel).read_bytes() + b"\0")
    packages = sorted(f"{d.name}=={d.version}" for d in metadata.distributions())
    version = subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout
    env = quarto_env()
    for part in (*packages, version, sys.executable, env.get("DLBASICS_DATA", "")):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def rendered_source(site: Path) -> Path:
    """The copy of the checkout that ``site`` was rendered from (else the checkout)."""
    src = site.with_name(site.name + ".src")
    return src if src.is_dir() else REPO


def snapshot_project(dest: Path) -> Path:
    """A copy of the checkout's files in ``dest``, to render without touching the sources.

    Quarto writes beside the sources while it renders (``.quarto/``, each page's notebook
    and figures); rendering a copy keeps the working tree clean and lets other work (an
    editor's ``quarto preview``, a second checkout's tests) go on there meanwhile.
    """
    shutil.rmtree(dest, ignore_errors=True)
    for rel in project_files():
        if rel.startswith("build/"):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    return dest


def render_site(out_dir: Path, log: Path, inputs: tuple[str, ...] = ()) -> tuple[int, str]:
    """``quarto render [inputs]`` (default: the whole project) of a copy, into ``out_dir``.

    Returns (exit code, everything Quarto printed); the output is also written to ``log``.
    """
    quarto = quarto_exe()
    out_dir = out_dir.resolve()
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    project = snapshot_project(out_dir.with_name(out_dir.name + ".src"))
    try:
        proc = subprocess.run(
            [quarto, "render", *inputs, "--output-dir", str(out_dir)],
            cwd=project,
            env=quarto_env(),
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT,
        )
        code, text = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as err:
        code, text = -1, f"{err.stdout or ''}{err.stderr or ''}\nquarto render timed out"
    log.write_text(text, encoding="utf-8")
    return code, text


@contextlib.contextmanager
def render_lock() -> Iterator[None]:
    """One Quarto render of this checkout at a time (the machine has few cores)."""
    BUILD.mkdir(exist_ok=True)
    with open(BUILD / "render.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class RenderedSite:
    """The one render of this session (lazy: only tests that need it pay for it)."""

    def __init__(self) -> None:
        self._result: tuple[Path, str] | None = None
        self._failure: str | None = None
        self.whole_site_wanted = True  # set from the selected tests at collection
        self._posts: dict[Path, Path | str] = {}  # post -> its own render (or the failure)

    def folder_for(self, qmd: Path) -> Path:
        """A rendered folder holding ``qmd``'s page and notebook (the whole site if wanted)."""
        if os.environ.get(SITE_ENV) or self.whole_site_wanted or self._result is not None:
            return self.get()[0]
        if qmd not in self._posts:
            name = qmd.parent.name
            out, log = POST_RENDERS / name, POST_RENDERS / f"{name}.log"
            shutil.rmtree(out, ignore_errors=True)
            with render_lock():
                code, text = render_site(out, log, (str(qmd.relative_to(REPO)),))
                # the project's post-render step wrote the notebook (a check, not a step)
                done = code != 0 or (out / qmd.relative_to(REPO)).with_suffix(".ipynb").is_file()
                missing = [] if done else [str(qmd.relative_to(REPO))]
            if code != 0 or missing:
                tail = "\n".join(text.rstrip().splitlines()[-40:])
                self._posts[qmd] = (
                    f"quarto render of {name} exited {code}, notebook missing: {missing} "
                    f"(log: {log}):\n{tail}"
                )
            else:
                self._posts[qmd] = out
        result = self._posts[qmd]
        if isinstance(result, str):
            pytest.fail(result, pytrace=False)
        return result

    def get(self) -> tuple[Path, str]:
        """The site folder and the render's output; a failed render fails every caller."""
        if self._failure is not None:
            pytest.fail(self._failure, pytrace=False)
        if self._result is None:
            try:
                self._result = self._find_or_render()
            except pytest.fail.Exception as err:
                self._failure = str(err)
                raise
        return self._result

    def _find_or_render(self) -> tuple[Path, str]:
        given = os.environ.get(SITE_ENV)
        if given:
            site = Path(given).resolve()
            if not (site / "index.html").is_file():
                pytest.fail(f"{SITE_ENV}={given} holds no rendered site (no index.html)")
            log_path = os.environ.get(SITE_LOG_ENV)
            log = Path(log_path).read_text(encoding="utf-8") if log_path else ""
            if not log_path:
                log = f"(no render log: set {SITE_LOG_ENV} to the output of quarto render)"
            return site, log
        quarto = quarto_exe()
        with render_lock():  # a second test session waits, then reuses this render
            return self._render_or_reuse(quarto)

    def _render_or_reuse(self, quarto: str) -> tuple[Path, str]:
        """The render of the current inputs: reused if it exists, else made now.

        Each set of inputs renders into its own ``build/sites/<hash>/``, so a session never
        sees its site replaced by another session's render; ``build/site`` links to the
        newest one.
        """
        key = render_inputs_hash(quarto)[:16]
        site, log, done = SITES / key, SITES / f"{key}.log", SITES / f"{key}.ok"
        if done.is_file() and (site / "index.html").is_file() and log.is_file():
            print(f"\nreusing the up-to-date render in {site}")
            text = log.read_text(encoding="utf-8")
        else:
            done.unlink(missing_ok=True)
            print(f"\nrendering the site with {quarto} into {site} ...", flush=True)
            code, text = render_site(site, log)
            if code != 0:
                tail = "\n".join(text.rstrip().splitlines()[-40:])
                pytest.fail(f"quarto render exited {code} (full log: {log}):\n{tail}")
            done.write_text(key + "\n", encoding="utf-8")
        for link, target in ((SITE_DIR, site), (SITE_LOG, log)):
            tmp = link.with_name(link.name + ".tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(target.relative_to(BUILD))
            if link.is_dir() and not link.is_symlink():
                shutil.rmtree(link)  # a render made before renders had their own folder
            tmp.replace(link)
        stamps = sorted(SITES.glob("*.ok"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in stamps[KEEP_RENDERS:]:
            old.unlink()
            shutil.rmtree(SITES / old.stem, ignore_errors=True)
            shutil.rmtree(SITES / f"{old.stem}.src", ignore_errors=True)
            (SITES / f"{old.stem}.log").unlink(missing_ok=True)
        return site, text


_SITE = RenderedSite()


@pytest.fixture(scope="session")
def rendered_site() -> Path:
    """The folder holding the site rendered by real Quarto (once per session)."""
    return _SITE.get()[0]


@pytest.fixture(scope="session")
def render_log() -> str:
    """Everything ``quarto render`` printed for :func:`rendered_site`."""
    return _SITE.get()[1]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no access log on stderr
        pass


@pytest.fixture(scope="session")
def site_url(rendered_site: Path) -> Iterator[str]:
    """The rendered site served over HTTP on 127.0.0.1 (a free port); the base URL."""
    handler = partial(_QuietHandler, directory=str(rendered_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium: ``$DLBASICS_CHROMIUM``, else ``/usr/bin/chromium``; ``""`` means
    Playwright's own build (GitHub Actions)."""
    from playwright import sync_api  # in the test extras: a missing package is an error

    exe = os.environ.get("DLBASICS_CHROMIUM")
    if exe is None:
        exe = "/usr/bin/chromium"
    if exe and not Path(exe).exists():
        pytest.fail(f"chromium not found at {exe}; install it or set DLBASICS_CHROMIUM")
    with sync_api.sync_playwright() as p:
        kwargs = {"executable_path": exe} if exe else {}
        b = p.chromium.launch(args=CHROMIUM_ARGS, **kwargs)
        yield b
        b.close()


# ------------------------------------------------------------------------ executed posts


def resolve_post(name_or_path: str | Path) -> Path:
    """A post's ``index.qmd`` from its path, its folder, its folder name or a unique prefix."""
    path = Path(name_or_path)
    if path.is_dir():
        path = path / "index.qmd"
    if path.is_file():
        return path.resolve()
    matches = [p for p in harness.post_paths() if p.parent.name == str(name_or_path)]
    matches = matches or [p for p in harness.post_paths() if p.parent.name.startswith(str(path))]
    if len(matches) != 1:
        names = [p.parent.name for p in harness.post_paths()]
        raise LookupError(f"no single post matches {str(name_or_path)!r}; posts: {names}")
    return matches[0].resolve()


def quarto_notebook(site: Path, qmd: Path) -> NotebookNode:
    """The notebook Quarto executed for ``qmd`` (the post's download, ``index.ipynb``).

    Code cells get ``metadata.quarto_options`` (their ``#|`` options) and the notebook gets
    ``metadata.dlbasics`` (source and execute defaults), as from :func:`harness.execute_post`.
    """
    rel = qmd.parent.relative_to(REPO)
    path = site / rel / "index.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"the render wrote no notebook for {rel} ({path} is missing)")
    nb = nbformat.read(path, as_version=4)
    # tools/notebook_setup.py adds an unexecuted install cell (tag "setup") for readers
    nb.cells = [
        c
        for c in nb.cells
        if not ("setup" in c.metadata.get("tags", []) and not c.get("execution_count"))
    ]
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines = cell.source.split("\n")
            cell.metadata["quarto_options"] = harness._parse_options(lines, f"{rel}: {cell.id}")
    source = harness.qmd_to_notebook(qmd.read_text(encoding="utf-8"))
    nb.metadata["dlbasics"] = {
        "source": f"{rel}/index.qmd",
        "execute": harness.execute_defaults(source, qmd),
    }
    return nb


def pytest_collection_modifyitems(config, items) -> None:
    """Render the whole site only when a selected test looks at it."""
    _SITE.whole_site_wanted = any(SITE_FIXTURES & set(item.fixturenames) for item in items)


@pytest.fixture(scope="session")
def executed_post() -> Callable[[str | Path], NotebookNode]:
    """Factory ``executed_post(name_or_path) -> executed notebook``, from Quarto's render.

    Each post is executed once per session, by ``quarto render`` (of the whole site, or of
    that post alone when no selected test needs the site); a cell that raised without
    ``#| error: true`` failed that render, and every test asking for the post fails with it.
    """
    cache: dict[Path, NotebookNode] = {}

    def get(name_or_path: str | Path) -> NotebookNode:
        qmd = resolve_post(name_or_path)
        if qmd not in cache:
            cache[qmd] = quarto_notebook(_SITE.folder_for(qmd), qmd)
        return cache[qmd]

    return get


# --------------------------------------------------------------------------- screenshots

SCREENSHOTS = BUILD / "screenshots"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """``build/screenshots/``, emptied once per session; the run prints it at the end."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    _TAKEN.append(SCREENSHOTS)
    return SCREENSHOTS


_TAKEN: list[Path] = []  # the screenshot folder, once this session has used it


def pytest_terminal_summary(terminalreporter) -> None:
    shots = sorted(SCREENSHOTS.glob("*.png")) if _TAKEN else []
    if shots:
        terminalreporter.write_line(f"screenshots for review ({len(shots)}): {SCREENSHOTS}")
    if _SITE._result is not None:
        terminalreporter.write_line(f"rendered site tested: {_SITE._result[0]}")
