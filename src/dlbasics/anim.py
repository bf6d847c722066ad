"""Light HTML animations of training runs: a static background plus moving vector overlays.

:func:`animate_training` replays a :class:`~dlbasics.train.History`: on the left the
data with the fitted curve of each recorded epoch, on the right (with a
:class:`~dlbasics.surface.Surface`) the 3-D loss surface with the path of
``(w0, w1, loss)``.

How it stays small: everything that does not move (data, true curve, surface, axes,
marked points) is drawn once by matplotlib and sent as one JPEG. What moves (the
fitted curve, the path and the current point) is projected to the image's pixel
coordinates at build time (``proj3d`` for the 3-D panel) and sent as short SVG path
strings, which a tiny inline player draws on an ``<svg>`` over the image. A 30-frame
fit-plus-surface animation is well under 100 KB, with no frame limit and nothing
loaded from outside the page.

The HTML is one ``<figure class="dlbasics-anim">``: a status line (epoch and loss),
the picture, the controls (first, previous, play/pause, next, last, a slider and a
frame counter) and a ``<figcaption>``. Without JavaScript the reader sees the last
frame (the overlay is written into the markup) and no dead controls.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from numbers import Real
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from mpl_toolkits.mplot3d import proj3d
from PIL import Image

from dlbasics._checks import check_int, check_real
from dlbasics.surface import Surface, loss_at
from dlbasics.train import History

__all__ = ["Animation", "animate_training", "frame_indices", "PLAYER_CLASS"]

PLAYER_CLASS = "dlbasics-anim"
"""CSS class of every animation's ``<figure>`` (tests find players by it)."""

FIT_COLOR = "#2ca02c"
PATH_COLOR = "#111111"
POINT_COLOR = "#d62728"
MARKER_COLORS = ("#ffd700", "#ff7f0e", "#9467bd", "#17becf", "#8c564b")
MAX_PATH_POINTS = 400
SECOND_COLOR = "#9467bd"  # fit, path and point of a compared second run
TEST_COLOR = "#ff7f0e"  # held-out test points (hollow squares)


@dataclass(frozen=True)
class Animation:
    """A self-contained HTML animation (displays itself in Jupyter and Quarto).

    Attributes:
        html: the HTML fragment (inline CSS, JS and images only).
        n_frames: number of frames in the player.
        label: what the animation shows (its caption and accessible name).
    """

    html: str
    n_frames: int
    label: str

    @property
    def nbytes(self) -> int:
        """Size of :attr:`html` in bytes (UTF-8)."""
        return len(self.html.encode("utf-8"))

    def _repr_markdown_(self) -> str:
        """Displayed as Markdown holding one raw HTML block (no blank line inside it).

        Not ``text/html``: Quarto adds require.js and jQuery from a CDN to every page with a
        ``text/html`` output, so the player goes out as Markdown, which Jupyter and Quarto
        both pass through as HTML (text inside the block is escaped for Markdown by
        :func:`_md_text`).
        """
        return self.html

    def __repr__(self) -> str:
        return f"Animation(n_frames={self.n_frames}, nbytes={self.nbytes}, label={self.label!r})"

    def save(self, path: str | Path) -> Path:
        """Write a standalone HTML page holding the animation; returns the path."""
        path = Path(path)
        page = (
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.label)}</title>\n</head>\n"
            '<body style="font-family: system-ui, sans-serif; margin: 1em;">\n'
            f"{self.html}\n</body>\n</html>\n"
        )
        path.write_text(page, encoding="utf-8")
        return path


# ----------------------------------------------------------------------------- checks


