"""Week 10 (posts/10-convolution): the post's teaching claims, against independent references.

References are written out here in NumPy float64 (sliding windows, block maxima), never
taken from the layer under test. The post's own ``conv2d_loops`` is read from the .qmd and
checked against them; the executed post's printed numbers are checked too.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view
from post_output import answers_of, printed
from torch import nn

from dlbasics import data

POST = "10-convolution"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"


def np_conv2d(x, w, b, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Float64 reference: zero-pad, take every window with NumPy, contract with the kernels."""
    x, w, b = (np.asarray(t, dtype=np.float64) for t in (x, w, b))
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    # win: (n, C, H', W', kh, kw); w: (O, C, kh, kw)
    return np.einsum("nchwuv,ocuv->nohw", win, w) + b[None, :, None, None]


def np_block_max(x, k: int) -> np.ndarray:
    """Max over non-overlapping k x k blocks; rows/columns that do not fill a block are dropped."""
    x = np.asarray(x, dtype=np.float64)
    n, c, h, w = x.shape
    hh, ww = h // k, w // k
    return x[:, :, : hh * k, : ww * k].reshape(n, c, hh, k, ww, k).max(axis=(3, 5))


def post_function(name: str):
    """Execute the post's cell that defines ``name`` and return the function."""
    cells = [c.split("```")[0] for c in QMD.read_text(encoding="utf-8").split("```{python}")[1:]]
    (source,) = [c for c in cells if f"def {name}(" in c]
    namespace = {"torch": torch, "nn": nn}
    exec(source, namespace)  # noqa: S102 - the post's own teaching code
    return namespace[name]


# ---------------------------------------------------------------- the lecture's tiny examples


def test_the_sum_by_hand_is_the_layers_output() -> None:
    torch.manual_seed(43052)
    conv = nn.Conv2d(1, 1, kernel_size=2)
    w = conv.weight.detach().double().reshape(-1).tolist()
    x = [0.0, 1.0, 2.0, 3.0]
    by_hand = sum(wi * xi for wi, xi in zip(w, x, strict=True)) + float(conv.bias.detach())
    out = conv(torch.arange(4.0).reshape(1, 1, 2, 2))
    assert float(out.detach()) == pytest.approx(by_hand, abs=1e-6)


def test_shuffling_pixels_and_weight_columns_together_changes_no_output() -> None:
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(20, 784, generator=gen, dtype=torch.float64)
    W = torch.randn(32, 784, generator=gen, dtype=torch.float64)
    perm = torch.randperm(784, generator=gen)
    # written out: sum_j W[i, perm[j]] X[n, perm[j]] is the same sum in another order
    np.testing.assert_allclose((X[:, perm] @ W[:, perm].T).numpy(), (X @ W.T).numpy(), rtol=1e-12)


def test_quarter_kernel_is_a_moving_average() -> None:
    conv = nn.Conv2d(1, 1, kernel_size=2)
    with torch.no_grad():
        conv.weight.fill_(0.25)
        conv.bias.zero_()
    out = conv(torch.arange(16.0).reshape(1, 1, 4, 4)).detach()[0, 0].double()
    # mean of {4i + j, 4i + j + 1, 4(i + 1) + j, 4(i + 1) + j + 1} = 4i + j + 2.5
    expected = torch.tensor([[4 * i + j + 2.5 for j in range(3)] for i in range(3)])
    torch.testing.assert_close(out, expected.double())


def test_relu_maxpool_flatten_on_the_posts_5x5_example() -> None:
    x = np.array(
        [
            [3, -1, 0, 2, -4],
            [-2, 5, -3, 1, 0],
            [4, 0, 6, -5, 2],
            [1, -6, 2, 3, -1],
            [0, 2, -2, 7, 8],
        ],
        dtype=np.float64,
    ).reshape(1, 1, 5, 5)
    X = torch.tensor(x, dtype=torch.float32)
    assert np.array_equal(nn.ReLU()(X).numpy(), np.maximum(x, 0))
    pooled = nn.MaxPool2d(2)(X)
    assert np.array_equal(pooled.numpy(), np_block_max(x, 2))
    assert pooled[0, 0].tolist() == [[5.0, 2.0], [4.0, 6.0]]  # the numbers named in the text
    assert nn.Flatten()(pooled).tolist() == [[5.0, 2.0, 4.0, 6.0]]


