"""tools/notebook_setup.py, the post-render step that makes each post run where its reader is:
the setup cell (first, tagged, pinned to the package version, a no-op when dlbasics is
importable), the "Open in Colab" link derived from ``repo-url``, its registration in
``_quarto.yml`` and the ``notebooks`` branch that publish.yml writes for Colab."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import notebook_setup as ns  # noqa: E402

VERSION = ns.package_version()


def small_notebook() -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Week 0: a title"),
        nbformat.v4.new_code_cell("import dlbasics\nprint(dlbasics.__version__)"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return json.loads(nbformat.writes(nb))


def test_version_is_the_packages() -> None:
    import dlbasics

    assert dlbasics.__version__ == VERSION
    text = (REPO / "pyproject.toml").read_text()
    assert f'version = "{VERSION}"' in text


def test_setup_cell_comes_first_once_and_pins_the_version() -> None:
    nb = ns.add_setup_cell(small_notebook(), VERSION)
    first = nb["cells"][0]
    assert first["cell_type"] == "code" and first["metadata"]["tags"] == ["setup"]
    assert f"%pip install -q dlbasics=={VERSION}\n" in first["source"]
    assert 'importlib.util.find_spec("dlbasics") is None' in first["source"]
    assert [c["source"] for c in nb["cells"][1:]] == [
        c["source"] for c in small_notebook()["cells"]
    ]
    # idempotent: a second pass replaces the cell instead of adding another
    again = ns.add_setup_cell(nb, VERSION)
    assert sum(ns.is_setup_cell(c) for c in again["cells"]) == 1
    assert again["cells"] == nb["cells"]
    nbformat.validate(nbformat.reads(json.dumps(again), as_version=4))
    # only http(s)-free pip of the one package: nothing else is fetched by hand
    assert not re.search(r"https?://|wget|curl|git clone", first["source"])


def _run_setup_cell(source: str, importable: bool) -> list[tuple[str, str]]:
    """Run the cell as IPython would (magics transformed); return the magics it called."""
    calls: list[tuple[str, str]] = []

    class Shell:
        def run_line_magic(self, name: str, line: str) -> None:
            calls.append((name, line))

    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name, *args):
        return real(name, *args) if importable or name != "dlbasics" else None

    code = TransformerManager().transform_cell(source)
    importlib.util.find_spec = find_spec
    try:
        exec(code, {"get_ipython": Shell})
    finally:
        importlib.util.find_spec = real
    return calls


def test_setup_cell_installs_only_when_dlbasics_is_missing() -> None:
    source = ns.setup_source(VERSION)
    assert _run_setup_cell(source, importable=True) == []
    assert _run_setup_cell(source, importable=False) == [("pip", f"install -q dlbasics=={VERSION}")]


def test_bad_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version must look like 0.2.0, got 'main'"):
        ns.setup_source("main")


def test_colab_address_comes_from_repo_url() -> None:
    assert ns.colab_base("https://github.com/fork-owner/dl-course") == (
        "https://colab.research.google.com/github/fork-owner/dl-course/blob/notebooks/"
    )
    assert ns.colab_base("https://github.com/a/b.git/") == ns.colab_base("https://github.com/a/b")
    with pytest.raises(ValueError, match="repo-url must be https://github.com/<owner>/<repo>"):
        ns.colab_base("https://gitlab.com/a/b")
    # the site's own setting is what the link uses (publish.yml rewrites it per repository)
    config = yaml.safe_load((REPO / "_quarto.yml").read_text())
    assert ns.repo_url() == config["website"]["repo-url"]


PAGE = (
    '<html><body><header id="title-block-header" class="quarto-title-block default">'
    '<h1 class="title">Week 0</h1></header><main>text</main></body></html>'
)


def test_colab_link_goes_into_the_title_block_once() -> None:
    url = "https://colab.research.google.com/github/o/r/blob/notebooks/posts/x/index.ipynb"
    page = ns.add_colab_link(PAGE, url)
    header = page.split("<header", 1)[1].split("</header>", 1)[0]
    assert f'<a href="{url}" rel="noopener">' in header and "Open in Colab" in header
    assert ns.add_colab_link(page, url) == page
    with pytest.raises(ValueError, match="no title block"):
        ns.add_colab_link("<html><body>no title</body></html>", url)


def test_process_edits_every_post_of_an_output_folder(tmp_path: Path) -> None:
    for slug in ("01-a", "02-b"):
        folder = tmp_path / "posts" / slug
        folder.mkdir(parents=True)
        (folder / "index.ipynb").write_text(json.dumps(small_notebook()))
        (folder / "index.html").write_text(PAGE)
    (tmp_path / "index.html").write_text(PAGE)  # not a post: left alone
    base = ns.colab_base("https://github.com/o/r")
    done = ns.process(tmp_path, VERSION, base)
    assert done == ["posts/01-a/index.ipynb", "posts/02-b/index.ipynb"]
    for rel in done:
        nb = json.loads((tmp_path / rel).read_text())
        assert ns.is_setup_cell(nb["cells"][0])
        page = (tmp_path / rel).with_suffix(".html").read_text()
        assert f'href="{base}{rel}"' in page
    assert (tmp_path / "index.html").read_text() == PAGE


def test_main_uses_quartos_output_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    folder = tmp_path / "posts" / "01-a"
    folder.mkdir(parents=True)
    (folder / "index.ipynb").write_text(json.dumps(small_notebook()))
    monkeypatch.setenv("QUARTO_PROJECT_OUTPUT_DIR", str(tmp_path))
    assert ns.main([]) == 0
    assert "1 notebooks start with the dlbasics setup cell" in capsys.readouterr().out
    nb = json.loads((folder / "index.ipynb").read_text())
    assert ns.is_setup_cell(nb["cells"][0])


def test_quarto_runs_the_step_after_the_notebooks_are_written() -> None:
    steps = yaml.safe_load((REPO / "_quarto.yml").read_text())["project"]["post-render"]
    steps = [steps] if isinstance(steps, str) else steps
    assert steps[-1] == "tools/notebook_setup.py"
    if "tools/post_render.py" in steps:
        assert steps.index("tools/post_render.py") < steps.index("tools/notebook_setup.py")


def test_publish_writes_the_notebooks_branch_colab_opens() -> None:
    wf = yaml.load((REPO / ".github/workflows/publish.yml").read_text(), Loader=yaml.BaseLoader)
    build, job = wf["jobs"]["build"], wf["jobs"]["notebooks"]
    upload = next(
        s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
    )
    assert upload["with"]["path"] == "_site/posts/*/index.ipynb"
    assert job["needs"] == "build"
    assert job["permissions"] == {"contents": "write"}  # and nothing else
    download = job["steps"][0]
    assert download["uses"].startswith("actions/download-artifact@")
    assert download["with"]["name"] == upload["with"]["name"]
    assert download["with"]["path"] == "notebooks/posts"
    script = job["steps"][1]["run"]
    assert f"git init -q -b {ns.NOTEBOOK_BRANCH}" in script
    assert f'push --force "$SERVER/$REPOSITORY.git" {ns.NOTEBOOK_BRANCH}' in script
    assert "${{" not in script  # values reach the script through env:
    assert job["steps"][1]["env"]["REPOSITORY"] == "${{ github.repository }}"
