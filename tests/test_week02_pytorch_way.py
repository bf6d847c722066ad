"""Week 2 (posts/02-pytorch-way): the PyTorch parts reproduce Week 1, checked against float64 loops.

The references are written out here with numpy in float64: the SSE/MSE gradient formula,
Week 1's hand-written update, Adam's update (Kingma & Ba, Algorithm 1), and the lecture's
printed numbers (DL2024 02wk-2: data, gradient, first update).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from post_output import animation_sizes, printed
from torch import nn

from dlbasics.data import regression_data
from dlbasics.train import fit, gradient_descent

POST = "02-pytorch-way"
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


# ------------------------------------------------------------------------- the executed post


@pytest.mark.slow
def test_executed_post_shows_the_promised_numbers(executed_post):
    nb = executed_post(POST)
    shown, anims = printed(nb), animation_sizes(nb)
    assert shown.count("tensor([2.4290, 4.0144])") == 2  # SSE lr 0.001 and MSE lr 0.1
    assert "net(X)[:5]:  tensor([-29.8211, -28.6215, -24.9730, -21.2394, -19.7919])" in shown
    assert "grads = [-13.4225, 11.8893]" in shown
    assert "after step             (b, w) = (-3.6577, 8.8111)" in shown
    assert "after zero_grad        (b, w) = (-3.6577, 8.8111)   grads = [None, None]" in shown
    assert "the PyTorch way, 30 updates: (b, w) = (2.4290, 4.0144)" in shown
    diff = float(re.search(r"largest difference over all 31 states: ([0-9.e+-]+)", shown)[1])
    assert diff < 1e-5
    assert "first step, torch.optim.Adam: [-4.9  9.9]" in shown
    for pattern in (r"largest difference over 200 steps: ([0-9.e+-]+)",
                    r"Adam on SSE vs Adam on MSE, largest difference: ([0-9.e+-]+)"):  # fmt: skip
        assert float(re.search(pattern, shown)[1]) < 1e-5
    assert "SGD: first within 1% of the smallest MSE (0.2636) after 26 updates" in shown
    assert "Adam: first within 1% of the smallest MSE (0.2636) after 146 updates" in shown
    # exercises
    swings = re.search(r"MSE at updates 0, 5, 10, \.\.\., 25: \[(.*)\]", shown)[1]
    values = [float(v) for v in swings.split(",")]
    assert min(values[1:]) < 5 and max(values[1:]) > 60
    assert "reduction='sum', lr = 0.001: (b, w) = [2.429  4.0144]" in shown
    assert shown.count("state after 30 steps [-2.1193  7.1668]") == 3
    assert "SGD : diverged = True" in shown
    assert "Adam: diverged = False, final MSE = 0.2636, (b, w) = (2.448, 0.4004)" in shown
    assert len(anims) == 1 and anims[0] < 300_000


def test_post_date_is_week_2() -> None:
    qmd = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"
    assert re.search(r"^date: 2026-09-14$", qmd.read_text(encoding="utf-8"), re.M)
