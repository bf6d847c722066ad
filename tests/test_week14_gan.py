"""Week 14: a GAN on MNIST threes.

The mathematics is checked against independent references: the two losses against
binary cross-entropy written out in float64, detach() keeping the discriminator's step
out of the generator, the gradient leak of a loop that zeroes after stepping, the values
at "0.5 on both", the mirrored labels of the lecture and the saturating loss's factor.
The executed post is checked for what its prose claims (who wins, mode collapse and its
partial recovery, no copying, the animation's frames and size) with tolerances that
survive another CPU, and its self-check answers against the computed results.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from post_output import animation_sizes, numbers, printed
from torch import nn

POST = "14-gan"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"


def make_networks(seed: int = 43052) -> tuple[nn.Module, nn.Module]:
    """The post's D and G, built here from the lecture's sizes (not imported)."""
    torch.manual_seed(seed)
    D = nn.Sequential(nn.Flatten(), nn.Linear(784, 30), nn.ReLU(), nn.Linear(30, 1),
                      nn.Sigmoid())  # fmt: skip
    G = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                      nn.Linear(64, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))  # fmt: skip
    return D, G


def bce64(p: torch.Tensor, y: torch.Tensor) -> float:
    """Binary cross-entropy written out, in float64: -mean(y log p + (1 - y) log(1 - p))."""
    p, y = p.double(), y.double()
    return float(-(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean())


def self_check() -> str:
    text = QMD.read_text(encoding="utf-8")
    assert "\n## Self-check\n" in text
    return text.split("\n## Self-check\n", 1)[1]


def answer(k: int) -> str:
    """The text of self-check answer ``k`` (1-based)."""
    answers = re.findall(r'::: \{\.callout-note collapse="true"\}\n## Answer\n(.*?)\n:::',
                         self_check(), re.S)  # fmt: skip
    return answers[k - 1]


# ------------------------------------------------------------------ the mathematics


def test_shapes_of_generator_and_discriminator() -> None:
    D, G = make_networks()
    z = torch.randn(16, 4)
    fake = G(z)
    assert fake.shape == (16, 1, 28, 28) and D(fake).shape == (16, 1)
    assert ((fake > 0) & (fake < 1)).all()  # sigmoid pixels, like the data's [0, 1]
    out = D(fake)
    assert ((out > 0) & (out < 1)).all()
    # self-check 1 states both shapes
    assert "`(16, 1, 28, 28)`" in answer(1) and "`(16, 1)`" in answer(1)


def test_the_two_losses_are_bce_with_the_targets_of_the_text() -> None:
    gen = torch.Generator().manual_seed(0)
    p_real = torch.rand(50, 1, generator=gen) * 0.98 + 0.01
    p_fake = torch.rand(50, 1, generator=gen) * 0.98 + 0.01
    loss_fn = nn.BCELoss()
    ones, zeros = torch.ones(50, 1), torch.zeros(50, 1)
    loss_D = loss_fn(p_real, ones) + loss_fn(p_fake, zeros)
    loss_G = loss_fn(p_fake, ones)
    # L_D = -mean log D(x) - mean log(1 - D(G(z))), L_G = -mean log D(G(z))
    by_formula_D = -torch.log(p_real.double()).mean() - torch.log(1 - p_fake.double()).mean()
    by_formula_G = -torch.log(p_fake.double()).mean()
    assert loss_D.item() == pytest.approx(float(by_formula_D), rel=1e-5)
    assert loss_G.item() == pytest.approx(float(by_formula_G), rel=1e-5)
    assert loss_D.item() == pytest.approx(bce64(p_real, ones) + bce64(p_fake, zeros), rel=1e-5)


def test_half_on_both_gives_two_log_two_and_log_two() -> None:
    half = torch.full((10, 1), 0.5)
    ones, zeros = torch.ones(10, 1), torch.zeros(10, 1)
    loss_D = bce64(half, ones) + bce64(half, zeros)
    loss_G = bce64(half, ones)
    assert loss_D == pytest.approx(2 * math.log(2)) and loss_G == pytest.approx(math.log(2))
    text = answer(2)
    assert f"{loss_D:.3f}" in text and f"{loss_G:.3f}" in text  # 1.386 and 0.693
    assert "untrained" in text  # 0.5 at epoch 0 is not success


def _d_step(D, G, optimizer_D, X_real, z, detach: bool) -> None:
    loss_fn = nn.BCELoss()
    X_fake = G(z)
    if detach:
        X_fake = X_fake.detach()
    n = len(X_real)
    loss_D = loss_fn(D(X_real), torch.ones(n, 1)) + loss_fn(D(X_fake), torch.zeros(n, 1))
    optimizer_D.zero_grad()
    loss_D.backward()
    optimizer_D.step()


def test_detach_keeps_the_discriminator_step_out_of_the_generator() -> None:
    D, G = make_networks()
    X_real = torch.rand(20, 1, 28, 28)
    before = [p.detach().clone() for p in G.parameters()]
    d_before = [p.detach().clone() for p in D.parameters()]
    optimizer_D = torch.optim.Adam(D.parameters(), lr=0.001, betas=(0.5, 0.999))
    _d_step(D, G, optimizer_D, X_real, torch.randn(20, 4), detach=True)
    assert all(p.grad is None for p in G.parameters())  # backward never reached G
    assert all(torch.equal(a, p) for a, p in zip(before, G.parameters(), strict=True))
    assert any(not torch.equal(a, p) for a, p in zip(d_before, D.parameters(), strict=True))
    # without detach the same step fills G's gradients (G's weights still do not move)
    _d_step(D, G, optimizer_D, X_real, torch.randn(20, 4), detach=False)
    assert all(p.grad is not None for p in G.parameters())
    assert sum(p.grad.abs().sum().item() for p in G.parameters()) > 0
    assert all(torch.equal(a, p) for a, p in zip(before, G.parameters(), strict=True))


def _train(detach: bool, steps: int = 3) -> list[torch.Tensor]:
    """The post's loop (zero_grad right before each backward) for a few steps."""
    D, G = make_networks()
    gen = torch.Generator().manual_seed(1)
    X_real = torch.rand(30, 1, 28, 28, generator=gen)
    optimizer_D = torch.optim.Adam(D.parameters(), lr=0.001, betas=(0.5, 0.999))
    optimizer_G = torch.optim.Adam(G.parameters(), lr=0.0002, betas=(0.5, 0.999))
    loss_fn = nn.BCELoss()
    for _ in range(steps):
        _d_step(D, G, optimizer_D, X_real, torch.randn(30, 4, generator=gen), detach=detach)
        loss_G = loss_fn(D(G(torch.randn(30, 4, generator=gen))), torch.ones(30, 1))
        optimizer_G.zero_grad()
        loss_G.backward()
        optimizer_G.step()
    return [p.detach().clone() for p in [*D.parameters(), *G.parameters()]]


