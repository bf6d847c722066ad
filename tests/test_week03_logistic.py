"""Week 3 (logistic regression as an nn.Module): dlbasics.models, data.hours_passed and the
post's teaching claims, checked through dlbasics directly and in the executed post's output
(orderings and thresholds, never trained digits), plus the self-check's answers.

The lecture: four students (1-4 hours studied, y = 0, 0, 1, 1), ``Linear(1, 1)`` + sigmoid,
``BCELoss(reduction="mean")``, SGD lr 0.01, 1000 epochs; then 1 hour is predicted below 0.5
and 7 hours above.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from post_output import number, numbers, printed
from torch import nn

from dlbasics.data import SEED, hours_passed
from dlbasics.losses import bce_table
from dlbasics.models import (
    LogisticRegression,
    copy_weights,
    decision_boundary,
    linear_of,
    logistic_sequential,
    set_weights,
)
from dlbasics.train import fit

QUERY = torch.tensor([[1.0], [7.0]])


def train(net: nn.Module, lr: float, epochs: int, loss_fn=None, record_every: int = 100):
    """The lecture's recipe with ``fit``: full-batch SGD on the four students."""
    X, y = hours_passed()
    loss_fn = nn.BCELoss() if loss_fn is None else loss_fn
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    return fit(net, loss_fn, optimizer, X, y, epochs, record_every=record_every)


def seeded_model(seed: int = SEED) -> LogisticRegression:
    torch.manual_seed(seed)
    return LogisticRegression()


def probs(net: nn.Module, x: torch.Tensor = QUERY) -> list[float]:
    with torch.no_grad():
        return net(x).flatten().tolist()


def batched_train(w: torch.Tensor, b: torch.Tensor, lr: float, epochs: int):
    """Train many one-feature logistic models at once (independent check of the loop).

    ``w`` and ``b`` of shape ``(k,)``; the summed per-model mean BCE gives every model its
    own gradient. Returns the trained ``(w, b)``.
    """
    X, y = hours_passed()
    x, target = X.reshape(1, -1), y.reshape(1, -1)
    w, b = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
    for _ in range(epochs):
        p = torch.sigmoid(w[:, None] * x + b[:, None])
        loss = F.binary_cross_entropy(p, target.expand_as(p), reduction="none").mean(1).sum()
        gw, gb = torch.autograd.grad(loss, (w, b))
        with torch.no_grad():
            w -= lr * gw
            b -= lr * gb
    return w.detach(), b.detach()


# ------------------------------------------------------------------------ data


def test_hours_passed_is_the_lectures_four_students():
    X, y = hours_passed()
    assert X.shape == y.shape == (4, 1)
    assert X.dtype == y.dtype == torch.float32
    assert X.flatten().tolist() == [1.0, 2.0, 3.0, 4.0]
    assert y.flatten().tolist() == [0.0, 0.0, 1.0, 1.0]


def test_hours_passed_returns_fresh_tensors():
    X, y = hours_passed()
    X += 100
    y.zero_()
    X2, y2 = hours_passed()
    assert X2.flatten().tolist() == [1.0, 2.0, 3.0, 4.0]
    assert y2.flatten().tolist() == [0.0, 0.0, 1.0, 1.0]


# ----------------------------------------------------------------------- models


@pytest.mark.parametrize("in_features", [1, 3])
def test_logistic_regression_is_sigmoid_of_its_linear_layer(in_features):
    torch.manual_seed(0)
    net = LogisticRegression(in_features)
    x = torch.randn(7, in_features)
    out = net(x)
    assert out.shape == (7, 1)
    assert bool(((out > 0) & (out < 1)).all())
    expected = torch.sigmoid(x @ net.linear.weight.T + net.linear.bias)
    torch.testing.assert_close(out, expected)
    assert [name for name, _ in net.named_parameters()] == ["linear.weight", "linear.bias"]


def test_seeded_model_draws_like_nn_linear():
    # The post relies on this: after the same seed, LogisticRegression() and nn.Linear(1, 1)
    # start from the same w and b (the exercise's logit model).
    net = seeded_model()
    torch.manual_seed(SEED)
    lin = nn.Linear(1, 1)
    assert torch.equal(net.linear.weight, lin.weight)
    assert torch.equal(net.linear.bias, lin.bias)


