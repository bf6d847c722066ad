"""Week 2 (posts/02-pytorch-way): the PyTorch parts reproduce Week 1, checked against float64 loops.

The references are written out here with numpy in float64: the SSE/MSE gradient formula,
Week 1's hand-written update, Adam's update (Kingma & Ba, Algorithm 1), and the lecture's
printed numbers (DL2026 04wk and DL2024 02wk-2: data, gradient, first update). The autograd
warm-ups and the redundant bias (DL2026 04wk) are checked against derivatives by hand and
per-coordinate gradient descent. Printed numbers are compared with tolerances, never pinned.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from post_output import animation_sizes, answers_of, number, numbers, printed
from torch import nn

from dlbasics.data import regression_data
from dlbasics.train import fit, gradient_descent

POST = "02-pytorch-way"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"
N = 100


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    X, y = regression_data(n=100, w0=2.5, w1=4, sigma=0.5, seed=43052)
    return X, X[:, [1]], y.reshape(-1, 1)


def start_net() -> nn.Linear:
    net = nn.Linear(1, 1)
    with torch.no_grad():
        net.bias.fill_(-5.0)
        net.weight.fill_(10.0)
    return net


def params(net: nn.Linear) -> np.ndarray:
    return np.array([net.bias.item(), net.weight.item()])


def four_step_path(x, y, make_opt, loss_fn, steps: int, zero_grad: bool = True) -> np.ndarray:
    """(b, w) after 0..steps updates of the plain four-step loop (no dlbasics)."""
    net = start_net()
    optimizer = make_opt(net.parameters())
    path = [params(net)]
    for _ in range(steps):
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()
        if zero_grad:
            optimizer.zero_grad()
        path.append(params(net))
    return np.stack(path)


def sse_grad64(X: np.ndarray, y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """d/dW sum (y - X W)^2 = -2 X^T (y - X W)."""
    return -2 * X.T @ (y - X @ W)


def gd64(X, y, lr: float, steps: int, scale: float = 1.0) -> np.ndarray:
    """Week 1's update in float64 on loss = scale * SSE."""
    W = np.array([-5.0, 10.0])
    path = [W]
    for _ in range(steps):
        W = W - lr * scale * sse_grad64(X, y, W)
        path.append(W)
    return np.stack(path)


def adam64(grad, W0, lr: float, steps: int, b1=0.9, b2=0.999, eps=1e-8) -> np.ndarray:
    """Kingma & Ba (2015), Algorithm 1, in float64."""
    W, m, v = np.array(W0, dtype=float), 0.0, 0.0
    path = [W]
    for t in range(1, steps + 1):
        g = grad(W)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        W = W - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        path.append(W)
    return np.stack(path)


def np64(X, y):
    return X.double().numpy(), y.double().numpy().ravel()


# -------------------------------------------------------------------- data and the parts


def test_data_are_the_lectures_temp_and_sales(data):
    """02wk-2 types the data in: x = temp, y = sales (4 decimals)."""
    X, x, y = data
    assert x.shape == (100, 1) and y.shape == (100, 1)
    temp_head, temp_tail = [-2.4821, -2.3621, -1.9973], [2.6056, 2.6057, 2.6632]
    sales_head, sales_tail = [-8.5420, -6.5767, -5.9496], [13.0983, 12.5468, 13.8340]
    assert x[:3, 0].tolist() == pytest.approx(temp_head, abs=6e-5)
    assert x[-3:, 0].tolist() == pytest.approx(temp_tail, abs=6e-5)
    assert y[:3, 0].tolist() == pytest.approx(sales_head, abs=6e-5)
    assert y[-3:, 0].tolist() == pytest.approx(sales_tail, abs=6e-5)


def test_linear_without_bias_is_X_times_W(data):
    X, x, _ = data
    net = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[-5.0, 10.0]]))
    Xn = X.double().numpy()
    expected = Xn @ np.array([-5.0, 10.0])
    assert net.weight.shape == (1, 2)
    assert np.allclose(net(X).detach().numpy().ravel(), expected, atol=1e-5)
    # the lecture's first five predictions
    assert net(X)[:5, 0].tolist() == pytest.approx(
        [-29.8210, -28.6210, -24.9730, -21.2390, -19.7920], abs=6e-4
    )
    # bias=True on x alone: the bias is the intercept
    assert np.allclose(start_net()(x).detach().numpy().ravel(), expected, atol=1e-5)
    assert [n for n, _ in start_net().named_parameters()] == ["weight", "bias"]