def test_dropping_detach_changes_nothing_when_g_zeroes_before_its_backward() -> None:
    with_detach, without = _train(detach=True), _train(detach=False)
    assert all(torch.equal(a, b) for a, b in zip(with_detach, without, strict=True))
    assert "No." in answer(4) and "zero_grad()" in answer(4)


def test_zeroing_after_step_leaks_the_generator_gradient_into_d() -> None:
    D, G = make_networks()
    loss_fn = nn.BCELoss()
    z = torch.randn(25, 4)
    loss_G = loss_fn(D(G(z)), torch.ones(25, 1))
    expected = torch.autograd.grad(loss_G, list(D.parameters()), retain_graph=True)
    loss_G.backward()
    # optimizer_G.zero_grad() would clear only G: D keeps exactly the gradient of L_G
    for p, g in zip(D.parameters(), expected, strict=True):
        assert p.grad is not None and torch.allclose(p.grad, g)
    assert sum(g.abs().sum().item() for g in expected) > 0
    text = answer(3)
    assert "`optimizer_D.zero_grad()` right before `loss_D.backward()`" in text
    assert r"\nabla L_D + \nabla L_G" in text


def test_the_lectures_labels_give_the_same_losses() -> None:
    gen = torch.Generator().manual_seed(2)
    p = torch.rand(40, 1, generator=gen, dtype=torch.float64) * 0.98 + 0.01
    y = torch.bernoulli(torch.full((40, 1), 0.5, dtype=torch.float64), generator=gen)
    assert bce64(1 - p, 1 - y) == pytest.approx(bce64(p, y), rel=1e-12)


