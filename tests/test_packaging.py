"""The package as users get it: ruff-clean sources, a wheel that carries its data and player."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_check_and_format_are_clean():
    for args in (["check", "."], ["format", "--check", "."]):
        proc = subprocess.run([str(BIN / "ruff"), *args], cwd=REPO, capture_output=True, text=True)
        assert proc.returncode == 0, f"ruff {' '.join(args)}:\n{proc.stdout}{proc.stderr}"


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args, "--quiet", "--no-deps"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)


def test_installed_wheel_loads_csv_and_player(tmp_path):
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    _pip("wheel", "-w", str(wheels), str(REPO))
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