def _as_column(value: object, name: str) -> np.ndarray:
    """A tensor of shape ``(n,)`` or ``(n, 1)`` as a float64 array of shape ``(n,)``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim == 2 and value.shape[1] != 1 or value.ndim not in (1, 2):
        hint = " (for Week 1 pass the feature column X[:, 1])" if name == "x" else ""
        raise ValueError(f"{name} must have shape (n,) or (n, 1), got {tuple(value.shape)}{hint}")
    if value.numel() == 0:
        raise ValueError(f"{name} must not be empty")
    return value.detach().reshape(-1).double().cpu().numpy()


def _check_param_names(history: History, param_names: Sequence[str] | None) -> list[str] | None:
    """``param_names`` as a list (``None``: every recorded parameter), checked."""
    if param_names is None:
        return None
    if isinstance(param_names, str) or not isinstance(param_names, Sequence):
        raise TypeError(
            f"param_names must be a list of parameter names, got {type(param_names).__name__}"
        )
    recorded = list(history.params[0])
    unknown = [k for k in param_names if k not in recorded]
    if unknown:
        raise ValueError(
            f"param_names {unknown} are not recorded parameters; choose from {recorded}"
        )
    return list(param_names)


def _check_markers(markers: object) -> dict[str, tuple[float, float]]:
    if markers is None:
        return {}
    if not isinstance(markers, Mapping):
        raise TypeError(f"markers must be a dict label -> (w0, w1), got {type(markers).__name__}")
    out = {}
    for label, point in markers.items():
        ok = isinstance(point, (tuple, list)) and len(point) == 2
        if ok:
            ok = all(isinstance(v, Real) and math.isfinite(float(v)) for v in point)
        if not ok:
            raise ValueError(f"markers[{label!r}] must be a pair of finite numbers (w0, w1)")
        out[str(label)] = (float(point[0]), float(point[1]))
    return out


def frame_indices(n_records: int, frames: int) -> np.ndarray:
    """``frames`` distinct record indices spread evenly over ``0..n_records-1`` (ends kept).

    ``frames >= 2`` (a first and a last frame) and ``frames <= n_records``.
    """
    n_records = check_int(n_records, "n_records", minimum=1)
    frames = check_int(frames, "frames", minimum=2)
    if frames > n_records:
        raise ValueError(
            f"the history has only {n_records} records but frames={frames} were asked for; "
            f"pass frames <= {n_records} or record more often (record_every)"
        )
    idx = np.floor(np.linspace(0, n_records - 1, frames) + 0.5).astype(int)
    return idx


# ------------------------------------------------------------------------- geometry


def _edge_point(p, q, edge: int, box) -> tuple[float, float]:
    """Where segment ``p -> q`` meets the line ``box[edge]`` of ``box = (x0, y0, x1, y1)``.

    The edge's own coordinate is set exactly and the other one is interpolated from
    the endpoint nearer the box, so a far-away endpoint (a diverged fit at 1e20
    pixels) does not cancel away the precision of the result.
    """
    d = edge % 2  # the coordinate the edge fixes: 0 for x (x0, x1), 1 for y (y0, y1)
    o = 1 - d
    value = box[edge]
    lo, hi = box[o], box[o + 2]
    centre = (lo + hi) / 2
    near = p if abs(p[o] - centre) <= abs(q[o] - centre) else q
    other = near[o] + (value - near[d]) * ((q[o] - p[o]) / (q[d] - p[d]))
    other = min(max(other, lo), hi)
    return (value, other) if d == 0 else (other, value)


def _clip_segment(p, q, box):
    """Liang-Barsky: the part of segment ``p -> q`` inside ``box = (x0, y0, x1, y1)``.

    Returns ``(start, end, end_was_cut)`` or ``None`` when the segment misses the box.
    """
    x0, y0, x1, y1 = box
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1, e0, e1 = 0.0, 1.0, -1, -1
    tests = ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1]))
    for edge, (den, num) in enumerate(tests):
        if den == 0:
            if num < 0:
                return None
            continue
        t = num / den
        if den < 0 and t > t0:
            t0, e0 = t, edge
        elif den > 0 and t < t1:
            t1, e1 = t, edge
        if t0 > t1:
            return None
    # tests 0 and 1 are the x edges x0 and x1, tests 2 and 3 the y edges y0 and y1
    edges = {0: 0, 1: 2, 2: 1, 3: 3}  # test index -> index into box
    a = tuple(p) if e0 < 0 else _edge_point(p, q, edges[e0], box)
    b = tuple(q) if e1 < 0 else _edge_point(p, q, edges[e1], box)
    return a, b, e1 >= 0


def _clip_polyline(pts: np.ndarray, box) -> list[np.ndarray]:
    """Pieces of a polyline ``(n, 2)`` inside ``box`` (non-finite points break the line)."""
    x0, y0, x1, y1 = box
    finite = np.isfinite(pts).all(axis=1)
    inside = finite & (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0)
    inside &= pts[:, 1] <= y1
    if inside.all():
        return [pts]
    pieces, cur = [], []
    rows = pts.tolist()
    for i in range(len(rows) - 1):
        if not (finite[i] and finite[i + 1]):
            seg = None
        else:
            seg = _clip_segment(rows[i], rows[i + 1], box)
        if seg is None:
            if len(cur) > 1:
                pieces.append(np.array(cur))
            cur = []
            continue
        a, b, cut_end = seg
        if cur and abs(cur[-1][0] - a[0]) < 1e-9 and abs(cur[-1][1] - a[1]) < 1e-9:
            cur.append(b)
        else:
            if len(cur) > 1:
                pieces.append(np.array(cur))
            cur = [a, b]
        if cut_end:
            pieces.append(np.array(cur))
            cur = []
    if len(cur) > 1:
        pieces.append(np.array(cur))
    return pieces


def _simplify(pts: np.ndarray, tol: float = 0.3) -> np.ndarray:
    """Ramer-Douglas-Peucker: drop points closer than ``tol`` pixels to the kept line."""
    n = len(pts)
    if n < 3:
        return pts
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        seg = pts[j] - pts[i]
        rel = pts[i + 1 : j] - pts[i]
        norm = math.hypot(seg[0], seg[1])
        if norm == 0:
            d = np.hypot(rel[:, 0], rel[:, 1])
        else:
            d = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm
        k = int(np.argmax(d))
        if d[k] > tol:
            m = i + 1 + k
            keep[m] = True
            stack += [(i, m), (m, j)]
    return pts[keep]


def _num(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _path_d(pieces: list[np.ndarray]) -> str:
    """SVG path data ``M x,y L x,y ...`` for polyline pieces in pixel coordinates."""
    parts = []
    for piece in pieces:
        coords = " ".join(f"{_num(x)},{_num(y)}" for x, y in piece)
        parts.append("M" + coords.replace(" ", "L", 1) if " " in coords else "M" + coords)
    return "".join(parts)


# --------------------------------------------------------------------------- drawing


@dataclass
class _Scene:
    """The static figure and what the overlay needs to know about it."""

    jpeg: bytes
    width: int
    height: int
    fit_box: tuple[float, float, float, float]
    to_fit_px: Callable[[np.ndarray], np.ndarray]  # (k, 2) data -> (k, 2) pixels, y down
    to_surface_px: Callable[[np.ndarray], np.ndarray] | None  # (k, 3) -> (k, 2) pixels
    surface_box: tuple[tuple[float, float], ...] | None


def _draw_static(
    xs,
    ys,
    truth,
    surface: Surface | None,
    markers: dict[str, tuple[float, float]],
    marker_loss: dict[str, float],
    figsize,
    dpi: float,
    quality: int,
    elev: float,
    azim: float,
    z_low: float = math.inf,
    run_names: Sequence[str] | None = None,
    test_xy: tuple[np.ndarray, np.ndarray] | None = None,
) -> _Scene:
    """Render data, truth, surface and markers once; return the JPEG and the projections.

    ``z_low`` lowers the loss axis below the surface's grid minimum (the path's best
    losses lie between grid points). ``run_names`` (two names) labels two runs' fits
    and paths in the legends. ``test_xy`` adds held-out points (hollow squares).
    """
    fig = Figure(figsize=figsize, dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    if surface is None:
        ax = fig.add_axes((0.12, 0.16, 0.84, 0.78))
        ax3 = None
    else:
        ax = fig.add_axes((0.075, 0.16, 0.40, 0.78))
        ax3 = fig.add_axes((0.50, 0.0, 0.50, 1.0), projection="3d", computed_zorder=False)

    alpha = 0.8 if xs.size <= 200 else 0.15
    order = np.argsort(xs, kind="stable")
    ax.plot(
        xs, ys, "o", ms=3, alpha=alpha, color="C0", label="data" if test_xy is None else "training"
    )
    low, high = float(ys.min()), float(ys.max())
    x_lo, x_hi = float(xs.min()), float(xs.max())
    if test_xy is not None:
        xt, yt = test_xy
        ax.plot(xt, yt, "s", ms=3.5, mfc="none", mew=1, color=TEST_COLOR, label="test")
        low, high = min(low, float(yt.min())), max(high, float(yt.max()))
        x_lo, x_hi = min(x_lo, float(xt.min())), max(x_hi, float(xt.max()))
    if truth is not None:
        ax.plot(xs[order], truth[order], "--", color="C1", lw=2, label="truth")
        low, high = min(low, float(truth.min())), max(high, float(truth.max()))
    pad = 0.08 * (high - low) if high > low else 1.0
    ax.set_ylim(low - pad, high + pad)
    xpad = 0.03 * (x_hi - x_lo) if x_hi > x_lo else 1.0
    ax.set_xlim(x_lo - xpad, x_hi + xpad)
    fit_labels = ["fit"] if run_names is None else [f"fit, {n}" for n in run_names]
    for color, text in zip((FIT_COLOR, SECOND_COLOR), fit_labels, strict=False):
        ax.plot([], [], "-", color=color, lw=2, label=text)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="best", fontsize="small")

    box3 = None
    if ax3 is not None:
        W0, W1 = (m.numpy() for m in surface.mesh())
        L = surface.loss.numpy()
        ax3.plot_surface(W0, W1, L, cmap="viridis", alpha=0.55, linewidth=0, zorder=1)
        lims = (
            (float(W0.min()), float(W0.max())),
            (float(W1.min()), float(W1.max())),
            (min(float(np.nanmin(L)), z_low), float(np.nanmax(L))),
        )
        setters = (ax3.set_xlim, ax3.set_ylim, ax3.set_zlim)
        for set_lim, (lo, hi) in zip(setters, lims, strict=True):
            set_lim(lo, hi) if hi > lo else set_lim(lo - 0.5, hi + 0.5)
        box3 = (ax3.get_xlim(), ax3.get_ylim(), ax3.get_zlim())
        for i, (name, (a, b)) in enumerate(markers.items()):
            p = _clip3(np.array([[a, b, marker_loss[name]]]), box3)[0]
            ax3.scatter(
                [p[0]], [p[1]], [p[2]], marker="*", s=160, color=MARKER_COLORS[i % 5],
                edgecolors="black", linewidths=0.6, label=name, zorder=5, depthshade=False,
            )  # fmt: skip
        path_labels = ["path"] if run_names is None else [f"path, {n}" for n in run_names]
        for color, text in zip((PATH_COLOR, SECOND_COLOR), path_labels, strict=False):
            ax3.plot([], [], "o-", color=color, ms=3, lw=1, label=text)
        ax3.plot([], [], "o", color=POINT_COLOR, ms=6, mec="white", label="now")
        ax3.set_xlabel("w₀", labelpad=-2)
        ax3.set_ylabel("w₁", labelpad=-2)
        ax3.set_zlabel(surface.loss_name.upper(), labelpad=-2)
        for axis in (ax3.xaxis, ax3.yaxis, ax3.zaxis):
            axis.set_major_locator(MaxNLocator(nbins=4))
            axis.set_major_formatter(FuncFormatter(_tick))
        ax3.tick_params(labelsize="small", pad=0)
        ax3.view_init(elev=elev, azim=azim)
        ax3.legend(loc="upper left", fontsize="small", bbox_to_anchor=(0.0, 1.0))

    canvas.draw()
    width, height = (int(v) for v in canvas.get_width_height())
    rgba = np.asarray(canvas.buffer_rgba())
    buf = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(
        buf, format="JPEG", quality=quality, optimize=True, subsampling=0
    )

    def flip(disp: np.ndarray) -> np.ndarray:
        return np.column_stack([disp[:, 0], height - disp[:, 1]])

    bb = ax.bbox
    fit_box = (bb.x0, height - bb.y1, bb.x1, height - bb.y0)
    trans = ax.transData

    def to_fit_px(pts: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return flip(trans.transform(pts))

    to_surface_px = None
    if ax3 is not None:
        M = ax3.get_proj()
        trans3 = ax3.transData

        def to_surface_px(pts: np.ndarray) -> np.ndarray:
            u, v, _ = proj3d.proj_transform(pts[:, 0], pts[:, 1], pts[:, 2], M)
            return flip(trans3.transform(np.column_stack([u, v])))

    return _Scene(buf.getvalue(), width, height, fit_box, to_fit_px, to_surface_px, box3)


def _tick(v: float, _pos=None) -> str:
    """Short tick labels: ``40k`` for 40000, ``2.5`` for 2.5."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"{v / scale:g}{suffix}"
    return f"{v:g}"


