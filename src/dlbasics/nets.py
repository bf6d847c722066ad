"""Small networks with hand-set weights (Week 5).

The networks here have the shape of Week 5's "bent line":

    X (n, 1) --Linear(1, 2, bias=False)--> u (n, 2) --ReLU--> v (n, 2)
             --Linear(2, 1)--> yhat (n, 1)  [--Sigmoid--> probability]

* :func:`bent_line_net` builds it from the two slopes and the height of the kink at
  ``x = 0``.
* :func:`irony_truth_net` is the net whose output is exactly the true logit of
  :func:`dlbasics.data.irony_of_spec`.

Reading slopes back from a trained net is the post's own lesson (it writes that code).

PyTorch stores a ``Linear(in, out)`` weight as an ``(out, in)`` matrix, the
transpose of the ``W`` in the textbook formula ``X @ W + b``.
"""

from __future__ import annotations

import torch

from dlbasics._checks import check_real

__all__ = ["bent_line_net", "irony_truth_net"]


def bent_line_net(
    left_slope: float, right_slope: float, bias: float, *, sigmoid: bool = False
) -> torch.nn.Sequential:
    """``Linear(1, 2, bias=False) -> ReLU -> Linear(2, 1)`` drawing a line bent at ``x = 0``.

    The output is ``bias + left_slope * x`` for ``x < 0`` and ``bias + right_slope * x``
    for ``x >= 0``, written as ``right_slope * relu(x) - left_slope * relu(-x) + bias``:
    the first layer has weights ``[1, -1]`` (one unit looks right, one looks left),
    the second layer weights ``[right_slope, -left_slope]`` and bias ``bias``.

    Args:
        left_slope: slope for ``x < 0``.
        right_slope: slope for ``x > 0``.
        bias: value at the kink ``x = 0``.
        sigmoid: append ``torch.nn.Sigmoid()`` so the net outputs probabilities.

    Returns:
        A ``torch.nn.Sequential`` mapping ``(n, 1)`` inputs to ``(n, 1)`` outputs.
    """
    left = check_real(left_slope, "left_slope")
    right = check_real(right_slope, "right_slope")
    b = check_real(bias, "bias")
    if not isinstance(sigmoid, bool):
        raise TypeError(f"sigmoid must be a bool, got {type(sigmoid).__name__}")
    l1 = torch.nn.Linear(1, 2, bias=False)
    l2 = torch.nn.Linear(2, 1)
    with torch.no_grad():
        l1.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        l2.weight.copy_(torch.tensor([[right, -left]]))
        l2.bias.fill_(b)
    layers: list[torch.nn.Module] = [l1, torch.nn.ReLU(), l2]
    if sigmoid:
        layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


def irony_truth_net(*, sigmoid: bool = False) -> torch.nn.Sequential:
    """The bent-line net whose output is exactly :func:`dlbasics.data.irony_logit`.

    ``logit = 5 - 15 relu(-x) - 5 relu(x)``, i.e. ``5 + 15 x`` left of 0 and
    ``5 - 5 x`` right of it. With ``sigmoid=True`` it outputs the true probability.

    Returns:
        A ``torch.nn.Sequential`` mapping ``(n, 1)`` to ``(n, 1)``.
    """
    return bent_line_net(15.0, -5.0, 5.0, sigmoid=sigmoid)
