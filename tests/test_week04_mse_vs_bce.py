"""Week 4 (MSE vs. BCE): the convexity helper and the post's teaching claims, through dlbasics.

The claims come from the lecture "the greatness of BCE loss": on the toy data
``y ~ Bernoulli(sigmoid(-1 + 5 x))`` a sigmoid net trained with SGD (lr 0.05)
creeps under MSE and walks under BCE; from the bad start (-10, -1) MSE does not
move at all; with Adam every run reaches the truth's neighbourhood; the BCE
surface is convex on the lecture's grid and the MSE surface is not.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from post_output import numbers, printed
from torch import nn

from dlbasics.closed_form import hessian
from dlbasics.data import SEED, logistic_toy
from dlbasics.losses import bce, mse
from dlbasics.models import logistic_sequential, set_weights
from dlbasics.surface import (
    Surface,
    is_convex_on_grid,
    loss_at,
    loss_surface,
    second_differences,
)
from dlbasics.train import fit

POST = "04-mse-vs-bce"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"
PARAMS = ["0.bias", "0.weight"]  # (w0, w1) of Sequential(Linear(1, 1), Sigmoid())
LOSS_FNS = {"mse": mse, "bce": bce}


# --------------------------------------------------------------- the convexity helper


def quadratic_surface(a: float, b: float, c: float, w0=None, w1=None) -> Surface:
    """``a w0^2 + b w1^2 + c w0 w1`` on a grid: its Hessian is ``[[2a, c], [c, 2b]]``."""
    w0 = torch.linspace(-2, 2, 9, dtype=torch.float64) if w0 is None else w0
    w1 = torch.linspace(-3, 1, 7, dtype=torch.float64) if w1 is None else w1
    W0, W1 = torch.meshgrid(w0, w1, indexing="ij")
    loss = a * W0**2 + b * W1**2 + c * W0 * W1
    return Surface(w0=w0, w1=w1, loss=loss, model="linear", loss_name="sse")


def test_second_differences_recover_the_hessian_of_a_least_squares_surface():
    # SSE of the linear model is a quadratic with Hessian 2 X^T X; central
    # differences are exact for quadratics, even on an unevenly spaced grid.
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(50, 1, generator=gen, dtype=torch.float64)
    y = 1.5 - 2.0 * x + 0.3 * torch.randn(50, 1, generator=gen, dtype=torch.float64)
    w0 = torch.tensor([-3.0, -2.5, -1.0, 0.2, 0.3, 2.0], dtype=torch.float64)
    w1 = torch.tensor([-4.0, -1.0, -0.9, 0.5, 3.0], dtype=torch.float64)
    surface = loss_surface(x, y, w0, w1, model="linear", loss="sse")
    H = hessian(torch.cat([torch.ones_like(x), x], dim=1), loss="sse")
    d = second_differences(surface)
    for key in ("w0w0", "w1w1", "w0w1", "min_eig"):
        assert d[key].shape == (len(w0) - 2, len(w1) - 2)
        assert d[key].dtype == torch.float64
    torch.testing.assert_close(d["w0w0"], torch.full_like(d["w0w0"], float(H[0, 0])))
    torch.testing.assert_close(d["w1w1"], torch.full_like(d["w1w1"], float(H[1, 1])))
    torch.testing.assert_close(d["w0w1"], torch.full_like(d["w0w1"], float(H[0, 1])))
    lam_min = float(torch.linalg.eigvalsh(H).min())
    torch.testing.assert_close(d["min_eig"], torch.full_like(d["min_eig"], lam_min))
    assert is_convex_on_grid(surface)


@pytest.mark.parametrize(
    ("a", "b", "c", "convex"),
    [
        (1.0, 2.0, 0.5, True),  # bowl
        (1.0, 1.0, 2.0, True),  # (w0 + w1)^2: flat along a diagonal, still convex
        (-1.0, -1.0, 0.0, False),  # dome
        (1.0, -1.0, 0.0, False),  # saddle: down along w1
        (1.0, 1.0, 3.0, False),  # up along both axes, down along the diagonal w0 = -w1
    ],
)
def test_is_convex_on_grid_judges_every_direction(a, b, c, convex):
    surface = quadratic_surface(a, b, c)
    assert is_convex_on_grid(surface, tol=1e-9) is convex
    d = second_differences(surface)
    assert bool((d["w0w0"] >= 0).all()) is (a >= 0)
    assert bool((d["w1w1"] >= 0).all()) is (b >= 0)


def test_a_negative_tolerance_band_is_respected():
    # min eigenvalue of [[2, 3], [3, 2]] is -1: tolerated with tol >= 1, not below
    surface = quadratic_surface(1.0, 1.0, 3.0)
    assert float(second_differences(surface)["min_eig"].min()) == pytest.approx(-1.0)
    assert not is_convex_on_grid(surface, tol=0.99)
    assert is_convex_on_grid(surface, tol=1.01)


def test_second_differences_reject_bad_input():
    with pytest.raises(TypeError, match="surface"):
        second_differences(torch.zeros(4, 4))
    with pytest.raises(TypeError, match="surface"):
        is_convex_on_grid({"loss": torch.zeros(4, 4)})
    too_small = quadratic_surface(1.0, 1.0, 0.0, w1=torch.tensor([0.0, 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="at least 3"):
        second_differences(too_small)
    s = quadratic_surface(1.0, 1.0, 0.0)
    bad = s.loss.clone()
    bad[3, 3] = math.inf
    with pytest.raises(ValueError, match="finite"):
        second_differences(Surface(s.w0, s.w1, bad, s.model, s.loss_name))
    with pytest.raises(ValueError, match="shape"):
        second_differences(Surface(s.w0, s.w1, s.loss.T, s.model, s.loss_name))


@pytest.mark.parametrize(
    ("tol", "error"),
    [(-1e-3, ValueError), (math.nan, ValueError), (math.inf, ValueError), ("0", TypeError)],
)
def test_is_convex_on_grid_rejects_bad_tol(tol, error):
    with pytest.raises(error, match="tol"):
        is_convex_on_grid(quadratic_surface(1.0, 1.0, 0.0), tol=tol)


# ------------------------------------------------------------------ the lecture's claims


@pytest.fixture(scope="module")
def toy():
    return logistic_toy()  # 2000 points on [-1, 1], (w0, w1) = (-1, 5), seed 43052


def sigmoid_net(start: tuple[float, float] | None = None) -> nn.Sequential:
    """``Sequential(Linear(1, 1), Sigmoid())``: seeded init, or bias/weight set to ``start``."""
    torch.manual_seed(SEED)
    net = logistic_sequential()
    return net if start is None else set_weights(net, weight=start[1], bias=start[0])


def train(toy, loss: str, start, optimizer_cls=torch.optim.SGD, epochs=1000, record_every=20):
    x, y, _ = toy
    net = sigmoid_net(start)
    optimizer = optimizer_cls(net.parameters(), lr=0.05)
    return fit(net, LOSS_FNS[loss], optimizer, x, y, epochs, record_every=record_every)


def w(history, k=-1) -> tuple[float, float]:
    w0, w1 = history.param_path(PARAMS)[k]
    return float(w0), float(w1)


def test_the_seeded_linear_layer_starts_where_the_lecture_does():
    torch.manual_seed(SEED)
    l1 = nn.Linear(1, 1)
    assert round(l1.weight.item(), 4) == -0.3467
    assert round(l1.bias.item(), 4) == -0.8470


def test_from_the_seeded_start_bce_fits_better_than_mse_and_mse_only_creeps(toy):
    _, _, prob = toy
    h_mse = train(toy, "mse", None, epochs=6000, record_every=1000)
    h_bce = train(toy, "bce", None, epochs=1000, record_every=1000)
    at_1000 = h_mse.at(1000)
    gap_mse = float((h_mse.yhat[at_1000] - prob).abs().mean())
    gap_bce = float((h_bce.yhat[-1] - prob).abs().mean())
    assert gap_bce < 0.5 * gap_mse  # "less than half as far"
    # MSE keeps creeping toward the truth: 5000 more epochs buy a steeper curve ...
    assert w(h_mse, at_1000)[1] + 1.0 < w(h_mse)[1]
    # ... and it took MSE several times as many epochs to get where BCE is after 1000
    gap_mse_6000 = float((h_mse.yhat[-1] - prob).abs().mean())
    assert gap_mse_6000 < gap_mse
    # "MSE needs thousands of epochs more to catch up": behind at 2000, ahead by 6000
    assert float((h_mse.yhat[h_mse.at(2000)] - prob).abs().mean()) > gap_bce > gap_mse_6000
    assert w(h_mse, at_1000)[1] < w(h_bce)[1]


def test_from_the_bad_start_mse_is_stuck_and_bce_walks_down(toy):
    h_mse = train(toy, "mse", (-10.0, -1.0))
    h_bce = train(toy, "bce", (-10.0, -1.0))
    assert w(h_mse, 0) == (-10.0, -1.0)
    assert abs(w(h_mse)[1] - (-1.0)) < 0.1
    assert abs(w(h_mse)[0] - (-10.0)) < 0.1
    w0, w1 = w(h_bce)
    assert w1 > 3
    assert abs(w0 - (-0.9)) < 0.2 and abs(w1 - 3.9) < 0.3  # roughly (-0.9, 3.9)


def test_from_the_good_start_bce_moves_further_than_mse(toy):
    h_mse = train(toy, "mse", (-3.0, -1.0))
    h_bce = train(toy, "bce", (-3.0, -1.0))
    truth = torch.tensor([-1.0, 5.0])
    dist_mse = float((torch.tensor(w(h_mse)) - truth).norm())
    dist_bce = float((torch.tensor(w(h_bce)) - truth).norm())
    assert dist_bce < dist_mse - 1.0


@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("start", [(-3.0, -1.0), (-10.0, -1.0)])
def test_adam_reaches_the_truth_from_both_starts(toy, loss, start):
    w0, w1 = w(train(toy, loss, start, optimizer_cls=torch.optim.Adam))
    assert math.hypot(w0 - (-1.0), w1 - 4.8) < 0.3


@pytest.fixture(scope="module")
def surfaces(toy):
    x, y, _ = toy
    grid0, grid1 = torch.arange(-10, 3, 0.15), torch.arange(-1, 10, 0.15)
    return {
        name: loss_surface(x, y, grid0, grid1, model="logistic", loss=name) for name in LOSS_FNS
    }


def test_bce_surface_is_convex_on_the_lecture_grid_and_mse_is_not(surfaces):
    assert is_convex_on_grid(surfaces["bce"], tol=0.0)
    assert not is_convex_on_grid(surfaces["mse"], tol=1e-6)
    d = second_differences(surfaces["mse"])
    # not a rounding artefact: MSE bends down along the w0 axis itself in places
    assert float(d["w0w0"].min()) < -1e-3
    assert float(d["w1w1"].min()) < -1e-3


def test_mse_surface_is_flat_around_the_bad_start_and_bce_is_not(toy):
    # the plateau: the gradient at (-10, -1) is tiny for MSE but not for BCE
    x, y, _ = toy
    net = sigmoid_net((-10.0, -1.0))
    grads = {}
    for name, loss_fn in LOSS_FNS.items():
        net.zero_grad()
        loss_fn(net(x), y).backward()
        grads[name] = math.hypot(float(net[0].bias.grad), float(net[0].weight.grad))
    assert grads["mse"] < 1e-3
    assert grads["bce"] > 100 * grads["mse"]


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_recorded_losses_lie_on_the_surface(toy, loss):
    # the animations put the path at height history.loss: it must be the surface's loss
    x, y, _ = toy
    history = train(toy, loss, (-3.0, -1.0), epochs=200, record_every=50)
    for k, (w0, w1) in enumerate(history.param_path(PARAMS)):
        expected = loss_at(x, y, w0, w1, model="logistic", loss=loss)
        assert history.loss[k] == pytest.approx(expected, rel=1e-4)


def test_mse_after_6000_epochs_is_closer_but_its_slope_is_still_about_20_percent_low(toy):
    h_mse = train(toy, "mse", None, epochs=6000, record_every=6000)
    w1 = w(h_mse)[1]
    assert 0.15 < (5.0 - w1) / 5.0 < 0.3


def test_saturation_claim_holds_for_moderate_slopes_only(toy):
    x, _, _ = toy
    for w1 in (-5.0, -1.0, 0.0, 5.0):
        assert float(torch.sigmoid(-10.0 + w1 * x).max()) < 0.007
    assert float(torch.sigmoid(-10.0 + 9.0 * x).max()) > 0.25  # steep slope: not saturated


def test_exercise_3_losses_at_the_bad_start_follow_from_the_share_of_ones(toy):
    x, y, _ = toy
    xd, yd = x.double().flatten(), y.double().flatten()
    z = -10.0 - xd
    p = 1 / (1 + torch.exp(-z))
    mse_exact = float(((yd - p) ** 2).mean())
    bce_exact = float(-(yd * torch.log(p) + (1 - yd) * torch.log(1 - p)).mean())
    share = float(yd.mean())
    assert mse_exact == pytest.approx(share, abs=1e-3)
    assert bce_exact == pytest.approx(share * (10 + float(xd[yd == 1].mean())), rel=1e-3)
    net = set_weights(logistic_sequential(), weight=-1.0, bias=-10.0)
    with torch.no_grad():
        assert float(mse(net(x), y)) == pytest.approx(mse_exact, rel=1e-4)
        assert float(bce(net(x), y)) == pytest.approx(bce_exact, rel=1e-4)


def test_exercise_4_mse_along_w0_bends_down_away_from_the_middle(toy):
    _, y, _ = toy
    yd = y.double().flatten()

    def f2(w0: float) -> float:  # f(w0) = mean (y - s)^2, s = sigmoid(w0), written out
        s = 1 / (1 + math.exp(-w0))
        d1, d2 = s * (1 - s), s * (1 - s) * (1 - 2 * s)
        return float((2 * (d1**2 - (yd - s) * d2)).mean())

    signs = [f2(w0) > 0 for w0 in (-6.0, -2.0, 0.0, 2.0, 6.0)]
    assert signs == [False, False, True, False, False]
    w0 = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(((yd - torch.sigmoid(w0)) ** 2).mean(), w0, create_graph=True)
    (d2,) = torch.autograd.grad(d1, w0)
    assert float(d2) == pytest.approx(f2(2.0), rel=1e-9)


# ------------------------------------------------------------------ the executed post


def test_post_loop_reproduces_fit_and_its_claims_hold(executed_post, toy):
    shown = printed(executed_post(POST))
    pattern = r"{}: \(w0, w1\) = \(([-\d.]+), ([-\d.]+)\), loss = ([\d.]+)"
    loop_w0, loop_w1, loop_loss = numbers(pattern.format("MSE, 1000 epochs"), shown)
    # the loop written in the post is fit's loop: same parameters after 1000 epochs
    reference = train(toy, "mse", None, epochs=1000, record_every=1000)
    ref_w0, ref_w1 = w(reference)
    assert loop_w0 == pytest.approx(ref_w0, abs=2e-3) and loop_w1 == pytest.approx(ref_w1, abs=2e-3)
    assert loop_loss == pytest.approx(reference.loss[-1], abs=2e-4)
    w1_6000 = numbers(pattern.format("MSE, 6000 epochs"), shown)[1]
    assert 0.15 < (5 - w1_6000) / 5 < 0.3  # the prose prints this share (about 20 %)
    assert w1_6000 > loop_w1 + 1  # "travelled from ... to ...": a long way
    gaps = {
        name: numbers(rf"{name}: mean \|yhat - pi\| = ([\d.]+)", shown)[0]
        for name in ("MSE, 1000 epochs", "BCE, 1000 epochs", "MSE, 6000 epochs")
    }
    assert gaps["BCE, 1000 epochs"] < 0.5 * gaps["MSE, 1000 epochs"]  # "less than half"
    mse_grad = numbers(r"MSE gradient at \(-10, -1\): d/dw0 = ([-\d.e+]+)", shown)[0]
    bce_grad = numbers(r"BCE gradient at \(-10, -1\): d/dw0 = ([-\d.e+]+)", shown)[0]
    assert abs(mse_grad) < 1e-4 < 0.1 < abs(bce_grad)
    assert abs(0.05 * mse_grad) * 1000 < 0.01  # self-check 5: 1000 steps add up to little


def test_post_writes_the_training_loop_and_no_build_settings():
    text = QMD.read_text(encoding="utf-8")
    section = text.split("## Training with MSE: it creeps", 1)[1].split("\n## ", 1)[0]
    for step in ("yhat = net(x)", "loss = mse(yhat, y)", "loss.backward()",
                 "optimizer.step()", "optimizer.zero_grad()", ".record("):  # fmt: skip
        assert step in section, step
    assert "set_num_threads" not in text
    assert "the tests" not in text.lower()


def _answers() -> list[str]:
    text = QMD.read_text(encoding="utf-8")
    assert "\n## Self-check\n" in text and text.index("## Exercises") < text.index("## Self-check")
    part = text.split("\n## Self-check\n", 1)[1]
    return re.findall(r'::: \{\.callout-note collapse="true"\}\n## Answer\n(.*?)\n:::', part, re.S)


def test_self_check_has_five_answers_and_answer_1_shape_and_count(toy):
    answers = _answers()
    assert len(answers) == 5
    x, _, _ = toy
    net = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
    assert tuple(net(x).shape) == (2000, 1)
    count = sum(p.numel() for p in net.parameters())
    assert "`(2000, 1)`" in answers[0] and f"**{count}** numbers" in answers[0]


def test_self_check_2_gradients_of_one_confidently_wrong_point():
    z = torch.tensor(-8.0, dtype=torch.float64, requires_grad=True)
    (g_bce,) = torch.autograd.grad(-torch.log(torch.sigmoid(z)), z)
    (g_sq,) = torch.autograd.grad((1 - torch.sigmoid(z)) ** 2, z)
    text = _answers()[1]
    assert f"{g_bce.item():.4f}" in text  # -0.9997
    assert f"-{abs(g_sq.item()) * 1e4:.1f} \\times 10^{{-4}}" in text  # -6.7 x 10^-4
    assert 1400 < (g_bce / g_sq).item() < 1600 and "1500 times" in text


def test_self_check_3_bce_loss_rejects_logits_and_with_logits_is_the_fix():
    logits = torch.tensor([[-2.0], [0.3], [1.7]])
    targets = torch.tensor([[0.0], [1.0], [1.0]])
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        nn.BCELoss()(logits, targets)
    fixed = nn.BCEWithLogitsLoss()(logits, targets)
    assert fixed.item() == pytest.approx(nn.BCELoss()(torch.sigmoid(logits), targets).item())
    text = _answers()[2]
    assert "RuntimeError" in text and "nn.BCEWithLogitsLoss()" in text and "nn.Sigmoid()" in text


def test_self_check_4_separable_data_has_no_minimum():
    x = torch.tensor([-1.0, -0.5, 0.5, 1.0], dtype=torch.float64)
    y = torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    losses = [float(nn.functional.binary_cross_entropy_with_logits(w1 * x, y))
              for w1 in (2.0, 10.0, 100.0)]  # fmt: skip
    assert losses[0] > losses[1] > losses[2] > 0  # always falling, never zero
    text = _answers()[3]
    assert text.startswith("False.")
    assert f"{losses[0]:.2f} at $w_1 = 2$" in text and f"{losses[1]:.4f} at $w_1 = 10$" in text
    assert f"$10^{{{math.floor(math.log10(losses[2]) + 0.5)}}}$ at $w_1 = 100$" in text


def test_self_check_5_refers_to_the_printed_gradient():
    text = _answers()[4]
    assert "grads['MSE'][0]" in text and "grads['BCE'][0]" in text


def test_mse_from_the_good_start_speeds_up_only_as_it_leaves_the_flat_part(toy):
    h = train(toy, "mse", (-3.0, -1.0))
    path = h.param_path(PARAMS)
    first_300 = math.dist(path[h.at(0)], path[h.at(300)])
    last_300 = math.dist(path[h.at(700)], path[h.at(1000)])
    assert first_300 < 0.5 * last_300
    assert 0 < w(h)[1] < 2  # "the curve has only just tilted upward"


def test_loss_curves_as_the_alt_text_describes_them(toy):
    # fig-mse-vs-bce's alt text: BCE starts near 0.77 and falls steeply, then more gently;
    # MSE starts near 0.28, falls over the first few hundred epochs, then only very slowly
    x, y, _ = toy
    with torch.no_grad():
        yhat = torch.sigmoid(-0.8470 - 0.3467 * x)  # the seeded start, by hand
        mse0 = ((y - yhat) ** 2).mean().item()
        bce0 = -(y * yhat.log() + (1 - y) * (1 - yhat).log()).mean().item()
    assert round(bce0, 2) == 0.77 and round(mse0, 2) == 0.28
    h_bce = train(toy, "bce", None, epochs=1000, record_every=100)
    h_mse = train(toy, "mse", None, epochs=6000, record_every=100)
    assert h_bce.loss[0] == pytest.approx(bce0, abs=1e-3)
    assert h_mse.loss[0] == pytest.approx(mse0, abs=1e-3)
    bce_at = {e: h_bce.loss[h_bce.at(e)] for e in (0, 200, 1000)}
    assert bce_at[0] - bce_at[200] > 2 * (bce_at[200] - bce_at[1000]) > 0
    mse_at = {e: h_mse.loss[h_mse.at(e)] for e in (0, 500, 1000, 6000)}
    assert mse_at[0] - mse_at[500] > 5 * (mse_at[1000] - mse_at[6000]) > 0
    alt = QMD.read_text(encoding="utf-8").split("#| label: fig-mse-vs-bce", 1)[1]
    assert "starts near 0.77" in alt.split("\n", 3)[2] and "starts near 0.28" in alt
