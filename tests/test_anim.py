"""dlbasics.anim: frame counts, size, no outside URLs, diverged runs, accessibility, bad input."""

from __future__ import annotations

import html as htmlmod
import io
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

from dlbasics.anim import PLAYER_CLASS, Animation, Style, animate_training, frame_indices
from dlbasics.anim.geometry import clip_polyline, clip_segment
from dlbasics.anim.player import md_text
from dlbasics.anim.scene import FitPanel, SurfacePanel, draw_scene
from dlbasics.data import logistic_toy, regression_data
from dlbasics.surface import loss_at, loss_surface
from dlbasics.train import History, fit, gradient_descent

MAX_SIZE = 300_000
W_START = torch.tensor([-5.0, 10.0])
MARKERS = {"true (2.5, 4)": (2.5, 4.0), "least squares": (2.43, 4.01)}


# ---------------------------------------------------------------------------- helpers


def frame_data(html: str) -> dict:
    """The player's JSON payload (frames, path, label) from an animation's HTML."""
    match = re.search(
        r'<script type="application/json" class="dla-data">(.*?)</script>', html, re.S
    )
    assert match, "no frame data in the HTML"
    assert "<" not in match.group(1)
    return json.loads(match.group(1))


def image_size(html: str) -> tuple[int, int]:
    match = re.search(r'src="data:image/jpeg;base64,([^"]+)"', html)
    assert match, "no inline JPEG background"
    img = Image.open(io.BytesIO(__import__("base64").b64decode(match.group(1))))
    return img.size


def path_numbers(d: str) -> np.ndarray:
    """All (x, y) pairs of an SVG path string made of M/L/h commands, shape (k, 2)."""
    pairs = re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)
    return np.array(pairs, dtype=float).reshape(-1, 2)


EXTERNAL = [
    re.compile(r"https?://", re.I),
    re.compile(r"""(?:src|href|action|poster)\s*=\s*["']?\s*//""", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"""url\(\s*["']?(?!data:|#)""", re.I),
    re.compile(r"""(?:src|href)\s*=\s*["'](?!data:|#)""", re.I),
]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def week1():
    """Week 1's data, SSE surface and a 30-update gradient-descent run (31 records)."""
    X, y = regression_data()
    x = X[:, 1]
    grid0, grid1 = torch.linspace(-8, 10, 40), torch.linspace(-6, 14, 40)
    surface = loss_surface(x, y, grid0, grid1, model="linear", loss="sse")
    history = gradient_descent(W_START, X, y, lr=0.001, epochs=30)
    return X, x, y, surface, history


@pytest.fixture(scope="module")
def week1_anim(week1) -> Animation:
    X, x, y, surface, history = week1
    return animate_training(
        history, x, y, surface, truth=2.5 + 4 * x, markers=MARKERS, frames=30, title="lr = 0.001"
    )


@pytest.fixture(scope="module")
def week3():
    """A Week 4-style logistic run: Sequential(Linear(1, 1), Sigmoid()) by SGD on BCE."""
    x, y, prob = logistic_toy()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    with torch.no_grad():
        net[0].weight.fill_(-5.0)
        net[0].bias.fill_(10.0)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    history = fit(net, torch.nn.BCELoss(), opt, x, y, epochs=300, record_every=5)
    grid = torch.linspace(-10, 10, 40)
    surface = loss_surface(x, y, grid, grid, model="logistic", loss="bce")
    return x, y, prob, surface, history


@pytest.fixture(scope="module")
def week3_anim(week3) -> Animation:
    x, y, prob, surface, history = week3
    return animate_training(
        history, x, y, surface, truth=prob, param_names=["0.bias", "0.weight"],
        markers={"true (-1, 5)": (-1.0, 5.0)}, frames=30,
    )  # fmt: skip


# ------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("frames", [2, 7, 31])
def test_html_holds_exactly_the_requested_frames(week1, frames: int) -> None:
    X, x, y, surface, history = week1
    a = animate_training(history, x, y, frames=frames)
    data = frame_data(a.html)
    assert a.n_frames == frames
    assert len(data["frames"]) == frames
    assert f'data-frames="{frames}"' in a.html
    assert f'max="{frames - 1}"' in a.html  # the slider spans every frame
    # first and last records are always frames
    assert data["frames"][0][0].startswith("epoch 0:")
    assert data["frames"][-1][0].startswith(f"epoch {history.epoch[-1]}:")