def test_mse_gradient_is_the_sse_gradient_over_n(data):
    X, x, y = data
    Xn, yn = np64(X, y)
    sse_g = sse_grad64(Xn, yn, np.array([-5.0, 10.0]))
    net = start_net()
    nn.MSELoss()(net(x), y).backward()
    got = np.array([net.bias.grad.item(), net.weight.grad.item()])
    assert np.allclose(got, sse_g / N, rtol=1e-5)
    assert got.tolist() == pytest.approx([-13.4225, 11.8893], abs=1e-4)  # lecture: 11.8892
    assert float(nn.MSELoss()(net(x), y).detach()) * N == pytest.approx(8587.6875, rel=1e-6)


def test_step_and_zero_grad_do_one_thing_each(data):
    _, x, y = data
    net = start_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = nn.MSELoss()(net(x), y)
    assert net.weight.grad is None
    loss.backward()
    grad = net.weight.grad.clone()
    optimizer.step()
    assert torch.equal(net.weight.grad, grad), "step() must leave the gradient alone"
    assert params(net).tolist() == pytest.approx([-3.6577, 8.8111], abs=1e-4)
    before = params(net)
    optimizer.zero_grad()
    assert net.weight.grad is None and net.bias.grad is None
    assert np.array_equal(params(net), before)


# ------------------------------------------------------- the PyTorch way = Week 1, step by step


def test_pytorch_way_equals_week1_step_for_step(data):
    """MSE with lr = n * 0.001 takes Week 1's SSE steps with lr = 0.001, at every update."""
    X, x, y = data
    Xn, yn = np64(X, y)
    reference = gd64(Xn, yn, lr=0.001, steps=30)
    mse = four_step_path(x, y, lambda p: torch.optim.SGD(p, lr=0.1), nn.MSELoss(), 30)
    total = four_step_path(
        x, y, lambda p: torch.optim.SGD(p, lr=0.001), nn.MSELoss(reduction="sum"), 30
    )
    assert np.abs(mse - reference).max() < 1e-4
    assert np.abs(total - reference).max() < 1e-4
    assert mse[-1].tolist() == pytest.approx([2.4290, 4.0144], abs=1e-4)
    # and Week 1's own helper and dlbasics.fit (used in the post) trace the same states
    week1 = gradient_descent(torch.tensor([-5.0, 10.0]), X, y.ravel(), lr=0.001, epochs=30)
    net = start_net()
    history = fit(net, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.1), x, y, epochs=30)
    assert np.abs(week1.param_path().w0_w1() - reference).max() < 1e-4
    assert np.abs(history.param_path().w0_w1() - reference).max() < 1e-4
    assert np.allclose(np.array(history.loss) * N, week1.loss, rtol=1e-5)


def test_the_rescaling_is_exact_in_float64(data):
    """The claim itself, free of float32: SSE with lr equals (1/n) SSE with n * lr."""
    X, _, y = data
    Xn, yn = np64(X, y)
    for lr in (0.0001, 0.001, 0.005):
        a = gd64(Xn, yn, lr=lr, steps=50)
        b = gd64(Xn, yn, lr=lr * N, steps=50, scale=1 / N)
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------- Adam


def test_torch_adam_matches_the_written_out_update(data):
    X, x, y = data
    Xn, yn = np64(X, y)
    reference = adam64(lambda W: sse_grad64(Xn, yn, W) / N, [-5.0, 10.0], lr=0.1, steps=200)
    got = four_step_path(x, y, lambda p: torch.optim.Adam(p, lr=0.1), nn.MSELoss(), 200)
    assert np.abs(got - reference).max() < 1e-4
    # first step: lr against the sign of the gradient, for every parameter
    assert got[1].tolist() == pytest.approx([-4.9, 9.9], abs=1e-6)
    # Adam ends at the least-squares line
    ls = np.linalg.lstsq(Xn, yn, rcond=None)[0]
    assert np.abs(got[-1] - ls).max() < 0.01


