"""Small models shared by the posts: logistic regression written two ways.

* :class:`LogisticRegression` subclasses ``torch.nn.Module`` (Week 3's lesson):
  a linear layer in ``__init__``, the sigmoid applied in ``forward``.
* :func:`logistic_sequential` builds the same model as
  ``nn.Sequential(nn.Linear(in_features, 1), nn.Sigmoid())`` (Week 4 uses this form).

Both hold their parameters in one ``nn.Linear``; :func:`linear_of` finds it in
either form (or in a bare ``nn.Linear``, a model that outputs logits, or in any
module that keeps it as ``self.linear``, such as the class a student writes in
Week 3's post), so
:func:`copy_weights`, :func:`set_weights` and :func:`decision_boundary` work on
all three.
"""

from __future__ import annotations

import math
from numbers import Real

import torch
from torch import nn

from dlbasics._checks import check_int, check_real

__all__ = [
    "LogisticRegression",
    "logistic_sequential",
    "linear_of",
    "copy_weights",
    "set_weights",
    "decision_boundary",
]


class LogisticRegression(nn.Module):
    """P(y = 1 | x) = sigmoid(w . x + b): a linear layer, then a sigmoid.

    forward takes x of shape (n, in_features) and returns probabilities of shape (n, 1).
    """

    def __init__(self, in_features: int = 1) -> None:
        in_features = check_int(in_features, "in_features", minimum=1)
        super().__init__()  # must run before any layer is assigned to self
        self.linear = nn.Linear(in_features, 1)  # registers weight (1, in) and bias (1,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear(x)  # the logit, any real number
        return torch.sigmoid(z)  # squashed into (0, 1)


def logistic_sequential(in_features: int = 1) -> nn.Sequential:
    """The same model as :class:`LogisticRegression`, built as ``nn.Sequential``.

    Returns:
        ``nn.Sequential(nn.Linear(in_features, 1), nn.Sigmoid())``: input ``(n, in_features)``,
        output ``(n, 1)``; its parameters are named ``"0.weight"`` and ``"0.bias"``.
    """
    in_features = check_int(in_features, "in_features", minimum=1)
    return nn.Sequential(nn.Linear(in_features, 1), nn.Sigmoid())


def linear_of(net: nn.Module) -> nn.Linear:
    """The single ``nn.Linear`` that holds a logistic model's parameters.

    Accepts a :class:`LogisticRegression` (or any module whose layer is the attribute
    ``linear``, e.g. the same class written in a post), a ``nn.Sequential`` whose first
    layer is ``nn.Linear`` (e.g. from :func:`logistic_sequential`) or a bare ``nn.Linear``
    (a model that returns logits).
    """
    if isinstance(net, nn.Linear):
        return net
    if isinstance(net, nn.Module) and isinstance(getattr(net, "linear", None), nn.Linear):
        return net.linear
    if isinstance(net, nn.Sequential) and len(net) > 0 and isinstance(net[0], nn.Linear):
        return net[0]
    if isinstance(net, nn.Module):
        raise ValueError(
            f"net must be a LogisticRegression (a module with a .linear layer), an "
            f"nn.Sequential starting with nn.Linear or an nn.Linear; got a "
            f"{type(net).__name__} with no such layer"
        )
    raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")


def copy_weights(src: nn.Module, dst: nn.Module) -> nn.Module:
    """Copy the linear layer's weight ``(1, d)`` and bias ``(1,)`` from ``src`` into ``dst``.

    Works between any two of :class:`LogisticRegression`, :func:`logistic_sequential`
    and ``nn.Linear`` with the same number of input features. Returns ``dst``.
    """
    a, b = linear_of(src), linear_of(dst)
    if a.weight.shape != b.weight.shape or a.bias.shape != b.bias.shape:
        raise ValueError(
            f"src and dst must have the same layer shape, got weight {tuple(a.weight.shape)} "
            f"and {tuple(b.weight.shape)}"
        )
    with torch.no_grad():
        b.weight.copy_(a.weight)
        b.bias.copy_(a.bias)
    return dst


def set_weights(net: nn.Module, weight: float | torch.Tensor, bias: float) -> nn.Module:
    """Set the linear layer of a logistic model to ``z = x @ weight + bias``; returns ``net``.

    Args:
        net: see :func:`linear_of`.
        weight: a number (one input feature) or a tensor of shape ``(d,)`` or ``(1, d)``.
        bias: a number.
    """
    lin = linear_of(net)
    bias = check_real(bias, "bias")
    if isinstance(weight, Real) and not isinstance(weight, bool):
        w = torch.tensor([[check_real(weight, "weight")]])
    elif isinstance(weight, torch.Tensor):
        if not weight.is_floating_point():
            raise TypeError(f"weight must have a floating dtype, got {weight.dtype}")
        w = weight.detach().reshape(1, -1)
        if not bool(torch.isfinite(w).all()):
            raise ValueError("weight must contain only finite numbers")
    else:
        raise TypeError(f"weight must be a real number or a tensor, got {type(weight).__name__}")
    if w.shape != lin.weight.shape:
        raise ValueError(
            f"weight must have {lin.in_features} entries for this model, got {w.numel()}"
        )
    with torch.no_grad():
        lin.weight.copy_(w)
        lin.bias.fill_(bias)
    return net


def decision_boundary(net: nn.Module) -> float:
    """The input where a one-feature logistic model says 0.5: ``x = -b / w``.

    There ``z = w x + b = 0``, so ``sigmoid(z) = 0.5``; the model predicts 1 on the side
    where ``z > 0`` (to the right of the boundary when ``w > 0``).

    Raises:
        ValueError: if the model has more than one input feature or ``w == 0``
            (then every input gets the same prediction and there is no boundary).
    """
    lin = linear_of(net)
    if lin.in_features != 1:
        raise ValueError(
            f"decision_boundary needs a model with one input feature, got {lin.in_features}"
        )
    w, b = float(lin.weight.detach().reshape(())), float(lin.bias.detach().reshape(()))
    if w == 0.0 or not math.isfinite(w) or not math.isfinite(b):
        raise ValueError(f"no decision boundary: weight is {w} and bias is {b}")
    return -b / w
