"""Loss surfaces of the course's two-parameter models over a grid of ``(w0, w1)``.

Models (``x`` is one feature, ``n`` samples, ``z = w0 + w1 x`` the linear part):

* ``"linear"``: ``yhat = z`` (Week 1).
* ``"logistic"``: ``yhat = sigmoid(z)`` (Weeks 3-4).

Losses: ``"sse"`` (sum), ``"mse"`` (mean) of squared errors and, for the logistic
model, ``"bce"`` (mean binary cross-entropy, labels in [0, 1]).

How: in float64, the grid is broadcast against the samples, ``(rows of w0, w1, n)``
at a time, every sample's loss is computed, and the losses are summed. Each
per-sample loss is a square, or a sum of terms that are never negative, computed
without cancellation, so the surface is >= 0 and accurate relative to its own size,
even where it is tiny:

* squared error of the logistic model: ``y - sigmoid(z) = y sigmoid(-z) - (1 - y) sigmoid(z)``
  (no ``1 - sigmoid(z)``, which rounds to 0 for large ``z``);
* cross-entropy ``-[y log sigmoid(z) + (1 - y) log sigmoid(-z)]
  = log1p(exp(-|z|)) + (1 - y) max(z, 0) + y max(-z, 0)`` (finite for any ``z``).

``tests/test_surface.py`` checks the surface against a per-point float64 loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dlbasics._checks import (
    check_choice,
    check_grid,
    check_int,
    check_matching_rows,
    check_real,
    check_tensor,
    check_unit_interval,
)

__all__ = [
    "Surface",
    "loss_surface",
    "loss_at",
    "second_differences",
    "is_convex_on_grid",
    "MODELS",
    "SURFACE_LOSSES",
]

MODELS = ("linear", "logistic")
SURFACE_LOSSES = ("sse", "mse", "bce")


@dataclass(frozen=True)
class Surface:
    """A loss surface: ``loss[i, j]`` is the loss at ``(w0[i], w1[j])``.

    Attributes:
        w0: grid of intercepts, shape ``(a,)``.
        w1: grid of slopes, shape ``(b,)``.
        loss: losses, shape ``(a, b)`` (float64).
        model: ``"linear"`` or ``"logistic"``.
        loss_name: ``"sse"``, ``"mse"`` or ``"bce"``.
    """

    w0: torch.Tensor
    w1: torch.Tensor
    loss: torch.Tensor
    model: str
    loss_name: str

    def argmin(self) -> tuple[float, float]:
        """The grid point ``(w0, w1)`` with the smallest loss."""
        flat = int(torch.argmin(self.loss))
        i, j = divmod(flat, self.loss.shape[1])
        return float(self.w0[i]), float(self.w1[j])

    def interpolate(self, w0: float, w1: float) -> float:
        """Bilinear interpolation of the loss at ``(w0, w1)`` inside the grid.

        Raises ``ValueError`` outside the grid (use :func:`loss_at` for exact values).
        """
        w0, w1 = check_real(w0, "w0"), check_real(w1, "w1")  # finite numbers
        g0, g1, L = self.w0.numpy(), self.w1.numpy(), self.loss.numpy()
        if not (g0.min() <= w0 <= g0.max() and g1.min() <= w1 <= g1.max()):
            raise ValueError(
                f"(w0, w1) = ({w0}, {w1}) lies outside the grid "
                f"[{g0.min()}, {g0.max()}] x [{g1.min()}, {g1.max()}]"
            )
        if len(g0) == 1 or len(g1) == 1:
            i = int(np.abs(g0 - w0).argmin())
            j = int(np.abs(g1 - w1).argmin())
            return float(L[i, j])
        i = int(np.clip(np.searchsorted(g0, w0) - 1, 0, len(g0) - 2))
        j = int(np.clip(np.searchsorted(g1, w1) - 1, 0, len(g1) - 2))
        t = (w0 - g0[i]) / (g0[i + 1] - g0[i])
        u = (w1 - g1[j]) / (g1[j + 1] - g1[j])
        return float(
            (1 - t) * (1 - u) * L[i, j]
            + t * (1 - u) * L[i + 1, j]
            + (1 - t) * u * L[i, j + 1]
            + t * u * L[i + 1, j + 1]
        )

    def mesh(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(W0, W1)`` of shape ``(a, b)`` each, matching ``loss`` (``indexing="ij"``)."""
        return torch.meshgrid(self.w0, self.w1, indexing="ij")