def test_adam_ignores_the_scale_of_the_loss(data):
    X, x, y = data
    Xn, yn = np64(X, y)
    paths = [
        adam64(lambda W, c=c: c * sse_grad64(Xn, yn, W), [-5.0, 10.0], lr=0.1, steps=100)
        for c in (1e-4, 1e-2, 1.0, 100.0)
    ]
    for p in paths[1:]:
        assert np.abs(p - paths[0]).max() < 1e-6
    mse = four_step_path(x, y, lambda p: torch.optim.Adam(p, lr=0.1), nn.MSELoss(), 100)
    sse = four_step_path(
        x, y, lambda p: torch.optim.Adam(p, lr=0.1), nn.MSELoss(reduction="sum"), 100
    )
    assert np.abs(mse - sse).max() < 1e-5
    # SGD does not: the same lr on the sum diverges
    sgd_sum = four_step_path(
        x, y, lambda p: torch.optim.SGD(p, lr=0.1), nn.MSELoss(reduction="sum"), 5
    )
    assert np.abs(sgd_sum[-1]).max() > 1e3


def _first_within(losses: np.ndarray, floor: float) -> int:
    return int(np.argmax(losses < 1.01 * floor))


def test_sgd_is_faster_than_adam_on_this_line(data):
    X, _, y = data
    Xn, yn = np64(X, y)

    def mse(path):
        return ((yn[None, :] - path @ Xn.T) ** 2).mean(axis=1)

    floor = float(mse(np.linalg.lstsq(Xn, yn, rcond=None)[0][None, :])[0])
    sgd = mse(gd64(Xn, yn, lr=0.1 / N, steps=200))
    adam = mse(adam64(lambda W: sse_grad64(Xn, yn, W) / N, [-5.0, 10.0], 0.1, 200))
    assert floor == pytest.approx(0.2636, abs=1e-4)
    assert _first_within(sgd, floor) == pytest.approx(26, abs=1)
    assert _first_within(adam, floor) == pytest.approx(146, abs=2)
    assert sgd[30] < 0.27 < 29 < adam[30]


# ------------------------------------------------------------------------------ exercises


def test_exercise_forgetting_zero_grad_accumulates_the_gradients(data):
    """Without zero_grad, update t subtracts lr * (g_1 + ... + g_t)."""
    X, x, y = data
    Xn, yn = np64(X, y)
    W, total, ref = np.array([-5.0, 10.0]), np.zeros(2), [np.array([-5.0, 10.0])]
    for _ in range(30):
        total = total + sse_grad64(Xn, yn, W) / N
        W = W - 0.1 * total
        ref.append(W)
    got = four_step_path(
        x, y, lambda p: torch.optim.SGD(p, lr=0.1), nn.MSELoss(), 30, zero_grad=False
    )
    assert np.abs(got - np.stack(ref)).max() < 1e-3
    losses = ((yn[None, :] - np.stack(ref) @ Xn.T) ** 2).mean(axis=1)
    assert losses[10:].max() > 60 and losses[10:].min() < 5  # it swings, it does not settle


def test_exercise_ten_times_larger_x_breaks_sgd_but_not_adam(data):
    X, x, y = data
    X10 = X.double().numpy() * np.array([1.0, 10.0])
    hessian = 2 / N * X10.T @ X10
    assert 2 / np.linalg.eigvalsh(hessian).max() < 0.1  # lr = 0.1 is past SGD's limit
    ls = np.linalg.lstsq(X10, y.double().numpy().ravel(), rcond=None)[0]
    for make, diverges in ((torch.optim.SGD, True), (torch.optim.Adam, False)):
        net = nn.Linear(1, 1)
        with torch.no_grad():
            net.bias.fill_(-5.0)
            net.weight.fill_(1.0)
        run = fit(net, nn.MSELoss(), make(net.parameters(), lr=0.1), x * 10, y, epochs=200)
        assert run.diverged is diverges
        if not diverges:
            assert np.abs(run.param_path().w0_w1()[-1] - ls).max() < 0.01


# ----------------------------------------------------------------- autograd warm-ups (04wk)


def test_autograd_warm_ups_by_hand():
    x = torch.tensor(2.0, requires_grad=True)
    y = x**3
    (2 * y).backward()
    assert x.grad.item() == 6 * 2.0**2 == 24
    assert x.is_leaf and not y.is_leaf and y.grad_fn is not None
    with warnings.catch_warnings():  # reading .grad of a non-leaf warns
        warnings.simplefilter("ignore")
        assert y.grad is None
    w = torch.tensor([2.5, 2.5], requires_grad=True)
    ((w[0] + 2 * w[1]) ** 2).backward()
    assert w.grad.tolist() == [2 * 7.5 * 1, 2 * 7.5 * 2] == [15.0, 30.0]


