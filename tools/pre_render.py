"""Quarto pre-render step: put a local KaTeX into ``vendor/katex/`` (math without a CDN).

KaTeX comes from the npm registry (``npm pack``, which checks the package's integrity);
only the files a page loads are kept: ``katex.min.js``, ``katex.min.css``, the ``woff2``
fonts and the licence. ``vendor/`` is not committed; Quarto copies it into the site
(``project: resources`` in ``_quarto.yml``). Re-running with the files in place is a no-op.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

KATEX_VERSION = "0.16.22"
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "vendor" / "katex"
STAMP = TARGET / "VERSION"


def vendor_katex(target: Path = TARGET) -> None:
    stamp = target / "VERSION"
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == KATEX_VERSION:
        return
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
        fresh = target.with_name(target.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        (fresh / "fonts").mkdir(parents=True)
        for name in ("katex.min.js", "katex.min.css"):
            shutil.copy2(dist / name, fresh / name)
        for font in (dist / "fonts").glob("*.woff2"):
            shutil.copy2(font, fresh / "fonts" / font.name)
        shutil.copy2(Path(tmp) / "package" / "LICENSE", fresh / "LICENSE")
        (fresh / "VERSION").write_text(KATEX_VERSION + "\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        fresh.rename(target)


if __name__ == "__main__":
    vendor_katex()
