"""Week 5 (deep nets with ReLU): the post's claims, dlbasics.nets and the irony-of-spec CSV.

The teaching claims are checked through torch directly (independent of the post's code):
the six constructions of the bent line agree, the hand-set net reproduces the true logit,
the shipped CSV is what its generator writes, training from the lecture's seed fits the
truth, and the seed-43052 start gets stuck because both hidden units face left. The
executed post is read for what it printed, and its self-check answers are recomputed.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import re
from pathlib import Path

import pytest
import torch
from post_output import answers_of, printed

from dlbasics import data, nets
from dlbasics.train import fit

REPO = Path(__file__).resolve().parent.parent
POST = "05-deep-nets-relu"
QMD = REPO / "posts" / POST / "index.qmd"
CSV = "irony_of_spec.csv"


def _make_data_module():
    spec = importlib.util.spec_from_file_location("make_data", REPO / "data" / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bent_net(seed: int) -> torch.nn.Sequential:
    """The post's model, built right after seeding as in the lecture."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(1, 2, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(2, 1),
        torch.nn.Sigmoid(),
    )


# ---------------------------------------------------------------- six constructions


def test_six_constructions_of_the_bent_line_agree() -> None:
    x = torch.linspace(-1, 1, 1001).reshape(-1, 1)
    relu = torch.nn.ReLU()
    # independent reference in float64 from the piecewise formula
    xd = x.double()
    reference = torch.where(xd < 0, 9 * xd + 4.5, -4.5 * xd + 4.5)

    masks = torch.zeros_like(x)
    masks[x < 0] = (9 * x + 4.5)[x < 0]
    masks[x >= 0] = (-4.5 * x + 4.5)[x >= 0]
    two_relus = -4.5 * relu(x) - 9 * relu(-x) + 4.5
    v = relu(torch.cat([x, -x], dim=1))
    columns = -4.5 * v[:, [0]] - 9 * v[:, [1]] + 4.5
    W2 = torch.tensor([[-4.5], [-9.0]])
    matmul_out = v @ W2 + 4.5
    W1 = torch.tensor([[1.0, -1.0]])
    matmul_both = relu(x @ W1) @ W2 + 4.5
    l1 = torch.nn.Linear(1, 2, bias=False)
    l2 = torch.nn.Linear(2, 1)
    with torch.no_grad():
        l1.weight.copy_(W1.T)
        l2.weight.copy_(W2.T)
        l2.bias.fill_(4.5)
        layers = torch.nn.Sequential(l1, relu, l2)(x)
        helper = nets.bent_line_net(9, -4.5, 4.5)(x)

    results = [masks, two_relus, columns, matmul_out, matmul_both, layers, helper]
    for i, y in enumerate(results):
        assert y.shape == (1001, 1), i
        assert (y.double() - reference).abs().max() <= 1e-6, f"construction {i + 1}"


def test_bent_line_net_has_the_documented_layers_and_weights() -> None:
    net = nets.bent_line_net(9, -4.5, 4.5)
    assert [type(m) for m in net] == [torch.nn.Linear, torch.nn.ReLU, torch.nn.Linear]
    assert net[0].bias is None
    assert torch.equal(net[0].weight, torch.tensor([[1.0], [-1.0]]))
    assert torch.equal(net[2].weight, torch.tensor([[-4.5, -9.0]]))
    assert torch.equal(net[2].bias, torch.tensor([4.5]))
    with_sigmoid = nets.bent_line_net(9, -4.5, 4.5, sigmoid=True)
    assert isinstance(with_sigmoid[-1], torch.nn.Sigmoid)
    x = torch.linspace(-2, 2, 41).reshape(-1, 1)
    with torch.no_grad():
        assert torch.allclose(with_sigmoid(x), torch.sigmoid(net(x)), atol=0, rtol=0)