def _clip3(pts: np.ndarray, box3) -> np.ndarray:
    """Clamp ``(k, 3)`` points into the surface's box (``inf`` goes to the edge)."""
    out = pts.copy()
    for d, (lo, hi) in enumerate(box3):
        out[:, d] = np.clip(out[:, d], lo, hi)
    return out


# ---------------------------------------------------------------------------- player

_ICONS = {  # 24 x 24 paths: |<< first, <| previous, > play, || pause, |> next, >>| last
    "first": '<path d="M3 4h2.5v16H3zM13 4v16L5.5 12zM21 4v16l-7.5-8z"/>',
    "prev": '<path d="M15 4v16L5 12zM16.5 4H19v16h-2.5z"/>',
    "play": '<path d="M6 4v16l14-8z"/>',
    "pause": '<path d="M5 4h5v16H5zM14 4h5v16h-5z"/>',
    "next": '<path d="M5 4h2.5v16H5zM9 4v16l10-8z"/>',
    "last": '<path d="M3 4v16l7.5-8zM11 4v16l7.5-8zM18.5 4H21v16h-2.5z"/>',
}


@functools.cache
def _asset(name: str) -> str:
    """``_player/<name>`` without comment lines, blank lines or indentation.

    Raw HTML must not contain blank lines (Markdown would end the HTML block there)
    and every JS statement in the player ends with ``;`` or ``}``, so joining the
    stripped lines with newlines keeps it valid.
    """
    text = resources.files("dlbasics").joinpath("_player", name).read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(x for x in lines if x and not x.startswith(("//", "/*")))


