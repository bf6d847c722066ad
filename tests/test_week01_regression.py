"""Week 1 (posts/01-regression-gradient-descent): the post's teaching claims, checked with dlbasics.

The claims come from the lecture (seed 43052, 100 points, SSE, start at (-5, 10)):
the three gradients agree; lr = 0.001 walks to the least-squares line; the step size
is stable only below 2 / lambda_max(2 X^T X) ~ 0.00824; 0.0082 converges while
oscillating; 0.0083 (just above the threshold) diverges slowly after an initial
drop; 0.0085 and 0.01 diverge (the loss grows without bound, finite for 30 epochs).

"Diverges" is checked on the loss itself: ``History.diverged`` is only set once the
loss is nan/inf, which for these learning rates takes far more than 30 updates.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from post_output import animation_sizes, answers_of, number, numbers, printed

from dlbasics.closed_form import hessian, least_squares, max_stable_lr
from dlbasics.data import regression_data
from dlbasics.gradcheck import check_gradient
from dlbasics.losses import sse
from dlbasics.surface import loss_at
from dlbasics.train import gradient_descent

POST = "01-regression-gradient-descent"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"
START = (-5.0, 10.0)


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    return regression_data(n=100, w0=2.5, w1=4, sigma=0.5, seed=43052)


def start(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.tensor(START, dtype=dtype)


def top_direction(X: torch.Tensor) -> tuple[float, np.ndarray]:
    """Largest eigenvalue of 2 X^T X and its eigenvector, computed with numpy."""
    Xn = X.double().numpy()
    vals, vecs = np.linalg.eigh(2 * Xn.T @ Xn)
    return float(vals[-1]), vecs[:, -1]


# ----------------------------------------------------------------------- the data and the loss


def test_data_and_starting_loss_match_the_lecture(data):
    X, y = data
    assert X.shape == (100, 2) and y.shape == (100,)
    assert torch.equal(X[:, 0], torch.ones(100))
    x = X[:, 1]
    assert bool((x[1:] >= x[:-1]).all()), "x must be sorted"
    noise = y - X @ torch.tensor([2.5, 4.0])
    assert 0.4 < float(noise.std()) < 0.6
    assert float(sse(X @ start(), y)) == pytest.approx(8587.6875, abs=1e-3)


def test_data_are_the_lectures_draws_written_out(data):
    """DL2022 03wk-2 and DL2026 04wk (section 5) draw: seed, sorted x, then the noise."""
    torch.manual_seed(43052)
    x = torch.randn(100).sort()[0]
    eps = torch.randn(100) * 0.5
    X, y = data
    assert torch.equal(X[:, 1], x)
    assert torch.allclose(y, 2.5 + 4 * x + eps, atol=1e-6)


def test_source_note_cites_both_lectures() -> None:
    note = QMD.read_text(encoding="utf-8").split("**Source:**", 1)[1].split("\n\n", 1)[0]
    assert "DL2022/posts/2022-09-20-3wk-2" in note and "DL2026/posts/04wk" in note
    assert "43052" in note and "(section 5)" in note


# ------------------------------------------------------------------------------ the gradients


def test_three_gradients_agree_at_the_start(data):
    X, y = data
    check = check_gradient(
        lambda W: sse(X @ W, y),
        start(),
        analytic=lambda W: -2 * X.T @ y + 2 * X.T @ X @ W,
        h=0.001,
    )
    # the lecture's numbers (autograd's last float32 digit varies by PyTorch version)
    assert check.autograd.tolist() == pytest.approx([-1342.2522, 1188.9305], abs=1e-3)
    assert check.numeric.tolist() == pytest.approx([-1341.7968, 1190.4297], abs=1e-3)
    # autograd and the formula differ by float32 rounding only
    assert check.max_abs_diff("analytic") < 1e-2
    # forward differences in float32 are off by about one unit, as the post explains
    assert check.max_abs_diff("numeric") < 2.0
    rel = (check.numeric - check.autograd).abs() / check.autograd.abs()
    assert float(rel.max()) < 2e-3


def test_forward_difference_error_in_float64_is_the_curvature_term(data):
    """The post: the truncation error of the forward quotient is h/2 times the curvature."""
    X, y = data
    Xd, yd = X.double(), y.double()
    h = 0.001
    check = check_gradient(
        lambda W: sse(Xd @ W, yd),
        start(torch.float64),
        analytic=lambda W: -2 * Xd.T @ yd + 2 * Xd.T @ Xd @ W,
        h=h,
    )
    assert check.max_abs_diff("analytic") < 1e-9
    expected = h / 2 * torch.diagonal(hessian(X))
    assert torch.allclose(check.numeric - check.autograd, expected, atol=1e-6)


# ------------------------------------------------------------------------------ the updates


def test_one_update_with_lr_0001(data):
    X, y = data
    W = start().requires_grad_(True)
    sse(X @ W, y).backward()
    after = W.detach() - 0.001 * W.grad
    assert after.tolist() == pytest.approx([-3.6577, 8.8111], abs=1e-4)
    assert float(sse(X @ after, y)) < float(sse(X @ start(), y))
    history = gradient_descent(start(), X, y, lr=0.001, epochs=1)
    assert torch.allclose(history.final_params["W"], after)


def test_history_records_the_state_after_each_update(data):
    """``history.at(e)`` is the state after e updates; the lecture's list index k was k updates."""
    X, y = data
    history = gradient_descent(start(), X, y, lr=0.001, epochs=30)
    assert history.epoch == list(range(31))
    W = start().requires_grad_(True)
    for e in range(1, 16):
        loss = sse(X @ W, y)
        loss.backward()
        with torch.no_grad():
            W -= 0.001 * W.grad
        W.grad = None
        if e in (2, 3, 9, 10, 14, 15):
            k = history.at(e)
            assert torch.allclose(history.params[k]["W"], W.detach())
            assert torch.allclose(history.yhat[k], X @ W.detach())
            assert history.loss[k] == pytest.approx(float(sse(X @ W.detach(), y)), rel=1e-6)


