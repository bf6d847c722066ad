"""train.replay (every recorded state evaluated in eval mode on new data) and the held-out
test points of anim.animate_training (Week 7)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from torch import nn

from dlbasics.anim import animate_training, frame_indices
from dlbasics.train import History, fit, replay


def _data() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    x_all = torch.linspace(0, 1, 30).reshape(-1, 1)
    y_all = torch.randn(30, 1, generator=g) * 0.1
    return x_all[:24], y_all[:24], x_all[24:], y_all[24:]


def _run(dropout: float = 0.5, epochs: int = 20) -> tuple[nn.Module, History]:
    x, y, _, _ = _data()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 1))
    history = fit(net, nn.MSELoss(), torch.optim.Adam(net.parameters(), lr=0.01), x, y, epochs)
    return net, history


def _eval_by_hand(params: dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """The net written out (dropout is the identity in eval mode), in float64."""
    p = {k: v.double() for k, v in params.items()}
    hidden = torch.relu(X.double() @ p["0.weight"].T + p["0.bias"])
    return hidden @ p["3.weight"].T + p["3.bias"]


# ---------------------------------------------------------------------------------- replay


def test_replay_evaluates_each_record_in_eval_mode_against_the_net_written_out() -> None:
    _, _, xx, yy = _data()
    net, history = _run()
    test = replay(history, net, xx, yy, nn.MSELoss())
    assert test.epoch == history.epoch and len(test) == 21
    for k in (0, 7, 20):
        expected = _eval_by_hand(history.params[k], xx)
        assert torch.allclose(test.yhat[k].double(), expected, atol=1e-6)
        mse = float(((expected - yy.double()) ** 2).mean())
        assert test.loss[k] == pytest.approx(mse, rel=1e-5)
        for name, value in history.params[k].items():
            assert torch.equal(test.params[k][name], value)


def test_replay_is_deterministic_and_leaves_the_net_alone() -> None:
    x, y, _, _ = _data()
    net, history = _run()
    before = {k: v.detach().clone() for k, v in net.state_dict().items()}
    assert net.training
    first = replay(history, net, x, y, nn.MSELoss())
    second = replay(history, net, x, y, nn.MSELoss())
    assert first.loss == second.loss  # no dropout noise
    assert net.training, "the net's train/eval mode must be restored"
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k])
    net.eval()
    replay(history, net, x, y, nn.MSELoss())
    assert not net.training


def test_replay_of_the_training_data_differs_from_fits_train_mode_losses() -> None:
    """fit records train-mode losses (dropout on); replay's are eval-mode ones."""
    x, y, _, _ = _data()
    net, history = _run(dropout=0.5)
    evaluated = replay(history, net, x, y, nn.MSELoss())
    assert evaluated.loss[5:] != history.loss[5:]
    expected = float(((_eval_by_hand(history.params[-1], x) - y.double()) ** 2).mean())
    assert evaluated.loss[-1] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    "change, error, words",
    [
        (dict(history="run"), TypeError, "history must be a dlbasics.train.History"),
        (dict(history=History()), ValueError, "history is empty"),
        (dict(net="net"), TypeError, "net must be a torch.nn.Module"),
        (dict(net=nn.Linear(1, 1)), ValueError, "replay a run with the net it trained"),
        (dict(X=torch.zeros(6)), ValueError, "X"),
        (dict(y=torch.zeros(5, 1)), ValueError, "rows"),
        (dict(y=torch.zeros(6, 2)), ValueError, r"has shape \(6, 1\) but y has shape \(6, 2\)"),
        (dict(loss_fn="mse"), TypeError, "loss_fn must be callable"),
    ],
)
def test_replay_rejects_bad_input(change, error, words) -> None:
    net, history = _run(epochs=2)
    args = dict(history=history, net=net, X=torch.zeros(6, 1), y=torch.zeros(6, 1))
    args["loss_fn"] = nn.MSELoss()
    args.update(change)
    with pytest.raises(error, match=words):
        replay(**args)


# -------------------------------------------------------------------- test points in anim


@pytest.fixture(scope="module")
def heldout():
    x, y, xx, yy = _data()
    net, history = _run()
    train = replay(history, net, x, y, nn.MSELoss())
    test = replay(history, net, xx, yy, nn.MSELoss())
    return x, y, xx, yy, train, test


