"""dlbasics.anim.animate_images: a sequence of grey pictures in the course's player.

Each frame is checked against the input rounded by an independent formula (8-bit, or
the evenly spaced grey levels), the markup against the player's rules (one figure, the
frame count, the last frame without JavaScript, nothing from another host), bad input
against its error messages, and the swap of pictures in a real browser.
"""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from dlbasics.anim import PLAYER_CLASS, Animation, animate_images

# the browser fixture: in test_browser.py, or in conftest.py (then nothing to import)
try:
    from test_browser import (
        OfflinePage,
        browser,  # noqa: F401
        page_html,
    )
except ImportError:  # pragma: no cover - the fixture moved to conftest.py
    from test_browser import OfflinePage, page_html


def pictures(k: int = 5, h: int = 6, w: int = 7, seed: int = 0) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(h, w, generator=gen) for _ in range(k)]


def frame_sources(anim: Animation) -> list[str]:
    data = re.search(r'<script type="application/json" class="dla-images">(.*?)</script>',
                     anim.html)  # fmt: skip
    assert data, "no frame data in the markup"
    return json.loads(data.group(1))


def decoded(src: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    picture = Image.open(io.BytesIO(base64.b64decode(src[len(prefix) :])))
    assert picture.format == "PNG"
    return np.asarray(picture.convert("L"), dtype=np.int64)


def test_one_frame_per_picture_with_its_status_line() -> None:
    images = pictures(k=5)
    statuses = [f"epoch {10 * k}" for k in range(5)]
    anim = animate_images(images, statuses, label="five pictures")
    assert isinstance(anim, Animation) and anim.n_frames == 5
    assert anim.html.count(f'<figure class="{PLAYER_CLASS}"') == 1
    assert 'data-frames="5"' in anim.html
    assert len(frame_sources(anim)) == 5
    data = json.loads(re.search(r'class="dla-data">(.*?)</script>', anim.html).group(1))
    assert [f[0] for f in data["frames"]] == statuses
    assert '<div class="dla-status">epoch 40</div>' in anim.html  # the last frame's line
    assert anim.label == "five pictures" and "<figcaption>five pictures</figcaption>" in anim.html


def test_frames_are_the_pictures_rounded_to_8_bits() -> None:
    images = pictures(k=4, h=9, w=5)
    anim = animate_images(images, ["a", "b", "c", "d"], label="rounding")
    for image, src in zip(images, frame_sources(anim), strict=True):
        expected = np.floor(image.double().numpy() * 255 + 0.5)  # round half up, by hand
        got = decoded(src)
        assert got.shape == (9, 5)
        # numpy rounds halves to even; random floats never sit on a half
        assert np.array_equal(got, expected.astype(np.int64))


@pytest.mark.parametrize("levels", [2, 8, 16])
def test_fewer_grey_levels_are_evenly_spaced_from_black_to_white(levels: int) -> None:
    images = pictures(k=3, h=8, w=8, seed=levels)
    anim = animate_images(images, ["x", "y", "z"], label="levels", levels=levels)
    for image, src in zip(images, frame_sources(anim), strict=True):
        step = np.floor(image.double().numpy() * (levels - 1) + 0.5)
        expected = np.floor(255 * step / (levels - 1) + 0.5)
        got = decoded(src)
        assert np.array_equal(got, expected.astype(np.int64))
        assert len(np.unique(got)) <= levels


def test_fewer_levels_make_a_smaller_page_and_size_is_counted_in_bytes() -> None:
    images = pictures(k=6, h=40, w=40)
    full = animate_images(images, list("abcdef"), label="size")
    eight = animate_images(images, list("abcdef"), label="size", levels=8)
    assert eight.nbytes < full.nbytes
    assert full.nbytes == len(full.html.encode("utf-8"))


def test_without_javascript_the_last_picture_shows_at_the_asked_scale() -> None:
    images = pictures(k=3, h=6, w=7)
    anim = animate_images(images, ["a", "b", "c"], label="scale", scale=4)
    img = re.search(r'<img class="dla-img" src="([^"]+)" width="(\d+)" height="(\d+)"', anim.html)
    assert img, "the player's image is missing"
    assert img.group(1) == frame_sources(anim)[-1]
    assert (int(img.group(2)), int(img.group(3))) == (7 * 4, 6 * 4)
    assert "image/jpeg" not in anim.html  # every picture is labelled as what it is


def test_nothing_comes_from_another_host_and_no_element_ids() -> None:
    anim = animate_images(pictures(k=3), ["a", "b", "c"], label="offline")
    assert "http://" not in anim.html and "https://" not in anim.html
    assert not re.search(r"\sid=", anim.html)
    assert "\n\n" not in anim.html  # no blank line: Markdown keeps it one HTML block


@pytest.mark.parametrize(
    "images",
    [
        torch.rand(3, 5, 6),  # (k, h, w)
        torch.rand(3, 1, 5, 6),  # (k, 1, h, w)
        [np.random.default_rng(0).random((1, 5, 6)) for _ in range(3)],  # arrays (1, h, w)
    ],
    ids=["tensor-khw", "tensor-k1hw", "list-of-arrays"],
)
def test_accepts_tensors_arrays_and_lists(images) -> None:
    anim = animate_images(images, ["a", "b", "c"], label="forms")
    assert anim.n_frames == 3
    assert decoded(frame_sources(anim)[0]).shape == (5, 6)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"images": "pictures"}, TypeError, "images must be a list, tuple, tensor or array"),
        ({"images": [torch.rand(4, 4)]}, ValueError, "at least 2 pictures (frames), got 1"),
        ({"images": torch.rand(2, 3, 4, 4)}, ValueError, "images[0] must have shape (h, w)"),
        ({"images": torch.rand(4, 4)}, ValueError, "got shape (4, 4)"),
        ({"images": [torch.rand(4, 4), "x"]}, TypeError, "images[1] must be a tensor or array"),
        (
            {"images": [torch.rand(4, 4), torch.rand(4, 5)]},
            ValueError,
            "all images must have one shape",
        ),
        (
            {"images": [torch.rand(4, 4), torch.full((4, 4), 1.5)]},
            ValueError,
            "images[1] must have values in [0, 1] (0 black, 1 white), got values from 1.5 to 1.5",
        ),
        (
            {"images": [torch.rand(4, 4), torch.full((4, 4), float("nan"))]},
            ValueError,
            "images[1] holds nan or inf",
        ),
        ({"statuses": "ab"}, TypeError, "statuses must be a list or tuple of 2 strings"),
        ({"statuses": ["a"]}, ValueError, "statuses must have one string per image (2), got 1"),
        ({"statuses": ["a", 3]}, TypeError, "statuses[1] must be a str, got int"),
        ({"label": ""}, ValueError, "label must be a non-empty string"),
        ({"scale": 0}, ValueError, "scale"),
        ({"scale": 2.5}, TypeError, "scale must be an int, got float"),
        ({"levels": 1}, ValueError, "levels"),
        ({"levels": 300}, ValueError, "levels must be between 2 and 256 (grey levels), got 300"),
        ({"fps": 0}, ValueError, "fps"),
    ],
)
def test_bad_input_raises_a_clear_error(kwargs, error, message) -> None:
    args = {"images": [torch.rand(4, 4), torch.rand(4, 4)], "statuses": ["a", "b"],
            "label": "bad input"}  # fmt: skip
    args.update(kwargs)
    with pytest.raises(error) as info:
        animate_images(args.pop("images"), args.pop("statuses"), **args)
    assert message in str(info.value)


@pytest.mark.slow
def test_player_swaps_the_picture_in_a_browser(browser, tmp_path) -> None:  # noqa: F811
    images = [torch.full((6, 6), v) for v in (0.0, 0.5, 1.0)]
    anim = animate_images(images, ["black", "grey", "white"], label="three greys")
    srcs = frame_sources(anim)
    page_file = tmp_path / "images.html"
    page_file.write_text(page_html(anim.html), encoding="utf-8")
    view = OfflinePage(browser)
    try:
        view.open(page_file)
        fig = view.page.locator(f"figure.{PLAYER_CLASS}")
        img, status = fig.locator("img.dla-img").first, fig.locator(".dla-status")
        assert img.get_attribute("src") == srcs[0]  # the player starts at frame 1
        fig.locator(".dla-next").click()
        assert img.get_attribute("src") == srcs[1] and status.inner_text() == "grey"
        fig.locator(".dla-last").click()
        assert img.get_attribute("src") == srcs[2] and status.inner_text() == "white"
        fig.locator(".dla-slider").fill("0")
        assert img.get_attribute("src") == srcs[0]
        assert view.errors == [] and view.blocked == []
    finally:
        view.close()
