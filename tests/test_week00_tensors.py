"""Week 0 (posts/00-tensors): the post's claims about tensors, checked independently.

Shapes and values are checked against plain Python loops, a broadcasting rule written out
here (align from the right; sizes equal or 1), and hand-computed small cases. Everything in
this post is exact (integers, small float sums, fixed tensors), so exact checks are fine on
any CPU. The self-check answers are recomputed and the post's answer text must state them.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import torch
import yaml
from post_output import answers_of, printed

POST = "00-tensors"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"


def broadcast_rule(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """The post's rule: pad on the left with 1s, sizes must be equal or 1; None if they clash."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for p, q in zip(a, b, strict=False):
        if p != q and 1 not in (p, q):
            return None
        out.append(max(p, q))
    return tuple(out)


def text() -> str:
    return QMD.read_text(encoding="utf-8")


def self_check_answers() -> list[str]:
    return answers_of(QMD)


# ------------------------------------------------------------------ lists, dtypes, the system


def test_list_and_tensor_arithmetic_differ():
    l, a = [1, 2, 3], torch.tensor([1, 2, 3])
    assert l + l == [1, 2, 3, 1, 2, 3] and 3 * l == [1, 2, 3] * 3
    assert (a + a).tolist() == [2, 4, 6] and (3 * a).tolist() == [3, 6, 9]
    assert (a + 2).tolist() == [3, 4, 5]
    with pytest.raises(TypeError):
        l + 2  # noqa: B018


def test_default_dtypes_and_the_failing_int_float_product():
    assert torch.tensor([1, 2, 3]).dtype == torch.int64
    assert torch.tensor([1.0, 2.0]).dtype == torch.float32
    assert torch.tensor([1, 2.5, 3]).dtype == torch.float32
    A = torch.tensor([[1, 2], [3, 4]])
    B = torch.tensor([[2, -1], [1 / 2, -3]])
    with pytest.raises(RuntimeError):
        A @ B  # noqa: B018
    with pytest.raises(RuntimeError):
        torch.linalg.inv(A)
    # element-wise arithmetic promotes; the product of the floats is the hand product
    assert (A + B).dtype == torch.float32
    assert (A.float() @ B).tolist() == [[3.0, -7.0], [8.0, -15.0]]
    inv = torch.linalg.inv(A.float()).double()
    assert torch.allclose(inv @ A.double(), torch.eye(2, dtype=torch.float64), atol=1e-6)


def test_the_lectures_linear_system_has_solution_2_3_minus1_minus1():
    M = [[1, 2, 3, 4], [2, 2, 1, 0], [0, 1, -1, 0], [3, 1, -1, 3]]
    b = [1, 9, 4, 7]
    s = [2, 3, -1, -1]
    assert [
        sum(m * v for m, v in zip(row, s, strict=False)) for row in M
    ] == b  # exact, by substitution
    solved = torch.linalg.solve(torch.tensor(M).float(), torch.tensor(b).float().reshape(4, 1))
    assert solved.flatten().tolist() == pytest.approx(s, abs=1e-5)


# ----------------------------------------------------------------------------------- shapes


def test_reshape_view_permute_squeeze_shapes():
    x = torch.arange(12)
    assert x.reshape(3, 4).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert x.reshape(-1, 6).shape == (2, 6)
    assert torch.zeros(2, 3, 4).permute(2, 0, 1).shape == (4, 2, 3)
    v = torch.tensor([1.0, 2.0, 3.0])
    assert v.unsqueeze(0).shape == (1, 3) and v.unsqueeze(1).shape == (3, 1)
    s = torch.zeros(1, 3, 1)
    assert s.squeeze().shape == (3,) and s.squeeze(0).shape == (3, 1)
    m = torch.arange(6).reshape(2, 3)
    assert m.reshape(3, 2).tolist() == [[0, 1], [2, 3], [4, 5]]
    assert m.permute(1, 0).tolist() == [[0, 3], [1, 4], [2, 5]]


def test_a_view_shares_memory_and_fails_on_a_transpose():
    x = torch.arange(6)
    grid = x.view(2, 3)
    grid[0, 0] = 100
    assert x.tolist() == [100, 1, 2, 3, 4, 5]
    with pytest.raises(RuntimeError):
        grid.T.view(6)
    assert grid.T.reshape(6).tolist() == [100, 3, 1, 4, 2, 5]


