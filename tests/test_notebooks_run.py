"""A downloaded notebook runs from its first cell where the reader is (issue 24, part 3).

* Every post's notebook in the rendered site (the ``rendered_site`` fixture: the files
  readers download) starts with the setup cell of ``tools/notebook_setup.py``, once.
* One notebook is executed as a Colab or fresh-Jupyter reader runs it: Week 2's (the
  cheapest post with animations). Its setup cell is written by ``tools/notebook_setup.py``
  exactly as on GitHub Actions, from ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY`` and
  ``GITHUB_SHA``, here pointing at a clone of this repository (``file://``) at ``HEAD``.
  It runs in a new virtual environment that has torch but not ``dlbasics``, from an empty
  folder, with every stored output dropped: the setup cell installs ``dlbasics`` from git
  at that commit, every cell after it runs, and the animations carry ``text/html`` (VS Code
  and Colab show no Markdown scripts).

Offline: pip gets no index (``PIP_NO_INDEX``) and builds without isolation, with the
project's hatchling. Torch and the other dependencies (about 5 GB) are not installed again:
the new venv sees them through one ``.pth`` line naming a folder of links to the project
venv's packages, every one except ``dlbasics`` (so pip finds the dependencies installed
and ``dlbasics`` missing, as in Colab).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import notebook_setup
import pytest
from nbclient import NotebookClient
from qmd import post_paths

REPO = Path(__file__).resolve().parents[1]

KERNEL = "dlbasics-fresh-venv"
POSTS = post_paths()
RUN_POST = "02-pytorch-way"  # the cheapest post with animations (README: Performance)

pytestmark = pytest.mark.slow


def _run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900, **kw)


@pytest.mark.parametrize("qmd", POSTS, ids=lambda p: p.parent.name)
def test_every_notebook_starts_with_the_setup_cell(qmd: Path, rendered_site: Path) -> None:
    nb = nbformat.read(rendered_site / qmd.parent.relative_to(REPO) / "index.ipynb", 4)
    first, rest = nb.cells[0], nb.cells[1:]
    assert notebook_setup.is_setup_cell(first), "the notebook does not start with the setup cell"
    assert first.cell_type == "code" and first.source == notebook_setup.setup_source(
        notebook_setup.install_spec()
    )
    assert not any(notebook_setup.is_setup_cell(c) for c in rest)


def players_in(nb) -> list:
    """The outputs that hold an animation player (any MIME type)."""
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if 'class="dlbasics-anim"' in str(o.get("data", {}))]  # fmt: skip


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> dict[str, Path]:
    """A new venv with torch & co. (through the .pth line, see above) and no dlbasics."""
    root = tmp_path_factory.mktemp("fresh-venv")
    venv = root / "venv"
    _run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    # Python < 3.12 puts an old setuptools into every venv, which would hide the one
    # torch requires (Colab's environment has torch's own requirements installed)
    _run(str(python), "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools")
    deps = root / "deps"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "dlbasics" not in entry.name.lower() and entry.suffix != ".pth":
            (deps / entry.name).symlink_to(entry)
    site = _run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    (Path(site.stdout.strip()) / "zz_course_deps.pth").write_text(f"{deps}\n")
    kernels = root / "jupyter" / "kernels" / KERNEL
    kernels.mkdir(parents=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh venv",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec))
    return {"python": python, "jupyter": root / "jupyter", "root": root}


def test_the_fresh_venv_has_torch_but_not_dlbasics(fresh_venv, tmp_path) -> None:
    code = "import importlib.util as u; print(bool(u.find_spec('torch')), u.find_spec('dlbasics'))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    assert _run(str(fresh_venv["python"]), "-c", code, cwd=tmp_path, env=env).stdout.split() == [
        "True",
        "None",
    ]


def test_a_pinned_notebook_runs_from_its_first_cell_in_a_fresh_venv(
    fresh_venv, tmp_path, monkeypatch, rendered_site: Path
) -> None:
    # The repository as a "server": <server>/<owner>/<repo> is a clone of this checkout.
    server = tmp_path / "server"
    _run("git", "clone", "--quiet", "--bare", str(REPO), str(server / "course" / "repo"))
    sha = _run("git", "rev-parse", "HEAD", cwd=REPO).stdout.strip()
    actions = {  # file://localhost/...: a URL with a host, as pip requires for git+file
        "GITHUB_SERVER_URL": f"file://localhost{server}",
        "GITHUB_REPOSITORY": "course/repo",
        "GITHUB_SHA": sha,
    }
    # The rendered post, its setup cell written by the post-render step as on GitHub Actions.
    out = tmp_path / "site"
    (out / "posts" / RUN_POST).mkdir(parents=True)
    rendered = rendered_site / "posts" / RUN_POST / "index.ipynb"
    (out / "posts" / RUN_POST / "index.ipynb").write_bytes(rendered.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")} | actions
    _run(sys.executable, str(REPO / "tools" / "notebook_setup.py"), str(out), env=env)
    nb = nbformat.read(out / "posts" / RUN_POST / "index.ipynb", 4)
    shown_on_the_page = len(players_in(nb))  # in the render: Markdown only
    assert shown_on_the_page >= 1
    spec = f"dlbasics @ git+file://localhost{server}/course/repo@{sha}"
    assert notebook_setup.is_setup_cell(nb.cells[0]) and f'spec = "{spec}"' in nb.cells[0].source
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None

    workdir = tmp_path / "reader"
    workdir.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(fresh_venv["jupyter"]))
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: the only source is the git URL
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # build with the venv's hatchling
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # Jupyter's own default (inline)
    for name in notebook_setup.GITHUB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    client = NotebookClient(
        nb, kernel_name=KERNEL, timeout=600, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()

    assert nb.cells[0].outputs == [], nb.cells[0].outputs  # installed quietly
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert errors == []
    where = _run(
        str(fresh_venv["python"]), "-c",
        "import dlbasics, importlib.metadata as m; print(dlbasics.__file__); "
        "print(m.distribution('dlbasics').read_text('direct_url.json'))",
        cwd=workdir,
    ).stdout.splitlines()  # fmt: skip
    assert Path(where[0]).is_relative_to(fresh_venv["root"] / "venv"), where[0]
    assert json.loads(where[1])["vcs_info"]["commit_id"] == sha
    # the torch that was there is still the one imported (not replaced, not upgraded)
    import torch

    code = "import torch; print(torch.__version__); print(torch.__file__)"
    there = _run(str(fresh_venv["python"]), "-c", code, cwd=workdir).stdout.splitlines()
    assert there == [torch.__version__, str(fresh_venv["root"] / "deps" / "torch" / "__init__.py")]
    players = players_in(nb)
    assert len(players) == shown_on_the_page
    for out in players:
        html = out["data"].get("text/html", "")
        assert 'class="dlbasics-anim"' in html and "<script" in html, sorted(out["data"])
        assert 'src="http' not in html  # self-contained: no external script or image
    # nothing was read from, or written beside, a checkout: the folder started empty
    assert not (workdir / "src").exists() and not (workdir / "posts").exists()
