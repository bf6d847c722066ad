"""Week 13 (posts/13-transfer-learning): the post's teaching claims.

The lesson code (the Dataset class, the CNN, the split) is taken from the post's own cells
and checked against independent computations; the experiment's claims are read from the
executed post's printed table and checked as orderings with CPU-robust margins, never as
trained digits. The self-check answers are recomputed here and the post's answer text is
checked to state the result.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import torch
from post_output import number, numbers, printed
from torch import nn
from torch.utils.data import Dataset, random_split
from torchvision.transforms import v2 as transforms

POST = "13-transfer-learning"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"
TEXT = QMD.read_text(encoding="utf-8")
METHODS = ("scratch", "frozen", "fine-tuned")


def definition(name: str) -> str:
    """Source of the top-level ``def``/``class`` called ``name`` in the post's cells."""
    match = re.search(rf"^(?:def|class) {name}\b.*?(?=^\S|\Z)", TEXT, re.M | re.S)
    assert match, f"the post no longer defines {name}"
    return match.group(0)


def post_namespace(*names: str) -> dict:
    namespace = {"nn": nn, "torch": torch, "Dataset": Dataset}
    for name in names:
        exec(definition(name), namespace)  # noqa: S102 - our own post's code
    return namespace


def self_check() -> str:
    return TEXT.split("\n## Self-check\n", 1)[1]


def answer(k: int) -> str:
    """The text of self-check question k and its answer."""
    parts = re.split(r"^\d\. ", self_check(), flags=re.M)
    return parts[k]


# ------------------------------------------------------------------ lesson code


def test_digit_dataset_length_items_and_transform() -> None:
    DigitDataset = post_namespace("DigitDataset")["DigitDataset"]
    X = torch.arange(6 * 4, dtype=torch.float32).reshape(6, 1, 2, 2)
    y = torch.tensor([3, 1, 4, 1, 5, 9])
    ds = DigitDataset(X, y)
    assert len(ds) == 6
    for i in range(6):
        xi, yi = ds[i]
        assert torch.equal(xi, X[i]) and int(yi) == int(y[i])
    doubled = DigitDataset(X, y, transform=lambda x: 2 * x)
    assert torch.equal(doubled[4][0], 2 * X[4]) and int(doubled[4][1]) == 5
    with pytest.raises(ValueError, match="6 images but y has 5 labels"):
        DigitDataset(X, y[:5])


def test_augmentation_only_on_the_training_dataset() -> None:
    DigitDataset = post_namespace("DigitDataset")["DigitDataset"]
    torch.manual_seed(0)
    X = torch.rand(4, 1, 28, 28)
    y = torch.arange(4)
    augment = transforms.RandomAffine(degrees=10, translate=(0.1, 0.1))
    train, val = DigitDataset(X, y, transform=augment), DigitDataset(X, y)
    assert not torch.equal(train[0][0], train[0][0])  # a new draw on every fetch
    assert all(torch.equal(val[i][0], X[i]) for i in range(4))
    # the tempting split shares the one transform (self-check 3, exercise 4)
    _, val_view = random_split(train, [0.5, 0.5], generator=torch.Generator().manual_seed(1))
    assert val_view.dataset.transform is augment
    assert "views of the same" in answer(3) and "one transform" in answer(3)


def test_split_sizes_disjoint_and_reproducible() -> None:
    # the post's split of 2,500 pretraining images, and self-check 1
    parts = [
        random_split(range(2500), [0.8, 0.2], generator=torch.Generator().manual_seed(s))
        for s in (43052, 43052, 1)
    ]
    a, b = (list(p) for p in parts[0])
    assert (len(a), len(b)) == (2000, 500)
    assert not set(a) & set(b) and set(a) | set(b) == set(range(2500))
    assert [list(p) for p in parts[1]] == [a, b]  # same seed, same split
    assert list(parts[2][0]) != a
    assert "2000 and 500" in answer(1)


def test_cnn_shapes_and_parameter_counts() -> None:
    make_cnn = post_namespace("make_cnn")["make_cnn"]
    net = make_cnn()
    assert net[0](torch.zeros(3, 1, 28, 28)).shape == (3, 256)
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 5)
    body = (8 * 1 * 25 + 8) + (16 * 8 * 25 + 16)
    head = 256 * 5 + 5
    assert sum(p.numel() for p in net.parameters()) == body + head == 4709
    net[0].requires_grad_(False)
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert trainable == head == 1285
    assert "1285" in answer(2) and "1280" in answer(2)


