"""Shared fixtures: the site, rendered by real Quarto once per test session.

* ``rendered_site``: the folder ``quarto render`` wrote, ``site/`` in pytest's temporary
  folder for the run (``/tmp/pytest-of-<user>/pytest-<n>/``, printed at the end; pytest
  keeps the last three), its output in ``site.log`` beside it. The render starts with the
  session and the tests that need no render run first, meanwhile (a second core is not
  idle). ``DLBASICS_SITE=<folder>`` tests an existing render instead, with its output in
  ``DLBASICS_SITE_LOG`` (publish.yml).
* ``render_log``: what that render printed.
* ``site_url``: the rendered folder served on 127.0.0.1 (base URL, ending in ``/``).
* ``browser``: headless Chromium (Playwright), ``$DLBASICS_CHROMIUM`` or ``/usr/bin/chromium``.
* ``executed_post(name)``: the notebook Quarto executed for that post in the render. When
  no selected test needs the whole site (e.g. ``pytest tests/test_week03_logistic.py``),
  only the posts asked for are rendered, each into ``post-renders/<post>`` in pytest's
  temporary folder for the run (printed at the end).

Every session renders anew (nothing is reused from an earlier run, whose code, data or
CPU settings may differ), into folders of its own: two sessions never write into each
other's render. Quarto renders a copy of the checkout (``<output>.src``), because it
writes beside the sources while it works. A render that fails (a cell that raises, invalid
YAML or options: Quarto validates them) fails every test that needs it, with the end of
its log. Quarto must be on ``PATH`` (``make test`` finds or installs it).
"""

from __future__ import annotations

import os

# One torch thread, as in every render (_environment), unless the caller chose: the site
# renders on one core while the tests run on the other, and two OpenMP threads fighting
# for that core made the training tests up to 10 times slower (a Week 6 test: 68-140 s with
# two threads, 6-9 s with one). Set before any test module imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import http.server
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from qmd import REPO, post_paths

BUILD = REPO / "build"
SITE_ENV, SITE_LOG_ENV = "DLBASICS_SITE", "DLBASICS_SITE_LOG"
SITE_FIXTURES = {"rendered_site", "site_url", "render_log"}
RENDER_FIXTURES = SITE_FIXTURES | {"executed_post"}  # tests that wait for a render
RENDER_TIMEOUT = 1800  # seconds
QUARTO_VERSION = (REPO / ".quarto-version").read_text(encoding="utf-8").strip()
QUARTO_MISSING = (
    "Quarto is not on PATH. `make test` finds it or installs it (the offline kit in "
    f"../shared/quarto-offline, else quarto-cli from PyPI); or install Quarto {QUARTO_VERSION} "
    "from https://quarto.org/docs/get-started/ and put `quarto` on PATH."
)


def quarto_exe() -> str:
    """The ``quarto`` on PATH; fails the calling test (never skips) when there is none."""
    exe = shutil.which("quarto")
    if exe is None:
        pytest.fail(QUARTO_MISSING, pytrace=False)
    return exe


def checkout_files(root: Path = REPO) -> list[str]:
    """The checkout's files (tracked, or new and not ignored), relative to ``root``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(rel for rel in set(listed.split("\0")) if rel and (root / rel).is_file())


def copy_checkout(dest: Path, root: Path = REPO) -> None:
    """The checkout's files copied into ``dest`` (``build/`` left out)."""
    for rel in checkout_files(root):
        if not rel.startswith("build/"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, dest / rel)


def start_render(out: Path, *inputs: str, root: Path = REPO) -> subprocess.Popen:
    """Start ``quarto render [inputs] --output-dir out`` of a copy of ``root``.

    Everything Quarto prints goes to ``<out>.log``; :func:`finish_render` waits for it.
    """
    quarto = quarto_exe()
    src = out.with_name(out.name + ".src")
    for old in (out, src):
        shutil.rmtree(old, ignore_errors=True)
    copy_checkout(src, root)
    env = {**os.environ, "QUARTO_PYTHON": sys.executable}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    with open(out.with_name(out.name + ".log"), "w", encoding="utf-8") as log:
        return subprocess.Popen(
            [quarto, "render", *inputs, "--output-dir", str(out.resolve())],
            cwd=src,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one (stop_render)
        )


