"""Week 8: mini-batches, DataLoader and devices.

Unit checks of what the post teaches (batch counts, shuffling, unbiased batch gradients,
devices) against formulas, the executed post's printed numbers against independent
float64 references (least squares by numpy, gradient descent by a numpy loop and on
MNIST in float64), the orderings the MNIST comparison claims, and the self-check answers
recomputed.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from post_output import answers_of, numbers, printed
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

POST = "08-minibatches-devices"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"


def _data() -> tuple[np.ndarray, np.ndarray]:
    """The post's 1,000 points, regenerated, as float64 arrays of shape (n,)."""
    torch.manual_seed(43052)
    x = torch.linspace(-10, 10, 1000).reshape(-1, 1)
    y = 2 * x + torch.randn(1000, 1)
    return x[:, 0].double().numpy(), y[:, 0].double().numpy()


def _gd_float64(epochs: int, lr: float = 0.01) -> list[tuple[float, float, float]]:
    """Plain gradient descent on the MSE in numpy float64: (w0, w1, loss) per update."""
    x, y = _data()
    w0, w1 = -0.8470292091369629, -0.3466869592666626  # the seeded start
    out = []
    for _ in range(epochs + 1):
        r = y - w0 - w1 * x
        out.append((w0, w1, float(np.mean(r**2))))
        w0, w1 = w0 + lr * 2 * np.mean(r), w1 + lr * 2 * np.mean(r * x)
    return out


# ------------------------------------------------------------------ DataLoader facts


@pytest.mark.parametrize(("n", "m"), [(10, 3), (1000, 32), (1000, 64), (1000, 1), (1000, 1000)])
def test_batches_per_epoch_and_the_last_batch(n: int, m: int) -> None:
    ds = TensorDataset(torch.arange(float(n)).reshape(-1, 1), torch.zeros(n, 1))
    sizes = [len(xb) for xb, _ in DataLoader(ds, batch_size=m)]
    assert len(sizes) == len(DataLoader(ds, batch_size=m)) == -(-n // m)  # ceil(n / m)
    assert sum(sizes) == n and sizes[-1] == n - (len(sizes) - 1) * m
    dropped = [len(xb) for xb, _ in DataLoader(ds, batch_size=m, drop_last=True)]
    assert len(dropped) == n // m and set(dropped) <= {m}


def test_shuffle_deals_every_point_once_per_epoch_in_a_new_order() -> None:
    x = torch.arange(10.0).reshape(-1, 1)
    torch.manual_seed(43052)
    dl = DataLoader(TensorDataset(x, x), batch_size=3, shuffle=True)
    epochs = [torch.cat([xb for xb, _ in dl]).flatten().tolist() for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(10))
    assert epochs[0] != epochs[1] != epochs[2]
    # without shuffling the batches follow the data order
    plain = [xb.flatten().tolist() for xb, _ in DataLoader(TensorDataset(x, x), batch_size=3)]
    assert plain == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


def test_seeded_start_is_the_lectures_line() -> None:
    torch.manual_seed(43052)
    net = nn.Linear(1, 1)
    assert net.weight.item() == pytest.approx(-0.3467, abs=5e-5)  # printed in the lecture
    assert net.bias.item() == pytest.approx(-0.8470, abs=5e-5)


# --------------------------------------------------------------- batch gradients


def _mse_grad(x: np.ndarray, y: np.ndarray, w0: float, w1: float) -> np.ndarray:
    r = y - w0 - w1 * x
    return np.array([-2 * np.mean(r), -2 * np.mean(r * x)])


def _autograd_grad(xb: torch.Tensor, yb: torch.Tensor) -> np.ndarray:
    torch.manual_seed(43052)
    net = nn.Linear(1, 1).double()
    nn.MSELoss()(net(xb), yb).backward()
    return np.array([net.bias.grad.item(), net.weight.grad.item()])


def test_equal_batches_average_to_the_full_gradient() -> None:
    x, y = _data()
    X, Y = torch.from_numpy(x).reshape(-1, 1), torch.from_numpy(y).reshape(-1, 1)
    w0, w1 = -0.8470292091369629, -0.3466869592666626
    full = _mse_grad(x, y, w0, w1)
    batches = [_autograd_grad(X[i : i + 40], Y[i : i + 40]) for i in range(0, 1000, 40)]
    np.testing.assert_allclose(np.mean(batches, axis=0), full, rtol=1e-6)
    # while single batches are far off: that is the noise of SGD
    assert np.std(batches, axis=0)[1] > 0.5 * abs(full[1])


def test_a_random_batch_is_right_on_average() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=6), rng.normal(size=6)
    full = _mse_grad(x, y, 0.3, -0.2)
    # every batch of 2 distinct points is equally likely: average over all 15 of them
    grads = [
        _mse_grad(x[list(b)], y[list(b)], 0.3, -0.2) for b in itertools.combinations(range(6), 2)
    ]
    assert len(grads) == math.comb(6, 2)
    np.testing.assert_allclose(np.mean(grads, axis=0), full, rtol=1e-12)


