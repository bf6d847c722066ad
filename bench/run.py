"""Benchmarks: the course's helpers against the naive way, and the cost of every post.

Run from the repository root after `make test` (or any set-up of .venv)::

    .venv/bin/python bench/run.py            # everything (about 2-3 minutes)
    .venv/bin/python bench/run.py --quick    # smoke run: one repeat, no posts

Prints one JSON object per line (``bench``, ``value``, ``unit`` and details), then a
Markdown table (the one in README.md, "Performance"). Measures, in one process:

- ``surface_speedup`` (MSE, BCE): ``dlbasics.surface.loss_surface`` against a naive
  per-grid-point loop written the way the lecture does it (``map`` over the flattened
  grid, one loss per point) on Week 4's grid: w0 in [-10, 3), w1 in [-1, 10), step
  0.15, 2000 samples. Both results are checked equal first; value = median naive
  time / median helper time, the two timed turn about (:func:`interleaved_medians`).
- ``animation_seconds``: building one 30-frame fit-plus-surface animation (Week 1).
- ``post_seconds`` / ``post_output_bytes`` per post, ``animation_bytes`` per
  animation found in the executed posts, and ``course_seconds`` (all posts).

Targets (never asserted in timed tests): speedup >= 100, each post <= 30 s, the
course <= 90 s, each post's output <= 2 MB, each animation <= 300 KB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

ANIM_MARK = '<figure class="dlbasics-anim"'


def emit(rows: list[dict], **row) -> dict:
    """Print one result as a JSON line and keep it for the table."""
    print(json.dumps(row), flush=True)
    rows.append(row)
    return row


def median_seconds(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(slow, fast, repeats: int, fast_runs: int = 20) -> tuple[float, float]:
    """Median wall times of ``slow()`` and ``fast()``, measured turn about.

    Each of the ``repeats`` rounds times ``slow`` once and ``fast`` ``fast_runs`` times,
    so that drifts in the machine's speed (shared virtual cores) hit both alike.
    """
    slow()
    fast()
    slow_times, fast_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        slow()
        slow_times.append(time.perf_counter() - start)
        for _ in range(fast_runs):
            start = time.perf_counter()
            fast()
            fast_times.append(time.perf_counter() - start)
    return statistics.median(slow_times), statistics.median(fast_times)


def naive_surface(x, y, w0, w1, loss_fn):
    """The lecture's loss surface: one sigmoid model and one loss per grid point."""
    W0, W1 = torch.meshgrid(w0, w1, indexing="ij")

    def loss_at(a, b):
        yhat = torch.exp(a + b * x) / (1 + torch.exp(a + b * x))
        return loss_fn(y, yhat)

    return torch.stack(list(map(loss_at, W0.reshape(-1), W1.reshape(-1)))).reshape(W0.shape)


def bench_surfaces(rows: list[dict], repeats: int) -> bool:
    from dlbasics.data import logistic_toy
    from dlbasics.surface import loss_surface

    x, y, _ = logistic_toy()
    w0, w1 = torch.arange(-10, 3, 0.15), torch.arange(-1, 10, 0.15)
    naive_losses = {
        "mse": lambda y, yhat: torch.mean((y - yhat) ** 2),
        "bce": lambda y, yhat: -torch.mean(y * torch.log(yhat) + (1 - y) * torch.log(1 - yhat)),
    }
    all_ok = True
    for name, loss_fn in naive_losses.items():
        fast = loss_surface(x, y, w0, w1, model="logistic", loss=name).loss
        slow = naive_surface(x, y, w0, w1, loss_fn).double()
        # the naive loop runs in float32 like the lecture; the helper in float64
        ok = bool(torch.allclose(fast, slow, rtol=1e-4, atol=1e-5))
        all_ok &= ok
        t_naive, t_fast = interleaved_medians(
            lambda f=loss_fn: naive_surface(x, y, w0, w1, f),
            lambda n=name: loss_surface(x, y, w0, w1, model="logistic", loss=n),
            repeats,
        )
        emit(
            rows,
            bench="surface_speedup",
            loss=name,
            value=round(t_naive / t_fast, 1),
            unit="x",
            naive_s=round(t_naive, 4),
            helper_s=round(t_fast, 4),
            grid=[len(w0), len(w1)],
            samples=len(x),
            results_equal=ok,
        )
    return all_ok


def bench_animation(rows: list[dict], repeats: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from dlbasics.anim import animate_training
    from dlbasics.closed_form import least_squares
    from dlbasics.data import regression_data
    from dlbasics.surface import loss_surface
    from dlbasics.train import gradient_descent

    X, y = regression_data()
    history = gradient_descent(torch.tensor([-5.0, 10.0]), X, y, lr=0.001, epochs=30)
    grid = torch.arange(-6, 11, 0.5)
    surface = loss_surface(X[:, 1], y, grid, grid)
    W = least_squares(X, y).tolist()

    def build():
        return animate_training(
            history,
            X[:, 1],
            y,
            surface,
            markers={"true": (2.5, 4.0), "least squares": W},
            frames=30,
        )

    seconds = median_seconds(build, repeats)
    emit(rows, bench="animation_seconds", value=round(seconds, 3), unit="s", frames=30)
    emit(
        rows,
        bench="animation_bytes",
        post="(bench: Week 1, 30 frames)",
        value=len(build().html),
        unit="bytes",
    )


def bench_posts(rows: list[dict]) -> None:
    from harness import execute_post, output_bytes, post_paths

    total = 0.0
    for qmd in post_paths():
        name = qmd.parent.name
        start = time.perf_counter()
        nb, _ = execute_post(qmd)
        seconds = time.perf_counter() - start
        total += seconds
        emit(rows, bench="post_seconds", post=name, value=round(seconds, 2), unit="s")
        emit(rows, bench="post_output_bytes", post=name, value=output_bytes(nb), unit="bytes")
        count = 0
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                html = out.get("data", {}).get("text/html", "")
                html = "".join(html) if isinstance(html, list) else html
                for part in html.split(ANIM_MARK)[1:]:
                    count += 1
                    emit(
                        rows,
                        bench="animation_bytes",
                        post=name,
                        index=count,
                        value=len((ANIM_MARK + part).encode()),
                        unit="bytes",
                    )
    emit(rows, bench="course_seconds", value=round(total, 2), unit="s", posts=len(post_paths()))


def table(rows: list[dict]) -> str:
    """The results as a Markdown table."""
    lines = ["| bench | detail | value | target |", "| --- | --- | --- | --- |"]
    targets = {
        "surface_speedup": ">= 100 x",
        "post_seconds": "<= 30 s",
        "course_seconds": "<= 90 s",
        "post_output_bytes": "<= 2 MB",
        "animation_bytes": "<= 300 KB",
        "animation_seconds": "",
    }
    for r in rows:
        detail = r.get("loss") or r.get("post") or ""
        if "index" in r:
            detail += f" #{r['index']}"
        value = r["value"]
        shown = f"{value / 1000:,.0f} KB" if r["unit"] == "bytes" else f"{value} {r['unit']}"
        lines.append(f"| {r['bench']} | {detail} | {shown} | {targets.get(r['bench'], '')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 repeat, no posts")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 5
    rows: list[dict] = []
    surfaces_ok = bench_surfaces(rows, repeats)
    bench_animation(rows, 1 if args.quick else 3)
    if not args.quick:
        bench_posts(rows)
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, torch {torch.__version__}; {date.today()}"
    )
    print(table(rows))
    if not surfaces_ok:
        print("ERROR: the helper's surface differs from the naive loop", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
