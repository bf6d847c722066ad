"""Static figures: data with fitted curves, 3-D loss surfaces with paths, loss curves.

Every function takes an optional ``ax`` (drawing into an existing figure) and
returns the :class:`matplotlib.figure.Figure` it drew on. Inputs are plain
tensors/arrays or objects from :mod:`dlbasics.train` and :mod:`dlbasics.surface`;
nothing is read from notebook globals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from dlbasics._checks import check_int, check_real
from dlbasics.surface import Surface
from dlbasics.train import History, ParamPath

__all__ = [
    "plot_fit",
    "plot_surface",
    "plot_history",
    "plot_images",
    "plot_heatmap_overlay",
    "plot_confusion",
    "to_numpy",
]

ArrayLike = torch.Tensor | np.ndarray | Sequence[float]

STAR_COLORS = ("#ffd700", "#ff7f0e", "#9467bd", "#17becf", "#8c564b")
"""Colours of marked points on a surface, in order (gold first; never a path's colours)."""


def to_numpy(values: ArrayLike, name: str) -> np.ndarray:
    """Flatten a tensor/array/list of numbers to a 1-D float array (``TypeError`` otherwise)."""
    if isinstance(values, torch.Tensor):
        return values.detach().reshape(-1).double().cpu().numpy()
    if isinstance(values, (np.ndarray, list, tuple)):
        try:
            return np.asarray(values, dtype=float).reshape(-1)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must hold numbers: {err}") from None
    raise TypeError(
        f"{name} must be a tensor, array or list of numbers, got {type(values).__name__}"
    )


def _axes(ax, projection: str | None = None, figsize=(5.0, 3.5)):
    if ax is None:
        fig = plt.figure(figsize=figsize)
        ax = fig.add_subplot(1, 1, 1, projection=projection)
        return fig, ax
    if projection == "3d" and getattr(ax, "name", "") != "3d":
        raise ValueError("ax must be a 3-D axes (projection='3d') for a surface plot")
    return ax.figure, ax


def _finish(ax, xlabel: str, ylabel: str, title: str | None) -> Figure:
    """Label the axes, add the title and a small legend; return the figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax.figure


def plot_fit(
    x: ArrayLike,
    y: ArrayLike,
    yhat: ArrayLike | Mapping[str, ArrayLike] | None = None,
    truth: ArrayLike | None = None,
    ax=None,
    *,
    truth_label: str = "truth",
    data_label: str = "data",
    alpha: float | None = None,
    title: str | None = None,
) -> Figure:
    """Data as points, an optional true curve (dashed) and fitted curve(s).

    Args:
        x: inputs, ``n`` numbers (shape ``(n,)`` or ``(n, 1)``), in any order (curves
            are drawn in increasing ``x``).
        y: observed outputs, ``n`` numbers.
        yhat: one fitted curve (``n`` numbers) or ``{label: curve}`` for several.
        truth: the true curve (``n`` numbers), drawn dashed.
        ax: axes to draw on (a new figure if ``None``).
        alpha: point transparency (default: lighter for large ``n``).
        title: axes title.
    """
    xs, ys = to_numpy(x, "x"), to_numpy(y, "y")
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same length, got {xs.size} and {ys.size}")
    if xs.size == 0:
        raise ValueError("x must not be empty")
    curves: dict[str, np.ndarray] = {}
    if isinstance(yhat, Mapping):
        curves = {str(k): to_numpy(v, f"yhat[{k!r}]") for k, v in yhat.items()}
    elif yhat is not None:
        curves = {"fit": to_numpy(yhat, "yhat")}
    for label, c in curves.items():
        if c.shape != xs.shape:
            raise ValueError(f"yhat {label!r} has {c.size} values but x has {xs.size}")
    t = None if truth is None else to_numpy(truth, "truth")
    if t is not None and t.shape != xs.shape:
        raise ValueError(f"truth has {t.size} values but x has {xs.size}")
    fig, ax = _axes(ax)
    if alpha is None:
        alpha = 0.8 if xs.size <= 200 else 0.1
    ax.plot(xs, ys, "o", ms=3, alpha=alpha, label=data_label, color="C0")
    order = np.argsort(xs, kind="stable")  # a curve through unsorted x would zigzag
    if t is not None:
        ax.plot(xs[order], t[order], "--", color="C1", lw=2, label=truth_label)
    for i, (label, c) in enumerate(curves.items()):
        ax.plot(xs[order], c[order], "-", color=f"C{i + 2}", lw=2, label=label)
    return _finish(ax, "x", "y", title)


def plot_surface(
    surface: Surface,
    path: ParamPath | None = None,
    path_loss: ArrayLike | None = None,
    markers: Mapping[str, tuple[float, float]] | None = None,
    ax=None,
    *,
    elev: float = 20.0,
    azim: float = 40.0,
    title: str | None = None,
) -> Figure:
    """The loss surface in 3-D, with an optional parameter path and marked points.

    Args:
        surface: from :func:`dlbasics.surface.loss_surface`.
        path: parameter path from ``history.param_path()``; its column names say
            which parameter is the intercept ``w0`` and which the slope ``w1``
            (:meth:`~dlbasics.train.ParamPath.w0_w1`).
        path_loss: loss at each path point (``k`` numbers; e.g. ``history.loss``).
            Points with non-finite loss are left out.
        markers: ``{label: (w0, w1)}`` or ``{label: (w0, w1, loss)}`` drawn as stars;
            without a loss the star sits on the (interpolated) surface.
        ax: a 3-D axes (a new figure if ``None``).
        elev, azim: viewing angles in degrees.
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a dlbasics.surface.Surface, got {type(surface).__name__}")
    if path is not None:
        if not isinstance(path, ParamPath):
            raise TypeError(
                "path must be a dlbasics.train.ParamPath such as history.param_path() (its "
                f"column names tell w0 from w1), got {type(path).__name__}"
            )
        p = path.w0_w1()
        if path_loss is None:
            raise ValueError("path_loss is needed with path (e.g. history.loss)")
        z = to_numpy(path_loss, "path_loss")
        if z.shape[0] != p.shape[0]:
            raise ValueError(f"path has {p.shape[0]} points but path_loss has {z.shape[0]} values")
    for label, point in (markers or {}).items():
        if len(point) not in (2, 3):
            raise ValueError(
                f"markers[{label!r}] must be (w0, w1) or (w0, w1, loss), got {point!r}"
            )
    fig, ax = _axes(ax, projection="3d", figsize=(5.0, 4.0))
    W0, W1 = (m.numpy() for m in surface.mesh())
    L = surface.loss.numpy()
    ax.plot_surface(W0, W1, L, cmap="viridis", alpha=0.55, linewidth=0, antialiased=True)
    if path is not None:
        ok = np.isfinite(z)
        ax.plot(p[ok, 0], p[ok, 1], z[ok], "o-", color="black", ms=3, lw=1, label="path")
    for i, (label, point) in enumerate((markers or {}).items()):
        a, b = float(point[0]), float(point[1])
        height = float(point[2]) if len(point) == 3 else surface.interpolate(a, b)
        ax.scatter(
            [a], [b], [height], marker="*", s=180, color=STAR_COLORS[i % len(STAR_COLORS)],
            edgecolors="black", linewidths=0.6, label=label, zorder=5, depthshade=False,
        )  # fmt: skip
    ax.set_xlabel("$w_0$")
    ax.set_ylabel("$w_1$")
    ax.set_zlabel(surface.loss_name.upper())
    ax.view_init(elev=elev, azim=azim)
    if title:
        ax.set_title(title)
    if path is not None or markers:
        ax.legend(loc="upper left", fontsize="small")
    return fig


def plot_history(
    history: History, ax=None, *, log: bool = False, title: str | None = None
) -> Figure:
    """Loss against epoch; a diverged run is marked where it stopped.

    Args:
        history: from :func:`dlbasics.train.fit` or :func:`~dlbasics.train.gradient_descent`.
        log: logarithmic loss axis (useful when the loss spans decades).
    """
    if not isinstance(history, History):
        raise TypeError(f"history must be a dlbasics.train.History, got {type(history).__name__}")
    if len(history) == 0:
        raise ValueError("history is empty: nothing was recorded")
    fig, ax = _axes(ax)
    epochs = np.asarray(history.epoch)
    loss = np.asarray(history.loss, dtype=float)
    ok = np.isfinite(loss)
    label = "loss" if history.lr is None else f"loss (lr = {history.lr:g})"
    if log and bool((loss[ok] <= 0).any()):
        first = int(np.flatnonzero(ok & (loss <= 0))[0])
        raise ValueError(
            f"log=True needs losses > 0, got {loss[first]:g} at epoch {epochs[first]}; "
            "plot with log=False"
        )
    ax.plot(epochs[ok], loss[ok], "-o", ms=2, label=label)
    if history.diverged:
        ax.axvline(epochs[-1], color="red", ls=":", label=f"diverged at epoch {epochs[-1]}")
    if log:
        ax.set_yscale("log")
    return _finish(ax, "epoch", "loss", title)


# ---------------------------------------------------------------- images and heat maps


def _image_2d(image: object, name: str) -> np.ndarray:
    """A grey image as a 2-D float array: shape ``(h, w)`` or ``(1, h, w)``."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().double().numpy()
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a tensor or array, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[0] == 1:
        image = image[0]
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"{name} must have shape (h, w) or (1, h, w), got {image.shape}")
    return np.asarray(image, dtype=float)


def _axes_grid(ax, count: int, ncols: int, size: float):
    """``count`` axes: the flattened ``ax`` (a sequence or array of axes), or a new grid."""
    if ax is None:
        nrows = -(-count // ncols)
        fig, grid = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
        axes = list(grid.flat)
        for extra in axes[count:]:
            extra.axis("off")
        return fig, axes[:count]
    axes = list(np.asarray(ax, dtype=object).flat)
    if len(axes) < count:
        raise ValueError(f"ax must hold at least {count} axes (one per image), got {len(axes)}")
    return axes[0].figure, axes[:count]


def _colour_limits(img: np.ndarray, symmetric: bool) -> dict[str, float]:
    """``vmin``/``vmax`` from the finite pixels (``{}``: matplotlib's own, all finite)."""
    finite = img[np.isfinite(img)]
    if symmetric:
        m = float(np.abs(finite).max()) if finite.size else 0.0
        return {"vmin": -(m or 1.0), "vmax": m or 1.0}
    if finite.size == img.size:
        return {}
    if finite.size == 0:
        return {"vmin": 0.0, "vmax": 1.0}
    return {"vmin": float(finite.min()), "vmax": float(finite.max())}


def plot_images(
    images: torch.Tensor | np.ndarray | Sequence,
    titles: Sequence[str] | None = None,
    ax=None,
    *,
    ncols: int | None = None,
    cmap: str = "gray",
    symmetric: bool = False,
    size: float = 1.3,
) -> Figure:
    """Grey images in a grid, one per axes, without ticks.

    Args:
        images: shape ``(n, h, w)`` or ``(n, 1, h, w)``, or a list of ``(h, w)`` images
            (sizes may differ).
        titles: one title per image (optional).
        ax: axes to draw on, any array or sequence holding at least ``n`` axes (a new
            figure with ``ncols`` columns if ``None``).
        ncols: columns of a new figure (default: all images in one row).
        cmap: matplotlib colour map; ``"gray"`` draws small values black.
        symmetric: colour scale from ``-m`` to ``m`` per image, ``m`` its largest
            ``|value|`` (for signed images, e.g. edge maps, with a map like ``"RdBu_r"``).
        size: inches per image in a new figure.

    Non-finite pixels (nan, inf) are left blank and do not set the colour scale.
    """
    if isinstance(images, (torch.Tensor, np.ndarray)):
        if images.ndim not in (3, 4):
            raise ValueError(
                f"images must have shape (n, h, w) or (n, 1, h, w), got {tuple(images.shape)}"
            )
        images = list(images)
    if not isinstance(images, (list, tuple)) or not images:
        raise TypeError(
            f"images must be a non-empty tensor, array or list of images, got {images!r}"
        )
    arrays = [_image_2d(img, f"images[{i}]") for i, img in enumerate(images)]
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"titles must have one entry per image ({len(arrays)}), got {len(titles)}")
    if not isinstance(symmetric, bool):
        raise TypeError(f"symmetric must be a bool, got {type(symmetric).__name__}")
    ncols = len(arrays) if ncols is None else check_int(ncols, "ncols", minimum=1)
    fig, axes = _axes_grid(
        ax, len(arrays), min(ncols, len(arrays)), check_real(size, "size", positive=True)
    )
    for i, (a, img) in enumerate(zip(axes, arrays, strict=True)):
        a.imshow(img, cmap=cmap, **_colour_limits(img, symmetric))
        a.set_xticks([])
        a.set_yticks([])
        if titles is not None:
            a.set_title(titles[i], fontsize="small")
    return fig


def plot_heatmap_overlay(
    image: torch.Tensor | np.ndarray,
    heat: torch.Tensor | np.ndarray,
    ax=None,
    *,
    title: str | None = None,
    alpha: float = 0.5,
    cmap: str = "magma",
) -> Figure:
    """A grey image with a heat map drawn over it, stretched to the image's size.

    Args:
        image: shape ``(h, w)`` or ``(1, h, w)``.
        heat: shape ``(a, b)`` or ``(1, a, b)``, any resolution (e.g. a class activation
            map at feature resolution): it is drawn over the whole image with bilinear
            smoothing, large values bright.
        ax: axes to draw on (a new figure if ``None``).
        alpha: opacity of the heat map, in ``[0, 1]``.
        cmap: colour map of the heat map.
    """
    img = _image_2d(image, "image")
    h = _image_2d(heat, "heat")
    if not np.isfinite(h).any():
        raise ValueError(f"heat must contain finite numbers, got only nan/inf in shape {h.shape}")
    alpha = check_real(alpha, "alpha")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.0, 2.0))
    rows, cols = img.shape
    extent = (-0.5, cols - 0.5, rows - 0.5, -0.5)  # pixel edges, as imshow draws the image
    ax.imshow(img, cmap="gray", extent=extent)
    ax.imshow(h, cmap=cmap, alpha=alpha, extent=extent, interpolation="bilinear")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="small")
    return ax.figure


