"""Frames: which records are shown, and what moves in each frame, in pixels.

Rules: a frame is a :class:`Frame` (status line, fitted-curve path, position on the
3-D path). Frames are records chosen evenly by :func:`frame_indices`, the first and
the last always kept. A non-finite loss is shown ("diverged"), never an error; a
point off the surface's box is drawn at its edge and the status line says so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from dlbasics._checks import check_int
from dlbasics.anim.geometry import (
    MAX_PATH_POINTS,
    clip3,
    clip_polyline,
    outside_box3,
    path_d,
    simplify,
)
from dlbasics.anim.scene import Scene
from dlbasics.anim.style import fmt
from dlbasics.surface import Surface, loss_at
from dlbasics.train import History


class Frame(NamedTuple):
    """One frame of one run (sent to the player as ``[status, fit_d, pos]``)."""

    status: str  # the status line, e.g. "epoch 5: loss = 12.3"
    fit_d: str  # SVG path data of the fitted curve, in pixels
    pos: int  # index of the current point in the run's 3-D path (0 without a surface)


@dataclass
class Run:
    """One run as the player draws it: colour, 3-D path in pixels, frames."""

    color: str
    path: list  # [x, y, off_chart] per kept record, or None where unusable; [] without surface
    frames: list[Frame]


def frame_indices(n_records: int, frames: int) -> np.ndarray:
    """``frames`` distinct record indices spread evenly over ``0..n_records-1`` (ends kept).

    ``frames >= 2`` (a first and a last frame) and ``frames <= n_records``.
    """
    n_records = check_int(n_records, "n_records", minimum=1)
    frames = check_int(frames, "frames", minimum=2)
    if frames > n_records:
        raise ValueError(
            f"frames must be <= the number of records, got frames={frames} for "
            f"{n_records} records; pass frames <= {n_records} or record more often "
            "(record_every)"
        )
    return np.floor(np.linspace(0, n_records - 1, frames) + 0.5).astype(int)


def surface_path(run: History, names, surface: Surface, xs, ys) -> np.ndarray:
    """``(w0, w1)`` of every record, shape ``(len(run), 2)``; warns if the run's first
    loss is not the surface's loss there (the path would float off the surface)."""
    wpath = run.param_path(names).w0_w1()
    first = run.loss[0]
    if math.isfinite(first):
        expect = loss_at(torch.from_numpy(xs), torch.from_numpy(ys), *wpath[0],
                         surface.model, surface.loss_name)  # fmt: skip
        if abs(expect - first) > 1e-3 * (abs(expect) + 1e-6):
            warnings.warn(
                f"history.loss[0] = {first:.6g} but the surface's {surface.loss_name} "
                f"at the first parameters is {expect:.6g}: the path will not lie on the "
                "surface (same loss function and data?)",
                stacklevel=4,
            )
    return wpath


def path_pixels(wpath, loss: np.ndarray, idx: np.ndarray, scene: Scene):
    """The 3-D path as pixels: a subsample of the records (frames always kept).

    Returns ``(path, pos_of, clipped)``: ``[x, y, off_chart]`` per kept record
    (``None`` where unusable), record index -> position in the path, and which records
    lie outside the surface's box. Without a surface: ``([], {}, all False)``.
    """
    R = len(loss)
    clipped = np.zeros(R, dtype=bool)
    if wpath is None:
        return [], {}, clipped
    keep = np.arange(R)
    if R > MAX_PATH_POINTS:
        keep = np.union1d(np.linspace(0, R - 1, MAX_PATH_POINTS).round().astype(int), idx)
    pts3 = np.column_stack([wpath[keep], loss[keep]])
    usable = np.isfinite(wpath[keep]).all(axis=1) & ~np.isnan(loss[keep])
    outside = outside_box3(pts3, scene.surface_box) & usable
    clipped[keep] = outside
    px = np.full((len(keep), 2), np.nan)
    if usable.any():
        px[usable] = scene.to_surface_px(clip3(pts3[usable], scene.surface_box))
    path = [
        [round(float(p[0]), 1), round(float(p[1]), 1), int(c)] if ok else None
        for p, ok, c in zip(px, usable, outside, strict=True)
    ]
    return path, {int(r): i for i, r in enumerate(keep)}, clipped


def status_lines(run: History, idx: np.ndarray, loss: np.ndarray, clipped, step_name: str):
    """The status line of each frame: step, loss, and whether the run diverges."""
    first_loss = loss[0]
    stop = run.epoch[-1] if run.diverged else None
    # "diverging" only in a run that ends above its starting loss (or at nan/inf): an
    # optimizer that climbs for a while and comes back down (Adam) is not diverging
    ends_above_start = not loss[-1] <= first_loss
    lines = []
    for r in idx.tolist():
        e, v = run.epoch[r], loss[r]
        text = f"{step_name} {e}: loss = {fmt(v)}"
        if not math.isfinite(v):
            text += f": diverged at {step_name} {stop if stop is not None else e}"
        elif ends_above_start and r > 0 and v > first_loss:
            text += ", above the starting loss: diverging"
        if clipped[r]:
            text += " (off the chart, shown at its edge)"
        lines.append(text)
    return lines


def fit_paths(yhats: list[np.ndarray], xs: np.ndarray, scene: Scene) -> list[str]:
    """SVG path data of each fitted curve ``yhat`` at ``xs``, clipped to the fit panel."""
    order = np.argsort(xs, kind="stable")
    out = []
    for yhat in yhats:
        pts = scene.to_fit_px(np.column_stack([xs[order], yhat[order]]))
        out.append(path_d([simplify(p) for p in clip_polyline(pts, scene.fit_box)]))
    return out


def predictions(run: History, idx: np.ndarray, test_run: History | None = None):
    """Each frame's predictions as float64 arrays (the test predictions appended)."""

    def flat(t: torch.Tensor) -> np.ndarray:
        return t.detach().reshape(-1).double().cpu().numpy()

    if test_run is None:
        return [flat(run.yhat[r]) for r in idx.tolist()]
    return [np.concatenate([flat(run.yhat[r]), flat(test_run.yhat[r])]) for r in idx.tolist()]
