"""Loss helpers and static plots: values, figures returned, bad input rejected."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dlbasics import losses, plots  # noqa: E402
from dlbasics.data import regression_data  # noqa: E402
from dlbasics.surface import loss_surface  # noqa: E402
from dlbasics.train import History, ParamPath, fit, gradient_descent  # noqa: E402

YHAT = [0.2, 0.7, 0.9, 1e-6]
Y = [0.0, 1.0, 1.0, 0.0]


def _bce_row(p: float, t: float) -> float:
    """-[t log p + (1 - t) log(1 - p)], one row, float64."""
    return -(t * math.log(p) + (1 - t) * math.log1p(-p))


def test_named_losses_against_formulas_written_out():
    yhat, y = torch.tensor(YHAT, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    sq = [(t - p) ** 2 for p, t in zip(YHAT, Y, strict=True)]
    assert losses.resolve_loss("sse")(yhat, y).item() == pytest.approx(math.fsum(sq), rel=1e-15)
    assert losses.resolve_loss("mse")(yhat, y).item() == pytest.approx(math.fsum(sq) / 4, rel=1e-15)
    rows = [_bce_row(p, t) for p, t in zip(YHAT, Y, strict=True)]
    assert losses.resolve_loss("bce")(yhat, y).item() == pytest.approx(
        math.fsum(rows) / 4, rel=1e-12
    )
    # from logits: log(1 + e^-z) for y = 1 and log(1 + e^z) for y = 0
    z = [-3.0, 0.5, 40.0, -50.0]
    by_hand = [
        math.log1p(math.exp(-v)) if t else math.log1p(math.exp(v))
        for v, t in zip(z, Y, strict=True)
    ]
    got = losses.bce_with_logits(torch.tensor(z, dtype=torch.float64), y).item()
    assert got == pytest.approx(math.fsum(by_hand) / 4, rel=1e-12)


def test_bce_table_rows_follow_the_formula_and_punish_confident_mistakes():
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    yhat = torch.tensor([0.2, 0.8, 0.1, 0.9])
    rows = losses.bce_table(y, yhat)
    for r, p, t in zip(rows, yhat.tolist(), y.tolist(), strict=True):
        assert r["loss"] == pytest.approx(_bce_row(p, t), rel=1e-12)
    assert rows[0]["loss"] > rows[1]["loss"] and rows[3]["loss"] > rows[2]["loss"]


@pytest.mark.parametrize("name", ["sse", "mse", "bce"])
def test_losses_refuse_to_broadcast_a_column_against_a_row(name):
    yhat, y = torch.full((5, 1), 0.5), torch.full((5,), 0.5)
    message = r"yhat and y must have the same shape, got \(5, 1\) and \(5,\); broadcasting"
    with pytest.raises(ValueError, match=message):
        losses.resolve_loss(name)(yhat, y)


@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (
            lambda: losses.bce(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 2.0])),
            ValueError,
            r"y \(labels\) must lie in \[0, 1\], got values such as \[2.0\]",
        ),
        (
            lambda: losses.bce_with_logits(torch.zeros(2), torch.tensor([-1.0, 0.0])),
            ValueError,
            r"y \(labels\) must lie in \[0, 1\], got values such as \[-1.0\]",
        ),
        (
            lambda: losses.bce_with_logits(torch.zeros(2, 1), torch.zeros(2)),
            ValueError,
            r"z and y must have the same shape",
        ),
        (
            lambda: losses.sse(torch.tensor([1, 2]), torch.tensor([1, 2])),
            TypeError,
            "yhat must have a floating dtype",
        ),
        (lambda: losses.mse([0.5], torch.tensor([0.5])), TypeError, "yhat must be a torch.Tensor"),
        (
            lambda: losses.bce(torch.tensor([1.5, 0.5]), torch.tensor([1.0, 0.0])),
            ValueError,  # was a RuntimeError from inside PyTorch
            r"yhat \(probabilities; for logits use bce_with_logits\) must lie in \[0, 1\], got "
            r"values such as \[1.5\]",
        ),
        (lambda: losses.resolve_loss("mae"), ValueError, "loss must be one of"),
    ],
)
def test_losses_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()


@pytest.mark.parametrize(
    ("y", "yhat", "match"),
    [
        (torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.5]), "only 0 and 1"),
        (torch.tensor([1.0, 0.0]), torch.tensor([1.0, 0.5]), "strictly between 0 and 1"),
        (torch.tensor([1.0]), torch.tensor([0.5, 0.5]), "same shape"),
    ],
)
def test_bce_table_bad_input(y, yhat, match):
    with pytest.raises(ValueError, match=match):
        losses.bce_table(y, yhat)


@pytest.fixture(scope="module")
def run():
    X, y = regression_data()
    h = gradient_descent(torch.tensor([-5.0, 10.0]), X, y, lr=0.001, epochs=20)
    s = loss_surface(X[:, 1], y, torch.arange(-6, 11, 1.0), torch.arange(-6, 11, 1.0))
    return X, y, h, s


def test_plots_return_figures_and_use_given_axes(run):
    X, y, h, s = run
    before = set(plt.get_fignums())
    fig = plots.plot_fit(
        X[:, 1], y, {"epoch 0": h.yhat[0], "last": h.yhat[-1]}, truth=X @ torch.tensor([2.5, 4])
    )
    assert len(fig.axes[0].lines) == 4  # data, truth, two fits
    fig2, axs = plt.subplots(1, 2)
    assert plots.plot_history(h, ax=axs[0]) is fig2
    fig3 = plt.figure()
    ax3 = fig3.add_subplot(projection="3d")
    out = plots.plot_surface(
        s, path=h.param_path(), path_loss=h.loss, markers={"true": (2.5, 4)}, ax=ax3
    )
    assert out is fig3
    labels = [t.get_text() for t in ax3.get_legend().get_texts()]
    assert labels == ["path", "true"]
    for f in (fig, fig2, fig3):
        plt.close(f)
    assert set(plt.get_fignums()) == before


def test_plot_fit_draws_curves_in_increasing_x():
    x = torch.tensor([0.5, -1.0, 2.0, 0.0])
    fig = plots.plot_fit(x, x**2, yhat=2 * x, truth=x**2)
    _, truth_line, fit_line = fig.axes[0].lines
    for line in (truth_line, fit_line):
        assert list(line.get_xdata()) == [-1.0, 0.0, 0.5, 2.0]
    assert list(fit_line.get_ydata()) == [-2.0, 0.0, 1.0, 4.0]
    plt.close(fig)


def test_plot_surface_puts_the_bias_on_the_w0_axis_whatever_the_recording_order():
    """nn.Sequential records the weight first; the path must still be drawn at (bias, weight)."""
    x = torch.linspace(-1, 1, 20).reshape(-1, 1)
    y = (x > 0).float()
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    with torch.no_grad():
        net[0].bias.fill_(-3.0)
        net[0].weight.fill_(7.0)
    h = fit(net, torch.nn.BCELoss(), torch.optim.SGD(net.parameters(), lr=0.1), x, y, 3)
    s = loss_surface(x, y, torch.linspace(-4, 4, 5), torch.linspace(0, 8, 5), "logistic", "bce")
    fig = plots.plot_surface(s, path=h.param_path(), path_loss=h.loss)
    xs, ys, _ = fig.axes[0].lines[0].get_data_3d()
    assert (xs[0], ys[0]) == (-3.0, 7.0)
    plt.close(fig)


def test_history_plot_marks_divergence():
    X, y = regression_data()
    h = gradient_descent(torch.tensor([-5.0, 10.0]), X, y, lr=0.1, epochs=200)
    fig = plots.plot_history(h, log=True)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("diverged at epoch" in t for t in labels)
    line = fig.axes[0].lines[0]
    assert np.isfinite(line.get_ydata()).all()
    plt.close(fig)


@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (lambda r: plots.plot_fit(r[0][:, 1], r[1][:5]), ValueError, "same length"),
        (lambda r: plots.plot_fit("abc", r[1]), TypeError, "x must be a tensor"),
        (lambda r: plots.plot_fit(r[0][:, 1], r[1], yhat=r[1][:3]), ValueError, "yhat 'fit'"),
        (lambda r: plots.plot_fit(r[0][:, 1], r[1], truth=r[1][:3]), ValueError, "truth"),
        (lambda r: plots.plot_surface("surface"), TypeError, "Surface"),
        (
            lambda r: plots.plot_surface(r[3], path=np.zeros((3, 2)), path_loss=[1, 2, 3]),
            TypeError,
            r"path must be a dlbasics.train.ParamPath such as history.param_path\(\)",
        ),
        (
            lambda r: plots.plot_surface(
                r[3], path=ParamPath(np.zeros((3, 2)), ("a", "b")), path_loss=[1, 2, 3]
            ),
            ValueError,
            "cannot tell the intercept w0 and the slope w1 apart",
        ),
        (
            lambda r: plots.plot_surface(r[3], path=r[2].param_path()),
            ValueError,
            "path_loss is needed",
        ),
        (
            lambda r: plots.plot_surface(r[3], path=r[2].param_path(), path_loss=[1.0]),
            ValueError,
            "path has 21 points",
        ),
        (lambda r: plots.plot_surface(r[3], markers={"m": (1.0,)}), ValueError, "markers"),
        (lambda r: plots.plot_surface(r[3], ax=plt.figure().add_subplot()), ValueError, "3-D axes"),
        (lambda r: plots.plot_history([1, 2]), TypeError, "History"),
        (lambda r: plots.plot_history(History()), ValueError, "empty"),
        (
            lambda r: plots.plot_history(
                History([0, 1], [2.0, 0.0], [torch.zeros(1)] * 2, [{}] * 2), log=True
            ),
            ValueError,  # a log axis would silently drop the zero
            r"log=True needs losses > 0, got 0 at epoch 1",
        ),
        (
            lambda r: plots.plot_heatmap_overlay(np.zeros((4, 4)), np.full((2, 2), np.nan)),
            ValueError,
            r"heat must contain finite numbers, got only nan/inf in shape \(2, 2\)",
        ),
    ],
)
def test_plot_bad_input(run, call, err, match):
    with pytest.raises(err, match=match):
        call(run)
    plt.close("all")


def test_bce_of_a_diverged_model_is_nan_not_an_error():
    yhat = torch.tensor([0.5, float("nan")], requires_grad=True)
    loss = losses.bce(yhat, torch.tensor([1.0, 0.0]))
    assert math.isnan(loss.item()) and loss.requires_grad
