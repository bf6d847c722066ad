"""The course's data sets reproduce the lectures' numbers; loaders fail clearly."""

import pytest
import torch

from dlbasics import data
from dlbasics.gradcheck import check_gradient


def test_regression_data_reproduces_lecture_loss_and_gradient():
    X, y = data.regression_data()
    assert X.shape == (100, 2) and y.shape == (100,)
    assert torch.equal(X[:, 0], torch.ones(100))
    assert bool((X[1:, 1] >= X[:-1, 1]).all()), "x must be sorted"
    W = torch.tensor([-5.0, 10.0])
    # The lecture's SSE at (-5, 10), printed as tensor(8587.6875)
    assert torch.sum((y - X @ W) ** 2).item() == pytest.approx(8587.6875, abs=1e-3)
    check = check_gradient(
        lambda w: torch.sum((y - X @ w) ** 2), W, analytic=lambda w: -2 * X.T @ y + 2 * X.T @ X @ w
    )
    assert torch.allclose(check.autograd, check.analytic, rtol=1e-5)
    # the lecture's forward differences with h = 0.001 in float32
    assert check.numeric.tolist() == pytest.approx([-1341.7968, 1190.4297], abs=1e-3)


def test_regression_noise_matches_its_sd_and_seed_controls_draws():
    X, y = data.regression_data(n=5000, seed=0)
    resid = y - X @ torch.tensor([2.5, 4.0])
    assert resid.std().item() == pytest.approx(0.5, rel=0.05)
    X2, y2 = data.regression_data(n=5000, seed=0)
    assert torch.equal(y, y2)
    assert not torch.equal(y, data.regression_data(n=5000, seed=1)[1])


@pytest.mark.parametrize(
    "make", [data.logistic_toy, data.irony_of_spec, data.step_prob], ids=lambda f: f.__name__
)
def test_bernoulli_data_sets_follow_their_probabilities(make):
    x, y, prob = make()
    assert x.shape == y.shape == prob.shape == (2000, 1)
    assert x.min().item() == -1.0 and x.max().item() == 1.0
    assert set(y.unique().tolist()) <= {0.0, 1.0}
    # the labels' mean is the mean probability within 4 standard errors
    se = (prob * (1 - prob)).sum().sqrt() / len(prob)
    assert abs(y.mean() - prob.mean()) < 4 * se


def test_logistic_toy_probability_is_sigmoid_of_the_true_line():
    x, _, prob = data.logistic_toy()
    assert torch.allclose(prob, torch.sigmoid(-1 + 5 * x))


def test_irony_and_step_logits_are_piecewise():
    x = torch.tensor([[-0.5], [0.0], [0.5]])
    assert data.irony_logit(x).reshape(-1).tolist() == pytest.approx([-2.5, 5.0, 2.5])
    xs = torch.tensor([[-0.6], [0.0], [0.8]])
    assert data.step_logit(xs).reshape(-1).tolist() == pytest.approx([-3.0, -1.0, -3.0])


def test_wavy_curve_noise_and_truth():
    x, y, truth = data.wavy_curve()
    assert x.shape == (2000, 1) and x.min() == 0 and x.max() == 2
    assert torch.allclose(truth, torch.exp(-x) * torch.cos(3 * x).abs() * torch.sin(3 * x))
    assert (y - truth).std().item() == pytest.approx(0.05, rel=0.1)


@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (lambda: data.regression_data(n=0), ValueError, "n must be >= 2"),
        (lambda: data.regression_data(n=2.5), TypeError, "n must be an int"),
        (lambda: data.regression_data(sigma=-1.0), ValueError, "sigma"),
        (lambda: data.logistic_toy(seed="a"), TypeError, "seed"),
        (lambda: data.wavy_curve(sigma=float("nan")), ValueError, "sigma"),
        (lambda: data.load_csv("../pyproject.toml"), ValueError, "bare file name"),
        (lambda: data.load_csv(""), TypeError, "name"),
        (lambda: data.load_csv("no-such-file.csv"), FileNotFoundError, "no-such-file.csv"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_load_csv_reads_columns_and_skips_comments(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "tiny.csv").write_text("# a comment\nx,y\n1,0\n2.5,1\n")
    monkeypatch.setattr(data, "__file__", str(tmp_path / "src" / "dlbasics" / "data.py"))
    table = data.load_csv("tiny.csv")
    assert list(table) == ["x", "y"]
    assert table["x"].shape == (2, 1) and table["x"].dtype == torch.float32
    assert table["x"].reshape(-1).tolist() == [1.0, 2.5]
    (folder / "empty.csv").write_text("x,y\n")
    with pytest.raises(ValueError, match="no rows"):
        data.load_csv("empty.csv")


def test_data_root_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DLBASICS_DATA", str(tmp_path))
    assert data.data_root() == tmp_path
    monkeypatch.delenv("DLBASICS_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_root() == tmp_path / "cache" / "dlbasics"
