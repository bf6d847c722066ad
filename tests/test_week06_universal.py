"""Week 6: the one-step activation h, staircases (Cybenko's intuition), the fits the post
relies on, the MNIST 3-vs-7 loader with its error messages, and the post's self-check.

The post writes h, its StepUnit module and the h staircase itself (the lesson is writing
them); the claims about them are checked here with h written out from its formula.
dlbasics.activations.sigmoid_staircase, which the post uses, is checked against the
lecture's hand-set weights.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from post_output import answers_of, printed

from dlbasics import data
from dlbasics.activations import sigmoid_staircase
from dlbasics.train import fit

POST = "06-universal-approximation-mnist"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"


# ---------------------------------------------------------------- h, the one-step function


def h(u: torch.Tensor, sharpness: float = 200.0, left: float = -0.5, right: float = 0.5):
    """The post's one-step function, from its formula:
    ``sigmoid(s (u - left)) + sigmoid(-s (u - right)) - 1``, elementwise."""
    return torch.sigmoid(sharpness * (u - left)) + torch.sigmoid(-sharpness * (u - right)) - 1


class H(torch.nn.Module):
    """``h`` as a layer, where ``ReLU()`` would go."""

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return h(u)


def h_staircase(x: torch.Tensor, edges, heights) -> torch.Tensor:
    """One ``h`` unit per step: ``sum_j heights[j] h((x - c_j) / w_j)``, (n, 1) -> (n, 1),
    with ``c_j`` and ``w_j`` the centre and width of step ``j``."""
    e = torch.as_tensor(edges, dtype=x.dtype)
    centre, width = (e[1:] + e[:-1]) / 2, e[1:] - e[:-1]
    return h((x - centre) / width) @ torch.as_tensor(heights, dtype=x.dtype).reshape(-1, 1)


def test_h_is_one_inside_and_zero_outside() -> None:
    u = torch.linspace(-3, 3, 6001)
    v = h(u)
    inside = (u > -0.45) & (u < 0.45)
    outside = u.abs() > 0.6
    assert v[inside].min() > 0.999
    assert v[outside].abs().max() < 1e-6
    # halfway at both edges
    edges = h(torch.tensor([-0.5, 0.5]))
    torch.testing.assert_close(edges, torch.tensor([0.5, 0.5]), atol=1e-6, rtol=0)
    # a gentle slope blurs the step: well inside it no longer reaches 1
    assert h(torch.tensor([0.0]), sharpness=2.0) < 0.5


def test_h_is_a_difference_of_two_shifted_sigmoids() -> None:
    # sigmoid(-z) = 1 - sigmoid(z), so h(u) = sigmoid(200 (u + 0.5)) - sigmoid(200 (u - 0.5))
    u = torch.linspace(-2, 2, 801, dtype=torch.float64)
    other = torch.sigmoid(200 * (u + 0.5)) - torch.sigmoid(200 * (u - 0.5))
    torch.testing.assert_close(h(u), other, atol=1e-12, rtol=0)


# ---------------------------------------------------------------- sigmoid pairs and staircases


def test_sigmoid_bump_is_the_lectures_hand_set_pair() -> None:
    net = sigmoid_staircase([-2, 2], [1])
    assert net[0].weight.flatten().tolist() == [-5.0, 5.0]
    assert net[0].bias.tolist() == [10.0, 10.0]
    assert net[2].weight.flatten().tolist() == [1.0, 1.0]
    assert net[2].bias.tolist() == [-1.0]
    x = torch.tensor([[-9.0], [-6.0], [-1.0], [0.0], [1.0], [6.0], [9.0]])
    with torch.no_grad():
        v = net(x).flatten()
    assert v[[0, 1, 5, 6]].abs().max() < 0.02  # flat zero far from the bump
    assert v[[2, 3, 4]].min() > 0.98  # plateau at height 1 on (-2, 2)


def test_four_sigmoid_units_make_a_staircase_of_two_heights() -> None:
    net = sigmoid_staircase([-4, 0, 4], [1, 2.5])
    # four hidden units, the lecture's weights
    assert net[0].weight.flatten().tolist() == [-5.0, 5.0, -5.0, 5.0]
    assert net[0].bias.tolist() == [0.0, 20.0, 20.0, 0.0]
    assert net[2].weight.flatten().tolist() == [1.0, 1.0, 2.5, 2.5]
    assert net[2].bias.tolist() == [-3.5]
    x = torch.linspace(-10, 10, 2001).reshape(-1, 1)
    with torch.no_grad():
        v = net(x).flatten()
    xs = x.flatten()
    low = (xs > -3.2) & (xs < -0.8)
    high = (xs > 0.8) & (xs < 3.2)
    far = xs.abs() > 5.8
    torch.testing.assert_close(v[low], torch.ones_like(v[low]), atol=0.05, rtol=0)
    torch.testing.assert_close(v[high], torch.full_like(v[high], 2.5), atol=0.05, rtol=0)
    assert v[far].abs().max() < 0.05
    # the output never overshoots the taller step
    assert v.max() < 2.55 and v.min() > -0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_m_step_units_give_any_m_step_staircase(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    m = 6
    # steps of different widths (within a factor of 3: each h unit blurs its edges over
    # about 2 % of its own step's width, so a far wider neighbour would leak into a step)
    widths = 0.5 + torch.rand(m, generator=g)
    edges = torch.cat([torch.zeros(1), widths.cumsum(0)]) - 4
    heights = torch.randn(m, generator=g) * 3
    mids = ((edges[:-1] + edges[1:]) / 2).reshape(-1, 1)
    at_mids = h_staircase(mids, edges, heights).flatten()
    outside = h_staircase(torch.tensor([[edges[0] - 0.5], [edges[-1] + 0.5]]), edges, heights)
    torch.testing.assert_close(at_mids, heights, atol=1e-3, rtol=0)
    assert outside.abs().max() < 1e-3


def test_one_h_unit_does_the_work_of_two_sigmoids() -> None:
    # same staircase from m h-units and from 2m sharp sigmoid units
    edges, heights = [-1.0, -0.2, 0.4, 1.0], [0.5, -1.0, 2.0]
    x = torch.linspace(-1.5, 1.5, 301).reshape(-1, 1)
    near_edge = (x - torch.tensor(edges)).abs().min(dim=1).values < 0.05
    with torch.no_grad():
        a = h_staircase(x, edges, heights)[~near_edge]  # 3 units of h
        b = sigmoid_staircase(edges, heights, sharpness=400.0)(x)[~near_edge]
    assert sigmoid_staircase(edges, heights)[0].out_features == 6
    torch.testing.assert_close(a, b, atol=1e-3, rtol=0)


def test_finer_staircases_approximate_a_curve_better() -> None:
    x, _, truth = data.wavy_curve(n=2000, sigma=0.0)
    errors = []
    for m in (5, 20, 80):
        edges = torch.linspace(0, 2, m + 1)
        heights = data.wavy_truth((edges[:-1] + edges[1:]) / 2)
        errors.append(float(((h_staircase(x, edges, heights) - truth) ** 2).mean()))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-4


@pytest.mark.parametrize(
    ("call", "err", "words"),
    [
        (lambda: sigmoid_staircase([0.0, 1.0, 1.0], [1, 2]), ValueError, "increasing"),
        (lambda: sigmoid_staircase([1.0, 0.0], [1]), ValueError, "increasing"),
        (lambda: sigmoid_staircase([0.0], []), ValueError, "at least 2"),
        (lambda: sigmoid_staircase([0.0, 1.0], [1, 2]), ValueError, "heights"),
        (lambda: sigmoid_staircase([0.0, 1.0, 2.0], [1]), ValueError, "heights"),
        (lambda: sigmoid_staircase("0,1", [1]), TypeError, "edges"),
        (lambda: sigmoid_staircase([0.0, "1"], [1]), TypeError, "edges[1]"),
        (lambda: sigmoid_staircase([0.0, float("nan")], [1]), ValueError, "edges[1]"),
        (lambda: sigmoid_staircase(torch.zeros(2, 2), [1]), ValueError, "edges"),
        (lambda: sigmoid_staircase([0.0, 1.0], 1.0), TypeError, "heights"),
        (lambda: sigmoid_staircase([0.0, 1.0], [1], sharpness=0), ValueError, "sharpness"),
        (lambda: sigmoid_staircase([0.0, 1.0], [1], sharpness=-1), ValueError, "sharpness"),
        (lambda: sigmoid_staircase([0.0, 1.0], [1], sharpness="5"), TypeError, "sharpness"),
    ],
)
def test_activations_reject_bad_input(call, err: type, words: str) -> None:
    with pytest.raises(err, match=words.replace("[", r"\[").replace("]", r"\]")):
        call()


# ---------------------------------------------------------------- the fits the post shows


def _one_layer(width: int, act: torch.nn.Module, *tail: torch.nn.Module) -> torch.nn.Sequential:
    torch.manual_seed(data.SEED)
    return torch.nn.Sequential(torch.nn.Linear(1, width), act, torch.nn.Linear(width, 1), *tail)


def _fit_then_predict(net, loss_fn, x, y, lr: float, epochs: int) -> torch.Tensor:
    """Train ``net`` with Adam for ``epochs`` full-batch steps and return ``net(x)``."""
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    fit(net, loss_fn, optimizer, x, y, epochs, record_every=epochs)
    with torch.no_grad():
        return net(x)


def test_relu_layer_learns_the_step_shaped_probability() -> None:
    x, y, prob = data.step_prob()
    bce = torch.nn.BCEWithLogitsLoss()
    phat = torch.sigmoid(_fit_then_predict(_one_layer(256, torch.nn.ReLU()), bce, x, y, 0.02, 500))
    # a straight logit (logistic regression) cannot follow the plateaus; the bent line can
    logistic = _one_layer(1, torch.nn.Identity())
    plin = torch.sigmoid(_fit_then_predict(logistic, bce, x, y, 0.05, 500))
    mae, mae_lin = (phat - prob).abs().mean(), (plin - prob).abs().mean()
    assert mae < 0.04
    assert mae < mae_lin / 2


@pytest.mark.slow
def test_the_lectures_5000_epochs_at_lr_0_001_reach_about_the_same_fit() -> None:
    """The post's departure (500 epochs at lr 0.02) lands where the lecture's run does."""
    x, y, prob = data.step_prob()
    bce = torch.nn.BCEWithLogitsLoss()
    ours = torch.sigmoid(_fit_then_predict(_one_layer(256, torch.nn.ReLU()), bce, x, y, 0.02, 500))
    lecture = torch.sigmoid(
        _fit_then_predict(_one_layer(256, torch.nn.ReLU()), bce, x, y, 0.001, 5000)
    )
    mae_ours, mae_lecture = (ours - prob).abs().mean(), (lecture - prob).abs().mean()
    assert abs(mae_ours - mae_lecture) < 0.2 * mae_lecture


def test_relu_layer_fits_the_curve_to_5e_4() -> None:
    x, y, truth = data.wavy_curve()
    net = _one_layer(512, torch.nn.ReLU())
    yhat = _fit_then_predict(net, torch.nn.MSELoss(), x, y, 0.005, 1000)
    mse_truth = float(((yhat - truth) ** 2).mean())
    assert mse_truth <= 5e-4
    # the post: a few percent of the noise variance; training loss close to the truth's
    assert mse_truth < 0.1 * 0.0025
    mse_data, mse_of_truth = float(((yhat - y) ** 2).mean()), float(((truth - y) ** 2).mean())
    assert abs(mse_data - mse_of_truth) < 0.1 * 0.0025


def test_noise_variance_is_an_average_not_a_floor_for_the_training_loss() -> None:
    """E (y - f)^2 = sigma^2 + (f - truth)^2 on new data; one sample can score below sigma^2."""
    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(0, 2, 200_000, dtype=torch.float64)
    truth = data.wavy_truth(x)
    y = truth + 0.05 * torch.randn(x.shape, generator=gen, dtype=torch.float64)
    assert float(((y - truth) ** 2).mean()) == pytest.approx(0.0025, rel=0.01)
    f = truth + 0.02 * torch.sin(7 * x)  # any other function does worse on new points
    expected = 0.0025 + float(((f - truth) ** 2).mean())
    assert float(((y - f) ** 2).mean()) == pytest.approx(expected, rel=0.01)
    # a function through every noisy training point (a piecewise-linear interpolant, which
    # a ReLU layer can draw) has training loss 0 < 0.0025, and does worse than 0.0025 on
    # new points
    xs = torch.linspace(0, 2, 50, dtype=torch.float64)
    ys = data.wavy_truth(xs) + 0.05 * torch.randn(50, generator=gen, dtype=torch.float64)
    through = torch.from_numpy(np.interp(x.numpy(), xs.numpy(), ys.numpy()))
    at_train = torch.from_numpy(np.interp(xs.numpy(), xs.numpy(), ys.numpy()))
    assert float(((at_train - ys) ** 2).mean()) == 0.0
    assert float(((y - through) ** 2).mean()) > 1.2 * 0.0025


def test_scaling_the_inputs_scales_the_weighted_sums_not_the_biases() -> None:
    torch.manual_seed(data.SEED)
    layer = torch.nn.Linear(784, 32).double()
    pixels = torch.rand(5, 784, dtype=torch.float64) * 255
    with torch.no_grad():
        raw = layer(pixels) - layer.bias
        scaled = layer(pixels / 255) - layer.bias
    assert torch.allclose(raw, 255 * scaled, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        ratio = layer(pixels) / layer(pixels / 255)
    assert not torch.allclose(ratio, torch.full_like(ratio, 255.0))  # outputs: not 255x


def test_a_wide_h_layer_fits_both_data_sets_in_100_epochs() -> None:
    x, y, truth = data.wavy_curve()
    net = _one_layer(512, H())
    optimizer = torch.optim.Adam(net.parameters())
    history = fit(net, torch.nn.MSELoss(), optimizer, x, y, 100, record_every=100)
    with torch.no_grad():
        assert float(((net(x) - truth) ** 2).mean()) < 5e-4
    assert history.loss[-1] < history.loss[0] / 10

    x, y, prob = data.irony_of_spec()
    net = _one_layer(512, H(), torch.nn.Sigmoid())
    optimizer = torch.optim.Adam(net.parameters())
    fit(net, torch.nn.BCELoss(), optimizer, x, y, 100, record_every=100)
    with torch.no_grad():
        assert float((net(x) - prob).abs().mean()) < 0.03


# ---------------------------------------------------------------- MNIST 3 vs 7


@pytest.fixture(scope="module")
def mnist_root() -> Path:
    """Where the post reads MNIST: $DLBASICS_DATA (``make test`` sets it), else the cache."""
    return data.data_root()


@pytest.fixture(scope="module")
def mnist_splits(mnist_root: Path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    return {
        "train": data.mnist_3_vs_7(train=True, root=mnist_root),
        "test": data.mnist_3_vs_7(train=False, root=mnist_root),
    }


def test_mnist_loader_returns_flat_float_images_and_binary_labels(mnist_splits) -> None:
    for X, y in mnist_splits.values():
        assert X.dtype == torch.float32 and y.dtype == torch.float32
        assert X.ndim == 2 and X.shape[1] == 784 and y.shape == (X.shape[0], 1)
        assert float(X.min()) >= 0.0 and float(X.max()) <= 1.0 and float(X.max()) > 0.99
        assert set(y.unique().tolist()) == {0.0, 1.0}
    # the test split is complete everywhere: 1,010 threes and 1,028 sevens
    _, y_test = mnist_splits["test"]
    assert (int((y_test == 0).sum()), int((y_test == 1).sum())) == (1010, 1028)
    # training split: the offline subset (500 + 500) or the full data (6,131 + 6,265)
    _, y_train = mnist_splits["train"]
    counts = (int((y_train == 0).sum()), int((y_train == 1).sum()))
    assert counts in {(500, 500), (6131, 6265)}


def test_mnist_labels_match_the_pictures(mnist_splits) -> None:
    # nearest class mean, learned on the training split, must sort the test split well:
    # only possible if label 0 really marks threes and label 1 sevens in both splits
    X, y = mnist_splits["train"]
    mean3, mean7 = X[y[:, 0] == 0].mean(0), X[y[:, 0] == 1].mean(0)
    XX, yy = mnist_splits["test"]
    pred7 = ((XX - mean7) ** 2).sum(1) < ((XX - mean3) ** 2).sum(1)
    assert (pred7.float() == yy[:, 0]).float().mean() > 0.9
    # a seven has most of its ink at the top: its upper half is darker than a three's
    img3, img7 = mean3.reshape(28, 28), mean7.reshape(28, 28)
    assert img7[:14].sum() / img7.sum() > img3[:14].sum() / img3.sum()


def test_mnist_digits_order_sets_the_labels(mnist_root: Path, mnist_splits) -> None:
    X, y = mnist_splits["test"]
    X2, y2 = data.mnist_3_vs_7(train=False, root=mnist_root, digits=(7, 3))
    torch.testing.assert_close(X2, X)
    torch.testing.assert_close(y2, 1 - y)
    X3, y3 = data.mnist_3_vs_7(train=False, root=mnist_root, digits=(0, 1))
    assert X3.shape[0] != X.shape[0] and set(y3.unique().tolist()) == {0.0, 1.0}


def test_mnist_loader_reads_dlbasics_data(monkeypatch, tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    monkeypatch.setenv("DLBASICS_DATA", str(target))
    with pytest.raises(ValueError, match="a-file"):
        data.mnist_3_vs_7()


@pytest.mark.parametrize(
    ("digits", "err", "words"),
    [
        ((3, 3), ValueError, "two different"),
        ((3, 11), ValueError, "between 0 and 9"),
        ((-1, 7), ValueError, "between 0 and 9"),
        ("37", TypeError, "pair of ints"),
        ((3, 7, 8), TypeError, "pair of ints"),
        ((3.0, 7), TypeError, "ints"),
        ((True, 7), TypeError, "ints"),
    ],
)
def test_mnist_loader_rejects_bad_digits(tmp_path: Path, digits, err: type, words: str) -> None:
    with pytest.raises(err, match=words):
        data.mnist_3_vs_7(root=tmp_path, digits=digits)
    assert list(tmp_path.iterdir()) == []  # rejected before touching the data folder


def test_mnist_loader_rejects_bad_train_flag(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="train"):
        data.mnist_3_vs_7(train="yes", root=tmp_path)


def test_mnist_root_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "mnist.txt"
    root.write_text("")
    with pytest.raises(ValueError, match="not a folder"):
        data.mnist_3_vs_7(root=root)


def test_mnist_root_that_cannot_be_created_is_rejected(tmp_path: Path) -> None:
    # a folder below a regular file cannot be created, not even by root
    blocker = tmp_path / "plain-file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="cannot be created.*DLBASICS_DATA"):
        data.mnist_3_vs_7(root=blocker / "sub")


def test_unwritable_root_without_mnist_is_rejected_before_downloading(
    monkeypatch, tmp_path: Path
) -> None:
    # tests may run as root, for whom chmod does not block writes: make the loader's
    # writability check see what an ordinary user sees in a read-only folder
    real_access = os.access

    def no_write(path, mode, *args, **kwargs):
        return False if mode & os.W_OK else real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(data.os, "access", no_write)
    with pytest.raises(ValueError, match="not writable"):
        data.mnist_3_vs_7(root=tmp_path)
    assert not (tmp_path / "MNIST").exists()


def test_failed_download_names_the_folder_and_the_fix(monkeypatch, tmp_path: Path) -> None:
    from torchvision.datasets import MNIST

    # nothing listens on port 9 of this machine: torchvision's real download path fails fast
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/mnist/"])
    with pytest.raises(RuntimeError, match="(?s)could not be downloaded.*DLBASICS_DATA") as info:
        data.mnist_3_vs_7(root=tmp_path)
    assert str(tmp_path / "MNIST" / "raw") in str(info.value)
    assert "Error downloading" in str(info.value.__cause__)


# ---------------------------------------------------------------- the executed post


@pytest.mark.slow
def test_executed_post_prints_the_promised_numbers(executed_post) -> None:
    shown = printed(executed_post(POST))
    mse = float(re.search(r"MSE vs true curve: ([0-9.e+-]+)", shown).group(1))
    assert mse <= 5e-4
    step_error = float(re.search(r"mean \|pihat - pi\| = ([0-9.]+)", shown).group(1))
    assert step_error < 0.04
    counts = re.search(r"training: (\d+) threes, (\d+) sevens", shown).groups()
    assert tuple(map(int, counts)) in {(500, 500), (6131, 6265)}
    assert "test: 1010 threes, 1028 sevens" in shown
    # the post trains on the first 1000 of them, whatever the split's size
    threes, sevens = map(int, re.search(r"first 1000: (\d+) threes, (\d+) sevens", shown).groups())
    assert threes + sevens == 1000 and threes > 300 and sevens > 300
    assert "X: (1000, 784) torch.float32 XX: (2038, 784)" in shown
    test_acc = float(re.search(r"test accuracy: +([0-9.]+)", shown).group(1))
    assert test_acc >= 0.95
    # the exercise: both accuracy rules print the same number on each split
    for split in ("training", "test"):
        a, b = re.search(
            rf"{split}: sigmoid\(out\) > 0.5: ([0-9.]+) +out > 0: ([0-9.]+)", shown
        ).groups()
        assert a == b
    # and they match the network with the sigmoid inside (same path up to rounding)
    main = float(re.search(r"test accuracy: +([0-9.]+)", shown).group(1))
    ex1 = float(re.search(r"test: sigmoid\(out\) > 0.5: ([0-9.]+)", shown).group(1))
    assert abs(main - ex1) <= 0.005
    # the staircases: error falls with every fourfold m
    mse_m = [float(v) for v in re.findall(r"m = +\d+ h-units: MSE vs true curve (\S+)", shown)]
    assert len(mse_m) == 3 and mse_m[0] > 5 * mse_m[1] > 25 * mse_m[2]
    # the curve's training loss is close to the true curve's own loss on the data
    mse_data = float(re.search(r"MSE on the data: +([0-9.]+)", shown).group(1))
    mse_of_truth = float(re.search(r"the true curve's MSE on the data: ([0-9.]+)", shown).group(1))
    assert abs(mse_data - mse_of_truth) < 0.1 * 0.0025
    assert "hidden weights: [-5.0, 5.0, -5.0, 5.0]" in shown
    # first-layer biases: training gathers kinks at the big cliff
    near = {
        name: int(re.search(rf"{name}: (\d+) kinks within 0.1 of the cliff", shown).group(1))
        for name in ("start", "trained")
    }
    assert near["trained"] >= 5 * max(near["start"], 1)
    # exercise 2: sharp steps hit their heights, blurred ones fall short, sharpness 1 melts
    centres = {
        s: [
            float(v)
            for v in re.search(rf"sharpness +{s}: 6 hidden units, .*\[(.*)\]", shown)
            .group(1)
            .split(",")
        ]
        for s in ("20", "5", "1")
    }
    assert centres["20"] == pytest.approx([1.0, -1.0, 2.0], abs=0.01)
    assert all(0.2 < abs(v) / h < 0.9 for v, h in zip(centres["5"], [1, 1, 2], strict=True))
    assert min(centres["1"]) > 0 and max(centres["1"]) < 0.5  # one low hump, the dip is gone
    # exercise 3: h -> 1 inside, 1/2 at the edge, 0 outside as s grows
    last = re.search(r"s = +2000: (.*)", shown).group(1)
    assert [float(v) for v in re.findall(r"= ([0-9.]+)", last)] == [1.0, 1.0, 0.5, 0.0, 0.0]
    # exercise 4: shuffling the pixels leaves the accuracy about where it was
    shuffled, plain = map(
        float, re.search(r"shuffled pixels: ([0-9.]+) \(unshuffled: ([0-9.]+)\)", shown).groups()
    )
    assert shuffled >= 0.95 and abs(shuffled - plain) < 0.02
    # exercise 5: training accuracy near 1 at every size; on test, 1000 images beat 125 and
    # the last doubling changes less than the two before it together
    rows = dict(re.findall(r"^ +(\d+) +([0-9.]+ +[0-9.]+)$", shown, re.M))
    assert sorted(map(int, rows)) == [125, 250, 500, 1000]
    train, test = ({int(n): float(v.split()[i]) for n, v in rows.items()} for i in (0, 1))
    assert all(acc >= 0.99 for acc in train.values())
    assert test[1000] == plain and test[1000] > test[125]
    assert abs(test[1000] - test[500]) < test[500] - test[125]


def test_post_writes_the_lesson_and_drops_the_corrected_claims() -> None:
    text = QMD.read_text(encoding="utf-8")
    assert "class StepUnit(nn.Module):" in text and "def h(u" in text
    for wrong in (
        "torch.set_num_threads",
        "first-layer output is 255 times smaller",
        "a fifth to a third",
        "that is the floor",
        "whenever an $\\mathbf X \\to \\mathbf y$ rule exists",
        "whole idea of the theorem",
        "(see [Week 4]",
    ):
        assert wrong not in text, wrong
    assert text.count("loss.backward()") >= 2 and text.count("optimizer.zero_grad()") >= 2
    assert "net.eval()" in text and "with torch.no_grad():" in text


# ---------------------------------------------------------------- the self-check


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_what_torch_computes() -> None:
    answers = self_check_answers()
    assert len(answers) == 5
    nn = torch.nn

    # 1. parameters of the MNIST network, and the first weight's shape
    net = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())
    count = sum(p.numel() for p in net.parameters())
    assert count == 784 * 32 + 32 + 32 + 1 == 25153
    assert tuple(net[0].weight.shape) == (32, 784)
    assert answers[0].startswith(f"{count} parameters; the first weight has shape `(32, 784)`.")

    # 2. BCELoss rejects logits; BCEWithLogitsLoss = BCE of the sigmoid; logit > 0 rule
    logits = torch.tensor([[-2.0], [0.3], [1.7]])
    labels = torch.tensor([[0.0], [1.0], [1.0]])
    with pytest.raises(RuntimeError):
        nn.BCELoss()(logits, labels)
    assert torch.allclose(
        nn.BCEWithLogitsLoss()(logits, labels), nn.BCELoss()(torch.sigmoid(logits), labels)
    )
    assert torch.equal(torch.sigmoid(logits) > 0.5, logits > 0)
    assert not torch.equal(logits > 0.5, logits > 0)  # the logit 0.3 is misread at 0.5
    assert "`nn.BCEWithLogitsLoss()`" in answers[1] and "logit is above\n0" in answers[1]

    # 3. h at 0, 0.5 and 2 with sharpness 200, from the formula in float64
    u = torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64)
    values = torch.sigmoid(200 * (u + 0.5)) + torch.sigmoid(-200 * (u - 0.5)) - 1
    shown = [f"{v:.2f}" for v in values.tolist()]
    assert shown == ["1.00", "0.50", "0.00"]
    assert answers[2].startswith(f"${shown[0]}$, ${shown[1]}$ and ${shown[2]}$.")

    # 4. conceptual (the theorem is about existence): the answer says so
    assert answers[3].startswith("False.") and "continuous" in answers[3]

    # 5. checked in test_noise_variance_is_an_average_not_a_floor_for_the_training_loss
    assert answers[4].startswith("No.") and "0.0025 + \\mathbb E" in answers[4]
