"""The loss surface equals a per-point float64 loop at a relative tolerance; bad input fails."""

import math

import numpy as np
import pytest
import torch

from dlbasics.data import logistic_toy, regression_data
from dlbasics.surface import Surface, loss_at, loss_surface


def _sigmoid(t: float) -> float:
    """1 / (1 + e^-t) without overflow: e^t / (1 + e^t) for negative t."""
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


def _neg_log_sigmoid(t: float) -> float:
    """-log(sigmoid(t)) = log(1 + e^-t), written so that neither branch overflows."""
    return math.log1p(math.exp(-t)) if t >= 0 else -t + math.log1p(math.exp(t))


def _residual(y: float, z: float) -> float:
    """y - sigmoid(z); for z > 0 as (y - 1) + sigmoid(-z), since 1 - sigmoid(z) rounds away."""
    return (y - 1.0) + _sigmoid(-z) if z > 0 else y - _sigmoid(z)


def reference(x, y, w0, w1, model, loss) -> np.ndarray:
    """The loss at each grid point, one grid point and one sample at a time (math, float64)."""
    xs = x.reshape(-1).double().tolist()
    ys = y.reshape(-1).double().tolist()
    g0 = torch.as_tensor(w0, dtype=torch.float64).tolist()
    g1 = torch.as_tensor(w1, dtype=torch.float64).tolist()
    out = np.empty((len(g0), len(g1)))
    for i, a in enumerate(g0):
        for j, b in enumerate(g1):
            terms = []
            for xk, yk in zip(xs, ys, strict=True):
                z = a + b * xk
                if model == "linear":
                    terms.append((yk - z) ** 2)
                elif loss == "bce":
                    terms.append(yk * _neg_log_sigmoid(z) + (1 - yk) * _neg_log_sigmoid(-z))
                else:
                    terms.append(_residual(yk, z) ** 2)
            total = math.fsum(terms)
            out[i, j] = total if loss == "sse" else total / len(xs)
    return out


def assert_relatively_close(surface: Surface, ref: np.ndarray, rtol: float = 1e-12) -> None:
    """Relative agreement everywhere; an absolute floor only below float64's normal range."""
    got = surface.loss.numpy()
    assert got.shape == ref.shape
    assert (got >= 0).all(), f"negative loss {got.min()}"
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=1e-300)


CASES = [
    ("linear", "sse"),
    ("linear", "mse"),
    ("logistic", "sse"),
    ("logistic", "mse"),
    ("logistic", "bce"),
]


@pytest.mark.parametrize(("model", "loss"), CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_surface_equals_the_loop_on_the_course_data(model, loss, seed):
    gen = torch.Generator().manual_seed(seed)
    if model == "linear":
        X, y = regression_data(n=57, seed=seed)
        x = X[:, 1]
    else:
        x, y, _ = logistic_toy(n=301, seed=seed)
    w0 = torch.sort(torch.rand(9, generator=gen, dtype=torch.float64) * 8 - 4).values
    w1 = torch.sort(torch.rand(7, generator=gen, dtype=torch.float64) * 8 - 2).values
    # max_elements small enough to force several chunks (one w0 row each)
    s = loss_surface(x, y, w0, w1, model=model, loss=loss, max_elements=5 * 301)
    assert_relatively_close(s, reference(x, y, w0, w1, model, loss))


@pytest.mark.parametrize("loss", ["sse", "mse", "bce"])
def test_separable_data_tiny_losses_are_positive_and_relatively_exact(loss):
    """Labels y = [x > 0] with a gap at 0: steep slopes fit almost perfectly (loss ~1e-130)."""
    half = torch.linspace(0.5, 1, 100, dtype=torch.float64)
    x = torch.cat([-half.flip(0), half])
    y = (x > 0).double()
    w0 = torch.tensor([-1.0, 0.0, 0.5], dtype=torch.float64)
    w1 = torch.tensor([10.0, 100.0, 300.0, 40000.0], dtype=torch.float64)
    s = loss_surface(x, y, w0, w1, model="logistic", loss=loss)
    ref = reference(x, y, w0, w1, "logistic", loss)
    assert_relatively_close(s, ref)
    assert (ref[:, :3] > 0).all() and ref[:, :3].min() < 1e-60
    assert np.isfinite(np.log(s.loss.numpy()[:, :3])).all(), "a log-scale plot must work"
    assert (s.loss[:, 3] == 0).all()  # e^-20000: below float64, as in the loop


@pytest.mark.parametrize("loss", ["sse", "mse", "bce"])
def test_huge_logits(loss):
    """|w0 + w1 x| up to 1e4: no overflow, and saturated points cost exactly |z| in BCE."""
    x, y, _ = logistic_toy(n=500)
    w0 = torch.tensor([-900.0, -3.0, 0.0, 650.0, 900.0], dtype=torch.float64)
    w1 = torch.tensor([-9000.0, -60.0, 0.0, 1.0, 80.0], dtype=torch.float64)
    s = loss_surface(x, y, w0, w1, model="logistic", loss=loss, max_elements=700)
    assert bool(torch.isfinite(s.loss).all())
    assert_relatively_close(s, reference(x, y, w0, w1, "logistic", loss))
    if loss == "bce":  # w1 = 0, w0 = -900: every y = 1 row costs 900
        assert s.loss[0, 2].item() == pytest.approx(900 * y.double().mean().item(), rel=1e-14)


@pytest.mark.parametrize("seed", range(12))
def test_logistic_surface_equals_the_loop_on_random_data(seed):
    """Random sizes, spreads, shifts, slopes; 0/1 labels or probabilities in [0, 1]."""
    gen = torch.Generator().manual_seed(seed)
    n = int(torch.randint(1, 400, (1,), generator=gen))
    spread = float(10 ** (torch.rand(1, generator=gen) * 3 - 1.5))
    x = torch.randn(n, generator=gen, dtype=torch.float64) * spread + (seed % 3 - 1) * 5.0
    if seed == 5:
        x = torch.full((n,), 2.0, dtype=torch.float64)  # every x equal
    y = torch.rand(n, generator=gen, dtype=torch.float64)
    if seed % 2:
        y = y.round()
    w0 = torch.linspace(-12, 9, int(torch.randint(1, 8, (1,), generator=gen)))
    w1_max = float(10 ** (torch.rand(1, generator=gen) * 2.5 - 0.5))
    w1 = torch.linspace(-w1_max / 3, w1_max, int(torch.randint(1, 8, (1,), generator=gen)))
    for loss in ("sse", "mse", "bce"):
        s = loss_surface(x, y, w0, w1, model="logistic", loss=loss)
        assert_relatively_close(s, reference(x, y, w0, w1, "logistic", loss))


def test_linear_surface_is_zero_exactly_at_a_perfect_fit():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    y = 1.0 + 2.0 * x
    s = loss_surface(x, y, [0.0, 1.0, 2.0], [1.0, 2.0, 3.0], model="linear", loss="sse")
    assert s.loss[1, 1].item() == 0.0
    assert_relatively_close(s, reference(x, y, [0.0, 1.0, 2.0], [1.0, 2.0, 3.0], "linear", "sse"))


def test_surface_reproduces_week1_loss_and_argmin():
    X, y = regression_data()
    x = X[:, 1]
    sse = math.fsum((float(b) - (-5.0 + 10.0 * float(a))) ** 2 for a, b in zip(x, y, strict=True))
    assert loss_at(x, y, -5, 10) == pytest.approx(sse, rel=1e-14)
    assert sse == pytest.approx(8587.6875, abs=0.01)  # the lecture printed tensor(8587.6875)
    s = loss_surface(x, y, torch.arange(-6, 11, 0.5), torch.arange(-6, 11, 0.5))
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
        (
            {"model": "logistic", "loss": "bce", "y": torch.tensor([0.0, 1.0, 2.0, 0.0, 1.0])},
            ValueError,
            r"y \(labels for loss='bce'\) must lie in \[0, 1\], got values such as \[2.0\]",
        ),
    ],
)
def test_bad_input(kwargs, err, match):
    args = {"x": X1, "y": Y1, "w0": [0.0, 1.0], "w1": [0.0, 1.0]} | kwargs
    with pytest.raises(err, match=match):
        loss_surface(**args)


