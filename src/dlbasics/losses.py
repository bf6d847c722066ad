"""The course's loss functions, all called as ``loss(yhat, y)`` like PyTorch's.

* ``sse``: sum of squared errors (Week 1), ``(y - yhat)^T (y - yhat)``.
* ``mse``: mean squared error.
* ``bce``: binary cross-entropy of probabilities ``yhat`` in (0, 1), mean over rows.
* ``bce_with_logits``: the same computed stably from logits ``z`` (``yhat = sigmoid(z)``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from dlbasics._checks import check_choice, check_same_shape, check_tensor, check_unit_interval

__all__ = ["sse", "mse", "bce", "bce_with_logits", "bce_table", "resolve_loss", "LOSSES"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LossLike = str | LossFn


def _check_pair(yhat: object, y: object, yhat_name: str = "yhat") -> None:
    """Both tensors, same shape: ``(n, 1)`` against ``(n,)`` would broadcast to ``(n, n)``."""
    check_tensor(yhat, yhat_name, floating=True)
    check_tensor(y, "y", floating=True)
    check_same_shape(yhat, y, yhat_name, "y")


def sse(yhat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum of squared errors; ``yhat`` and ``y`` of the same shape. Returns a scalar."""
    _check_pair(yhat, y)
    return torch.sum((y - yhat) ** 2)


def mse(yhat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error; ``yhat`` and ``y`` of the same shape. Returns a scalar."""
    _check_pair(yhat, y)
    return torch.mean((y - yhat) ** 2)


def bce(yhat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of probabilities, ``-mean(y log yhat + (1 - y) log(1 - yhat))``.

    ``yhat`` and ``y`` of the same shape, both in [0, 1] (``y`` may be 0/1 labels or
    probabilities). A ``nan`` in ``yhat`` (a diverged model) gives ``nan``, not an error.
    """
    _check_pair(yhat, y)
    check_unit_interval(y, "y", "labels")
    if bool(yhat.detach().isnan().any()):
        return yhat.sum() * torch.nan  # nan, still connected to the graph
    check_unit_interval(yhat, "yhat", "probabilities; for logits use bce_with_logits")
    return F.binary_cross_entropy(yhat, y)


def bce_with_logits(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy from logits ``z``: ``mean(softplus(z) - y z)``, stable for any ``z``.

    ``z`` and ``y`` of the same shape, ``y`` in [0, 1].
    """
    _check_pair(z, y, "z")
    check_unit_interval(y, "y", "labels")
    return F.binary_cross_entropy_with_logits(z, y)


LOSSES: dict[str, LossFn] = {"sse": sse, "mse": mse, "bce": bce}


def resolve_loss(loss: LossLike) -> LossFn:
    """Turn a loss name (``"sse"``, ``"mse"``, ``"bce"``) or a callable into a callable."""
    if callable(loss):
        return loss
    check_choice(loss, "loss", tuple(LOSSES))
    return LOSSES[loss]


def bce_table(y: torch.Tensor, yhat: torch.Tensor) -> list[dict[str, float]]:
    """Per-row binary cross-entropy, for the lecture's small table.

    Args:
        y: labels in {0, 1}, shape ``(n,)``.
        yhat: predicted probabilities in (0, 1), shape ``(n,)``.

    Returns:
        One dict per row: ``{"y": ..., "yhat": ..., "loss": -[y log yhat + (1-y) log(1-yhat)]}``.
    """
    check_tensor(y, "y", ndim=1, floating=True)
    check_tensor(yhat, "yhat", ndim=1, floating=True, finite=True)
    if y.shape != yhat.shape:
        raise ValueError(
            f"y and yhat must have the same shape, got {tuple(y.shape)} and {tuple(yhat.shape)}"
        )
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("y must contain only 0 and 1")
    if not bool(((yhat > 0) & (yhat < 1)).all()):
        raise ValueError("yhat must lie strictly between 0 and 1 (probabilities)")
    yd, pd = y.double(), yhat.double()
    per_row = -(yd * torch.log(pd) + (1 - yd) * torch.log1p(-pd))  # float64, row by row
    return [
        {"y": float(a), "yhat": float(b), "loss": float(c)}
        for a, b, c in zip(y.tolist(), yhat.tolist(), per_row.tolist(), strict=True)
    ]
