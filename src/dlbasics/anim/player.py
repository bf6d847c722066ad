"""HTML and player output: the ``<figure>`` markup, and how an animation displays itself.

Rules: the HTML is one ``<figure class="dlbasics-anim">`` holding everything inline
(CSS, JS from ``dlbasics/_player``, the JPEG as a data URL, frames as JSON): nothing
is loaded from another host and no element has an ``id``. Without JavaScript the
reader sees the last frame (the overlay is written into the markup) and no dead
controls. Raw HTML goes out without blank lines and with Markdown-inert text, so
Markdown renderers pass it through unchanged.

Display (:func:`display_mimetypes`, the one place that decides): inside a Quarto
render the animation is offered only as ``text/markdown``, because any ``text/html``
output makes Quarto add require.js and jQuery from a CDN to the page; everywhere
else (Jupyter, VS Code, Colab) it is also offered as ``text/html``, the player inline.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from dlbasics.anim.frames import Frame, Run
from dlbasics.anim.style import FIT_COLOR, PATH_COLOR, POINT_COLOR

PLAYER_CLASS = "dlbasics-anim"
"""CSS class of every animation's ``<figure>`` (tests find players by it)."""

QUARTO_RENDER_VARIABLES = ("QUARTO_DOCUMENT_PATH", "QUARTO_PROJECT_ROOT", "QUARTO_EXECUTE_INFO")
"""Environment variables Quarto sets in the kernel while it renders a document."""