@pytest.mark.parametrize("bad", [0, -1])
def test_in_features_must_be_positive(bad):
    with pytest.raises(ValueError, match="in_features"):
        LogisticRegression(bad)
    with pytest.raises(ValueError, match="in_features"):
        logistic_sequential(bad)


@pytest.mark.parametrize("bad", [1.5, True, "2", None])
def test_in_features_must_be_an_int(bad):
    with pytest.raises(TypeError, match="in_features"):
        LogisticRegression(bad)
    with pytest.raises(TypeError, match="in_features"):
        logistic_sequential(bad)


def test_sequential_version_has_the_expected_layers():
    net = logistic_sequential(2)
    assert isinstance(net[0], nn.Linear) and isinstance(net[1], nn.Sigmoid)
    assert (net[0].in_features, net[0].out_features) == (2, 1)
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias"]


@pytest.mark.parametrize("in_features", [1, 4])
def test_module_and_sequential_agree_given_the_same_weights(in_features):
    torch.manual_seed(1)
    net = LogisticRegression(in_features)
    seq = logistic_sequential(in_features)
    x = torch.randn(50, in_features) * 3
    assert not torch.equal(net(x), seq(x))  # independently initialised: they differ
    assert copy_weights(net, seq) is seq
    out_net, out_seq = net(x), seq(x)
    assert torch.equal(out_net, out_seq)
    # ... and they train alike: identical gradients for the same loss
    y = (torch.rand(50, 1) > 0.5).float()
    F.binary_cross_entropy(out_net, y).backward()
    F.binary_cross_entropy(out_seq, y).backward()
    assert torch.equal(net.linear.weight.grad, seq[0].weight.grad)
    assert torch.equal(net.linear.bias.grad, seq[0].bias.grad)


def test_copy_weights_works_in_both_directions_and_with_a_bare_linear():
    torch.manual_seed(2)
    seq, net, lin = logistic_sequential(), LogisticRegression(), nn.Linear(1, 1)
    copy_weights(seq, net)
    copy_weights(net, lin)
    x = torch.linspace(-5, 5, 11).reshape(-1, 1)
    assert torch.equal(seq(x), net(x))
    assert torch.equal(torch.sigmoid(lin(x)), net(x))
    # a copy, not shared storage
    with torch.no_grad():
        net.linear.weight.add_(1.0)
    assert not torch.equal(seq(x), net(x))


def test_copy_weights_rejects_mismatched_or_foreign_models():
    with pytest.raises(ValueError, match="same layer shape"):
        copy_weights(LogisticRegression(2), LogisticRegression(3))
    with pytest.raises(ValueError, match="nn.Linear"):
        copy_weights(nn.Sequential(nn.Sigmoid()), LogisticRegression())
    with pytest.raises(ValueError, match="nn.Linear"):
        copy_weights(LogisticRegression(), nn.ReLU())
    with pytest.raises(TypeError, match="torch.nn.Module"):
        copy_weights("model", LogisticRegression())


def test_linear_of_finds_the_parameter_layer():
    net, seq, lin = LogisticRegression(), logistic_sequential(), nn.Linear(1, 1)
    assert linear_of(net) is net.linear
    assert linear_of(seq) is seq[0]
    assert linear_of(lin) is lin
    with pytest.raises(ValueError):
        linear_of(nn.Sequential())


def test_set_weights_sets_the_logit():
    net = set_weights(LogisticRegression(), weight=-1.0, bias=1.0)
    x = torch.tensor([[0.0], [1.0], [3.0]])
    torch.testing.assert_close(net(x), torch.sigmoid(1.0 - x))
    seq = set_weights(logistic_sequential(2), weight=torch.tensor([0.5, -2.0]), bias=0.25)
    torch.testing.assert_close(seq[0].weight, torch.tensor([[0.5, -2.0]]))
    torch.testing.assert_close(seq[0].bias, torch.tensor([0.25]))
    set_weights(seq, weight=torch.tensor([[1.0, 2.0]]), bias=0)  # (1, d) and an int bias
    torch.testing.assert_close(seq[0].weight, torch.tensor([[1.0, 2.0]]))


