"""The site's configuration, and what makes a render (and so the tests) fail.

Quarto validates ``_quarto.yml``, ``_metadata.yml``, front matter and ``#|`` cell options
against its own schema when it renders, and stops with an error; a cell that raises
without ``#| error: true`` stops it too. The render fixture (tests/conftest.py) turns a
failed render into a failure of every test that needs it: checked here on two tiny
projects in ``tests/fixtures/render-errors/``. Links, cross-references, pages and listing
are checked on the rendered site (tests/test_site_render.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import QUARTO_VERSION, checkout_files, quarto_exe, render
from qmd import REPO

CONFIG = yaml.safe_load((REPO / "_quarto.yml").read_text(encoding="utf-8"))
POST_DEFAULTS = yaml.safe_load((REPO / "posts" / "_metadata.yml").read_text(encoding="utf-8"))
RENDER_ERRORS = Path(__file__).parent / "fixtures" / "render-errors"


def test_site_settings() -> None:
    assert CONFIG["project"]["type"] == "website" and CONFIG["project"]["output-dir"] == "_site"
    assert CONFIG["website"]["title"] == "Deep Learning Basics with PyTorch"
    assert CONFIG["website"]["site-url"] and CONFIG["website"]["repo-url"]
    assert CONFIG["jupyter"] == "python3"
    assert {"!tests/", "!bench/", "!build/"} <= set(CONFIG["project"]["render"])
    # No freeze: every render re-executes the posts (see the file's comment).
    assert POST_DEFAULTS["execute"]["freeze"] is False
    assert POST_DEFAULTS["execute"].get("error", False) is False
    # One execution per post: the page's notebook is kept and becomes the download
    # (tools/post_render.py); an `ipynb` format would execute every post again.
    assert POST_DEFAULTS["keep-ipynb"] is True and "ipynb" not in POST_DEFAULTS["format"]
    assert {"href": "index.ipynb"}.items() <= POST_DEFAULTS["other-links"][0].items()
    # ... then tools/notebook_setup.py adds the setup cell and the Colab link (issue 19)
    assert CONFIG["project"]["post-render"] == ["tools/post_render.py", "tools/notebook_setup.py"]


def test_navbar_github_link_is_the_repo_url() -> None:
    """One URL in two places (Quarto has no navbar item that reads repo-url)."""
    items = CONFIG["website"]["navbar"]["left"] + CONFIG["website"]["navbar"]["right"]
    github = [item["href"] for item in items if item.get("icon") == "github"]
    assert github == [CONFIG["website"]["repo-url"]]


def test_quarto_on_path_is_the_pinned_version() -> None:
    """The Quarto that renders here is the one CI installs (``.quarto-version``)."""
    version = subprocess.run([quarto_exe(), "--version"], capture_output=True, text=True).stdout
    assert version.strip() == QUARTO_VERSION, f"Quarto {version.strip()} on PATH"


def test_the_quarto_version_is_written_in_one_file() -> None:
    """Workflows, Makefile, .ci/run and tests read ``.quarto-version`` (prose may name it)."""
    spelled = [
        rel
        for rel in checkout_files()
        if not rel.endswith((".md", ".png", ".csv", ".gz", ".xz"))
        and rel != ".quarto-version"
        and QUARTO_VERSION in (REPO / rel).read_text(encoding="utf-8", errors="replace")
    ]
    assert spelled == [], f"Quarto {QUARTO_VERSION} is written in {spelled}"


@pytest.mark.parametrize(
    "project, message",
    [
        ("bad-yaml", r"(?s)Validation of YAML front matter failed.*code-fold"),
        ("raising-cell", r"ValueError.*this cell fails the render"),
    ],
)
def test_a_failed_render_fails_the_tests(tmp_path: Path, project: str, message: str) -> None:
    with pytest.raises(pytest.fail.Exception, match=message):
        render(tmp_path / "out", root=RENDER_ERRORS / project)
