"""Loss surfaces of the course's two-parameter models over a grid of ``(w0, w1)``.

Models (``x`` is one feature, ``n`` samples):

* ``"linear"``: ``yhat = w0 + w1 * x`` (Week 1).
* ``"logistic"``: ``yhat = sigmoid(w0 + w1 * x)`` (Weeks 3-4).

Losses: ``"sse"``, ``"mse"`` and, for the logistic model, ``"bce"`` (computed
from the logit ``z = w0 + w1 x`` as ``softplus(z) - y z``, so it stays finite
where ``sigmoid(z)`` rounds to 0 or 1).

How it is fast (all arithmetic float64):

* linear model: SSE/MSE come exactly from five sample moments (no loop over samples);
* logistic model: the ``n`` samples are replaced by a few Chebyshev nodes that
  carry interpolation weights (:func:`chebyshev_rule`), exact to rounding because the
  summand is analytic in ``x``; how many nodes depends on the slope
  (:func:`chebyshev_degrees`: 16 to 112 on Week 4's grid instead of 2000 samples).
  The samples are first gathered into short rules on a few panels of ``[min x, max x]``
  (``n x ~20`` work), which a fixed matrix maps to every slope group's rule. Then the
  grid is broadcast as ``(w0, w1, node)`` in blocks below ``max_elements`` numbers,
  with ``exp(z) = exp(w0) exp(w1 x)`` so that a block costs an add and a divide
  (sigmoid) or a log (softplus) and one matrix product. BCE is
  ``mean(softplus(z)) - mean(y z)``, stable for any logit ``z``.

Every shortcut is checked against a per-point float64 loop in ``tests/test_surface.py``.
"""

from __future__ import annotations

import functools
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


# Chebyshev rules replace the samples in sums like sum_k c_k f(w0 + w1 x_k).
# f is sigmoid, sigmoid^2 or softplus: analytic except for poles at Im z = +-pi, so as a
# function of x the summand is analytic within pi / |w1| of the real axis. Interpolating
# it at D Chebyshev points of [min x, max x] (half-width h) then errs by about
# rho^-D with rho = a + sqrt(1 + a^2), a = pi / (|w1| h), so D = ln(1/tol) / asinh(a).
_LOG_INV_TOL = 34.5  # tol = 1e-15: below float64 rounding of a mean of O(1) losses
_DEGREE_STEP = 16  # slopes are grouped by degree rounded up to a multiple of this
_EXP_SAFE = 700.0  # |z| below this: exp(+-z) and products of such factors stay finite


def _raw_degrees(span) -> np.ndarray:
    """Nodes needed for ``f(w0 + s x)`` on an interval of half-width ``h``; ``span = |s| h``."""
    span = np.abs(np.asarray(span, dtype=np.float64))
    with np.errstate(divide="ignore"):
        raw = np.ceil(_LOG_INV_TOL / np.arcsinh(np.pi / span))  # span 0 -> asinh(inf) -> 0
    return np.where(span > 0, raw, 1).astype(np.int64)


