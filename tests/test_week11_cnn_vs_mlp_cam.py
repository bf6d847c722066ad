"""Week 11 (posts/11-cnn-vs-mlp-cam): the post's teaching claims.

The training claims are read from the executed post (which trains on the first 5,000
images of whatever training split the test run has, and tests on the full test split) and
checked as the lesson states them: orderings and thresholds that hold on any CPU, never
trained digits. Parameter counts and the CAM identity are checked against formulas and
loops written out here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from post_output import answers_of, number, numbers, printed
from torch import nn

POST = "11-cnn-vs-mlp-cam"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"


def post_cell(defines: str) -> str:
    """The source of the post's code cell that contains ``defines``."""
    cells = [c.split("```")[0] for c in QMD.read_text(encoding="utf-8").split("```{python}")[1:]]
    (source,) = [c for c in cells if defines in c]
    return source


def count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_the_posts_networks_have_the_parameters_the_formulas_give() -> None:
    ns = {"nn": nn, "torch": torch}
    exec(post_cell("def make_mlp(").split("\n\n\nprint")[0], ns)  # noqa: S102 - the post's code
    x = torch.zeros(2, 1, 28, 28)
    mlp, cnn = ns["make_mlp"](), ns["make_cnn"]()
    assert mlp(x).shape == cnn(x).shape == (2, 10)
    # weights + biases of each layer, written out
    assert count(mlp) == (784 * 64 + 64) + (64 * 10 + 10)
    assert count(cnn) == (16 * 1 * 5 * 5 + 16) + (16 * 12 * 12 * 10 + 10)
    assert count(cnn) < count(mlp) / 2  # "fewer than half"


def test_gap_then_linear_equals_linear_then_gap_on_the_lecture_tensor() -> None:
    F = [[[16 * c + 4 * i + j for j in range(4)] for i in range(4)] for c in range(3)]
    w = [0.1, 0.2, 0.3]
    pooled = [sum(sum(row) for row in F[c]) / 16 for c in range(3)]
    first = sum(wc * m for wc, m in zip(w, pooled, strict=True))
    second = sum(sum(w[c] * F[c][i][j] for c in range(3)) for i in range(4) for j in range(4)) / 16
    assert first == pytest.approx(second) == pytest.approx(17.3)


def test_cam_loop_and_matrix_product_equal_a_float64_reference() -> None:
    gen = torch.Generator().manual_seed(0)
    F = torch.randn(32, 7, 7, generator=gen)
    W = torch.randn(10, 32, generator=gen)
    ref = np.einsum("kc,cij->kij", W.double().numpy(), F.double().numpy())
    by_product = (W @ F.reshape(32, 49)).reshape(10, 7, 7)
    np.testing.assert_allclose(by_product.double().numpy(), ref, atol=1e-5)
    k = 3
    cam_k = torch.zeros(7, 7)
    for c in range(32):  # the post's loop
        cam_k += W[k, c] * F[c]
    np.testing.assert_allclose(cam_k.double().numpy(), ref[k], atol=1e-5)


def test_flatten_head_map_sums_to_score_minus_bias() -> None:
    gen = torch.Generator().manual_seed(1)
    F = torch.randn(16, 12, 12, generator=gen, dtype=torch.float64)
    linear = nn.Linear(16 * 12 * 12, 10).double()
    with torch.no_grad():
        score = linear(F.reshape(1, -1))[0]
    W = linear.weight.detach().reshape(10, 16, 12, 12)
    bias = linear.bias.detach()
    for k in range(10):
        total = sum(
            float(W[k, c, i, j] * F[c, i, j])
            for c in range(16)
            for i in range(12)
            for j in range(12)
        )
        assert total == pytest.approx(float(score[k] - bias[k]), abs=1e-9)


def test_relu_does_not_commute_with_the_mean() -> None:
    a = torch.tensor([-1.0, 3.0])
    assert float(torch.relu(a.mean())) == 1.0 and float(torch.relu(a).mean()) == 1.5
    W = torch.randn(3, 4, generator=torch.Generator().manual_seed(0)).double()
    A = torch.randn(4, 10, generator=torch.Generator().manual_seed(1)).double()
    torch.testing.assert_close((W @ A).mean(1), W @ A.mean(1))


