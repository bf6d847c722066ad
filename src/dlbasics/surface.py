"""Loss surfaces of the course's two-parameter models over a grid of ``(w0, w1)``.

Models (``x`` is one feature, ``n`` samples):

* ``"linear"``: ``yhat = w0 + w1 * x`` (Week 1).
* ``"logistic"``: ``yhat = sigmoid(w0 + w1 * x)`` (Weeks 2-3).

Losses: ``"sse"``, ``"mse"`` and, for the logistic model, ``"bce"`` (computed
from the logit ``z = w0 + w1 x`` as ``softplus(z) - y z``, so it stays finite
where ``sigmoid(z)`` rounds to 0 or 1).

How it is fast (all arithmetic float64):

* linear model: SSE/MSE come exactly from five sample moments (no loop over samples);
* logistic model: the grid is broadcast as ``(w0, w1, node)`` in chunks of ``w0`` rows
  (memory below ``max_elements`` numbers), where the ``n`` samples are replaced by
  ``D`` Chebyshev nodes carrying interpolation weights (:func:`chebyshev_rule`; about
  150 nodes stand in for 2000 samples on Week 3's grid, exact to rounding). BCE is
  ``mean(softplus(z)) - mean(y z)``, stable for any logit ``z``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from dlbasics._checks import (
    check_choice,
    check_grid,
    check_int,
    check_matching_rows,
    check_real,
    check_tensor,
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
    return x.reshape(-1).double(), y.reshape(-1).double()


def _check_model_loss(model: str, loss: str) -> None:
    check_choice(model, "model", MODELS)
    check_choice(loss, "loss", SURFACE_LOSSES)
    if model == "linear" and loss == "bce":
        raise ValueError(
            "loss='bce' needs model='logistic' (cross-entropy is defined for probabilities)"
        )


def _linear_surface(x, y, g0, g1, loss):
    """Exact SSE/MSE of ``w0 + w1 x`` from five sample moments: O(grid), no sample loop."""
    n = x.shape[0]
    sy, syy, sx, sxx, sxy = y.sum(), (y * y).sum(), x.sum(), (x * x).sum(), (x * y).sum()
    a, b = g0[:, None], g1[None, :]
    out = syy - 2 * a * sy - 2 * b * sxy + n * a * a + 2 * a * b * sx + b * b * sxx
    return out if loss == "sse" else out / n


def chebyshev_rule(x: torch.Tensor, max_slope: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes and interpolation matrix that stand in for the samples ``x`` in sums.

    For a function ``g`` that is analytic near ``[min x, max x]``,
    ``sum_k c_k g(x_k) = sum_m (L^T c)_m g(node_m)`` up to the interpolation
    error of degree ``D - 1`` Chebyshev interpolation. For ``g(x) = f(w0 + w1 x)``
    with ``f`` one of softplus, sigmoid, sigmoid^2 (poles at ``Im z = +-pi``) and
    ``|w1| <= max_slope``, the error falls like ``rho^-D`` with
    ``rho = a + sqrt(1 + a^2)``, ``a = 0.8 pi / (max_slope * half-width)``; ``D``
    is chosen so that ``rho^-D < 1e-17``, i.e. below float64 rounding.

    Returns:
        ``nodes`` of shape ``(D,)`` and ``L`` of shape ``(n, D)`` (float64), or the
        samples themselves and ``None`` when ``D`` would not be smaller than ``n / 4``.
    """
    lo, hi = float(x.min()), float(x.max())
    half = (hi - lo) / 2
    n = x.shape[0]
    if half == 0 or max_slope == 0:
        degree = 1
    else:
        a = 0.8 * math.pi / (max_slope * half)
        degree = math.ceil(39.2 / math.log(a + math.sqrt(1 + a * a)))
    if degree * 4 > n:
        return x, None
    m = torch.arange(degree, dtype=torch.float64)
    angle = (2 * m + 1) * math.pi / (2 * degree)
    xi = torch.cos(angle)  # Chebyshev points of the first kind on [-1, 1]
    bary = (-1.0) ** m * torch.sin(angle)  # their barycentric weights
    t = (x - (lo + hi) / 2) / half if half > 0 else torch.zeros_like(x)
    diff = t[:, None] - xi[None, :]  # (n, D)
    hit = diff.abs() < 1e-14
    if bool(hit.any()):  # a sample on a node: that node's basis function is exactly 1
        rows = hit.any(dim=1)
        diff[hit] = 1.0
        L = bary / diff
        L /= L.sum(dim=1, keepdim=True)
        L[rows] = hit[rows].double()
    else:
        L = bary / diff
        L /= L.sum(dim=1, keepdim=True)
    return (lo + hi) / 2 + half * xi, L


