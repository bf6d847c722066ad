"""Week 9: softmax and cross-entropy.

Softmax, cross-entropy and their two-class case are checked against formulas evaluated
with Python's math module in float64; the executed post's MNIST numbers against known
facts (the test split's digit counts, log 10) and the course's accuracy bar; the
self-check answers are recomputed.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from post_output import answers_of, number, printed
from torch import nn

POST = "09-softmax-cross-entropy"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"
LECTURE_U = [[-2.0, -2.0, 0.0], [3.14, 3.14, 3.14], [0.0, 0.0, 2.0], [2.0, 2.0, 4.0], [0.0] * 3]
LECTURE_Y = [2, 1, 2, 2, 0]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _softmax_ref(row: list[float]) -> list[float]:
    exps = [math.exp(v) for v in row]
    return [e / sum(exps) for e in exps]


def _cross_entropy_ref(rows: list[list[float]], labels: list[int]) -> float:
    """Mean of log(sum_j exp(u_j)) - u_y, in float64, shifted by the row maximum."""
    total = 0.0
    for row, c in zip(rows, labels, strict=True):
        top = max(row)
        total += top + math.log(sum(math.exp(v - top) for v in row)) - row[c]
    return total / len(rows)


# ---------------------------------------------------------------- softmax


def test_softmax_matches_the_formula_row_by_row() -> None:
    u = torch.tensor(LECTURE_U)
    got = torch.softmax(u, dim=1)
    for r, row in enumerate(LECTURE_U):
        assert got[r].tolist() == pytest.approx(_softmax_ref(row), abs=1e-6)
    # the lecture's numbers: rows differing by a constant share (0.1065, 0.1065, 0.7870)
    for r in (0, 2, 3):
        assert got[r].tolist() == pytest.approx([0.1065, 0.1065, 0.7870], abs=1e-4)
    for r in (1, 4):
        assert got[r].tolist() == pytest.approx([1 / 3] * 3, abs=1e-6)


def test_softmax_ignores_a_shift_and_keeps_the_order() -> None:
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(50, 10, generator=gen, dtype=torch.float64) * 3
    shifted = u + torch.randn(50, 1, generator=gen, dtype=torch.float64) * 100
    torch.testing.assert_close(torch.softmax(shifted, 1), torch.softmax(u, 1))
    assert torch.equal(torch.softmax(u, 1).argmax(1), u.argmax(1))


def test_softmax_over_the_wrong_dimension_normalises_columns() -> None:
    u = torch.tensor(LECTURE_U)
    wrong = torch.softmax(u, dim=0)
    torch.testing.assert_close(wrong.sum(dim=0), torch.ones(3))
    column0 = _softmax_ref([row[0] for row in LECTURE_U])
    assert wrong[:, 0].tolist() == pytest.approx(column0, abs=1e-6)
    assert wrong[0].tolist() == pytest.approx([0.0041, 0.0041, 0.0115], abs=1e-4)  # lecture


def test_softmax_without_dim_warns_and_a_reference_class_changes_nothing() -> None:
    u = torch.tensor(LECTURE_U)
    with pytest.warns(UserWarning, match="dim"):
        nn.Softmax()(u)
    # Exercise 4: subtracting the last logit (fixing it at 0) keeps every probability
    fixed = u - u[:, -1:]
    assert (fixed[:, -1] == 0).all()
    for r in range(len(LECTURE_U)):
        assert torch.softmax(fixed, 1)[r].tolist() == pytest.approx(_softmax_ref(LECTURE_U[r]))


# ---------------------------------------------------------------- cross-entropy


def test_cross_entropy_takes_logits_and_either_label_format() -> None:
    u, y = torch.tensor(LECTURE_U), torch.tensor(LECTURE_Y)
    ref = _cross_entropy_ref(LECTURE_U, LECTURE_Y)
    assert ref == pytest.approx(0.5832, abs=1e-4)  # the lecture's number
    loss_fn = nn.CrossEntropyLoss()
    assert loss_fn(u, y).item() == pytest.approx(ref, abs=1e-6)
    assert loss_fn(u, F.one_hot(y, 3).float()).item() == pytest.approx(ref, abs=1e-6)
    by_hand = -(F.one_hot(y, 3) * torch.log(torch.softmax(u, 1))).sum(1).mean()
    assert by_hand.item() == pytest.approx(ref, abs=1e-6)


def test_cross_entropy_is_finite_where_the_probability_rounds_to_zero() -> None:
    big = torch.tensor([[1000.0, 0.0]])
    assert torch.softmax(big, 1)[0, 1].item() == 0.0
    assert torch.isinf(-torch.log(torch.softmax(big, 1)[0, 1]))  # the route by hand
    ref = _cross_entropy_ref([[1000.0, 0.0]], [1])  # log(e^1000 + 1) - 0
    assert ref == pytest.approx(1000.0)
    assert nn.CrossEntropyLoss()(big, torch.tensor([1])).item() == pytest.approx(ref)


def test_gradient_of_cross_entropy_is_p_minus_one_hot() -> None:
    gen = torch.Generator().manual_seed(1)
    u = torch.randn(7, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 4, (7,), generator=gen)
    nn.CrossEntropyLoss()(u, y).backward()
    for i in range(7):
        p = _softmax_ref(u[i].tolist())
        expect = [(p[j] - (1.0 if j == int(y[i]) else 0.0)) / 7 for j in range(4)]
        assert u.grad[i].tolist() == pytest.approx(expect, abs=1e-12)


def test_two_class_softmax_is_the_sigmoid_of_the_logit_difference() -> None:
    gen = torch.Generator().manual_seed(2)
    u = torch.randn(100, 2, generator=gen, dtype=torch.float64) * 5
    second = torch.softmax(u, dim=1)[:, 1]
    for (u1, u2), p in zip(u.tolist(), second.tolist(), strict=True):
        assert p == pytest.approx(1 / (1 + math.exp(-(u2 - u1))), rel=1e-12, abs=1e-300)
    # and the two-class cross-entropy is BCE on that difference (the lecture's 0.4399)
    u2 = torch.tensor([[3.0, 2.0], [2.0, 2.0], [5.0, 6.0]])
    y2 = torch.tensor([0, 0, 1])
    ce = nn.CrossEntropyLoss()(u2, y2).item()
    bce = nn.BCEWithLogitsLoss()(u2[:, 1] - u2[:, 0], y2.float()).item()
    ref = _cross_entropy_ref(u2.tolist(), y2.tolist())
    assert ce == pytest.approx(ref, abs=1e-6) and bce == pytest.approx(ref, abs=1e-6)
    assert ref == pytest.approx(0.4399, abs=1e-4)


def test_softmax_twice_cannot_go_below_log_1_plus_9_over_e() -> None:
    floor = math.log(1 + 9 / math.e)
    # the best "logits" in [0, 1]: one-hot on the right class
    best = _cross_entropy_ref([[1.0] + [0.0] * 9], [0])
    assert best == pytest.approx(floor)
    gen = torch.Generator().manual_seed(3)
    probs = torch.softmax(torch.randn(2000, 10, generator=gen) * 10, dim=1)
    y = torch.randint(0, 10, (2000,), generator=gen)
    per_row = F.cross_entropy(probs, y, reduction="none")
    assert per_row.min().item() >= floor - 1e-6


# ---------------------------------------------------------------- the executed post


@pytest.fixture(scope="module")
def shown(executed_post) -> str:
    return printed(executed_post(POST))


@pytest.mark.slow
def test_post_prints_the_lecture_numbers(shown: str) -> None:
    lines = (
        "sum over one-hot rows:",
        "-log p of the true class:",
        "nn.CrossEntropyLoss, class numbers:",
        "nn.CrossEntropyLoss, one-hot rows:",
    )
    for line in lines:
        value = number(re.escape(line) + r" +([\d.]+)", shown)
        assert value == pytest.approx(_cross_entropy_ref(LECTURE_U, LECTURE_Y), abs=1e-5)
    assert "-log p by hand:       inf" in shown
    assert number(r"nn.CrossEntropyLoss: +([\d.]+)", shown) == pytest.approx(1000.0)
    ce = number(r"cross-entropy, two logits: ([\d.]+)", shown)
    bce = number(r"BCE with logits, one logit: ([\d.]+)", shown)
    assert ce == pytest.approx(bce, abs=1e-6) and ce == pytest.approx(0.4399, abs=1e-4)


@pytest.mark.slow
def test_linear_model_reaches_85_percent_and_the_hidden_layer_more(shown: str) -> None:
    linear = number(r"linear: test accuracy ([\d.]+)", shown)
    hidden = number(r"hidden layer: test accuracy ([\d.]+)", shown)
    assert linear >= 0.85
    assert hidden > linear
    # before training: loss near log 10 (uniform softmax), accuracy near a guess
    start = number(r"loss before training: ([\d.]+)", shown)
    assert abs(start - math.log(10)) < 0.1
    first = re.search(r"\n +0 +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+)\n", shown)
    assert first and all(float(v) < 0.2 for v in first.groups())
    # after one epoch every curve is on the accuracy chart, whose axis starts at 0.75
    one = re.search(r"\n +1 +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+)\n", shown)
    assert one and all(float(v) > 0.75 for v in one.groups())
    # the hidden layer ends ahead on the test images, as the prose's positive gap says
    assert hidden - linear > 0


@pytest.mark.slow
def test_confusion_matrix_and_most_confused_pairs(shown: str) -> None:
    block = re.search(r"tensor\(\[\[ *\d+(?:[\s,\[\]]+\d+)*\]\]\)\ntrue", shown)
    assert block, "no 10 x 10 confusion matrix printed"
    counts = [int(v) for v in re.findall(r"\d+", block.group(0))]
    assert len(counts) == 100
    C = torch.tensor(counts).reshape(10, 10)
    # rows: every test image once, by its true digit (the MNIST test split's counts)
    assert C.sum(dim=1).tolist() == MNIST_TEST_COUNTS
    accuracy = C.trace().item() / C.sum().item()
    assert accuracy == pytest.approx(
        number(r"hidden layer: test accuracy ([\d.]+)", shown), abs=1e-4
    )
    # the listed pairs are the four largest off-diagonal counts, largest first
    listed = [
        tuple(map(int, m)) for m in re.findall(r"true (\d), read as (\d): (\d+) times", shown)
    ]
    assert len(listed) == 4
    off = [(C[i, j].item(), i, j) for i in range(10) for j in range(10) if i != j]
    top = sorted(off, reverse=True)[:4]
    assert [c for c, *_ in top] == [c for *_, c in listed]
    for i, j, count in listed:
        assert i != j and C[i, j].item() == count


@pytest.mark.slow
def test_exercise_answers(shown: str) -> None:
    assert abs(number(r"loss: ([\d.]+), log 10", shown) - math.log(10)) < 0.1
    assert number(r"largest \|logit\|: ([\d.]+)", shown) < 2.0
    floor = number(r"floor log\(1 \+ 9/e\) = ([\d.]+)", shown)
    assert floor == pytest.approx(math.log(1 + 9 / math.e), abs=1e-4)
    twice_loss = number(r"softmax twice, epoch 3: train loss ([\d.]+)", shown)
    twice_acc = number(r"softmax twice, epoch 3: train loss [\d.]+, test accuracy ([\d.]+)", shown)
    plain_loss = number(r"linear model, epoch 3: train loss ([\d.]+)", shown)
    plain_acc = number(r"linear model, epoch 3: train loss [\d.]+, test accuracy ([\d.]+)", shown)
    assert twice_loss > floor and plain_loss < floor
    assert twice_acc < plain_acc


def test_post_names_no_detail_of_the_machine_that_built_it() -> None:
    text = QMD.read_text(encoding="utf-8")
    assert not re.search(r"\b5,?000\b|\b500 (images|per)", text)


# ------------------------------------------- log_softmax + NLLLoss, sigmoid + BCELoss


def test_log_softmax_and_nll_is_cross_entropy() -> None:
    u, y = torch.tensor(LECTURE_U), torch.tensor(LECTURE_Y)
    ref = _cross_entropy_ref(LECTURE_U, LECTURE_Y)
    assert nn.NLLLoss()(F.log_softmax(u, dim=1), y).item() == pytest.approx(ref, abs=1e-6)
    big, truth = torch.tensor([[1000.0, 0.0]]), torch.tensor([1])
    assert nn.NLLLoss()(F.log_softmax(big, dim=1), truth).item() == pytest.approx(1000.0)
    assert math.isinf(nn.NLLLoss()(torch.log(torch.softmax(big, dim=1)), truth).item())


def _bce_routes(logits: list[float]) -> dict[str, tuple[list[float], list[float]]]:
    """Loss and gradient per logit (all of class 0) by the two routes of the post."""
    out = {}
    for name in ("sigmoid", "logits"):
        u = torch.tensor(logits, requires_grad=True)
        y = torch.zeros(len(logits))
        if name == "sigmoid":
            loss = nn.BCELoss(reduction="none")(torch.sigmoid(u), y)
        else:
            loss = nn.BCEWithLogitsLoss(reduction="none")(u, y)
        loss.sum().backward()
        out[name] = (loss.tolist(), u.grad.tolist())
    return out


def test_sigmoid_then_bce_saturates_where_bce_with_logits_does_not() -> None:
    logits = [5.0, 10.0, 20.0, 50.0]
    routes = _bce_routes(logits)
    exact = [math.log1p(math.exp(v)) for v in logits]  # log(1 + e^u) - 0 * u
    grad = [1 / (1 + math.exp(-v)) for v in logits]  # sigma(u) - 0
    assert routes["logits"][0] == pytest.approx(exact, rel=1e-6)
    assert routes["logits"][1] == pytest.approx(grad, rel=1e-6)
    # sigma(20) and sigma(50) round to 1 in float32: BCELoss clamps at 100, gradient 0
    for i in (2, 3):
        assert torch.sigmoid(torch.tensor(logits[i])).item() == 1.0
        assert routes["sigmoid"][0][i] == 100.0 and routes["sigmoid"][1][i] == 0.0
    assert torch.sigmoid(torch.tensor(10.0)).item() < 1.0
    assert routes["sigmoid"][0][0] == pytest.approx(exact[0], rel=1e-3)


def test_sigmoid_rounds_to_one_from_about_17_on() -> None:
    # float32 has spacing 2**-23 just above 1 and 2**-24 just below: 1/(1 + e^-u) is
    # stored as 1 once e^-u falls below about 2**-24, i.e. from u = 24 log 2 = 16.6 on
    # (where exactly depends on how the CPU rounds exp, within a few tenths)
    grid = torch.arange(0.0, 30.0, 0.1)
    first_one = grid[torch.sigmoid(grid) == 1.0][0].item()
    assert 24 * math.log(2) - 0.5 < first_one < 25 * math.log(2) + 0.5
    assert (torch.sigmoid(grid[grid >= first_one]) == 1.0).all()  # and stays 1 beyond
    text = QMD.read_text(encoding="utf-8")
    assert "From about $u = `{python} first_one`$ on" in text  # a number, not a str, in math


@pytest.mark.slow
def test_post_prints_both_routes(shown: str) -> None:
    ref = _cross_entropy_ref(LECTURE_U, LECTURE_Y)
    assert number(r"log_softmax \+ NLLLoss, lecture's rows: ([\d.]+)", shown) == pytest.approx(
        ref, abs=1e-5
    )
    assert number(r"log_softmax \+ NLLLoss, logits \(1000, 0\): ([\d.]+)", shown) == 1000.0
    assert "log of softmax + NLLLoss, logits (1000, 0): inf" in shown
    sig = re.search(r"Sigmoid \+ BCELoss: loss \[(.*?)\], gradient \[(.*?)\]", shown)
    assert sig and [float(v) for v in sig.group(1).split(",")][2:] == [100.0, 100.0]
    assert [abs(float(v)) for v in sig.group(2).split(",")][2:] == [0.0, 0.0]
    logit = re.search(r"BCEWithLogitsLoss: loss \[(.*?)\], gradient \[(.*?)\]", shown)
    assert logit and [float(v) for v in logit.group(1).split(",")][2:] == [20.0, 50.0]


# ------------------------------------------------------------------ the self-check


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_what_torch_computes() -> None:
    answers = self_check_answers()
    assert len(answers) == 6

    # 1. shapes through the ten-class network, rows of the softmax sum to one
    net = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    out = net(torch.rand(128, 784))
    sums = torch.softmax(out, dim=1).sum(dim=1)
    assert tuple(out.shape) == (128, 10) and tuple(sums.shape) == (128,)
    torch.testing.assert_close(sums, torch.ones(128))
    assert answers[0].startswith("`(128, 10)` and `(128,)`, all ones")

    # 2. a shift by 100 changes nothing; the values from the formula
    p = torch.softmax(torch.tensor([[1.0, 2.0, 3.0], [101.0, 102.0, 103.0]]), dim=1)
    ref = _softmax_ref([1.0, 2.0, 3.0])
    for row in p.tolist():
        assert row == pytest.approx(ref, abs=1e-6)
    shown = ", ".join(f"{v:.4f}" for v in ref)
    assert answers[1].startswith(f"Two identical rows, about `[{shown}]`.")

    # 3. (n, 1) int64 labels are refused
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        nn.CrossEntropyLoss()(torch.randn(3, 10), torch.tensor([[3], [7], [1]]))
    assert nn.CrossEntropyLoss()(torch.randn(3, 10), torch.tensor([[3], [7], [1]]).flatten())
    assert answers[2].startswith(
        "A `RuntimeError` (`0D or 1D target tensor expected, multi-target not supported`)."
    )

    # 4. equal logits: log k for every class
    for c in range(4):
        loss = nn.CrossEntropyLoss()(torch.zeros(1, 4), torch.tensor([c])).item()
        assert loss == pytest.approx(math.log(4), abs=1e-6)
    assert answers[3].startswith(f"$\\log 4 \\approx {math.log(4):.3f}$, for every true class.")

    # 5. at logit 20 the sigmoid route reports 100 with gradient 0, the logit route 20 and ~1
    routes = _bce_routes([20.0])
    assert routes["sigmoid"] == ([100.0], [0.0])
    assert routes["logits"][0] == pytest.approx([20.0]) and routes["logits"][1] == pytest.approx(
        [1.0]
    )
    assert answers[4].startswith("`nn.BCEWithLogitsLoss()`, fed the logit itself.")
    assert "clamped loss of 100 instead of the true 20" in answers[4]

    # 6. the row of 3 counts the test images of 3
    assert MNIST_TEST_COUNTS[3] == 1010
    assert answers[5].startswith("The row sums to 1,010, the number of test images whose true")