def test_set_weights_rejects_bad_input():
    with pytest.raises(ValueError, match="weight must have 2 entries"):
        set_weights(LogisticRegression(2), weight=1.0, bias=0.0)
    with pytest.raises(ValueError, match="weight must have 1 entries"):
        set_weights(LogisticRegression(), weight=torch.tensor([1.0, 2.0]), bias=0.0)
    with pytest.raises(TypeError, match="weight"):
        set_weights(LogisticRegression(), weight="1", bias=0.0)
    with pytest.raises(TypeError, match="weight"):
        set_weights(LogisticRegression(), weight=True, bias=0.0)
    with pytest.raises(TypeError, match="weight"):
        set_weights(LogisticRegression(), weight=torch.tensor([1]), bias=0.0)
    with pytest.raises(ValueError, match="weight"):
        set_weights(LogisticRegression(), weight=torch.tensor([math.nan]), bias=0.0)
    with pytest.raises(ValueError, match="weight"):
        set_weights(LogisticRegression(), weight=math.inf, bias=0.0)
    with pytest.raises(ValueError, match="bias"):
        set_weights(LogisticRegression(), weight=1.0, bias=math.nan)
    with pytest.raises(TypeError, match="bias"):
        set_weights(LogisticRegression(), weight=1.0, bias=None)


@pytest.mark.parametrize("w, b", [(0.8568, -1.6768), (-2.0, 1.0), (5.0, 12.5)])
def test_decision_boundary_is_where_the_probability_is_one_half(w, b):
    net = set_weights(LogisticRegression(), weight=w, bias=b)
    x0 = decision_boundary(net)
    assert x0 == pytest.approx(-b / w)
    p = probs(net, torch.tensor([[x0], [x0 - 0.1], [x0 + 0.1]]))
    assert p[0] == pytest.approx(0.5, abs=1e-5)
    # predicts 1 on the side where the logit is positive
    assert (p[2] > 0.5) == (w > 0) and (p[1] > 0.5) == (w < 0)


def test_decision_boundary_rejects_models_without_one():
    with pytest.raises(ValueError, match="no decision boundary"):
        decision_boundary(set_weights(LogisticRegression(), weight=0.0, bias=1.0))
    with pytest.raises(ValueError, match="one input feature"):
        decision_boundary(LogisticRegression(2))
    with pytest.raises(TypeError):
        decision_boundary(42)


# ------------------------------------------------------------------- BCE table


def test_bce_table_matches_torch_binary_cross_entropy():
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    yhat = torch.tensor([0.2, 0.8, 0.1, 0.9])
    rows = bce_table(y, yhat)
    assert [(r["y"], r["yhat"]) for r in rows] == list(zip(y.tolist(), yhat.tolist(), strict=True))
    per_row = F.binary_cross_entropy(yhat, y, reduction="none")
    for row, expected in zip(rows, per_row.tolist(), strict=True):
        assert row["loss"] == pytest.approx(expected, rel=1e-6)
    mean = sum(r["loss"] for r in rows) / len(rows)
    assert mean == pytest.approx(F.binary_cross_entropy(yhat, y).item(), rel=1e-6)
    assert mean == pytest.approx(nn.BCELoss(reduction="mean")(yhat, y).item(), rel=1e-6)


def test_bce_table_reproduces_the_lectures_numbers_in_base_10():
    # The lecture's table (0.7, 0.1, 0.05, 1) uses log10; the post prints both bases.
    rows = bce_table(torch.tensor([1.0, 1.0, 0.0, 0.0]), torch.tensor([0.2, 0.8, 0.1, 0.9]))
    base10 = [r["loss"] / math.log(10) for r in rows]
    assert base10 == pytest.approx([0.7, 0.1, 0.05, 1.0], abs=0.01)


