"""dlbasics.metrics: accuracy and confusion counts against plain Python loops and
hand-counted small cases; every misuse answered with an error naming the argument."""

from __future__ import annotations

import math

import pytest
import torch

from dlbasics import metrics


def test_accuracy_and_confusion_against_loops() -> None:
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(200, 4, generator=g)
    y = torch.randint(0, 4, (200,), generator=g)
    best = [max(range(4), key=lambda j, r=row: r[j]) for row in scores.tolist()]
    correct = sum(b == t for b, t in zip(best, y.tolist(), strict=True))
    assert metrics.accuracy(scores, y) == correct / 200
    counts = [[0] * 4 for _ in range(4)]
    for t, b in zip(y.tolist(), best, strict=True):
        counts[t][b] += 1
    C = metrics.confusion_matrix(y, metrics.predict_classes(scores), 4)
    assert C.tolist() == counts


def test_accuracy_for_one_column_logits_and_probabilities() -> None:
    z = torch.tensor([[-2.0], [0.5], [3.0], [-0.1]])
    y = torch.tensor([[0.0], [1.0], [0.0], [0.0]])
    assert metrics.accuracy(z, y, logits=True) == 0.75  # rows 0, 1, 3 right (counted by hand)
    assert metrics.accuracy(torch.sigmoid(z), y, logits=False) == 0.75


def test_accuracy_is_an_exact_fraction() -> None:
    """Misuse 13: 9812 correct of 10000 is exactly 0.9812 (it was counted in float32)."""
    yhat = torch.zeros(10_000, 2)
    yhat[:9812, 1] = 1.0
    y = torch.ones(10_000, dtype=torch.long)
    assert metrics.accuracy(yhat, y) == 0.9812


def test_accuracy_of_a_diverged_model_is_nan() -> None:
    """Misuse 2: nan outputs scored 1.0 (argmax of a nan row); a diverged model has none."""
    y = torch.tensor([0, 0, 1])
    assert math.isnan(metrics.accuracy(torch.full((3, 2), float("nan")), y))
    assert math.isnan(
        metrics.accuracy(torch.tensor([[1.0], [float("inf")], [0.0]]), y, logits=True)
    )


@pytest.mark.parametrize(
    ("call", "err", "words"),
    [
        # misuse 2: labels outside the class range
        (lambda: metrics.accuracy(torch.eye(2), torch.tensor([5, 1])), ValueError,
         r"y must hold classes from 0 to 1 \(yhat has 2 columns\), got classes from 1 to 5"),
        (lambda: metrics.accuracy(torch.zeros(2, 1), torch.tensor([0, 2]), logits=True),
         ValueError, r"classes from 0 to 1 \(yhat has one column: two classes\)"),
        (lambda: metrics.accuracy(torch.zeros(2, 3), torch.tensor([-1, 0])), ValueError,
         "got classes from -1 to 0"),
        # misuse 2: probabilities where logits are expected, or the reverse
        (lambda: metrics.accuracy(torch.tensor([[0.2], [0.9]]), torch.tensor([0, 1])), ValueError,
         "logits must be given for a one-column yhat: logits=True .* logits=False"),
        (lambda: metrics.accuracy(torch.tensor([[-3.0], [2.5]]), torch.tensor([0, 1]),
                                  logits=False),
         ValueError,
         r"probabilities in \[0, 1\] with logits=False, got values such as \[-3.0, 2.5\]"),
        (lambda: metrics.accuracy(torch.tensor([[-1.0, 2.0]]), torch.tensor([1]), logits=False),
         ValueError, r"probabilities in \[0, 1\]"),
        (lambda: metrics.accuracy(torch.zeros(2, 1), torch.zeros(2), logits=1), TypeError,
         "logits must be a bool, got int"),
        (lambda: metrics.accuracy(torch.zeros(3, 2), torch.zeros(4)), ValueError, "one class"),
        (lambda: metrics.accuracy(torch.zeros(3, 1), torch.full((3,), 0.5), logits=True),
         ValueError, r"whole class numbers .*got values such as \[0.5"),
        (lambda: metrics.accuracy(torch.zeros(2, 2), torch.tensor([True, False])), TypeError,
         "torch.bool"),
        (lambda: metrics.accuracy([1, 2], torch.zeros(2)), TypeError, "yhat must be a torch"),
        (lambda: metrics.accuracy(torch.zeros(0, 2), torch.zeros(0)), ValueError,
         "yhat must not be empty"),
        (lambda: metrics.confusion_matrix(torch.tensor([0, 5]), torch.tensor([0, 1]), 3),
         ValueError, "classes from 0 to 2"),
        (lambda: metrics.confusion_matrix(torch.tensor([0.0]), torch.tensor([0]), 3), TypeError,
         "integer classes"),
        (lambda: metrics.confusion_matrix(torch.tensor([0]), torch.tensor([0, 1]), 3), ValueError,
         "same shape"),
    ],
)  # fmt: skip
def test_metrics_reject_bad_input(call, err: type, words: str) -> None:
    with pytest.raises(err, match=words):
        call()