def test_loss_at_bad_point():
    with pytest.raises(TypeError, match="w0 must be a real number, got str"):
        loss_at(X1, Y1, "a", 1.0)
    with pytest.raises(ValueError, match="w1 must be finite"):
        loss_at(X1, Y1, 0.0, float("nan"))


def test_surface_rejects_nonfinite_inputs_of_any_float_dtype():
    """bfloat16 has no NumPy twin: the finiteness check falls back to PyTorch."""
    x = torch.tensor([0.0, 1.0, float("inf")], dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="x must contain only finite"):
        loss_surface(x, torch.zeros(3), [0.0], [0.0], model="logistic", loss="bce")
    s = loss_surface(x[:2], torch.zeros(2), [0.0], [0.0], model="logistic", loss="bce")
    assert s.loss.item() == pytest.approx(math.log(2), rel=1e-15)


def test_surface_ignores_autograd_on_inputs():
    x, y, _ = logistic_toy(n=50)
    w0 = torch.tensor([0.0, 1.0], requires_grad=True)
    s = loss_surface(x.requires_grad_(), y, w0, [0.0, 2.0], model="logistic", loss="bce")
    assert not s.loss.requires_grad and s.loss.shape == (2, 2)


def test_loss_at_equals_the_loop_at_single_points():
    """loss_at against the float64 loop (not against loss_surface, which it calls)."""
    x, y, _ = logistic_toy()
    for loss in ("mse", "bce"):
        for w0, w1 in [(-10.0, -1.0), (-7.75, 8.0), (2.6, 9.8)]:
            point = loss_at(x, y, w0, w1, model="logistic", loss=loss)
            ref = reference(x, y, [w0], [w1], "logistic", loss)[0, 0]
            assert point == pytest.approx(ref, rel=1e-12)
    # a hand-computed case: one point x = 0, y = 1, at (0, 0): p = 1/2, BCE = log 2
    one = torch.tensor([[0.0]]), torch.tensor([[1.0]])
    assert loss_at(*one, 0.0, 0.0, model="logistic", loss="bce") == pytest.approx(math.log(2))
    assert loss_at(*one, 0.0, 0.0, model="logistic", loss="mse") == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("point", "err", "words"),
    [
        ((float("nan"), 0.0), ValueError, "w0 must be finite, got nan"),
        ((0.0, "1"), TypeError, "w1 must be a real number, got str"),
        ((5.0, 0.0), ValueError, r"\(w0, w1\) = \(5.0, 0.0\) lies outside the grid"),
    ],
)
def test_interpolate_bad_point(point, err, words):
    s = loss_surface(torch.zeros(3), torch.zeros(3), [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0])
    with pytest.raises(err, match=words):
        s.interpolate(*point)