def test_lr_0001_walks_to_the_least_squares_solution(data):
    X, y = data
    W_ls = least_squares(X, y)
    assert W_ls.tolist() == pytest.approx([2.4459, 4.0043], abs=1e-4)

    history = gradient_descent(start(), X, y, lr=0.001, epochs=30)
    assert history.final_params["W"].tolist() == pytest.approx([2.4290, 4.0144], abs=1e-4)
    loss = np.array(history.loss)
    assert bool((np.diff(loss) < 0).all()), "the loss must fall at every update"
    dist = np.linalg.norm(history.param_path() - W_ls.double().numpy(), axis=1)
    assert bool((np.diff(dist) < 0).all()), "each update must get closer to least squares"
    assert dist[-1] < 0.02

    longer = gradient_descent(start(), X, y, lr=0.001, epochs=200, record_every=50)
    assert torch.allclose(longer.final_params["W"], W_ls, atol=1e-3)


def test_loss_minimum_is_least_squares_not_the_truth(data):
    X, y = data
    x = X[:, 1]
    W_ls = least_squares(X, y)
    at_ls = loss_at(x, y, *W_ls.tolist())
    assert at_ls < loss_at(x, y, 2.5, 4.0)
    for d in ([0.01, 0.0], [0.0, 0.01], [-0.01, 0.01], [0.01, -0.01]):
        assert at_ls < loss_at(x, y, *(W_ls.double() + torch.tensor(d)).tolist())
    grad = -2 * X.double().T @ y.double() + 2 * X.double().T @ X.double() @ W_ls.double()
    assert float(grad.abs().max()) < 1e-3


# ------------------------------------------------------------------------- the learning rate


def test_stable_learning_rate_threshold(data):
    X, _ = data
    lam_max, _ = top_direction(X)
    threshold = max_stable_lr(X, loss="sse")
    assert threshold == pytest.approx(2 / lam_max, rel=1e-9)
    assert threshold == pytest.approx(0.0082382, abs=1e-7)
    assert 0.0082 < threshold < 0.0083 < 0.0085 < 0.01


