"""The course's data sets reproduce the lectures' numbers; loaders fail clearly.

MNIST is checked against its idx files parsed with NumPy (independent of torchvision).
"""

from pathlib import Path

import numpy as np
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
    x64, y64 = X[:, 1].double(), y.double()
    sse = float(((y64 - (-5.0 + 10.0 * x64)) ** 2).sum())
    assert sse == pytest.approx(8587.6875, abs=0.01)  # the lecture printed tensor(8587.6875)
    check = check_gradient(
        lambda w: torch.sum((y - X @ w) ** 2), W, analytic=lambda w: -2 * X.T @ y + 2 * X.T @ X @ w
    )
    assert torch.allclose(check.autograd, check.analytic, rtol=1e-5)
    # the lecture's forward differences (h = 0.001) in float32: off from the float64
    # gradient by at most the step's truncation h * H_ii / 2 plus float32 rounding of
    # two losses of size ~sse, divided by h
    X64 = X.double()
    exact = -2 * X64.T @ y64 + 2 * X64.T @ X64 @ W.double()
    h, eps32 = 1e-3, float(torch.finfo(torch.float32).eps)
    bound = h * torch.diag(2 * X64.T @ X64) / 2 + 2 * eps32 * sse / h
    assert bool(((check.numeric.double() - exact).abs() <= bound).all())


def test_generators_draw_the_lectures_numbers_without_touching_the_global_generator():
    """The lectures seed torch's global generator and draw; the helpers must match that."""
    torch.manual_seed(data.SEED)
    x, _ = torch.randn(100).sort()
    eps = torch.randn(100) * 0.5
    X, y = data.regression_data()
    assert torch.equal(X[:, 1], x) and torch.equal(y, 2.5 + 4.0 * x + eps)
    grid = torch.linspace(-1, 1, 2000).reshape(-1, 1)
    torch.manual_seed(data.SEED)
    y_lecture = torch.bernoulli(torch.sigmoid(-1 + 5 * grid))
    assert torch.equal(data.logistic_toy()[1], y_lecture)
    torch.manual_seed(data.SEED)
    noise = torch.randn(2000).reshape(-1, 1) * 0.05
    x_w, y_w, truth = data.wavy_curve()
    assert torch.equal(y_w, truth + noise)

    torch.manual_seed(7)
    expected = torch.rand(5)
    torch.manual_seed(7)
    for make in (data.regression_data, data.logistic_toy, data.irony_of_spec, data.step_prob):
        make()
    data.wavy_curve()
    assert torch.equal(torch.rand(5), expected), "a data generator reseeded the global generator"


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
        (lambda: data.logistic_toy(w1="5"), TypeError, "w1 must be a real number"),
        (lambda: data.regression_data(w0=float("inf")), ValueError, "w0 must be finite"),
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


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("# note\nx,y\n1,0\n2,yes\n", r"bad.csv, line 4, column 'y': 'yes' is not a finite number"),
        ("x,y\n1,0\n2,nan\n", r"bad.csv, line 3, column 'y': 'nan' is not a finite number"),
        ("x,y\n1,0\n2\n", r"bad.csv, line 3: 1 cells but the header has 2 columns \['x', 'y'\]"),
    ],
)
def test_load_csv_names_the_line_and_column_of_a_bad_value(tmp_path, monkeypatch, text, match):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "bad.csv").write_text(text)
    monkeypatch.setattr(data, "__file__", str(tmp_path / "src" / "dlbasics" / "data.py"))
    with pytest.raises(ValueError, match=match):
        data.load_csv("bad.csv")