def chebyshev_degrees(slopes, half_width: float) -> np.ndarray:
    """Number of Chebyshev nodes that make the rule exact to rounding at each slope.

    Args:
        slopes: slopes ``w1``, array-like of shape ``(b,)``.
        half_width: half the range of the samples, ``(max x - min x) / 2 >= 0``.

    Returns:
        ``int64`` array of shape ``(b,)``: 1 where the summand does not depend on ``x``
        (slope or range 0), otherwise ``ceil(34.5 / asinh(pi / (|w1| h)))`` rounded up
        to a multiple of 16 (for Week 4's grid: 16 to 112 nodes instead of 2000 samples).
    """
    half_width = check_real(half_width, "half_width")
    if half_width < 0:
        raise ValueError(f"half_width must be >= 0, got {half_width}")
    slopes = np.asarray(slopes, dtype=np.float64)
    if slopes.ndim != 1 or not np.all(np.isfinite(slopes)):
        raise ValueError(f"slopes must be 1-D and finite, got shape {slopes.shape}")
    raw = _raw_degrees(slopes * half_width)
    return np.where(raw > 1, -(-raw // _DEGREE_STEP) * _DEGREE_STEP, raw)


def chebyshev_rule(t, weights, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Chebyshev nodes and weights that stand in for weighted points in sums.

    Returns ``nodes`` and ``node_weights`` such that, for every column ``c`` of
    ``weights`` and every ``g`` that is analytic near ``[-1, 1]``,
    ``sum_k c_k g(t_k) = sum_m node_weights[m, c] g(nodes[m])`` up to the error of
    interpolating ``g`` by a polynomial of degree ``degree - 1`` at the nodes
    (``node_weights = L^T weights`` with ``L[k, m]`` the ``m``-th Lagrange basis
    polynomial at ``t_k``, from the barycentric formula).

    Args:
        t: points in ``[-1, 1]``, shape ``(n,)`` (float64 array or tensor).
        weights: their weights, shape ``(n, k)``.
        degree: number of nodes ``D >= 1``.

    Returns:
        ``nodes`` of shape ``(D,)`` (Chebyshev points of the first kind, in ``[-1, 1]``)
        and ``node_weights`` of shape ``(D, k)``, float64 NumPy arrays.
    """
    degree = check_int(degree, "degree", minimum=1)
    t = np.asarray(t, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if t.ndim != 1 or not np.all(np.abs(t) <= 1):
        raise ValueError(f"t must be 1-D with values in [-1, 1], got shape {t.shape}")
    if weights.ndim != 2 or weights.shape[0] != t.shape[0]:
        raise ValueError(
            f"weights must have shape (n, k) with n = {t.shape[0]}, got {weights.shape}"
        )
    return _rules(t, weights, [degree])[0]


def _basis(t: np.ndarray, degrees) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Chebyshev nodes of several degrees side by side and their Lagrange basis at ``t``.

    Returns ``nodes`` ``(S,)`` (``S = sum D``), ``starts`` ``(G,)`` (where each degree's
    nodes begin), ``B`` ``(n, S)`` and ``totals`` ``(n, G)``: the ``m``-th Lagrange basis
    polynomial of degree ``g`` at ``t_k`` is ``B[k, starts[g] + m] / totals[k, g]``
    (barycentric formula; no argument checks).
    """
    sizes = np.asarray(degrees, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    group = np.repeat(np.arange(sizes.size), sizes)  # which degree each node belongs to
    m = np.arange(group.size) - starts[group]  # index of each node within its degree
    angle = (2 * m + 1) * (np.pi / (2 * sizes[group]))
    nodes = np.cos(angle)
    bary = np.sin(angle) * (1 - 2 * (m % 2))  # barycentric weights: (-1)^m sin(angle_m)
    B = np.subtract.outer(t, nodes)  # (n, S)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(bary, B, out=B)
        totals = B.sum(axis=1, keepdims=True) if sizes.size == 1 else np.add.reduceat(B, starts, 1)
    bad = ~np.isfinite(totals)  # t_k on a node: that degree's basis row is the node's indicator
    if bad.any():
        rows = bad[:, group]
        B[rows] = np.equal.outer(t, nodes)[rows]
        totals[bad] = 1.0
    return nodes, starts, B, totals


def _rules(t: np.ndarray, weights: np.ndarray, degrees) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`chebyshev_rule` for several degrees at once (no argument checks)."""
    nodes, starts, B, totals = _basis(t, degrees)
    return [
        (nodes[a : a + d], B[:, a : a + d].T @ (weights / totals[:, g : g + 1]))
        for g, (a, d) in enumerate(zip(starts, degrees, strict=True))
    ]


_BLAS_SERIAL = 1 << 18  # OpenBLAS runs a product on one thread up to this many multiply-adds


def _small_products(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A.T @ B`` (``A`` of shape ``(n, p)``, ``B`` of ``(n, q)``) in blocks of rows.

    Each block stays below OpenBLAS's threshold for threading: on a 2-core machine,
    waking a second thread for a product this small costs more than it saves, and
    the thread keeps spinning while the rest of :func:`loss_surface` runs.
    """
    rows = max(1, _BLAS_SERIAL // max(1, A.shape[1] * B.shape[1]))
    out = A[:rows].T @ B[:rows]
    for start in range(rows, A.shape[0], rows):
        out += A[start : start + rows].T @ B[start : start + rows]
    return out


def _panel_nodes(panels: int, degree: int) -> np.ndarray:
    """The ``panels * degree`` Chebyshev points of ``panels`` equal parts of [-1, 1]."""
    angle = (2 * np.arange(degree) + 1) * (np.pi / (2 * degree))
    centres = (2 * np.arange(panels) + 1) / panels - 1
    return (centres[:, None] + np.cos(angle) / panels).ravel()


def _panel_rule(t: np.ndarray, weights: np.ndarray, panels: int, degree: int) -> np.ndarray:
    """Weights ``(panels * degree, k)`` at :func:`_panel_nodes` that stand in for ``t``.

    One Chebyshev rule of ``degree`` nodes on each panel: costs ``n x degree``,
    against ``n x D`` for one rule over all of [-1, 1].
    """
    panel = np.minimum(((t + 1) * (panels / 2)).astype(np.int64), panels - 1)
    local = np.clip((t + 1) * panels - 2 * panel - 1, -1.0, 1.0)  # position in its panel
    _, _, B, totals = _basis(local, [degree])
    # each sample's weights go to its own panel's column block: (n, panels * k)
    per_panel = np.zeros((t.shape[0] * panels, weights.shape[1]))
    per_panel[np.arange(t.shape[0]) * panels + panel] = weights / totals
    per_panel = per_panel.reshape(t.shape[0], -1)
    W = _small_products(B, per_panel).reshape(degree, panels, -1).transpose(1, 0, 2)
    return W.reshape(panels * degree, -1)


@functools.lru_cache(maxsize=16)
def _panels_to_rules(panels: int, degree: int, degrees: tuple[int, ...]):
    """Matrix ``(sum D, panels * degree)`` that maps panel weights to each rule's weights.

    It depends on integers only (Chebyshev points to Chebyshev points), so it is
    computed once per shape and kept, read-only, like a table of quadrature rules.
    """
    nodes, starts, B, totals = _basis(_panel_nodes(panels, degree), degrees)
    sizes = np.asarray(degrees)
    M = np.ascontiguousarray((B / np.repeat(totals, sizes, axis=1)).T)
    nodes.flags.writeable = starts.flags.writeable = M.flags.writeable = False
    return nodes, starts, M


def _node_rules(t: np.ndarray, weights: np.ndarray, degrees: np.ndarray, uses, span: float):
    """Rules for the given degrees (descending), from samples ``t`` in [-1, 1].

    ``uses[g]`` is how many grid points evaluate degree ``g``'s rule. Degrees too
    large to pay off (``4 D > n``) keep the samples. The others come from panel
    rules (exact for slopes up to ``span``) that first compress the ``n`` samples
    to a few nodes per panel, then one product with a fixed matrix
    (:func:`_panels_to_rules`); or, when panels would not save work, straight from
    the samples in one batched barycentric pass. A small grid (one point for
    :func:`loss_at`) skips all that when evaluating the samples costs less.
    """
    n = t.shape[0]
    keep = 4 * degrees > n
    rules = {int(k): (t, weights) for k in degrees[keep]}
    small, small_uses = degrees[~keep], np.asarray(uses)[~keep]
    if not small.size:
        return rules
    panels = np.array([2, 4, 8, 16, 32])
    d = _raw_degrees(span / panels)
    fits = panels * d <= small.sum()  # at most as many panel nodes as rule nodes
    best = int(np.argmin(np.where(fits, d, n)))  # cheapest per-sample pass
    cost = n * (int(d[best]) if fits[best] else int(small.sum()))
    if cost >= int(np.dot(small_uses, n - small)):  # the rules would save less than they cost
        rules.update((int(k), (t, weights)) for k in small)
        return rules
    if fits[best]:
        panels, d = int(panels[best]), int(d[best])
        nodes, starts, M = _panels_to_rules(panels, d, tuple(small.tolist()))
        W = M @ _panel_rule(t, weights, panels, d)
        found = [(nodes[a : a + k], W[a : a + k]) for a, k in zip(starts, small, strict=True)]
    else:
        found = _rules(t, weights, small)
    rules.update(zip(small.tolist(), found, strict=True))
    return rules


def _logistic_sums(x, y, g0, g1, loss, max_elements):
    """``sum_k softplus(z)`` (BCE) or ``sum_k (y - sigmoid(z))^2 - y^2`` (MSE) per grid point.

    ``z = w0 + w1 x_k``; ``x, y`` of shape ``(n,)`` and ``g0, g1`` as NumPy float64.
    Slopes are sorted by the number of nodes they need and each group of equal need
    gets its own rule (:func:`_node_rules`). When ``|z| <= 700``, with ``u = exp(+-w0)``
    and ``v = exp(+-w1 x)`` (both finite), ``sigmoid(z) = u / (u + v)`` and
    ``softplus(z) = w0 + log(u + v)``: two passes over each block, no overflow.
    """
    n = x.shape[0]
    lo, hi = float(x.min()), float(x.max())
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    order = np.argsort(np.abs(g1), kind="stable")
    slopes = g1[order]
    degrees = chebyshev_degrees(slopes, half)
    first = np.flatnonzero(np.r_[True, degrees[1:] != degrees[:-1]])  # degrees is sorted
    distinct = degrees[first][::-1]
    uses = g0.shape[0] * np.diff(np.r_[first, len(degrees)])[::-1]  # grid points per degree
    points = (x - mid) / half if half > 0 else np.zeros(n)
    weights = np.stack([np.ones(n), y], axis=1)  # (n, 2): sum of g, sum of y g
    rules = _node_rules(points, weights, distinct, uses, float(np.abs(g1).max()) * half)

    bce = loss == "bce"
    split_exp = np.abs(g0).max() + np.abs(g1).max() * max(abs(lo), abs(hi)) <= _EXP_SAFE
    # broadcasting (a, 1) against (b * D,): PyTorch's kernels are several times faster
    # than NumPy's here; blocks of at most 32768 numbers keep them on one thread
    u = torch.from_numpy(np.exp(-g0 if bce else g0)[:, None]) if split_exp else None
    out = np.empty((g0.shape[0], g1.shape[0]))
    buffer = np.empty(0)
    stop = len(degrees)
    for degree in distinct:
        start = int(np.searchsorted(degrees, degree))
        nodes, weights = rules[int(degree)]
        slope_x = (slopes[start:stop, None] * (mid + half * nodes)).ravel()  # (b * D,)
        b, d = stop - start, nodes.shape[0]
        rows = min(g0.shape[0], max(1, max_elements // (b * d)))
        if buffer.size < rows * b * d:
            buffer = np.empty(rows * b * d)
        v = torch.from_numpy(np.exp(slope_x if bce else -slope_x)) if split_exp else None
        for i in range(0, g0.shape[0], rows):
            j = min(i + rows, g0.shape[0])
            z = buffer[: (j - i) * b * d].reshape(j - i, b * d)
            if split_exp:
                zt, ui = torch.from_numpy(z), u[i:j]
                torch.add(ui, v, out=zt)
                if bce:
                    np.log(z, out=z)  # softplus(z) - w0
                else:
                    torch.div(ui, zt, out=zt)  # sigmoid(z)
            else:  # huge |z|: PyTorch's stable softplus / sigmoid on the same memory
                np.add(g0[i:j, None], slope_x, out=z)
                zt = torch.from_numpy(z)
                zt.copy_(F.softplus(zt) if bce else torch.sigmoid(zt))
            # (rows * b, D) @ (D, 2): small enough for single-threaded BLAS
            flat = z.reshape(-1, d)
            if bce:
                sums = (flat @ weights)[:, 0].reshape(j - i, b)
                if split_exp:
                    sums += g0[i:j, None] * weights[:, 0].sum()
            else:  # (y - s)^2 - y^2 = s^2 - 2 y s
                ys = (flat @ weights)[:, 1]
                np.square(flat, out=flat)
                sums = ((flat @ weights)[:, 0] - 2 * ys).reshape(j - i, b)
            out[i:j, start:stop] = sums
        stop = start
    result = np.empty_like(out)
    result[:, order] = out
    return result


def loss_surface(
    x: torch.Tensor,
    y: torch.Tensor,
    w0,
    w1,
    model: str = "linear",
    loss: str = "sse",
    max_elements: int = 32_768,
) -> Surface:
    """Loss of ``model`` at every grid point ``(w0[i], w1[j])``.

    Args:
        x: feature, shape ``(n,)`` or ``(n, 1)``.
        y: targets, same number of rows as ``x``.
        w0: 1-D grid of intercepts (tensor, array or list), finite, non-empty.
        w1: 1-D grid of slopes, finite, non-empty.
        model: ``"linear"`` or ``"logistic"``.
        loss: ``"sse"``, ``"mse"`` or ``"bce"`` (logistic only).
        max_elements: largest block of ``w0`` rows times ``(slope, node)`` pairs, in
            numbers; bounds memory (the default keeps PyTorch's kernels on one thread).

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
        out = _linear_surface(x.detach(), y.detach(), g0.detach(), g1.detach(), loss)
        return Surface(w0=g0, w1=g1, loss=out, model=model, loss_name=loss)

    xn, yn, a, b = (t.detach().numpy() for t in (x, y, g0, g1))
    sums = _logistic_sums(xn, yn, a, b, loss, max_elements)
    if loss == "bce":  # softplus(z) - y z, and the y z part is linear in (w0, w1)
        sums -= a[:, None] * yn.sum() + b[None, :] * (xn * yn).sum()
    else:
        sums += (yn * yn).sum()
    if loss != "sse":
        sums /= xn.shape[0]
    return Surface(w0=g0, w1=g1, loss=torch.from_numpy(sums), model=model, loss_name=loss)


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
