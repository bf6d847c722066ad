"""Recorded training: history layout, the lecture's numbers, divergence as data."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlbasics.data import logistic_toy, regression_data
from dlbasics.train import History, ParamPath, fit, fit_epochs, gradient_descent, replay

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


def test_fit_records_every_state_of_a_float64_loop_with_the_bce_gradient_written_out():
    x, y, _ = logistic_toy()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    w, b = float(net[0].weight.detach()), float(net[0].bias.detach())
    h = fit(net, torch.nn.BCELoss(), torch.optim.SGD(net.parameters(), lr=0.05), x, y, 50, 10)
    assert h.epoch == [0, 10, 20, 30, 40, 50]
    assert h.lr == 0.05
    # reference: p = sigmoid(b + w x), BCE = -mean(y log p + (1 - y) log(1 - p)),
    # dBCE/db = mean(p - y), dBCE/dw = mean((p - y) x), in float64
    xs, ys = x.double().reshape(-1).numpy(), y.double().reshape(-1).numpy()
    for update in range(51):
        p = 1 / (1 + np.exp(-(b + w * xs)))
        if update in h.epoch:
            k = h.at(update)
            assert float(h.params[k]["0.weight"]) == pytest.approx(w, abs=1e-5)
            assert float(h.params[k]["0.bias"]) == pytest.approx(b, abs=1e-5)
            bce = -np.mean(ys * np.log(p) + (1 - ys) * np.log(1 - p))
            assert h.loss[k] == pytest.approx(bce, rel=1e-5)
            np.testing.assert_allclose(h.yhat[k].reshape(-1).double().numpy(), p, atol=1e-6)
        w, b = w - 0.05 * np.mean((p - ys) * xs), b - 0.05 * np.mean(p - ys)
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
    message = r"loss_fn must return a 0-d tensor \(one number\), got shape \(10, 1\) \(a per-row"
    with pytest.raises(ValueError, match=message):
        fit(net, per_row, opt, x, y, 1)
    # misuse 11: shape (1,) is rejected by fit as by fit_epochs and replay (one rule)
    one = lambda yhat, t: ((yhat - t) ** 2).mean().reshape(1)  # noqa: E731
    with pytest.raises(ValueError, match=r"0-d tensor \(one number\), got shape \(1,\); use"):
        fit(net, one, opt, x, y, 1)
    with pytest.raises(ValueError, match=r"0-d tensor \(one number\), got shape \(1,\)"):
        fit_epochs(net, one, opt, [(x, y)], 1)
    h = fit(net, torch.nn.MSELoss(), opt, x, y, 1)
    with pytest.raises(ValueError, match=r"got shape \(10, 1\) \(a per-row loss, reduction='none'"):
        replay(h, net, x, y, per_row)
    W = torch.zeros(2)
    X = torch.stack([torch.ones(10), x.reshape(-1)], dim=1)
    with pytest.raises(ValueError, match="loss_fn must return a 0-d tensor"):
        gradient_descent(W, X, y.reshape(-1), 0.1, 1, loss=lambda yhat, t: (t - yhat) ** 2)


def test_fit_rejects_integer_targets():
    x, y, _ = logistic_toy(n=10)
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(
        TypeError, match=r"y must have a floating dtype for MSELoss.*use y\.float\(\)"
    ):
        fit(net, torch.nn.MSELoss(), opt, x, y.long(), 1)


def test_fit_takes_class_indices_for_cross_entropy():
    """Misuse 6: int64 classes are what CrossEntropyLoss wants; fit used to ask for .float()."""
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = torch.tensor([0, 2, 1])
    net = torch.nn.Linear(2, 3)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.zero_()
    h = fit(net, torch.nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.5), X, y, 1)
    assert h.loss[0] == pytest.approx(math.log(3), rel=1e-6)  # three equal scores
    # one step by hand: dCE/dz = (softmax(z) - onehot(y)) / n with z = 0, softmax = 1/3
    G = (torch.full((3, 3), 1 / 3) - torch.eye(3)[y]) / 3
    torch.testing.assert_close(h.params[1]["weight"], -0.5 * G.T @ X)
    torch.testing.assert_close(h.params[1]["bias"], -0.5 * G.sum(dim=0))
    with pytest.raises(
        TypeError, match=r"int64 of shape \(n,\) for CrossEntropyLoss, got torch.int32"
    ):
        fit(net, torch.nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.5), X,
            y.int(), 1)  # fmt: skip
    flat = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Flatten(0))  # shape (3,)
    with pytest.raises(ValueError, match=r"net\(X\) must have \(3, k\) class scores"):
        fit(flat, torch.nn.CrossEntropyLoss(), torch.optim.SGD(flat.parameters(), lr=0.5), X, y, 1)


def test_fit_makes_one_training_forward_pass_per_update():
    """Misuse 7: BatchNorm counts exactly `epochs` training batches, and its statistics are
    those of the inputs of the updates (the recording pass at the end leaves no trace)."""
    X = torch.tensor([[0.0], [1.0], [2.0], [5.0]])
    y = torch.zeros(4, 1)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.BatchNorm1d(1, affine=False), torch.nn.Linear(1, 1))
    fit(net, torch.nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=3)
    bn = net[0]
    assert int(bn.num_batches_tracked) == 3
    # momentum 0.1, three batches of the same X: mean -> 0.9^3 * 0 + (1 - 0.9^3) * 2
    assert float(bn.running_mean) == pytest.approx((1 - 0.9**3) * 2.0, rel=1e-6)
    var = float(X.var(unbiased=True))  # BatchNorm tracks the unbiased variance
    assert float(bn.running_var) == pytest.approx(0.9**3 + (1 - 0.9**3) * var, rel=1e-6)


def test_param_path_leaves_the_callers_array_writeable():
    """Misuse 9: ParamPath used to freeze the array it was given."""
    values = np.zeros((3, 2))
    path = ParamPath(values, ("w0", "w1"))
    values[0, 0] = 7.0  # still writeable, and the path kept its own copy
    assert path[0, 0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        path.values[0, 0] = 1.0


# ---------------------------------------------------------------- fit_epochs


def _regression(n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 1, generator=g)
    return x, 2.5 + 4 * x + 0.3 * torch.randn(n, 1, generator=g)


def test_fit_epochs_equals_a_hand_written_minibatch_sgd_loop() -> None:
    X, y = _regression()
    lr, batch, epochs = 0.1, 8, 3
    net = nn.Linear(1, 1)
    with torch.no_grad():
        net.weight.fill_(0.0)
        net.bias.fill_(0.0)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=False)
    log = fit_epochs(
        net,
        nn.MSELoss(),
        torch.optim.SGD(net.parameters(), lr=lr),
        loader,
        epochs,
        evaluate={"train": (X, y)},
    )
    # reference: float64, gradient of mean((b + w x - y)^2) written out
    xs, ys = X.double().reshape(-1).tolist(), y.double().reshape(-1).tolist()
    w = b = 0.0
    for _ in range(epochs):
        for s in range(0, len(xs), batch):
            xb, yb = xs[s : s + batch], ys[s : s + batch]
            r = [b + w * xi - yi for xi, yi in zip(xb, yb, strict=True)]
            gb = 2 * sum(r) / len(r)
            gw = 2 * sum(ri * xi for ri, xi in zip(r, xb, strict=True)) / len(r)
            w, b = w - lr * gw, b - lr * gb
    assert float(net.weight.detach()) == pytest.approx(w, rel=1e-5)
    assert float(net.bias.detach()) == pytest.approx(b, rel=1e-5)
    assert log.epoch == [0, 1, 2, 3] and log.updates == [0, 5, 10, 15]
    final = sum((b + w * xi - yi) ** 2 for xi, yi in zip(xs, ys, strict=True)) / len(xs)
    assert log["train_loss"][-1] == pytest.approx(final, rel=1e-4)
    assert math.isnan(log["batch_loss"][0]) and len(log.seconds) == 4


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_fit_epochs_evaluates_in_eval_mode_and_restores_the_callers_mode(mode) -> None:
    """Misuse 4: the caller's train/eval mode comes back; accuracy against a loop."""
    X = torch.randn(64, 5, generator=torch.Generator().manual_seed(2))
    y = (X[:, 0] > 0).long()
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.9), nn.Linear(16, 2))
    net.train(mode == "train")
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
    log = fit_epochs(
        net,
        nn.CrossEntropyLoss(),
        torch.optim.Adam(net.parameters()),
        loader,
        2,
        evaluate={"train": (X, y)},
        accuracy=True,
    )
    assert net.training == (mode == "train")
    # reference: the net written out in float64 with dropout off (eval mode)
    p = {k: v.detach().double() for k, v in net.named_parameters()}
    z = torch.relu(X.double() @ p["0.weight"].T + p["0.bias"]) @ p["3.weight"].T + p["3.bias"]
    rows = z.tolist()
    ce = (
        sum(
            math.log(sum(math.exp(v) for v in r)) - r[t]
            for r, t in zip(rows, y.tolist(), strict=False)
        )
        / 64
    )
    assert log["train_loss"][-1] == pytest.approx(ce, rel=1e-5)
    correct = sum(int(r[1] > r[0]) == t for r, t in zip(rows, y.tolist(), strict=True))
    near_ties = sum(abs(r[1] - r[0]) < 1e-5 for r in rows)  # float32 may break them otherwise
    assert abs(log["train_acc"][-1] * 64 - correct) <= near_ties  # a count over 64
    with pytest.raises(KeyError, match="recorded"):
        log["test_loss"]


