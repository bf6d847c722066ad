"""Week 6: hand-set sigmoid networks behind Cybenko's theorem.

:func:`sigmoid_staircase` builds ``Linear(1, 2m) -> Sigmoid -> Linear(2m, 1)`` whose output
is a staircase with ``m`` steps: each step is a pair of sigmoids, one rising at the step's
left edge and one falling at its right edge. A staircase is given by its ``m + 1``
increasing ``edges`` and ``m`` ``heights``: step ``j`` has height ``heights[j]`` on
``(edges[j], edges[j + 1])`` and the output is about 0 outside ``(edges[0], edges[-1])``.

The one-step activation ``h``, its module and the ``h`` staircase are the post's own
lesson: it writes them in its cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dlbasics._checks import check_real

__all__ = ["sigmoid_staircase"]

Numbers = Sequence[float] | torch.Tensor


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