def test_indexing_shapes_and_masks():
    a = torch.tensor([[1, 2, 3, 4], [-1, -2, -3, -4], [5, 6, 7, 8], [-5, -6, -7, -8]])
    assert a[1, 2].item() == -3 and a[-1, 0].item() == -5
    assert a[:2, [0, 2, 3]].tolist() == [[1, 3, 4], [-1, -3, -4]]
    assert a[:, 0].shape == (4,) and a[:, [0]].shape == (4, 1) and a[:, 0:1].shape == (4, 1)
    positives = [v for row in a.tolist() for v in row if v > 0]  # row order
    assert a[a > 0].tolist() == positives and len(positives) == 8
    assert torch.where(a > 0, a, 0).shape == a.shape


# ------------------------------------------------------------------------------ broadcasting

SHAPES = [(3, 1), (4,), (1, 4), (2, 3), (2,), (3,), (2, 1), (5, 1, 3), (4, 1), (1,), ()]


@pytest.mark.parametrize("a, b", list(itertools.combinations(SHAPES, 2)))
def test_broadcasting_follows_the_rule_written_in_the_post(a, b):
    expected = broadcast_rule(a, b)
    if expected is None:
        with pytest.raises(RuntimeError):
            torch.zeros(a) + torch.zeros(b)
    else:
        assert (torch.zeros(a) + torch.zeros(b)).shape == expected


def test_column_plus_row_table_and_the_case_that_fails():
    col = torch.tensor([[0], [10], [20]])
    row = torch.tensor([1, 2, 3, 4])
    table = col + row
    assert table.tolist() == [[10 * i + j + 1 for j in range(4)] for i in range(3)]
    X, offsets = torch.ones(2, 3), torch.tensor([10.0, 20.0])
    assert broadcast_rule((2, 3), (2,)) is None
    with pytest.raises(RuntimeError):
        X + offsets  # noqa: B018
    assert (X + offsets.unsqueeze(1)).tolist() == [[11.0] * 3, [21.0] * 3]


# ------------------------------------------------------------------ products and reductions


def test_matmul_shapes_and_batched_product_is_pairwise():
    A = torch.ones(2, 3)
    assert (A @ torch.ones(3, 4)).shape == (2, 4)
    assert (A @ torch.ones(3)).shape == (2,)
    g = torch.Generator().manual_seed(0)
    BA, BB = torch.randn(10, 2, 3, generator=g), torch.randn(10, 3, 4, generator=g)
    assert (BA @ BB).shape == (10, 2, 4) and (BA @ torch.ones(3, 4)).shape == (10, 2, 4)
    loop = torch.stack([BA[k].double() @ BB[k].double() for k in range(10)])
    assert torch.allclose((BA @ BB).double(), loop, atol=1e-5)


