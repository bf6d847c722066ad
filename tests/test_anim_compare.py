"""dlbasics.anim: two runs in one animation (``history={name: run, name: run}``), as Week 8 uses it.

Full-batch gradient descent (one update per epoch) against mini-batch SGD (32 updates per
epoch) on the same data and loss surface, both started from the same parameters.
"""

from __future__ import annotations

import contextlib
import math
import re

import numpy as np
import pytest
import torch
from test_anim import frame_data, path_numbers
from test_browser import OfflinePage, page_html

from dlbasics.anim import SECOND_COLOR, animate_training, frame_indices
from dlbasics.surface import loss_surface
from dlbasics.train import History

# the browser fixture: in test_browser.py, or in conftest.py (then nothing to import)
with contextlib.suppress(ImportError):
    from test_browser import browser  # noqa: F401

N, EPOCHS, BATCH = 320, 10, 10  # 32 mini-batches per epoch


def _run(batch_size: int) -> History:
    """SGD on y = 2x + noise from a fixed start, recorded after every update."""
    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(-1, 1, N).reshape(-1, 1)
    y = 2 * x + 0.3 * torch.randn(N, 1, generator=gen)
    net = torch.nn.Linear(1, 1)
    with torch.no_grad():
        net.weight.fill_(-0.5)
        net.bias.fill_(1.0)
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.3)
    history = History(lr=0.3)
    updates = 0

    def record() -> None:
        with torch.no_grad():
            yhat = net(x)
            history.record(updates, loss_fn(yhat, y), yhat, dict(net.named_parameters()))

    record()
    order = torch.Generator().manual_seed(1)
    for _ in range(EPOCHS):
        perm = torch.randperm(N, generator=order)
        for start in range(0, N, batch_size):
            rows = perm[start : start + batch_size]
            loss = loss_fn(net(x[rows]), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            updates += 1
            record()
    return history


@pytest.fixture(scope="module")
def runs():
    x = torch.linspace(-1, 1, N).reshape(-1, 1)
    gen = torch.Generator().manual_seed(0)
    y = 2 * x + 0.3 * torch.randn(N, 1, generator=gen)
    surface = loss_surface(
        x, y, torch.linspace(-0.5, 1.5, 30), torch.linspace(-1, 3, 30), loss="mse"
    )
    return x, y, surface, _run(N), _run(BATCH)


@pytest.fixture(scope="module")
def two(runs):
    x, y, surface, gd, sgd = runs
    return animate_training(
        {"full batch": gd, "batch 10": sgd}, x, y, surface, step_name="update",
        frames=EPOCHS + 1,
    )  # fmt: skip


def test_each_run_is_replayed_over_its_own_records(runs, two) -> None:
    _, _, _, gd, sgd = runs
    assert len(gd) == EPOCHS + 1 and len(sgd) == EPOCHS * N // BATCH + 1
    data = frame_data(two.html)
    assert len(data["frames"]) == EPOCHS + 1 and len(data["more"]) == 1
    for k, row in enumerate(data["frames"]):
        # frame k is epoch k of both runs: update k of one, update 32 k of the other
        shown = re.fullmatch(
            r"full batch, update (\d+): loss = (\S+) \| batch 10, update (\d+): loss = (\S+)",
            row[0],
        )
        assert shown, row[0]
        assert int(shown.group(1)) == k and int(shown.group(3)) == k * N // BATCH
        assert math.isclose(float(shown.group(2)), gd.loss[k], rel_tol=1e-3)
        assert math.isclose(float(shown.group(4)), sgd.loss[k * N // BATCH], rel_tol=1e-3)


def test_second_run_has_its_own_fit_path_and_point(runs, two) -> None:
    data = frame_data(two.html)
    more = data["more"][0]
    assert more["color"] == SECOND_COLOR
    assert len(more["frames"]) == len(data["frames"])
    # same start: both paths begin at the same pixel; different ends
    first = [p for p in data["path"] if p][0]
    assert [p for p in more["path"] if p][0] == first
    assert more["path"][more["frames"][-1][1]] != data["path"][data["frames"][-1][2]]
    # the markup draws the last frame of both runs, the second inside g.dla-more
    group = re.search(r'<g class="dla-more">(.*?)</g>', two.html, re.S).group(1)
    assert group.count('class="dla-path"') == 2 and 'class="dla-now"' in group
    assert f'stroke="{SECOND_COLOR}"' in group
    end = more["path"][more["frames"][-1][1]]
    assert f'cx="{end[0]}" cy="{end[1]}"' in group
    last_fit = path_numbers(more["frames"][-1][0])
    assert len(last_fit) >= 2 and not np.array_equal(last_fit, path_numbers(data["frames"][-1][1]))
    assert "full batch and batch 10" in two.label and "the paths of (w0, w1)" in two.label


def test_comparing_a_run_with_itself_repeats_it_exactly(runs) -> None:
    x, y, surface, gd, _ = runs
    a = animate_training({"a": gd, "b": gd}, x, y, surface, frames=6)
    data = frame_data(a.html)
    more = data["more"][0]
    assert more["path"] == data["path"]
    assert more["frames"] == [row[1:] for row in data["frames"]]


def test_frames_follow_the_shorter_run(runs) -> None:
    x, y, surface, gd, sgd = runs
    a = animate_training({"run 1": sgd, "run 2": gd}, x, y, surface, frames=5, step_name="update")
    data = frame_data(a.html)
    expect = [sgd.epoch[i] for i in frame_indices(len(sgd), 5)]
    got = [int(re.search(r"run 1, update (\d+):", row[0]).group(1)) for row in data["frames"]]
    assert got == expect
    # the run that is too short is the one named (it used to blame "the history")
    message = r"frames must be <= the records of history\['b'\], got frames=12 but .* has 11"
    with pytest.raises(ValueError, match=message):
        animate_training({"a": sgd, "b": gd}, x, y, surface, frames=12)


def test_single_run_output_is_unchanged_by_the_new_options(runs) -> None:
    x, y, surface, gd, _ = runs
    data = frame_data(animate_training(gd, x, y, surface, frames=3).html)
    assert data["more"] == [] and data["frames"][0][0].startswith("epoch 0:")
    named = animate_training(gd, x, y, surface, frames=3, step_name="update")
    assert frame_data(named.html)["frames"][-1][0].startswith(f"update {EPOCHS}:")
    assert "dla-more" not in named.html.split("<script")[0]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"b": "run"}, TypeError, r"history\['b'\] must be a dlbasics.train.History, got str"),
        ({"b": History()}, ValueError, r"history\['b'\] is empty"),
        ({"c": None}, ValueError, r"dict of two runs .* got a dict with keys \['a', 'b', 'c'\]"),
        ({"": None}, ValueError, "non-empty string names"),
        ({"step_name": ""}, ValueError, "step_name must be a non-empty string"),
        ({"step_name": 3}, TypeError, "step_name must be a string, got int"),
    ],
)
def test_bad_compare_input_names_the_argument(runs, change, error, message) -> None:
    x, y, surface, gd, sgd = runs
    runs = {"a": gd, "b": sgd}
    options = {"frames": 3}
    for key, value in change.items():
        (options if key == "step_name" else runs)[key] = value
    if "" in runs:
        runs = {"a": gd, "": sgd}
    with pytest.raises(error, match=message):
        animate_training(runs, x, y, surface, **options)