def test_data_root_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DLBASICS_DATA", str(tmp_path))
    assert data.data_root() == tmp_path
    monkeypatch.delenv("DLBASICS_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_root() == tmp_path / "cache" / "dlbasics"


# ---------------------------------------------------------------- MNIST


@pytest.fixture(scope="module")
def mnist_root() -> Path:
    """Where the posts read MNIST: $DLBASICS_DATA (``make test`` sets it), else the cache."""
    return data.data_root()


def _read_idx(path: Path) -> np.ndarray:
    """An idx file (MNIST's format): big-endian header of dims, then unsigned bytes."""
    raw = path.read_bytes()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


@pytest.mark.parametrize("train_split", [True, False])
def test_mnist_matches_the_idx_files(mnist_root: Path, train_split: bool) -> None:
    X, y = data.mnist(train_split, root=mnist_root)
    prefix = "train" if train_split else "t10k"
    images = _read_idx(mnist_root / "MNIST" / "raw" / f"{prefix}-images-idx3-ubyte")
    labels = _read_idx(mnist_root / "MNIST" / "raw" / f"{prefix}-labels-idx1-ubyte")
    assert X.shape == (len(labels), 784) and X.dtype == torch.float32
    assert y.dtype == torch.int64
    np.testing.assert_array_equal(y.numpy(), labels)
    np.testing.assert_allclose(X.numpy(), images.reshape(-1, 784) / 255.0, rtol=0, atol=1e-7)


def test_mnist_images_and_digit_subsets_match_the_idx_files(mnist_root: Path) -> None:
    """Every variant is checked against the raw idx files, not against another call."""
    raw = mnist_root / "MNIST" / "raw"
    images = _read_idx(raw / "t10k-images-idx3-ubyte").astype(np.float64) / 255.0
    labels = _read_idx(raw / "t10k-labels-idx1-ubyte").astype(np.int64)
    Ximg, yimg = data.mnist(False, flatten=False, root=mnist_root)
    assert Ximg.shape == (len(labels), 1, 28, 28)
    np.testing.assert_allclose(Ximg[:, 0].numpy(), images, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(yimg.numpy(), labels)
    X17, y17 = data.mnist(False, digits=(1, 7), root=mnist_root)
    rows = [i for i, t in enumerate(labels.tolist()) if t in (1, 7)]  # in file order
    np.testing.assert_allclose(X17.numpy(), images[rows].reshape(-1, 784), rtol=0, atol=1e-7)
    np.testing.assert_array_equal(y17.numpy(), labels[rows])
    # the two-digit loader: the 3s and 7s in file order, 7 -> 1.0 and 3 -> 0.0
    X37, y37 = data.mnist_3_vs_7(False, root=mnist_root)
    rows = [i for i, t in enumerate(labels.tolist()) if t in (3, 7)]
    np.testing.assert_allclose(X37.numpy(), images[rows].reshape(-1, 784), rtol=0, atol=1e-7)
    assert y37.shape == (len(rows), 1) and y37.dtype == torch.float32
    assert y37.reshape(-1).tolist() == [1.0 if labels[i] == 7 else 0.0 for i in rows]


@pytest.mark.parametrize(
    ("kwargs", "err", "words"),
    [
        ({"digits": (3, 3)}, ValueError, "different digits"),
        ({"digits": (10,)}, ValueError, "between 0 and 9"),
        ({"digits": ()}, TypeError, "sequence of ints"),
        ({"digits": "37"}, TypeError, "sequence of ints"),
        ({"flatten": "yes"}, TypeError, "flatten must be a bool"),
        ({"train": 1}, TypeError, "train must be a bool"),
    ],
)
def test_mnist_rejects_bad_arguments(tmp_path: Path, kwargs, err: type, words: str) -> None:
    with pytest.raises(err, match=words):
        data.mnist(root=tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_make_data_check_allows_float32_rounding_but_not_a_changed_draw() -> None:
    """``data/make_data.py --check`` must pass on any CPU (the last bit of linspace or
    sigmoid may differ) and still catch a changed file."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "make_data.py"
    spec = importlib.util.spec_from_file_location("make_data", path)
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    x = torch.linspace(-1, 1, 5).reshape(5, 1)
    table = {"x": x, "prob": torch.sigmoid(x), "y": torch.tensor([[0.0], [1], [1], [0], [1]])}
    assert make_data.matches(table, table)
    one_ulp = {**table, "x": torch.nextafter(x, torch.full_like(x, 2.0))}
    assert make_data.matches(one_ulp, table)
    flipped = {**table, "y": 1 - table["y"]}
    assert not make_data.matches(flipped, table)
    moved = {**table, "prob": table["prob"] + 1e-3}
    assert not make_data.matches(moved, table)
    assert not make_data.matches({"x": x}, table)
    assert make_data.main(["--check"]) == 0  # the shipped files on this machine
