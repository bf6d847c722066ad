"""The vectorized loss surface equals a naive per-grid-point loop; bad grids fail clearly."""

import itertools

import numpy as np
import pytest
import torch

from dlbasics.data import logistic_toy, regression_data
from dlbasics.surface import (
    Surface,
    _node_rules,
    _rules,
    chebyshev_degrees,
    chebyshev_rule,
    loss_at,
    loss_surface,
)


def naive_surface(x, y, w0, w1, model, loss):
    """The lecture's way: one grid point at a time (float64, stable BCE)."""
    x, y = x.reshape(-1).double(), y.reshape(-1).double()
    out = torch.empty(len(w0), len(w1), dtype=torch.float64)
    for i, j in itertools.product(range(len(w0)), range(len(w1))):
        z = w0[i] + w1[j] * x
        if loss == "bce":  # PyTorch's own stable BCE, one grid point at a time
            out[i, j] = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
            continue
        yhat = torch.sigmoid(z) if model == "logistic" else z
        sq = (y - yhat) ** 2
        out[i, j] = sq.sum() if loss == "sse" else sq.mean()
    return out


CASES = [
    ("linear", "sse"),
    ("linear", "mse"),
    ("logistic", "sse"),
    ("logistic", "mse"),
    ("logistic", "bce"),
]


@pytest.mark.parametrize(("model", "loss"), CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_vectorized_equals_naive_on_random_grids(model, loss, seed):
    gen = torch.Generator().manual_seed(seed)
    if model == "linear":
        X, y = regression_data(n=57, seed=seed)
        x = X[:, 1]
    else:
        x, y, _ = logistic_toy(n=301, seed=seed)
    w0 = torch.sort(torch.rand(9, generator=gen, dtype=torch.float64) * 8 - 4).values
    w1 = torch.sort(torch.rand(7, generator=gen, dtype=torch.float64) * 8 - 2).values
    # max_elements small enough to force several chunks
    s = loss_surface(x, y, w0, w1, model=model, loss=loss, max_elements=5 * 301)
    ref = naive_surface(x, y, w0, w1, model, loss)
    assert s.loss.shape == (9, 7)
    assert torch.allclose(s.loss, ref, rtol=1e-5, atol=1e-8)


def test_surface_reproduces_week1_loss_and_argmin():
    X, y = regression_data()
    assert loss_at(X[:, 1], y, -5, 10) == pytest.approx(8587.6875, abs=1e-3)
    s = loss_surface(X[:, 1], y, torch.arange(-6, 11, 0.5), torch.arange(-6, 11, 0.5))
    assert isinstance(s, Surface)
    assert s.argmin() == (2.5, 4.0)  # the grid point nearest the least-squares optimum
    W0, W1 = s.mesh()
    assert W0.shape == W1.shape == s.loss.shape


def test_interpolate_is_exact_on_grid_points_and_between_for_planes():
    x = torch.tensor([0.0, 1.0])
    y = torch.tensor([0.0, 0.0])
    s = loss_surface(x, y, [0.0, 1.0, 2.0], [0.0, 1.0], model="linear", loss="sse")
    assert s.interpolate(1.0, 1.0) == pytest.approx(float(s.loss[1, 1]))
    mid = s.interpolate(0.5, 0.0)
    assert float(s.loss[0, 0]) <= mid <= float(s.loss[1, 0])
    with pytest.raises(ValueError, match="outside the grid"):
        s.interpolate(5.0, 0.0)


def test_bce_is_finite_where_probabilities_saturate():
    x, y, _ = logistic_toy(n=200)
    # w1 = 0, w0 = -200: every probability rounds to 0, yet each y = 1 row costs exactly 200
    s = loss_surface(x, y, [-200.0, 0.0], [0.0], model="logistic", loss="bce")
    assert bool(torch.isfinite(s.loss).all())
    assert s.loss[0, 0].item() == pytest.approx(200 * y.double().mean().item(), rel=1e-9)


X1 = torch.linspace(-1, 1, 5)
Y1 = torch.zeros(5)


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"w0": []}, ValueError, "w0 must not be empty"),
        ({"w1": [0.0, float("nan")]}, ValueError, "w1 must contain only finite"),
        ({"w0": [1.0, 0.0]}, ValueError, "w0 must be strictly increasing"),
        ({"w0": torch.zeros(2, 2)}, ValueError, "w0 must be 1-D"),
        ({"loss": "hinge"}, ValueError, "loss must be one of"),
        ({"model": "cubic"}, ValueError, "model must be one of"),
        ({"loss": "bce"}, ValueError, "needs model='logistic'"),
        ({"x": torch.arange(5)}, TypeError, "x must have a floating dtype"),
        ({"y": torch.zeros(4)}, ValueError, "same number of rows"),
        ({"x": torch.zeros(5, 2)}, ValueError, r"x must have shape \(n,\) or \(n, 1\)"),
        ({"y": torch.tensor([0.0, 1.0, float("inf"), 0.0, 0.0])}, ValueError, "finite"),
        ({"max_elements": 0}, ValueError, "max_elements"),
        ({"model": 3}, TypeError, "model must be a string"),
    ],
)
def test_bad_input(kwargs, err, match):
    args = {"x": X1, "y": Y1, "w0": [0.0, 1.0], "w1": [0.0, 1.0]} | kwargs
    with pytest.raises(err, match=match):
        loss_surface(**args)


