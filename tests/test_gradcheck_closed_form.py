"""Gradient checks and the closed-form answers of the linear model."""

import numpy as np
import pytest
import torch

from dlbasics.closed_form import hessian, least_squares, max_stable_lr
from dlbasics.data import regression_data
from dlbasics.gradcheck import check_gradient, numeric_gradient
from dlbasics.train import gradient_descent


@pytest.fixture(scope="module")
def reg():
    return regression_data()


def test_three_gradients_agree_and_table_prints(reg):
    X, y = reg
    W = torch.tensor([-5.0, 10.0])
    c = check_gradient(
        lambda w: torch.sum((y - X @ w) ** 2), W, analytic=lambda w: -2 * X.T @ y + 2 * X.T @ X @ w
    )
    assert c.max_abs_diff("analytic") < 1e-2
    assert c.max_abs_diff("numeric") < 2.0  # forward differences in float32, h = 1e-3
    text = str(c)
    assert "autograd" in text and "analytic" in text and "finite differences (h=0.001)" in text


def test_central_differences_are_more_accurate():
    f = lambda w: (w**3).sum()  # noqa: E731
    W = torch.tensor([1.0, -2.0], dtype=torch.float64)
    exact = 3 * W**2
    fwd = numeric_gradient(f, W, h=1e-3, scheme="forward")
    cen = numeric_gradient(f, W, h=1e-3, scheme="central")
    assert (cen - exact).abs().max() < (fwd - exact).abs().max() / 100


def test_least_squares_minimises_and_gd_converges_towards_it(reg):
    X, y = reg
    W = least_squares(X, y)
    # the normal equations X^T X W = X^T y, solved in float64 by NumPy
    Xn, yn = X.double().numpy(), y.double().numpy()
    np.testing.assert_allclose(W.double().numpy(), np.linalg.solve(Xn.T @ Xn, Xn.T @ yn), rtol=1e-6)
    sse = lambda w: torch.sum((y - X @ w) ** 2).item()  # noqa: E731
    for d in ([0.01, 0], [0, 0.01], [-0.01, 0.01]):
        assert sse(W) < sse(W + torch.tensor(d))
    h = gradient_descent(torch.tensor([-5.0, 10.0]), X, y, lr=0.001, epochs=200)
    assert torch.allclose(h.final_params["W"], W, atol=1e-3)


def test_stable_step_threshold(reg):
    X, y = reg
    lr_max = max_stable_lr(X)
    Xn = X.double().numpy()
    assert lr_max == pytest.approx(2 / np.linalg.eigvalsh(2 * Xn.T @ Xn).max(), rel=1e-12)
    H = hessian(X)
    np.testing.assert_allclose(H.numpy(), 2 * Xn.T @ Xn, rtol=1e-12)
    assert max_stable_lr(X, loss="mse") == pytest.approx(lr_max * len(X))
    start = torch.tensor([-5.0, 10.0])
    below = gradient_descent(start, X, y, lr=0.99 * lr_max, epochs=400)
    above = gradient_descent(start, X, y, lr=1.01 * lr_max, epochs=400)
    assert below.loss[-1] < below.loss[0] and above.loss[-1] > above.loss[0]


@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (lambda X, y: least_squares(X, y[:-1]), ValueError, "same number of rows"),
        (lambda X, y: least_squares(X.int(), y), TypeError, "X must have a floating dtype"),
        (lambda X, y: least_squares(X[:, 1], y), ValueError, "X must be 2-D"),
        (lambda X, y: hessian(X, loss="bce"), ValueError, "loss must be one of"),
        (lambda X, y: check_gradient(None, y[:2]), TypeError, "loss_fn must be callable"),
        (lambda X, y: check_gradient(torch.sum, y[:2], h=0), ValueError, "h must be > 0"),
        (lambda X, y: check_gradient(torch.sum, y[:2], scheme="back"), ValueError, "scheme"),
        (lambda X, y: check_gradient(lambda w: w * 2, y[:2]), ValueError, "scalar"),
        (
            lambda X, y: check_gradient(torch.sum, y[:2], analytic=lambda w: w[:1]),
            ValueError,
            "analytic returned shape",
        ),
        (lambda X, y: check_gradient(torch.sum, torch.zeros(2, 2)), ValueError, "W must be 1-D"),
        (
            lambda X, y: least_squares(torch.stack([X[:, 1], 2 * X[:, 1]], dim=1), y),
            ValueError,
            r"X must have full column rank: its 2 columns span only 1 dimension",
        ),
        (
            lambda X, y: least_squares(X[:1], y[:1]),
            ValueError,
            r"X must have full column rank: its 2 columns span only 1 dimension",
        ),
        (
            lambda X, y: max_stable_lr(torch.zeros(5, 2)),
            ValueError,
            "X is all zeros: the loss does not depend on W, so no learning rate is too large",
        ),
        (lambda X, y: numeric_gradient("sse", y[:2]), TypeError, "loss_fn must be callable"),
        (
            lambda X, y: numeric_gradient(lambda w: w * 2, y[:2]),
            ValueError,
            r"loss_fn must return a scalar tensor, got \(2,\)",
        ),
    ],
)
def test_bad_input(reg, call, err, match):
    X, y = reg
    with pytest.raises(err, match=match):
        call(X, y)


def test_max_abs_diff_without_formula():
    c = check_gradient(lambda w: (w**2).sum(), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="no analytic gradient"):
        c.max_abs_diff("analytic")
    with pytest.raises(ValueError, match="which must be one of"):
        c.max_abs_diff("other")