def test_thirty_frame_surface_animation(week1_anim: Animation, week1) -> None:
    history = week1[-1]
    data = frame_data(week1_anim.html)
    assert len(data["frames"]) == 30
    epochs = [int(re.search(r"epoch (\d+):", f[0]).group(1)) for f in data["frames"]]
    assert len(set(epochs)) == 30 and epochs == sorted(epochs)
    assert epochs[0] == 0 and epochs[-1] == history.epoch[-1]
    # each frame points at the path point of its own record
    assert [f[2] for f in data["frames"]] == [history.epoch.index(e) for e in epochs]


def test_frames_are_spread_evenly() -> None:
    for n_records, frames in [(31, 30), (301, 30), (1000, 7), (5, 5)]:
        idx = frame_indices(n_records, frames)
        assert len(idx) == frames and idx[0] == 0 and idx[-1] == n_records - 1
        steps = np.diff(idx)
        assert steps.min() >= 1
        assert steps.max() - steps.min() <= 1


@pytest.mark.parametrize(
    ("args", "err", "match"),
    [
        ((5, 0), ValueError, "frames must be >= 2, got 0"),
        ((5, 1), ValueError, "frames must be >= 2, got 1"),
        ((0, 2), ValueError, "n_records must be >= 1, got 0"),
        ((5, 2.0), TypeError, "frames must be an int"),
        ((3, 4), ValueError, "frames must be <= the number of records, got frames=4 for 3"),
    ],
)
def test_frame_indices_bad_input(args, err, match) -> None:
    with pytest.raises(err, match=match):
        frame_indices(*args)


def _history_with_losses(losses, x) -> History:
    h = History()
    for k, value in enumerate(losses):
        h.record(k, value, torch.zeros_like(x), {"W": torch.zeros(2)})
    return h


def test_diverging_is_said_only_of_runs_that_end_above_their_start(week1) -> None:
    """An optimizer that climbs for a while and comes back down (Adam) is not diverging."""
    X, x, y, surface, _ = week1
    for losses, expected in [
        ([1.0, 1.5, 2.0, 0.8, 0.5], [False] * 5),
        ([1.0, 0.5, 2.0, 3.0, 4.0], [False, False, True, True, True]),
        ([1.0, 2.0, 0.5, 3.0, float("inf")], [False, True, False, True, False]),
    ]:
        a = animate_training(_history_with_losses(losses, x), x, y, frames=5)
        texts = [f[0] for f in frame_data(a.html)["frames"]]
        assert ["diverging" in t for t in texts] == expected, texts


def test_too_short_history_raises(week1) -> None:
    X, x, y, surface, _ = week1
    short = gradient_descent(W_START, X, y, lr=0.001, epochs=10)  # 11 records
    with pytest.raises(
        ValueError,
        match=r"frames must be <= the records of history, got frames=30 but history has 11",
    ):
        animate_training(short, x, y, surface, frames=30)


def test_week1_animation_is_small(week1_anim: Animation) -> None:
    assert week1_anim.nbytes == len(week1_anim.html.encode("utf-8"))
    assert week1_anim.nbytes <= MAX_SIZE, f"{week1_anim.nbytes:,} bytes"


def test_week3_animation_is_small(week3_anim: Animation) -> None:
    assert len(frame_data(week3_anim.html)["frames"]) == 30
    assert week3_anim.nbytes <= MAX_SIZE, f"{week3_anim.nbytes:,} bytes"


def test_background_is_legible_size(week1_anim: Animation) -> None:
    """The static image is a real figure, at least 700 px wide (not shrunk to save bytes)."""
    width, height = image_size(week1_anim.html)
    assert width >= 700 and height >= 250


def test_no_external_url(week1_anim: Animation, week3_anim: Animation) -> None:
    for a in (week1_anim, week3_anim):
        for pattern in EXTERNAL:
            hit = pattern.search(a.html)
            assert hit is None, (
                f"{pattern.pattern!r} matches {a.html[hit.start() - 40 : hit.end() + 40]!r}"
            )


def test_max_bytes_guard(week1) -> None:
    X, x, y, surface, history = week1
    with pytest.raises(ValueError, match=r"more than max_bytes=20,000.*dpi"):
        animate_training(history, x, y, surface, style=Style(max_bytes=20_000))


def _assert_overlay_inside_image(a: Animation) -> None:
    width, height = image_size(a.html)
    data = frame_data(a.html)
    points = [path_numbers(f[1]) for f in data["frames"]]
    points.append(np.array([p[:2] for p in data["path"] if p], dtype=float).reshape(-1, 2))
    every = np.concatenate(points)
    assert np.isfinite(every).all()
    assert every[:, 0].min() >= 0 and every[:, 0].max() <= width
    assert every[:, 1].min() >= 0 and every[:, 1].max() <= height