@pytest.mark.parametrize(
    ("left", "right", "bias"), [(9, -4.5, 4.5), (15, -5, 5), (-1, 1, 0), (5, 5, -1), (0, 0, 2)]
)
def test_bent_line_net_draws_its_two_slopes(left: float, right: float, bias: float) -> None:
    net = nets.bent_line_net(left, right, bias)
    x = torch.linspace(-3, 3, 601, dtype=torch.float64).reshape(-1, 1)
    expected = torch.where(x < 0, bias + left * x, bias + right * x)
    with torch.no_grad():
        got = net.double()(x)
    assert torch.allclose(got, expected, atol=1e-12, rtol=0)


# ---------------------------------------------------------------- the true network


def test_irony_truth_net_reproduces_the_true_logit_and_prob() -> None:
    x = torch.linspace(-3, 3, 6001).reshape(-1, 1)
    x = torch.cat([x, torch.zeros(1, 1), torch.tensor([[-1e-7], [1e-7]])])
    logit_net = nets.irony_truth_net()
    prob_net = nets.irony_truth_net(sigmoid=True)
    with torch.no_grad():
        logit = logit_net(x)
        p = prob_net(x)
    assert (logit - data.irony_logit(x)).abs().max() <= 1e-6
    assert (p - torch.sigmoid(data.irony_logit(x))).abs().max() <= 1e-6
    # and the generator's probability column
    gx, _, gprob = data.irony_of_spec()
    with torch.no_grad():
        assert (prob_net(gx) - gprob).abs().max() <= 1e-6
    # the truth written as 5 - 15 relu(-x) - 5 relu(x)
    with torch.no_grad():
        x64 = x.double()
        written = 5 - 15 * torch.relu(-x64) - 5 * torch.relu(x64)
        assert torch.allclose(logit_net.double()(x64), written, atol=1e-12, rtol=0)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "err", "name"),
    [
        ({"left_slope": "9", "right_slope": 1, "bias": 0}, TypeError, "left_slope"),
        ({"left_slope": 1, "right_slope": None, "bias": 0}, TypeError, "right_slope"),
        ({"left_slope": 1, "right_slope": 1, "bias": True}, TypeError, "bias"),
        ({"left_slope": math.nan, "right_slope": 1, "bias": 0}, ValueError, "left_slope"),
        ({"left_slope": 1, "right_slope": 1, "bias": math.inf}, ValueError, "bias"),
        ({"left_slope": 1, "right_slope": 1, "bias": 0, "sigmoid": 1}, TypeError, "sigmoid"),
    ],
)
def test_bent_line_net_rejects_bad_input(kwargs: dict, err: type, name: str) -> None:
    with pytest.raises(err, match=name):
        nets.bent_line_net(**kwargs)


# ---------------------------------------------------------------- the CSV and its generator


def test_csv_matches_its_generator() -> None:
    """The generator's process, to float32 rounding (another CPU's linspace may differ)."""
    table = data.load_csv(CSV)
    assert list(table) == ["x", "prob", "y"]
    n = 2000
    x64 = -1 + 2 * torch.arange(n, dtype=torch.float64).reshape(n, 1) / (n - 1)
    assert (table["x"].double() - x64).abs().max() <= 1.2e-7
    logit64 = torch.where(x64 < 0, 5 + 15 * x64, 5 - 5 * x64)
    assert (table["prob"].double() - torch.sigmoid(logit64)).abs().max() <= 1e-6
    x, y, prob = data.irony_of_spec(n=n, seed=43052)
    assert torch.allclose(table["x"], x, atol=1.2e-7, rtol=0)
    assert torch.allclose(table["prob"], prob, atol=1e-6, rtol=0)
    assert torch.equal(table["y"], y)  # the same seeded 0/1 draws