def test_gradients_accumulate_until_cleared():
    x = torch.tensor(2.0, requires_grad=True)
    (x**2).backward()
    with torch.no_grad():
        x.fill_(3.0)
    (x**2).backward()
    assert x.grad.item() == 2 * 2.0 + 2 * 3.0 == 10
    x.grad = None
    (x**2).backward()
    assert x.grad.item() == 6


def test_detach_and_no_grad_leave_the_record():
    w = torch.tensor(1.5, requires_grad=True)
    u = 4 * w
    assert u.requires_grad and not u.detach().requires_grad
    with torch.no_grad():
        assert not (4 * w).requires_grad
    with pytest.raises(RuntimeError, match="requires grad"):
        u.numpy()
    assert u.detach().numpy() == 6.0
    # not a copy: the detached tensor shares u's memory
    d = u.detach()
    assert d.data_ptr() == u.data_ptr()
    with torch.no_grad():
        d.add_(1.0)
    assert u.item() == 7.0
    # matplotlib refuses a tensor that requires grad, as NumPy does
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with pytest.raises(RuntimeError, match="requires grad"):
        plt.plot(torch.arange(3.0) * u)
    plt.close("all")


def test_zero_grad_sets_none_since_2_0_and_zeros_on_request():
    assert int(torch.__version__.split(".")[0]) >= 2
    net = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    net(torch.ones(1, 1)).sum().backward()
    optimizer.zero_grad()
    assert net.weight.grad is None
    net(torch.ones(1, 1)).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert net.weight.grad is not None and net.weight.grad.item() == 0.0


# ---------------------------------------------------------------------- the redundant bias


def redundant_bias_run(X, y, bias0: float, steps: int = 30) -> tuple[float, float, float]:
    """(w0, b, w1) after ``steps`` SGD updates of nn.Linear(2, 1) on X with its ones column."""
    net = nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[-5.0, 10.0]]))
        net.bias.fill_(bias0)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(steps):
        nn.MSELoss()(net(X), y).backward()
        optimizer.step()
        optimizer.zero_grad()
    (w0, w1), b = net.weight.detach().flatten().tolist(), net.bias.item()
    return w0, b, w1


def test_a_bias_next_to_a_ones_column_keeps_b_minus_w0_and_doubles_the_intercept_rate(data):
    X, _, y = data
    Xn, yn = np64(X, y)
    # reference: gradient descent on (w0, w1) in float64 with learning rates (0.2, 0.1)
    W = np.array([-5.0, 10.0])
    for _ in range(30):
        W = W - np.array([0.2, 0.1]) * sse_grad64(Xn, yn, W) / N
    for bias0 in (0.0, 3.0):
        w0, b, w1 = redundant_bias_run(X, y, bias0)
        assert b - w0 == pytest.approx(bias0 + 5.0, abs=1e-4)
    w0, b, w1 = redundant_bias_run(X, y, 0.0)
    assert [w0 + b, w1] == pytest.approx(W.tolist(), abs=1e-3)
    # closer to least squares than the plain four-step loop after 30 updates
    ls = np.linalg.lstsq(Xn, yn, rcond=None)[0]
    plain = four_step_path(X[:, [1]], y, lambda p: torch.optim.SGD(p, lr=0.1), nn.MSELoss(), 30)
    assert abs(w0 + b - ls[0]) < abs(plain[-1][0] - ls[0])
    # the lecture (random starting bias) printed w0 + b = 2.4447, w1 = 4.0080: same line
    assert [w0 + b, w1] == pytest.approx([2.4447, 4.0080], abs=1e-3)


# --------------------------------------------------------------------- Adam's step size


def test_adam_step_can_exceed_lr_but_not_the_papers_bound():
    """After 1000 zero gradients a gradient of 1 moves the parameter by about 2.5 lr."""
    b1, b2, lr = 0.9, 0.999, 0.1
    grads = iter([0.0] * 1000 + [1.0])
    path = adam64(lambda W: np.array([next(grads)]), [0.0], lr, 1001)
    step = abs(path[-1] - path[-2])[0]
    t = 1001
    m_hat, v_hat = (1 - b1) / (1 - b1**t), (1 - b2) / (1 - b2**t)
    assert step == pytest.approx(lr * m_hat / np.sqrt(v_hat), rel=1e-6)
    assert 2 * lr < step <= lr * (1 - b1) / np.sqrt(1 - b2)
    torch_path = []  # torch.optim.Adam agrees
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=lr)
    for g in [0.0] * 1000 + [1.0]:
        w.grad = torch.tensor([g])
        optimizer.step()
        torch_path.append(w.item())
    assert abs(torch_path[-1] - torch_path[-2]) == pytest.approx(step, rel=1e-4)


