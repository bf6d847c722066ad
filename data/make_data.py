"""Regenerate the CSV files in data/ from the generators in dlbasics.data.

Usage (from the repository root, with dlbasics installed):

    python data/make_data.py                  # rewrite every file in data/
    python data/make_data.py --out-dir /tmp   # write elsewhere (e.g. to compare)
    python data/make_data.py --check          # exit 1 if a shipped file is out of date
                                              # (y exactly, other columns to float32 rounding)

Every number is written with 9 significant digits ("%.9g"), enough for each
float32 value to read back bit for bit, and each file is read back and compared
with its generator before this script reports success. See data/README.md.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from dlbasics.data import SEED, irony_of_spec

HERE = Path(__file__).resolve().parent


def irony_of_spec_table() -> dict[str, torch.Tensor]:
    """Week 5: 2000 points, logit 5 + 15x (x < 0) / 5 - 5x (x >= 0), y ~ Bernoulli."""
    x, y, prob = irony_of_spec(n=2000, seed=SEED)
    return {"x": x, "prob": prob, "y": y}


# file name -> function returning {column: float32 tensor of shape (n, 1)}, in column order
FILES: dict[str, Callable[[], dict[str, torch.Tensor]]] = {
    "irony_of_spec.csv": irony_of_spec_table,
}


def _fmt(value: float) -> str:
    return f"{value:.9g}"


def render(table: dict[str, torch.Tensor]) -> str:
    """The CSV text of ``{column: tensor (n, 1)}``: a header row, then one row per point."""
    columns = [t.reshape(-1).tolist() for t in table.values()]
    lines = [",".join(table)]
    lines += [",".join(_fmt(v) for v in row) for row in zip(*columns, strict=True)]
    return "\n".join(lines) + "\n"


def _read_back(path: Path) -> dict[str, torch.Tensor]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    values = torch.tensor([[float(v) for v in row] for row in rows[1:]], dtype=torch.float32)
    return {col: values[:, i : i + 1] for i, col in enumerate(rows[0])}


def matches(shipped: dict[str, torch.Tensor], table: dict[str, torch.Tensor]) -> bool:
    """Same columns, the 0/1 column ``y`` equal, the others equal to float32 rounding.

    Byte equality would hold on one CPU only: another CPU's ``linspace`` or ``sigmoid``
    may round the last bit differently (``../shared/other-cpu`` shows it).
    """
    if list(shipped) != list(table):
        return False
    for col, t in table.items():
        t = t.float()
        if shipped[col].shape != t.shape:
            return False
        if col == "y" and not torch.equal(shipped[col], t):
            return False
        if not torch.allclose(shipped[col], t, rtol=1e-6, atol=1e-6):
            return False
    return True


def write(name: str, out_dir: Path) -> Path:
    """Write ``name`` into ``out_dir`` and check that it reads back exactly."""
    table = FILES[name]()
    path = out_dir / name
    path.write_text(render(table), newline="")
    back = _read_back(path)
    for col, t in table.items():
        if not torch.equal(back[col], t.float()):
            raise RuntimeError(f"{path}: column {col!r} does not read back exactly")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"files to write (default: all of {list(FILES)})")
    parser.add_argument("--out-dir", type=Path, default=HERE, help="folder to write into")
    parser.add_argument(
        "--check", action="store_true", help="compare the files in data/ instead of writing"
    )
    args = parser.parse_args(argv)
    names = args.names or list(FILES)
    unknown = [n for n in names if n not in FILES]
    if unknown:
        parser.error(f"unknown file(s) {unknown}; choose from {list(FILES)}")
    if args.check:
        stale = [n for n in names if not matches(_read_back(HERE / n), FILES[n]())]
        for n in stale:
            print(f"out of date: data/{n} (run: python data/make_data.py {n})")
        return 1 if stale else 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for n in names:
        path = write(n, args.out_dir)
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