def test_fit_epochs_rejects_a_one_shot_iterator() -> None:
    """Misuse 3: zip(...) is empty from the second epoch on; say so before training."""
    X, y = _regression(8)
    net = nn.Linear(1, 1)
    before = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    one_shot = zip(X.split(4), y.split(4), strict=True)
    with pytest.raises(
        TypeError, match=r"loader must be re-iterable .*got a one-shot iterator \(zip\)"
    ):
        fit_epochs(net, nn.MSELoss(), opt, one_shot, 3)
    assert all(
        torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=False)
    )  # nothing trained
    batches = list(zip(X.split(4), y.split(4), strict=True))  # the fix the message suggests
    assert fit_epochs(net, nn.MSELoss(), opt, batches, 3).updates == [0, 2, 4, 6]


def test_fit_epochs_accuracy_reads_one_column_outputs_by_the_loss() -> None:
    """BCELoss: probabilities (class 1 above 0.5); BCEWithLogitsLoss: logits (above 0)."""
    X = torch.tensor([[-2.0], [-0.5], [0.5], [2.0]])
    y = torch.tensor([[0.0], [1.0], [1.0], [1.0]])
    for head, loss_fn in ((nn.Sigmoid(), nn.BCELoss()), (nn.Identity(), nn.BCEWithLogitsLoss())):
        net = nn.Sequential(nn.Linear(1, 1), head)
        with torch.no_grad():
            net[0].weight.fill_(1.0)
            net[0].bias.fill_(0.0)
        opt = torch.optim.SGD(net.parameters(), lr=1e-12)  # effectively frozen
        log = fit_epochs(net, loss_fn, opt, [(X, y)], 1, evaluate={"all": (X, y)}, accuracy=True)
        assert log["all_acc"] == [0.75, 0.75]  # x > 0 predicted 1: wrong only at x = -0.5