# Characters that Markdown (pandoc's or Jupyter's) may read as syntax inside an HTML block's
# text: written as character references, they reach the page as themselves.
_MD_ACTIVE = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~^$@:'\""}


def _md_text(text: str) -> str:
    """``text`` for an element's content: HTML-escaped, and inert for Markdown."""
    return "".join(_MD_ACTIVE.get(c, c) for c in html.escape(text, quote=False))


def _svg_icon(name: str) -> str:
    return f'<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">{_ICONS[name]}</svg>'


def _player_html(
    uid: str,
    jpeg: bytes,
    width: int,
    height: int,
    frames: list[list],
    path: list | None,
    label: str,
    interval: int,
    more: list[dict] | None = None,
) -> str:
    """The figure: status line, image with SVG overlay, controls, caption and player.

    ``more`` holds compared runs: ``{"color", "path", "frames": [[fit_d, pos], ...]}``,
    each drawn as a ``<g class="dla-more">`` of its own fit, path and point.
    """
    n = len(frames)
    last = frames[-1]
    data = {
        "label": label,
        "interval": interval,
        "point": POINT_COLOR,
        "icons": {"play": _svg_icon("play"), "pause": _svg_icon("pause")},
        "frames": frames,
        "path": path or [],
        "more": more or [],
    }
    # "<" as \u003c: nothing in the data can close the <script> or open a comment
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")
    img = base64.b64encode(jpeg).decode("ascii")
    esc = html.escape
    overlay = [
        f'<path class="dla-fit" d="{esc(last[1])}" fill="none" stroke="{FIT_COLOR}" '
        'stroke-width="2.8" stroke-linejoin="round" stroke-linecap="round"/>'
    ]
    if path is not None:
        pts = [p for p in path[: last[2] + 1] if p]
        d = "".join(("L" if i else "M") + f"{p[0]},{p[1]}" for i, p in enumerate(pts))
        dots = "".join(f"M{p[0]},{p[1]}h0" for p in pts)
        cur = path[last[2]] if last[2] < len(path) else None
        cx, cy, hollow = (cur[0], cur[1], cur[2]) if cur else (0, 0, 0)
        # a white halo under the black path: both are .dla-path, the player updates both
        overlay.append(
            f'<path class="dla-path" d="{d}" fill="none" stroke="white" stroke-opacity=".6" '
            'stroke-width="3.4" stroke-linejoin="round"/>'
            f'<path class="dla-path" d="{d}" fill="none" stroke="{PATH_COLOR}" stroke-width="1.4" '
            'stroke-linejoin="round"/>'
            f'<path class="dla-dots" d="{dots}" stroke="{PATH_COLOR}" stroke-width="4.2" '
            'stroke-linecap="round"/>'
            f'<circle class="dla-now" cx="{cx}" cy="{cy}" r="5.5" '
            f'fill="{"none" if hollow else POINT_COLOR}" stroke="{POINT_COLOR}" '
            f'stroke-width="2.2" visibility="{"visible" if cur else "hidden"}"/>'
        )
    overlay += [_more_overlay(run) for run in more or []]
    overlay_svg = "".join(overlay)
    buttons = "".join(
        f'<button type="button" class="dla-{name}" aria-label="{text}" title="{text}">'
        f"{_svg_icon(icon)}</button>"
        for name, icon, text in (
            ("first", "first", "First frame"),
            ("prev", "prev", "Previous frame"),
            ("play", "play", "Play"),
            ("next", "next", "Next frame"),
            ("last", "last", "Last frame"),
        )
    )
    return (
        f'<figure class="{PLAYER_CLASS}" data-dla-id="{uid}" data-frames="{n}" '
        f'style="max-width:{width}px">'
        f"<style>{_asset('player.css')}</style>"
        f'<div class="dla-status">{_md_text(last[0])}</div>'
        f'<div class="dla-stage" role="img" aria-label="{esc(label)}. {esc(last[0])}">'
        f'<img class="dla-img" src="data:image/jpeg;base64,{img}" width="{width}" '
        f'height="{height}" alt="{esc(label)}">'
        f'<svg class="dla-overlay" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'aria-hidden="true">{overlay_svg}</svg></div>'
        f'<div class="dla-controls" hidden>{buttons}'
        f'<input class="dla-slider" type="range" min="0" max="{n - 1}" step="1" '
        f'value="{n - 1}" aria-label="Frame" aria-valuetext="Frame {n} of {n}: {esc(last[0])}">'
        f'<output class="dla-counter" aria-live="off">{n} / {n}</output></div>'
        '<div class="dla-live" aria-live="polite" aria-atomic="true"></div>'
        f"<figcaption>{_md_text(label)}</figcaption>"
        f'<script type="application/json" class="dla-data">{payload}</script>'
        f'<script class="dla-player">{_asset("player.js")}</script>'
        "</figure>"
    )


