"""Week 5 (deep nets with ReLU): dlbasics.nets, the irony-of-spec CSV and the post's claims.

The teaching claims are checked through dlbasics and torch directly, not by running the post:
the six constructions of the bent line agree, the hand-set net reproduces the true logit,
the shipped CSV is what its generator writes, training from the lecture's seed fits the
truth, and the seed-43052 start gets stuck because both hidden units face left.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch

from dlbasics import data, nets
from dlbasics.train import fit

REPO = Path(__file__).resolve().parent.parent
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
    params = nets.bent_line_params(net)
    assert params == pytest.approx({"left_slope": left, "right_slope": right, "bias": bias})


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
    assert nets.bent_line_params(logit_net) == {
        "left_slope": 15.0,
        "right_slope": -5.0,
        "bias": 5.0,
    }


# ---------------------------------------------------------------- bent_line_params on any net


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("seed", [0, 7])
def test_bent_line_params_matches_what_a_random_net_computes(k: int, seed: int) -> None:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(1, k, bias=False), torch.nn.ReLU(), torch.nn.Linear(k, 1)
    ).double()
    params = nets.bent_line_params(net)
    x = torch.tensor([[-1.0], [0.0], [1.0]], dtype=torch.float64)
    with torch.no_grad():
        y_left, y0, y_right = net(x).reshape(-1).tolist()
    assert params["bias"] == pytest.approx(y0, abs=1e-12)
    assert params["left_slope"] == pytest.approx(y0 - y_left, abs=1e-12)
    assert params["right_slope"] == pytest.approx(y_right - y0, abs=1e-12)


def test_bent_line_params_ignores_rescaling_inside_a_unit() -> None:
    """relu(a x) = a relu(x) for a > 0: scale a unit's input weight up and its output down."""
    net = nets.bent_line_net(15, -5, 5)
    with torch.no_grad():
        net[0].weight.mul_(torch.tensor([[3.0], [0.25]]))
        net[2].weight.div_(torch.tensor([[3.0, 0.25]]))
    assert nets.bent_line_params(net) == pytest.approx(
        {"left_slope": 15, "right_slope": -5, "bias": 5}
    )


# ---------------------------------------------------------------- hidden_directions


def test_hidden_directions_reads_signs_and_kinks() -> None:
    assert nets.hidden_directions(nets.irony_truth_net()) == ["x > 0", "x < 0"]
    net = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[2.0], [-1.0], [0.0], [0.0]]))
        net[0].bias.copy_(torch.tensor([1.0, 1.0, 0.5, -0.5]))
    assert nets.hidden_directions(net) == ["x > -0.5", "x < 1", "everywhere", "nowhere"]
    # the description matches where each unit is actually on
    x = torch.tensor([[-0.75], [-0.25], [0.9], [1.1]])
    with torch.no_grad():
        on = net[1](net[0](x)) > 0
    assert on[:, 0].tolist() == [False, True, True, True]
    assert on[:, 1].tolist() == [True, True, True, False]
    assert on[:, 2].all() and not on[:, 3].any()


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


def test_readers_reject_the_wrong_kind_of_net() -> None:
    for reader in (nets.bent_line_params, nets.hidden_directions):
        with pytest.raises(TypeError, match="net"):
            reader(torch.nn.Linear(1, 1))
        with pytest.raises(ValueError, match="Linear"):
            reader(torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Linear(2, 1)))
        with pytest.raises(ValueError, match="1 input"):
            reader(
                torch.nn.Sequential(
                    torch.nn.Linear(3, 2, bias=False), torch.nn.ReLU(), torch.nn.Linear(2, 1)
                )
            )
        with pytest.raises(ValueError, match="1 output"):
            reader(
                torch.nn.Sequential(
                    torch.nn.Linear(1, 2, bias=False), torch.nn.ReLU(), torch.nn.Linear(2, 3)
                )
            )
        with pytest.raises(ValueError, match="Sigmoid"):
            reader(
                torch.nn.Sequential(
                    torch.nn.Linear(1, 2, bias=False),
                    torch.nn.ReLU(),
                    torch.nn.Linear(2, 1),
                    torch.nn.ReLU(),
                )
            )
    with_bias = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    with pytest.raises(ValueError, match="bias=False"):
        nets.bent_line_params(with_bias)


# ---------------------------------------------------------------- the CSV and its generator


def test_csv_matches_its_generator() -> None:
    table = data.load_csv(CSV)
    assert list(table) == ["x", "prob", "y"]
    x, y, prob = data.irony_of_spec(n=2000, seed=43052)
    assert torch.equal(table["x"], x)
    assert torch.equal(table["prob"], prob)  # bit for bit, so %.9g round-trips float32
    assert torch.equal(table["prob"], torch.sigmoid(data.irony_logit(table["x"])))


def test_csv_outcomes_are_bernoulli_draws_of_prob() -> None:
    table = data.load_csv(CSV)
    y, prob = table["y"].double(), table["prob"].double()
    assert set(y.reshape(-1).tolist()) == {0.0, 1.0}
    # overall and on each side of the kink: mean of y within 3 standard errors of mean prob
    for keep in (torch.ones_like(y, dtype=torch.bool), table["x"] < 0, table["x"] >= 0):
        yk, pk = y[keep], prob[keep]
        se = math.sqrt(float((pk * (1 - pk)).sum())) / yk.numel()
        assert abs(float(yk.mean() - pk.mean())) <= 3 * se


