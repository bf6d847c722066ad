"""Animations of a sequence of pictures: a record of images taken during training.

:func:`animate_images` turns a list of grey pictures (for example the same 16 generated
samples every few epochs, each laid out as one grid) into the course's player: the same
figure, status line, controls, caption and keyboard behaviour as
:func:`~dlbasics.anim.animate_training` (:func:`~dlbasics.anim.player.player_html`).

How it stays small and exact: each frame is sent once as a lossless 8-bit grey PNG at
its own resolution and shown enlarged with square pixels (``image-rendering:
pixelated``), so a 28 x 28 digit costs a few hundred bytes. The player's script draws
the status line and controls as for any animation; a few lines added here swap the
picture whenever the player's frame counter changes. Without JavaScript the reader sees
the last frame.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from dlbasics._checks import check_int, check_real
from dlbasics.anim.frames import Frame, Run
from dlbasics.anim.player import Animation, player_html
from dlbasics.anim.style import FIT_COLOR
from dlbasics.plots import _image_2d as image_2d

__all__ = ["animate_images"]

# Swaps the picture of its figure to frame k whenever the player's counter changes; the
# figure is found like the player finds it (its own script's parent, else a page scan).
_SWAP_JS = (
    "(function () {"
    " function hook(fig) {"
    " if (fig.getAttribute('data-dla-images-ready')) return;"
    " fig.setAttribute('data-dla-images-ready', '1');"
    " var srcs = JSON.parse(fig.querySelector('script.dla-images').textContent);"
    " var slider = fig.querySelector('.dla-slider'), counter = fig.querySelector('.dla-counter');"
    " function swap() {"
    " var k = Math.max(0, Math.min(srcs.length - 1, +slider.value || 0));"
    " var imgs = fig.querySelectorAll('img.dla-img'), i;"
    " for (i = 0; i < imgs.length; i++)"
    " if (imgs[i].getAttribute('src') !== srcs[k]) imgs[i].setAttribute('src', srcs[k]);"
    " }"
    " new MutationObserver(swap)"
    ".observe(counter, {childList: true, characterData: true, subtree: true});"
    " swap();"
    " }"
    " function scan() {"
    " var figs = document.querySelectorAll('figure.dlbasics-anim'), i;"
    " for (i = 0; i < figs.length; i++)"
    " if (figs[i].querySelector('script.dla-images')) hook(figs[i]);"
    " }"
    " var me = document.currentScript, own = me && me.parentNode;"
    " if (own && own.classList && own.classList.contains('dlbasics-anim')) hook(own);"
    " scan();"
    " setTimeout(scan, 0);"
    " setTimeout(scan, 500);"
    " })();"
)


def _grey_frames(images: object) -> list[np.ndarray]:
    """``images`` as float64 arrays of one shape ``(h, w)``, values in [0, 1]."""
    if isinstance(images, (torch.Tensor, np.ndarray)):
        if images.ndim not in (3, 4):
            raise ValueError(
                "images must be a sequence of (h, w) or (1, h, w) pictures or a tensor of "
                f"shape (k, h, w) or (k, 1, h, w), got shape {tuple(images.shape)}"
            )
        images = list(images)
    if not isinstance(images, (list, tuple)):
        raise TypeError(
            f"images must be a list, tuple, tensor or array of pictures, got "
            f"{type(images).__name__}"
        )
    if len(images) < 2:
        raise ValueError(f"images must hold at least 2 pictures (frames), got {len(images)}")
    frames = []
    for i, image in enumerate(images):
        image = image_2d(image, f"images[{i}]")  # (h, w) float64; TypeError/ValueError
        if not np.isfinite(image).all():
            raise ValueError(f"images[{i}] holds nan or inf values")
        low, high = float(image.min()), float(image.max())
        if low < 0 or high > 1:
            raise ValueError(
                f"images[{i}] must have values in [0, 1] (0 black, 1 white), got values "
                f"from {low:.4g} to {high:.4g}"
            )
        if frames and image.shape != frames[0].shape:
            raise ValueError(
                f"all images must have one shape, got {frames[0].shape} for images[0] and "
                f"{image.shape} for images[{i}]"
            )
        frames.append(image)
    return frames


def _png(image: np.ndarray, levels: int) -> bytes:
    """Grey PNG of ``image`` (values in [0, 1]) with ``levels`` evenly spaced grey levels.

    256 levels: an 8-bit grey image (values rounded to 0..255). Fewer: a palette image
    whose index ``i`` is the grey ``round(255 i / (levels - 1))``, stored with the
    fewest bits per pixel (1, 2, 4 or 8) that hold ``levels`` indices.
    """
    buffer = io.BytesIO()
    if levels == 256:
        pixels = np.rint(image * 255).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    index = np.rint(image * (levels - 1)).astype(np.uint8)
    picture = Image.fromarray(index, mode="P")
    greys = [round(255 * i / (levels - 1)) for i in range(levels)]
    picture.putpalette([v for grey in greys for v in (grey, grey, grey)])
    bits = next(b for b in (1, 2, 4, 8) if 2**b >= levels)
    picture.save(buffer, format="PNG", bits=bits, optimize=True)
    return buffer.getvalue()


def animate_images(
    images: Sequence[torch.Tensor | np.ndarray] | torch.Tensor | np.ndarray,
    statuses: Sequence[str],
    *,
    label: str,
    scale: int = 3,
    levels: int = 256,
    fps: float = 3,
) -> Animation:
    """The player over a sequence of grey pictures, one frame per picture.

    Args:
        images: ``k >= 2`` pictures of one shape, each ``(h, w)`` or ``(1, h, w)`` (or a
            tensor ``(k, h, w)`` / ``(k, 1, h, w)``), values in [0, 1] drawn from black (0)
            to white (1), e.g. ``torchvision.utils.make_grid(batch)[0]`` per record.
        statuses: the status line of each frame (``k`` strings, e.g. ``"epoch 40"``).
        label: what the animation shows: its caption and accessible name.
        scale: screen pixels per picture pixel (the player's width is ``w * scale``).
        levels: grey levels kept, 2 to 256, evenly spaced from black to white; fewer
            levels make a smaller page (16 levels about halve a grid of digits).
        fps: frames per second when playing.

    Returns:
        an :class:`~dlbasics.anim.Animation` (``n_frames == k``).
    """
    frames = _grey_frames(images)
    if isinstance(statuses, str) or not isinstance(statuses, (list, tuple)):
        raise TypeError(
            f"statuses must be a list or tuple of {len(frames)} strings (one per image), got "
            f"{type(statuses).__name__}"
        )
    if len(statuses) != len(frames):
        raise ValueError(
            f"statuses must have one string per image ({len(frames)}), got {len(statuses)}"
        )
    for i, status in enumerate(statuses):
        if not isinstance(status, str):
            raise TypeError(f"statuses[{i}] must be a str, got {type(status).__name__}")
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"label must be a non-empty string (the caption), got {label!r}")
    scale = check_int(scale, "scale", minimum=1)
    levels = check_int(levels, "levels", minimum=2)
    if levels > 256:
        raise ValueError(f"levels must be between 2 and 256 (grey levels), got {levels}")
    fps = check_real(fps, "fps", positive=True)

    pngs = [_png(frame, levels) for frame in frames]
    b64 = [base64.b64encode(png).decode("ascii") for png in pngs]
    srcs = ["data:image/png;base64," + b for b in b64]
    h, w = frames[0].shape
    run = Run(color=FIT_COLOR, path=[], frames=[Frame(s, "", 0) for s in statuses])
    uid = "dla" + hashlib.sha1(b"".join(pngs)).hexdigest()[:12]
    # the player's markup carries the last picture (seen without JavaScript); it labels its
    # image data as JPEG, so that one data URL is replaced by the PNG's own
    markup = player_html(uid, pngs[-1], (w * scale, h * scale), [run], label,
                         max(1, round(1000 / fps)))  # fmt: skip
    labelled_jpeg, end = "data:image/jpeg;base64," + b64[-1], "</figure>"
    if markup.count(labelled_jpeg) != 1 or not markup.endswith(end):
        raise RuntimeError("player_html no longer returns one <figure> with one image")
    markup = markup.replace(labelled_jpeg, srcs[-1])
    payload = json.dumps(srcs, separators=(",", ":"))
    extra = (
        f'<style>figure[data-dla-id="{uid}"] img.dla-img {{ image-rendering: pixelated; }}'
        "</style>"
        f'<script type="application/json" class="dla-images">{payload}</script>'
        f'<script class="dla-images-player">{_SWAP_JS}</script>'
    )
    return Animation(html=markup[: -len(end)] + extra + end, n_frames=len(frames), label=label)
