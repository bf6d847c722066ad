"""Recorded training: history layout, the lecture's numbers, divergence as data."""

import math

import numpy as np
import pytest
import torch

from dlbasics.data import logistic_toy, regression_data
from dlbasics.train import History, fit, gradient_descent

W0 = torch.tensor([-5.0, 10.0])


@pytest.fixture(scope="module")
def reg():
    return regression_data()


def test_gradient_descent_reproduces_the_lecture(reg):
    X, y = reg
    history = gradient_descent(W0, X, y, lr=0.001, epochs=30)
    assert history.epoch == list(range(31))
    assert history.loss[0] == pytest.approx(8587.6875, abs=1e-3)
    # one step: (-3.6577, 8.8111); thirty steps: (2.4290, 4.0144)
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
    assert h.param_path().shape == (4, 2)


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
