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
    surfaces = [r for r in rows if r["bench"] == "surface_seconds"]
    # every surface a post computes, each timed three ways, cold and warm
    cases = {(r["post"], r["loss"]) for r in surfaces}
    assert cases == {
        ("01-regression-gradient-descent", "sse"),
        ("04-mse-vs-bce", "mse"),
        ("04-mse-vs-bce", "bce"),
    }
    for case in cases:
        ways = {r["way"] for r in surfaces if (r["post"], r["loss"]) == case}
        assert ways == {"per-point loop", "vectorised", "helper"}
    assert all(r["cold_s"] > 0 and r["value"] > 0 for r in surfaces)
    # the result check: the three computations give the same surface
    assert all(r["results_equal"] is True for r in surfaces)
    assert any(r["bench"] == "animation_bytes" and r["value"] > 0 for r in rows)
    assert "| bench | detail | value | target |" in proc.stdout