def plot_confusion(
    C: torch.Tensor | np.ndarray,
    ax=None,
    *,
    labels: Sequence[str] | None = None,
    errors_only: bool = False,
    title: str | None = None,
) -> Figure:
    """A confusion matrix as a grid of counts, coloured by each true class's share.

    Args:
        C: counts, shape ``(k, k)``: ``C[i, j]`` rows of true class ``i`` predicted as
            ``j`` (e.g. from :func:`dlbasics.metrics.confusion_matrix`); whole numbers >= 0.
        ax: axes to draw on (a new figure if ``None``).
        labels: ``k`` class names for the ticks (default ``0 .. k-1``).
        errors_only: leave the diagonal uncoloured, so the colour scale shows the mistakes.
        title: axes title.

    Every cell is labelled with its count; the colour is ``C[i, j] / C[i].sum()``.
    """
    if isinstance(C, torch.Tensor):
        counts = C.detach().cpu().double().numpy()
    elif isinstance(C, np.ndarray):
        counts = C.astype(float)
    else:
        raise TypeError(f"C must be a tensor or array of counts, got {type(C).__name__}")
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] < 2:
        raise ValueError(f"C must be a square (k, k) matrix with k >= 2, got shape {counts.shape}")
    if not np.isfinite(counts).all() or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError("C must hold whole counts >= 0")
    k = counts.shape[0]
    names = [str(i) for i in range(k)] if labels is None else labels
    if isinstance(names, str) or not isinstance(names, Sequence) or len(names) != k:
        raise ValueError(f"labels must be {k} class names, got {labels!r}")
    if not isinstance(errors_only, bool):
        raise TypeError(f"errors_only must be a bool, got {type(errors_only).__name__}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.42 * k + 1.6, 0.42 * k + 1.2))
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    shown = np.where(np.eye(k, dtype=bool), np.nan, share) if errors_only else share
    top = np.nanmax(shown) if np.isfinite(shown).any() else 1.0
    image = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=top if top > 0 else 1.0)
    for i in range(k):
        for j in range(k):
            dark = np.isfinite(shown[i, j]) and shown[i, j] > 0.6 * top
            ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center",
                    fontsize="x-small", color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(k), [str(n) for n in names])
    ax.set_yticks(range(k), [str(n) for n in names])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    if title:
        ax.set_title(title)
    return ax.figure
