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

from dlbasics.surface import Surface
from dlbasics.train import History

__all__ = ["plot_fit", "plot_surface", "plot_history", "to_numpy"]

ArrayLike = torch.Tensor | np.ndarray | Sequence[float]


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
        x: inputs, ``n`` numbers (shape ``(n,)`` or ``(n, 1)``), sorted for curves.
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
    fig, ax = _axes(ax)
    if alpha is None:
        alpha = 0.8 if xs.size <= 200 else 0.1
    ax.plot(xs, ys, "o", ms=3, alpha=alpha, label=data_label, color="C0")
    if truth is not None:
        t = to_numpy(truth, "truth")
        if t.shape != xs.shape:
            raise ValueError(f"truth has {t.size} values but x has {xs.size}")
        ax.plot(xs, t, "--", color="C1", lw=2, label=truth_label)
    for i, (label, c) in enumerate(curves.items()):
        ax.plot(xs, c, "-", color=f"C{i + 2}", lw=2, label=label)
    return _finish(ax, "x", "y", title)


def plot_surface(
    surface: Surface,
    path: np.ndarray | None = None,
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
        path: parameter path, array of shape ``(k, 2)`` of ``(w0, w1)``
            (e.g. ``history.param_path()``).
        path_loss: loss at each path point (``k`` numbers; e.g. ``history.loss``).
            Points with non-finite loss are left out.
        markers: ``{label: (w0, w1)}`` or ``{label: (w0, w1, loss)}`` drawn as stars;
            without a loss the star sits on the (interpolated) surface.
        ax: a 3-D axes (a new figure if ``None``).
        elev, azim: viewing angles in degrees.
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a dlbasics.surface.Surface, got {type(surface).__name__}")
    fig, ax = _axes(ax, projection="3d", figsize=(5.0, 4.0))
    W0, W1 = (m.numpy() for m in surface.mesh())
    L = surface.loss.numpy()
    ax.plot_surface(W0, W1, L, cmap="viridis", alpha=0.55, linewidth=0, antialiased=True)
    if path is not None:
        p = np.asarray(path, dtype=float)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"path must have shape (k, 2) of (w0, w1), got {p.shape}")
        if path_loss is None:
            raise ValueError("path_loss is needed with path (e.g. history.loss)")
        z = to_numpy(path_loss, "path_loss")
        if z.shape[0] != p.shape[0]:
            raise ValueError(f"path has {p.shape[0]} points but path_loss has {z.shape[0]} values")
        ok = np.isfinite(z)
        ax.plot(p[ok, 0], p[ok, 1], z[ok], "o-", color="black", ms=3, lw=1, label="path")
    for i, (label, point) in enumerate((markers or {}).items()):
        if len(point) not in (2, 3):
            raise ValueError(
                f"markers[{label!r}] must be (w0, w1) or (w0, w1, loss), got {point!r}"
            )
        a, b = float(point[0]), float(point[1])
        height = float(point[2]) if len(point) == 3 else surface.interpolate(a, b)
        ax.scatter([a], [b], [height], marker="*", s=180, color=f"C{3 + i}", label=label)
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
    ax.plot(epochs[ok], loss[ok], "-o", ms=2, label=label)
    if history.diverged:
        ax.axvline(epochs[-1], color="red", ls=":", label=f"diverged at epoch {epochs[-1]}")
    if log:
        ax.set_yscale("log")
    return _finish(ax, "epoch", "loss", title)