def test_diverged_to_inf_renders_and_says_so(week1) -> None:
    X, x, y, surface, _ = week1
    history = gradient_descent(W_START, X, y, lr=0.05, epochs=30)
    assert history.diverged and not np.isfinite(history.loss[-1])
    a = animate_training(history, x, y, surface, frames=len(history), markers=MARKERS)
    last = frame_data(a.html)["frames"][-1][0]
    assert f"loss = inf: diverged at epoch {history.epoch[-1]}" in last
    assert "off the chart" in last
    _assert_overlay_inside_image(a)


def test_huge_losses_render_and_say_diverging(week1) -> None:
    X, x, y, surface, _ = week1
    history = gradient_descent(W_START, X, y, lr=0.01, epochs=30)
    assert history.loss[-1] > 1e6 * history.loss[0] and not history.diverged
    a = animate_training(history, x, y, surface, frames=30)
    frames = frame_data(a.html)["frames"]
    assert "diverging" in frames[-1][0]
    assert "diverging" not in frames[0][0]
    _assert_overlay_inside_image(a)


def test_fit_overlay_stays_in_the_data_axes(week1) -> None:
    """A fitted line far outside the y-range is clipped to the left axes, not drawn across."""
    X, x, y, surface, _ = week1
    history = gradient_descent(W_START, X, y, lr=0.05, epochs=30)
    a = animate_training(history, x, y, surface, frames=len(history))
    width, _ = image_size(a.html)
    for f in frame_data(a.html)["frames"]:
        pts = path_numbers(f[1])
        assert pts.size == 0 or pts[:, 0].max() < width / 2  # left panel only


def test_figure_is_not_left_open(week1) -> None:
    X, x, y, surface, history = week1
    before = plt.get_fignums()
    animate_training(history, x, y, surface, frames=5)
    assert plt.get_fignums() == before


def test_accessibility(week1) -> None:
    X, x, y, surface, history = week1
    label = 'Line & path <of> "W"'
    a = animate_training(history, x, y, surface, frames=5, label=label)
    esc = htmlmod.escape(label)
    assert a.label == label
    caption = re.search(r"<figcaption>(.*?)</figcaption>", a.html)[1]  # Markdown-safe text
    assert htmlmod.unescape(caption) == label and "<" not in caption
    assert re.search(r'role="img" aria-label="' + re.escape(esc), a.html)
    assert f'alt="{esc}"' in a.html
    for name in ("First frame", "Previous frame", "Play", "Next frame", "Last frame", "Frame"):
        assert f'aria-label="{name}"' in a.html
    # without JS: no dead controls, and the overlay in the markup is the last frame
    assert '<div class="dla-controls" hidden>' in a.html
    last = frame_data(a.html)["frames"][-1]
    assert f'class="dla-fit" d="{last[1]}"' in a.html


def test_markup_in_title_cannot_break_the_page(week1) -> None:
    X, x, y, surface, history = week1
    title = "</script><!-- <b>lr</b>"
    a = animate_training(history, x, y, frames=3, title=title)
    assert a.html.count("</script>") == 2  # the data block and the player, nothing else
    assert "<!--" not in a.html
    assert frame_data(a.html)["frames"][0][0].startswith(title + " | epoch 0:")
    assert htmlmod.escape(title) in a.html  # the JS-off status line shows it as text


def test_default_label_describes_the_run(week1) -> None:
    X, x, y, surface, history = week1
    a = animate_training(history, x, y, surface, frames=4)
    assert "lr = 0.001" in a.label and "SSE" in a.label and "4 frames" in a.label


QUARTO_KERNEL_ENV = {  # what Quarto 1.10 set in the kernel of a real render (checked)
    "QUARTO_DOCUMENT_PATH": "/site/posts/01",
    "QUARTO_EXECUTE_INFO": "/tmp/quarto-execute-info.json",
    "QUARTO_PROJECT_ROOT": "/site",
}


def _display(anim: Animation, monkeypatch, environ: dict[str, str]) -> dict[str, str]:
    """What IPython's display machinery sends for ``anim`` with only ``environ``'s QUARTO_*."""
    from IPython.core.formatters import DisplayFormatter

    for name in QUARTO_KERNEL_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    bundle, _ = DisplayFormatter().format(anim)
    return bundle