# ------------------------------------------------------------------------ devices


def test_tensors_copy_modules_move_and_devices_must_match() -> None:
    t = torch.ones(3, 1)
    moved = t.to("meta")  # a device without data: enough to see what moves
    assert moved is not t and moved.device.type == "meta" and t.device.type == "cpu"
    assert t.to("cpu") is t  # nothing to move: no copy
    net = nn.Linear(1, 1)
    assert net.to("meta") is net and net.weight.device.type == "meta"
    with pytest.raises(RuntimeError, match="device"):
        net(t)


# ---------------------------------------------------------------- the executed post


@pytest.fixture(scope="module")
def shown(executed_post) -> str:
    return printed(executed_post(POST))


def _runs(shown: str) -> dict[str, dict[str, float]]:
    rows = {}
    for name in ("full batch", "batch 32", "batch 1"):
        per, epochs, updates, e1, e2, final, w0, w1 = numbers(
            rf"{name} +(\d+) +(\d+) +(\d+) +([\d.]+) +([\d.]+) +([\d.]+)"
            r" +\((-?[\d.]+), (-?[\d.]+)\)",
            shown,
        )
        rows[name] = {"per": per, "epochs": epochs, "updates": updates, "e1": e1, "e2": e2,
                      "final": final, "w0": w0, "w1": w1}  # fmt: skip
    return rows


def _least_squares() -> tuple[np.ndarray, float]:
    """Least-squares (w0, w1) of the post's data and its MSE, in float64."""
    x, y = _data()
    A = np.column_stack([np.ones_like(x), x])
    w, *_ = np.linalg.lstsq(A, y, rcond=None)
    return w, float(np.mean((y - A @ w) ** 2))


@pytest.mark.slow
def test_least_squares_and_stable_learning_rate(shown: str) -> None:
    x, y = _data()
    A = np.column_stack([np.ones_like(x), x])
    w, best = _least_squares()
    got = numbers(r"least squares: w0 = (-?[\d.]+), w1 = ([\d.]+), MSE = ([\d.]+)", shown)
    np.testing.assert_allclose(got, [w[0], w[1], best], atol=1e-4)
    lam = np.linalg.eigvalsh(2 * A.T @ A / len(x)).max()
    (lr_max,) = numbers(r"largest stable learning rate for gradient descent: ([\d.]+)", shown)
    assert lr_max == pytest.approx(2 / lam, abs=1e-4) and lr_max > 0.01


@pytest.mark.slow
def test_runs_count_epochs_and_updates(shown: str) -> None:
    rows = _runs(shown)
    for name, m in (("full batch", 1000), ("batch 32", 32), ("batch 1", 1)):
        r = rows[name]
        assert r["per"] == math.ceil(1000 / m)
        assert r["updates"] == r["per"] * r["epochs"]
    # gradient descent and batches of 32 get the same budget of updates
    assert rows["full batch"]["updates"] == rows["batch 32"]["updates"] == 320