def test_csv_outcomes_are_bernoulli_draws_of_prob() -> None:
    table = data.load_csv(CSV)
    y, prob = table["y"].double(), table["prob"].double()
    assert set(y.reshape(-1).tolist()) == {0.0, 1.0}
    # overall and on each side of the kink: mean of y within 3 standard errors of mean prob
    for keep in (torch.ones_like(y, dtype=torch.bool), table["x"] < 0, table["x"] >= 0):
        yk, pk = y[keep], prob[keep]
        se = math.sqrt(float((pk * (1 - pk)).sum())) / yk.numel()
        assert abs(float(yk.mean() - pk.mean())) <= 3 * se


def _read_columns(path: Path) -> dict[str, torch.Tensor]:
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    names = lines[0].split(",")
    rows = torch.tensor([[float(v) for v in ln.split(",")] for ln in lines[1:]])
    return {name: rows[:, i] for i, name in enumerate(names)}


def test_make_data_reproduces_the_shipped_file(tmp_path: Path) -> None:
    """Regenerated values equal the shipped ones up to float32 rounding of x and prob.

    (Byte equality, which ``make_data.py --check`` asks for, holds on one CPU only:
    torch.linspace's vectorised kernel rounds some x differently on another.)
    """
    make_data = _make_data_module()
    assert make_data.main(["--out-dir", str(tmp_path), CSV]) == 0
    shipped = _read_columns(data.data_path(CSV))
    fresh = _read_columns(tmp_path / CSV)
    assert list(fresh) == list(shipped) == ["x", "prob", "y"]
    assert torch.allclose(fresh["x"], shipped["x"], atol=1.2e-7, rtol=0)
    assert torch.allclose(fresh["prob"], shipped["prob"], atol=1e-6, rtol=0)
    assert torch.equal(fresh["y"], shipped["y"])
    assert data.data_path(CSV).stat().st_size < 100_000


def test_make_data_rejects_unknown_names(tmp_path: Path) -> None:
    make_data = _make_data_module()
    with pytest.raises(SystemExit):
        make_data.main(["--out-dir", str(tmp_path), "no_such_file.csv"])
    assert not any(tmp_path.iterdir())


def test_make_data_render_round_trips_float32() -> None:
    make_data = _make_data_module()
    values = torch.tensor([[1 / 3], [-0.1], [4.53978719e-05], [1e-30], [0.0]])
    text = make_data.render({"v": values})
    back = torch.tensor([[float(s)] for s in text.splitlines()[1:]], dtype=torch.float32)
    assert text.splitlines()[0] == "v"
    assert torch.equal(back, values)


# ---------------------------------------------------------------- training claims


@pytest.fixture(scope="module")
def irony():
    table = data.load_csv(CSV)
    return table["x"], table["y"], table["prob"]


LECTURE_START = [0.5153, -0.4414, -0.1371, 0.3319]  # seed 1: first layer, then second layer
LECTURE_5000 = [1.7773, -3.0447, -0.9945, -2.7176]  # the lecture's weights after 5000 epochs


def logit_slopes(net: torch.nn.Sequential) -> dict[str, float]:
    """Independent reference: the logit's slopes and height read from its values at -1, 0, 1.

    Valid for a bias-free first layer (every kink at x = 0), computed in float64.
    """
    logit = torch.nn.Sequential(*[copy.deepcopy(m) for m in list(net)[:3]]).double()
    with torch.no_grad():
        left, mid, right = logit(torch.tensor([[-1.0], [0.0], [1.0]]).double()).reshape(-1).tolist()
    return {"left slope": mid - left, "right slope": right - mid, "height at 0": mid}


def weights(net: torch.nn.Sequential) -> list[float]:
    return torch.cat([net[0].weight.reshape(-1), net[2].weight.reshape(-1)]).tolist()


