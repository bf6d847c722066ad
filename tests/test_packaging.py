"""The package as users get it: ruff-clean sources, a wheel that carries its data and
player, built offline; one lock (constraints.txt) behind every install."""

import importlib.metadata as md
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the TOML reader pytest itself uses
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOCK = REPO / "constraints.txt"


def test_ruff_check_and_format_are_clean():
    for args in (["check", "."], ["format", "--check", "."]):
        proc = subprocess.run([str(BIN / "ruff"), *args], cwd=REPO, capture_output=True, text=True)
        assert proc.returncode == 0, f"ruff {' '.join(args)}:\n{proc.stdout}{proc.stderr}"


def _pip(*args: str) -> None:
    # --no-index and --no-build-isolation: nothing is downloaded (hatchling is in the lock)
    cmd = [sys.executable, "-m", "pip", *args, "--quiet", "--no-deps", "--no-index"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)


def test_installed_wheel_loads_csv_and_player(tmp_path):
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    _pip("wheel", "--no-build-isolation", "-w", str(wheels), str(REPO))
    (wheel,) = wheels.glob("dlbasics-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dlbasics/_data/irony_of_spec.csv" in names
    assert {"dlbasics/_player/player.js", "dlbasics/_player/player.css"} <= names
    _pip("install", "--target", str(site), str(wheel))
    code = (
        "import dlbasics.data as d; p = d.data_path('irony_of_spec.csv'); "
        "t = d.load_csv('irony_of_spec.csv'); print(p); print(sorted(t), t['x'].shape[0])"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert Path(out[0]).is_relative_to(site), f"read from {out[0]}, not the installed package"
    assert out[1] == "['prob', 'x', 'y'] 2000"


def _lock() -> dict[str, list[tuple[str, str]]]:
    """``{name: [(version, marker), ...]}`` from constraints.txt (every line ``name==v``)."""
    pins: dict[str, list[tuple[str, str]]] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        req, _, marker = line.partition(";")
        m = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", req.strip())
        assert m, f"constraints.txt: {line!r} is not an exact pin name==version"
        pins.setdefault(canonicalize_name(m.group(1)), []).append((m.group(2), marker.strip()))
    return pins


def _project_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def test_the_lock_pins_every_requirement_within_pyproject_ranges():
    pins = _lock()
    for req in _project_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is required by pyproject.toml but not in the lock"
        for version, _ in pins[name]:
            assert req.specifier.contains(version, prereleases=True), (req, version)
    for tool in ("torch", "torchvision", "ruff", "zizmor", "playwright", "jupyterlab", "hatchling"):
        assert tool in pins, f"{tool} is not locked"


def test_the_installed_tools_are_the_locked_versions():
    """The environment running the tests was built from the lock (make test, CI)."""
    for name in ("torch", "torchvision", "numpy", "matplotlib", "ruff", "hatchling", "pytest"):
        wanted = [v for v, marker in _lock()[name] if not marker or Marker(marker).evaluate()]
        installed = md.version(name).split("+")[0]  # torch 2.14.1+cpu is torch 2.14.1
        assert [installed] == wanted, f"{name} {installed} installed, lock says {wanted}"


@pytest.mark.parametrize(
    "path", ["Makefile", ".github/workflows/tests.yml", ".github/workflows/publish.yml"]
)
def test_every_install_of_the_project_uses_the_lock(path):
    text = (REPO / path).read_text(encoding="utf-8")
    installs = [line for line in text.splitlines() if re.search(r"pip install .*(-e |torch)", line)]
    assert installs, f"{path} installs nothing?"
    for line in installs:
        assert "-c constraints.txt" in line, f"{path}: {line.strip()!r} ignores the lock"
