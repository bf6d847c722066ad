"""Validation of :func:`~dlbasics.anim.animate_training`'s arguments, before any drawing.

Rules: a wrong type raises ``TypeError`` and a wrong value ``ValueError``; the message
names the argument, says what was expected and what was received. Data is read as
float64 NumPy arrays of shape ``(n,)``; tensors only (``torch.Tensor``), finite.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np
import torch

from dlbasics._checks import check_int
from dlbasics.anim.style import Style
from dlbasics.surface import Surface
from dlbasics.train import History


def as_column(value: object, name: str) -> np.ndarray:
    """A finite tensor of shape ``(n,)`` or ``(n, 1)`` as a float64 array of shape ``(n,)``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim == 2 and value.shape[1] != 1 or value.ndim not in (1, 2):
        hint = " (for Week 1 pass the feature column X[:, 1])" if name == "x" else ""
        raise ValueError(f"{name} must have shape (n,) or (n, 1), got {tuple(value.shape)}{hint}")
    if value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    out = value.detach().reshape(-1).double().cpu().numpy()
    if not np.isfinite(out).all():
        raise ValueError(f"{name} must contain only finite numbers, got nan or inf")
    return out


def check_pair(x: object, y: object, xname: str, yname: str) -> tuple[np.ndarray, np.ndarray]:
    """Two columns of the same length."""
    xs, ys = as_column(x, xname), as_column(y, yname)
    if xs.size != ys.size:
        raise ValueError(
            f"{xname} and {yname} must have the same length, got {xs.size} and {ys.size}"
        )
    return xs, ys


def check_history(value: object, name: str) -> History:
    if not isinstance(value, History):
        raise TypeError(f"{name} must be a dlbasics.train.History, got {type(value).__name__}")
    if len(value) == 0:
        raise ValueError(f"{name} is empty: nothing was recorded")
    return value


def check_runs(history: object) -> list[tuple[str, History]]:
    """``history`` as ``[(name, run)]``: one run, or ``{name: run}`` for two compared runs."""
    if not isinstance(history, Mapping):
        return [("history", check_history(history, "history"))]
    if len(history) != 2 or not all(isinstance(k, str) and k for k in history):
        raise ValueError(
            "history must be one History or a dict of two runs {name: History} with "
            f"non-empty string names, got a dict with keys {list(history)!r}"
        )
    runs = [(k, check_history(v, f"history[{k!r}]")) for k, v in history.items()]
    (n0, r0), (n1, r1) = runs
    if list(r1.params[0]) != list(r0.params[0]):
        raise ValueError(
            f"history[{n1!r}] records the parameters {list(r1.params[0])} but history[{n0!r}] "
            f"records {list(r0.params[0])}; both runs must train the same model"
        )
    return runs


def check_frames(frames: object, runs: list[tuple[str, History]]) -> int:
    """At least 2 frames and no more than any run has records (the run is named)."""
    frames = check_int(frames, "frames", minimum=2)
    for name, run in runs:
        if frames > len(run):
            where = name if name == "history" else f"history[{name!r}]"
            raise ValueError(
                f"frames must be <= the records of {where}, got frames={frames} but {where} "
                f"has {len(run)} records; pass frames <= {len(run)} or record more often "
                "(record_every)"
            )
    return frames


def check_predictions(runs: list[tuple[str, History]], n: int) -> None:
    """Every record holds ``n`` predictions (the data the animation draws)."""
    for name, run in runs:
        where = "history" if name == "history" else f"history[{name!r}]"
        for k, t in enumerate(run.yhat):
            if t.numel() != n:
                raise ValueError(
                    f"{where}.yhat[{k}] has {t.numel()} values but x has {n}; "
                    "the history must record predictions at x (record_yhat=True, same data)"
                )


def check_param_names(history: History, param_names: object) -> list[str] | None:
    """``param_names`` as a list (``None``: every recorded parameter), checked."""
    if param_names is None:
        return None
    if isinstance(param_names, str) or not isinstance(param_names, Sequence):
        raise TypeError(
            f"param_names must be a list of parameter names, got {type(param_names).__name__}"
        )
    recorded = list(history.params[0])
    unknown = [k for k in param_names if k not in recorded]
    if unknown:
        raise ValueError(
            f"param_names {unknown} are not recorded parameters; choose from {recorded}"
        )
    return list(param_names)


def check_markers(markers: object, surface: Surface | None) -> dict[str, tuple[float, float]]:
    """``{label: (w0, w1)}`` of finite numbers; they need a surface to be drawn on."""
    if markers is None:
        return {}
    if not isinstance(markers, Mapping):
        raise TypeError(f"markers must be a dict label -> (w0, w1), got {type(markers).__name__}")
    out = {}
    for label, point in markers.items():
        ok = isinstance(point, (tuple, list)) and len(point) == 2
        if ok:
            ok = all(isinstance(v, Real) and math.isfinite(float(v)) for v in point)
        if not ok:
            raise ValueError(
                f"markers[{label!r}] must be a pair of finite numbers (w0, w1), got {point!r}"
            )
        out[str(label)] = (float(point[0]), float(point[1]))
    if out and surface is None:
        raise ValueError("markers are drawn on the surface: pass surface= as well")
    return out


def check_options(surface: object, style: object, **texts: object) -> Style:
    """The surface's type, the ``Style`` (default ``Style()``) and the optional strings."""
    if surface is not None and not isinstance(surface, Surface):
        raise TypeError(f"surface must be a dlbasics.surface.Surface, got {type(surface).__name__}")
    for name, text in texts.items():
        if text is not None and not isinstance(text, str):
            raise TypeError(f"{name} must be a string, got {type(text).__name__}")
    if not texts.get("step_name", "x"):
        raise ValueError("step_name must be a non-empty string such as 'epoch', got ''")
    if style is None:
        return Style()
    if not isinstance(style, Style):
        raise TypeError(
            f"style must be a dlbasics.anim.Style, e.g. Style(fps=2), got {type(style).__name__}"
        )
    return style


def check_test(test: object, runs: list[tuple[str, History]]):
    """``(x_test, y_test, test_history or None)`` as float64 arrays, or ``None``."""
    if test is None:
        return None
    if len(runs) > 1:
        raise ValueError("test= cannot be combined with two runs; animate the runs separately")
    if not isinstance(test, (tuple, list)) or len(test) not in (2, 3):
        got = type(test).__name__
        got += f" of {len(test)} items" if isinstance(test, (tuple, list)) else ""
        raise TypeError(
            f"test must be (x_test, y_test) or (x_test, y_test, test_history), got {got}"
        )
    xt, yt = check_pair(test[0], test[1], "test x", "test y")
    if len(test) == 2:
        return xt, yt, None
    test_history = check_history(test[2], "test_history")
    history = runs[0][1]
    if list(test_history.epoch) != list(history.epoch):
        raise ValueError(
            "test_history must record the same epochs as history (replay the run on the "
            "test points with dlbasics.train.replay)"
        )
    for k, t in enumerate(test_history.yhat):
        if t.numel() != xt.size:
            raise ValueError(
                f"test_history.yhat[{k}] has {t.numel()} values but the test x has {xt.size}"
            )
    return xt, yt, test_history