class FakeDevice:
    """Plays a device: tensors 'on' it carry a mark, and the net refuses unmarked ones."""

    @staticmethod
    def move(t: torch.Tensor, device) -> torch.Tensor:
        moved = t.clone()
        moved.on_fake_device = True
        return moved


class DeviceCheckingNet(nn.Module):
    """A net 'on the fake device': like a CUDA model it fails on data that was not moved."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if not getattr(X, "on_fake_device", False):
            raise RuntimeError("Expected all tensors to be on the same device")
        return self.linear(X)


def test_every_training_helper_moves_data_to_the_nets_device(monkeypatch) -> None:
    """Misuse 14: one device rule (module docstring), checked on the CPU with a fake device."""
    import dlbasics.train as train_module

    monkeypatch.setattr(train_module, "to_device", FakeDevice.move)
    X, y = _regression(8)
    seen = []

    def loss_fn(yhat, t):
        seen.append(getattr(t, "on_fake_device", False))
        return nn.functional.mse_loss(yhat, t)

    net = DeviceCheckingNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    h = fit(net, loss_fn, opt, X, y, 2)
    fit_epochs(net, loss_fn, opt, [(X[:4], y[:4]), (X[4:], y[4:])], 1, evaluate={"all": (X, y)})
    replay(h, net, X, y, loss_fn)
    assert seen and all(seen)  # every target went to the device too
    assert all(t.device.type == "cpu" for t in h.yhat)  # records stay on the CPU
    with pytest.raises(RuntimeError, match="same device"):  # the fake check is real
        DeviceCheckingNet()(X)


def test_fit_epochs_records_divergence_instead_of_crashing() -> None:
    X, y = _regression()
    net = nn.Linear(1, 1)
    loader = DataLoader(TensorDataset(X * 1e3, y), batch_size=40)
    log = fit_epochs(net, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=10.0), loader, 50)
    assert log.diverged and len(log) < 51
    assert not math.isfinite(log["batch_loss"][-1])


@pytest.mark.parametrize(
    ("change", "err", "words"),
    [
        ({"net": "net"}, TypeError, "net must be a torch.nn.Module"),
        ({"loss_fn": 3}, TypeError, "loss_fn must be callable"),
        ({"optimizer": None}, TypeError, "optimizer must be"),
        ({"loader": torch.zeros(3)}, TypeError, "loader must be an iterable"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"evaluate": {"test": torch.zeros(3)}}, TypeError, "pair"),
        ({"evaluate": {"test": (torch.zeros(3, 1), torch.zeros(2, 1))}}, ValueError, "rows"),
        ({"loader": []}, ValueError, "loader must yield at least one batch, got none"),
        ({"loader": iter([])}, TypeError, "re-iterable"),
        (
            {"evaluate": [(torch.zeros(3, 1), torch.zeros(3, 1))]},
            TypeError,
            "evaluate must be a dict",
        ),
        ({"loss_fn": nn.MSELoss(reduction="none")}, ValueError, r"0-d tensor .*got shape \(4, 1\)"),
    ],
)
def test_fit_epochs_rejects_bad_arguments(change: dict, err: type, words: str) -> None:
    X, y = _regression(8)
    net = nn.Linear(1, 1)
    args = {
        "net": net,
        "loss_fn": nn.MSELoss(),
        "optimizer": torch.optim.SGD(net.parameters(), lr=0.1),
        "loader": DataLoader(TensorDataset(X, y), batch_size=4),
        "epochs": 1,
    }
    args.update(change)
    with pytest.raises(err, match=words):
        fit_epochs(**args)


def test_fit_epochs_draws_the_same_batches_as_a_hand_written_loop() -> None:
    """Checking the loader must not consume the global generator (a shuffling DataLoader
    draws its seed from it when iterated): fit_epochs from seed s sees the batches that
    a loop written out from seed s sees."""
    X = torch.arange(12.0).reshape(12, 1)
    y = torch.zeros(12, 1)
    seen = []

    class Spy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(1, 1)

        def forward(self, xb: torch.Tensor) -> torch.Tensor:
            if self.training:
                seen.append(xb[:, 0].tolist())
            return self.lin(xb)

    torch.manual_seed(3)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True)
    net = Spy()
    fit_epochs(net, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.0), loader, 2)
    torch.manual_seed(3)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True)
    Spy()  # the same draws for the weights
    expected = [xb[:, 0].tolist() for _ in range(2) for xb, _ in loader]
    assert seen == expected
