"""Benchmarks: the course's helpers against the naive way, and the cost of every post.

Run from the repository root after `make test` (or any set-up of .venv)::

    .venv/bin/python bench/run.py            # everything (about 7 minutes: posts + a site render)
    .venv/bin/python bench/run.py --quick    # smoke run: one repeat, no posts

Prints one JSON object per line (``bench``, ``value``, ``unit`` and details), then a
Markdown table (the one in README.md, "Performance"). Measures, in one process:

- ``surface_seconds``: the loss surfaces the posts compute (:data:`SURFACE_CASES`: Week
  1's SSE grid, Week 4's MSE and BCE grids), three ways, all in float64: a per-point
  loop (one grid point at a time, vectorised over the samples, as the lecture does),
  a plain vectorised version (the whole grid x samples array at once) and the helper
  ``dlbasics.surface.loss_surface``. The three results are checked equal (rtol 1e-9)
  first. Per way: ``cold_s``, the first call in this process (in the order a post
  makes them), and ``value``, the median of ``repeats`` further calls.
- ``surface_share`` (full run only): the helper's cold times for the surfaces a post
  computes, as a percentage of that post's ``post_seconds``.
- ``animation_seconds``: building one 30-frame fit-plus-surface animation (Week 1).
- ``site_render_seconds`` (full run only): one whole ``quarto render`` of the site into
  ``build/bench-site`` (what ``make test`` and publishing do), with the number of post
  executions it ran (one per post). Needs ``quarto`` on PATH (``make bench`` sees to it).
  From that render: ``post_seconds`` per post (the time from the render's progress line
  for the post to the next one: kernel start, execution, page), ``page_bytes`` (the page
  and its figures as published), ``animation_bytes`` per animation player in the executed
  notebook, and ``course_seconds`` (the posts' sum).

Targets (never asserted in timed tests): the surfaces <= 5 % of their post's time, each
post <= 30 s (45 s for Weeks 0, 13 and 14), each page <= 1.5 MB, each animation <= 300 KB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
ANIM_MARK = "dlbasics-anim"
# Quarto's progress line for each page of a multi-page render: "[ 3/17] posts/x/index.qmd"
PAGE_LINE = re.compile(r"^\[\s*\d+/\d+\]\s+(\S+\.qmd)")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def emit(rows: list[dict], **row) -> dict:
    """Print one result as a JSON line and keep it for the table."""
    print(json.dumps(row), flush=True)
    rows.append(row)
    return row


def median_seconds(fn, repeats: int, warm_up: bool = True) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs (after one warm-up call if asked)."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# The surfaces the posts compute, in the order they compute them (mirrors the posts' cells):
# (post, model, loss, data, w0 grid, w1 grid).
SURFACE_CASES = [
    ("01-regression-gradient-descent", "linear", "sse", "week1", (-6, 11, 0.5), (-6, 11, 0.5)),
    ("04-mse-vs-bce", "logistic", "mse", "week4", (-10, 3, 0.15), (-1, 10, 0.15)),
    ("04-mse-vs-bce", "logistic", "bce", "week4", (-10, 3, 0.15), (-1, 10, 0.15)),
]


def _sample_loss(z, y, model: str, loss: str):
    """Per-sample loss of ``z = w0 + w1 x`` against ``y`` (float64, broadcasting)."""
    if model == "linear":
        return (y - z) ** 2
    if loss == "bce":  # log(1 + e^z) - y z, the textbook form
        return torch.logaddexp(z, torch.zeros(())) - y * z
    return (y - torch.sigmoid(z)) ** 2


def loop_surface(x, y, w0, w1, model: str, loss: str):
    """One grid point at a time, the samples vectorised (the lecture's way)."""
    out = torch.empty(len(w0), len(w1), dtype=torch.float64)
    for i, a in enumerate(w0.tolist()):
        for j, b in enumerate(w1.tolist()):
            out[i, j] = _sample_loss(a + b * x, y, model, loss).sum()
    return out if loss == "sse" else out / len(x)


def vectorised_surface(x, y, w0, w1, model: str, loss: str):
    """The whole (w0, w1, sample) array at once."""
    z = w0[:, None, None] + w1[None, :, None] * x
    out = _sample_loss(z, y, model, loss).sum(dim=2)
    return out if loss == "sse" else out / len(x)


def bench_surfaces(rows: list[dict], repeats: int) -> bool:
    from dlbasics.data import logistic_toy, regression_data
    from dlbasics.surface import loss_surface

    X, y1 = regression_data()
    x4, y4, _ = logistic_toy()
    data = {"week1": (X[:, 1], y1), "week4": (x4.reshape(-1), y4.reshape(-1))}

    def helper(x, y, w0, w1, model, loss):
        return loss_surface(x, y, w0, w1, model=model, loss=loss).loss

    ways = {"helper": helper, "vectorised": vectorised_surface, "per-point loop": loop_surface}
    all_ok = True
    for post, model, loss, name, g0, g1 in SURFACE_CASES:
        x, y = (t.double() for t in data[name])
        w0, w1 = torch.arange(*g0).double(), torch.arange(*g1).double()
        results, cold = {}, {}
        for way, fn in ways.items():
            start = time.perf_counter()
            results[way] = fn(x, y, w0, w1, model, loss)
            cold[way] = time.perf_counter() - start
        ok = all(
            torch.allclose(r, results["per-point loop"], rtol=1e-9, atol=0)
            for r in results.values()
        )
        all_ok &= ok
        args = (x, y, w0, w1, model, loss)
        for way, fn in ways.items():
            warm = cold[way]  # a smoke run (repeats 0) reports the first call
            if repeats:
                warm = median_seconds(lambda f=fn, a=args: f(*a), repeats, warm_up=False)
            emit(
                rows,
                bench="surface_seconds",
                post=post,
                loss=loss,
                way=way,
                value=round(warm, 4),
                unit="s",
                cold_s=round(cold[way], 4),
                runs=repeats,
                grid=[len(w0), len(w1)],
                samples=len(x),
                results_equal=ok,
            )
    return all_ok


def surface_share(rows: list[dict]) -> None:
    """The helper's cold surface time per post as a percentage of the post's run time."""
    post_seconds = {r["post"]: r["value"] for r in rows if r["bench"] == "post_seconds"}
    spent: dict[str, float] = {}
    for r in rows:
        if r["bench"] == "surface_seconds" and r["way"] == "helper":
            spent[r["post"]] = spent.get(r["post"], 0.0) + r["cold_s"]
    for post, seconds in spent.items():
        if post in post_seconds:
            share = 100 * seconds / post_seconds[post]
            emit(rows, bench="surface_share", post=post, value=round(share, 2), unit="%")


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


def bench_render(rows: list[dict]) -> bool:
    """One whole-site ``quarto render``, timed page by page; False if it cannot run or fails."""
    quarto = shutil.which("quarto")
    if quarto is None:
        print("ERROR: quarto is not on PATH (run `make bench`)", file=sys.stderr)
        return False
    env = {**os.environ, "QUARTO_PYTHON": sys.executable}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    out = REPO / "build" / "bench-site"
    shutil.rmtree(out, ignore_errors=True)
    marks: list[tuple[str, float]] = []  # (page, when its progress line appeared)
    log = []
    start = time.perf_counter()
    with subprocess.Popen(
        [quarto, "render", "--output-dir", str(out)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        for line in proc.stdout:
            log.append(ANSI.sub("", line))
            if match := PAGE_LINE.match(log[-1]):
                marks.append((match[1], time.perf_counter()))
    seconds = time.perf_counter() - start
    marks.append(("", start + seconds))  # the last page ends with the render
    if proc.returncode != 0:
        print("ERROR: quarto render failed:\n" + "".join(log[-40:]), file=sys.stderr)
        return False
    posts = sorted(p.parent.name for p in (REPO / "posts").glob("[0-9][0-9]-*/index.qmd"))
    executions = len(re.findall(r"Executing '[^']*\.quarto_ipynb", "".join(log)))
    emit(rows, bench="site_render_seconds", value=round(seconds, 1), unit="s",
         posts=len(posts), executions=executions)  # fmt: skip
    total = 0.0
    for (page, began), (_, ended) in zip(marks, marks[1:], strict=False):
        name = Path(page).parent.name
        if name not in posts:
            continue
        total += ended - began
        emit(rows, bench="post_seconds", post=name, value=round(ended - began, 2), unit="s")
        folder = out / "posts" / name
        page_bytes = sum(
            p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.suffix != ".ipynb"
        )
        emit(rows, bench="page_bytes", post=name, value=page_bytes, unit="bytes")
        nb = json.loads((folder / "index.ipynb").read_text(encoding="utf-8"))
        players = [
            value
            for cell in nb["cells"]
            for output in cell.get("outputs", [])
            for value in output.get("data", {}).values()
            if ANIM_MARK in str(value)
        ]
        for index, player in enumerate(players, 1):
            size = len("".join(player).encode() if isinstance(player, list) else player.encode())
            emit(rows, bench="animation_bytes", post=name, index=index, value=size, unit="bytes")
    emit(rows, bench="course_seconds", value=round(total, 2), unit="s", posts=len(posts))
    timed = {Path(page).parent.name for page, _ in marks}
    if not set(posts) <= timed:
        print(f"ERROR: no progress line for {sorted(set(posts) - timed)}", file=sys.stderr)
        return False
    return True


def table(rows: list[dict]) -> str:
    """The results as a Markdown table."""
    lines = ["| bench | detail | value | target |", "| --- | --- | --- | --- |"]
    targets = {
        "surface_seconds": "",
        "surface_share": "<= 5 %",
        "post_seconds": "<= 30 s (new posts 45 s)",
        "course_seconds": "",
        "page_bytes": "<= 1.5 MB",
        "animation_bytes": "<= 300 KB",
        "animation_seconds": "",
        "site_render_seconds": "one execution per post",
    }
    for r in rows:
        detail = r.get("loss") or r.get("post") or ""
        if "way" in r:
            detail = f"{r['post']}, {r['loss']}, {r['way']} (cold {r['cold_s']} s)"
        if "index" in r:
            detail += f" #{r['index']}"
        value = r["value"]
        shown = f"{value / 1000:,.0f} KB" if r["unit"] == "bytes" else f"{value} {r['unit']}"
        lines.append(f"| {r['bench']} | {detail} | {shown} | {targets.get(r['bench'], '')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: first calls, no render")
    args = parser.parse_args(argv)
    repeats = 0 if args.quick else 5
    rows: list[dict] = []
    surfaces_ok = bench_surfaces(rows, repeats)
    bench_animation(rows, 1 if args.quick else 3)
    render_ok = True
    if not args.quick:
        render_ok = bench_render(rows)
        surface_share(rows)
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, torch {torch.__version__}; {date.today()}"
    )
    print(table(rows))
    if not surfaces_ok:
        print("ERROR: the three surface computations disagree", file=sys.stderr)
        return 1
    return 0 if render_ok else 1


if __name__ == "__main__":
    sys.exit(main())