def _more_overlay(run: dict) -> str:
    """SVG of a compared run at its last frame: fit, path (with halo), dots, point."""
    color, path = run["color"], run["path"]
    fit_d, pos = run["frames"][-1]
    pts = [p for p in path[: pos + 1] if p]
    d = "".join(("L" if i else "M") + f"{p[0]},{p[1]}" for i, p in enumerate(pts))
    dots = "".join(f"M{p[0]},{p[1]}h0" for p in pts)
    cur = path[pos] if pos < len(path) and path[pos] else None
    cx, cy, hollow = cur if cur else (0, 0, 0)
    body = (
        f'<path class="dla-fit" d="{html.escape(fit_d)}" fill="none" stroke="{color}" '
        'stroke-width="2.8" stroke-linejoin="round" stroke-linecap="round"/>'
    )
    if path:
        body += (
            f'<path class="dla-path" d="{d}" fill="none" stroke="white" stroke-opacity=".6" '
            'stroke-width="3.4" stroke-linejoin="round"/>'
            f'<path class="dla-path" d="{d}" fill="none" stroke="{color}" stroke-width="1.4" '
            'stroke-linejoin="round"/>'
            f'<path class="dla-dots" d="{dots}" stroke="{color}" stroke-width="4.2" '
            'stroke-linecap="round"/>'
            f'<circle class="dla-now" cx="{cx}" cy="{cy}" r="5.5" '
            f'fill="{"none" if hollow else color}" stroke="{color}" stroke-width="2.2" '
            f'visibility="{"visible" if cur else "hidden"}"/>'
        )
    return f'<g class="dla-more">{body}</g>'


# ------------------------------------------------------------------------ the builder


def _fmt(v: float) -> str:
    return f"{v:.4g}" if math.isfinite(v) else str(v)