def _generator_after(real_label: float, negate_last_layer: bool, steps: int = 15) -> torch.Tensor:
    """G's parameters after a few alternating steps with real images labelled real_label."""
    D, G = make_networks()
    if negate_last_layer:
        with torch.no_grad():
            D[3].weight.neg_()
            D[3].bias.neg_()
    optimizer_D = torch.optim.Adam(D.parameters(), lr=0.001, betas=(0.5, 0.999))
    optimizer_G = torch.optim.Adam(G.parameters(), lr=0.0002, betas=(0.5, 0.999))
    loss_fn = nn.BCELoss()
    gen = torch.Generator().manual_seed(3)
    X_real = torch.rand(40, 1, 28, 28, generator=gen)
    real, fake = torch.full((40, 1), real_label), torch.full((40, 1), 1 - real_label)
    for _ in range(steps):
        X_fake = G(torch.randn(40, 4, generator=gen)).detach()
        loss_D = loss_fn(D(X_real), real) + loss_fn(D(X_fake), fake)
        optimizer_D.zero_grad()
        loss_D.backward()
        optimizer_D.step()
        loss_G = loss_fn(D(G(torch.randn(40, 4, generator=gen))), real)
        optimizer_G.zero_grad()
        loss_G.backward()
        optimizer_G.step()
    return torch.cat([p.detach().flatten() for p in G.parameters()])


def test_the_lectures_labels_are_our_game_with_the_last_layer_negated() -> None:
    ours = _generator_after(1.0, negate_last_layer=False)
    mirrored = _generator_after(0.0, negate_last_layer=True)  # D' = 1 - D from the start
    same_seed = _generator_after(0.0, negate_last_layer=False)
    assert torch.allclose(ours, mirrored, atol=1e-5)  # the same game, step for step
    assert (ours - same_seed).abs().max() > 1e-3  # but not the same run from one seed
    text = QMD.read_text(encoding="utf-8")
    assert "weights and bias of its last layer negated" in text
    assert "do not give the same run" in text


