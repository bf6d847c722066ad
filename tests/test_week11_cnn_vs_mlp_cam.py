"""Week 11 (posts/11-cnn-vs-mlp-cam): the post's teaching claims.

The training claims are read from the executed post (which trains on the first 5,000
images of whatever training split the test run has, and tests on the full test split) and
checked against counts and formulas written out here. The CAM identity of the post's own
network is checked in the post's output; tests/test_cam.py checks it for the helper
against a float64 loop.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from post_output import number, printed
from torch import nn

POST = "11-cnn-vs-mlp-cam"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"


def test_parameter_counts_written_out() -> None:
    # MLP 784 -> 64 -> 10; the lecture's CNN; the CAM network; exercise 1's variants
    assert 784 * 64 + 64 + 64 * 10 + 10 == 50_890
    assert 16 * 25 + 16 + 2304 * 10 + 10 == 23_466
    assert (16 * 25 + 16) + (32 * 16 * 9 + 32) + (32 * 10 + 10) == 5_386
    assert 32 * 25 + 32 + 4608 * 10 + 10 == 46_922
    assert 416 + 64 * 16 * 9 + 64 + 650 == 10_346


def test_gap_then_linear_equals_linear_then_gap_on_the_lecture_tensor() -> None:
    F = [[[16 * c + 4 * i + j for j in range(4)] for i in range(4)] for c in range(3)]
    w = [0.1, 0.2, 0.3]
    pooled = [sum(sum(row) for row in F[c]) / 16 for c in range(3)]
    assert pooled == [7.5, 23.5, 39.5]
    first = sum(wc * m for wc, m in zip(w, pooled, strict=True))
    second = sum(sum(w[c] * F[c][i][j] for c in range(3)) for i in range(4) for j in range(4)) / 16
    assert first == pytest.approx(17.3) and second == pytest.approx(17.3)


@pytest.mark.slow
def test_executed_post_cnn_beats_mlp_and_cam_identity_holds(executed_post) -> None:
    shown = printed(executed_post(POST))
    # the training split (offline 5,000 images, published 60,000); the post trains on its
    # first 5,000 whatever the split's size, so its cost does not grow with the data
    assert int(number(r"training split: (\d+) images", shown)) in (5_000, 60_000)
    assert "training images: 5000, test images: 10000" in shown
    table = dict(re.findall(r"^(MLP|CNN)\s+([\d,]+\s+[0-9.]+\s+[0-9.]+)$", shown, re.M))
    (mlp_params, mlp_train, mlp_test), (cnn_params, cnn_train, cnn_test) = (
        [float(v.replace(",", "")) for v in table[k].split()] for k in ("MLP", "CNN")
    )
    assert (mlp_params, cnn_params) == (50_890, 23_466)
    assert cnn_params < mlp_params / 2  # "fewer than half the parameters"
    assert cnn_test > mlp_test  # the headline claim
    assert cnn_test > 0.9 and mlp_test > 0.85
    for acc in (mlp_train, cnn_train):
        assert 0.85 < acc <= 1.0

    # the GAP network: its size, an accuracy below the plain CNN's, and the identity
    assert number(r"parameters: ([\d,]+)\n", shown) == 5_386
    cam_test = number(r"train acc: [0-9.]+  test acc: ([0-9.]+)", shown)
    assert 0.8 < cam_test < cnn_test
    assert "feature maps: (1, 32, 7, 7)  CAMs: (1, 10, 7, 7)" in shown
    assert number(r"over the ten classes: (\S+)", shown) < 1e-5
    mistakes = int(number(r"test mistakes: (\d+) of 10000", shown))
    assert mistakes == round((1 - cam_test) * 10000)

    # concentration: 5 of 49 positions hold far more than 5/49 of the positive evidence
    assert number(r"top 5 of 49 positions: median ([0-9.]+)", shown) > 0.25
    k, p = re.search(r"largest mean \+ bias: class (\d), prediction: (\d)", shown).groups()
    assert k == p
    assert "relu(mean) = 1.0, mean(relu) = 1.5" in shown
    ink = number(r"ink covers (\d+)% of the pixels", shown)
    on_ink = number(r"positive evidence on ink: (\d+)%", shown)
    assert ink < 25 and on_ink < 50  # most positive evidence lies off the ink
    assert "CNN with 32 kernels: 46,922; cam_net with 64: 10,346" in shown


def test_relu_does_not_commute_with_the_mean() -> None:
    a = torch.tensor([-1.0, 3.0])
    assert float(torch.relu(a.mean())) == 1.0 and float(torch.relu(a).mean()) == 1.5
    # and a linear map does: mean(W a) == W mean(a) for any W
    W = torch.randn(3, 4, generator=torch.Generator().manual_seed(0)).double()
    A = torch.randn(4, 10, generator=torch.Generator().manual_seed(1)).double()
    torch.testing.assert_close((W @ A).mean(1), W @ A.mean(1))


def test_the_posts_networks_have_the_stated_shapes() -> None:
    cells = [c.split("```")[0] for c in QMD.read_text(encoding="utf-8").split("```{python}")[1:]]
    (source,) = [c for c in cells if "def make_mlp(" in c]
    ns = {"nn": nn, "torch": torch}
    exec(source.split("\n\n\ndef n_params")[0], ns)  # noqa: S102 - the post's own code
    x = torch.zeros(2, 1, 28, 28)
    for make, count in [(ns["make_mlp"], 50_890), (ns["make_cnn"], 23_466)]:
        net = make()
        assert net(x).shape == (2, 10)
        assert sum(p.numel() for p in net.parameters()) == count


def test_post_links_both_lectures() -> None:
    text = QMD.read_text(encoding="utf-8")
    assert "07wk-1-2.html" in text and "06wk-1.html" in text