def test_reductions_along_a_dimension():
    m = torch.arange(6.0).reshape(2, 3)
    rows = [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert m.sum().item() == 15
    assert m.sum(dim=0).tolist() == [sum(c) for c in zip(*rows, strict=False)] and m.sum(
        dim=0
    ).shape == (3,)
    assert m.sum(dim=1).tolist() == [sum(r) for r in rows] and m.sum(dim=1).shape == (2,)
    assert m.sum(dim=1, keepdim=True).shape == (2, 1)
    assert m.argmax(dim=1).tolist() == [2, 2]
    # with a dim, max gives the values and their positions; argmax only the positions
    best = m.max(dim=1)
    assert best.values.tolist() == [max(r) for r in rows]
    assert best.indices.tolist() == [r.index(max(r)) for r in rows] == m.argmax(dim=1).tolist()


# ------------------------------------------------------------------------------------ einsum


def loop_product(P: list[list[float]], Q: list[list[float]]) -> list[list[float]]:
    return [[sum(P[i][j] * Q[j][k] for j in range(len(Q))) for k in range(len(Q[0]))]
            for i in range(len(P))]  # fmt: skip


def test_einsum_equalities_against_loops():
    P = torch.arange(6.0).reshape(2, 3)
    Q = torch.arange(12.0).reshape(3, 4)
    S = torch.arange(9.0).reshape(3, 3)
    assert torch.einsum("ij->ji", P).tolist() == [list(c) for c in zip(*P.tolist(), strict=False)]
    assert torch.einsum("ij,jk->ik", P, Q).tolist() == loop_product(P.tolist(), Q.tolist())
    assert torch.einsum("ii->", S).item() == sum(S.tolist()[i][i] for i in range(3)) == 12
    g = torch.Generator().manual_seed(1)
    BA, BB = torch.randn(5, 2, 3, generator=g), torch.randn(5, 3, 4, generator=g)
    loops = torch.tensor([loop_product(BA[b].tolist(), BB[b].tolist()) for b in range(5)])
    assert torch.allclose(torch.einsum("bij,bjk->bik", BA, BB), loops, atol=1e-5)
    assert torch.allclose(BA @ BB, loops, atol=1e-5)


# ------------------------------------------------------------------------------ image layouts


def generated_image(H: int = 48, W: int = 64) -> torch.Tensor:
    """The post's picture, built with loops: red ramp in x, green ramp in y, blue disc."""
    image = torch.zeros(3, H, W)
    for h in range(H):
        for w in range(W):
            image[0, h, w] = w / (W - 1)
            image[1, h, w] = h / (H - 1)
            image[2, h, w] = float((h - 24) ** 2 + (w - 40) ** 2 < 14**2)
    return image


def test_layout_conversion_both_ways_moves_every_pixel_intact():
    image = generated_image()
    C, H, W = image.shape
    hwc = image.permute(1, 2, 0)
    assert hwc.shape == (H, W, C)
    assert torch.equal(hwc, torch.einsum("chw->hwc", image))
    for h, w in [(0, 0), (10, 50), (24, 40), (47, 63)]:
        assert hwc[h, w].tolist() == [image[c, h, w].item() for c in range(C)]
    assert torch.equal(hwc.permute(2, 0, 1), image)
    images = torch.stack([image, image.flip(-1)])
    nhwc = images.permute(0, 2, 3, 1)
    assert nhwc.shape == (2, H, W, C)
    assert torch.equal(nhwc[1, 5, 7], images[1, :, 5, 7])
    assert torch.equal(nhwc.permute(0, 3, 1, 2), images)
    # the mirror: column w of image 1 is column W-1-w of image 0
    assert torch.equal(images[1, :, :, 0], images[0, :, :, W - 1])


def test_reshape_has_the_right_shape_and_the_wrong_pixels():
    image = generated_image()
    wrong = image.reshape(48, 64, 3)
    assert wrong.shape == image.permute(1, 2, 0).shape
    assert not torch.equal(wrong, image.permute(1, 2, 0))
    # its first "pixel" is the first three red values of row 0
    assert wrong[0, 0].tolist() == image[0, 0, :3].tolist()
    # the caption: mostly grey, a colour only where a pixel's three values differ a lot
    # (the end of a row of the original, the disc's edge)
    spread = (wrong.amax(dim=2) - wrong.amin(dim=2)).flatten()
    assert (spread < 0.1).float().mean() > 0.9
    flat = image.flatten().tolist()
    for k in (spread > 0.5).nonzero().flatten().tolist():
        triple = flat[3 * k : 3 * k + 3]
        row_ends = {(3 * k + i) % 64 for i in range(3)}
        assert 63 in row_ends or (3 * k) // (48 * 64) == 2, (k, triple)
    assert (spread > 0.5).any()


# ----------------------------------------------------------------------------------- exercises


def test_exercise_1_shapes():
    x, y = torch.zeros(5, 1, 3), torch.zeros(4, 1)
    assert broadcast_rule((5, 1, 3), (4, 1)) == (5, 4, 3) == (x + y).shape
    assert x.squeeze().shape == (5, 3)
    assert (x @ torch.zeros(3, 2)).shape == (5, 1, 2)
    assert x.permute(2, 0, 1).shape == (3, 5, 1)
    assert torch.einsum("nij->nj", x).shape == (5, 3)


def test_exercise_2_values_by_hand():
    g = torch.arange(12).reshape(3, 4)
    rows = [list(range(4 * r, 4 * r + 4)) for r in range(3)]
    assert g.sum(dim=0).tolist() == [12, 15, 18, 21] == [sum(c) for c in zip(*rows, strict=False)]
    assert g.sum(dim=1).tolist() == [6, 22, 38]
    assert g[:, 1:3].sum().item() == 1 + 2 + 5 + 6 + 9 + 10 == 33
    assert g[g % 2 == 0].sum().item() == sum(range(0, 12, 2)) == 30
    assert g.argmax(dim=0).tolist() == [2, 2, 2, 2]


def test_exercise_3_row_mean_bug_fails_or_is_silently_wrong():
    Z = torch.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError):
        Z - Z.mean(dim=1)  # noqa: B018
    Z = torch.arange(9.0).reshape(3, 3)
    wrong = Z - Z.mean(dim=1)
    assert wrong.mean(dim=1).abs().max() > 0.5  # rows are not centred
    # the intended result, by hand: each entry minus the mean of its row
    by_hand = [[v - sum(r) / len(r) for v in r] for r in Z.tolist()]
    assert (Z - Z.mean(dim=1, keepdim=True)).tolist() == by_hand


def test_exercise_5_einsum_values():
    U, V = torch.arange(6.0).reshape(2, 3), torch.ones(2, 3)
    assert torch.einsum("ij,ij->i", U, V).tolist() == [3.0, 12.0]
    u, w = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 10.0, 100.0])
    assert torch.einsum("i,j->ij", u, w).tolist() == [[1, 10, 100], [2, 20, 200]]
    assert torch.einsum("ij->", U).item() == 15