def test_growing_gradients_push_adams_step_past_the_papers_sparse_case_value():
    """The paper's 3.2 lr is not a bound: gradients growing 10% per step give about 3.7 lr."""
    b1, b2, lr = 0.9, 0.999, 0.1
    grads = iter([1.1**t for t in range(300)])
    path = adam64(lambda W: np.array([next(grads)]), [0.0], lr, 300)
    largest = np.abs(np.diff(path[:, 0])).max()
    paper = lr * (1 - b1) / np.sqrt(1 - b2)
    assert 3.5 * lr < largest and largest > paper * 1.1
    w = torch.zeros(1, requires_grad=True)  # torch.optim.Adam agrees
    optimizer = torch.optim.Adam([w], lr=lr)
    steps = []
    for t in range(300):
        before = w.item()
        w.grad = torch.tensor([1.1**t])
        optimizer.step()
        steps.append(abs(w.item() - before))
    assert max(steps) == pytest.approx(largest, rel=1e-3)
    prose = QMD.read_text(encoding="utf-8")
    assert "it is not a bound on\nevery sequence of gradients" in prose


def test_later_weeks_named_for_adams_default_lr_use_it() -> None:
    """'Weeks 5, 7 and 9, for instance' train with torch.optim.Adam at its default lr."""
    assert "(Weeks 5, 7 and 9, for\ninstance)" in QMD.read_text(encoding="utf-8")
    assert torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults["lr"] == 0.001
    posts = QMD.parents[1]
    for week in ("05", "07", "09"):
        (qmd,) = posts.glob(f"{week}-*/index.qmd")
        assert re.search(
            r"torch\.optim\.Adam\(net\.parameters\(\)\)", qmd.read_text(encoding="utf-8")
        )


def test_adam_steps_on_the_line_stay_near_lr_and_shrink_near_the_minimum(data):
    X, _, y = data
    Xn, yn = np64(X, y)
    path = adam64(lambda W: sse_grad64(Xn, yn, W) / N, [-5.0, 10.0], lr=0.1, steps=1000)
    steps = np.abs(np.diff(path, axis=0)).max(axis=1)
    assert steps.max() <= 0.1 * (1 + 1e-6)
    assert steps[-50:].max() < 1e-3  # not stuck at lr-sized hops near the minimum


# ------------------------------------------------------------------------- the executed post