# ---------------------------------------------------------------- the loops and the formula


@pytest.mark.parametrize(
    ("n", "C", "O", "H", "W", "k", "stride", "padding"),
    [
        (1, 1, 1, 2, 2, 2, 1, 0),
        (2, 3, 4, 7, 7, 3, 2, 1),
        (1, 2, 3, 6, 9, 3, 1, 2),
        (3, 1, 2, 8, 5, 4, 3, 0),
        (1, 3, 2, 5, 5, 5, 1, 0),
    ],
)
def test_posts_conv_loops_equal_numpy_reference_and_nn_conv2d(
    n: int, C: int, O: int, H: int, W: int, k: int, stride: int, padding: int
) -> None:
    conv2d_loops = post_function("conv2d_loops")
    gen = torch.Generator().manual_seed(n * 100 + C * 10 + k)
    X = torch.randn(n, C, H, W, generator=gen)
    layer = nn.Conv2d(C, O, k, stride=stride, padding=padding)
    reference = np_conv2d(X, layer.weight.detach(), layer.bias.detach(), stride, padding)
    with torch.no_grad():
        loops = conv2d_loops(X, layer.weight, layer.bias, stride=stride, padding=padding)
        torch_out = layer(X)
    assert loops.shape == reference.shape == torch_out.shape
    np.testing.assert_allclose(loops.double().numpy(), reference, atol=1e-5)
    np.testing.assert_allclose(torch_out.double().numpy(), reference, atol=1e-5)


def count_windows(length: int, k: int, s: int, p: int, d: int) -> int:
    """Independent reference: count the start positions whose dilated window fits."""
    span = d * (k - 1) + 1
    return sum(1 for start in range(0, length + 2 * p, s) if start + span <= length + 2 * p)


def test_output_size_formula_matches_the_layers_over_many_settings() -> None:
    out_size = post_function("out_size")
    checked = 0
    for H in (5, 7, 12, 28):
        for k in (1, 2, 3, 5):
            for s in (1, 2, 3):
                for p in (0, 1, 2):
                    for d in (1, 2):
                        if d * (k - 1) + 1 > H + 2 * p:
                            continue
                        expected = count_windows(H, k, s, p, d)
                        conv = nn.Conv2d(1, 1, (k, 2), stride=s, padding=p, dilation=d)
                        got = conv(torch.zeros(1, 1, H, H + 1)).shape[-2:]
                        assert tuple(got) == (expected, count_windows(H + 1, 2, s, p, d))
                        assert out_size(H, k, s, p, d) == expected
                        if p <= k // 2 and d == 1:  # PyTorch's limit for pooling's padding
                            pool = nn.MaxPool2d(k, stride=s, padding=p)
                            assert pool(torch.zeros(1, 1, H, H)).shape[-1] == expected
                        checked += 1
    assert checked > 200


def test_parameter_counts_in_the_text() -> None:
    def count(m: nn.Module) -> int:
        return sum(p.numel() for p in m.parameters())

    assert count(nn.Conv2d(1, 16, 5)) == 16 * 25 + 16 == 416
    # a linear layer from 28 x 28 pixels to one 24 x 24 map, without biases
    assert count(nn.Linear(28 * 28, 24 * 24, bias=False)) == 784 * 576 == 451_584
    assert count(nn.Linear(16 * 12 * 12, 10)) == 2304 * 10 + 10
    assert count(nn.Conv2d(3, 8, 5, stride=2, padding=1)) == 8 * 3 * 25 + 8 == 608


