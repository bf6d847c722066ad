"""Loss helpers and static plots: values, figures returned, bad input rejected."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from dlbasics import losses, plots  # noqa: E402
from dlbasics.data import regression_data  # noqa: E402
from dlbasics.surface import loss_surface  # noqa: E402
from dlbasics.train import History, gradient_descent  # noqa: E402


def test_named_losses_match_torch():
    yhat, y = torch.tensor([0.2, 0.7, 0.9]), torch.tensor([0.0, 1.0, 1.0])
    assert losses.resolve_loss("mse")(yhat, y) == pytest.approx(F.mse_loss(yhat, y).item())
    assert losses.resolve_loss("sse")(yhat, y) == pytest.approx(3 * F.mse_loss(yhat, y).item())
    assert losses.resolve_loss("bce")(yhat, y) == pytest.approx(
        F.binary_cross_entropy(yhat, y).item()
    )
    z = torch.logit(yhat)
    assert losses.bce_with_logits(z, y) == pytest.approx(losses.bce(yhat, y).item(), rel=1e-5)


def test_bce_table_matches_functional_and_punishes_confident_mistakes():
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    yhat = torch.tensor([0.2, 0.8, 0.1, 0.9])
    rows = losses.bce_table(y, yhat)
    ref = F.binary_cross_entropy(yhat, y, reduction="none")
    assert [r["loss"] for r in rows] == pytest.approx(ref.tolist())
    assert rows[0]["loss"] > rows[1]["loss"] and rows[3]["loss"] > rows[2]["loss"]


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
            lambda r: plots.plot_surface(r[3], path=np.zeros((3, 3)), path_loss=[1, 2, 3]),
            ValueError,
            r"path must have shape \(k, 2\)",
        ),
        (
            lambda r: plots.plot_surface(r[3], path=np.zeros((3, 2))),
            ValueError,
            "path_loss is needed",
        ),
        (
            lambda r: plots.plot_surface(r[3], path=np.zeros((3, 2)), path_loss=[1.0]),
            ValueError,
            "path has 3 points",
        ),
        (lambda r: plots.plot_surface(r[3], markers={"m": (1.0,)}), ValueError, "markers"),
        (lambda r: plots.plot_surface(r[3], ax=plt.figure().add_subplot()), ValueError, "3-D axes"),
        (lambda r: plots.plot_history([1, 2]), TypeError, "History"),
        (lambda r: plots.plot_history(History()), ValueError, "empty"),
    ],
)
def test_plot_bad_input(run, call, err, match):
    with pytest.raises(err, match=match):
        call(run)
    plt.close("all")
