"""Argument checks shared by the public helpers: clear errors that name the argument."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch


def check_tensor(
    value: object,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    floating: bool = False,
    finite: bool = False,
    nonempty: bool = True,
) -> torch.Tensor:
    """Raise ``TypeError``/``ValueError`` unless ``value`` is a suitable tensor."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {tuple(value.shape)}")
    if floating and not value.is_floating_point():
        raise TypeError(
            f"{name} must have a floating dtype (e.g. torch.float32), got {value.dtype}; "
            "use .float()"
        )
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    if finite and value.is_floating_point() and not _all_finite(value):
        raise ValueError(f"{name} must contain only finite numbers (no nan/inf)")
    return value


def _all_finite(value: torch.Tensor) -> bool:
    """Whether a floating tensor has no nan/inf (NumPy's check is cheaper on the CPU)."""
    numpy_ok = value.dtype in (torch.float16, torch.float32, torch.float64)
    if numpy_ok and value.device.type == "cpu" and value.layout == torch.strided:
        return bool(np.isfinite(value.detach().numpy()).all())
    return bool(torch.isfinite(value).all())


def check_unit_interval(value: torch.Tensor, name: str, what: str = "values") -> None:
    """Raise ``ValueError`` unless every entry of ``value`` lies in [0, 1] (no nan)."""
    v = value.detach()
    if not bool(((v >= 0) & (v <= 1)).all()):
        bad = v[~((v >= 0) & (v <= 1))].reshape(-1)[:3].tolist()
        raise ValueError(f"{name} ({what}) must lie in [0, 1], got values such as {bad}")


def check_same_shape(a: torch.Tensor, b: torch.Tensor, aname: str, bname: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have exactly the same shape (no broadcasting)."""
    if a.shape != b.shape:
        raise ValueError(
            f"{aname} and {bname} must have the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}; broadcasting (n, 1) against (n,) would compare every pair"
        )


def check_matching_rows(
    X: torch.Tensor, y: torch.Tensor, xname: str = "X", yname: str = "y"
) -> None:
    """Raise ``ValueError`` unless ``X`` and ``y`` have the same number of rows."""
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{xname} and {yname} must have the same number of rows, "
            f"got {X.shape[0]} and {y.shape[0]}"
        )


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """Raise unless ``value`` is an integer (not bool) at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(value: object, name: str, *, positive: bool = False) -> float:
    """Raise unless ``value`` is a finite real number (positive if asked)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_lr(lr: object) -> float:
    """A learning rate is a finite number > 0."""
    return check_real(lr, "lr", positive=True)


def check_grid(values: object, name: str) -> torch.Tensor:
    """A 1-D, non-empty, finite grid of parameter values, returned as float64 tensor."""
    if isinstance(values, (list, tuple, np.ndarray)):
        values = torch.as_tensor(np.asarray(values, dtype=np.float64))
    check_tensor(values, name, ndim=1, floating=True, finite=True)
    return values.double()


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """Raise unless ``value`` is one of the strings in ``choices``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {choices}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value