def test_confident_mistakes_cost_most():
    # correct-and-confident < correct < wrong < wrong-and-confident, without bound
    yhat = torch.tensor([0.999, 0.8, 0.2, 0.001])
    losses = [r["loss"] for r in bce_table(torch.ones(4), yhat)]
    assert losses == sorted(losses)
    assert losses[-1] > 6.5 > 1.0  # squared error could never exceed 1 on such a row
    mirrored = [r["loss"] for r in bce_table(torch.zeros(4), 1 - yhat)]
    assert mirrored == pytest.approx(losses, rel=1e-4)


# --------------------------------------------------------- the lecture's training


def test_fit_takes_the_same_steps_as_the_explicit_four_step_loop():
    X, y = hours_passed()
    net_loop = seeded_model()
    loss_fn = nn.BCELoss(reduction="mean")
    optimizer = torch.optim.SGD(net_loop.parameters(), lr=0.01)
    printed = []
    for epoch in range(1, 1001):
        loss = loss_fn(net_loop(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 100 == 0:
            printed.append(loss.item())
    net_fit = seeded_model()
    history = train(net_fit, lr=0.01, epochs=1000, record_every=1)
    assert torch.equal(net_loop.linear.weight, net_fit.linear.weight)
    assert torch.equal(net_loop.linear.bias, net_fit.linear.bias)
    # the loop prints the loss computed before update k, i.e. after k - 1 updates
    before = [history.loss[k - 1] for k in range(100, 1001, 100)]
    assert printed == pytest.approx(before, rel=1e-6, abs=0)
    assert all(a > b for a, b in zip(printed, printed[1:], strict=False))  # loss falls


def test_lectures_outcome_with_the_course_seed():
    net = seeded_model()
    train(net, lr=0.01, epochs=1000)
    p1, p7 = probs(net)
    assert p1 < 0.5 < p7
    assert p7 > 0.95
    # ... but training is unfinished: the boundary sits left of the 2-hour student
    assert 1.8 < decision_boundary(net) < 2.0
    assert probs(net, torch.tensor([[2.0]]))[0] > 0.5


def test_lectures_outcome_holds_for_200_seeds():
    inits = [seeded_model(seed).linear for seed in range(200)]
    w0 = torch.tensor([lin.weight.item() for lin in inits])
    b0 = torch.tensor([lin.bias.item() for lin in inits])
    w, b = batched_train(w0, b0, lr=0.01, epochs=1000)
    p1, p7 = torch.sigmoid(w + b), torch.sigmoid(7 * w + b)
    assert bool((p1 < 0.5).all()) and bool((p7 > 0.5).all())
    # the batched trainer agrees with fit on one of them
    net = seeded_model(7)
    train(net, lr=0.01, epochs=1000)
    assert net.linear.weight.item() == pytest.approx(w[7].item(), abs=1e-5)
    assert net.linear.bias.item() == pytest.approx(b[7].item(), abs=1e-5)


def test_worst_corner_of_the_init_range_needs_a_larger_step():
    # nn.Linear(1, 1) draws w and b from U(-1, 1); over that square, the start (-1, 1)
    # leaves the highest P(pass | 1 h) after 1000 epochs at lr 0.01, and it is above 0.5.
    grid = torch.linspace(-1, 1, 21)
    W0, B0 = torch.meshgrid(grid, grid, indexing="ij")
    w, b = batched_train(W0.flatten(), B0.flatten(), lr=0.01, epochs=1000)
    p1 = torch.sigmoid(w + b)
    worst = int(p1.argmax())
    assert (W0.flatten()[worst].item(), B0.flatten()[worst].item()) == (-1.0, 1.0)
    assert 0.5 < p1[worst].item() < 0.51
    assert (p1 > 0.5).float().mean().item() < 0.05  # a small corner of the square
    for lr, fails in [(0.01, True), (0.1, False)]:
        corner = set_weights(LogisticRegression(), weight=-1.0, bias=1.0)
        train(corner, lr=lr, epochs=1000)
        p1_corner, p7_corner = probs(corner)
        assert (p1_corner > 0.5) == fails
        assert p7_corner > 0.5


def test_more_epochs_and_larger_lr_move_the_boundary_towards_two_and_a_half():
    results = {}
    for lr, epochs in [(0.01, 1000), (0.01, 4000), (0.04, 1000), (1.0, 1000)]:
        net = seeded_model()
        history = train(net, lr=lr, epochs=epochs)
        results[(lr, epochs)] = (history.loss[-1], decision_boundary(net), net)
    order = [(0.01, 1000), (0.01, 4000), (1.0, 1000)]
    losses = [results[k][0] for k in order]
    bounds = [results[k][1] for k in order]
    assert losses == sorted(losses, reverse=True)
    assert bounds == sorted(bounds) and bounds[-1] < 2.5
    assert bounds[-1] > 2.4
    # small steps: 4x the lr for 1000 epochs ~ 4x the epochs at lr 0.01
    assert results[(0.04, 1000)][0] == pytest.approx(results[(0.01, 4000)][0], abs=1e-3)
    assert results[(0.04, 1000)][1] == pytest.approx(results[(0.01, 4000)][1], abs=1e-3)
    # after 4000 epochs the 2-hour student is a fail
    assert probs(results[(0.01, 4000)][2], torch.tensor([[2.0]]))[0] < 0.5


def test_a_huge_step_saturates_the_sigmoid_and_training_stalls():
    net = seeded_model()
    history = train(net, lr=15.0, epochs=100, record_every=1)
    assert not history.diverged  # stuck, not nan
    assert history.loss[-1] == pytest.approx(50.0)  # BCELoss clamps log(0) at -100
    assert all(
        torch.equal(history.params[1][k], history.final_params[k])
        for k in ("linear.weight", "linear.bias")
    )
    assert probs(net) == [1.0, 1.0]
    # the figures' alt texts: a flat line at 50 from the first plotted epoch (10) on, and
    # a fitted curve at exactly 1 from 1 hour on, just below 1 only near 0 hours
    assert history.loss[0] < 2 and all(v == pytest.approx(50.0) for v in history.loss[10:])
    with torch.no_grad():
        curve = net(torch.linspace(0, 8, 200).reshape(-1, 1)).flatten()
    assert 0.98 < curve[0].item() < 1.0
    assert bool((curve[25:] == 1.0).all())  # 25th point: 1.005 hours
    text = QMD.read_text(encoding="utf-8")
    assert "a flat line at 50 from the first plotted epoch" in text
    assert "the lr 15 curve is a flat line at 1 (just below it only near 0 hours)" in text


# ---------------------------------------------------------------- the exercises


def test_bce_with_logits_on_a_bare_linear_agrees_with_the_sigmoid_model():
    net = seeded_model()
    train(net, lr=0.01, epochs=1000)
    torch.manual_seed(SEED)
    net_logit = nn.Linear(1, 1)
    train(net_logit, lr=0.01, epochs=1000, loss_fn=nn.BCEWithLogitsLoss())
    hours = torch.linspace(0, 8, 200).reshape(-1, 1)
    with torch.no_grad():
        torch.testing.assert_close(torch.sigmoid(net_logit(hours)), net(hours), atol=1e-6, rtol=0)
        p_logit = torch.sigmoid(net_logit(QUERY)).flatten().tolist()
    assert p_logit[0] < 0.5 < p_logit[1]


def test_bce_with_logits_recovers_from_the_step_that_stalls_bce_loss():
    torch.manual_seed(SEED)
    net_logit = nn.Linear(1, 1)
    history = train(net_logit, lr=15.0, epochs=100, loss_fn=nn.BCEWithLogitsLoss())
    assert history.loss[-1] < 0.01
    assert 2.0 < decision_boundary(net_logit) < 3.0


def test_sum_reduction_equals_mean_reduction_with_four_times_the_lr():
    net_sum, net_mean = seeded_model(), seeded_model()
    train(net_sum, lr=0.01, epochs=300, loss_fn=nn.BCELoss(reduction="sum"))
    train(net_mean, lr=0.04, epochs=300, loss_fn=nn.BCELoss(reduction="mean"))
    torch.testing.assert_close(net_sum.linear.weight, net_mean.linear.weight)
    torch.testing.assert_close(net_sum.linear.bias, net_mean.linear.bias)


# ------------------------------------------------------- the class written in the post


def post_class() -> type:
    """The ``LogisticRegression`` class exactly as the post's visible cell defines it."""
    from pathlib import Path

    qmd = Path(__file__).resolve().parents[1] / "posts/03-logistic-regression-module/index.qmd"
    cells = [c.split("```")[0] for c in qmd.read_text(encoding="utf-8").split("```{python}")[1:]]
    (source,) = [c for c in cells if "class LogisticRegression(nn.Module):" in c]
    assert "#| echo: false" not in source  # the lesson is shown, not hidden
    namespace = {"nn": nn, "torch": torch}
    exec(source, namespace)  # noqa: S102 - our own post's code
    return namespace["LogisticRegression"]


@pytest.mark.parametrize("in_features", [1, 3])
def test_the_posts_class_behaves_like_the_package_class(in_features):
    Post = post_class()
    assert Post is not LogisticRegression
    torch.manual_seed(SEED)
    ours = Post(in_features)
    torch.manual_seed(SEED)
    package = LogisticRegression(in_features)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in package.named_parameters()]
    for (_, a), (_, b) in zip(ours.named_parameters(), package.named_parameters(), strict=True):
        assert torch.equal(a, b)  # same draws from the same seed
    x = torch.randn(20, in_features) * 3
    assert torch.equal(ours(x), package(x))
    y = (torch.rand(20, 1) > 0.5).float()
    F.binary_cross_entropy(ours(x), y).backward()
    F.binary_cross_entropy(package(x), y).backward()
    assert torch.equal(ours.linear.weight.grad, package.linear.weight.grad)
    assert torch.equal(ours.linear.bias.grad, package.linear.bias.grad)


def test_package_helpers_accept_the_posts_class():
    Post = post_class()
    net = set_weights(Post(), weight=0.8568, bias=-1.6768)
    assert linear_of(net) is net.linear
    assert decision_boundary(net) == pytest.approx(1.6768 / 0.8568)
    seq = copy_weights(net, logistic_sequential())
    x = torch.linspace(0, 8, 9).reshape(-1, 1)
    assert torch.equal(seq(x), net(x))
    with pytest.raises(ValueError, match=r"\.linear layer"):
        linear_of(nn.Sequential(nn.ReLU()))


def test_post_class_trains_to_the_lectures_outcome():
    Post = post_class()
    torch.manual_seed(SEED)
    net = Post()
    train(net, lr=0.01, epochs=1000)
    p1, p7 = probs(net)
    assert p1 < 0.5 < p7


# ------------------------------------------------------------ exercises 3 and 4


def test_exercise_3_bce_along_the_separating_direction_decreases_to_zero():
    X, y = hours_passed()
    xs, ys = X.double().flatten().tolist(), y.double().flatten().tolist()

    def bce64(w: float) -> float:  # written out per row in float64
        rows = []
        for x_n, y_n in zip(xs, ys, strict=True):
            z = w * (x_n - 2.5)
            p = 1 / (1 + math.exp(-z))
            rows.append(-math.log(p) if y_n == 1 else -math.log1p(-p))
        return sum(rows) / len(rows)

    def formula(w: float) -> float:
        return 0.5 * math.log1p(math.exp(-1.5 * w)) + 0.5 * math.log1p(math.exp(-0.5 * w))

    values = [bce64(w) for w in (0.5, 1, 2, 5, 10, 25)]
    assert values == pytest.approx([formula(w) for w in (0.5, 1, 2, 5, 10, 25)], rel=1e-9)
    assert all(a > b > 0 for a, b in zip(values, values[1:], strict=False))
    assert values[-1] < 1e-5
    net = set_weights(LogisticRegression(), weight=5.0, bias=-12.5)
    with torch.no_grad():
        assert nn.BCELoss()(net(X), y).item() == pytest.approx(formula(5.0), rel=1e-5)


def test_exercise_4_longer_training_is_more_confident_with_the_same_ranking():
    ask = torch.tensor([[0.0], [2.5], [7.0], [20.0]])
    short, long = seeded_model(), seeded_model()
    train(short, lr=0.01, epochs=1000)
    train(long, lr=1.0, epochs=1000)
    p_short, p_long = probs(short, ask), probs(long, ask)
    assert p_short == sorted(p_short) and p_long == sorted(p_long)
    assert p_long[0] < p_short[0] and p_long[2] > p_short[2]  # further from 1/2 at both ends


# ------------------------------------------------------------ the executed post

POST = "03-logistic-regression-module"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"
RUN = (
    r"{name}\s+([-0-9.]+)\s+([-0-9.]+)\s+([-0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)"
    r"\s+([-0-9.]+)"
)


def run_row(name: str, shown: str) -> dict[str, float]:
    keys = ("loss", "w", "b", "p1", "p2", "p7", "boundary")
    return dict(zip(keys, numbers(RUN.format(name=re.escape(name)), shown), strict=True))


@pytest.mark.slow
def test_executed_post_claims(executed_post) -> None:
    shown = printed(executed_post(POST))
    # the lecture's outcome: 1 h fail, 7 h pass; the boundary just left of 2 h
    assert "1 h: P(pass) = " in shown and "above 0.5: False -> predict fail" in shown
    assert "above 0.5: True -> predict pass" in shown
    first = run_row("lr 0.01, 1000 epochs (above)", shown)
    assert first["p1"] < 0.5 < first["p7"] and first["p7"] > 0.95
    assert 1.8 < first["boundary"] < 2.0 and first["p2"] > 0.5  # "a pass" for 2 h
    # more epochs: lower loss, boundary moves right, the 2 h student becomes a fail
    longer = run_row("lr 0.01, 4000 epochs", shown)
    assert longer["loss"] < first["loss"] and first["boundary"] < longer["boundary"] < 2.5
    assert longer["p2"] < 0.5
    # lr 0.04 for 1000 epochs lands where lr 0.01 for 4000 does
    same = run_row("lr 0.04, 1000 epochs", shown)
    assert same["boundary"] == pytest.approx(longer["boundary"], abs=0.01)
    assert same["loss"] == pytest.approx(longer["loss"], abs=0.002)
    big = run_row("lr 1, 1000 epochs", shown)
    assert longer["boundary"] < big["boundary"] < 2.5 and big["loss"] < longer["loss"]
    stuck = run_row("lr 15, 100 epochs", shown)
    assert stuck["loss"] == 50.0 and stuck["p1"] == stuck["p2"] == stuck["p7"] == 1.0
    # the corner start: just above 0.5 at lr 0.01, fixed by lr 0.1
    p1_small = number(r"start w=-1, b=1, lr 0.01: P\(1 h\) = ([0-9.]+)", shown)
    p1_large = number(r"start w=-1, b=1, lr 0.1: P\(1 h\) = ([0-9.]+)", shown)
    assert 0.5 < p1_small < 0.51 and p1_large < 0.5
    # exercise 1: same function; lr 15 with logits recovers
    assert number(r"largest difference on 0..8 hours: (\S+)", shown) < 1e-5
    assert number(r"after 100 epochs: loss ([0-9.]+)", shown) < 0.01
    # exercise 2: sum at lr 0.01 == mean at lr 0.04
    (ws, bs), (wm, bm) = (numbers(rf"{r}\s*: w = (\S+), b = (\S+)", shown) for r in ("sum", "mean"))
    assert ws == pytest.approx(wm, abs=1e-5) and bs == pytest.approx(bm, abs=1e-5)
    # exercise 3: BCE along the separating direction equals the formula
    for a, b in re.findall(r"BCE ([0-9.]+)\s+formula ([0-9.]+)", shown):
        assert float(a) == pytest.approx(float(b), abs=2e-6)


def test_post_uses_no_build_machine_settings_and_no_test_talk() -> None:
    text = QMD.read_text(encoding="utf-8")
    assert "set_num_threads" not in text
    assert not re.search(r"\btests?\b", text.split("\n## Self-check\n")[0])
    assert "well-calibrated" not in text


# ------------------------------------------------------------------ self-check


def self_check_answer(k: int) -> str:
    text = QMD.read_text(encoding="utf-8").split("\n## Self-check\n", 1)[1]
    return re.split(r"^\d\. ", text, flags=re.M)[k]


def test_self_check_shape() -> None:
    text = QMD.read_text(encoding="utf-8").split("\n## Self-check\n", 1)[1]
    questions = re.findall(r"^\d\. ", text, re.M)
    answers = re.findall(r'^::: \{\.callout-note collapse="true"\}\n## Answer', text, re.M)
    assert 4 <= len(questions) <= 6 and len(answers) == len(questions)


def test_self_check_1_shapes() -> None:
    net = post_class()(in_features=3)
    out = net(torch.randn(10, 3))
    shapes = [tuple(net.linear.weight.shape), tuple(net.linear.bias.shape), tuple(out.shape)]
    assert shapes == [(1, 3), (1,), (10, 1)]
    assert "`(1, 3)`, `(1,)` and `(10, 1)`" in self_check_answer(1)


def test_self_check_2_bce_of_one_half() -> None:
    for target in (1.0, 0.0):
        loss = nn.BCELoss()(torch.tensor([0.5]), torch.tensor([target])).item()
        assert loss == pytest.approx(math.log(2), rel=1e-6)
    assert f"{math.log(2):.3f}" in self_check_answer(2) and "both cases" in self_check_answer(2)


def test_self_check_3_gradients_accumulate_without_zero_grad() -> None:
    X, y = hours_passed()
    torch.manual_seed(SEED)
    net = LogisticRegression()
    grads = []
    for _ in range(2):  # the question's loop, without zero_grad and without stepping
        nn.BCELoss()(net(X), y).backward()
        grads.append(net.linear.weight.grad.clone())
    # by hand: d mean BCE / dw = mean((yhat - y) x), the same both times (no step taken)
    with torch.no_grad():
        g = ((net(X) - y) * X).mean()
    assert grads[0].item() == pytest.approx(g.item(), rel=1e-5)
    assert grads[1].item() == pytest.approx(2 * g.item(), rel=1e-5)
    text = self_check_answer(3)
    assert "zero_grad()" in text and "*adds*" in text
    # the question's loop with its steps, lr 0.01 from the course seed: the steps lengthen
    # about 1 : 2 : 3 ("about twice ... about three times")
    torch.manual_seed(SEED)
    net = LogisticRegression()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    ws = [net.linear.weight.item()]
    for _ in range(3):
        nn.BCELoss()(net(X), y).backward()
        optimizer.step()
        ws.append(net.linear.weight.item())
    steps = [abs(b - a) for a, b in zip(ws, ws[1:], strict=False)]
    assert steps[1] / steps[0] == pytest.approx(2, rel=0.1)
    assert steps[2] / steps[0] == pytest.approx(3, rel=0.1)
    assert "about twice as long as the first" in text and "about three times" in text


def test_self_check_4_bce_loss_rejects_logits_outside_the_unit_interval() -> None:
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        nn.BCELoss()(torch.tensor([1.5, 0.2]), torch.tensor([1.0, 0.0]))
    nn.BCELoss()(torch.tensor([0.9, 0.2]), torch.tensor([1.0, 0.0]))  # silently accepted
    text = self_check_answer(4)
    assert "BCEWithLogitsLoss" in text and "all elements of input should be between 0 and 1" in text


def test_self_check_5_sigmoid_of_20_is_one_in_float32() -> None:
    p = torch.sigmoid(torch.tensor(20.0))
    assert p.item() == 1.0
    assert 1 - 1 / (1 + math.exp(-20)) == pytest.approx(2.1e-9, rel=0.02)
    below_one = torch.nextafter(torch.tensor(1.0), torch.tensor(0.0)).item()
    assert 1 - below_one == pytest.approx(6e-8, rel=0.01)
    assert nn.BCELoss()(p.reshape(1), torch.zeros(1)).item() == 100.0
    text = self_check_answer(5)
    assert "`True`" in text and "2.1 \\cdot 10^{-9}" in text and "6 \\cdot 10^{-8}" in text
    assert "clamps" in text and "to 100" in text
