"""Geometry of the panels: where each panel sits, and overlay lines in pixel coordinates.

Rules: pixel coordinates have ``y`` pointing down (as in SVG). Every overlay line is
clipped to its panel's box, so a diverged fit (a point at 1e20 pixels) or a path
off the surface is drawn at the edge, never across the other panel. Non-finite
points break a line instead of poisoning it.
"""

from __future__ import annotations

import math

import numpy as np

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) in pixels

FIT_ONLY = (0.12, 0.16, 0.84, 0.78)  # the fit panel alone: (left, bottom, width, height)
FIT_LEFT = (0.075, 0.16, 0.40, 0.78)  # the fit panel beside the surface
SURFACE_RIGHT = (0.50, 0.0, 0.50, 1.0)  # the 3-D panel
MAX_PATH_POINTS = 400  # a longer path is subsampled (frames always kept)


def edge_point(p, q, edge: int, box: Box) -> tuple[float, float]:
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


def clip_segment(p, q, box: Box):
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
    a = tuple(p) if e0 < 0 else edge_point(p, q, edges[e0], box)
    b = tuple(q) if e1 < 0 else edge_point(p, q, edges[e1], box)
    return a, b, e1 >= 0


def clip_polyline(pts: np.ndarray, box: Box) -> list[np.ndarray]:
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
        seg = clip_segment(rows[i], rows[i + 1], box) if finite[i] and finite[i + 1] else None
        if seg is None:
            pieces.append(cur)
            cur = []
            continue
        a, b, cut_end = seg
        if cur and abs(cur[-1][0] - a[0]) < 1e-9 and abs(cur[-1][1] - a[1]) < 1e-9:
            cur.append(b)
        else:
            pieces.append(cur)
            cur = [a, b]
        if cut_end:
            pieces.append(cur)
            cur = []
    pieces.append(cur)
    return [np.array(piece) for piece in pieces if len(piece) > 1]


def simplify(pts: np.ndarray, tol: float = 0.3) -> np.ndarray:
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


def path_d(pieces: list[np.ndarray]) -> str:
    """SVG path data ``M x,y L x,y ...`` for polyline pieces in pixel coordinates."""
    parts = []
    for piece in pieces:
        coords = " ".join(f"{_num(x)},{_num(y)}" for x, y in piece)
        parts.append("M" + coords.replace(" ", "L", 1) if " " in coords else "M" + coords)
    return "".join(parts)


def clip3(pts: np.ndarray, box3) -> np.ndarray:
    """Clamp ``(k, 3)`` points into the surface's box (``inf`` goes to the edge)."""
    out = pts.copy()
    for d, (lo, hi) in enumerate(box3):
        out[:, d] = np.clip(out[:, d], lo, hi)
    return out


def outside_box3(pts3: np.ndarray, box3) -> np.ndarray:
    """Which of the ``(k, 3)`` points lie outside the surface's box (nan: not outside)."""
    outside = np.zeros(len(pts3), dtype=bool)
    with np.errstate(invalid="ignore"):
        for d, (lo, hi) in enumerate(box3):
            outside |= (pts3[:, d] < lo) | (pts3[:, d] > hi)
    return outside