def animate_training(
    history: History,
    x: torch.Tensor,
    y: torch.Tensor,
    surface: Surface | None = None,
    *,
    truth: torch.Tensor | None = None,
    param_names: Sequence[str] | None = None,
    markers: Mapping[str, tuple[float, float]] | None = None,
    frames: int = 30,
    fps: float = 5,
    figsize: tuple[float, float] | None = None,
    dpi: float = 110,
    title: str | None = None,
    label: str | None = None,
    elev: float = 20.0,
    azim: float = 40.0,
    quality: int = 80,
    max_bytes: int = 1_000_000,
    compare: History | None = None,
    run_names: Sequence[str] = ("run 1", "run 2"),
    step_name: str = "epoch",
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    test_history: History | None = None,
) -> Animation:
    """Replay a training run (or two) as a small, self-contained HTML animation.

    Args:
        history: the run, from :func:`dlbasics.train.fit` or ``gradient_descent``;
            ``history.yhat[k]`` holds ``n`` predictions (shape ``(n,)`` or ``(n, 1)``).
        x: the feature, shape ``(n,)`` or ``(n, 1)`` (Week 1: ``X[:, 1]``).
        y: the targets, ``n`` values.
        surface: a loss surface over ``(w0, w1)``; adds the 3-D panel with the path.
            ``history.loss`` must be the surface's loss (same function and scale).
        truth: the true curve at ``x`` (``n`` values), drawn dashed.
        param_names: the recorded parameters that hold ``(w0, w1)``, e.g.
            ``["0.bias", "0.weight"]`` (default: all recorded). Which one is the
            intercept and which the slope is read from their names (a ``*bias`` and a
            ``*weight``, or ``W[0]`` and ``W[1]``; see ``ParamPath.w0_w1``), never from
            their order, so the two cannot be swapped.
        markers: ``{label: (w0, w1)}`` drawn as stars on the surface.
        frames: number of frames (>= 2), records chosen evenly, first and last kept.
        fps: frames per second when playing.
        figsize: figure size in inches (default ``(8, 3.2)``, or ``(5, 3.2)`` without
            a surface).
        dpi: pixels per inch of the image.
        title: text put before each frame's "epoch ..., loss = ..." line.
        label: what the animation shows (caption and accessible name).
        elev, azim: viewing angles of the 3-D panel in degrees.
        quality: JPEG quality of the static image (1-95).
        max_bytes: largest HTML allowed; a bigger result raises ``ValueError``.
        compare: a second run of the same model on the same data, drawn in purple
            beside ``history``. Each run is replayed from its first to its last
            record over the same frames, so runs of equal length in epochs (or in
            updates) stay in step; ``frames`` may not exceed either run's records.
        run_names: the two runs' names, for the legends and status line.
        step_name: what ``History.epoch`` counts, for the status line (``"epoch"``;
            ``"update"`` for a mini-batch run recorded after every update).
        test: held-out points ``(x_test, y_test)`` (``m`` values each), drawn as hollow
            squares beside the training points ``x, y``.
        test_history: the same run evaluated on ``test`` (e.g. from
            :func:`dlbasics.train.replay`): same recorded epochs, ``yhat[k]`` with ``m``
            predictions, ``loss[k]`` the test loss. The fitted curve then runs through
            the training and the test inputs, and the status line shows both losses.
            Not combined with ``compare``.

    Returns:
        An :class:`Animation`; display it (last expression of a cell) or ``.save(path)``.
    """
    if not isinstance(history, History):
        raise TypeError(f"history must be a dlbasics.train.History, got {type(history).__name__}")
    if len(history) == 0:
        raise ValueError("history is empty: nothing was recorded")
    xs = _as_column(x, "x")
    ys = _as_column(y, "y")
    if xs.size != ys.size:
        raise ValueError(f"x and y must have the same length, got {xs.size} and {ys.size}")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValueError("x and y must contain only finite numbers")
    truth_np = None if truth is None else _as_column(truth, "truth")
    if truth_np is not None and truth_np.size != xs.size:
        raise ValueError(f"truth has {truth_np.size} values but x has {xs.size}")
    if surface is not None and not isinstance(surface, Surface):
        raise TypeError(f"surface must be a dlbasics.surface.Surface, got {type(surface).__name__}")
    frames = check_int(frames, "frames", minimum=2)
    fps = check_real(fps, "fps", positive=True)
    dpi = check_real(dpi, "dpi", positive=True)
    quality = check_int(quality, "quality", minimum=1)
    if quality > 95:
        raise ValueError(f"quality must be <= 95, got {quality}")
    max_bytes = check_int(max_bytes, "max_bytes", minimum=1)
    elev = check_real(elev, "elev")
    azim = check_real(azim, "azim")
    for name, text in (("title", title), ("label", label)):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"{name} must be a string, got {type(text).__name__}")
    if figsize is None:
        figsize = (8.0, 3.2) if surface is not None else (5.0, 3.2)
    if (
        not isinstance(figsize, (tuple, list))
        or len(figsize) != 2
        or not all(isinstance(v, Real) and 0 < float(v) < 50 for v in figsize)
    ):
        raise ValueError(f"figsize must be (width, height) in inches, got {figsize!r}")
    marker_pts = _check_markers(markers)
    if marker_pts and surface is None:
        raise ValueError("markers are drawn on the surface: pass surface= as well")

    test_np = _check_test(test, test_history, history, compare)
    names = _check_param_names(history, param_names)
    runs = [history]
    if compare is not None:
        if not isinstance(compare, History):
            raise TypeError(
                f"compare must be a dlbasics.train.History, got {type(compare).__name__}"
            )
        if len(compare) == 0:
            raise ValueError("compare is empty: nothing was recorded")
        if (
            not isinstance(run_names, (tuple, list))
            or len(run_names) != 2
            or not all(isinstance(s, str) and s for s in run_names)
        ):
            raise ValueError(f"run_names must be two non-empty strings, got {run_names!r}")
        if list(compare.params[0]) != list(history.params[0]):
            raise ValueError(
                f"compare records the parameters {list(compare.params[0])}, history records "
                f"{list(history.params[0])}; both runs must train the same model"
            )
        runs.append(compare)
    if not isinstance(step_name, str) or not step_name:
        raise TypeError(f"step_name must be a non-empty string, got {step_name!r}")
    for which, run in zip(("history", "compare"), runs, strict=False):
        for k, t in enumerate(run.yhat):
            if t.numel() != xs.size:
                raise ValueError(
                    f"{which}.yhat[{k}] has {t.numel()} values but x has {xs.size}; "
                    "the history must record predictions at x (record_yhat=True, same data)"
                )
    idxs = [frame_indices(len(run), frames) for run in runs]

    # parameters (w0, w1) and loss of every record
    losses = [np.asarray(run.loss, dtype=float) for run in runs]
    wpaths = [None] * len(runs)
    if surface is not None:
        wpaths = [_surface_path(run, names, surface, xs, ys) for run in runs]
    marker_loss = {
        k: loss_at(
            torch.from_numpy(xs), torch.from_numpy(ys), a, b, surface.model, surface.loss_name
        )  # fmt: skip
        for k, (a, b) in marker_pts.items()
    }

    z_low = math.inf
    if surface is not None:
        g0, g1 = surface.w0.numpy(), surface.w1.numpy()
        lows = list(marker_loss.values())
        for wpath, loss in zip(wpaths, losses, strict=True):
            with np.errstate(invalid="ignore"):
                on_grid = (wpath[:, 0] >= g0.min()) & (wpath[:, 0] <= g0.max())
                on_grid &= (wpath[:, 1] >= g1.min()) & (wpath[:, 1] <= g1.max())
            lows += list(loss[on_grid & np.isfinite(loss)])
        z_low = min(lows, default=math.inf)
    scene = _draw_static(
        xs, ys, truth_np, surface, marker_pts, marker_loss, tuple(map(float, figsize)), dpi,
        quality, elev, azim, z_low, run_names if compare is not None else None,
        None if test_np is None else test_np[:2],
    )  # fmt: skip

    # per run: the 3-D path in pixels, then each frame's fitted curve and status text
    order = np.argsort(xs, kind="stable")
    per_run = []
    for run, idx, loss, wpath in zip(runs, idxs, losses, wpaths, strict=True):
        path_json, pos_of, clipped = _path_pixels(wpath, loss, idx, scene)
        if test_np is not None and test_np[2] is not None:
            run, curve_x = _with_test_predictions(run, test_np[2], xs, test_np[0])
            rows = _run_frames(run, idx, loss, clipped, pos_of, scene, curve_x,
                               np.argsort(curve_x, kind="stable"), step_name)  # fmt: skip
            test_loss = np.asarray(test_np[2].loss, dtype=float)
            for row, r in zip(rows, idx.tolist(), strict=True):
                row[0] = row[0].replace(": loss = ", ": training loss = ", 1)
                row[0] += f" | test loss = {_fmt(test_loss[r])}"
        else:
            rows = _run_frames(run, idx, loss, clipped, pos_of, scene, xs, order, step_name)
        per_run.append((path_json, rows))
    path_json, frame_rows = per_run[0]
    more = []
    if compare is not None:
        path2, rows2 = per_run[1]
        frame_rows = [
            [f"{run_names[0]}, {a[0]} | {run_names[1]}, {b[0]}", a[1], a[2]]
            for a, b in zip(frame_rows, rows2, strict=True)
        ]
        more = [{"color": SECOND_COLOR, "path": path2, "frames": [r[1:] for r in rows2]}]
    if title:
        for row in frame_rows:
            row[0] = f"{title} | {row[0]}"

    if label is None:
        lr = f" with lr = {history.lr:g}" if history.lr is not None else ""
        ends = history.epoch[idxs[0][0]], history.epoch[idxs[0][-1]]
        label = f"Training{lr}, {step_name}s {ends[0]} to {ends[1]} in {frames} frames: "
        label += "the data with the fitted curve"
        if compare is not None:
            label = (
                f"Two training runs, {run_names[0]} and {run_names[1]}, in {frames} frames: "
                "the data with both fitted curves"
            )
        if test_np is not None:
            label += " and the held-out test points"
        if surface is not None:
            what = "the paths" if compare is not None else "the path"
            label += f", and {what} of (w0, w1) on the {surface.loss_name.upper()} loss surface"

    digest = hashlib.sha1(scene.jpeg)
    digest.update(json.dumps([frame_rows, path_json, more, label, fps]).encode())
    uid = "dla" + digest.hexdigest()[:12]
    out = _player_html(
        uid, scene.jpeg, scene.width, scene.height, frame_rows, path_json, label,
        max(1, round(1000 / fps)), more,
    )  # fmt: skip
    size = len(out.encode("utf-8"))
    if size > max_bytes:
        raise ValueError(
            f"the animation's HTML would be {size:,} bytes, more than max_bytes={max_bytes:,}; "
            "lower dpi or figsize, lower quality, use fewer frames, or raise max_bytes"
        )
    return Animation(html=out, n_frames=frames, label=label)


