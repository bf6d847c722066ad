"""The animation player in a real browser (chromium driven by Playwright), fully offline.

Two kinds of page:

* a page built here from :func:`dlbasics.anim.animate_training` (runs whatever the posts say);
* every post that calls ``animate_training``, executed by the harness and converted to HTML
  with nbconvert's ``basic`` template (no CDN require.js/MathJax) in a minimal page.

Every request that is not ``file:``/``data:``/``blob:``/``about:`` or localhost is aborted
and recorded. Browser: ``$DLBASICS_CHROMIUM`` or ``/usr/bin/chromium``; set
``DLBASICS_CHROMIUM=""`` to use Playwright's own browser (GitHub Actions).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import torch
from harness import post_paths
from nbformat import NotebookNode
from PIL import Image

from dlbasics.anim import PLAYER_CLASS, animate_training
from dlbasics.data import logistic_toy, regression_data
from dlbasics.surface import loss_surface
from dlbasics.train import fit, gradient_descent

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
MIN_BUTTON_PX = 20
WAIT_MS = 10_000  # upper bound for "play advances"; not a timing assertion

ANIMATED_POSTS = [p for p in post_paths() if "animate_training" in p.read_text(encoding="utf-8")]


def page_html(body: str, title: str = "animations") -> str:
    """A minimal offline HTML page around ``body``."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{title}</title>\n</head>\n<body style="margin: 1em; font-family: sans-serif">\n'
        f"{body}\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright import sync_api  # in the test extras: a missing package is an error

    exe = os.environ.get("DLBASICS_CHROMIUM")
    if exe is None:
        exe = "/usr/bin/chromium"
    if exe and not Path(exe).exists():
        pytest.fail(f"chromium not found at {exe}; install it or set DLBASICS_CHROMIUM")
    with sync_api.sync_playwright() as p:
        kwargs = {"executable_path": exe} if exe else {}
        b = p.chromium.launch(args=CHROMIUM_ARGS, **kwargs)
        yield b
        b.close()