def _prepare_xy(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    check_tensor(x, "x", ndim=(1, 2), floating=True, finite=True)
    check_tensor(y, "y", ndim=(1, 2), floating=True, finite=True)
    for name, t in (("x", x), ("y", y)):
        if t.ndim == 2 and t.shape[1] != 1:
            raise ValueError(f"{name} must have shape (n,) or (n, 1), got {tuple(t.shape)}")
    check_matching_rows(x, y, "x", "y")
    return x.detach().reshape(-1).double(), y.detach().reshape(-1).double()


def _check_model_loss(model: str, loss: str) -> None:
    check_choice(model, "model", MODELS)
    check_choice(loss, "loss", SURFACE_LOSSES)
    if model == "linear" and loss == "bce":
        raise ValueError(
            "loss='bce' needs model='logistic' (cross-entropy is defined for probabilities)"
        )


def _sample_losses(z: torch.Tensor, y: torch.Tensor, model: str, loss: str) -> torch.Tensor:
    """Loss of every sample: ``z = w0 + w1 x`` of shape ``(..., n)``, ``y`` of shape ``(n,)``."""
    if model == "linear":
        return (y - z) ** 2
    if loss == "bce":
        return torch.log1p(torch.exp(-z.abs())) + (1 - y) * z.clamp(min=0) + y * (-z).clamp(min=0)
    return (y * torch.sigmoid(-z) - (1 - y) * torch.sigmoid(z)) ** 2


def loss_surface(
    x: torch.Tensor,
    y: torch.Tensor,
    w0,
    w1,
    model: str = "linear",
    loss: str = "sse",
    max_elements: int = 1 << 18,
) -> Surface:
    """Loss of ``model`` at every grid point ``(w0[i], w1[j])``, in float64.

    Args:
        x: feature, shape ``(n,)`` or ``(n, 1)``.
        y: targets, same number of rows as ``x`` (labels in [0, 1] for ``"bce"``).
        w0: 1-D increasing grid of intercepts (tensor, array or list), finite, non-empty.
        w1: 1-D increasing grid of slopes, finite, non-empty.
        model: ``"linear"`` or ``"logistic"``.
        loss: ``"sse"``, ``"mse"`` or ``"bce"`` (logistic only).
        max_elements: at most this many ``(w0, w1, sample)`` numbers are held at once
            (at least one row of ``w0`` is always taken). The default, 2 MB of float64
            per temporary, stays in the CPU cache: 2-3x faster than 8 MB on Week 4's grid.

    Returns:
        A :class:`Surface` with ``loss`` of shape ``(len(w0), len(w1))``, >= 0.
    """
    x, y = _prepare_xy(x, y)
    g0 = check_grid(w0, "w0")
    g1 = check_grid(w1, "w1")
    for name, g in (("w0", g0), ("w1", g1)):
        if g.numel() > 1 and not bool((g[1:] > g[:-1]).all()):
            raise ValueError(f"{name} must be strictly increasing (a grid), e.g. torch.arange(...)")
    _check_model_loss(model, loss)
    max_elements = check_int(max_elements, "max_elements", minimum=1)
    if loss == "bce":
        check_unit_interval(y, "y", "labels for loss='bce'")

    g0, g1 = g0.detach(), g1.detach()
    n = x.shape[0]
    out = torch.empty(g0.shape[0], g1.shape[0], dtype=torch.float64)
    rows = max(1, max_elements // (g1.shape[0] * n))
    for i in range(0, g0.shape[0], rows):
        z = g0[i : i + rows, None, None] + g1[None, :, None] * x  # (rows, b, n)
        out[i : i + rows] = _sample_losses(z, y, model, loss).sum(dim=2)
    if loss != "sse":
        out /= n
    return Surface(w0=g0, w1=g1, loss=out, model=model, loss_name=loss)


def loss_at(
    x: torch.Tensor, y: torch.Tensor, w0: float, w1: float, model: str = "linear", loss: str = "sse"
) -> float:
    """Loss of ``model`` at the single point ``(w0, w1)`` (same rules as :func:`loss_surface`)."""
    w0, w1 = (
        check_real(v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v, name)
        for v, name in ((w0, "w0"), (w1, "w1"))
    )
    return float(loss_surface(x, y, [w0], [w1], model=model, loss=loss).loss[0, 0])


def second_differences(surface: Surface) -> dict[str, torch.Tensor]:
    """Finite-difference Hessian of a surface at its interior grid points.

    Central differences that allow uneven spacing: with steps ``h-`` before and
    ``h+`` after a grid point, ``d2L/dw0^2`` is estimated as
    ``2 [(L[i+1] - L[i]) / h+ - (L[i] - L[i-1]) / h-] / (h+ + h-)`` (likewise along
    ``w1``), and the mixed derivative from the four diagonal neighbours divided by
    ``(h0- + h0+)(h1- + h1+)``.

    Args:
        surface: from :func:`loss_surface`, with at least 3 grid values along each axis
            and finite losses.

    Returns:
        ``{"w0w0", "w1w1", "w0w1", "min_eig"}``, each a float64 tensor of shape
        ``(a - 2, b - 2)`` for the interior points ``(w0[1:-1], w1[1:-1])``;
        ``min_eig`` is the smaller eigenvalue of the 2x2 Hessian estimate, so it is
        negative exactly where the surface bends down in some direction.
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a dlbasics.surface.Surface, got {type(surface).__name__}")
    L = surface.loss.double()
    if L.ndim != 2 or tuple(L.shape) != (surface.w0.numel(), surface.w1.numel()):
        raise ValueError(
            f"surface.loss must have shape (len(w0), len(w1)) = "
            f"({surface.w0.numel()}, {surface.w1.numel()}), got {tuple(L.shape)}"
        )
    a, b = L.shape
    if a < 3 or b < 3:
        raise ValueError(
            f"surface needs at least 3 grid values along w0 and w1 for second differences, "
            f"got a grid of {a} x {b}"
        )
    if not bool(torch.isfinite(L).all()):
        raise ValueError("surface.loss must be finite everywhere to take second differences")
    g0, g1 = surface.w0.double(), surface.w1.double()
    h0m, h0p = (g0[1:-1] - g0[:-2])[:, None], (g0[2:] - g0[1:-1])[:, None]  # (a-2, 1)
    h1m, h1p = (g1[1:-1] - g1[:-2])[None, :], (g1[2:] - g1[1:-1])[None, :]  # (1, b-2)
    c = L[1:-1, 1:-1]
    d00 = 2 * ((L[2:, 1:-1] - c) / h0p - (c - L[:-2, 1:-1]) / h0m) / (h0p + h0m)
    d11 = 2 * ((L[1:-1, 2:] - c) / h1p - (c - L[1:-1, :-2]) / h1m) / (h1p + h1m)
    d01 = (L[2:, 2:] - L[2:, :-2] - L[:-2, 2:] + L[:-2, :-2]) / ((h0p + h0m) * (h1p + h1m))
    min_eig = (d00 + d11) / 2 - torch.sqrt(((d00 - d11) / 2) ** 2 + d01**2)
    return {"w0w0": d00, "w1w1": d11, "w0w1": d01, "min_eig": min_eig}


def is_convex_on_grid(surface: Surface, tol: float = 1e-9) -> bool:
    """Whether the surface's finite-difference Hessian is positive semi-definite on the grid.

    ``True`` when, at every interior grid point, the smaller eigenvalue of the
    Hessian estimate from :func:`second_differences` is at least ``-tol``: the
    surface bends up (or stays flat) in every direction, along ``w0``, along
    ``w1`` and along the diagonals alike. A check on a grid, not a proof: a
    dent narrower than the grid step goes unseen.

    Args:
        surface: from :func:`loss_surface` (at least 3 x 3 grid values, finite losses).
        tol: slack for rounding, ``>= 0``, in loss units per squared parameter unit.
    """
    tol = check_real(tol, "tol")
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    return bool((second_differences(surface)["min_eig"] >= -tol).all())