@pytest.mark.slow
def test_gradient_descent_matches_a_float64_loop(shown: str) -> None:
    rows = _runs(shown)["full batch"]
    ref = _gd_float64(320)
    assert rows["e1"] == pytest.approx(ref[1][2], rel=1e-3)
    assert rows["e2"] == pytest.approx(ref[2][2], rel=1e-3)
    assert rows["final"] == pytest.approx(ref[-1][2], rel=1e-4)
    assert (rows["w0"], rows["w1"]) == pytest.approx(ref[-1][:2], abs=2e-3)
    # and it never raises the loss, as lr < 2 / lambda_max promises
    losses = [r[2] for r in ref]
    assert all(b <= a for a, b in zip(losses, losses[1:], strict=False))
    assert (
        "full batch: the full-data loss went up in    0 of 320 updates (0 of the last 10)" in shown
    )


@pytest.mark.slow
def test_per_epoch_small_batches_win_per_update_they_tie(shown: str) -> None:
    rows = _runs(shown)
    w, best = _least_squares()
    # after one and two epochs the batches of 32 are far below gradient descent; the
    # batch-1 run is below it too, far below after one epoch
    for e in ("e1", "e2"):
        assert rows["batch 32"][e] < rows["full batch"][e] / 2
        assert rows["batch 1"][e] < rows["full batch"][e]
    assert rows["batch 1"]["e1"] < rows["full batch"]["e1"] / 2
    # with the same 320 updates, gradient descent and batch 32 end near the minimum
    assert rows["full batch"]["final"] < 1.01 * best
    # no run beats the least-squares line: its MSE is the floor
    for r in rows.values():
        assert r["final"] >= best - 1e-4 and min(r["e1"], r["e2"]) >= best - 1e-4
    assert rows["batch 32"]["final"] < 1.05 * best
    assert abs(rows["batch 32"]["w0"] - w[0]) < 0.05 and abs(rows["batch 32"]["w1"] - w[1]) < 0.05


@pytest.mark.slow
def test_batch_steps_raise_the_loss_and_batch_1_never_settles(shown: str) -> None:
    w, best = _least_squares()
    ranges = {}
    for name in ("batch 32", "batch 1"):
        ups, total, ups_last, last, lo, hi = numbers(
            rf"{name}: the full-data loss went up in +(\d+) of (\d+) updates \((\d+) of the "
            r"last (\d+)\); over the last \d+ updates it ranged ([\d.]+) to ([\d.]+)",
            shown,
        )
        assert 0 < ups < total
        assert 0 < ups_last < last  # still going up and down in the last epoch (self-check 5)
        ranges[name] = (lo, hi)
    assert ranges["batch 32"][1] < 1.1 * best
    assert ranges["batch 1"][1] > 2 * best


@pytest.mark.slow
def test_device_agnostic_table_runs_the_same_loop(shown: str) -> None:
    device = re.search(r"training on: (cpu|cuda)\n", shown).group(1)
    # .to(device) returns the tensor itself when it is already there
    assert f"same tensor: {device == 'cpu'}" in shown
    table = {}
    for m in (1, 32, 1000):
        per, _seconds, loss = numbers(rf"\n +{m} +(\d+) +([\d.]+) +([\d.]+)\n", shown)
        assert per == math.ceil(1000 / m)
        table[m] = loss
    # one epoch of the same loop: the full batch is one gradient-descent step (the order of
    # the rows does not change the mean gradient); small batches get much further
    assert table[1000] == pytest.approx(_gd_float64(1)[1][2], rel=1e-3)
    assert table[32] < table[1000] / 2 and table[1] < table[1000] / 2