def test_convolution_is_a_sparse_matrix_product() -> None:
    # exercise 3: M built from the index rule, against the NumPy reference
    gen = torch.Generator().manual_seed(3)
    w, x = torch.randn(2, 2, generator=gen).double(), torch.randn(3, 3, generator=gen).double()
    M = np.zeros((4, 9))
    for i in range(2):
        for j in range(2):
            for u in range(2):
                for v in range(2):
                    M[2 * i + j, 3 * (i + u) + j + v] = float(w[u, v])
    ref = np_conv2d(x.reshape(1, 1, 3, 3), w.reshape(1, 1, 2, 2), [0.0]).reshape(4)
    np.testing.assert_allclose(M @ x.numpy().reshape(9), ref, atol=1e-12)
    assert int((M != 0).sum()) == 16


# ---------------------------------------------------------------- hand-set kernels on digits


@pytest.fixture(scope="module")
def test_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The full MNIST test split, from $DLBASICS_DATA as the post reads it."""
    return data.mnist(train=False, flatten=False)


VERTICAL = np.array([[-1.0, 0.0, 1.0]] * 3)


def test_blur_is_the_neighbourhood_mean_and_edges_see_stroke_directions(test_digits) -> None:
    XX, yy = test_digits
    x = XX[:50].double().numpy()
    # blur with padding 1: the mean of the 3 x 3 neighbourhood, zeros outside the image
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    blur = sum(xp[:, :, u : u + 28, v : v + 28] for u in range(3) for v in range(3)) / 9
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1 / 9)
        np.testing.assert_allclose(conv(XX[:50]).double().numpy(), blur, atol=1e-6)

    # vertical vs horizontal edge response per digit, over the whole test split (float64)
    xs = XX.double().numpy()
    kernels = np.stack([VERTICAL, VERTICAL.T])[:, None]
    response = np.abs(np_conv2d(xs, kernels, [0.0, 0.0], padding=1)).mean(axis=(2, 3))
    labels = yy.numpy()
    ratio = {
        d: response[labels == d, 0].mean() / response[labels == d, 1].mean() for d in range(10)
    }
    assert max(ratio, key=ratio.get) == 1 and ratio[1] > 2  # ones: one upright stroke
    assert all(ratio[d] < 1 for d in (2, 3, 5))  # horizontal arcs and bars dominate
    assert sorted(ratio, key=ratio.get)[-2] == 4


def test_shift_equivariance_and_pooling(test_digits) -> None:
    XX, _ = test_digits
    x = XX.double().numpy()
    kernels = np.stack([VERTICAL, VERTICAL.T])[:, None]
    maps = np_conv2d(x, kernels, [0.0, 0.0], padding=1)
    # images with blank outer columns: rolling by 3 moves ink without wrapping it around
    blank = (x[:, 0, :, 23:] == 0).all(axis=(1, 2)) & (x[:, 0, :, :1] == 0).all(axis=(1, 2))
    assert blank.mean() > 0.5
    shifted = np_conv2d(np.roll(x[blank], 3, axis=3), kernels, [0.0, 0.0], padding=1)
    np.testing.assert_allclose(shifted, np.roll(maps[blank], 3, axis=3), atol=1e-12)

    def change(a, b) -> float:
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    relu = np.maximum(maps, 0)
    relu1 = np.maximum(np_conv2d(np.roll(x, 1, axis=3), kernels, [0.0, 0.0], padding=1), 0)
    assert change(np_block_max(relu1, 2), np_block_max(relu, 2)) < change(relu1, relu) - 0.1


# ---------------------------------------------------------------- the executed post


@pytest.mark.slow
def test_executed_post_prints_what_the_text_says(executed_post) -> None:
    nb = executed_post(POST)
    shown = printed(nb)
    by_hand = float(re.search(r"by hand: (-?[0-9.]+)", shown).group(1))
    layer = float(re.search(r"conv\(X\): tensor\(\[\[\[\[(-?[0-9.]+)\]\]\]\]\)", shown).group(1))
    assert by_hand == pytest.approx(layer, abs=1e-4)
    assert float(re.search(r"shuffled vs. original: (\S+)", shown).group(1)) < 1e-5
    diff = re.search(r"shapes: \(2, 4, 4, 4\) \(2, 4, 4, 4\)\nlargest difference: (\S+)", shown)
    assert float(diff.group(1)) < 1e-5
    rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+) \|\s+(\d+)\s+(\d+)$", shown, re.M)
    assert len(rows) == 9
    for H, k, s, p, d, formula, layer in (map(int, r) for r in rows):
        assert formula == layer == count_windows(H, k, s, p, d)
    # AlexNet's first layer: 55 from 227 without padding or from 224 with p = 2, not from 224
    alexnet = {
        (H, p): int(layer) for H, k, s, p, d, _, layer in (map(int, r) for r in rows) if k == 11
    }
    assert alexnet == {(227, 0): 55, (224, 0): 54, (224, 2): 55}
    assert "Conv2d (3, 5):    (1, 1, 26, 24)  formula: (26, 24)" in shown
    assert "MaxPool2d (2, 1): (1, 1, 14, 28)  formula: (14, 28)" in shown
    assert "Flatten: (8, 2304)" in shown and "Linear: (8, 10)  parameters: 23050" in shown
    assert "output shape: (4, 8, 15, 15)" in shown and "parameters: 608" in shown
    assert "k = 2: loops equal nn.MaxPool2d: True" in shown
    assert "non-zero entries: 16 of 36" in shown
    ratios = dict(re.findall(r"^\s*(\d)\s+[0-9.]+\s+[0-9.]+\s+([0-9.]+)$", shown, re.M))
    assert max(ratios, key=lambda d: float(ratios[d])) == "1"
    changes = [int(c) for c in re.findall(r"shift by 1, pooled=\w+: maps change by (\d+)%", shown)]
    assert len(changes) == 2 and changes[1] < changes[0]
    assert "maxpool: shape (1, 1, 14, 14)" in shown


# ---------------------------------------------------------------- the self-check


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_what_pytorch_computes() -> None:
    answers = self_check_answers()
    assert len(answers) == 5

    # 1. conv (k 5, p 2) then 2 x 2 pooling on (8, 1, 28, 28)
    out = nn.MaxPool2d(2)(nn.Conv2d(1, 6, 5, padding=2)(torch.zeros(8, 1, 28, 28)))
    assert tuple(out.shape) == (8, 6, 14, 14)
    assert answers[0].startswith("`(8, 6, 14, 14)`")

    # 2. parameters: 16 * 3 * 3 * 3 + 16, independent of the image size and of s, p, d
    expected = 16 * 3 * 3 * 3 + 16
    for layer in (nn.Conv2d(3, 16, 3), nn.Conv2d(3, 16, 3, stride=2, padding=1, dilation=2)):
        assert sum(p.numel() for p in layer.parameters()) == expected
    assert answers[1].startswith(f"{expected}:") and "432" in answers[1]

    # 3. the buggy network fails; either fix named in the answer works
    def make(pad: int, features: int) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=pad),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(features, 10),
        )

    with pytest.raises(RuntimeError):
        make(0, 16 * 14 * 14)(torch.zeros(1, 1, 28, 28))
    assert tuple(make(0, 16 * 12 * 12)(torch.zeros(1, 1, 28, 28)).shape) == (1, 10)
    assert tuple(make(2, 16 * 14 * 14)(torch.zeros(1, 1, 28, 28)).shape) == (1, 10)
    assert "2304" in answers[2] and "3136" in answers[2] and "padding=2" in answers[2]

    # 4. dilation 2: a 5-pixel window, a 24 x 24 output
    assert nn.Conv2d(1, 1, 3, dilation=2)(torch.zeros(1, 1, 28, 28)).shape[-2:] == (24, 24)
    assert count_windows(28, 3, 1, 0, 2) == 24
    assert "= 5$ pixels" in answers[3] and "$24 \\times 24$" in answers[3]

    # 5. max pooling a 3 x 3 image: one block fits
    image = torch.tensor([[1.0, 9, 2], [4, 3, 8], [7, 5, 6]]).reshape(1, 1, 3, 3)
    assert nn.MaxPool2d(2)(image).flatten().tolist() == [9.0]
    assert answers[4].startswith("A single number, 9.")