def test_error_along_the_steep_direction_scales_by_one_minus_lr_lambda(data):
    """The post's explanation: each update multiplies that error by (1 - lr * lambda_max)."""
    X, y = data
    Xd, yd = X.double(), y.double()
    lam_max, v = top_direction(X)
    W_ls = least_squares(Xd, yd).numpy()
    for lr in (0.001, 0.0082, 0.0083, 0.0085, 0.01):
        history = gradient_descent(start(torch.float64), Xd, yd, lr=lr, epochs=6)
        e = (history.param_path() - W_ls) @ v
        assert e[1:] / e[:-1] == pytest.approx(np.full(6, 1 - lr * lam_max), rel=1e-8)


def test_lr_0082_just_below_the_threshold_oscillates_and_converges(data):
    X, y = data
    W_ls = least_squares(X, y)
    _, v = top_direction(X)
    short = gradient_descent(start(), X, y, lr=0.0082, epochs=30)
    e = (short.param_path() - W_ls.double().numpy()) @ v
    assert bool((np.sign(e[1:]) != np.sign(e[:-1])).all()), "must jump across the valley"
    long = gradient_descent(start(), X, y, lr=0.0082, epochs=3000, record_every=500)
    assert not long.diverged
    assert torch.allclose(long.final_params["W"], W_ls, atol=1e-3)
    assert long.loss[-1] == pytest.approx(loss_at(X[:, 1], y, *W_ls.tolist()), rel=1e-4)


def test_lr_0083_just_above_the_threshold_drops_then_diverges(data):
    """Not "converges": 0.0083 > 0.0082382, so after a quick drop the loss grows again."""
    X, y = data
    history = gradient_descent(start(), X, y, lr=0.0083, epochs=400, record_every=1)
    loss = np.array(history.loss)
    assert np.isfinite(loss).all() and not history.diverged
    k_min = int(loss.argmin())
    assert 0 < k_min <= 10 and loss[k_min] < loss[0] / 20
    assert loss[30] > loss[k_min]  # already climbing within the lecture's 30 updates
    assert loss[30] < loss[0]  # ... though still below the start
    every_50 = loss[50::50]
    assert bool((np.diff(every_50) > 0).all()), "the loss must keep growing"
    assert loss[-1] > loss[0], "and eventually pass the starting loss"


@pytest.mark.parametrize("lr", [0.0085, 0.01])
def test_lr_0085_and_001_diverge(data, lr):
    X, y = data
    history = gradient_descent(start(), X, y, lr=lr, epochs=30)
    loss = np.array(history.loss)
    assert np.isfinite(loss).all() and not history.diverged  # grows, but stays finite
    assert loss[-1] > loss[0], "after 30 updates the loss is above the starting loss"
    tail = loss[10:]
    assert bool((np.diff(tail) > 0).all()), "and grows at every update"
    W = history.final_params["W"]
    assert float(W.abs().max()) > 7  # the parameters have left the region around (2.5, 4)


def test_lr_001_overflows_to_inf_and_is_flagged(data):
    X, y = data
    history = gradient_descent(start(), X, y, lr=0.01, epochs=200)
    assert history.diverged
    assert np.isinf(history.loss[-1]) and history.epoch[-1] < 200
    assert all(np.isfinite(history.loss[:-1]))


# ------------------------------------------------------------------------------ the exercises


def test_exercise_bisection_brackets_the_threshold(data):
    X, y = data
    lo, hi = 0.008, 0.009
    for _ in range(7):
        mid = (lo + hi) / 2
        h = gradient_descent(start(), X, y, lr=mid, epochs=1000, record_every=500)
        lo, hi = (mid, hi) if h.loss[-1] <= h.loss[-2] else (lo, mid)
    assert lo < max_stable_lr(X) <= hi
    assert hi - lo < 1e-5


