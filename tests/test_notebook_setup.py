"""tools/notebook_setup.py, the post-render step that makes each post run where its reader is:
the setup cell (first, tagged, pinned to the commit being built when GitHub's variables say
which, a no-op when dlbasics is importable), the "Open in Colab" link derived from
``repo-url``, its registration in ``_quarto.yml`` and the ``notebooks`` branch that
publish.yml writes for Colab."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import notebook_setup as ns
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

REPO = Path(__file__).resolve().parents[1]

SHA = "0123456789abcdef0123456789abcdef01234567"
ACTIONS = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "fork-owner/dl-course",
    "GITHUB_SHA": SHA,
}
SPEC = f"dlbasics @ git+https://github.com/fork-owner/dl-course@{SHA}"


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


def test_install_spec_comes_from_githubs_variables() -> None:
    assert ns.install_spec(ACTIONS) == SPEC
    assert ns.install_spec({**ACTIONS, "GITHUB_SERVER_URL": "https://ghe.example.org/"}) == (
        f"dlbasics @ git+https://ghe.example.org/fork-owner/dl-course@{SHA}"
    )
    assert ns.install_spec({}) is None  # a local render
    assert ns.install_spec({"GITHUB_SHA": "", "HOME": "/root"}) is None
    with pytest.raises(ValueError, match="GITHUB_REPOSITORY must be owner/repo .*got ''"):
        ns.install_spec({"GITHUB_SERVER_URL": "https://github.com", "GITHUB_SHA": SHA})
    with pytest.raises(ValueError, match="GITHUB_SHA must be a full commit hash .*got 'main'"):
        ns.install_spec({**ACTIONS, "GITHUB_SHA": "main"})
    with pytest.raises(ValueError, match="GITHUB_SERVER_URL must be a URL"):
        ns.install_spec({**ACTIONS, "GITHUB_SERVER_URL": "github.com"})


def test_setup_cell_comes_first_once_and_pins_the_commit() -> None:
    nb = ns.add_setup_cell(small_notebook(), SPEC)
    first = nb["cells"][0]
    assert first["cell_type"] == "code" and first["metadata"]["tags"] == ["setup"]
    assert f'spec = "{SPEC}"\n' in first["source"]
    assert 'importlib.util.find_spec("dlbasics") is None' in first["source"]
    assert [c["source"] for c in nb["cells"][1:]] == [
        c["source"] for c in small_notebook()["cells"]
    ]
    # idempotent: a second pass replaces the cell instead of adding another
    again = ns.add_setup_cell(nb, SPEC)
    assert sum(ns.is_setup_cell(c) for c in again["cells"]) == 1
    assert again["cells"] == nb["cells"]
    nbformat.validate(nbformat.reads(json.dumps(again), as_version=4))
    # nothing is upgraded or replaced (torch stays): no --upgrade, no reinstall
    assert not any(flag in first["source"] for flag in ("-U", "--upgrade", "--force", "--no-deps"))


def test_dependencies_are_lower_bounds_so_torch_stays() -> None:
    text = (REPO / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M)[1]
    deps = re.findall(r'"([^"]+)"', block)
    assert "torch>=2.2" in deps and len(deps) >= 5
    for dep in deps:
        name, _, bound = dep.partition(">=")
        assert bound and name.isidentifier() and ";" not in bound, dep


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


def _run_setup_cell(source: str, importable: bool, pip_exit: int = 0) -> tuple[list, str]:
    """Run the cell with pip replaced by a recorder; (pip commands, what the cell printed)."""
    calls: list = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, pip_exit, "", "lots of pip output\nERROR: no net\n")

    real_run, printed = subprocess.run, []
    subprocess.run = fake_run
    try:
        _run_cell(source, importable, {"print": lambda *a: printed.append(" ".join(a))})
    finally:
        subprocess.run = real_run
    return calls, "\n".join(printed)


def _run_cell(source: str, importable: bool, names: dict) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name, *args):
        return real(name, *args) if importable or name != "dlbasics" else None

    code = TransformerManager().transform_cell(source)  # as IPython runs it
    importlib.util.find_spec = find_spec
    try:
        exec(code, names)
    finally:
        importlib.util.find_spec = real


def test_setup_cell_installs_only_when_dlbasics_is_missing() -> None:
    source = ns.setup_source(SPEC)
    assert _run_setup_cell(source, importable=True) == ([], "")
    calls, printed = _run_setup_cell(source, importable=False)
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", SPEC]]
    assert printed == ""


def test_a_failed_install_prints_one_line_saying_what_to_do() -> None:
    calls, printed = _run_setup_cell(ns.setup_source(SPEC), importable=False, pip_exit=1)
    assert len(calls) == 1
    assert printed.count("\n") == 0 and "lots of pip output" not in printed
    assert printed.startswith("Could not install dlbasics (pip: ERROR: no net)")
    assert printed.endswith(f'pip install "{SPEC}"')


def test_a_local_render_says_how_to_install_from_a_clone() -> None:
    source = ns.setup_source(None)
    assert "pip" not in source.replace("pip install -e .", "")  # installs nothing
    calls, printed = _run_setup_cell(source, importable=False)
    assert calls == [] and printed == ns.LOCAL_HINT and "\n" not in printed
    assert "pip install -e ." in printed
    assert _run_setup_cell(source, importable=True) == ([], "")


def test_bad_spec_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"spec must be 'dlbasics @ git\+<url>@<commit>', got 'main'"
    ):
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
    done = ns.process(tmp_path, SPEC, base)
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
    for name, value in ACTIONS.items():
        monkeypatch.setenv(name, value)
    assert ns.main([]) == 0
    assert f"1 notebooks start with the dlbasics setup cell: {SPEC}" in capsys.readouterr().out
    nb = json.loads((folder / "index.ipynb").read_text())
    assert ns.is_setup_cell(nb["cells"][0]) and SPEC in "".join(nb["cells"][0]["source"])
    for name in ACTIONS:  # a local render
        monkeypatch.delenv(name)
    assert ns.main([]) == 0
    nb = json.loads((folder / "index.ipynb").read_text())
    assert ns.LOCAL_HINT in "".join(nb["cells"][0]["source"])


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


def test_publish_renders_with_githubs_own_commit_variables() -> None:
    """GitHub sets GITHUB_SERVER_URL/REPOSITORY/SHA in every step; nothing may override them."""
    wf = yaml.load((REPO / ".github/workflows/publish.yml").read_text(), Loader=yaml.BaseLoader)
    build = wf["jobs"]["build"]
    render = next(s for s in build["steps"] if s.get("run", "").startswith("quarto render"))
    for scope in (wf, build, render):
        assert not set(scope.get("env", {})) & set(ns.GITHUB_VARIABLES), scope.get("env")
