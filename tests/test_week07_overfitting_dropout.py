"""Week 7 (posts/07-overfitting-dropout): overfitting pure noise, the train/test split, dropout.

The lecture's setup (DL2024 04wk-2): seed 5, 100 points x = linspace(0, 1), y = 0.01 * N(0, 1),
the first 80 for training and the last 20 for testing; seed 1, Linear(1, 512) -> ReLU
[-> Dropout(0.8)] -> Linear(512, 1), Adam (default lr), MSE, 1000 full-batch epochs.
The runs are repeated here with a plain loop written out (no dlbasics), with the losses
measured in eval mode every 10 epochs; dropout is checked against its definition. The
assertions are the lesson's claims (orderings, ratios, ranges), never trained digits, so
they hold on any CPU; the post states its trained numbers through inline expressions.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from post_output import animation_sizes, answers_of, printed
from torch import nn

from dlbasics.train import fit, replay

POST = "07-overfitting-dropout"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"
SIGMA2 = 1e-4


def lecture_data() -> tuple[torch.Tensor, ...]:
    torch.manual_seed(5)
    x_all = torch.linspace(0, 1, 100).reshape(100, 1)
    y_all = torch.randn(100).reshape(100, 1) * 0.01
    return x_all[:80], y_all[:80], x_all[80:], y_all[80:]


def lecture_net(dropout: float | None) -> nn.Sequential:
    torch.manual_seed(1)
    layers = [nn.Linear(1, 512), nn.ReLU()]
    if dropout is not None:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(512, 1))


def mse64(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Eval-mode MSE, computed in float64 from the network's outputs."""
    was = net.training
    net.eval()
    with torch.no_grad():
        out = net(X).double()
    net.train(was)
    return float(((out - y.double()) ** 2).mean())


