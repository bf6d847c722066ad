"""Light HTML animations of training runs: a static background plus moving vector overlays.

:func:`animate_training` replays a :class:`~dlbasics.train.History`: on the left the
data with the fitted curve of each recorded epoch, on the right (with a
:class:`~dlbasics.surface.Surface`) the 3-D loss surface with the path of
``(w0, w1, loss)``.

How it stays small: everything that does not move (data, true curve, surface, axes,
marked points) is drawn once by the plot helpers and sent as one JPEG. What moves (the
fitted curve, the path and the current point) is projected to the image's pixel
coordinates at build time and sent as short SVG path strings, which a tiny inline
player draws on an ``<svg>`` over the image. A 30-frame fit-plus-surface animation is
well under 100 KB, with no frame limit and nothing loaded from outside the page.

The modules, in the order a call goes through them:

* :mod:`~dlbasics.anim.validate`: argument checks (``TypeError``/``ValueError`` naming
  the argument, what was expected and what was received);
* :mod:`~dlbasics.anim.style`: colours and :class:`Style` (fps, size, JPEG, 3-D view);
* :mod:`~dlbasics.anim.scene`: the static picture, drawn with :mod:`dlbasics.plots`;
* :mod:`~dlbasics.anim.geometry`: where the panels sit; clipping and simplifying lines;
* :mod:`~dlbasics.anim.frames`: which records become frames; a :class:`Frame` each;
* :mod:`~dlbasics.anim.player`: the HTML ``<figure>`` and :class:`Animation`, which
  displays as Markdown inside a Quarto render and also as HTML elsewhere;
* :mod:`~dlbasics.anim.build`: :func:`animate_training`, which ties them together.

:func:`~dlbasics.anim.images.animate_images` puts a sequence of pictures (e.g. generated
samples recorded during training) into the same player.
"""

from dlbasics.anim.build import animate_training
from dlbasics.anim.frames import Frame, frame_indices
from dlbasics.anim.images import animate_images
from dlbasics.anim.player import PLAYER_CLASS, Animation, display_mimetypes
from dlbasics.anim.style import FIT_COLOR, SECOND_COLOR, TEST_COLOR, Style

__all__ = [
    "Animation",
    "Frame",
    "Style",
    "animate_images",
    "animate_training",
    "display_mimetypes",
    "frame_indices",
    "PLAYER_CLASS",
    "FIT_COLOR",
    "SECOND_COLOR",
    "TEST_COLOR",
]