@pytest.mark.slow
def test_executed_post_cnn_beats_mlp_and_cam_identity_holds(executed_post) -> None:
    shown = printed(executed_post(POST))
    # the post trains on the first 5,000 images whatever the split's size
    assert int(number(r"training split: (\d+) images", shown)) >= 5_000
    assert "training images: 5000, test images: 10000" in shown
    table = dict(re.findall(r"^(MLP|CNN)\s+([\d,]+\s+[0-9.]+\s+[0-9.]+)$", shown, re.M))
    (mlp_params, _, mlp_test), (cnn_params, _, cnn_test) = (
        [float(v.replace(",", "")) for v in table[k].split()] for k in ("MLP", "CNN")
    )
    assert cnn_params < mlp_params / 2
    assert cnn_test > mlp_test  # the headline claim, first seed
    # three seeds: the CNN ahead in every run (the text reports the count and the range)
    gaps = [float(g) for g in re.search(r"CNN minus MLP: (.*)", shown).group(1).split(", ")]
    assert len(gaps) == 3 and min(gaps) > 0
    for name in ("MLP", "CNN"):
        accs = re.search(rf"{name}: test accuracy (.*)", shown).group(1).split(", ")
        assert all(0.85 < float(a) < 1.0 for a in accs)

    # the GAP network: its size, an accuracy below the plain CNN's, and the identity
    assert number(r"parameters: ([\d,]+)\n", shown) == (
        (16 * 25 + 16) + (32 * 16 * 9 + 32) + (32 * 10 + 10)
    )
    cam_test = number(r"train acc: [0-9.]+  test acc: ([0-9.]+)", shown)
    assert 0.8 < cam_test < cnn_test
    score, from_cam = numbers(r"score (-?[0-9.]+), mean of the CAM \+ bias (-?[0-9.]+)", shown)
    assert score == pytest.approx(from_cam, abs=2e-4)
    assert number(r"over the ten classes: (\S+)", shown) < 1e-5
    mistakes = int(number(r"test mistakes: (\d+) of 10000", shown))
    assert mistakes == round((1 - cam_test) * 10000)

    # concentration: 5 of 49 positions hold far more than 5/49 of the positive evidence
    assert number(r"top 5 of 49 positions: median ([0-9.]+)", shown) > 0.25
    assert "(an even spread: 5/49 = 0.10)" in shown
    k, p = re.search(r"largest mean \+ bias: class (\d), prediction: (\d)", shown).groups()
    assert k == p
    ink = number(r"ink covers (\d+)% of the pixels", shown)
    on_ink = number(r"positive evidence on ink: (\d+)%", shown)
    assert ink < 25 and on_ink < 50  # "most of the positive evidence lies off the ink"
    assert on_ink < 2 * ink  # "not even twice the share of the pixels that are ink"
    minus_bias, total = numbers(r"score - bias (-?[0-9.]+), sum of the map (-?[0-9.]+)", shown)
    assert minus_bias == pytest.approx(total, abs=2e-3)


def test_post_links_the_lectures_it_follows() -> None:
    text = QMD.read_text(encoding="utf-8")
    assert "DL2026/posts/11wk-2.html" in text
    assert "07wk-1-2.html" in text and "06wk-1.html" in text
    # 06wk-1 trains its CNN for 10 epochs at Adam's default lr; the departure says so
    assert "10 epochs at Adam's default" in text and "`lr=0.001`" in text
    assert (
        abs(torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults["lr"] - 0.001) < 1e-12
    )


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_what_pytorch_computes() -> None:
    answers = self_check_answers()
    assert len(answers) == 5

    # 1. a tiny GAP network: 170 parameters for any image size
    net = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 10),
    )
    assert count(net) == 8 * 9 + 8 + 8 * 10 + 10 == 170
    assert net(torch.zeros(1, 1, 64, 64)).shape == net(torch.zeros(1, 1, 28, 28)).shape
    assert answers[0].startswith("170:")

    # 2. shapes after pooling and flattening
    pooled = nn.AdaptiveAvgPool2d(1)(torch.zeros(5, 32, 7, 7))
    assert tuple(pooled.shape) == (5, 32, 1, 1) and tuple(nn.Flatten()(pooled).shape) == (5, 32)
    assert answers[1].startswith("`(5, 32, 1, 1)`") and "`(5, 32)`" in answers[1]

    # 3. only (a)
    assert answers[2].startswith("Only (a).")

    # 4. the worked example, by the formula
    F0 = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    F1 = torch.tensor([[0.0, 0.0], [4.0, 4.0]])
    score = 0.5 + 1 * F0.mean() - 1 * F1.mean()
    cam_map = F0 - F1
    assert float(score) == 1.0 and cam_map.tolist() == [[1.0, 2.0], [-1.0, 0.0]]
    assert float(cam_map.mean() + 0.5) == 1.0
    assert "= 1$" in answers[3] and "1 & 2 \\\\ -1 & 0" in answers[3]

    # 5. dropout in training mode gives a new map per call; eval() fixes it
    torch.manual_seed(0)
    drop_net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Dropout(0.5))
    x = torch.rand(1, 1, 8, 8)
    with torch.no_grad():
        assert not torch.equal(drop_net(x), drop_net(x))
        drop_net.eval()
        assert torch.equal(drop_net(x), drop_net(x))
    assert answers[4].startswith("`net.eval()`.")
    assert "with probability 0.5" in answers[4] and "doubles the rest" in answers[4]
    drop = nn.Dropout(0.5)  # training mode: kept features are scaled by 1 / (1 - 0.5) = 2
    kept = drop(torch.ones(10_000))
    assert (
        set(kept.unique().tolist()) <= {0.0, 2.0}
        and 0.45 < float((kept == 0).float().mean()) < 0.55
    )
