"""The course's data sets, generated exactly as in the lectures, plus CSV and MNIST loading.

Generators (all seeded, all return float32 tensors):

* :func:`regression_data`: Week 1, ``y = 2.5 + 4 x + N(0, 0.5^2)`` on 100 sorted
  standard-normal ``x``.
* :func:`logistic_toy`: Weeks 3-4, 2000 points on [-1, 1], ``pi = sigmoid(-1 + 5 x)``.
* :func:`hours_passed`: Week 3's four students (hours studied, passed or not).
* :func:`irony_of_spec`: Week 5, the rise-then-fall success probability; shipped as
  ``data/irony_of_spec.csv`` and read back with :func:`load_csv`.
* :func:`step_prob`, :func:`wavy_curve`: Week 6's step-shaped probability and curve.

:func:`mnist` (all ten digits) and :func:`mnist_3_vs_7` load MNIST through torchvision
(``download=True``) from the folder named by the ``DLBASICS_DATA`` environment variable.
"""

from __future__ import annotations

import csv
import math
import os
from importlib import resources
from pathlib import Path

import torch

from dlbasics._checks import check_int, check_real

__all__ = [
    "regression_data",
    "logistic_toy",
    "hours_passed",
    "irony_of_spec",
    "step_prob",
    "wavy_curve",
    "wavy_truth",
    "load_csv",
    "data_path",
    "data_root",
    "mnist",
    "mnist_3_vs_7",
    "SEED",
]

SEED = 43052
"""The seed used throughout the course's lectures."""


def _generator(seed: int) -> torch.Generator:
    """A private generator seeded like ``torch.manual_seed(seed)``: the same draws as the
    lectures, while torch's global generator (the reader's next cell) is left alone."""
    return torch.Generator().manual_seed(check_int(seed, "seed"))


def regression_data(
    n: int = 100, w0: float = 2.5, w1: float = 4.0, sigma: float = 0.5, seed: int = SEED
) -> tuple[torch.Tensor, torch.Tensor]:
    """Week 1's data: ``y = X @ [w0, w1] + eps`` with ``x`` sorted standard normal.

    The draws happen in the lecture's order (``x`` first, then the noise), so the
    default arguments reproduce its numbers, e.g. SSE 8587.6875 at ``W = (-5, 10)``.

    Returns:
        ``X`` of shape ``(n, 2)`` (a column of ones, then ``x``) and ``y`` of shape ``(n,)``.
    """
    n = check_int(n, "n", minimum=2)
    sigma = check_real(sigma, "sigma")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    gen = _generator(seed)
    x, _ = torch.randn(n, generator=gen).sort()
    X = torch.stack([torch.ones(n), x], dim=1)
    W = torch.tensor([check_real(w0, "w0"), check_real(w1, "w1")])
    eps = torch.randn(n, generator=gen) * sigma
    y = X @ W + eps
    return X, y


