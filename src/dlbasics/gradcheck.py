"""Checking ``loss.backward()`` against a hand-derived formula and finite differences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from dlbasics._checks import check_choice, check_real, check_tensor

__all__ = ["GradCheck", "check_gradient", "numeric_gradient"]


@dataclass(frozen=True)
class GradCheck:
    """Three estimates of the same gradient at ``W`` (each of the shape of ``W``)."""

    W: torch.Tensor
    autograd: torch.Tensor
    numeric: torch.Tensor
    analytic: torch.Tensor | None
    h: float

    def max_abs_diff(self, which: str = "numeric") -> float:
        """Largest absolute difference between autograd and ``"numeric"`` or ``"analytic"``."""
        check_choice(which, "which", ("numeric", "analytic"))
        other = self.numeric if which == "numeric" else self.analytic
        if other is None:
            raise ValueError("no analytic gradient was supplied to check_gradient")
        return float((self.autograd - other).abs().max())

    def rows(self) -> list[dict[str, object]]:
        """One row per method, for printing as a small table."""
        out = [{"method": "autograd (loss.backward())", "gradient": self.autograd.tolist()}]
        if self.analytic is not None:
            out.append({"method": "analytic formula", "gradient": self.analytic.tolist()})
        out.append(
            {"method": f"finite differences (h={self.h:g})", "gradient": self.numeric.tolist()}
        )
        return out

    def __str__(self) -> str:
        width = max(len(r["method"]) for r in self.rows())
        lines = []
        for r in self.rows():
            vals = ", ".join(f"{v:12.4f}" for v in r["gradient"])
            lines.append(f"{r['method']:<{width}}  [{vals}]")
        return "\n".join(lines)


def _scalar(loss: object) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        got = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"loss_fn must return a scalar tensor, got {got}")
    return loss


def numeric_gradient(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    W: torch.Tensor,
    h: float = 1e-3,
    scheme: str = "forward",
) -> torch.Tensor:
    """Finite-difference gradient of ``loss_fn`` at ``W`` (shape ``(p,)``).

    ``scheme="forward"``: ``(L(W + h e_i) - L(W)) / h`` (the lecture's check);
    ``"central"``: ``(L(W + h e_i) - L(W - h e_i)) / (2h)``, more accurate.
    Computed in ``W``'s dtype, so float32 shows the rounding the lecture saw.
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    check_tensor(W, "W", ndim=1, floating=True, finite=True)
    h = check_real(h, "h", positive=True)
    check_choice(scheme, "scheme", ("forward", "central"))
    W = W.detach()
    grad = torch.empty_like(W)
    with torch.no_grad():
        base = _scalar(loss_fn(W))
        for i in range(W.numel()):
            step = torch.zeros_like(W)
            step[i] = h
            if scheme == "forward":
                grad[i] = (loss_fn(W + step) - base) / h
            else:
                grad[i] = (loss_fn(W + step) - loss_fn(W - step)) / (2 * h)
    return grad


def check_gradient(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    W: torch.Tensor,
    analytic: Callable[[torch.Tensor], torch.Tensor] | None = None,
    h: float = 1e-3,
    scheme: str = "forward",
) -> GradCheck:
    """Gradient of ``loss_fn`` at ``W`` by autograd, by finite differences and by a formula.

    Args:
        loss_fn: maps parameters ``W`` of shape ``(p,)`` to a scalar loss tensor.
        W: the point, shape ``(p,)``, floating point.
        analytic: optional hand-derived gradient ``W -> (p,)``, e.g.
            ``lambda W: -2 * X.T @ y + 2 * X.T @ X @ W`` for SSE.
        h: finite-difference step.
        scheme: ``"forward"`` or ``"central"`` differences.
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    check_tensor(W, "W", ndim=1, floating=True, finite=True)
    What = W.detach().clone().requires_grad_(True)
    loss = _scalar(loss_fn(What))
    loss.backward()
    auto = What.grad.detach().clone()
    formula = None
    if analytic is not None:
        if not callable(analytic):
            raise TypeError(f"analytic must be callable, got {type(analytic).__name__}")
        with torch.no_grad():
            formula = analytic(W.detach()).detach().reshape(-1)
        if formula.shape != W.shape:
            raise ValueError(
                f"analytic returned shape {tuple(formula.shape)}, expected {tuple(W.shape)}"
            )
    numeric = numeric_gradient(loss_fn, W, h=h, scheme=scheme)
    return GradCheck(W=W.detach().clone(), autograd=auto, numeric=numeric, analytic=formula, h=h)