@pytest.fixture(scope="module")
def trained_seed1(irony):
    """The post's loop written out: 10000 full-batch Adam epochs from seed 1."""
    X, y, prob = irony
    net = _bent_net(1)
    optimizer = torch.optim.Adam(net.parameters())
    loss_fn = torch.nn.BCELoss()
    at = {}
    for epoch in range(10_001):
        yhat = net(X)
        loss = loss_fn(yhat, y)
        if epoch in (0, 5000, 10_000):
            at[epoch] = {
                "loss": loss.item(),
                "mae": (yhat - prob).abs().mean().item(),
                "weights": weights(net),
            }
        if epoch == 10_000:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net, at


@pytest.fixture(scope="module")
def trained_stuck(irony):
    X, y, _ = irony
    net = _bent_net(43052)
    start = weights(net)
    optimizer = torch.optim.Adam(net.parameters())
    h = fit(net, torch.nn.BCELoss(), optimizer, X, y, epochs=5000, record_every=1000)
    return net, start, h


def test_seed_1_gives_the_lectures_starting_weights() -> None:
    net = _bent_net(1)
    assert weights(net) == pytest.approx(LECTURE_START, abs=5e-5)
    assert weights(net)[0] > 0 > weights(net)[1]  # one unit faces right, one left


def test_training_from_seed_1_fits_the_true_probability(trained_seed1) -> None:
    _, at = trained_seed1
    assert at[10_000]["mae"] < 0.05
    # "the mean distance shrinks many-fold while the loss falls only a little"
    assert at[5000]["mae"] / at[10_000]["mae"] > 3
    assert 0 < at[5000]["loss"] - at[10_000]["loss"] < 0.1
    assert at[10_000]["loss"] < at[5000]["loss"] < at[0]["loss"]


def test_weights_after_5000_epochs_are_near_the_lectures(trained_seed1) -> None:
    """Same start, different 0/1 draws: close to the lecture's numbers, not equal."""
    ours = trained_seed1[1][5000]["weights"]
    gaps = [abs(a - b) for a, b in zip(ours, LECTURE_5000, strict=True)]
    assert max(gaps) < 0.2
    assert [w > 0 for w in ours] == [w > 0 for w in LECTURE_5000]


def test_learned_slopes_are_close_to_the_truth(trained_seed1) -> None:
    net = trained_seed1[0]
    learned = logit_slopes(net)
    truth = {"left slope": 15.0, "right slope": -5.0, "height at 0": 5.0}
    rel = {k: abs(learned[k] - v) / abs(v) for k, v in truth.items()}
    assert max(rel.values()) <= 0.1
    assert max(rel, key=rel.get) == "left slope"  # the steep side is the least precise
    # the post's reading rule: the slope on each side is the sum of c * w over its units
    w = net[0].weight.detach().reshape(-1).double()
    c = net[2].weight.detach().reshape(-1).double()
    assert float((c * w)[w < 0].sum()) == pytest.approx(learned["left slope"], abs=1e-9)
    assert float((c * w)[w > 0].sum()) == pytest.approx(learned["right slope"], abs=1e-9)
    assert net[2].bias.item() == pytest.approx(learned["height at 0"], abs=1e-6)


def test_seed_43052_starts_and_stays_one_sided(irony, trained_stuck) -> None:
    X, _, prob = irony
    net, start, h = trained_stuck
    assert start[0] < 0 and start[1] < 0  # both units face left
    assert bool((net[0].weight < 0).all())  # and still do after training
    assert logit_slopes(net)["right slope"] == 0.0
    right = (X >= 0).reshape(-1)
    fitted_right = h.yhat[-1][right]
    assert torch.equal(fitted_right, torch.full_like(fitted_right, float(fitted_right[0])))
    flat_level = torch.sigmoid(net[2].bias).item()
    assert float(fitted_right[0]) == pytest.approx(flat_level, abs=1e-6)
    assert 0.5 < flat_level < 0.99  # between the true probabilities on the right
    assert 0 < logit_slopes(net)["left slope"] < 15  # it rises, less steeply than the truth
    # converged (loss no longer moving), yet clearly worse than the seed-1 fit
    assert abs(h.loss[h.at(5000)] - h.loss[h.at(4000)]) < 1e-3
    assert float((h.yhat[-1] - prob).abs().mean()) > 0.08