@pytest.mark.slow
def test_exercise_answers(shown: str) -> None:
    assert "drop_last=False: 16 batches, last batch 40 points" in shown
    assert "drop_last=True: 15 batches, last batch 64 points" in shown
    (shuffled,) = numbers(r"shuffle=True: final MSE ([\d.]+)", shown)
    (ordered,) = numbers(r"shuffle=False: final MSE ([\d.]+)", shown)
    assert ordered > shuffled
    full = numbers(r"full gradient: +tensor\(\[ *(-?[\d.]+), *(-?[\d.]+)\]\)", shown)
    mean = numbers(r"mean of 25 batch gradients: tensor\(\[ *(-?[\d.]+), *(-?[\d.]+)\]\)", shown)
    x, y = _data()
    ref = _mse_grad(x, y, -0.8470292091369629, -0.3466869592666626)
    np.testing.assert_allclose(full, ref, rtol=1e-4)
    np.testing.assert_allclose(mean, ref, rtol=1e-4)
    # exercise 4: the timing helper ran (it synchronizes only on a GPU)
    assert re.search(r"100 products of 200 x 200 matrices on (cpu|cuda): [\d.]+ s", shown)


@pytest.mark.slow
def test_animation_compares_both_runs(executed_post) -> None:
    html = [  # the player is displayed as HTML (or as Markdown holding one HTML block)
        "".join(out["data"][mime])
        for cell in executed_post(POST).cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        for mime in ("text/html", "text/markdown")
        if mime in out.get("data", {})
    ]
    anim = [h for h in html if "dlbasics-anim" in h]
    assert len(anim) == 1
    assert 'data-frames="11"' in anim[0] and 'class="dla-more"' in anim[0]
    assert "full batch, update 10: loss = " in anim[0]
    assert "batch 32, update 320: loss = " in anim[0]


# ------------------------------------------------------- MNIST: GD against mini-batches


def _mnist_table(shown: str) -> dict[str, dict[str, float]]:
    rows = {}
    for name in ("GD", "SGD", "GD, same updates"):
        epochs, updates, seconds, train, test = numbers(
            rf"\n *{re.escape(name)} +(\d+) +(\d+) +([\d.]+) +([\d.]+) +([\d.]+)\n", shown
        )
        rows[name] = {"epochs": epochs, "updates": updates, "seconds": seconds,
                      "train": train, "test": test}  # fmt: skip
    return rows


@pytest.mark.slow
def test_mnist_subset_has_a_fixed_size(shown: str) -> None:
    assert "training: (1000, 784) (1000, 1)   test: (2115, 784)" in shown


def test_mnist_loop_shuffles_and_says_the_lecture_does_not() -> None:
    text = QMD.read_text(encoding="utf-8")
    loop = text.split("def train_mnist(", 1)[1].split("```", 1)[0]
    assert "shuffle=True" in loop  # our mini-batches are drawn anew every epoch
    # the lecture's DataLoader(ds, batch_size=2048) has shuffle=False: a labelled departure
    assert "three departures" in text and "lecture's `DataLoader` keeps the stored order" in text
    loader = DataLoader(TensorDataset(torch.arange(10.0)), batch_size=4)
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]  # default


@pytest.mark.slow
def test_mnist_counts_epochs_and_updates(shown: str) -> None:
    rows = _mnist_table(shown)
    assert (rows["GD"]["epochs"], rows["GD"]["updates"]) == (100, 100)
    assert (rows["SGD"]["epochs"], rows["SGD"]["updates"]) == (100, 100 * math.ceil(1000 / 100))
    assert rows["GD, same updates"]["updates"] == rows["SGD"]["updates"] == 1000
    assert all(r["seconds"] > 0 for r in rows.values())


@pytest.mark.slow
def test_mnist_same_epochs_minibatches_win_same_updates_they_tie(shown: str) -> None:
    rows = _mnist_table(shown)
    for split in ("train", "test"):
        # the same 100 epochs: mini-batches far ahead of gradient descent
        assert rows["SGD"][split] > rows["GD"][split] + 0.2
        assert rows["SGD"][split] > 0.97 and rows["GD"][split] < 0.9
        # the same 1,000 updates: within a fraction of a percent (the post says so)
        assert abs(rows["SGD"][split] - rows["GD, same updates"][split]) < 0.005