def stop_render(proc: subprocess.Popen) -> None:
    """Stop a render still running, Quarto and the kernels it started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()


def finish_render(proc: subprocess.Popen, out: Path) -> str:
    """What the render printed, once it has ended; fails the calling test on an error."""
    log = out.with_name(out.name + ".log")
    try:
        code = proc.wait(timeout=RENDER_TIMEOUT)
    except subprocess.TimeoutExpired:
        stop_render(proc)
        code = "(timed out)"
    text = log.read_text(encoding="utf-8")
    if code != 0:
        tail = "\n".join(text.rstrip().splitlines()[-40:])
        pytest.fail(f"quarto render exited {code} (full log: {log}):\n{tail}", pytrace=False)
    return text


def render(out: Path, *inputs: str, root: Path = REPO) -> str:
    """``quarto render [inputs] --output-dir out`` of a copy of ``root``: what it printed."""
    return finish_render(start_render(out, *inputs, root=root), out)


# The renders of this session: "site" or a post's folder name -> (folder, log), or the
# message of its failure (every later caller fails with it too); a render still running.
_RENDERS: dict[str, tuple[Path, str] | str] = {}
_RUNNING: dict[str, tuple[subprocess.Popen, Path]] = {}
_whole_site_wanted = True  # set from the selected tests at collection


def _rendered(key: str, out: Path, *inputs: str) -> tuple[Path, str]:
    if key not in _RENDERS:
        if key not in _RUNNING:
            print(f"\nrendering {inputs[0] if inputs else 'the site'} into {out}", flush=True)
            _RUNNING[key] = (start_render(out, *inputs), out)
        proc, out = _RUNNING.pop(key)
        try:
            _RENDERS[key] = (out, finish_render(proc, out))
        except pytest.fail.Exception as err:
            _RENDERS[key] = str(err)
    result = _RENDERS[key]
    if isinstance(result, str):
        pytest.fail(result, pytrace=False)
    return result


def site(session_dir: Path) -> tuple[Path, str]:
    """The whole site and its render log: ``DLBASICS_SITE``, else rendered once, now.

    The render goes into this session's own folder (pytest's temporary folder for the
    run), so two test sessions in one checkout never write into each other's render.
    """
    given = os.environ.get(SITE_ENV)
    if not given:
        return _rendered("site", session_dir / "site")
    folder = Path(given).resolve()
    if not (folder / "index.html").is_file():
        pytest.fail(f"{SITE_ENV}={given} holds no rendered site (no index.html)", pytrace=False)
    log_path = os.environ.get(SITE_LOG_ENV)
    if not log_path:
        return folder, f"(no render log: set {SITE_LOG_ENV} to the output of quarto render)"
    return folder, Path(log_path).read_text(encoding="utf-8")


def pytest_collection_modifyitems(config, items) -> None:
    """Render the whole site only when a selected test looks at it; run first the tests
    that need no render (they run while the site renders, see :func:`_site_render`)."""
    global _whole_site_wanted
    _whole_site_wanted = any(SITE_FIXTURES & set(item.fixturenames) for item in items)
    items.sort(key=lambda item: bool(RENDER_FIXTURES & set(item.fixturenames)))


@pytest.fixture(scope="session", autouse=True)
def _site_render(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Start the whole-site render with the session when a test needs it (the first one
    that does waits for it); stop it if the session ends first."""
    if _whole_site_wanted and not os.environ.get(SITE_ENV):
        out = tmp_path_factory.getbasetemp() / "site"
        print(f"\nrendering the site into {out} while the other tests run", flush=True)
        _RUNNING["site"] = (start_render(out), out)
    yield
    for proc, _ in _RUNNING.values():
        stop_render(proc)


@pytest.fixture(scope="session")
def rendered_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the site rendered by real Quarto (once per session)."""
    return site(tmp_path_factory.getbasetemp())[0]


@pytest.fixture(scope="session")
def render_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Everything ``quarto render`` printed for :func:`rendered_site`."""
    return site(tmp_path_factory.getbasetemp())[1]


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
    posts = post_paths()
    matches = [p for p in posts if p.parent.name == str(name_or_path)]
    matches = matches or [p for p in posts if p.parent.name.startswith(str(name_or_path))]
    if len(matches) != 1:
        names = [p.parent.name for p in posts]
        raise LookupError(f"no single post matches {str(name_or_path)!r}; posts: {names}")
    return matches[0]


def executed_notebook(folder: Path, qmd: Path) -> NotebookNode:
    """The notebook Quarto executed for ``qmd`` in the render in ``folder``.

    That is the post's download, ``index.ipynb``, without the unexecuted install cell
    (tag ``setup``) that tools/notebook_setup.py puts first for readers.
    """
    rel = qmd.parent.relative_to(REPO)
    path = folder / rel / "index.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"the render wrote no notebook for {rel} ({path} is missing)")
    nb = nbformat.read(path, as_version=4)
    nb.cells = [
        c
        for c in nb.cells
        if not ("setup" in c.metadata.get("tags", []) and not c.get("execution_count"))
    ]
    return nb


@pytest.fixture(scope="session")
def executed_post(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str | Path], NotebookNode]:
    """Factory ``executed_post(name_or_path) -> executed notebook``, from Quarto's render.

    Each post is executed once per session, by ``quarto render`` of the whole site, or of
    that post alone when no selected test needs the site.
    """
    cache: dict[Path, NotebookNode] = {}

    def get(name_or_path: str | Path) -> NotebookNode:
        qmd = resolve_post(name_or_path)
        if qmd not in cache:
            if os.environ.get(SITE_ENV) or _whole_site_wanted or "site" in _RENDERS:
                folder = site(tmp_path_factory.getbasetemp())[0]
            else:
                name = qmd.parent.name
                out = tmp_path_factory.getbasetemp() / "post-renders" / name
                folder = _rendered(name, out, str(qmd.relative_to(REPO)))[0]
            cache[qmd] = executed_notebook(folder, qmd)
        return cache[qmd]

    return get


# --------------------------------------------------------------------------- screenshots

SCREENSHOTS = BUILD / "screenshots"
_TAKEN: list[Path] = []  # the screenshot folder, once this session has used it


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """``build/screenshots/``, emptied once per session; the run prints it at the end."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    _TAKEN.append(SCREENSHOTS)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter) -> None:
    shots = sorted(SCREENSHOTS.glob("*.png")) if _TAKEN else []
    if shots:
        terminalreporter.write_line(f"screenshots for review ({len(shots)}): {SCREENSHOTS}")
    for key, result in _RENDERS.items():
        if isinstance(result, tuple):
            what = "site" if key == "site" else key
            terminalreporter.write_line(f"rendered {what} tested: {result[0]}")