def plain_run(dropout: float | None, x, y, sets, epochs: int = 1000, every: int = 10):
    """The lecture's loop; eval-mode losses on each of ``sets`` every ``every`` epochs."""
    net = lecture_net(dropout)
    optimizer = torch.optim.Adam(net.parameters())
    curves = {name: [] for name in sets}
    for epoch in range(epochs + 1):
        if epoch % every == 0:
            for name, (X, Y) in sets.items():
                curves[name].append(mse64(net, X, Y))
        if epoch == epochs:
            break
        net.train()
        loss = nn.functional.mse_loss(net(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return net, {k: np.array(v) for k, v in curves.items()}


@pytest.fixture(scope="module")
def data():
    return lecture_data()


@pytest.fixture(scope="module")
def runs(data):
    x, y, xx, yy = data
    sets = {"train": (x, y), "test": (xx, yy)}
    return {p: plain_run(p, x, y, sets) for p in (None, 0.8)}


# ----------------------------------------------------------------------------------- data


def test_data_are_pure_noise_split_80_20(data):
    x, y, xx, yy = data
    assert x.shape == (80, 1) and xx.shape == (20, 1)
    assert torch.allclose(torch.cat([x, xx]).ravel(), torch.arange(100) / 99.0, atol=1e-6)
    y_all = torch.cat([y, yy]).ravel().double().numpy()
    assert 0.007 < y_all.std() < 0.013 and abs(y_all.mean()) < 0.003
    assert float((y.double() ** 2).mean()) == pytest.approx(1.276e-4, rel=1e-3)
    assert float((yy.double() ** 2).mean()) == pytest.approx(4.283e-5, rel=1e-3)


# ---------------------------------------------------------------------------- overfitting


def test_without_dropout_training_loss_falls_below_the_noise_and_test_loss_climbs(runs, data):
    _, y, _, _ = data
    _, curves = runs[None]
    train, test = curves["train"], curves["test"]
    ideal_train = float((y.double() ** 2).mean())
    assert train[-1] < ideal_train and train[-1] < SIGMA2  # below what the true rule scores
    assert bool((np.diff(train[20:]) < 0).all()), "from epoch 200 on it keeps falling"
    best = int(test.argmin())
    assert 50 <= best * 10 <= 200  # smallest test loss early (the post: epoch 110)
    assert test[-1] > 20 * test[best] and test[-1] > 10 * SIGMA2
    assert bool((np.diff(test[30:]) > 0).all()), "from epoch 300 on it keeps climbing"


def test_the_expected_test_loss_is_sigma2_plus_the_squared_prediction():
    """E[(eps - f)^2] = sigma^2 + f^2 for noise independent of the prediction f."""
    g = torch.Generator().manual_seed(0)
    eps = torch.randn(2_000_000, generator=g, dtype=torch.float64) * 0.01
    for f in (0.0, 0.01, -0.03):
        assert float(((eps - f) ** 2).mean()) == pytest.approx(SIGMA2 + f * f, rel=0.01)


def test_dropout_narrows_the_gap(runs, data):
    _, y, _, yy = data
    plain, drop = runs[None][1], runs[0.8][1]
    ideal_train = float((y.double() ** 2).mean())
    assert drop["train"][-1] > SIGMA2  # no longer below the noise level
    assert 0.8 < drop["train"][-1] / ideal_train < 1.25  # close to what predicting 0 scores
    ideal_test = float((yy.double() ** 2).mean())
    assert drop["test"][-1] < 3 * ideal_test  # near what predicting 0 scores
    assert plain["test"][-1] / drop["test"][-1] > 10  # many times smaller than without
    gap_plain = plain["test"][-1] - plain["train"][-1]
    gap_drop = drop["test"][-1] - drop["train"][-1]
    assert abs(gap_plain) > 10 * abs(gap_drop)
    assert np.abs(drop["test"][20:] - drop["train"][20:]).max() < 1e-4  # after epoch 200


def test_fit_and_replay_reproduce_the_plain_loop(runs, data):
    """The post's recording (dlbasics.fit + replay) against the loop written out here."""
    x, y, xx, yy = data
    for p in (None, 0.8):
        net = lecture_net(p)
        history = fit(net, nn.MSELoss(), torch.optim.Adam(net.parameters()), x, y, 1000,
                      record_every=10)  # fmt: skip
        for name, (X, Y) in {"train": (x, y), "test": (xx, yy)}.items():
            got = np.array(replay(history, net, X, Y, nn.MSELoss()).loss)
            assert np.allclose(got, runs[p][1][name], rtol=1e-4, atol=1e-9)


# -------------------------------------------------------------------------------- dropout


def test_dropout_zeroes_and_rescales_in_train_mode_and_is_the_identity_in_eval_mode():
    torch.manual_seed(43052)
    u = torch.randn(1000, 4)
    for p in (0.2, 0.8, 0.9):
        d = nn.Dropout(p)
        out = d(u)
        kept = out != 0
        assert torch.allclose(out[kept], u[kept] / (1 - p), rtol=1e-6)
        assert abs(1 - float(kept.double().mean()) - p) < 0.03
        d.eval()
        assert torch.equal(d(u), u)


def test_dropout_keeps_the_mean_and_has_variance_p_over_1_minus_p():
    torch.manual_seed(0)
    u = torch.randn(10, 2)
    d = nn.Dropout(0.9)
    samples = d(u.expand(200_000, 10, 2)).double()
    u64 = u.double()
    assert torch.allclose(samples.mean(0), u64, atol=0.05)
    assert torch.allclose(samples.var(0), 9 * u64**2, rtol=0.05, atol=1e-3)


def test_train_and_eval_mode_of_a_network():
    net = lecture_net(0.8)
    X = torch.linspace(0, 1, 7).reshape(-1, 1)
    assert net.training and net[2].training
    with torch.no_grad():
        assert not torch.equal(net(X), net(X))
        net.eval()
        assert not net[2].training  # eval() reaches every layer
        expected = net[3](net[1](net[0](X)))  # the network without its dropout layer
        assert torch.equal(net(X), net(X)) and torch.allclose(net(X), expected)


def test_eval_output_is_the_average_of_train_mode_outputs():
    """Dropout sits before the last Linear layer, so eval mode = the mean over masks."""
    net = lecture_net(0.8)
    X = torch.tensor([[0.1], [0.5], [0.9]])
    with torch.no_grad():
        hidden = net[1](net[0](X))
        masks = net[2](hidden.expand(20_000, 3, 512))  # train mode: 20000 masks
        average = net[3](masks).mean(0)
        spread = float(net[3](masks).std(0).max())
        net.eval()
        eval_out = net(X)
    assert torch.allclose(average, eval_out, atol=5 * spread / 20_000**0.5)


def test_relu_commutes_with_a_dropout_mask_and_sigmoid_does_not():
    g = torch.Generator().manual_seed(1)
    u = torch.randn(500, 3, generator=g)
    c = (torch.rand(500, 3, generator=g) > 0.5) / 0.5
    assert torch.equal(torch.relu(c * u), c * torch.relu(u))
    dropped = c == 0
    assert torch.allclose(torch.sigmoid(c * u)[dropped], torch.tensor(0.5))
    assert not torch.allclose(torch.sigmoid(c * u), c * torch.sigmoid(u))


# ------------------------------------------------------------------------------ exercises


def test_exercise_1_train_mode_loss_is_only_modestly_larger(runs, data):
    x, y, _, _ = data
    net, curves = runs[0.8]
    net.train()
    with torch.no_grad():
        noisy = np.mean([float(((net(x) - y) ** 2).mean()) for _ in range(400)])
    net.eval()
    ratio = noisy / curves["train"][-1]
    assert 1.05 < ratio < 1.6


def signal_split():
    """Exercise 2's data: 0.03 sin(2 pi x) + the lecture's noise, split 60/20/20 at random."""
    torch.manual_seed(5)
    x_all = torch.linspace(0, 1, 100).reshape(100, 1)
    y_all = 0.03 * torch.sin(2 * torch.pi * x_all) + torch.randn(100).reshape(100, 1) * 0.01
    perm = torch.randperm(100, generator=torch.Generator().manual_seed(1))
    return [(x_all[i], y_all[i]) for i in (perm[:60], perm[60:80], perm[80:])]


def test_exercise_2_early_stopping_on_data_with_signal():
    """The validation curve has an interior minimum, and stopping there helps the test loss."""
    (x, y), val, test = signal_split()
    _, curves = plain_run(None, x, y, {"val": val, "test": test})
    chosen = int(curves["val"].argmin())
    assert 0 < chosen < len(curves["val"]) - 1  # an interior minimum, not epoch 0 or 1000
    assert curves["val"][0] > 5 * curves["val"][chosen]  # it fell: there was signal
    assert curves["val"][-1] > 1.2 * curves["val"][chosen]  # then rose: noise was fitted
    assert curves["test"][chosen] < curves["test"][-1]
    assert curves["test"][chosen] < 1.5 * SIGMA2  # close to the noise variance


def test_exercise_4_the_constant_predictor(runs, data):
    _, y, _, yy = data
    ybar = float(y.double().mean())
    constant = float(((yy.double() - ybar) ** 2).mean())
    assert constant == pytest.approx(4.52e-5, rel=0.01)  # fixed-seed data, no training
    assert constant < runs[0.8][1]["test"][-1] < 3 * constant


def test_exercise_4_a_random_split_overfits_far_less(data):
    torch.manual_seed(5)
    x_all = torch.linspace(0, 1, 100).reshape(100, 1)
    y_all = torch.randn(100).reshape(100, 1) * 0.01
    perm = torch.randperm(100, generator=torch.Generator().manual_seed(0))
    train, test = perm[:80], perm[80:]
    _, curves = plain_run(
        None,
        x_all[train],
        y_all[train],
        {"train": (x_all[train], y_all[train]), "test": (x_all[test], y_all[test])},
        every=1000,
    )
    assert curves["train"][-1] < SIGMA2 < curves["test"][-1] < 3 * SIGMA2
    assert curves["test"][-1] > curves["train"][-1]


# ------------------------------------------------------------------------- the executed post


@pytest.mark.slow
def test_executed_post_shows_the_promised_numbers(executed_post):
    nb = executed_post(POST)
    shown, anims = printed(nb), animation_sizes(nb)
    # fixed-seed data (another CPU's randn may differ in the last digit)
    ideal = re.findall(r"\d+ points, mean of y\^2 = (\S+)", shown)
    assert [float(v) for v in ideal] == pytest.approx([1.276e-4, 4.283e-5], rel=1e-3)

    def losses(name: str, epoch: int) -> tuple[float, float]:
        found = re.search(rf"{name}, epoch +{epoch}: training loss (\S+) +test loss (\S+)", shown)
        return float(found[1]), float(found[2])

    train_end, test_end = losses("no dropout", 1000)
    best = re.search(r"no dropout: smallest test loss (\S+) at epoch (\d+)", shown)
    assert train_end < 1.276e-4 and test_end > 20 * float(best[1])
    assert 50 <= int(best[2]) <= 200
    drop_train, drop_test = losses("dropout 0.8", 1000)
    assert drop_train > SIGMA2 and test_end > 10 * drop_test
    gaps = [float(g) for g in re.findall(r"gap test - training (\S+)", shown)]
    assert len(gaps) == 2 and abs(gaps[0]) > 10 * abs(gaps[1])
    # the dropout layer: survivors are 10 times their input, eval mode is the identity
    block = shown.split("training mode: True", 1)[1].split("evaluation mode", 1)[0]
    num = r"\s*(-?[0-9.]+(?:e[+-]?\d+)?)"
    rows = re.findall(rf"\[{num},{num},{num},{num}\]", block)
    assert len(rows) == 10
    for row in rows:
        u1, u2, d1, d2 = (float(v) for v in row)
        for u, out in ((u1, d1), (u2, d2)):
            assert out == 0 or out == pytest.approx(10 * u, abs=2e-3)
    assert "evaluation mode, d(u) equals u: True" in shown
    two = re.search(r"two calls in training mode: tensor\((.*?)\) tensor\((.*?)\)", shown)
    assert two[1] != two[2]
    two = re.search(r"two calls in eval mode: +tensor\((.*?)\) tensor\((.*?)\)", shown)
    assert two[1] == two[2]
    ratio = float(re.search(r"\(([0-9.]+) times larger\)", shown)[1])
    assert 1.05 < ratio < 1.6  # only modestly larger
    # exercise 2: an interior minimum of the validation loss, and it helps the test loss
    val = re.search(
        r"validation loss: epoch 0 (\S+), epoch (\d+) (\S+) \(smallest\), epoch 1000 (\S+)", shown
    )
    assert 0 < int(val[2]) < 1000 and float(val[1]) > float(val[3]) < float(val[4])
    test_es = re.search(r"test loss at epoch \d+: (\S+);   at epoch 1000: (\S+)", shown)
    assert float(test_es[1]) < float(test_es[2])
    assert "relu(drop(u)) == drop(relu(u)): True" in shown
    assert "sig(drop(u)) == drop(sig(u)):   False" in shown
    var = float(re.search(r"variance / u\^2, averaged over entries: ([0-9.]+)", shown)[1])
    assert var == pytest.approx(9, rel=0.05)
    const = re.search(
        r"test loss: constant ybar (\S+), +dropout net (\S+), +no dropout (\S+)", shown
    )
    assert float(const[1]) < float(const[2]) < 3 * float(const[1]) < float(const[3])
    found = re.search(r"random split, .*: training loss ([0-9.e-]+), +test loss ([0-9.e-]+)", shown)
    train_r, test_r = float(found[1]), float(found[2])
    assert train_r < SIGMA2 < test_r < 3 * SIGMA2
    assert len(anims) == 2 and all(size < 300_000 for size in anims)


def test_post_date_source_and_held_out_animations() -> None:
    text = QMD.read_text(encoding="utf-8")
    assert re.search(r"^date: 2026-10-19$", text, re.M)
    assert "guebin.github.io/DL2024/posts/04wk-2.html" in text
    assert text.count("test=(xx, yy, ") >= 2  # both animations show the held-out points


def test_post_wording_on_masks_and_input_dropout_and_its_loop() -> None:
    text = QMD.read_text(encoding="utf-8")
    for wrong in (
        "each update trains a",
        "Each update trains a random",
        "a random sub-network at each call",
        "never the input",
        "a bit less on the test",
        "torch.set_num_threads",
        "picks epoch 0",
    ):
        assert wrong not in text, wrong
    assert "new mask for every example" in text and "Hinton et al. (2012)" in text
    for step in ("loss.backward()", "optimizer.step()", "optimizer.zero_grad()", "net.eval()"):
        assert step in text


# ------------------------------------------------------------------------------ self-check


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_what_torch_computes():
    answers = self_check_answers()
    assert len(answers) == 5

    # 1. Dropout(0.5) on ones: only 0 and 2 in training mode, ones in eval mode
    torch.manual_seed(0)
    d = nn.Dropout(p=0.5)
    values = set(d(torch.ones(400, 3)).unique().tolist())
    assert values == {0.0, 2.0}
    d.eval()
    assert torch.equal(d(torch.ones(4, 3)), torch.ones(4, 3))
    assert answers[0].startswith(
        "Only `0.` and `2.`; in evaluation mode a `(4, 3)` tensor of ones."
    )

    # 2. one mask entry per element, a new mask per call, different rows differ
    h = torch.ones(80, 512)
    drop = nn.Dropout(0.8)
    first, second = drop(h) != 0, drop(h) != 0
    assert first.numel() == 80 * 512 == 40960
    assert not torch.equal(first, second)
    assert len({tuple(row.tolist()) for row in first}) == 80  # every example its own mask
    assert answers[1].startswith("$80 \\cdot 512 = 40960$ decisions, and no")

    # 3. forgetting eval(): scores differ from call to call; eval() makes them agree
    net = lecture_net(0.8)
    xx, yy = torch.linspace(0.8, 1, 20).reshape(-1, 1), torch.zeros(20, 1)
    with torch.no_grad():
        a, b = nn.functional.mse_loss(net(xx), yy), nn.functional.mse_loss(net(xx), yy)
        assert a != b
        net.eval()
        assert nn.functional.mse_loss(net(xx), yy) == nn.functional.mse_loss(net(xx), yy)
    assert "Call `net.eval()` before scoring" in answers[2]

    # 4. read the figure: checked against the runs in the overfitting tests above
    assert answers[3].startswith("Overfitting:") and "validation set" in answers[3]

    # 5. p = 0.5, u = 2: the two-point distribution, exactly
    p, u = 0.5, 2.0
    mean = (1 - p) * u / (1 - p)
    var = (1 - p) * (u / (1 - p)) ** 2 - mean**2
    assert (mean, var) == (2.0, 4.0) and var == p / (1 - p) * u**2
    assert answers[4].startswith("Mean 2, variance 4.")
