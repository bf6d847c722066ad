"""Classification metrics computed from a model's outputs.

* :func:`accuracy`: share of correct predictions, from logits or probabilities.
* :func:`confusion_matrix`: counts of (true class, predicted class) pairs.
"""

from __future__ import annotations

import math

import torch

from dlbasics._checks import check_int, check_tensor

__all__ = ["predict_classes", "accuracy", "confusion_matrix"]


def _check_logits_flag(logits: object, one_column: bool) -> bool | None:
    if logits is None and one_column:
        raise ValueError(
            "logits must be given for a one-column yhat: logits=True for raw scores "
            "(class 1 when > 0), logits=False for sigmoid probabilities (class 1 when > 0.5)"
        )
    if logits is not None and not isinstance(logits, bool):
        raise TypeError(f"logits must be a bool, got {type(logits).__name__}")
    return logits


def predict_classes(yhat: torch.Tensor, *, logits: bool | None = None) -> torch.Tensor:
    """Predicted class of each row, shape ``(n,)`` (int64).

    Args:
        yhat: shape ``(n, k)`` with ``k >= 2`` (class scores or probabilities: the
            argmax wins), or ``(n, 1)`` / ``(n,)`` for two classes (class 1 when the
            logit is > 0, or the probability > 0.5).
        logits: what a one-column ``yhat`` holds, required for it: ``True`` for logits,
            ``False`` for probabilities (which must lie in ``[0, 1]``). With ``k >= 2``
            columns it may be left out (the argmax is the same either way); ``False``
            then checks that the values lie in ``[0, 1]``.
    """
    check_tensor(yhat, "yhat", ndim=(1, 2))
    one_column = yhat.ndim == 1 or yhat.shape[1] == 1
    logits = _check_logits_flag(logits, one_column)
    if logits is False and yhat.is_floating_point():
        v = yhat.detach()
        inside = (v >= 0) & (v <= 1) | v.isnan()
        if not bool(inside.all()):
            bad = v[~inside].reshape(-1)[:3].tolist()
            raise ValueError(
                f"yhat must hold probabilities in [0, 1] with logits=False, got values such "
                f"as {bad}; pass logits=True for raw scores"
            )
    if not one_column:
        return yhat.argmax(dim=1)
    scores = yhat.reshape(-1)
    return (scores > (0.0 if logits else 0.5)).long()


def accuracy(yhat: torch.Tensor, y: torch.Tensor, *, logits: bool | None = None) -> float:
    """Share of rows whose predicted class (see :func:`predict_classes`) equals ``y``.

    Counted exactly (9812 correct of 10000 gives 0.9812). ``nan`` when ``yhat`` holds
    a nan or inf: a diverged model has no accuracy.

    Args:
        yhat: model outputs, ``(n, k)`` class scores or ``(n, 1)``/``(n,)`` for two classes.
        y: true classes, ``n`` integers (or 0.0/1.0 floats), shape ``(n,)`` or ``(n, 1)``,
            each in ``[0, k)`` (``0`` or ``1`` for a one-column ``yhat``).
        logits: what a one-column ``yhat`` holds (required for it): logits or probabilities.
    """
    pred = predict_classes(yhat, logits=logits)
    check_tensor(y, "y", ndim=(1, 2))
    if y.numel() != pred.numel():
        raise ValueError(
            f"y must hold one class per row of yhat ({pred.numel()}), got shape {tuple(y.shape)}"
        )
    labels = y.detach().reshape(-1).cpu()
    if y.dtype == torch.bool:
        raise TypeError("y must hold class numbers (int64, or 0.0/1.0 floats), got torch.bool")
    if labels.is_floating_point() and not bool(torch.all(labels == labels.round())):
        raise ValueError(
            f"y must hold whole class numbers (e.g. 0, 1, ..., 9), got values such as "
            f"{labels[labels != labels.round()][:3].tolist()}"
        )
    one_column = yhat.ndim == 1 or yhat.shape[1] == 1
    classes = 2 if one_column else yhat.shape[1]
    what = "one column: two classes" if one_column else f"{classes} columns"
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        raise ValueError(
            f"y must hold classes from 0 to {classes - 1} (yhat has {what}), "
            f"got classes from {low} to {high}"
        )
    if yhat.is_floating_point() and not bool(torch.isfinite(yhat.detach()).all()):
        return math.nan
    correct = int((pred.cpu() == labels.long()).sum())
    return correct / labels.numel()


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