def test_make_data_reproduces_the_shipped_file(tmp_path: Path) -> None:
    make_data = _make_data_module()
    assert make_data.main(["--out-dir", str(tmp_path), CSV]) == 0
    shipped = data.data_path(CSV).read_bytes()
    assert (tmp_path / CSV).read_bytes() == shipped
    assert make_data.main(["--check"]) == 0
    assert len(shipped) < 100_000


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


@pytest.fixture(scope="module")
def trained_seed1(irony):
    X, y, _ = irony
    net = _bent_net(1)
    start = {k: v.detach().clone() for k, v in net.named_parameters()}
    optimizer = torch.optim.Adam(net.parameters())
    loss_fn = torch.nn.BCELoss()
    h1 = fit(net, loss_fn, optimizer, X, y, epochs=5000, record_every=5000)
    h2 = fit(net, loss_fn, optimizer, X, y, epochs=5000, record_every=5000)
    return net, start, h1, h2


@pytest.fixture(scope="module")
def trained_stuck(irony):
    X, y, _ = irony
    net = _bent_net(43052)
    start = nets.hidden_directions(net)
    optimizer = torch.optim.Adam(net.parameters())
    h = fit(net, torch.nn.BCELoss(), optimizer, X, y, epochs=5000, record_every=1000)
    return net, start, h


def test_seed_1_gives_the_lectures_starting_weights() -> None:
    net = _bent_net(1)
    assert net[0].weight.reshape(-1).tolist() == pytest.approx([0.5153, -0.4414], abs=5e-5)
    assert net[2].weight.reshape(-1).tolist() == pytest.approx([-0.1371, 0.3319], abs=5e-5)
    assert nets.hidden_directions(net) == ["x > 0", "x < 0"]


def test_training_from_seed_1_fits_the_true_probability(irony, trained_seed1) -> None:
    X, _, prob = irony
    net, _, h1, h2 = trained_seed1
    mae_5000 = float((h1.yhat[-1] - prob).abs().mean())
    mae_10000 = float((h2.yhat[-1] - prob).abs().mean())
    assert mae_10000 < 0.05
    assert mae_10000 < mae_5000  # the second 5000 epochs still help
    assert h2.loss[-1] < h1.loss[-1] < h1.loss[0]
    with torch.no_grad():
        assert torch.equal(net(X), h2.yhat[-1])  # the history's last record is the net


def test_learned_slopes_are_close_to_the_truth(trained_seed1) -> None:
    net = trained_seed1[0]
    learned = nets.bent_line_params(net)
    truth = nets.bent_line_params(nets.irony_truth_net())
    for key, value in truth.items():
        assert abs(learned[key] - value) <= 0.1 * abs(value), key
    assert nets.hidden_directions(net) == ["x > 0", "x < 0"]


def test_seed_43052_starts_and_stays_one_sided(irony, trained_stuck) -> None:
    X, _, prob = irony
    net, start, h = trained_stuck
    assert start == ["x < 0", "x < 0"]
    assert nets.hidden_directions(net) == ["x < 0", "x < 0"]
    assert nets.bent_line_params(net)["right_slope"] == 0.0
    right = (X >= 0).reshape(-1)
    fitted_right = h.yhat[-1][right]
    assert torch.equal(fitted_right, torch.full_like(fitted_right, float(fitted_right[0])))
    # converged (loss no longer moving), yet clearly worse than the seed-1 fit
    assert abs(h.loss[h.at(5000)] - h.loss[h.at(4000)]) < 1e-3
    assert float((h.yhat[-1] - prob).abs().mean()) > 0.08


def test_points_right_of_zero_send_no_gradient_to_the_stuck_first_layer(
    irony, trained_stuck
) -> None:
    X, y, _ = irony
    net = trained_stuck[0]
    right = (X > 0).reshape(-1)
    net.zero_grad()
    torch.nn.BCELoss()(net(X[right]), y[right]).backward()
    assert torch.equal(net[0].weight.grad, torch.zeros_like(net[0].weight))
    assert net[2].bias.grad.abs().item() > 0  # while the output bias still learns there
    net.zero_grad()


def test_seed_1_net_gets_gradient_from_the_right_only_through_its_right_facing_unit(
    irony, trained_seed1
) -> None:
    """Exercise 2's prediction: one non-zero entry (the unit facing right), one zero."""
    X, y, _ = irony
    net = trained_seed1[0]
    right = (X > 0).reshape(-1)
    net.zero_grad()
    torch.nn.BCELoss()(net(X[right]), y[right]).backward()
    grad = net[0].weight.grad.reshape(-1)
    facing_right = (net[0].weight.reshape(-1) > 0).tolist()
    assert facing_right == [True, False]
    assert grad[0].item() != 0.0 and grad[1].item() == 0.0


def test_a_first_layer_bias_lets_the_right_side_reach_the_stuck_units(irony) -> None:
    """Exercise 4: same seed, Linear(1, 2) with a bias: same weights, kinks moved right."""
    X, y, _ = irony
    torch.manual_seed(43052)
    net = torch.nn.Sequential(
        torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1), torch.nn.Sigmoid()
    )
    w, b = net[0].weight.detach().reshape(-1), net[0].bias.detach()
    assert torch.equal(w, _bent_net(43052)[0].weight.detach().reshape(-1))  # both < 0
    assert bool((w < 0).all())
    kinks = -b / w  # each unit is on for x < kink
    assert bool((kinks > 0.9).all())
    assert [d.startswith("x < 1.") for d in nets.hidden_directions(net)] == [True, True]
    right = (X > 0).reshape(-1)
    torch.nn.BCELoss()(net(X[right]), y[right]).backward()
    assert bool((net[0].weight.grad != 0).all())
