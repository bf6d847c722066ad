"""Every post's notebook runs from the released wheel alone, as a reader in a fresh Jupyter runs it.

The test builds the ``dlbasics`` wheel from this checkout (offline, no build isolation),
creates a new virtual environment, installs the wheel into it (``--no-deps``) and executes
each post's notebook in a kernel of that environment, from an empty folder: no checkout
beside it, no ``src/`` on ``sys.path``, no ``PYTHONPATH``.

The notebooks are the rendered ones, the downloads readers get: each post's
``index.ipynb`` in the session's rendered site (the ``rendered_site`` fixture of
``tests/conftest.py``: one Quarto render of the whole site, or ``DLBASICS_SITE`` in CI),
as the post-render steps wrote it.
The test checks that the setup cell is there, first, pinned to the package version, and
then skips it (it would ``pip install`` from PyPI, which the test must not reach): the
wheel is already installed, exactly what that cell would install. The outputs Quarto
stored are dropped, so every cell really runs again in the new environment.

Third-party packages: installing torch (about 5 GB with its libraries) into every new
environment would make this test take minutes and need the network, so the new venv sees
the already-installed packages of the project's venv through one ``.pth`` line pointing at
its ``site-packages``. That does not make the checkout's ``dlbasics`` importable: the
editable install lives in ``.pth`` files (``_editable_impl_dlbasics.pth`` -> ``src/``), and
Python reads ``.pth`` files only in site directories, never in a folder that a ``.pth``
line adds. A first cell in every executed notebook asserts that ``dlbasics`` is imported
from the new venv, at the wheel's version, and that ``src/`` is not on the path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import harness
import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import notebook_setup  # noqa: E402

VERSION = notebook_setup.package_version()
KERNEL = "dlbasics-wheel-test"
POSTS = harness.post_paths()

pytestmark = pytest.mark.slow


def _run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900, **kw)


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> dict[str, Path]:
    """A new venv with only the built wheel installed (plus the .pth line, see above)."""
    root = tmp_path_factory.mktemp("wheel-venv")
    wheels = root / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
         "--no-index", "--quiet", "-w", str(wheels), str(REPO))  # fmt: skip
    (wheel,) = wheels.glob(f"dlbasics-{VERSION}-*.whl")
    venv = root / "venv"
    _run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    site = Path(_run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .stdout.strip())  # fmt: skip
    (site / "zz_course_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel))
    kernels = root / "jupyter" / "kernels" / KERNEL
    kernels.mkdir(parents=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "dlbasics wheel",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec))
    return {"python": python, "site": site, "jupyter": root / "jupyter", "root": root}


def test_the_venv_imports_the_wheel_not_the_checkout(wheel_venv, tmp_path) -> None:
    code = (
        "import dlbasics, importlib.metadata as md, sys; "
        "print(dlbasics.__file__); print(dlbasics.__version__); print(md.version('dlbasics'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = _run(str(wheel_venv["python"]), "-c", code, cwd=tmp_path, env=env).stdout.split()
    assert Path(out[0]).is_relative_to(wheel_venv["site"]), out[0]
    assert out[1] == VERSION
    # the course's data travel inside the wheel
    data = _run(str(wheel_venv["python"]), "-c",
                "from dlbasics.data import data_path; print(data_path('irony_of_spec.csv'))",
                cwd=tmp_path, env=env).stdout.strip()  # fmt: skip
    assert Path(data).is_relative_to(wheel_venv["site"])


CHECK_CELL = """\
import sys, dlbasics
from pathlib import Path
assert Path(dlbasics.__file__).is_relative_to(Path(sys.prefix)), dlbasics.__file__
assert dlbasics.__version__ == {version!r}, dlbasics.__version__
assert not any(Path(p).resolve() == Path({src!r}) for p in sys.path if p), sys.path
print("dlbasics", dlbasics.__version__, "from", dlbasics.__file__)
"""


@pytest.mark.parametrize("qmd", POSTS, ids=lambda p: p.parent.name)
def test_post_notebook_runs_from_the_wheel_in_an_empty_folder(
    qmd: Path, wheel_venv, tmp_path, monkeypatch, rendered_site: Path
) -> None:
    nb = nbformat.read(rendered_site / qmd.parent.relative_to(REPO) / "index.ipynb", 4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    first = nb.cells[0]
    assert notebook_setup.is_setup_cell(first), "the notebook does not start with the setup cell"
    assert f"%pip install -q dlbasics=={VERSION}" in first.source
    rest = nb.cells[1:]
    assert not any(notebook_setup.is_setup_cell(c) for c in rest)
    check = nbformat.v4.new_code_cell(CHECK_CELL.format(version=VERSION, src=str(REPO / "src")))
    nb.cells = [check, *rest]  # the setup cell skipped: its wheel is already installed

    workdir = tmp_path / "reader"
    workdir.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(wheel_venv["jupyter"]))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # Jupyter's own default (inline)
    if "DLBASICS_DATA" not in os.environ and harness.SHARED_MNIST.is_dir():
        monkeypatch.setenv("DLBASICS_DATA", str(harness.SHARED_MNIST))
    client = NotebookClient(
        nb, kernel_name=KERNEL, timeout=600, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    shown = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert f"dlbasics {VERSION} from {wheel_venv['site']}" in shown
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert errors == []
    # nothing was read from, or written beside, a checkout: the folder started empty
    assert not (workdir / "src").exists() and not (workdir / "posts").exists()