def in_quarto_render(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this kernel runs inside a Quarto render (one of its variables is set)."""
    environ = os.environ if environ is None else environ
    return any(environ.get(name) for name in QUARTO_RENDER_VARIABLES)


def display_mimetypes(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The representations an animation offers here: Markdown only inside Quarto."""
    if in_quarto_render(environ):
        return ("text/markdown",)
    return ("text/html", "text/markdown")


@dataclass(frozen=True)
class Animation:
    """A self-contained HTML animation (displays itself in Jupyter, VS Code, Colab, Quarto).

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

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        """The same HTML under each type :func:`display_mimetypes` allows here.

        As Markdown it is one raw HTML block (no blank line inside, text escaped for
        Markdown), which Jupyter and Quarto both pass through as HTML.
        """
        return {mime: self.html for mime in display_mimetypes()}

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


_ICONS = {  # 24 x 24 paths: |<< first, <| previous, > play, || pause, |> next, >>| last
    "first": '<path d="M3 4h2.5v16H3zM13 4v16L5.5 12zM21 4v16l-7.5-8z"/>',
    "prev": '<path d="M15 4v16L5 12zM16.5 4H19v16h-2.5z"/>',
    "play": '<path d="M6 4v16l14-8z"/>',
    "pause": '<path d="M5 4h5v16H5zM14 4h5v16h-5z"/>',
    "next": '<path d="M5 4h2.5v16H5zM9 4v16l10-8z"/>',
    "last": '<path d="M3 4v16l7.5-8zM11 4v16l7.5-8zM18.5 4H21v16h-2.5z"/>',
}
_BUTTONS = (
    ("first", "First frame"),
    ("prev", "Previous frame"),
    ("play", "Play"),
    ("next", "Next frame"),
    ("last", "Last frame"),
)


@functools.cache
def asset(name: str) -> str:
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


def md_text(text: str) -> str:
    """``text`` for an element's content: HTML-escaped, and inert for Markdown."""
    return "".join(_MD_ACTIVE.get(c, c) for c in html.escape(text, quote=False))


def _svg_icon(name: str) -> str:
    return f'<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">{_ICONS[name]}</svg>'


def run_svg(frame: Frame, path: list, colors: tuple[str, str, str]) -> str:
    """SVG of one run at ``frame``: fitted curve, path (with halo), dots, current point.

    ``colors`` are ``(fit, path, point)``; the player updates the same elements.
    """
    fit, line, point = colors
    body = (
        f'<path class="dla-fit" d="{html.escape(frame.fit_d)}" fill="none" stroke="{fit}" '
        'stroke-width="2.8" stroke-linejoin="round" stroke-linecap="round"/>'
    )
    if not path:
        return body
    pts = [p for p in path[: frame.pos + 1] if p]
    d = "".join(("L" if i else "M") + f"{p[0]},{p[1]}" for i, p in enumerate(pts))
    dots = "".join(f"M{p[0]},{p[1]}h0" for p in pts)
    cur = path[frame.pos] if frame.pos < len(path) else None
    cx, cy, hollow = cur if cur else (0, 0, 0)
    return body + (  # a white halo under the path: both are .dla-path, the player updates both
        f'<path class="dla-path" d="{d}" fill="none" stroke="white" stroke-opacity=".6" '
        'stroke-width="3.4" stroke-linejoin="round"/>'
        f'<path class="dla-path" d="{d}" fill="none" stroke="{line}" stroke-width="1.4" '
        'stroke-linejoin="round"/>'
        f'<path class="dla-dots" d="{dots}" stroke="{line}" stroke-width="4.2" '
        'stroke-linecap="round"/>'
        f'<circle class="dla-now" cx="{cx}" cy="{cy}" r="5.5" '
        f'fill="{"none" if hollow else point}" stroke="{point}" stroke-width="2.2" '
        f'visibility="{"visible" if cur else "hidden"}"/>'
    )


def _payload(first: Run, more: Sequence[Run], label: str, interval: int) -> str:
    """The frame data as JSON for the player (``<`` escaped: nothing can close the script)."""
    data = {
        "label": label,
        "interval": interval,
        "point": POINT_COLOR,
        "icons": {"play": _svg_icon("play"), "pause": _svg_icon("pause")},
        "frames": [list(f) for f in first.frames],
        "path": first.path,
        "more": [
            {"color": r.color, "path": r.path, "frames": [[f.fit_d, f.pos] for f in r.frames]}
            for r in more
        ],
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")


def player_html(uid: str, jpeg: bytes, size: tuple[int, int], runs: Sequence[Run], label: str,
                interval: int) -> str:  # fmt: skip
    """The figure: status line, image with SVG overlay, controls, caption and player.

    ``runs[0]`` is drawn in the overlay itself, each further run in a
    ``<g class="dla-more">`` of its own colour.
    """
    width, height = size
    first, more = runs[0], runs[1:]
    n, last = len(first.frames), first.frames[-1]
    esc = html.escape
    overlay = run_svg(last, first.path, (FIT_COLOR, PATH_COLOR, POINT_COLOR)) + "".join(
        f'<g class="dla-more">{run_svg(r.frames[-1], r.path, (r.color,) * 3)}</g>' for r in more
    )
    buttons = "".join(
        f'<button type="button" class="dla-{name}" aria-label="{text}" title="{text}">'
        f"{_svg_icon(name)}</button>"
        for name, text in _BUTTONS
    )
    img = base64.b64encode(jpeg).decode("ascii")
    return (
        f'<figure class="{PLAYER_CLASS}" data-dla-id="{uid}" data-frames="{n}" '
        f'style="max-width:{width}px">'
        f"<style>{asset('player.css')}</style>"
        f'<div class="dla-status">{md_text(last.status)}</div>'
        f'<div class="dla-stage" role="img" aria-label="{esc(label)}. {esc(last.status)}">'
        f'<img class="dla-img" src="data:image/jpeg;base64,{img}" width="{width}" '
        f'height="{height}" alt="{esc(label)}">'
        f'<svg class="dla-overlay" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'aria-hidden="true">{overlay}</svg></div>'
        f'<div class="dla-controls" hidden>{buttons}'
        f'<input class="dla-slider" type="range" min="0" max="{n - 1}" step="1" '
        f'value="{n - 1}" aria-label="Frame" aria-valuetext="Frame {n} of {n}: {esc(last.status)}">'
        f'<output class="dla-counter" aria-live="off">{n} / {n}</output></div>'
        '<div class="dla-live" aria-live="polite" aria-atomic="true"></div>'
        f"<figcaption>{md_text(label)}</figcaption>"
        f'<script type="application/json" class="dla-data">{_payload(first, more, label, interval)}'
        "</script>"
        f'<script class="dla-player">{asset("player.js")}</script>'
        "</figure>"
    )