def _check_test(test, test_history, history: History, compare) -> tuple | None:
    """``(x_test, y_test, test_history or None)`` as float64 arrays, or ``None``."""
    if test is None:
        if test_history is not None:
            raise ValueError("test_history needs the test points too: pass test=(x_test, y_test)")
        return None
    if compare is not None:
        raise ValueError("test= and compare= cannot be combined; animate the runs separately")
    if not isinstance(test, (tuple, list)) or len(test) != 2:
        raise TypeError(
            f"test must be a pair (x_test, y_test) of tensors, got {type(test).__name__}"
        )
    xt, yt = _as_column(test[0], "test x"), _as_column(test[1], "test y")
    if xt.size != yt.size:
        raise ValueError(
            f"test x and test y must have the same length, got {xt.size} and {yt.size}"
        )
    if not (np.isfinite(xt).all() and np.isfinite(yt).all()):
        raise ValueError("test x and test y must contain only finite numbers")
    if test_history is not None:
        if not isinstance(test_history, History):
            raise TypeError(
                f"test_history must be a dlbasics.train.History, got {type(test_history).__name__}"
            )
        if list(test_history.epoch) != list(history.epoch):
            raise ValueError(
                "test_history must record the same epochs as history (replay the run on the "
                "test points with dlbasics.train.replay)"
            )
        for k, t in enumerate(test_history.yhat):
            if t.numel() != xt.size:
                raise ValueError(
                    f"test_history.yhat[{k}] has {t.numel()} values but the test x has {xt.size}"
                )
    return xt, yt, test_history