def test_exercise_mse_with_n_times_the_lr_follows_the_sse_path(data):
    X, y = data
    n = X.shape[0]
    h_sse = gradient_descent(start(), X, y, lr=0.001, epochs=30, loss="sse")
    h_mse = gradient_descent(start(), X, y, lr=0.001 * n, epochs=30, loss="mse")
    assert np.allclose(h_sse.param_path(), h_mse.param_path(), atol=1e-4)
    assert np.allclose(np.array(h_mse.loss) * n, h_sse.loss, rtol=1e-5)
    assert max_stable_lr(X, loss="mse") == pytest.approx(n * max_stable_lr(X, loss="sse"))
    # 'exactly so when every point is repeated': the MSE threshold of the doubled data is the same
    X2 = torch.cat([X, X])
    assert max_stable_lr(X2, loss="mse") == pytest.approx(max_stable_lr(X, loss="mse"), rel=1e-6)


# ----------------------------------------------------------------------- the post's animations


@pytest.mark.parametrize("lr", [0.001, 0.0001, 0.0083, 0.0085, 0.01])
def test_animations_build_and_stay_light_even_when_diverging(data, lr):
    from dlbasics.anim import animate_training
    from dlbasics.surface import loss_surface

    X, y = data
    x = X[:, 1]
    grid = torch.arange(-6, 11, 0.5)
    surface = loss_surface(x, y, grid, grid)
    history = gradient_descent(start(), X, y, lr=lr, epochs=30)
    W_ls = least_squares(X, y)
    anim = animate_training(
        history,
        x,
        y,
        surface,
        truth=X @ torch.tensor([2.5, 4.0]),
        markers={"true (2.5, 4)": (2.5, 4.0), "least squares": tuple(W_ls.tolist())},
        frames=31,
        title=f"lr = {lr}",
        label=f"learning rate {lr}",
    )
    assert anim.n_frames == 31
    assert anim.nbytes < 300_000


# ------------------------------------------------------------------------- the executed post


@pytest.mark.slow
def test_executed_post_shows_the_lecture_numbers(executed_post):
    """What the page prints agrees with the lecture and with independent references, within
    tolerances that hold on any CPU (no trained digit is pinned)."""
    nb = executed_post(POST)
    shown, anims = printed(nb), animation_sizes(nb)
    assert number(r"SSE at \(-5, 10\): ([0-9.]+)", shown) == pytest.approx(8587.6875, abs=1e-2)
    grad = numbers(r"gradient at \(-5, 10\): tensor\(\[([-0-9.]+),\s*([-0-9.]+)\]\)", shown)
    assert grad == pytest.approx([-1342.2522, 1188.9305], abs=1e-2)  # the lecture's
    after = numbers(r"after:\s+tensor\(\[([-0-9.]+),\s*([-0-9.]+)\]\)", shown)
    assert after == pytest.approx([-3.6577, 8.8111], abs=1e-3)
    w30 = numbers(r"after 30 updates: tensor\(\[([-0-9.]+),\s*([-0-9.]+)\]\)", shown)
    assert w30 == pytest.approx([2.4290, 4.0144], abs=1e-3)
    ls = numbers(r"least squares: tensor\(\[([-0-9.]+),\s*([-0-9.]+)\]\)", shown)
    assert ls == pytest.approx([2.4459, 4.0043], abs=1e-3)
    threshold = number(r"2 / lambda_max = ([0-9.]+)", shown)
    assert threshold == pytest.approx(0.0082382, abs=1e-6)
    assert len(anims) == 5
    assert all(size < 300_000 for size in anims)


def test_prose_numbers_are_written_by_the_page() -> None:
    """The numbers the page computes appear in its prose as inline expressions, not typed."""
    text = QMD.read_text(encoding="utf-8")
    for typed in (
        "2.4290",
        "4.0144",
        "2.4459",
        "4.0043",
        "0.00824",
        "1.015",
        "11,000",
        "117 updates",
    ):
        assert typed not in text, f"{typed} is typed by hand in the prose"
    assert text.count("`{python} ") >= 20


def text_has(pattern: str) -> bool:
    return re.search(pattern, QMD.read_text(encoding="utf-8")) is not None