def _gd_mnist_float64(epochs: int) -> float:
    """Test accuracy of the post's gradient-descent run, recomputed in float64."""
    from dlbasics.data import mnist

    X, digit = mnist(train=True, digits=(0, 1))
    keep = torch.cat([torch.nonzero(digit == d)[:500, 0] for d in (0, 1)])
    X, y = X[keep].double(), (digit[keep] == 1).double().reshape(-1, 1)
    XX, digit_test = mnist(train=False, digits=(0, 1))
    torch.manual_seed(1)
    first, second = nn.Linear(784, 32), nn.Linear(32, 1)
    W1, b1 = first.weight.detach().double().T, first.bias.detach().double()
    W2, b2 = second.weight.detach().double().T, second.bias.detach().double()
    for _ in range(epochs):  # backpropagation written out: BCE of sigmoid(relu(X W1 + b1) W2 + b2)
        h = (X @ W1 + b1).clamp(min=0)
        p = torch.sigmoid(h @ W2 + b2)
        d2 = (p - y) / len(X)  # d mean-BCE / d logit
        dh = (d2 @ W2.T) * (h > 0)
        W2, b2, W1, b1 = (W2 - 0.001 * h.T @ d2, b2 - 0.001 * d2.sum(0),
                          W1 - 0.001 * X.T @ dh, b1 - 0.001 * dh.sum(0))  # fmt: skip
    p = torch.sigmoid((XX.double() @ W1 + b1).clamp(min=0) @ W2 + b2)
    return ((p > 0.5).double() == (digit_test == 1).double().reshape(-1, 1)).double().mean().item()


@pytest.mark.slow
def test_mnist_gradient_descent_matches_a_float64_loop(shown: str) -> None:
    assert _mnist_table(shown)["GD"]["test"] == pytest.approx(_gd_mnist_float64(100), abs=0.005)


# ------------------------------------------------------------------ the self-check


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_what_torch_computes() -> None:
    answers = self_check_answers()
    assert len(answers) == 5

    # 1. 2,115 test images in batches of 256
    ds = TensorDataset(torch.zeros(2115, 1), torch.zeros(2115, 1))
    sizes = [len(xb) for xb, _ in DataLoader(ds, batch_size=256)]
    assert (len(sizes), sizes[-1]) == (9, 67) == (math.ceil(2115 / 256), 2115 - 8 * 256)
    assert answers[0].startswith("9 batches, the last with 67 images.")

    # 2. .to the device a tensor is already on returns the tensor itself
    t = torch.zeros(3)
    u = t.to("cpu")
    u[0] = 1.0
    assert u is t and t.tolist() == [1.0, 0.0, 0.0]
    assert answers[1].startswith("`tensor([1., 0., 0.])`.")

    # 3. xb.to(device) without assignment leaves xb where it was: a device mismatch
    net = nn.Linear(1, 1).to("meta")  # "meta" stands in for a second device
    xb = torch.ones(4, 1)
    xb.to("meta")
    assert xb.device.type == "cpu"
    with pytest.raises(RuntimeError):
        net(xb)
    assert net(xb.to("meta")).device.type == "meta"
    assert answers[2].startswith("`xb.to(device)` returns the moved batch but does not change")
    assert "`xb = xb.to(device)`" in answers[2]

    # 4. 1,000 images, batches of 100, 100 epochs
    dl = DataLoader(TensorDataset(torch.zeros(1000, 1)), batch_size=100)
    assert len(dl) * 100 == 1000
    assert answers[3].startswith("1,000 updates, and 1,000 epochs of gradient descent.")

    # 5. at the least-squares minimum the batch gradients average to zero but are not zero
    x, y = _data()
    A = np.column_stack([np.ones_like(x), x])
    w, *_ = np.linalg.lstsq(A, y, rcond=None)
    grads = np.array([_mse_grad(x[i : i + 32], y[i : i + 32], *w) for i in range(0, 992, 32)])
    assert np.abs(_mse_grad(x, y, *w)).max() < 1e-9
    assert np.abs(grads).max() > 0.1
    assert answers[4].startswith("No. At the minimum of the full loss only the *average*")
