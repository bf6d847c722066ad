"""Small networks with hand-set weights, and tools to read them back (Week 5).

The networks here all have the shape of Week 5's "bent line":

    X (n, 1) --Linear(1, k, bias=False)--> u (n, k) --ReLU--> v (n, k)
             --Linear(k, 1)--> yhat (n, 1)  [--Sigmoid--> probability]

* :func:`bent_line_net` builds the two-unit version from the two slopes and the
  height of the kink at ``x = 0``.
* :func:`irony_truth_net` is the net whose output is exactly the true logit of
  :func:`dlbasics.data.irony_of_spec`.
* :func:`bent_line_params` reads the slopes and height back from any such net
  (for example a trained one), and :func:`hidden_directions` says on which side
  of the kink each hidden unit is switched on.

PyTorch stores a ``Linear(in, out)`` weight as an ``(out, in)`` matrix, the
transpose of the ``W`` in the textbook formula ``X @ W + b``.
"""

from __future__ import annotations

import torch

from dlbasics._checks import check_real

__all__ = ["bent_line_net", "irony_truth_net", "bent_line_params", "hidden_directions"]


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


def _bent_layers(net: object) -> tuple[torch.nn.Linear, torch.nn.Linear]:
    """The two Linear layers of a ``Linear(1, k, bias=False) -> ReLU -> Linear(k, 1)`` net."""
    if not isinstance(net, torch.nn.Sequential):
        raise TypeError(f"net must be a torch.nn.Sequential, got {type(net).__name__}")
    layers = list(net)
    if len(layers) < 3 or not (
        isinstance(layers[0], torch.nn.Linear)
        and isinstance(layers[1], torch.nn.ReLU)
        and isinstance(layers[2], torch.nn.Linear)
    ):
        raise ValueError(
            "net must start with Linear(1, k) -> ReLU -> Linear(k, 1), got "
            + " -> ".join(type(m).__name__ for m in layers)
        )
    rest = layers[3:]
    if len(rest) > 1 or (rest and not isinstance(rest[0], torch.nn.Sigmoid)):
        raise ValueError(
            "net may only end with an optional Sigmoid after the second Linear, got "
            + " -> ".join(type(m).__name__ for m in layers)
        )
    l1, l2 = layers[0], layers[2]
    if l1.in_features != 1:
        raise ValueError(f"the first Linear must take 1 input, got {l1.in_features}")
    if l2.in_features != l1.out_features or l2.out_features != 1:
        raise ValueError(
            f"the second Linear must map {l1.out_features} hidden units to 1 output, "
            f"got Linear({l2.in_features}, {l2.out_features})"
        )
    return l1, l2


def bent_line_params(net: torch.nn.Sequential) -> dict[str, float]:
    """Slopes and kink height of a ``Linear(1, k, bias=False) -> ReLU -> Linear(k, 1)`` net.

    Because ``relu(a x) = a relu(x)`` for ``a > 0``, a hidden unit with first-layer
    weight ``w`` and output weight ``c`` adds ``c * w * x`` on the side where
    ``w x > 0`` and nothing on the other side; only the products ``c * w`` matter.
    This inverts :func:`bent_line_net` and also reads trained nets.

    Args:
        net: a ``torch.nn.Sequential`` ``Linear(1, k, bias=False) -> ReLU ->
            Linear(k, 1)`` (optionally followed by ``Sigmoid``; the values
            describe the line before the sigmoid, i.e. the logit).

    Returns:
        ``{"left_slope", "right_slope", "bias"}``: the output before any sigmoid is
        ``bias + left_slope * x`` for ``x < 0`` and ``bias + right_slope * x`` for ``x > 0``.
    """
    l1, l2 = _bent_layers(net)
    if l1.bias is not None:
        raise ValueError(
            "the first Linear must have bias=False (the kink sits at x = 0); "
            "a first-layer bias moves each unit's kink elsewhere"
        )
    w = l1.weight.detach().reshape(-1).double()
    c = l2.weight.detach().reshape(-1).double()
    b = float(l2.bias.detach()) if l2.bias is not None else 0.0
    prod = c * w
    return {
        "left_slope": float(prod[w < 0].sum()),
        "right_slope": float(prod[w > 0].sum()),
        "bias": b,
    }


def hidden_directions(net: torch.nn.Sequential) -> list[str]:
    """Where each hidden ReLU unit of a ``Linear(1, k) -> ReLU -> ...`` net is switched on.

    Unit ``j`` computes ``relu(w_j x + b_j)``; it is on (passes a signal and a
    gradient) for ``x > -b_j / w_j`` when ``w_j > 0``, for ``x < -b_j / w_j`` when
    ``w_j < 0``, everywhere or nowhere when ``w_j = 0``. Units switched on for the
    same side cannot make a line that bends there: on the other side they are flat
    and receive zero gradient.

    Args:
        net: a ``torch.nn.Sequential`` starting ``Linear(1, k) -> ReLU -> Linear(k, 1)``
            (the first Linear may have a bias).

    Returns:
        ``k`` strings such as ``"x > 0"``, ``"x < 0.25"``, ``"everywhere"``, ``"nowhere"``.
    """
    l1, _ = _bent_layers(net)
    w = l1.weight.detach().reshape(-1).double()
    b = l1.bias.detach().reshape(-1).double() if l1.bias is not None else torch.zeros_like(w)
    out = []
    for wj, bj in zip(w.tolist(), b.tolist(), strict=True):
        if wj == 0:
            out.append("everywhere" if bj > 0 else "nowhere")
            continue
        kink = -bj / wj
        kink = 0.0 if kink == 0 else kink  # no "-0"
        out.append(f"x {'>' if wj > 0 else '<'} {kink:.3g}")
    return out