def test_compare_must_train_the_same_model(runs) -> None:
    x, y, surface, gd, _ = runs
    other = History()
    other.record(0, 1.0, torch.zeros(N), {"W": torch.zeros(2)})
    other.record(1, 1.0, torch.zeros(N), {"W": torch.zeros(2)})
    with pytest.raises(ValueError, match="same model"):
        animate_training({"gd": gd, "other": other}, x, y, surface, frames=2)


def test_two_runs_without_a_surface(runs) -> None:
    """Misuse 1: two runs and no surface used to raise a TypeError inside the player."""
    x, y, _, gd, sgd = runs
    a = animate_training({"gd": gd, "sgd": sgd}, x, y, frames=4)
    data = frame_data(a.html)
    assert data["path"] == [] and data["more"][0]["path"] == []
    assert len(data["more"][0]["frames"]) == 4
    group = re.search(r'<g class="dla-more">(.*?)</g>', a.html, re.S).group(1)
    assert 'class="dla-fit"' in group and 'class="dla-path"' not in group


@pytest.mark.slow
def test_player_moves_both_runs_in_a_browser(browser, two, tmp_path) -> None:  # noqa: F811
    page_file = tmp_path / "two.html"
    page_file.write_text(page_html(two.html), encoding="utf-8")
    view = OfflinePage(browser)
    try:
        view.open(page_file)
        fig = view.page.locator("figure.dlbasics-anim")
        second = fig.locator("g.dla-more path.dla-path").first
        now = fig.locator("g.dla-more circle.dla-now").first  # the player may copy the overlay
        data = frame_data(two.html)["more"][0]
        fig.locator(".dla-first").click()
        start = [p for p in data["path"] if p][0]
        assert second.get_attribute("d") == f"M{start[0]},{start[1]}"
        fig.locator(".dla-last").click()
        assert len(path_numbers(second.get_attribute("d"))) > 100  # the mini-batch path
        end = data["path"][data["frames"][-1][1]]
        assert float(now.get_attribute("cx")) == end[0]
        # the first run's path is not overwritten by the second's
        first_run = fig.locator("svg.dla-overlay > path.dla-path").first
        assert len(path_numbers(first_run.get_attribute("d"))) == EPOCHS + 1
        assert view.errors == [] and view.blocked == []
    finally:
        view.close()
