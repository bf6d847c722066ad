"""Quarto post-render step: every post runs where its reader is.

For each post in the output folder (``posts/*/``):

* ``index.ipynb`` (the page's notebook download) gets one first cell that installs the
  helper package when it is not importable, from the repository **at the commit this page
  was built from**. On GitHub Actions that commit comes from the standard variables
  ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY`` and ``GITHUB_SHA`` (so a fork's notebooks
  install the fork's code)::

      import importlib.util

      if importlib.util.find_spec("dlbasics") is None:
          ...  # pip install -q "dlbasics @ git+<server>/<owner>/<repo>@<sha>"

  pip runs quietly in a subprocess; when it fails the cell prints one line saying what to
  do instead of pip's output. There is no ``--upgrade``, and the package's dependencies
  are lower bounds (``pyproject.toml``), so the torch and torchvision already there (Colab's
  CUDA build) stay. In a clone with ``pip install -e .`` the cell does nothing. A render
  without those variables (a local one) writes a cell that only says, in one line, how to
  install from a clone. The cell is tagged ``setup``; it exists only in the notebook,
  never on the web page, which Quarto rendered from the ``.qmd`` before this step.
* ``index.html`` gets an "Open in Colab" link under the title, pointing at the same notebook
  on the ``notebooks`` branch that ``publish.yml`` writes. The repository comes from
  ``website.repo-url`` in ``_quarto.yml``, which ``publish.yml`` sets to the repository it
  runs in (``tools/set_site_urls.py``), so a fork links to its own notebooks.

Both edits are idempotent. Run by Quarto (``project: post-render:`` in ``_quarto.yml``,
after ``tools/post_render.py`` has written the notebooks), or by hand:
``python tools/notebook_setup.py [output-folder]``.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "dlbasics"
SETUP_TAG = "setup"
SETUP_ID = "dlbasics-setup"
NOTEBOOK_BRANCH = "notebooks"  # publish.yml pushes the rendered notebooks here
COLAB_CLASS = "colab-link"
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


GITHUB_VARIABLES = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA")
_SERVER = re.compile(r"^(https?|file)://[^\s\"'@]*$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


def install_spec(environ: Mapping[str, str] | None = None) -> str | None:
    """pip's requirement for the package at the commit being built, from GitHub's variables.

    ``dlbasics @ git+<GITHUB_SERVER_URL>/<GITHUB_REPOSITORY>@<GITHUB_SHA>``; ``None`` when
    none of the three is set (a local render). Some set, or a malformed one: ValueError.
    """
    environ = os.environ if environ is None else environ
    server, repository, sha = (environ.get(name, "").strip() for name in GITHUB_VARIABLES)
    if not (server or repository or sha):
        return None
    for name, value, pattern, expected in (
        ("GITHUB_SERVER_URL", server, _SERVER, "a URL such as https://github.com"),
        ("GITHUB_REPOSITORY", repository, _REPOSITORY, "owner/repo"),
        ("GITHUB_SHA", sha, _SHA, "a full commit hash (40 hex digits)"),
    ):
        if not pattern.match(value):
            raise ValueError(f"{name} must be {expected} (all three of "
                             f"{', '.join(GITHUB_VARIABLES)} or none), got {value!r}")  # fmt: skip
    return f"{PACKAGE} @ git+{server.rstrip('/')}/{repository}@{sha}"


LOCAL_HINT = (
    f"{PACKAGE} is missing: in a clone of the course repository run "
    "`pip install -e .` there, then restart the kernel."
)
_LOCAL_CELL = """\
# Setup: this notebook was rendered outside GitHub Actions, so it names no commit
# of {package} to install.
import importlib.util

if importlib.util.find_spec("{package}") is None:
    print({hint!r})
"""
# {{why}} stays a placeholder of the cell's own f-string: pip's last line of error output
_INSTALL_CELL = """\
# Setup: where {package} is missing (Colab, a fresh Jupyter), install it from the
# course repository at the commit this page was built from. Nothing is upgraded:
# the torch and torchvision already here stay. In a clone with `pip install -e .`
# this does nothing.
import importlib.util