def _backward_on_points_right_of_zero(net: torch.nn.Module, irony) -> None:
    """Fresh gradients of the BCE on the points with x > 0 only."""
    X, y, _ = irony
    right = (X > 0).reshape(-1)
    net.zero_grad()
    torch.nn.BCELoss()(net(X[right]), y[right]).backward()


def test_points_right_of_zero_send_no_gradient_to_the_stuck_first_layer(
    irony, trained_stuck
) -> None:
    net = trained_stuck[0]
    _backward_on_points_right_of_zero(net, irony)
    assert torch.equal(net[0].weight.grad, torch.zeros_like(net[0].weight))
    assert net[2].bias.grad.abs().item() > 0  # while the output bias still learns there
    net.zero_grad()


def test_seed_1_net_gets_gradient_from_the_right_only_through_its_right_facing_unit(
    irony, trained_seed1
) -> None:
    """Exercise 2's prediction: one non-zero entry (the unit facing right), one zero."""
    net = trained_seed1[0]
    _backward_on_points_right_of_zero(net, irony)
    grad = net[0].weight.grad.reshape(-1)
    facing_right = (net[0].weight.reshape(-1) > 0).tolist()
    assert facing_right == [True, False]
    assert grad[0].item() != 0.0 and grad[1].item() == 0.0
    net.zero_grad()


def test_a_first_layer_bias_lets_the_right_side_reach_the_stuck_units(irony) -> None:
    """Exercise 4: same seed, Linear(1, 2) with a bias: same weights, kinks just beyond 1."""
    X, y, _ = irony
    torch.manual_seed(43052)
    net = torch.nn.Sequential(
        torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1), torch.nn.Sigmoid()
    )
    w, b = net[0].weight.detach().reshape(-1), net[0].bias.detach()
    assert torch.equal(w, _bent_net(43052)[0].weight.detach().reshape(-1))  # both < 0
    assert bool((w < 0).all())
    kinks = -b / w  # each unit is on for x < kink
    assert bool((kinks > 1).all()) and bool((kinks < 1.2).all())
    with torch.no_grad():
        assert bool((net[1](net[0](X)) > 0).all())  # on for every x in [-1, 1]
    right = (X > 0).reshape(-1)
    torch.nn.BCELoss()(net(X[right]), y[right]).backward()
    assert bool((net[0].weight.grad != 0).all())


# ---------------------------------------------------------------- the executed post


def test_adam_steps_ignore_a_positive_gradient_scale_and_flip_for_a_negative_one() -> None:
    """The post: scaling every gradient by c > 0 leaves Adam's steps unchanged; c < 0
    reverses them."""
    grads = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))

    def path(scale: float) -> torch.Tensor:
        w = torch.zeros(3, requires_grad=True)
        optimizer = torch.optim.Adam([w], lr=0.01)
        for g in grads:
            w.grad = scale * g
            optimizer.step()
        return w.detach()

    reference = path(1.0)
    assert torch.allclose(path(1000.0), reference, atol=1e-6)
    assert torch.allclose(path(0.5), reference, atol=1e-6)
    assert torch.allclose(path(-3.0), -reference, atol=1e-6)
    assert reference.abs().max() > 0.05  # the steps are not trivially small


def test_post_runs_and_its_constructions_agree(executed_post) -> None:
    shown = printed(executed_post(POST))
    gaps = re.findall(r"max \|y - y_masks\| = (\S+)", shown)
    assert len(gaps) == 7 and all(float(g) == 0.0 for g in gaps)
    assert "True" in shown  # nets.bent_line_net equals construction (6)
    # Exercise 2: the stuck net's first layer gets exactly zero from the right
    assert re.search(r"stuck \(seed 43052\)\s+d loss / d W1 = tensor\(\[0\., 0\.\]\)", shown)
    # Exercise 3: the simulated share of stuck starts is near 2^(1-k)
    for k, theory in ((2, 0.5), (4, 0.125)):
        share = float(re.search(rf"k = {k}: stuck starts (\S+)", shown).group(1))
        assert abs(share - theory) < 0.05


