"""Recorded training: history layout, the lecture's numbers, divergence as data."""

import math

import numpy as np
import pytest
import torch

from dlbasics.data import logistic_toy, regression_data
from dlbasics.train import History, ParamPath, fit, gradient_descent

W0 = torch.tensor([-5.0, 10.0])


@pytest.fixture(scope="module")
def reg():
    return regression_data()


def test_gradient_descent_reproduces_the_lecture(reg):
    X, y = reg
    history = gradient_descent(W0, X, y, lr=0.001, epochs=30)
    assert history.epoch == list(range(31))
    # the same 30 updates in float64, W <- W - lr (-2 X^T y + 2 X^T X W), written out
    Xd, yd, W = X.double(), y.double(), W0.double()
    for k in range(31):
        assert history.loss[k] == pytest.approx(float(((yd - Xd @ W) ** 2).sum()), rel=1e-5)
        assert history.params[k]["W"].double().tolist() == pytest.approx(W.tolist(), abs=1e-4)
        W = W - 0.001 * (-2 * Xd.T @ yd + 2 * Xd.T @ Xd @ W)
    # the lecture's printed values: one step (-3.6577, 8.8111), thirty (2.4290, 4.0144)
    assert history.params[1]["W"].tolist() == pytest.approx([-3.6577, 8.8111], abs=1e-4)
    assert history.final_params["W"].tolist() == pytest.approx([2.4290, 4.0144], abs=1e-4)
    assert not history.diverged
    assert torch.equal(W0, torch.tensor([-5.0, 10.0])), "the starting tensor must not change"


def test_record_k_is_consistent(reg):
    X, y = reg
    h = gradient_descent(W0, X, y, lr=0.001, epochs=10, record_every=4)
    assert h.epoch == [0, 4, 8, 10]
    for k in range(len(h)):
        W = h.params[k]["W"]
        assert torch.allclose(h.yhat[k], X @ W)
        assert h.loss[k] == pytest.approx(torch.sum((y - X @ W) ** 2).item(), rel=1e-6)
    assert h.at(8) == 2
    with pytest.raises(ValueError, match="epoch=5 was not recorded"):
        h.at(5)
    with pytest.raises(TypeError, match="epoch must be an int"):
        h.at(8.5)
    path = h.param_path()
    assert path.shape == (4, 2) and path.columns == ("W[0]", "W[1]")
    assert np.array_equal(np.asarray(path), np.stack([p["W"].double().numpy() for p in h.params]))
    assert np.array_equal(path.w0_w1(), np.asarray(path))  # W = (w0, w1) for X = [1, x]


def test_too_large_lr_is_flagged_diverged_without_raising(reg):
    X, y = reg
    h = gradient_descent(W0, X, y, lr=0.1, epochs=200)
    assert h.diverged
    assert not math.isfinite(h.loss[-1])
    assert all(math.isfinite(v) for v in h.loss[:-1])
    assert h.epoch[-1] < 200, "training must stop at the first non-finite loss"


def test_fit_records_and_matches_manual_loop():
    x, y, _ = logistic_toy()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    start = {k: v.detach().clone() for k, v in net.state_dict().items()}
    h = fit(net, torch.nn.BCELoss(), torch.optim.SGD(net.parameters(), lr=0.05), x, y, 50, 10)
    assert h.epoch == [0, 10, 20, 30, 40, 50]
    assert h.lr == 0.05
    assert torch.equal(h.params[0]["0.weight"], start["0.weight"])
    # replay the same 50 updates by hand
    twin = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    twin.load_state_dict(start)
    opt = torch.optim.SGD(twin.parameters(), lr=0.05)
    for _ in range(50):
        opt.zero_grad()
        torch.nn.BCELoss()(twin(x), y).backward()
        opt.step()
    assert torch.allclose(h.final_params["0.weight"], twin[0].weight)
    assert h.param_path(["0.bias", "0.weight"]).shape == (6, 2)
    with pytest.raises(ValueError, match="not recorded parameters"):
        h.param_path(["weight"])
    with pytest.raises(TypeError, match="names must be a list of parameter names"):
        h.param_path("0.bias")


def test_param_path_names_its_columns_so_w0_and_w1_cannot_be_swapped():
    """nn.Sequential records the weight before the bias; w0_w1() reads names, not order."""
    x, y, _ = logistic_toy(n=20)
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    with torch.no_grad():
        net[0].bias.fill_(-3.0)
        net[0].weight.fill_(7.0)
    h = fit(net, torch.nn.BCELoss(), torch.optim.SGD(net.parameters(), lr=0.1), x, y, 2)
    recorded = h.param_path()
    assert recorded.columns == ("0.weight", "0.bias")
    assert recorded[0].tolist() == [7.0, -3.0]
    for path in (recorded, h.param_path(["0.bias", "0.weight"])):
        assert path.w0_w1()[0].tolist() == [-3.0, 7.0]
    assert ParamPath(np.zeros((3, 2)), ("w0", "w1")).w0_w1().shape == (3, 2)
    with pytest.raises(ValueError, match=r"cannot tell the intercept w0 and the slope w1 apart"):
        ParamPath(np.zeros((3, 2)), ("a", "b")).w0_w1()
    with pytest.raises(ValueError, match=r"values must have shape \(k, 2\)"):
        ParamPath(np.zeros((3, 3)), ("a", "b"))