def _frames(anim) -> list:
    payload = re.search(r'<script type="application/json" class="dla-data">(.*?)</script>',
                        anim.html, re.S)[1]  # fmt: skip
    return json.loads(payload)["frames"]


def test_status_line_shows_training_and_test_loss(heldout) -> None:
    x, y, xx, yy, train, test = heldout
    anim = animate_training(train, x, y, test=(xx, yy, test), frames=6)
    rows = _frames(anim)
    for row, r in zip(rows, frame_indices(len(train), 6).tolist(), strict=True):
        assert f"training loss = {train.loss[r]:.4g}" in row[0]
        assert f"test loss = {test.loss[r]:.4g}" in row[0]
    assert "held-out test points" in anim.label


def _x_extent(d: str) -> tuple[float, float]:
    xs = [float(v) for v in re.findall(r"([-0-9.]+),[-0-9.]+", d)]
    return min(xs), max(xs)


def test_fitted_curve_runs_on_through_the_test_inputs(heldout) -> None:
    x, y, xx, yy, train, test = heldout
    with_curve = _frames(animate_training(train, x, y, test=(xx, yy, test), frames=3))
    points_only = _frames(animate_training(train, x, y, test=(xx, yy), frames=3))
    for a, b in zip(with_curve, points_only, strict=True):
        lo_a, hi_a = _x_extent(a[1])
        lo_b, hi_b = _x_extent(b[1])
        assert lo_a == pytest.approx(lo_b, abs=0.2)
        # the test x lie to the right: the curve reaches about 6/30 of the axis further
        assert hi_a > hi_b + 20
    assert "test loss" not in points_only[0][0]


def test_test_points_change_the_picture_and_its_x_range(heldout) -> None:
    x, y, xx, yy, train, _ = heldout
    plain = animate_training(train, x, y, frames=2)
    with_test = animate_training(train, x, y, test=(xx, yy), frames=2)
    img = re.compile(r'src="data:image/jpeg;base64,([^"]+)"')
    assert img.search(plain.html)[1] != img.search(with_test.html)[1]
    # the training curve ends before the right edge once the axis makes room for the test x
    assert _x_extent(_frames(with_test)[-1][1])[1] < _x_extent(_frames(plain)[-1][1])[1] - 20


@pytest.mark.parametrize(
    "make_test, error, words",
    [  # make_test(xx, yy, test_history) -> the test= argument
        (lambda xx, yy, h: xx, TypeError, r"test must be \(x_test, y_test\) .*got Tensor"),
        (lambda xx, yy, h: (xx, yy, h, h), TypeError, "got tuple of 4 items"),
        (lambda xx, yy, h: (xx, yy[:-1]), ValueError, "same length"),
        (lambda xx, yy, h: (xx.reshape(1, -1), yy), ValueError, "test x must have shape"),
        (lambda xx, yy, h: (xx * float("nan"), yy), ValueError, "finite"),
        (lambda xx, yy, h: (xx, yy, "test"), TypeError, "test_history must be a dlbasics.train"),
        (lambda xx, yy, h: (xx, yy, History(epoch=[0])), ValueError, "same epochs as history"),
        (lambda xx, yy, h: (xx[:4], yy[:4], h), ValueError, r"test_history.yhat\[0\] has"),
    ],
)
def test_test_arguments_are_checked(heldout, make_test, error, words) -> None:
    x, y, xx, yy, train, test = heldout
    with pytest.raises(error, match=words):
        animate_training(train, x, y, test=make_test(xx, yy, test), frames=2)


def test_test_points_and_compare_do_not_mix(heldout) -> None:
    x, y, xx, yy, train, test = heldout
    with pytest.raises(ValueError, match="cannot be combined with two runs"):
        animate_training({"a": train, "b": train}, x, y, test=(xx, yy, test), frames=2)


def test_held_out_animation_is_light(heldout) -> None:
    x, y, xx, yy, train, test = heldout
    anim = animate_training(train, x, y, test=(xx, yy, test), frames=21)
    assert anim.n_frames == 21 and anim.nbytes < 150_000
    assert np.isfinite(test.loss).all()