def test_post_prose_has_no_hand_typed_training_numbers() -> None:
    text = QMD.read_text(encoding="utf-8")
    for typed in ("about 0.9,", "sevenfold", "within 7%", "within 0.01", "within about 0.1"):
        assert typed not in text
    assert "torch.set_num_threads" not in text


# ---------------------------------------------------------------- the self-check


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_what_torch_computes() -> None:
    answers = self_check_answers()
    assert len(answers) == 5
    relu = torch.nn.ReLU()

    # 1. shapes through Linear(1, 2, bias=False) -> ReLU -> Linear(2, 1)
    x = torch.linspace(-1, 1, 1001).reshape(-1, 1)
    net = torch.nn.Sequential(
        torch.nn.Linear(1, 2, bias=False), torch.nn.ReLU(), torch.nn.Linear(2, 1)
    )
    shapes = [tuple(net[0].weight.shape), tuple(net[:2](x).shape), tuple(net(x).shape)]
    assert shapes == [(2, 1), (1001, 2), (1001, 1)]
    assert answers[0].startswith("`(2, 1)`, `(1001, 2)` and `(1001, 1)`.")

    # 2. the bent line at -1, 0, 1 (and the piecewise formula agrees)
    x = torch.tensor([-1.0, 0.0, 1.0])
    values = (-4.5 * relu(x) - 9 * relu(-x) + 4.5).tolist()
    assert values == [-4.5, 4.5, 0.0] == [9 * -1 + 4.5, 4.5, -4.5 * 1 + 4.5]
    assert answers[1].startswith(f"`{values}`.")

    # 3. second layer for slopes 2 (left), -3 (right), height 1
    net = nets.bent_line_net(left_slope=1, right_slope=1, bias=0).double()  # first layer [1, -1]
    with torch.no_grad():
        net[2].weight.copy_(torch.tensor([[-3.0, -2.0]]))
        net[2].bias.fill_(1.0)
        grid = torch.linspace(-2, 2, 401, dtype=torch.float64).reshape(-1, 1)
        expected = torch.where(grid < 0, 1 + 2 * grid, 1 - 3 * grid)
        assert torch.allclose(net(grid), expected, atol=1e-12, rtol=0)
    assert answers[2].startswith("$\\mathbf W^{(2)} = [-3, -2]^\\top$ and $b^{(2)} = 1$.")

    # 4. first-layer weights -0.3, -0.7: from x > 0 only the output bias gets a gradient
    torch.manual_seed(0)
    net = _bent_net(0)
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[-0.3], [-0.7]]))
    xr = torch.rand(50, 1) + 0.01
    yr = torch.bernoulli(torch.full((50, 1), 0.5))
    torch.nn.BCELoss()(net(xr), yr).backward()
    assert torch.equal(net[0].weight.grad, torch.zeros(2, 1))
    assert torch.equal(net[2].weight.grad, torch.zeros(1, 2))
    assert net[2].bias.grad.item() != 0
    assert answers[3].startswith(
        "The first-layer and second-layer weights get gradient exactly 0; only the output "
        "bias\ngets a non-zero gradient."
    )

    # 5. k = 3 units all facing the same way: count the sign patterns
    patterns = [(a, b, c) for a in (1, -1) for b in (1, -1) for c in (1, -1)]
    same = sum(len(set(p)) == 1 for p in patterns) / len(patterns)
    assert same == 0.25 == 2 ** (1 - 3)
    assert answers[4].startswith("$1/4$.")