if importlib.util.find_spec("{package}") is None:
    import subprocess
    import sys

    spec = "{spec}"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", spec],
                         capture_output=True, text=True)
    importlib.invalidate_caches()
    if pip.returncode != 0:
        why = (pip.stderr.strip().splitlines() or ["failed"])[-1]
        print(f'Could not install {package} (pip: {{why}}). Check the internet connection and '
              f'that git is installed, then run in a terminal: pip install "{{spec}}"')
"""


def setup_source(spec: str | None) -> str:
    """The setup cell's code: install ``spec`` (see :func:`install_spec`) where missing."""
    if spec is None:
        return _LOCAL_CELL.format(package=PACKAGE, hint=LOCAL_HINT)
    if not re.fullmatch(rf"{PACKAGE} @ git\+[^\s\"'{{}}]+@[0-9a-f]{{40}}", spec):
        raise ValueError(f"spec must be '{PACKAGE} @ git+<url>@<commit>', got {spec!r}")
    return _INSTALL_CELL.format(package=PACKAGE, spec=spec)


def is_setup_cell(cell: dict) -> bool:
    return cell.get("id") == SETUP_ID or SETUP_TAG in cell.get("metadata", {}).get("tags", [])


def add_setup_cell(nb: dict, spec: str | None) -> dict:
    """``nb`` with the setup cell first (an older setup cell is replaced, never repeated)."""
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [SETUP_TAG]},
        "outputs": [],
        "source": setup_source(spec),
    }
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
        cell["id"] = SETUP_ID
    cells = [c for c in nb.get("cells", []) if not is_setup_cell(c)]
    return {**nb, "cells": [cell, *cells]}


def colab_base(repo_url: str) -> str:
    """Colab's address for the notebooks branch of the GitHub repository ``repo_url``."""
    m = _GITHUB.match(str(repo_url).strip())
    if not m:
        raise ValueError(f"repo-url must be https://github.com/<owner>/<repo>, got {repo_url!r}")
    owner, repo = m.groups()
    return f"https://colab.research.google.com/github/{owner}/{repo}/blob/{NOTEBOOK_BRANCH}/"


def repo_url(config: Path = ROOT / "_quarto.yml") -> str:
    return yaml.safe_load(config.read_text(encoding="utf-8"))["website"]["repo-url"]


_OLD_LINK = re.compile(rf'<div class="{COLAB_CLASS}">.*?</div>\n?', re.S)
_TITLE_END = re.compile(r'(<header id="title-block-header"[^>]*>.*?)(</header>)', re.S)


def add_colab_link(page: str, url: str) -> str:
    """``page`` with an "Open in Colab" link at the end of its title block."""
    page = _OLD_LINK.sub("", page)
    link = (
        f'<div class="{COLAB_CLASS}"><a href="{html.escape(url)}" rel="noopener">'
        '<i class="bi bi-play-circle" aria-hidden="true"></i> Open in Colab</a>'
        " (runs this page's notebook in your browser)</div>\n"
    )
    new, n = _TITLE_END.subn(lambda m: m[1] + link + m[2], page, count=1)
    if n != 1:
        raise ValueError('the page has no title block (<header id="title-block-header">)')
    return new


def process(out_dir: Path, spec: str | None, base: str | None) -> list[str]:
    """Edit every post in ``out_dir``; the relative paths of the notebooks changed."""
    done = []
    for nb_path in sorted(out_dir.glob("posts/*/index.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        text = json.dumps(add_setup_cell(nb, spec), indent=1, ensure_ascii=False) + "\n"
        nb_path.write_text(text, encoding="utf-8")
        rel = nb_path.relative_to(out_dir).as_posix()
        page = nb_path.with_suffix(".html")
        if base is not None and page.is_file():
            page.write_text(
                add_colab_link(page.read_text(encoding="utf-8"), base + rel), encoding="utf-8"
            )
        done.append(rel)
    return done


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", "_site"))
    out = (out if out.is_absolute() else ROOT / out).resolve()
    try:
        base = colab_base(repo_url())
    except ValueError as err:
        print(f"notebook_setup: no Colab links: {err}", file=sys.stderr)
        base = None
    spec = install_spec()
    done = process(out, spec, base)
    source = spec or "no commit (a local render: the cell says how to install from a clone)"
    print(f"notebook_setup: {len(done)} notebooks start with the {PACKAGE} setup cell: {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
