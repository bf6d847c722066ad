"""Classification metrics computed from a model's outputs.

* :func:`accuracy`: share of correct predictions, from logits or probabilities.
* :func:`confusion_matrix`: counts of (true class, predicted class) pairs.
"""

from __future__ import annotations

import torch

from dlbasics._checks import check_int, check_tensor

__all__ = ["predict_classes", "accuracy", "confusion_matrix"]


def predict_classes(yhat: torch.Tensor, *, logits: bool = True) -> torch.Tensor:
    """Predicted class of each row, shape ``(n,)`` (int64).

    Args:
        yhat: shape ``(n, k)`` with ``k >= 2`` (class scores: the argmax wins), or
            ``(n, 1)`` / ``(n,)`` for two classes (one logit, or one probability when
            ``logits=False``; class 1 when the logit is > 0 or the probability > 0.5).
        logits: whether a one-column ``yhat`` holds logits (``True``) or probabilities.
    """
    check_tensor(yhat, "yhat", ndim=(1, 2))
    if not isinstance(logits, bool):
        raise TypeError(f"logits must be a bool, got {type(logits).__name__}")
    if yhat.ndim == 2 and yhat.shape[1] >= 2:
        return yhat.argmax(dim=1)
    scores = yhat.reshape(-1)
    return (scores > (0.0 if logits else 0.5)).long()


def accuracy(yhat: torch.Tensor, y: torch.Tensor, *, logits: bool = True) -> float:
    """Share of rows whose predicted class (see :func:`predict_classes`) equals ``y``.

    Args:
        yhat: model outputs, ``(n, k)`` class scores or ``(n, 1)``/``(n,)`` for two classes.
        y: true classes, ``n`` integers (or 0.0/1.0 floats), shape ``(n,)`` or ``(n, 1)``.
        logits: whether a one-column ``yhat`` holds logits or probabilities.
    """
    pred = predict_classes(yhat, logits=logits)
    check_tensor(y, "y", ndim=(1, 2))
    if y.numel() != pred.numel():
        raise ValueError(
            f"y must hold one class per row of yhat ({pred.numel()}), got shape {tuple(y.shape)}"
        )
    labels = y.reshape(-1)
    if labels.is_floating_point() and not bool(torch.all(labels == labels.round())):
        raise ValueError("y must hold whole class numbers (e.g. 0, 1, ..., 9)")
    return float((pred == labels.long()).float().mean())


def confusion_matrix(y: torch.Tensor, pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts ``C[i, j]`` of rows with true class ``i`` predicted as ``j``, shape ``(k, k)``.

    Args:
        y: true classes, shape ``(n,)``, integers in ``[0, num_classes)``.
        pred: predicted classes, shape ``(n,)``, integers in ``[0, num_classes)``.
        num_classes: ``k``, the number of classes.
    """
    check_tensor(y, "y", ndim=1)
    check_tensor(pred, "pred", ndim=1)
    k = check_int(num_classes, "num_classes", minimum=2)
    if y.shape != pred.shape:
        raise ValueError(
            f"y and pred must have the same shape, got {tuple(y.shape)} and {tuple(pred.shape)}"
        )
    for name, t in (("y", y), ("pred", pred)):
        if t.is_floating_point() or t.dtype == torch.bool:
            raise TypeError(f"{name} must hold integer classes (torch.int64), got {t.dtype}")
        if int(t.min()) < 0 or int(t.max()) >= k:
            raise ValueError(
                f"{name} must hold classes from 0 to {k - 1}, got {int(t.min())}..{int(t.max())}"
            )
    return torch.bincount(y.long() * k + pred.long(), minlength=k * k).reshape(k, k)