@pytest.mark.slow
def test_executed_post_shows_the_promised_numbers(executed_post):
    nb = executed_post(POST)
    shown, anims = printed(nb), animation_sizes(nb)
    # autograd warm-ups: exact
    assert "x.grad = tensor(24.)" in shown and "y.grad: None" in shown
    assert "w.grad = tensor([15., 30.])" in shown
    assert (
        "after backward at x = 3: tensor(10.)" in shown
        and "cleared first:           tensor(6.)" in shown
    )
    assert "u.numpy() fails:" in shown
    pair = r"tensor\(\[([-0-9.]+),\s*([-0-9.]+)\]\)"
    assert numbers(r"by hand, SSE, lr = 0\.001: " + pair, shown) == pytest.approx(
        [2.4290, 4.0144], abs=1e-3
    )
    assert numbers(r"by hand, MSE, lr = 0\.1:\s+" + pair, shown) == pytest.approx(
        [2.4290, 4.0144], abs=1e-3
    )
    grads = numbers(r"after backward .*grads = \[([-0-9.]+), ([-0-9.]+)\]", shown)
    assert grads == pytest.approx([-13.4225, 11.8893], abs=1e-3)
    assert numbers(r"after step\s+\(b, w\) = \(([-0-9.]+), ([-0-9.]+)\)", shown) == pytest.approx(
        [-3.6577, 8.8111], abs=1e-3
    )
    assert "after zero_grad" in shown and shown.count("grads = [None, None]") == 2
    assert numbers(
        r"the PyTorch way, 30 updates: \(b, w\) = \(([-0-9.]+), ([-0-9.]+)\)", shown
    ) == (pytest.approx([2.4290, 4.0144], abs=1e-3))
    assert number(r"largest difference over all 31 states: ([0-9.e+-]+)", shown) < 1e-5
    # the redundant bias
    gw0, gb = numbers(r"first gradients: w0 ([-0-9.]+), b ([-0-9.]+)", shown)
    assert gw0 == gb
    assert number(r"b - w0 = ([-0-9.]+)", shown) == pytest.approx(5.0, abs=1e-3)
    # Adam
    assert number(r"largest difference over 200 steps: ([0-9.e+-]+)", shown) < 1e-5
    assert number(r"Adam on SSE vs Adam on MSE, largest difference: ([0-9.e+-]+)", shown) < 1e-5
    assert 2.0 < number(r"step after 1000 zero gradients: [0-9.]+ = ([0-9.]+) x lr", shown) < 3.2
    assert number(r"largest step, gradients growing by 10% per step: ([0-9.]+) x lr", shown) > 3.5
    sgd_first = number(
        r"SGD: first within 1% of the smallest MSE \([0-9.]+\) after (\d+) updates", shown
    )
    adam_first = number(
        r"Adam: first within 1% of the smallest MSE \([0-9.]+\) after (\d+) updates", shown
    )
    assert abs(sgd_first - 26) <= 1 and abs(adam_first - 146) <= 3 and sgd_first < adam_first
    assert number(r"largest step Adam takes in one parameter: ([0-9.]+)", shown) == pytest.approx(
        0.1, abs=1e-3
    )
    # exercises
    swings = re.search(r"MSE at updates 0, 5, 10, \.\.\., 25: \[(.*)\]", shown)[1]
    values = [float(v) for v in swings.split(",")]
    assert min(values[1:]) < 5 and max(values[1:]) > 60
    assert number(r"largest difference from Week 1: ([0-9.e+-]+)", shown) < 1e-5
    states = re.findall(r"state after 30 steps \[([-0-9.]+)\s+([-0-9.]+)\]", shown)
    assert len(states) == 3
    assert np.ptp(np.array(states, dtype=float), axis=0).max() < 1e-3
    assert "SGD : diverged = True" in shown
    adam_line = numbers(
        r"Adam: diverged = False, final MSE = [0-9.]+, \(b, w\) = \(([-0-9.]+), ([-0-9.]+)\)", shown
    )
    assert adam_line == pytest.approx([2.4459, 0.40043], abs=0.01)
    assert len(anims) == 1 and anims[0] < 300_000


def test_prose_numbers_are_written_by_the_page() -> None:
    text = QMD.read_text(encoding="utf-8")
    for typed in ("between about 3 and 85", "(2.43, 4.01)", "$(2.45, 0.40)$", "after 26 updates",
                  "Adam's 146", "$(-13.4225, 11.8893)$", "capped at"):  # fmt: skip
        assert typed not in text, f"{typed!r} is typed by hand (or back) in the prose"
    assert "torch.set_num_threads" not in text
    assert "DL2026/posts/04wk" in text.split("## Autograd", 1)[0]


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_true_and_stated(data):
    answers = self_check_answers()
    assert len(answers) == 5
    # 1. two backward calls at x = 3
    x = torch.tensor(3.0, requires_grad=True)
    (x**2).backward()
    (x**2).backward()
    assert x.grad.item() == 12.0 and f"`{x.grad!r}`" in answers[0]
    # 2. nn.Linear(3, 2) shapes
    net = nn.Linear(3, 2)
    assert net.weight.shape == (2, 3) and net.bias.shape == (2,)
    assert net(torch.zeros(5, 3)).shape == (5, 2)
    assert answers[1].startswith("`(2, 3)`, `(2,)` and `(5, 2)`")
    # 3. step before backward: nothing is trained
    _, x, y = data
    net = start_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(5):
        loss = nn.MSELoss()(net(x), y)
        optimizer.step()
        loss.backward()
        optimizer.zero_grad()
    assert params(net).tolist() == [-5.0, 10.0]
    assert answers[2].startswith("Nothing.")
    # 4. bias=False forces the line through the origin; the redundant pair gets equal grads
    assert nn.Linear(1, 1, bias=False)(torch.zeros(1, 1)).item() == 0.0
    assert answers[3].startswith("`nn.Linear(1, 1)`") and "twice" in answers[3]
    # 5. Adam's first step is lr against the sign of the gradient
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=0.1)
    w.grad = torch.tensor([-500.0])
    optimizer.step()
    assert w.item() == pytest.approx(0.1, abs=1e-6)
    assert answers[4].startswith("$+0.1$") and "$+50$" in answers[4]


def test_post_date_is_week_2() -> None:
    assert re.search(r"^date: 2026-09-14$", QMD.read_text(encoding="utf-8"), re.M)
