"""Closed-form answers for the linear model: least squares and the stable step size."""

from __future__ import annotations

import torch

from dlbasics._checks import check_choice, check_matching_rows, check_tensor

__all__ = ["least_squares", "hessian", "max_stable_lr"]


def least_squares(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The minimiser of ``(y - X W)^T (y - X W)``: ``W = (X^T X)^{-1} X^T y``.

    Args:
        X: design matrix, shape ``(n, p)`` with full column rank.
        y: targets, shape ``(n,)``.

    Returns:
        ``W`` of shape ``(p,)`` (computed in float64, returned in ``X``'s dtype).
    """
    check_tensor(X, "X", ndim=2, floating=True, finite=True)
    check_tensor(y, "y", ndim=1, floating=True, finite=True)
    check_matching_rows(X, y)
    Xd = X.double()
    rank = int(torch.linalg.matrix_rank(Xd))
    if rank < X.shape[1]:
        raise ValueError(
            f"X must have full column rank: its {X.shape[1]} columns span only {rank} "
            "dimension(s) (a repeated or constant column, or fewer rows than columns), so "
            "many W fit equally well"
        )
    sol = torch.linalg.lstsq(Xd, y.double().unsqueeze(1)).solution.squeeze(1)
    return sol.to(X.dtype)


def hessian(X: torch.Tensor, loss: str = "sse") -> torch.Tensor:
    """Hessian of the linear model's loss: ``2 X^T X`` (SSE) or ``2 X^T X / n`` (MSE)."""
    check_tensor(X, "X", ndim=2, floating=True, finite=True)
    check_choice(loss, "loss", ("sse", "mse"))
    H = 2 * X.double().T @ X.double()
    return H if loss == "sse" else H / X.shape[0]


def max_stable_lr(X: torch.Tensor, loss: str = "sse") -> float:
    """Largest learning rate for which gradient descent on the quadratic loss converges.

    Along the Hessian's top eigenvector each step multiplies the error by
    ``1 - lr * lambda_max``; it shrinks only while ``lr < 2 / lambda_max``.
    Raises ``ValueError`` when ``X`` is all zeros (no curvature, no such bound).
    """
    lam = float(torch.linalg.eigvalsh(hessian(X, loss)).max())
    if not lam > 0:
        raise ValueError(
            "X is all zeros: the loss does not depend on W, so no learning rate is too large"
        )
    return 2.0 / lam