def test_state_dict_round_trip_is_exact() -> None:
    make_cnn = post_namespace("make_cnn")["make_cnn"]
    torch.manual_seed(3)
    net, other = make_cnn(), make_cnn()
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    other.load_state_dict(torch.load(buffer))
    for (k, v), (k2, v2) in zip(net.state_dict().items(), other.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(v, v2)
    X = torch.rand(7, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(net(X), other(X))


def test_wrong_head_size_fails_even_with_strict_false() -> None:
    make_cnn = post_namespace("make_cnn")["make_cnn"]
    state = make_cnn(num_classes=10).state_dict()
    for strict in (True, False):
        with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
            make_cnn(num_classes=3).load_state_dict(state, strict=strict)
    net = make_cnn(num_classes=10)
    net.load_state_dict(state)
    net[1] = nn.Linear(256, 3)  # the fix the answer gives
    assert net(torch.zeros(1, 1, 28, 28)).shape == (1, 3)
    text = answer(4)
    assert "size mismatch" in text and "strict=False" in text and "nn.Linear(256, 3)" in text


def test_frozen_batchnorm_still_moves_in_train_mode() -> None:
    bn = nn.BatchNorm2d(2).requires_grad_(False)
    x = torch.randn(8, 2, 3, 3) + 5
    bn.train()
    bn(x)
    assert bn.running_mean.abs().min() > 0.1  # updated from zero
    before = bn.running_mean.clone()
    bn.eval()
    bn(x)
    assert torch.equal(bn.running_mean, before)
    assert "running mean" in answer(6) and "eval()" in answer(6)


def test_resnet18_head_is_512_features() -> None:
    from torchvision.models import resnet18

    net = resnet18(weights=None)  # the architecture only: no download
    assert net.fc.in_features == 512
    net.requires_grad_(False)
    net.fc = nn.Linear(net.fc.in_features, 2)
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == 512 * 2 + 2
    assert "512 features" in TEXT


# ------------------------------------------------------------ the executed post


def table(shown: str) -> dict[str, list[tuple[float, float, float]]]:
    """{method: [(mean, lowest, highest) for k = 10, 30, 100]} from the printed table."""
    rows = {}
    for k in (10, 30, 100):
        line = re.search(rf"^\s+{k}\s+(.*)$", shown.split("labels per digit", 1)[1], re.M)
        cells = re.findall(r"([0-9.]+) \(([0-9.]+)-([0-9.]+)\)", line.group(1))
        assert len(cells) == 3
        rows[k] = [tuple(float(v) for v in c) for c in cells]
    return {m: [rows[k][i] for k in (10, 30, 100)] for i, m in enumerate(METHODS)}


@pytest.mark.slow
def test_executed_post_claims(executed_post) -> None:
    shown = printed(executed_post(POST))
    # fixed-size subsets whatever the copy of MNIST
    assert int(number(r"training split: (\d+) images", shown)) in (5_000, 60_000)
    for line in (
        "pretraining images: 2500, new-task test images: 1000",
        "len(ds) = 2500, ds[0]: image (1, 28, 28), label 0",
        "training: 2000, validation: 500, shared: 0",
        "training item 0 identical when fetched twice: False",  # augmented
        "validation item 0 identical when fetched twice: True",  # not augmented
        "every tensor identical after reloading: True; identical outputs: True",
        "frozen body still equal to the pretrained one: True",
    ):
        assert line in shown, line

    # pretraining works
    val = [float(v) for v in re.findall(r"validation accuracy ([0-9.]+)", shown)]
    assert len(val) == 6 and val[-1] > 0.95
    assert number(r"test accuracy on the digits 0-4: ([0-9.]+)", shown) > 0.95

    # trainable parameters, by hand and counted
    for name, count in [("scratch", 4709), ("frozen", 1285), ("fine-tuned", 4709)]:
        assert f"{name:10}: {count:5,} trainable parameters" in shown
        assert f"{name:10}: by hand {count:5,}, counted {count:5,}" in shown

    # the experiment: pretrained beats scratch at 10 labels per digit, less so with more
    acc = table(shown)
    for m in METHODS:
        for mean, low, high in acc[m]:
            assert 0.5 < low <= mean <= high <= 1.0
    means = {m: [row[0] for row in acc[m]] for m in METHODS}
    gain = [max(means["frozen"][i], means["fine-tuned"][i]) - means["scratch"][i] for i in range(3)]
    gain_both_10 = min(means["frozen"][0], means["fine-tuned"][0]) - means["scratch"][0]
    assert gain_both_10 > 0.02  # "both ... beat training from scratch" at 10
    assert gain[0] > gain[1] + 0.01 and gain[0] > gain[2] + 0.02  # "scratch catches up"
    assert gain[2] < 0.015  # caught up at 100
    for i in (1, 2):  # the alt text: "at 30 and at 100 the three lines lie close together"
        assert max(means[m][i] for m in METHODS) - min(means[m][i] for m in METHODS) < 0.03
    for i in range(3):  # "frozen and fine-tuned end up close to each other at every k"
        assert abs(means["frozen"][i] - means["fine-tuned"][i]) < 0.03
    # every method gains from more labels
    for m in METHODS:
        assert means[m][0] < means[m][2]

    # exercises 2-4
    assert number(r"frozen    : largest change of a body weight (\S+),", shown) == 0.0
    tuned_change = number(r"fine-tuned: largest change of a body weight (\S+),", shown)
    body_size = number(r"largest pretrained body weight: ([0-9.]+)", shown)
    # "moved, but not far": Adam at lr / 10 = 0.001 for 60 updates, about 0.06
    assert 0 < tuned_change < 0.1 and tuned_change < body_size / 4
    assert "`lr / 10` = 0.001, so 60\nupdates move a weight by about 0.06" in TEXT
    assert "\nlr = 0.01\n" in TEXT and "steps=60," in TEXT  # the numbers that sentence uses
    stored, direct = numbers(
        r"head on stored features: ([0-9.]+), run\('frozen', 10, 0\): "
        r"([0-9.]+)",
        shown,
    )
    assert abs(stored - direct) <= 0.003  # the same steps, up to float rounding
    assert "the validation view's transform: RandomAffine" in shown
    aug1, aug2, clean = numbers(
        r"augmented validation: ([0-9.]+), ([0-9.]+); clean: "
        r"([0-9.]+)",
        shown,
    )
    assert (aug1 + aug2) / 2 < clean  # augmented images are the harder task


def test_self_check_shape() -> None:
    questions = re.findall(r"^\d\. ", self_check(), re.M)
    assert 4 <= len(questions) <= 6
    answers = re.findall(r'^::: \{\.callout-note collapse="true"\}\n## Answer', self_check(), re.M)
    assert len(answers) == len(questions)