def _bernoulli_on_grid(logit, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``x`` evenly spaced on [-1, 1], ``prob = sigmoid(logit(x))``, ``y ~ Bernoulli(prob)``.

    ``y`` is drawn from a generator seeded with ``seed``: the lectures' draws after
    ``torch.manual_seed(seed)``.
    """
    n = check_int(n, "n", minimum=2)
    gen = _generator(seed)
    x = torch.linspace(-1, 1, n).reshape(n, 1)
    prob = torch.sigmoid(logit(x))
    return x, torch.bernoulli(prob, generator=gen), prob


def logistic_toy(
    n: int = 2000, w0: float = -1.0, w1: float = 5.0, seed: int = SEED
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weeks 3-4: ``x`` evenly spaced on [-1, 1], ``y ~ Bernoulli(sigmoid(w0 + w1 x))``.

    Returns:
        ``x``, ``y`` and the true probability ``prob``, each of shape ``(n, 1)``.
    """
    w0, w1 = check_real(w0, "w0"), check_real(w1, "w1")
    return _bernoulli_on_grid(lambda x: w0 + w1 * x, n, seed)


def hours_passed() -> tuple[torch.Tensor, torch.Tensor]:
    """Week 3's four students: hours studied ``x = 1, 2, 3, 4`` and passed ``y = 0, 0, 1, 1``.

    Returns:
        ``x`` and ``y``, each float32 of shape ``(4, 1)`` (one feature, one target column).
    """
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    y = torch.tensor([[0.0], [0.0], [1.0], [1.0]])
    return x, y


def irony_logit(x: torch.Tensor) -> torch.Tensor:
    """Week 5's true logit: ``5 + 15 x`` for ``x < 0`` and ``5 - 5 x`` for ``x >= 0``."""
    return torch.where(x < 0, 5 + 15 * x, 5 - 5 * x)


def irony_of_spec(
    n: int = 2000, seed: int = SEED
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Week 5's "irony of spec" data: success rises with ``x`` up to 0, then falls.

    ``x`` is evenly spaced on [-1, 1], ``prob = sigmoid(irony_logit(x))`` and
    ``y ~ Bernoulli(prob)`` drawn as after ``torch.manual_seed(seed)``.

    Returns:
        ``x``, ``y``, ``prob``, each of shape ``(n, 1)``.
    """
    return _bernoulli_on_grid(irony_logit, n, seed)


def step_logit(x: torch.Tensor) -> torch.Tensor:
    """Week 6's step-shaped logit: ``15 x + 6`` below -0.2, -1 on (-0.2, 0.4), -3 elsewhere."""
    u = torch.full_like(x, -3.0)
    u = torch.where(x < -0.2, 15 * x + 6, u)
    return torch.where((x > -0.2) & (x < 0.4), torch.full_like(x, -1.0), u)


def step_prob(n: int = 2000, seed: int = SEED) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Week 6's step-shaped success probability on [-1, 1].

    Returns:
        ``x``, ``y ~ Bernoulli(prob)`` and ``prob = sigmoid(step_logit(x))``, each ``(n, 1)``.
    """
    return _bernoulli_on_grid(step_logit, n, seed)


def wavy_truth(x: torch.Tensor) -> torch.Tensor:
    """Week 6's curve ``exp(-x) * |cos 3x| * sin 3x``."""
    return torch.exp(-x) * torch.abs(torch.cos(3 * x)) * torch.sin(3 * x)


def wavy_curve(
    n: int = 2000, sigma: float = 0.05, seed: int = SEED
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Week 6's curve with noise: ``y = wavy_truth(x) + N(0, sigma^2)`` on [0, 2].

    Returns:
        ``x``, ``y`` and the noiseless ``truth``, each of shape ``(n, 1)``.
    """
    n = check_int(n, "n", minimum=2)
    sigma = check_real(sigma, "sigma")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    gen = _generator(seed)
    x = torch.linspace(0, 2, n).reshape(n, 1)
    eps = torch.randn(n, generator=gen).reshape(n, 1) * sigma
    truth = wavy_truth(x)
    return x, truth + eps, truth


# ---------------------------------------------------------------- CSV files


def data_path(name: str) -> Path:
    """Path of a file shipped in ``data/`` (checkout) or ``dlbasics/_data`` (installed)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty file name string, got {name!r}")
    if Path(name).name != name:
        raise ValueError(f"name must be a bare file name inside data/, got {name!r}")
    candidates = []
    packaged = resources.files("dlbasics").joinpath("_data", name)
    candidates.append(Path(str(packaged)))
    candidates.append(Path(__file__).resolve().parents[2] / "data" / name)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"data file {name!r} not found; looked in: " + ", ".join(str(p) for p in candidates)
    )


def _csv_number(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{path}, line {line}, column {column!r}: {text!r} is not a finite number")
    return value


def load_csv(name: str) -> dict[str, torch.Tensor]:
    """Read a numeric CSV from ``data/`` into ``{column: float32 tensor of shape (n, 1)}``.

    Lines starting with ``#`` are comments; the first other line is the header.
    A cell that is not a finite number, or a row with the wrong number of cells, raises
    ``ValueError`` naming the file, line and column.
    """
    path = data_path(name)
    with path.open(newline="") as fh:
        lines = [(k, text) for k, text in enumerate(fh, start=1) if not text.startswith("#")]
    reader = csv.reader(text for _, text in lines)
    header = next(reader, None)
    if not header:
        raise ValueError(f"{path} has no header row")
    rows = []
    for row in reader:
        if not row:
            continue
        line = lines[reader.line_num - 1][0]  # the file's own line number
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {line}: {len(row)} cells but the header has {len(header)} "
                f"columns {header}"
            )
        rows.append([_csv_number(v, path, line, c) for v, c in zip(row, header, strict=True)])
    if not rows:
        raise ValueError(f"{path} has a header but no rows")
    table = torch.tensor(rows, dtype=torch.float32)
    return {col: table[:, i : i + 1].clone() for i, col in enumerate(header)}


# ---------------------------------------------------------------- MNIST


def data_root() -> Path:
    """Folder for downloaded data: ``$DLBASICS_DATA``, else ``~/.cache/dlbasics``."""
    env = os.environ.get("DLBASICS_DATA")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dlbasics"


def _mnist_dataset(train: bool, root: str | os.PathLike | None):
    """torchvision's MNIST split (``download=True``) from ``root`` or :func:`data_root`."""
    if not isinstance(train, bool):
        raise TypeError(f"train must be a bool, got {type(train).__name__}")
    root = Path(root).expanduser() if root is not None else data_root()
    if root.exists() and not root.is_dir():
        raise ValueError(f"data root {root} exists but is not a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(
            f"data root {root} cannot be created ({err}); set DLBASICS_DATA to a writable folder"
        ) from err
    raw = root / "MNIST" / "raw"
    if not raw.is_dir() and not os.access(root, os.W_OK):
        raise ValueError(
            f"data root {root} holds no MNIST/raw folder and is not writable, so MNIST cannot "
            "be downloaded there; set DLBASICS_DATA to a writable folder or a prepared copy"
        )

    from torchvision.datasets import MNIST

    try:
        return MNIST(root=str(root), train=train, download=True)
    except RuntimeError as err:  # torchvision's "Error downloading ..." (e.g. offline)
        raise RuntimeError(
            f"MNIST is not in {raw} and could not be downloaded there ({err}); connect to "
            "the internet once, or set DLBASICS_DATA to a folder that holds MNIST/raw/"
        ) from err


def _check_digits(digits: object, *, pair: bool) -> tuple[int, ...]:
    what = "a pair of ints like (3, 7)" if pair else "a sequence of ints from 0 to 9"
    if not isinstance(digits, (tuple, list)) or (pair and len(digits) != 2) or not digits:
        raise TypeError(f"digits must be {what}, got {digits!r}")
    for d in digits:
        if isinstance(d, bool) or not isinstance(d, int):
            raise TypeError(f"digits must be ints from 0 to 9, got {digits!r}")
        if not 0 <= d <= 9:
            raise ValueError(f"digits must be between 0 and 9, got {digits!r}")
    if len(set(digits)) != len(digits):
        raise ValueError(f"digits must be {'two ' if pair else ''}different digits, got {digits!r}")
    return tuple(digits)


def mnist(
    train: bool = True,
    *,
    digits: tuple[int, ...] | None = None,
    flatten: bool = True,
    root: str | os.PathLike | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images and their digit labels, pixels scaled to [0, 1].

    Uses ``torchvision.datasets.MNIST(root, train=train, download=True)``: it
    downloads into ``root`` once and then reads the local files.

    Args:
        train: training split (``True``) or test split.
        digits: keep only these digits (default: all ten); labels stay the digits.
        flatten: ``X`` of shape ``(n, 784)`` (``True``) or images ``(n, 1, 28, 28)``.
        root: data folder; default :func:`data_root` (``$DLBASICS_DATA``).

    Returns:
        ``X`` (float32, values in [0, 1]) and ``y`` of shape ``(n,)`` (int64, 0-9).
    """
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be a bool, got {type(flatten).__name__}")
    keep_digits = _check_digits(digits, pair=False) if digits is not None else None
    ds = _mnist_dataset(train, root)
    images, labels = ds.data, ds.targets
    if keep_digits is not None:
        keep = torch.isin(labels, torch.tensor(keep_digits))
        images, labels = images[keep], labels[keep]
    X = images.float() / 255.0
    X = X.reshape(-1, 28 * 28) if flatten else X.reshape(-1, 1, 28, 28)
    return X, labels.long()


def mnist_3_vs_7(
    train: bool = True, root: str | os.PathLike | None = None, digits: tuple[int, int] = (3, 7)
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images of two digits, flattened, for binary classification.

    Args:
        train: training split (``True``) or test split.
        root: data folder; default :func:`data_root` (``$DLBASICS_DATA``).
        digits: the two digits ``(negative, positive)``; labels become 0 and 1.

    Returns:
        ``X`` of shape ``(n, 784)`` with values in [0, 1] (float32) and ``y`` of
        shape ``(n, 1)`` with 0.0 for ``digits[0]`` and 1.0 for ``digits[1]``.
    """
    pair = _check_digits(digits, pair=True)
    X, labels = mnist(train, digits=pair, root=root)
    y = (labels == pair[1]).float().reshape(-1, 1)
    return X, y