def test_convergence_boundary_is_on_the_failing_side(data):
    """At lr = 2 / lambda_max the error along the steepest direction is multiplied by -1."""
    X, y = data
    Xd, yd = X.double(), y.double()
    lam_max, v = top_direction(X)
    W_ls = least_squares(Xd, yd).numpy()
    history = gradient_descent(start(torch.float64), Xd, yd, lr=2 / lam_max, epochs=200)
    e = (history.param_path() - W_ls) @ v
    assert abs(e[-1]) == pytest.approx(abs(e[0]), rel=1e-6)  # neither shrinks nor grows
    assert text_has(r"converges from every starting point\} \\iff 0 < \\alpha < ")


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_true_and_stated(data):
    answers = self_check_answers()
    assert len(answers) == 5
    # 1. gradient of sum(w^2) is 2w, and a second backward adds to it
    W = torch.tensor([1.0, 2.0], requires_grad=True)
    (W**2).sum().backward()
    first = W.grad.clone()
    (W**2).sum().backward()
    assert first.tolist() == [2.0, 4.0] and W.grad.tolist() == [4.0, 8.0]
    assert f"`{first!r}`" in answers[0] and f"`{W.grad!r}`" in answers[0]
    # 2. only the leaf keeps .grad
    X, y = data
    What = start().requires_grad_(True)
    yhat = X @ What
    sse(yhat, y).backward()
    assert What.grad is not None and What.is_leaf and not yhat.is_leaf
    with warnings.catch_warnings():  # reading .grad of a non-leaf warns
        warnings.simplefilter("ignore")
        assert yhat.grad is None
    assert answers[1].startswith("Only `What.grad`") and "`None`" in answers[1]
    # 3. in-place update of a leaf outside no_grad raises
    W = start().requires_grad_(True)
    sse(X @ W, y).backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        W -= 0.001 * W.grad
    assert "RuntimeError" in answers[2] and "leaf Variable that" in answers[2]
    # 4. f(w) = w^2, lr = 1, from w = 1: -1, 1, -1
    w, path = 1.0, []
    for _ in range(3):
        w = w - 1.0 * 2 * w
        path.append(w)
    assert path == [-1.0, 1.0, -1.0]
    assert answers[3].startswith("$-1, 1, -1$")
    # 5. 0.0082 converges, 0.0083 turns upward after a minimum
    h82 = gradient_descent(start(), X, y, lr=0.0082, epochs=200)
    h83 = gradient_descent(start(), X, y, lr=0.0083, epochs=200)
    assert h82.loss[-1] < h82.loss[30] and h83.loss[-1] > min(h83.loss) * 100
    assert answers[4].startswith("0.0082")


# ------------------------------------------------------------------- exercises 3 and 4


def test_exercise_3_duplicated_data_keeps_the_line_and_halves_the_threshold(data):
    X, y = data
    X2, y2 = torch.cat([X, X]), torch.cat([y, y])
    Xn, yn = X2.double().numpy(), y2.double().numpy()
    w_np = np.linalg.lstsq(Xn, yn, rcond=None)[0]
    assert least_squares(X2, y2).tolist() == pytest.approx(w_np.tolist(), abs=1e-4)
    assert least_squares(X2, y2).tolist() == pytest.approx(least_squares(X, y).tolist(), abs=1e-4)
    lam2, _ = top_direction(X2)
    assert max_stable_lr(X2) == pytest.approx(2 / lam2, rel=1e-5)
    assert max_stable_lr(X2) == pytest.approx(max_stable_lr(X) / 2, rel=1e-5)


def test_exercise_4_units_and_standardising_move_the_threshold(data):
    X, _ = data
    x = X[:, 1]
    ones = torch.ones_like(x)
    thresholds = {}
    for name, feature in [("m", x), ("mm", 1000 * x), ("std", (x - x.mean()) / x.std())]:
        X_new = torch.stack([ones, feature], dim=1)
        lam, _ = top_direction(X_new)
        thresholds[name] = 2 / lam
        assert max_stable_lr(X_new) == pytest.approx(thresholds[name], rel=1e-4)
    assert 5e5 < thresholds["m"] / thresholds["mm"] < 2e6  # "about a million"
    assert thresholds["std"] > thresholds["m"]
