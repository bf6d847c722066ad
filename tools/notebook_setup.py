"""Quarto post-render step: every post runs where its reader is.

For each post in the output folder (``posts/*/``):

* ``index.ipynb`` (the page's notebook download) gets one first cell that installs the
  helper package at the version of this page when it is not importable::

      import importlib.util

      if importlib.util.find_spec("dlbasics") is None:
          %pip install -q dlbasics==<version>

  In a clone with ``pip install -e .`` nothing happens; in Colab or a fresh Jupyter it
  installs the released wheel (data sets then load through the package: MNIST through
  torchvision). The cell is tagged ``setup``; it exists only in the notebook, never on the
  web page, which Quarto rendered from the ``.qmd`` before this step.
* ``index.html`` gets an "Open in Colab" link under the title, pointing at the same notebook
  on the ``notebooks`` branch that ``publish.yml`` writes. The repository comes from
  ``website.repo-url`` in ``_quarto.yml``, which ``publish.yml`` sets to the repository it
  runs in (``tools/set_site_urls.py``), so a fork links to its own notebooks.

Both edits are idempotent. Run by Quarto (``project: post-render:`` in ``_quarto.yml``,
after ``tools/post_render.py`` has written the notebooks), or by hand:
``python tools/notebook_setup.py [output-folder]``.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "dlbasics"
SETUP_TAG = "setup"
SETUP_ID = "dlbasics-setup"
NOTEBOOK_BRANCH = "notebooks"  # publish.yml pushes the rendered notebooks here
COLAB_CLASS = "colab-link"
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def package_version(root: Path = ROOT) -> str:
    """``__version__`` from ``src/dlbasics/__init__.py`` (equal to pyproject's, tested)."""
    tree = ast.parse((root / "src" / PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == [
            "__version__"
        ]:
            return str(ast.literal_eval(node.value))
    raise ValueError(f"src/{PACKAGE}/__init__.py defines no __version__")


def setup_source(version: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise ValueError(f"version must look like 0.2.0, got {version!r}")
    return (
        f"# Setup: where {PACKAGE} is missing (Colab, a fresh Jupyter), install the version\n"
        f"# this page was built with, {version}. In a clone with `pip install -e .` this does\n"
        "# nothing. Data sets load through the package; nothing else is downloaded by hand.\n"
        "import importlib.util\n"
        "\n"
        f'if importlib.util.find_spec("{PACKAGE}") is None:\n'
        f"    %pip install -q {PACKAGE}=={version}\n"
    )


def is_setup_cell(cell: dict) -> bool:
    return cell.get("id") == SETUP_ID or SETUP_TAG in cell.get("metadata", {}).get("tags", [])


def add_setup_cell(nb: dict, version: str) -> dict:
    """``nb`` with the setup cell first (an older setup cell is replaced, never repeated)."""
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [SETUP_TAG]},
        "outputs": [],
        "source": setup_source(version),
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


def process(out_dir: Path, version: str, base: str | None) -> list[str]:
    """Edit every post in ``out_dir``; the relative paths of the notebooks changed."""
    done = []
    for nb_path in sorted(out_dir.glob("posts/*/index.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        text = json.dumps(add_setup_cell(nb, version), indent=1, ensure_ascii=False) + "\n"
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
    done = process(out, package_version(), base)
    print(f"notebook_setup: {len(done)} notebooks start with the {PACKAGE} setup cell")
    return 0


if __name__ == "__main__":
    sys.exit(main())