@pytest.mark.parametrize(
    ("w1_max", "compressed"),
    [(0.0, True), (2.0, True), (40.0, True), (60.0, False), (400.0, False)],
)
def test_chebyshev_nodes_stand_in_for_samples_at_any_slope(w1_max, compressed):
    """Large slopes need more nodes (or all samples); the surface stays exact to rounding."""
    x, y, _ = logistic_toy(n=2000)
    w0 = torch.linspace(-15, 15, 7, dtype=torch.float64)
    w1 = torch.linspace(-w1_max, w1_max, 5, dtype=torch.float64) if w1_max else torch.zeros(1)
    degree = chebyshev_degrees([w1_max], 1.0)  # logistic_toy's x spans [-1, 1]
    t = x.reshape(-1).double().numpy()
    c = np.ones((2000, 1))
    points, _ = _node_rules(t, c, degree, [10_000], w1_max)[int(degree[0])]
    if compressed:
        assert points.shape == (int(degree[0]),) and points.shape[0] < 500
    else:
        assert points is t, "too wiggly for nodes: falls back to the samples"
    for loss in ("mse", "bce"):
        s = loss_surface(x, y, w0, w1, model="logistic", loss=loss)
        ref = naive_surface(x, y, w0, w1, "logistic", loss)
        assert torch.allclose(s.loss, ref, rtol=1e-8, atol=1e-10)


def test_chebyshev_degrees_grow_with_slope_and_range():
    d = chebyshev_degrees([0.0, -0.5, 0.5, 2.0, 10.0], 1.0)
    assert d.tolist()[0] == 1  # a constant summand needs one node
    assert d[1] == d[2]  # only |w1| matters
    assert bool(np.all(np.diff(d[1:]) >= 0)) and d[-1] > d[2]
    assert chebyshev_degrees([10.0], 2.0)[0] > d[-1]  # twice the range is twice the slope
    assert chebyshev_degrees([20.0], 1.0)[0] == chebyshev_degrees([10.0], 2.0)[0]
    assert chebyshev_degrees([3.0], 0.0)[0] == 1  # every x equal


@pytest.mark.parametrize(
    ("args", "err", "match"),
    [
        (([1.0], -1.0), ValueError, "half_width must be >= 0"),
        (([1.0], float("nan")), ValueError, "half_width must be finite"),
        (([1.0], "wide"), TypeError, "half_width must be a real number"),
        (([1.0, float("inf")], 1.0), ValueError, "slopes must be 1-D and finite"),
        (([[1.0]], 1.0), ValueError, "slopes must be 1-D and finite"),
    ],
)
def test_chebyshev_degrees_bad_input(args, err, match):
    with pytest.raises(err, match=match):
        chebyshev_degrees(*args)


def test_surface_rejects_nonfinite_inputs_of_any_float_dtype():
    """bfloat16 has no NumPy twin: the finiteness check falls back to PyTorch."""
    x = torch.tensor([0.0, 1.0, float("inf")], dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="x must contain only finite"):
        loss_surface(x, torch.zeros(3), [0.0], [0.0], model="logistic", loss="bce")
    s = loss_surface(x[:2], torch.zeros(2), [0.0], [0.0], model="logistic", loss="bce")
    assert s.loss.item() == pytest.approx(np.log(2))


def test_chebyshev_rule_sums_polynomials_exactly_and_handles_points_on_nodes():
    gen = torch.Generator().manual_seed(3)
    t = torch.rand(300, generator=gen, dtype=torch.float64).numpy() * 2 - 1
    nodes, _ = chebyshev_rule(np.zeros(1), np.ones((1, 1)), 7)
    t[:3] = nodes[:3]  # samples that sit exactly on a node
    c = np.stack([np.ones(300), t**2], axis=1)
    nodes, w = chebyshev_rule(t, c, 7)
    assert nodes.shape == (7,) and w.shape == (7, 2) and np.all(np.isfinite(w))
    for p in range(7):  # degree <= D - 1: exact to rounding
        np.testing.assert_allclose(nodes**p @ w, t**p @ c, rtol=1e-12, atol=1e-12)
    # degree D: no longer exact (the rule really interpolates)
    assert abs((nodes**8 @ w)[0] - (t**8 @ c)[0]) > 1e-6
    # several degrees in one batched pass (as loss_surface does) give the same rules
    for (n_all, w_all), d in zip(_rules(t, c, [7, 5, 1]), [7, 5, 1], strict=True):
        n_one, w_one = chebyshev_rule(t, c, d)
        np.testing.assert_array_equal(n_all, n_one)
        np.testing.assert_allclose(w_all, w_one, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"degree": 0}, ValueError, "degree"),
        ({"degree": 2.5}, TypeError, "degree"),
        ({"t": np.array([0.0, 1.5])}, ValueError, r"t must be 1-D with values in \[-1, 1\]"),
        ({"weights": np.ones((3, 1))}, ValueError, r"weights must have shape \(n, k\)"),
    ],
)
def test_chebyshev_rule_bad_input(kwargs, err, match):
    args = {"t": np.array([0.0, 0.5]), "weights": np.ones((2, 1)), "degree": 3} | kwargs
    with pytest.raises(err, match=match):
        chebyshev_rule(**args)


