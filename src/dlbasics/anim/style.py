"""How an animation looks: its colours and the :class:`Style` options.

Rules: every option of :class:`Style` is checked when the ``Style`` is made (a
``TypeError`` or ``ValueError`` that names the option), so a bad value never reaches
matplotlib. Colours are fixed: the first run is green (fit) and black (path), a
compared run purple, the current point red, held-out points orange.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from dlbasics._checks import check_int, check_real
from dlbasics.plots import STAR_COLORS

__all__ = ["Style", "FIT_COLOR", "PATH_COLOR", "POINT_COLOR", "SECOND_COLOR", "TEST_COLOR"]

FIT_COLOR = "#2ca02c"
PATH_COLOR = "#111111"
POINT_COLOR = "#d62728"
MARKER_COLORS = STAR_COLORS  # stars on the surface, as in dlbasics.plots.plot_surface
SECOND_COLOR = "#9467bd"  # fit, path and point of a compared second run
TEST_COLOR = "#ff7f0e"  # held-out test points (hollow squares)


@dataclass(frozen=True)
class Style:
    """Look and size of an animation (all optional).

    Attributes:
        fps: frames per second when playing (> 0).
        figsize: figure size ``(width, height)`` in inches, each in ``(0, 50)``
            (default ``(8, 3.2)`` with a surface, ``(5, 3.2)`` without).
        dpi: pixels per inch of the background image (> 0).
        quality: JPEG quality of the background image, 1-95.
        elev, azim: viewing angles of the 3-D panel in degrees.
        max_bytes: largest HTML allowed; a bigger animation raises ``ValueError``.
    """

    fps: float = 5
    figsize: tuple[float, float] | None = None
    dpi: float = 110
    quality: int = 80
    elev: float = 20.0
    azim: float = 40.0
    max_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        checked = {
            "fps": check_real(self.fps, "fps", positive=True),
            "dpi": check_real(self.dpi, "dpi", positive=True),
            "quality": check_int(self.quality, "quality", minimum=1),
            "elev": check_real(self.elev, "elev"),
            "azim": check_real(self.azim, "azim"),
            "max_bytes": check_int(self.max_bytes, "max_bytes", minimum=1),
        }
        if checked["quality"] > 95:
            raise ValueError(f"quality must be <= 95, got {self.quality}")
        size = self.figsize
        if size is not None:
            if (
                not isinstance(size, (tuple, list))
                or len(size) != 2
                or not all(isinstance(v, Real) and 0 < float(v) < 50 for v in size)
            ):
                raise ValueError(
                    f"figsize must be (width, height) in inches, each in (0, 50), got {size!r}"
                )
            checked["figsize"] = (float(size[0]), float(size[1]))
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def size(self, with_surface: bool) -> tuple[float, float]:
        """The figure size in inches (the default depends on the 3-D panel)."""
        if self.figsize is not None:
            return self.figsize
        return (8.0, 3.2) if with_surface else (5.0, 3.2)

    @property
    def interval_ms(self) -> int:
        """Milliseconds between frames when playing."""
        return max(1, round(1000 / self.fps))


def tick(v: float, _pos=None) -> str:
    """Short tick labels: ``40k`` for 40000, ``2.5`` for 2.5."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"{v / scale:g}{suffix}"
    return f"{v:g}"


def fmt(v: float) -> str:
    """A loss for the status line: 4 significant digits, ``inf``/``nan`` as such."""
    return f"{v:.4g}" if math.isfinite(v) else str(v)