# ------------------------------------------------------------------------------- self-check


def test_self_check_answers_are_true_and_stated():
    answers = self_check_answers()
    assert len(answers) == 6
    # 1. (3, 1) + (4,)
    assert tuple((torch.zeros(3, 1) + torch.zeros(4)).shape) == (3, 4)
    assert "`(3, 4)`" in answers[0]
    # 2. (2, 3) + (2,) fails; unsqueeze(1) fixes it
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3) + torch.zeros(2)  # noqa: B018
    assert (torch.zeros(2, 3) + torch.zeros(2).unsqueeze(1)).shape == (2, 3)
    assert "RuntimeError" in answers[1] and "unsqueeze(1)" in answers[1]
    # 3. reductions
    x = torch.zeros(4, 5)
    assert x.sum(dim=0).shape == (5,) and x.sum(dim=0, keepdim=True).shape == (1, 5)
    assert "`(5,)`" in answers[2] and "`(1, 5)`" in answers[2]
    # 4. permute, not reshape
    img = torch.arange(3 * 32 * 32.0).reshape(3, 32, 32)
    assert img.permute(1, 2, 0)[0, 0].tolist() == [0.0, 1024.0, 2048.0]  # the 3 colours
    assert img.reshape(32, 32, 3)[0, 0].tolist() == [0.0, 1.0, 2.0]  # 3 red values
    assert answers[3].startswith("`img.permute(1, 2, 0)`")
    # 5. batched einsum
    A, B = torch.ones(8, 2, 3), torch.ones(8, 3, 5)
    assert torch.einsum("bij,bjk->bik", A, B).shape == (8, 2, 5) == (A @ B).shape
    assert "`(8, 2, 5)`" in answers[4] and "`A @ B`" in answers[4]
    # 6. true division
    half = torch.tensor([1, 2, 3]) / 2
    assert half.dtype == torch.float32 and half.tolist() == [0.5, 1.0, 1.5]
    assert f"`{half!r}`" in answers[5] and "`torch.float32`" in answers[5]
    assert f"`{torch.tensor([1, 2, 3]) // 2!r}`" in answers[5]


def test_front_matter_puts_week_0_one_week_before_week_1():
    meta = yaml.safe_load(text().split("\n---", 1)[0].removeprefix("---\n"))
    week1 = QMD.parents[1] / "01-regression-gradient-descent" / "index.qmd"
    meta1 = yaml.safe_load(week1.read_text(encoding="utf-8").split("\n---", 1)[0][4:])
    assert meta["title"] == "Week 0: Tensors"
    assert (meta1["date"] - meta["date"]).days == 7


# --------------------------------------------------------------------------- the executed post


@pytest.mark.slow
def test_executed_post_shows_what_the_text_says(executed_post):
    shown = printed(executed_post(POST))
    assert "list:   l + l = [1, 2, 3, 1, 2, 3]" in shown
    assert "torch.tensor([1, 2.5, 3]).dtype = torch.float32" in shown
    assert "A @ B fails: expected m1 and m2 to have the same dtype" in shown
    assert "inv(A) fails:" in shown
    found = re.search(r"\(w, x, y, z\) = tensor\(\[(.*?)\]\)", shown)[1]
    assert [float(v) for v in found.split(",")] == pytest.approx([2, 3, -1, -1], abs=1e-5)
    assert "after grid[0, 0] = 100, x = tensor([100,   1,   2,   3,   4,   5])" in shown
    assert "grid.T.view(6) fails: view size is not compatible" in shown
    assert "a[a > 0] = tensor([1, 2, 3, 4, 5, 6, 7, 8])  shape torch.Size([8])" in shown
    assert "shape torch.Size([3, 4])" in shown
    assert (
        "X + offsets fails: The size of tensor a (3) must match the size of tensor b (2)" in shown
    )
    assert "batched product = the 10 products one by one: True" in shown
    assert shown.count("agrees: True") == 4 and "agrees: False" not in shown
    assert "trace of S: 12.0" in shown
    assert "m.max(dim=1).values = tensor([2., 5.])   .indices = tensor([2, 2])" in shown
    assert "permute == einsum: True" in shown
    assert "equal to the original: True" in shown and "and back: True" in shown
    # exercises
    assert "x + y                    (5, 4, 3)" in shown
    assert "g[:, 1:3].sum()   = 33" in shown
    assert "(3, 3): runs; row means of the result:" in shown
    assert "(2, 3): fails:" in shown
    assert "pixel kept: True" in shown and "back: True" in shown