def _with_test_predictions(run: History, test_run: History, xs, xt) -> tuple[History, np.ndarray]:
    """``run`` with each record's predictions at ``xt`` appended, and the joined inputs."""
    yhat = [
        torch.cat([a.detach().reshape(-1).cpu(), b.detach().reshape(-1).cpu()])
        for a, b in zip(run.yhat, test_run.yhat, strict=True)
    ]
    joined = History(run.epoch, run.loss, yhat, run.params, run.diverged, run.lr)
    return joined, np.concatenate([xs, xt])


def _surface_path(run: History, names, surface: Surface, xs, ys) -> np.ndarray:
    """``(w0, w1)`` of every record, shape ``(len(run), 2)``; warns if the run's first
    loss is not the surface's loss there (the path would float off the surface)."""
    wpath = run.param_path(names).w0_w1()
    w0_0, w1_0 = wpath[0]
    first = run.loss[0]
    if math.isfinite(first):
        expect = loss_at(torch.from_numpy(xs), torch.from_numpy(ys), w0_0, w1_0,
                         surface.model, surface.loss_name)  # fmt: skip
        if abs(expect - first) > 1e-3 * (abs(expect) + 1e-6):
            warnings.warn(
                f"history.loss[0] = {first:.6g} but the surface's {surface.loss_name} "
                f"at the first parameters is {expect:.6g}: the path will not lie on the "
                "surface (same loss function and data?)",
                stacklevel=3,
            )
    return wpath


def _path_pixels(wpath, loss: np.ndarray, idx: np.ndarray, scene: _Scene):
    """The 3-D path as pixels: a subsample of the records (frames always kept).

    Returns ``(path_json, pos_of, clipped)``: ``[x, y, off_chart]`` per kept record
    (``None`` where unusable), record index -> position in the path, and which records
    lie outside the surface's box. Without a surface: ``(None, {}, all False)``.
    """
    R = len(loss)
    clipped = np.zeros(R, dtype=bool)
    if wpath is None:
        return None, {}, clipped
    keep = np.arange(R)
    if R > MAX_PATH_POINTS:
        keep = np.union1d(np.linspace(0, R - 1, MAX_PATH_POINTS).round().astype(int), idx)
    pts3 = np.column_stack([wpath[keep], loss[keep]])
    usable = np.isfinite(wpath[keep]).all(axis=1) & ~np.isnan(loss[keep])
    box3 = scene.surface_box
    with np.errstate(invalid="ignore"):
        outside = np.zeros(len(keep), dtype=bool)
        for d, (lo, hi) in enumerate(box3):
            outside |= (pts3[:, d] < lo) | (pts3[:, d] > hi)
    clipped[keep] = outside & usable
    px = np.full((len(keep), 2), np.nan)
    if usable.any():
        px[usable] = scene.to_surface_px(_clip3(pts3[usable], box3))
    path_json = [
        [round(float(p[0]), 1), round(float(p[1]), 1), int(c)] if ok else None
        for p, ok, c in zip(px, usable, outside & usable, strict=True)
    ]
    return path_json, {int(r): i for i, r in enumerate(keep)}, clipped


def _run_frames(run: History, idx, loss, clipped, pos_of, scene: _Scene, xs, order, step_name):
    """``[status text, fitted-curve path, path position]`` for each frame of one run."""
    first_loss = loss[0]
    stop = run.epoch[-1] if run.diverged else None
    # "diverging" only in a run that ends above its starting loss (or at nan/inf): an
    # optimizer that climbs for a while and comes back down (Adam) is not diverging
    ends_above_start = not loss[-1] <= first_loss
    rows = []
    for r in idx.tolist():
        yhat = run.yhat[r].detach().reshape(-1).double().cpu().numpy()[order]
        pts = scene.to_fit_px(np.column_stack([xs[order], yhat]))
        pieces = [_simplify(p) for p in _clip_polyline(pts, scene.fit_box)]
        e, v = run.epoch[r], loss[r]
        text = f"{step_name} {e}: loss = {_fmt(v)}"
        if not math.isfinite(v):
            text += f": diverged at {step_name} {stop if stop is not None else e}"
        elif ends_above_start and r > 0 and v > first_loss:
            text += ", above the starting loss: diverging"
        if clipped[r]:
            text += " (off the chart, shown at its edge)"
        rows.append([text, _path_d(pieces), pos_of.get(r, 0)])
    return rows