@pytest.mark.parametrize("d", [0.02, 0.3, 0.5, 0.9])
def test_saturating_loss_is_the_non_saturating_one_times_d_over_one_minus_d(d: float) -> None:
    a = torch.tensor(math.log(d / (1 - d)), dtype=torch.float64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(torch.log(1 - torch.sigmoid(a)), a)  # minimize log(1 - D)
    (g_non,) = torch.autograd.grad(-torch.log(torch.sigmoid(a)), a)  # minimize -log D
    assert g_sat.item() == pytest.approx(-d) and g_non.item() == pytest.approx(-(1 - d))
    assert (g_sat / g_non).item() == pytest.approx(d / (1 - d))


# ------------------------------------------------------------------ the executed post


def test_post_checks_its_losses_and_detach(executed_post) -> None:
    shown = printed(executed_post(POST))
    bce_D, formula_D = numbers(r"L_D: BCELoss ([\d.]+), formula ([\d.]+)", shown)
    bce_G, formula_G = numbers(r"L_G: BCELoss ([\d.]+), formula ([\d.]+)", shown)
    assert bce_D == pytest.approx(formula_D, abs=2e-6)
    assert bce_G == pytest.approx(formula_G, abs=2e-6)
    # untrained D says about 0.5: the losses are near 2 log 2 and log 2
    assert bce_D == pytest.approx(2 * math.log(2), abs=0.15)
    assert bce_G == pytest.approx(math.log(2), abs=0.1)
    assert "with detach():   G's gradients are None: True" in shown
    assert numbers(r"without detach\(\): total \|gradient\| in G = ([\d.e+-]+)", shown)[0] > 0
    assert "G(z): (16, 1, 28, 28)   D(G(z)): (16, 1)" in shown


def test_post_discriminator_wins_and_generator_is_not_at_half(executed_post) -> None:
    shown = printed(executed_post(POST))
    d_real, d_fake = numbers(r"mean D\(real\) = ([\d.]+), mean D\(fake\) = ([\d.]+)", shown)
    assert 0 < d_fake < d_real < 1
    # "still separates real from fake almost perfectly, far from 0.5 on both"
    assert d_real > 0.8 and d_fake < 0.2
    # "after epoch 0 the mean on real threes stays above the mean on fakes at every epoch"
    gap = numbers(r"smallest gap between the two means after epoch 0: ([\d.-]+)", shown)[0]
    assert gap > 0


def test_post_mode_collapse_happens_then_partly_heals(executed_post) -> None:
    shown = printed(executed_post(POST))
    spread_real = numbers(r"spread of the 500 real threes:\s+([\d.]+)", shown)[0]
    spread_fake = numbers(r"spread of 500 generated threes:\s+([\d.]+)", shown)[0]
    at0, smallest, epoch, end = numbers(
        r"spread of the fixed 16 at epoch 0: ([\d.]+), smallest later: ([\d.]+) "
        r"\(epoch (\d+)\), at the end: ([\d.]+)", shown)  # fmt: skip
    assert at0 < 0.25 * spread_real  # the untrained generator's grey haze
    assert smallest < 0.25 * spread_real and epoch % 25 == 0 and epoch > 0  # collapse
    assert spread_fake > 2 * smallest and end > 2 * smallest  # the samples spread out again
    assert spread_fake < 0.75 * spread_real  # "still far less varied than real handwriting"


def test_post_exercises_claims(executed_post) -> None:
    shown = printed(executed_post(POST))
    gradients = r"\|gradient\|: minimax form [\d.e+-]+, L_G [\d.e+-]+, ratio ([\d.]+)"
    ratio = numbers(gradients, shown)[0]
    assert ratio > 5  # "many times smaller"
    spread_real = numbers(r"spread of the 500 real threes:\s+([\d.]+)", shown)[0]
    steps = [float(v) for v in re.search(r"distance between neighbours: (.*)", shown)[1].split()]
    assert len(steps) == 7 and max(steps) < 0.2 * spread_real  # gradual, no jumps
    z_apart, ends = numbers(
        r"\|z_a - z_b\| = ([\d.]+), distance between the two end images: ([\d.]+)", shown
    )
    assert z_apart > 1  # "two quite different z" (two draws of N(0, I_4) are ~2.8 apart)
    assert ends <= sum(steps) + 0.05 and ends < 0.5 * spread_real  # "much the same 3"
    nearest_median, nearest_min = numbers(
        r"generated -> nearest training three: median ([\d.]+), smallest ([\d.]+)", shown
    )
    within = numbers(r"training -> nearest other training three: median ([\d.]+)", shown)[0]
    assert nearest_min > 2  # no copy of a training image
    assert 0.5 < nearest_median / within < 2  # about as far as the threes are from each other
    ours_D, lecture_D = numbers(r"L_D ours ([\d.]+), lecture's labels ([\d.]+)", shown)
    ours_G, lecture_G = numbers(r"L_G ours ([\d.]+), lecture's labels ([\d.]+)", shown)
    assert ours_D == pytest.approx(lecture_D, abs=2e-6)
    assert ours_G == pytest.approx(lecture_G, abs=2e-6)
    one_batch, mini, real = numbers(
        r"spread of the 16 samples: one batch ([\d.]+), mini-batches ([\d.]+), "
        r"real threes ([\d.]+)", shown)  # fmt: skip
    assert one_batch < 0.3 * real and one_batch < mini  # exercise 5: the one-batch run collapses


def test_post_animation_has_a_frame_every_25_epochs_and_stays_small(executed_post) -> None:
    nb = executed_post(POST)
    sizes = animation_sizes(nb)
    assert len(sizes) == 1 and sizes[0] < 100_000
    html = next(
        str(v) for cell in nb.cells if cell.cell_type == "code"
        for out in cell.get("outputs", []) for v in out.get("data", {}).values()
        if "dlbasics-anim" in str(v)
    )  # fmt: skip
    assert 'data-frames="21"' in html  # epochs 0, 25, ..., 500
    assert '<div class="dla-status">epoch 500</div>' in html


def test_post_trains_in_a_visible_loop_without_build_settings() -> None:
    text = QMD.read_text(encoding="utf-8")
    loop = text.split("## The training loop", 1)[1].split("## ", 1)[0]
    for step in (".detach()", "optimizer_D.zero_grad()", "loss_D.backward()",
                 "optimizer_D.step()", "optimizer_G.zero_grad()", "loss_G.backward()",
                 "optimizer_G.step()", "torch.no_grad()"):  # fmt: skip
        assert step in loop, step
    assert "set_num_threads" not in text
    assert "first 500" in text  # the fixed training subset is stated


def test_self_check_has_five_collapsed_answers() -> None:
    text = QMD.read_text(encoding="utf-8")
    assert text.rstrip().endswith(":::")
    assert text.index("## Exercises") < text.index("## Self-check")
    assert len(re.findall(r'::: \{\.callout-note collapse="true"\}\n## Answer', self_check())) == 5