class OfflinePage:
    """A browser page that aborts and records every non-local request and every JS error."""

    def __init__(self, browser, width: int = 1000, height: int = 800) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _route(self, route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in LOCAL_SCHEMES or (url.hostname or "") in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def close(self) -> None:
        self.context.close()


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def counters(page) -> list[str]:
    return page.locator(f"figure.{PLAYER_CLASS} .dla-counter").all_inner_texts()


def check_player(page, i: int, require_motion: bool = False) -> None:
    """Animation ``i`` on the page shows a loaded image and working controls.

    The picture must change on "next frame" when the first two frames differ (a run
    stuck on a plateau legitimately shows the same picture), always if ``require_motion``.
    """
    fig = page.locator(f"figure.{PLAYER_CLASS}").nth(i)
    fig.scroll_into_view_if_needed()
    n = int(fig.get_attribute("data-frames"))
    where = f"animation {i} ({n} frames)"

    img = fig.locator("img.dla-img")
    assert img.is_visible(), where
    box = img.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 50, f"{where}: image box {box}"
    assert img.evaluate("e => e.complete && e.naturalWidth > 0"), f"{where}: image not loaded"
    assert img.get_attribute("alt"), f"{where}: image without alt text"

    controls = fig.locator(".dla-controls")
    assert controls.is_visible(), f"{where}: controls hidden (the player did not start)"
    buttons = fig.locator(".dla-controls button")
    assert buttons.count() == 5
    for b in range(5):
        button = buttons.nth(b)
        label = button.get_attribute("aria-label")
        assert button.is_visible() and label, f"{where}: button {b}"
        bbox = button.bounding_box()
        assert bbox["height"] >= MIN_BUTTON_PX, f"{where}: {label} is {bbox['height']} px tall"
        icon = button.evaluate(
            "e => { const s = e.querySelector('svg'); const r = s && s.getBoundingClientRect();"
            " return e.innerText.trim().length > 0 || !!(r && r.width > 4 && r.height > 4); }"
        )
        assert icon, f"{where}: {label} shows neither text nor an icon"

    counter, slider = fig.locator(".dla-counter"), fig.locator(".dla-slider")
    stage = fig.locator(".dla-stage")
    assert counter.inner_text() == f"1 / {n}", f"{where}: player should start at frame 1"
    others = [c for j, c in enumerate(counters(page)) if j != i]

    # next frame: the counter, the epoch line and (if frames 1 and 2 differ) the picture change
    status = fig.locator(".dla-status")
    text, before = status.inner_text(), pixels(stage.screenshot())
    fig.locator(".dla-next").click()
    assert counter.inner_text() == f"2 / {n}", where
    assert slider.input_value() == "1", where
    assert status.inner_text() != text, f"{where}: 'next frame' did not change the epoch line"
    after = pixels(stage.screenshot())
    moved = fig.evaluate(
        "f => { const d = JSON.parse(f.querySelector('script.dla-data').textContent);"
        " const a = d.frames[0], b = d.frames[1], p = d.path;"
        " return a[1] !== b[1] || JSON.stringify(p[a[2]]) !== JSON.stringify(p[b[2]]); }"
    )
    if moved or require_motion:
        assert moved, f"{where}: frames 1 and 2 draw the same picture"
        assert before.shape == after.shape and np.abs(before - after).sum() > 0, (
            f"{where}: 'next frame' did not change the picture"
        )
    fig.locator(".dla-prev").click()
    assert counter.inner_text() == f"1 / {n}", where

    # the slider moves with the keyboard and drives the frame
    slider.focus()
    page.keyboard.press("ArrowRight")
    assert slider.input_value() == "1" and counter.inner_text() == f"2 / {n}", where
    page.keyboard.press("End")
    assert slider.input_value() == str(n - 1) and counter.inner_text() == f"{n} / {n}", where
    fig.locator(".dla-first").click()
    assert slider.input_value() == "0", where
    fig.locator(".dla-last").click()
    assert counter.inner_text() == f"{n} / {n}", where
    fig.locator(".dla-first").click()

    # play advances over time (from the last frame it restarts), pause stops
    play = fig.locator(".dla-play")
    play.click()
    assert play.get_attribute("aria-label") == "Pause", where
    page.wait_for_function(
        "el => parseInt(el.textContent, 10) >= Math.min(3, +el.textContent.split('/')[1])",
        arg=counter.element_handle(), timeout=WAIT_MS,
    )  # fmt: skip
    play.click()
    assert play.get_attribute("aria-label") == "Play", where
    stopped = counter.inner_text()
    page.wait_for_timeout(3 * 1000 / 5)  # three frames at the slowest default fps
    assert counter.inner_text() == stopped, f"{where}: still playing after pause"
    # the other animations on the page did not move
    assert [c for j, c in enumerate(counters(page)) if j != i] == others, f"{where}: clash"


def check_page(
    browser, path: Path, expect: int | None = None, require_motion: bool = False
) -> OfflinePage:
    page = OfflinePage(browser)
    page.open(path)
    figs = page.page.locator(f"figure.{PLAYER_CLASS}")
    count = figs.count()
    assert count >= 1, f"no animation on {path}"
    if expect is not None:
        assert count == expect
    for i in range(count):
        check_player(page.page, i, require_motion)
    assert not page.errors, f"JavaScript errors: {page.errors}"
    return page


# ------------------------------------------------------------------- self-contained page


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory) -> Path:
    """Three animations on one page: Week 1 with surface twice (identical HTML) + a logistic fit."""
    X, y = regression_data()
    x = X[:, 1]
    surface = loss_surface(x, y, torch.linspace(-8, 10, 30), torch.linspace(-6, 14, 30))
    history = gradient_descent(torch.tensor([-5.0, 10.0]), X, y, lr=0.001, epochs=30)
    week1 = animate_training(
        history, x, y, surface, truth=2.5 + 4 * x, markers={"true (2.5, 4)": (2.5, 4.0)},
        frames=12, fps=20, label="Week 1 regression",
    )  # fmt: skip
    xl, yl, prob = logistic_toy(n=400)
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    hist = fit(net, torch.nn.BCELoss(), opt, xl, yl, epochs=40)
    logistic = animate_training(
        hist, xl, yl, truth=prob, frames=8, fps=20, label="Logistic", title="</script><!-- x"
    )
    body = "\n<p>Between the animations.</p>\n".join([week1.html, logistic.html, week1.html])
    path = tmp_path_factory.mktemp("anim") / "demo.html"
    path.write_text(page_html(body), encoding="utf-8")
    return path