def test_surface_matches_naive_where_logits_are_huge():
    """|w0| + |w1| max|x| above 700: exp(z) would overflow, so the stable path takes over."""
    x, y, _ = logistic_toy(n=500)
    w0 = torch.tensor([-900.0, -3.0, 0.0, 650.0, 900.0], dtype=torch.float64)
    w1 = torch.tensor([-60.0, 0.0, 1.0, 80.0], dtype=torch.float64)
    for loss in ("mse", "bce"):
        s = loss_surface(x, y, w0, w1, model="logistic", loss=loss, max_elements=700)
        ref = naive_surface(x, y, w0, w1, "logistic", loss)
        assert bool(torch.isfinite(s.loss).all())
        assert torch.allclose(s.loss, ref, rtol=1e-10, atol=1e-12)


def test_week3_grid_uses_few_nodes_and_equals_naive():
    """Week 4's grid: 16-112 nodes per slope instead of 2000 samples, same numbers."""
    x, y, _ = logistic_toy()
    w0, w1 = torch.arange(-10, 3, 0.45), torch.arange(-1, 10, 0.45)
    d = chebyshev_degrees(w1.numpy(), 1.0)
    assert d.min() >= 16 and d.max() <= 112
    for loss in ("mse", "bce"):
        s = loss_surface(x, y, w0, w1, model="logistic", loss=loss)
        ref = naive_surface(x, y, w0.double(), w1.double(), "logistic", loss)
        assert torch.allclose(s.loss, ref, rtol=1e-12, atol=1e-13)


def test_surface_ignores_autograd_on_inputs():
    x, y, _ = logistic_toy(n=50)
    w0 = torch.tensor([0.0, 1.0], requires_grad=True)
    s = loss_surface(x.requires_grad_(), y, w0, [0.0, 2.0], model="logistic", loss="bce")
    assert not s.loss.requires_grad and s.loss.shape == (2, 2)


def test_loss_at_agrees_with_the_compressed_surface():
    """One point evaluates the samples directly; a big grid uses node rules: same numbers."""
    x, y, _ = logistic_toy()
    w0, w1 = torch.arange(-10, 3, 0.45), torch.arange(-1, 10, 0.45)
    for loss in ("mse", "bce"):
        s = loss_surface(x, y, w0, w1, model="logistic", loss=loss)
        for i, j in [(0, 0), (5, 20), (28, 24)]:
            point = loss_at(x, y, float(w0[i]), float(w1[j]), model="logistic", loss=loss)
            assert point == pytest.approx(float(s.loss[i, j]), rel=1e-12, abs=1e-13)


@pytest.mark.parametrize("seed", range(12))
def test_logistic_surface_equals_naive_on_random_data(seed):
    """Random sizes, spreads, shifts and slopes (every path: nodes, samples, huge |z|)."""
    gen = torch.Generator().manual_seed(seed)
    n = int(torch.randint(1, 1500, (1,), generator=gen))
    spread = float(10 ** (torch.rand(1, generator=gen) * 3 - 1.5))
    x = torch.randn(n, generator=gen, dtype=torch.float64) * spread + (seed % 3 - 1) * 5.0
    if seed == 5:
        x = torch.full((n,), 2.0, dtype=torch.float64)  # every x equal
    y = torch.rand(n, generator=gen, dtype=torch.float64).round() if seed % 2 else torch.rand(n)
    w0 = torch.linspace(-12, 9, int(torch.randint(1, 12, (1,), generator=gen)))
    w1_max = float(10 ** (torch.rand(1, generator=gen) * 2.5 - 0.5))
    w1 = torch.linspace(-w1_max / 3, w1_max, int(torch.randint(1, 16, (1,), generator=gen)))
    for loss in ("mse", "bce"):
        s = loss_surface(x, y, w0, w1, model="logistic", loss=loss)
        ref = naive_surface(x, y, w0.double(), w1.double(), "logistic", loss)
        assert torch.allclose(s.loss, ref, rtol=1e-9, atol=1e-11), (n, spread, w1_max)
