"""The builder: :func:`animate_training` checks its arguments, draws the scene once,
computes every frame and writes the player (see the package docstring for the rules)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from dlbasics.anim import validate
from dlbasics.anim.frames import (
    Frame,
    Run,
    fit_paths,
    frame_indices,
    path_pixels,
    predictions,
    status_lines,
    surface_path,
)
from dlbasics.anim.player import Animation, player_html
from dlbasics.anim.scene import FitPanel, Scene, SurfacePanel, draw_scene
from dlbasics.anim.style import FIT_COLOR, SECOND_COLOR, Style, fmt
from dlbasics.surface import Surface, loss_at
from dlbasics.train import History


@dataclass
class _Request:
    """The checked arguments of one animation."""

    runs: list[tuple[str, History]]
    xs: np.ndarray
    ys: np.ndarray
    truth: np.ndarray | None
    surface: Surface | None
    param_names: list[str] | None
    markers: dict[str, tuple[float, float]]
    frames: int
    title: str | None
    label: str | None
    step_name: str
    test: tuple | None  # (x_test, y_test, test_history or None)
    style: Style

    @property
    def compared(self) -> list[str] | None:
        return [name for name, _ in self.runs] if len(self.runs) > 1 else None


def animate_training(
    history: History | Mapping[str, History],
    x: torch.Tensor,
    y: torch.Tensor,
    surface: Surface | None = None,
    *,
    truth: torch.Tensor | None = None,
    param_names: Sequence[str] | None = None,
    markers: Mapping[str, tuple[float, float]] | None = None,
    frames: int = 30,
    title: str | None = None,
    label: str | None = None,
    step_name: str = "epoch",
    test: tuple | None = None,
    style: Style | None = None,
) -> Animation:
    """Replay a training run (or two) as a small, self-contained HTML animation.

    Args:
        history: the run, from :func:`dlbasics.train.fit` or ``gradient_descent``
            (``history.yhat[k]`` holds ``n`` predictions); or two runs of the same model
            on the same data, ``{"full batch": h1, "batch 32": h2}``, drawn side by side
            (the second in purple), each replayed from its first to its last record over
            the same frames; the names go into the legends and the status line.
        x: the feature, shape ``(n,)`` or ``(n, 1)`` (Week 1: ``X[:, 1]``).
        y: the targets, ``n`` values.
        surface: a loss surface over ``(w0, w1)``; adds the 3-D panel with the path.
            ``history.loss`` must be the surface's loss (same function and scale).
        truth: the true curve at ``x`` (``n`` values), drawn dashed.
        param_names: the recorded parameters that hold ``(w0, w1)``, e.g.
            ``["0.bias", "0.weight"]`` (default: all recorded). Which one is the
            intercept and which the slope is read from their names (see
            ``ParamPath.w0_w1``), never from their order.
        markers: ``{label: (w0, w1)}`` drawn as stars on the surface.
        frames: number of frames, from 2 to the number of records of each run; records
            are chosen evenly, first and last kept.
        title: text put before each frame's "epoch ..., loss = ..." line.
        label: what the animation shows (caption and accessible name).
        step_name: what ``History.epoch`` counts (``"epoch"``; ``"update"`` for a
            mini-batch run recorded after every update).
        test: held-out points ``(x_test, y_test)`` (``m`` values each), drawn as hollow
            squares; or ``(x_test, y_test, test_history)`` with the same run evaluated on
            them (e.g. :func:`dlbasics.train.replay`): the fitted curve then runs through
            both inputs and the status line shows both losses. Not with two runs.
        style: a :class:`~dlbasics.anim.Style` (fps, figsize, dpi, JPEG quality, 3-D view,
            max_bytes); default ``Style()``.

    Returns:
        An :class:`Animation`; display it (last expression of a cell) or ``.save(path)``.
    """
    runs = validate.check_runs(history)
    xs, ys = validate.check_pair(x, y, "x", "y")
    truth_np = None if truth is None else validate.as_column(truth, "truth")
    if truth_np is not None and truth_np.size != xs.size:
        raise ValueError(f"truth must have as many values as x ({xs.size}), got {truth_np.size}")
    style = validate.check_options(surface, style, title=title, label=label, step_name=step_name)
    request = _Request(
        runs, xs, ys, truth_np, surface, validate.check_param_names(runs[0][1], param_names),
        validate.check_markers(markers, surface), validate.check_frames(frames, runs),
        title, label, step_name, validate.check_test(test, runs), style,
    )  # fmt: skip
    validate.check_predictions(runs, xs.size)
    return _build(request)


def _build(req: _Request) -> Animation:
    """Draw the scene, compute the frames of every run and write the player."""
    idxs = [frame_indices(len(run), req.frames) for _, run in req.runs]
    losses = [np.asarray(run.loss, dtype=float) for _, run in req.runs]
    wpaths = [None] * len(req.runs)
    if req.surface is not None:
        wpaths = [
            surface_path(run, req.param_names, req.surface, req.xs, req.ys) for _, run in req.runs
        ]
    scene = draw_scene(_fit_panel(req), _surface_panel(req, wpaths, losses), req.style)
    runs = [
        _run(req, k, scene, idx, loss, wpath)
        for k, (idx, loss, wpath) in enumerate(zip(idxs, losses, wpaths, strict=True))
    ]
    if req.compared:
        a, b = req.compared
        runs[0].frames = [
            f._replace(status=f"{a}, {f.status} | {b}, {g.status}")
            for f, g in zip(runs[0].frames, runs[1].frames, strict=True)
        ]
    if req.title:
        runs[0].frames = [f._replace(status=f"{req.title} | {f.status}") for f in runs[0].frames]
    label = req.label if req.label is not None else _default_label(req, idxs[0])
    digest = hashlib.sha1(scene.jpeg)
    digest.update(json.dumps([[r.frames, r.path] for r in runs] + [label, req.style.fps]).encode())
    html = player_html(
        "dla" + digest.hexdigest()[:12], scene.jpeg, (scene.width, scene.height), runs, label,
        req.style.interval_ms,
    )  # fmt: skip
    size = len(html.encode("utf-8"))
    if size > req.style.max_bytes:
        raise ValueError(
            f"the animation's HTML would be {size:,} bytes, more than "
            f"max_bytes={req.style.max_bytes:,}; lower dpi or figsize, lower quality, use "
            "fewer frames, or raise max_bytes (all in Style)"
        )
    return Animation(html=html, n_frames=req.frames, label=label)


def _fit_panel(req: _Request) -> FitPanel:
    test_xy = None if req.test is None else req.test[:2]
    return FitPanel(req.xs, req.ys, req.truth, test_xy, req.compared)


def _surface_panel(req: _Request, wpaths, losses) -> SurfacePanel | None:
    """The surface with its stars; the loss axis reaches the lowest loss on the grid."""
    if req.surface is None:
        return None
    surface = req.surface
    x, y = torch.from_numpy(req.xs), torch.from_numpy(req.ys)
    stars = {
        k: (a, b, loss_at(x, y, a, b, surface.model, surface.loss_name))
        for k, (a, b) in req.markers.items()
    }
    g0, g1 = surface.w0.numpy(), surface.w1.numpy()
    lows = [p[2] for p in stars.values()]
    for wpath, loss in zip(wpaths, losses, strict=True):
        with np.errstate(invalid="ignore"):
            on_grid = (wpath[:, 0] >= g0.min()) & (wpath[:, 0] <= g0.max())
            on_grid &= (wpath[:, 1] >= g1.min()) & (wpath[:, 1] <= g1.max())
        lows += list(loss[on_grid & np.isfinite(loss)])
    return SurfacePanel(surface, stars, min(lows, default=math.inf), req.compared)


def _run(req: _Request, k: int, scene: Scene, idx, loss, wpath) -> Run:
    """Run ``k`` as the player draws it: its path in pixels and its frames."""
    name, run = req.runs[k]
    path, pos_of, clipped = path_pixels(wpath, loss, idx, scene)
    statuses = status_lines(run, idx, loss, clipped, req.step_name)
    test_run = None if req.test is None else req.test[2]
    curve_x = req.xs if test_run is None else np.concatenate([req.xs, req.test[0]])
    fits = fit_paths(predictions(run, idx, test_run), curve_x, scene)
    if test_run is not None:
        test_loss = np.asarray(test_run.loss, dtype=float)
        statuses = [
            s.replace(": loss = ", ": training loss = ", 1) + f" | test loss = {fmt(test_loss[r])}"
            for s, r in zip(statuses, idx.tolist(), strict=True)
        ]
    frames = [
        Frame(s, d, pos_of.get(r, 0)) for s, d, r in zip(statuses, fits, idx.tolist(), strict=True)
    ]
    return Run(FIT_COLOR if k == 0 else SECOND_COLOR, path, frames)


def _default_label(req: _Request, idx: np.ndarray) -> str:
    """What the animation shows, for its caption and accessible name."""
    history = req.runs[0][1]
    if req.compared:
        a, b = req.compared
        label = f"Two training runs, {a} and {b}, in {req.frames} frames: "
        label += "the data with both fitted curves"
    else:
        lr = f" with lr = {history.lr:g}" if history.lr is not None else ""
        ends = history.epoch[idx[0]], history.epoch[idx[-1]]
        label = f"Training{lr}, {req.step_name}s {ends[0]} to {ends[1]} in {req.frames} frames: "
        label += "the data with the fitted curve"
    if req.test is not None:
        label += " and the held-out test points"
    if req.surface is not None:
        what = "the paths" if req.compared else "the path"
        label += f", and {what} of (w0, w1) on the {req.surface.loss_name.upper()} loss surface"
    return label
