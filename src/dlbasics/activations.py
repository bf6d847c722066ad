"""Week 6: the one-step activation ``h`` and hand-set networks behind Cybenko's theorem.

* :func:`step_unit` / :class:`StepUnit`:
  ``h(u) = sigmoid(s (u - left)) + sigmoid(-s (u - right)) - 1``, about 1 on
  ``(left, right)`` and about 0 outside (the lecture uses ``s = 200`` and edges
  ``-0.5, 0.5``). ``StepUnit`` is a ``torch.nn.Module``, so it can replace ``torch.nn.ReLU()``.
* :func:`sigmoid_staircase`: a hand-set ``Linear(1, 2m) -> Sigmoid -> Linear(2m, 1)`` whose
  output is a staircase with ``m`` steps: each step is a pair of sigmoids, one rising at the
  step's left edge and one falling at its right edge.
* :func:`step_staircase` / :func:`staircase`: the same staircase from ``m`` units of ``h``,
  ``Linear(1, m) -> StepUnit -> Linear(m, 1)``, and its values as a plain function.

A staircase is given by its ``m + 1`` increasing ``edges`` and ``m`` ``heights``: step ``j``
has height ``heights[j]`` on ``(edges[j], edges[j + 1])`` and the output is about 0 outside
``(edges[0], edges[-1])``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dlbasics._checks import check_real, check_tensor

__all__ = ["step_unit", "StepUnit", "sigmoid_staircase", "step_staircase", "staircase"]

Numbers = Sequence[float] | torch.Tensor


def _check_edges_pair(left: object, right: object) -> tuple[float, float]:
    left = check_real(left, "left")
    right = check_real(right, "right")
    if not left < right:
        raise ValueError(f"left must be smaller than right, got left={left}, right={right}")
    return left, right


def step_unit(
    u: torch.Tensor, sharpness: float = 200.0, left: float = -0.5, right: float = 0.5
) -> torch.Tensor:
    """The one-step function ``h``, elementwise on a tensor of any shape.

    ``h(u) = sigmoid(sharpness * (u - left)) + sigmoid(-sharpness * (u - right)) - 1``:
    about 1 for ``left < u < right``, about 0 elsewhere and about 1/2 at an edge.

    Args:
        u: floating tensor, any shape.
        sharpness: slope of both sigmoids (> 0); larger means sharper edges.
        left, right: the step's edges, ``left < right``.

    Returns:
        A tensor shaped like ``u``.
    """
    check_tensor(u, "u", floating=True, nonempty=False)
    sharpness = check_real(sharpness, "sharpness", positive=True)
    left, right = _check_edges_pair(left, right)
    return torch.sigmoid(sharpness * (u - left)) + torch.sigmoid(-sharpness * (u - right)) - 1.0


class StepUnit(torch.nn.Module):
    """The activation ``h`` as a layer: ``StepUnit()(u)`` is :func:`step_unit` of ``u``.

    Use it wherever ``torch.nn.ReLU()`` or ``torch.nn.Sigmoid()`` would go, e.g.
    ``Sequential(Linear(1, 512), StepUnit(), Linear(512, 1))``. It has no parameters;
    input and output have the same shape.
    """

    def __init__(self, sharpness: float = 200.0, left: float = -0.5, right: float = 0.5) -> None:
        super().__init__()
        self.sharpness = check_real(sharpness, "sharpness", positive=True)
        self.left, self.right = _check_edges_pair(left, right)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return step_unit(u, self.sharpness, self.left, self.right)

    def extra_repr(self) -> str:
        return f"sharpness={self.sharpness:g}, left={self.left:g}, right={self.right:g}"


def _as_float_list(values: object, name: str) -> list[float]:
    if isinstance(values, torch.Tensor):
        if values.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(values.shape)}")
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(
            f"{name} must be a list/tuple/1-D tensor of numbers, got {type(values).__name__}"
        )
    return [check_real(v, f"{name}[{i}]") for i, v in enumerate(values)]


def _check_staircase(edges: object, heights: object) -> tuple[list[float], list[float]]:
    e = _as_float_list(edges, "edges")
    h = _as_float_list(heights, "heights")
    if len(e) < 2:
        raise ValueError(f"edges must hold at least 2 numbers (one step), got {len(e)}")
    if any(b <= a for a, b in zip(e[:-1], e[1:], strict=True)):
        raise ValueError(f"edges must be strictly increasing, got {e}")
    if len(h) != len(e) - 1:
        raise ValueError(
            f"heights must hold len(edges) - 1 = {len(e) - 1} numbers (one per step), got {len(h)}"
        )
    return e, h


def sigmoid_staircase(
    edges: Numbers, heights: Numbers, sharpness: float = 5.0
) -> torch.nn.Sequential:
    """A hand-set one-hidden-layer sigmoid network whose output is an ``m``-step staircase.

    For each step ``j`` on ``(a, b) = (edges[j], edges[j + 1])`` two hidden units are set:
    ``sigmoid(-s x + s b)`` (falls at ``b``) and ``sigmoid(s x - s a)`` (rises at ``a``);
    both output weights are ``heights[j]`` and the output bias is ``-sum(heights)``, so
    the pair adds ``heights[j]`` on ``(a, b)`` and about 0 elsewhere.
    ``sigmoid_staircase([-2, 2], [1])`` is the lecture's bump: weights ``(-5, 5)``,
    biases ``(10, 10)``, output weights ``(1, 1)``, output bias ``-1``.

    Args:
        edges: ``m + 1`` strictly increasing numbers.
        heights: ``m`` numbers.
        sharpness: ``s > 0``, the slope of every sigmoid (edges are blurred over about ``4 / s``).

    Returns:
        ``Sequential(Linear(1, 2m), Sigmoid(), Linear(2m, 1))``, mapping ``(n, 1)`` to ``(n, 1)``.
    """
    e, h = _check_staircase(edges, heights)
    s = check_real(sharpness, "sharpness", positive=True)
    m = len(h)
    net = torch.nn.Sequential(
        torch.nn.Linear(1, 2 * m), torch.nn.Sigmoid(), torch.nn.Linear(2 * m, 1)
    )
    weight, bias, out = [], [], []
    for j in range(m):
        a, b = e[j], e[j + 1]
        weight += [-s, s]
        bias += [s * b, 0.0 - s * a]
        out += [h[j], h[j]]
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(weight).reshape(2 * m, 1))
        net[0].bias.copy_(torch.tensor(bias))
        net[2].weight.copy_(torch.tensor(out).reshape(1, 2 * m))
        net[2].bias.fill_(-sum(h))
    return net


def step_staircase(
    edges: Numbers, heights: Numbers, sharpness: float = 200.0, dtype: torch.dtype = torch.float32
) -> torch.nn.Sequential:
    """A hand-set ``Linear(1, m) -> StepUnit -> Linear(m, 1)`` giving an ``m``-step staircase.

    Hidden unit ``j`` maps ``x`` to ``(x - c) / w`` (``c`` and ``w`` the centre and width of
    step ``j``), so ``h`` is about 1 exactly on ``(edges[j], edges[j + 1])``; the output
    layer weights it by ``heights[j]`` (output bias 0). One ``h`` unit per step: this is
    the network the universal-approximation argument builds. Each step's edges are
    blurred over about 2 % of its own width, so a very wide step leaks a little into a
    much narrower neighbour.

    Args:
        edges: ``m + 1`` strictly increasing numbers.
        heights: ``m`` numbers.
        sharpness: the ``StepUnit``'s sharpness (in units of the step width).
        dtype: the parameters' dtype, ``torch.float32`` or ``torch.float64``.

    Returns:
        ``Sequential(Linear(1, m), StepUnit(sharpness), Linear(m, 1))``; ``(n, 1) -> (n, 1)``.
    """
    e, h = _check_staircase(edges, heights)
    s = check_real(sharpness, "sharpness", positive=True)
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    m = len(h)
    net = torch.nn.Sequential(torch.nn.Linear(1, m), StepUnit(s), torch.nn.Linear(m, 1)).to(dtype)
    lo = torch.tensor(e[:-1], dtype=torch.float64)
    hi = torch.tensor(e[1:], dtype=torch.float64)
    width, centre = hi - lo, (hi + lo) / 2
    with torch.no_grad():
        net[0].weight.copy_((1 / width).reshape(m, 1))
        net[0].bias.copy_(-centre / width)
        net[2].weight.copy_(torch.tensor(h, dtype=torch.float64).reshape(1, m))
        net[2].bias.zero_()
    return net


def staircase(
    x: torch.Tensor, edges: Numbers, heights: Numbers, sharpness: float = 200.0
) -> torch.Tensor:
    """Values of the ``m``-step staircase of :func:`step_staircase` at ``x``.

    Args:
        x: floating tensor of shape ``(n, 1)`` (or ``(n,)``).
        edges, heights, sharpness: as in :func:`step_staircase`.

    Returns:
        A tensor shaped like ``x``, of ``x``'s dtype (computed in float64 for float64
        ``x``, else in float32; no gradient is tracked).
    """
    check_tensor(x, "x", ndim=(1, 2), floating=True)
    if x.ndim == 2 and x.shape[1] != 1:
        raise ValueError(f"x must have shape (n, 1) or (n,), got {tuple(x.shape)}")
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    net = step_staircase(edges, heights, sharpness, dtype=dtype)
    with torch.no_grad():
        return net(x.reshape(-1, 1).to(dtype)).reshape(x.shape).to(x.dtype)
