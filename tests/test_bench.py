"""The benchmark script keeps running (a --quick smoke run) and its result checks hold."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_quick_runs_and_results_agree():
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert all({"bench", "value", "unit"} <= set(r) for r in rows)
    speed = {r["loss"]: r for r in rows if r["bench"] == "surface_speedup"}
    assert set(speed) == {"mse", "bce"}
    # the two result checks: helper and naive loop give the same surface
    assert all(r["results_equal"] is True for r in speed.values())
    assert any(r["bench"] == "animation_bytes" and r["value"] > 0 for r in rows)
    assert "| bench | detail | value | target |" in proc.stdout
