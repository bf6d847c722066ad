"""dlbasics.data.mnist (all digits), dlbasics.metrics and dlbasics.train.fit_epochs.

References are independent of the code under test: MNIST's idx files parsed with NumPy,
accuracy and confusion counts by plain Python loops, mini-batch SGD by a float64 loop with
the gradient of the mean squared error written out.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlbasics import data, metrics, train

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "mnist"


@pytest.fixture(scope="module")
def mnist_root() -> Path:
    env = os.environ.get("DLBASICS_DATA")
    return Path(env) if env else (SHARED_MNIST if SHARED_MNIST.is_dir() else data.data_root())


def _read_idx(path: Path) -> np.ndarray:
    """An idx file (MNIST's format): big-endian header of dims, then unsigned bytes."""
    raw = path.read_bytes()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


@pytest.mark.parametrize("train_split", [True, False])
def test_mnist_matches_the_idx_files(mnist_root: Path, train_split: bool) -> None:
    X, y = data.mnist(train_split, root=mnist_root)
    prefix = "train" if train_split else "t10k"
    images = _read_idx(mnist_root / "MNIST" / "raw" / f"{prefix}-images-idx3-ubyte")
    labels = _read_idx(mnist_root / "MNIST" / "raw" / f"{prefix}-labels-idx1-ubyte")
    assert X.shape == (len(labels), 784) and X.dtype == torch.float32
    assert y.dtype == torch.int64
    np.testing.assert_array_equal(y.numpy(), labels)
    np.testing.assert_allclose(X.numpy(), images.reshape(-1, 784) / 255.0, rtol=0, atol=1e-7)


def test_mnist_images_and_digit_subsets(mnist_root: Path) -> None:
    X, y = data.mnist(False, root=mnist_root)
    Ximg, yimg = data.mnist(False, flatten=False, root=mnist_root)
    assert Ximg.shape == (len(y), 1, 28, 28)
    torch.testing.assert_close(Ximg.reshape(-1, 784), X)
    X17, y17 = data.mnist(False, digits=(1, 7), root=mnist_root)
    keep = (y == 1) | (y == 7)
    torch.testing.assert_close(X17, X[keep])
    assert set(y17.tolist()) == {1, 7}
    # the two-digit loader is the same subset with 0/1 labels
    X37, y37 = data.mnist_3_vs_7(False, root=mnist_root)
    assert X37.shape[0] == int(((y == 3) | (y == 7)).sum())
    assert y37.shape == (X37.shape[0], 1)


@pytest.mark.parametrize(
    ("kwargs", "err", "words"),
    [
        ({"digits": (3, 3)}, ValueError, "different digits"),
        ({"digits": (10,)}, ValueError, "between 0 and 9"),
        ({"digits": ()}, TypeError, "sequence of ints"),
        ({"digits": "37"}, TypeError, "sequence of ints"),
        ({"flatten": "yes"}, TypeError, "flatten must be a bool"),
        ({"train": 1}, TypeError, "train must be a bool"),
    ],
)
def test_mnist_rejects_bad_arguments(tmp_path: Path, kwargs, err: type, words: str) -> None:
    with pytest.raises(err, match=words):
        data.mnist(root=tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- metrics


def test_accuracy_and_confusion_against_loops() -> None:
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(200, 4, generator=g)
    y = torch.randint(0, 4, (200,), generator=g)
    best = [max(range(4), key=lambda j, r=row: r[j]) for row in scores.tolist()]
    expected = sum(b == t for b, t in zip(best, y.tolist(), strict=True)) / 200
    assert metrics.accuracy(scores, y) == pytest.approx(expected, abs=1e-7)
    counts = [[0] * 4 for _ in range(4)]
    for t, b in zip(y.tolist(), best, strict=True):
        counts[t][b] += 1
    C = metrics.confusion_matrix(y, metrics.predict_classes(scores), 4)
    assert C.tolist() == counts


def test_accuracy_for_one_column_logits_and_probabilities() -> None:
    z = torch.tensor([[-2.0], [0.5], [3.0], [-0.1]])
    y = torch.tensor([[0.0], [1.0], [0.0], [0.0]])
    assert metrics.accuracy(z, y) == pytest.approx(0.75)  # 3 of 4 right
    p = torch.sigmoid(z)
    assert metrics.accuracy(p, y, logits=False) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("call", "err", "words"),
    [
        (lambda: metrics.accuracy(torch.zeros(3, 2), torch.zeros(4)), ValueError, "one class"),
        (lambda: metrics.accuracy(torch.zeros(3, 1), torch.full((3,), 0.5)), ValueError, "whole"),
        (lambda: metrics.accuracy([1, 2], torch.zeros(2)), TypeError, "yhat must be a torch"),
        (
            lambda: metrics.confusion_matrix(torch.tensor([0, 5]), torch.tensor([0, 1]), 3),
            ValueError,
            "classes from 0 to 2",
        ),
        (
            lambda: metrics.confusion_matrix(torch.tensor([0.0]), torch.tensor([0]), 3),
            TypeError,
            "integer classes",
        ),
        (
            lambda: metrics.confusion_matrix(torch.tensor([0]), torch.tensor([0, 1]), 3),
            ValueError,
            "same shape",
        ),
    ],
)
def test_metrics_reject_bad_input(call, err: type, words: str) -> None:
    with pytest.raises(err, match=words):
        call()


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
    log = train.fit_epochs(
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


def test_fit_epochs_evaluates_in_eval_mode_and_records_accuracy() -> None:
    X = torch.randn(64, 5, generator=torch.Generator().manual_seed(2))
    y = (X[:, 0] > 0).long()
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.9), nn.Linear(16, 2))
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
    log = train.fit_epochs(
        net,
        nn.CrossEntropyLoss(),
        torch.optim.Adam(net.parameters()),
        loader,
        2,
        evaluate={"train": (X, y)},
        accuracy=True,
    )
    assert not net.training  # left in eval mode
    with torch.no_grad():
        net.eval()
        again = float(nn.CrossEntropyLoss()(net(X), y))  # dropout off: deterministic
    assert log["train_loss"][-1] == pytest.approx(again, rel=1e-6)
    assert 0.0 <= min(log["train_acc"]) <= max(log["train_acc"]) <= 1.0
    with pytest.raises(KeyError, match="recorded"):
        log["test_loss"]


def test_fit_epochs_records_divergence_instead_of_crashing() -> None:
    X, y = _regression()
    net = nn.Linear(1, 1)
    loader = DataLoader(TensorDataset(X * 1e3, y), batch_size=40)
    log = train.fit_epochs(
        net, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=10.0), loader, 50
    )
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
        ({"loader": []}, ValueError, "no batches"),
        ({"loss_fn": nn.MSELoss(reduction="none")}, ValueError, "scalar"),
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
        train.fit_epochs(**args)