def test_fit_flags_nan_loss_as_diverged():
    X = torch.tensor([[1.0], [2.0]])
    y = torch.tensor([[1.0], [float("nan")]])
    net = torch.nn.Linear(1, 1)
    h = fit(net, torch.nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=5)
    assert h.diverged and len(h) == 1 and math.isnan(h.loss[0])


def test_history_empty_errors():
    with pytest.raises(ValueError, match="empty"):
        _ = History().final_params
    with pytest.raises(ValueError, match="empty"):
        History().param_path()
    assert isinstance(History().yhat, list)
    assert np.asarray(History().loss).size == 0


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"epochs": 0}, ValueError, "epochs must be >= 1"),
        ({"epochs": 2.0}, TypeError, "epochs must be an int"),
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"lr": float("inf")}, ValueError, "lr must be finite"),
        ({"record_every": 0}, ValueError, "record_every"),
        ({"loss": "mae"}, ValueError, "loss must be one of"),
        ({"W": torch.tensor([1, 2])}, TypeError, "W must have a floating dtype"),
        ({"W": torch.zeros(3)}, ValueError, "X has 2 columns but W has 3"),
        ({"y": torch.zeros(99)}, ValueError, "same number of rows"),
        ({"X": [[1.0, 2.0]]}, TypeError, "X must be a torch.Tensor"),
        ({"y": torch.zeros(100, 1)}, ValueError, "y must be 1-D"),
        ({"W": W0.double()}, TypeError, r"X and W must have the same dtype for X @ W"),
    ],
)
def test_gradient_descent_bad_input(reg, kwargs, err, match):
    X, y = reg
    args = {"W": W0, "X": X, "y": y, "lr": 0.001, "epochs": 3} | kwargs
    with pytest.raises(err, match=match):
        gradient_descent(**args)


def test_fit_bad_input():
    x, y, _ = logistic_toy(n=10)
    net = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = torch.nn.MSELoss()
    with pytest.raises(TypeError, match="net must be a torch.nn.Module"):
        fit(lambda t: t, loss_fn, opt, x, y, 1)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        fit(net, "mse", opt, x, y, 1)
    with pytest.raises(TypeError, match="optimizer"):
        fit(net, loss_fn, None, x, y, 1)
    with pytest.raises(ValueError, match="same number of rows"):
        fit(net, loss_fn, opt, x, y[:5], 1)
    with pytest.raises(ValueError, match="epochs"):
        fit(net, loss_fn, opt, x, y, -1)
    with pytest.raises(ValueError, match=r"net\(X\) has shape"):
        fit(net, loss_fn, opt, x, y.reshape(-1), 1)
    with pytest.raises(ValueError, match="X must be 2-D"):
        fit(net, loss_fn, opt, x.reshape(-1), y, 1)


def test_fit_rejects_an_optimizer_of_another_model():
    x, y, _ = logistic_toy(n=10)
    net, other = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    message = r"optimizer must be built on net's own parameters, e\.g\. torch\.optim\.SGD"
    with pytest.raises(ValueError, match=message):
        fit(net, torch.nn.MSELoss(), torch.optim.SGD(other.parameters(), lr=0.1), x, y, 1)
    # a part of net's parameters is fine (e.g. a frozen layer)
    h = fit(net, torch.nn.MSELoss(), torch.optim.SGD([net.bias], lr=0.1), x, y, 1)
    assert torch.equal(h.params[0]["weight"], h.params[1]["weight"])


def test_fit_rejects_a_loss_that_is_not_one_number():
    x, y, _ = logistic_toy(n=10)
    net = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    per_row = torch.nn.MSELoss(reduction="none")
    with pytest.raises(
        ValueError, match=r"loss_fn must return a scalar tensor \(one number\), got \(10, 1\)"
    ):
        fit(net, per_row, opt, x, y, 1)
    W = torch.zeros(2)
    X = torch.stack([torch.ones(10), x.reshape(-1)], dim=1)
    with pytest.raises(ValueError, match="loss_fn must return a scalar tensor"):
        gradient_descent(W, X, y.reshape(-1), 0.1, 1, loss=lambda yhat, t: (t - yhat) ** 2)


def test_fit_rejects_integer_targets():
    x, y, _ = logistic_toy(n=10)
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"y must have a floating dtype .*use \.float\(\)"):
        fit(net, torch.nn.MSELoss(), opt, x, y.long(), 1)