def test_players_work_offline(browser, demo_page: Path) -> None:
    page = check_page(browser, demo_page, expect=3, require_motion=True)
    try:
        assert page.blocked == [], f"requests left the machine: {page.blocked}"
    finally:
        page.close()


def test_player_fits_a_phone(browser, demo_page: Path) -> None:
    """At a phone's 390 px the figure shrinks to the screen and the buttons stay tappable."""
    page = OfflinePage(browser, width=390, height=844)
    try:
        page.open(demo_page)
        width = page.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways: {width} px wide"
        fig = page.page.locator(f"figure.{PLAYER_CLASS}").first
        img_box = fig.locator("img.dla-img").bounding_box()
        assert 0 < img_box["width"] <= 390
        for b in range(5):
            assert fig.locator(".dla-controls button").nth(b).bounding_box()["height"] >= 20
        assert fig.locator(".dla-slider").bounding_box()["width"] >= 80
        assert page.blocked == [] and not page.errors
    finally:
        page.close()


def test_without_javascript_a_frame_is_still_shown(browser, demo_page: Path) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1000, "height": 800}
    )
    try:
        page = context.new_page()
        page.goto(demo_page.as_uri())
        fig = page.locator(f"figure.{PLAYER_CLASS}").first
        assert fig.locator("img.dla-img").evaluate("e => e.complete && e.naturalWidth > 0")
        assert fig.locator(".dla-fit").get_attribute("d")  # the last frame's line is drawn
        assert not fig.locator(".dla-controls").is_visible()  # no dead buttons
        assert fig.locator("figcaption").inner_text() == "Week 1 regression"
    finally:
        context.close()


# ------------------------------------------------------------------------------- posts


def notebook_page(nb: NotebookNode, path: Path) -> Path:
    """The executed notebook as HTML (nbconvert ``basic``: no CDN scripts) in a minimal page."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="basic").from_notebook_node(nb)
    path.write_text(page_html(body), encoding="utf-8")
    return path


def player_outputs(nb: NotebookNode) -> list[str]:
    """The text/html outputs that hold one of our players."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            if f'class="{PLAYER_CLASS}"' in html:
                found.append(html)
    return found


@pytest.mark.parametrize(
    "qmd",
    ANIMATED_POSTS or [None],
    ids=[p.parent.name for p in ANIMATED_POSTS] or ["no-animated-posts"],
)
def test_post_animations_work_offline(
    qmd: Path | None, executed_post: Callable[[Path], NotebookNode], browser, tmp_path: Path
) -> None:
    assert qmd is not None, "no post calls animate_training: nothing to check in a browser"
    nb = executed_post(qmd)
    players = player_outputs(nb)
    assert players, f"{qmd.parent.name} calls animate_training but shows no player"
    path = notebook_page(nb, tmp_path / f"{qmd.parent.name}.html")
    page = check_page(browser, path, expect=len(players))
    try:
        # a blocked URL is the animations' fault if it appears in their HTML or nowhere
        # in the page (then a script made it up); the post's own links are not checked here
        source = path.read_text(encoding="utf-8")
        ours = [u for u in page.blocked if any(u in p for p in players) or u not in source]
        assert ours == [], f"animation requests left the machine: {ours}"
        for html in players:
            assert not re.search(r"https?://", html)
    finally:
        page.close()