def loss_surface(
    x: torch.Tensor,
    y: torch.Tensor,
    w0,
    w1,
    model: str = "linear",
    loss: str = "sse",
    max_elements: int = 262_144,
) -> Surface:
    """Loss of ``model`` at every grid point ``(w0[i], w1[j])``.

    Args:
        x: feature, shape ``(n,)`` or ``(n, 1)``.
        y: targets, same number of rows as ``x``.
        w0: 1-D grid of intercepts (tensor, array or list), finite, non-empty.
        w1: 1-D grid of slopes, finite, non-empty.
        model: ``"linear"`` or ``"logistic"``.
        loss: ``"sse"``, ``"mse"`` or ``"bce"`` (logistic only).
        max_elements: largest intermediate ``(rows, len(w1), nodes)`` block; bounds memory.

    Returns:
        A :class:`Surface` with ``loss`` of shape ``(len(w0), len(w1))``.
    """
    x, y = _prepare_xy(x, y)
    g0 = check_grid(w0, "w0")
    g1 = check_grid(w1, "w1")
    for name, g in (("w0", g0), ("w1", g1)):
        if g.numel() > 1 and not bool((g[1:] > g[:-1]).all()):
            raise ValueError(f"{name} must be strictly increasing (a grid), e.g. torch.arange(...)")
    _check_model_loss(model, loss)
    check_int(max_elements, "max_elements", minimum=1)

    if model == "linear":
        out = _linear_surface(x, y, g0, g1, loss)
        return Surface(w0=g0, w1=g1, loss=out, model=model, loss_name=loss)

    # Sums over samples become sums over a few Chebyshev nodes (exact to rounding).
    nodes, L = chebyshev_rule(x, float(g1.abs().max()))
    ones = torch.ones_like(y)
    if L is not None:
        w_one, w_y = L.T @ ones, L.T @ y
    else:
        w_one, w_y = ones, y
    slope_x = g1[:, None] * nodes[None, :]  # (b, D)
    rows = max(1, max_elements // (g1.shape[0] * nodes.shape[0]))
    out = torch.empty(g0.shape[0], g1.shape[0], dtype=torch.float64)
    for start in range(0, g0.shape[0], rows):
        stop = min(start + rows, g0.shape[0])
        z = g0[start:stop, None, None] + slope_x[None, :, :]  # (rows, b, D)
        if loss == "bce":
            # softplus(z) - y z == -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))];
            # the y z part is linear in (w0, w1) and added below from two moments.
            out[start:stop] = F.softplus(z) @ w_one
        else:
            s = torch.sigmoid(z)  # (y - s)^2 = y^2 - 2 y s + s^2
            out[start:stop] = (y * y).sum() - 2 * (s @ w_y) + (s * s) @ w_one
    n = x.shape[0]
    if loss == "bce":
        out = (out - g0[:, None] * y.sum() - g1[None, :] * (x * y).sum()) / n
    elif loss == "mse":
        out /= n
    return Surface(w0=g0, w1=g1, loss=out, model=model, loss_name=loss)


def loss_at(
    x: torch.Tensor, y: torch.Tensor, w0: float, w1: float, model: str = "linear", loss: str = "sse"
) -> float:
    """Loss of ``model`` at the single point ``(w0, w1)`` (same rules as :func:`loss_surface`)."""
    return float(loss_surface(x, y, [float(w0)], [float(w1)], model=model, loss=loss).loss[0, 0])


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