def test_display_inside_a_quarto_render_is_markdown_only(week1_anim, monkeypatch) -> None:
    # not text/html: any text/html output makes Quarto load require.js and jQuery from a CDN
    for name, value in QUARTO_KERNEL_ENV.items():
        bundle = _display(week1_anim, monkeypatch, {name: value})  # any one of them is enough
        assert set(bundle) == {"text/markdown", "text/plain"}, name
        assert bundle["text/markdown"] == week1_anim.html


def test_display_outside_quarto_offers_self_contained_html(week1_anim, monkeypatch) -> None:
    """VS Code and Colab render text/html but not raw HTML inside Markdown."""
    bundle = _display(week1_anim, monkeypatch, {"QUARTO_DOCUMENT_PATH": ""})
    assert set(bundle) == {"text/html", "text/markdown", "text/plain"}
    assert bundle["text/html"] == bundle["text/markdown"] == week1_anim.html
    html = bundle["text/html"]
    assert html.count("<script") == 2 and '<script class="dla-player">' in html  # inline player
    assert "<script src" not in html and "require" not in html.split("dla-player")[0]
    for pattern in EXTERNAL:
        assert pattern.search(html) is None, pattern.pattern


def test_display_and_save(week1_anim: Animation, tmp_path) -> None:
    assert week1_anim.html.startswith(f'<figure class="{PLAYER_CLASS}"')
    assert "\n\n" not in week1_anim.html  # raw HTML must not contain blank lines
    page = week1_anim.save(tmp_path / "a.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and week1_anim.html in page


def test_ids_differ_between_animations(week1_anim: Animation, week3_anim: Animation) -> None:
    ids = [re.search(r'data-dla-id="(\w+)"', a.html).group(1) for a in (week1_anim, week3_anim)]
    assert ids[0] != ids[1]
    assert " id=" not in week1_anim.html  # no element ids that two animations could share


def test_bias_weight_pair_is_ordered_w0_w1(week3) -> None:
    x, y, prob, surface, history = week3
    auto = animate_training(history, x, y, surface, frames=6)
    named = animate_training(history, x, y, surface, frames=6, param_names=["0.bias", "0.weight"])
    assert frame_data(auto.html)["path"] == frame_data(named.html)["path"]
    # nn.Sequential records the weight first; the names, not the order, decide the axes
    assert list(history.params[0]) == ["0.weight", "0.bias"]
    swapped = animate_training(history, x, y, surface, frames=6, param_names=["0.weight", "0.bias"])
    assert frame_data(swapped.html)["path"] == frame_data(named.html)["path"]


def test_projection_matches_matplotlib(week1) -> None:
    """The overlay's 3-D projection lands where matplotlib itself draws a point."""
    X, x, y, surface, _ = week1
    xs, ys = x.double().numpy(), y.double().numpy()
    for w in [(2.5, 4.0), (-5.0, 10.0), (8.0, -4.0)]:
        z = loss_at(x, y, *w)
        scene = draw_scene(
            FitPanel(xs, ys), SurfacePanel(surface, {"m": (*w, z)}), Style(quality=95)
        )
        px = scene.to_surface_px(np.array([[w[0], w[1], z]]))[0]
        rgb = np.asarray(Image.open(io.BytesIO(scene.jpeg))).astype(int)
        gold = (abs(rgb[..., 0] - 255) < 40) & (abs(rgb[..., 1] - 215) < 40) & (rgb[..., 2] < 90)
        rows, cols = np.nonzero(gold)
        near = np.hypot(cols - px[0], rows - px[1]) < 20
        assert near.sum() > 20, f"no star drawn near the projected point {px}"
        assert abs(cols[near].mean() - px[0]) < 2 and abs(rows[near].mean() - px[1]) < 2


def test_clip_segment_keeps_precision_far_away() -> None:
    box = (0.0, 0.0, 100.0, 50.0)
    a, b, cut = clip_segment((50.0, -1e20), (60.0, 1e20), box)
    assert cut and a == pytest.approx((55.0, 0.0)) and b == pytest.approx((55.0, 50.0))
    a, b, cut = clip_segment((10.0, 10.0), (20.0, 20.0), box)
    assert not cut and (a, b) == ((10.0, 10.0), (20.0, 20.0))
    assert clip_segment((200.0, 200.0), (300.0, 300.0), box) is None
    pieces = clip_polyline(np.array([[0, 10], [50, 1e30], [100, 10.0]]), box)
    assert len(pieces) == 2 and all(p[:, 1].max() <= 50 for p in pieces)


def test_loss_mismatch_warns(week1) -> None:
    X, x, y, _, history = week1
    mse = loss_surface(x, y, torch.linspace(-8, 10, 10), torch.linspace(-6, 14, 10), loss="mse")
    with pytest.warns(UserWarning, match="will not lie on the surface"):
        animate_training(history, x, y, mse, frames=3)


BAD_INPUTS = [
    ({"history": [1, 2]}, TypeError, "history"),
    ({"x": np.zeros(100)}, TypeError, "x must be a torch.Tensor"),
    ({"y": [0.0] * 100}, TypeError, "y must be a torch.Tensor"),
    ({"x": torch.zeros(100, 2)}, ValueError, r"x must have shape .*X\[:, 1\]"),
    ({"y": torch.zeros(99)}, ValueError, "x and y must have the same length"),
    ({"x": torch.zeros(50), "y": torch.zeros(50)}, ValueError, r"history.yhat\[0\] has 100"),
    ({"surface": "surface"}, TypeError, "surface must be"),
    ({"frames": 1}, ValueError, "frames must be >= 2"),
    ({"frames": 3.0}, TypeError, "frames must be an int"),
    ({"param_names": ["w"]}, ValueError, r"param_names \['w'\] are not recorded"),
    ({"param_names": "W"}, TypeError, "param_names must be a list"),
    ({"markers": {"a": (1.0,)}}, ValueError, r"markers\['a'\]"),
    ({"markers": [(1.0, 2.0)]}, TypeError, "markers must be a dict"),
    ({"truth": torch.zeros(7)}, ValueError, r"truth must have as many values as x \(100\), got 7"),
    ({"label": 3}, TypeError, "label must be a string"),
    ({"style": {"fps": 2}}, TypeError, "style must be a dlbasics.anim.Style"),
    ({"x": torch.full((100,), float("nan"))}, ValueError, "x must contain only finite"),
    ({"truth": torch.full((100,), float("inf"))}, ValueError, "truth must contain only finite"),
    ({"x": torch.zeros(0), "y": torch.zeros(0)}, ValueError, r"x must not be empty, got shape"),
    ({"markers": {"a": (1.0, float("nan"))}}, ValueError, r"markers\['a'\].*got \(1.0, nan\)"),
]


STYLE_ERRORS = [
    ({"fps": 0}, ValueError, "fps must be > 0"),
    ({"fps": "5"}, TypeError, "fps must be a real number"),
    ({"dpi": -3}, ValueError, "dpi must be > 0"),
    ({"figsize": (8,)}, ValueError, r"figsize must be \(width, height\).*got \(8,\)"),
    ({"quality": 96}, ValueError, "quality must be <= 95, got 96"),
    ({"elev": float("nan")}, ValueError, "elev must be finite"),
    ({"max_bytes": 0}, ValueError, "max_bytes must be >= 1"),
]


@pytest.mark.parametrize(("change", "error", "message"), STYLE_ERRORS)
def test_bad_style_names_the_option(change, error, message) -> None:
    with pytest.raises(error, match=message):
        Style(**change)


@pytest.mark.parametrize(("change", "error", "message"), BAD_INPUTS)
def test_bad_input_names_the_argument(week1, change, error, message) -> None:
    X, x, y, surface, history = week1
    kwargs = {"history": history, "x": x, "y": y, "surface": surface, "frames": 3}
    kwargs.update(change)
    with pytest.raises(error, match=message):
        animate_training(**kwargs)


def test_markers_need_a_surface(week1) -> None:
    X, x, y, _, history = week1
    with pytest.raises(ValueError, match="markers are drawn on the surface"):
        animate_training(history, x, y, markers=MARKERS, frames=3)


def test_empty_history_and_missing_predictions(week1) -> None:
    X, x, y, surface, _ = week1
    with pytest.raises(ValueError, match="history is empty"):
        animate_training(History(), x, y, frames=2)
    net = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    h = fit(net, torch.nn.MSELoss(), opt, x[:, None], y[:, None], epochs=3, record_yhat=False)
    with pytest.raises(ValueError, match="record_yhat=True"):
        animate_training(h, x, y, frames=2)


def test_text_in_the_player_survives_markdown() -> None:
    """Status and caption text is inert for Markdown yet reads the same once parsed as HTML."""
    import html as html_lib

    text = "loss $L$ & <b>*x*</b> [a](b) `c` @fig-d #1 _e_ 2 - 1 \\(f\\)"
    escaped = md_text(text)
    assert not any(c in escaped.replace("&#", "").replace(";", "") for c in "$*_[]`@\\<>")
    assert html_lib.unescape(escaped) == text
