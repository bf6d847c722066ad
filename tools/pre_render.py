"""Quarto pre-render step: put a local KaTeX into ``vendor/katex/`` (math without a CDN).

KaTeX comes from the npm registry (``npm pack``, which checks the package's integrity);
only the files a page loads are kept: ``katex.min.js``, ``katex.min.css``, the ``woff2``
fonts and the licence. ``vendor/`` is not committed; Quarto copies it into the site
(``project: resources`` in ``_quarto.yml``). The files are kept in a user cache too
(``~/.cache/dlbasics/katex-<version>``), so npm is needed once per machine; re-running
with the files in place is a no-op.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

KATEX_VERSION = "0.16.22"
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "vendor" / "katex"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlbasics"


def _current(folder: Path) -> bool:
    stamp = folder / "VERSION"
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == KATEX_VERSION


def _copy_atomically(source: Path, target: Path) -> None:
    fresh = target.with_name(f"{target.name}.new-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(source, fresh)
    shutil.rmtree(target, ignore_errors=True)
    fresh.rename(target)


def fetch_katex(dest: Path) -> None:
    """KaTeX's page files from the npm registry into ``dest`` (with its licence)."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(
            "pre-render: npm is needed once to fetch KaTeX (math on the pages) from the npm "
            "registry. Install it (Debian/Ubuntu: apt-get install npm; macOS: brew install node) "
            "and render again."
        )
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"katex@{KATEX_VERSION}", "--silent", "--pack-destination", tmp],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with tarfile.open(next(Path(tmp).glob("katex-*.tgz"))) as tar:
            tar.extractall(tmp, filter="data")
        dist = Path(tmp) / "package" / "dist"
        files = Path(tmp) / "files"
        (files / "fonts").mkdir(parents=True)
        for name in ("katex.min.js", "katex.min.css"):
            shutil.copy2(dist / name, files / name)
        for font in (dist / "fonts").glob("*.woff2"):
            shutil.copy2(font, files / "fonts" / font.name)
        shutil.copy2(Path(tmp) / "package" / "LICENSE", files / "LICENSE")
        (files / "VERSION").write_text(KATEX_VERSION + "\n", encoding="utf-8")
        dest.parent.mkdir(parents=True, exist_ok=True)
        _copy_atomically(files, dest)


def vendor_katex(target: Path = TARGET, cache: Path = CACHE) -> None:
    if _current(target):
        return
    cached = cache / f"katex-{KATEX_VERSION}"
    if not _current(cached):
        fetch_katex(cached)
    _copy_atomically(cached, target)


if __name__ == "__main__":
    vendor_katex()
