"""Drawing the scene: everything that does not move, drawn once by the plot helpers.

Rules: the static picture (data, true curve, held-out points, loss surface, marked
points, axes and legends) is drawn with :func:`dlbasics.plots.plot_fit` and
:func:`dlbasics.plots.plot_surface` on a figure that is never registered with pyplot
(nothing is left open), then sent as one JPEG. :class:`Scene` also keeps the two
projections, data -> pixels, that place the moving overlay exactly on that picture.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from mpl_toolkits.mplot3d import proj3d
from PIL import Image

from dlbasics.anim.geometry import FIT_LEFT, FIT_ONLY, SURFACE_RIGHT, Box, clip3
from dlbasics.anim.style import (
    FIT_COLOR,
    PATH_COLOR,
    POINT_COLOR,
    SECOND_COLOR,
    TEST_COLOR,
    Style,
    tick,
)
from dlbasics.plots import plot_fit, plot_surface
from dlbasics.surface import Surface


@dataclass(frozen=True)
class FitPanel:
    """What the left panel shows: data ``(xs, ys)``, the true curve, held-out points."""

    xs: np.ndarray
    ys: np.ndarray
    truth: np.ndarray | None = None
    test_xy: tuple[np.ndarray, np.ndarray] | None = None
    run_names: Sequence[str] | None = None  # two names when two runs are compared


@dataclass(frozen=True)
class SurfacePanel:
    """What the 3-D panel shows: the surface and stars at ``{label: (w0, w1, loss)}``.

    ``z_low`` lowers the loss axis below the grid's minimum (a path's best losses lie
    between grid points).
    """

    surface: Surface
    markers: dict[str, tuple[float, float, float]]
    z_low: float = math.inf
    run_names: Sequence[str] | None = None


@dataclass
class Scene:
    """The static picture and what the overlay needs to know about it."""

    jpeg: bytes
    width: int
    height: int
    fit_box: Box
    to_fit_px: Callable[[np.ndarray], np.ndarray]  # (k, 2) data -> (k, 2) pixels, y down
    to_surface_px: Callable[[np.ndarray], np.ndarray] | None  # (k, 3) -> (k, 2) pixels
    surface_box: tuple[tuple[float, float], ...] | None


def _limits(values: list[np.ndarray], share: float) -> tuple[float, float]:
    """``(low, high)`` of all ``values`` padded by ``share`` of the range (1 if flat)."""
    low = min(float(v.min()) for v in values)
    high = max(float(v.max()) for v in values)
    pad = share * (high - low) if high > low else 1.0
    return low - pad, high + pad


def draw_fit_panel(ax, panel: FitPanel) -> None:
    """Data, held-out points and true curve; legend entries for the fitted curve(s)."""
    xs, ys = panel.xs, panel.ys
    data_label = "data" if panel.test_xy is None else "training"
    alpha = 0.8 if xs.size <= 200 else 0.15
    plot_fit(xs, ys, truth=panel.truth, ax=ax, data_label=data_label, alpha=alpha)
    xvals, yvals = [xs], [ys] + ([] if panel.truth is None else [panel.truth])
    if panel.test_xy is not None:
        xt, yt = panel.test_xy
        ax.plot(xt, yt, "s", ms=3.5, mfc="none", mew=1, color=TEST_COLOR, label="test")
        xvals.append(xt)
        yvals.append(yt)
    ax.set_xlim(*_limits(xvals, 0.03))
    ax.set_ylim(*_limits(yvals, 0.08))
    names = panel.run_names
    fit_labels = ["fit"] if names is None else [f"fit, {n}" for n in names]
    for color, text in zip((FIT_COLOR, SECOND_COLOR), fit_labels, strict=False):
        ax.plot([], [], "-", color=color, lw=2, label=text)
    ax.legend(loc="best", fontsize="small")


def draw_surface_panel(ax3, panel: SurfacePanel, style: Style) -> tuple:
    """The surface, its stars and legend; returns the box ``(xlim, ylim, zlim)``."""
    surface = panel.surface
    W0, W1 = (m.numpy() for m in surface.mesh())
    L = surface.loss.numpy()
    lims = (
        (float(W0.min()), float(W0.max())),
        (float(W1.min()), float(W1.max())),
        (min(float(np.nanmin(L)), panel.z_low), float(np.nanmax(L))),
    )
    for set_lim, (lo, hi) in zip((ax3.set_xlim, ax3.set_ylim, ax3.set_zlim), lims, strict=True):
        set_lim(lo, hi) if hi > lo else set_lim(lo - 0.5, hi + 0.5)
    box3 = (ax3.get_xlim(), ax3.get_ylim(), ax3.get_zlim())
    stars = {k: tuple(clip3(np.array([p]), box3)[0]) for k, p in panel.markers.items()}
    plot_surface(surface, markers=stars, ax=ax3, elev=style.elev, azim=style.azim)
    for set_lim, (lo, hi) in zip((ax3.set_xlim, ax3.set_ylim, ax3.set_zlim), box3, strict=True):
        set_lim(lo, hi)  # plotting may have widened the limits; the overlay needs these
    names = panel.run_names
    path_labels = ["path"] if names is None else [f"path, {n}" for n in names]
    for color, text in zip((PATH_COLOR, SECOND_COLOR), path_labels, strict=False):
        ax3.plot([], [], "o-", color=color, ms=3, lw=1, label=text)
    ax3.plot([], [], "o", color=POINT_COLOR, ms=6, mec="white", label="now")
    ax3.set_xlabel("w₀", labelpad=-2)
    ax3.set_ylabel("w₁", labelpad=-2)
    ax3.set_zlabel(surface.loss_name.upper(), labelpad=-2)
    for axis in (ax3.xaxis, ax3.yaxis, ax3.zaxis):
        axis.set_major_locator(MaxNLocator(nbins=4))
        axis.set_major_formatter(FuncFormatter(tick))
    ax3.tick_params(labelsize="small", pad=0)
    ax3.legend(loc="upper left", fontsize="small", bbox_to_anchor=(0.0, 1.0))
    return box3


def draw_scene(fit: FitPanel, surface: SurfacePanel | None, style: Style) -> Scene:
    """Draw both panels once; return the JPEG and the data -> pixel projections."""
    fig = Figure(figsize=style.size(surface is not None), dpi=style.dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes(FIT_ONLY if surface is None else FIT_LEFT)
    draw_fit_panel(ax, fit)
    ax3 = box3 = None
    if surface is not None:
        ax3 = fig.add_axes(SURFACE_RIGHT, projection="3d", computed_zorder=False)
        box3 = draw_surface_panel(ax3, surface, style)
    canvas.draw()
    width, height = (int(v) for v in canvas.get_width_height())
    rgba = np.asarray(canvas.buffer_rgba())
    buf = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(
        buf, format="JPEG", quality=style.quality, optimize=True, subsampling=0
    )

    def flip(disp: np.ndarray) -> np.ndarray:
        return np.column_stack([disp[:, 0], height - disp[:, 1]])

    bb, trans = ax.bbox, ax.transData

    def to_fit_px(pts: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return flip(trans.transform(pts))

    to_surface_px = None
    if ax3 is not None:
        M, trans3 = ax3.get_proj(), ax3.transData

        def to_surface_px(pts: np.ndarray) -> np.ndarray:
            u, v, _ = proj3d.proj_transform(pts[:, 0], pts[:, 1], pts[:, 2], M)
            return flip(trans3.transform(np.column_stack([u, v])))

    fit_box = (bb.x0, height - bb.y1, bb.x1, height - bb.y0)
    return Scene(buf.getvalue(), width, height, fit_box, to_fit_px, to_surface_px, box3)
