"""The site in a real browser (Chromium driven by Playwright), fully offline.

Two kinds of page:

* the rendered site (``rendered_site``, one real ``quarto render`` per session) served on
  127.0.0.1: every page loads with no console or page error and requests nothing from
  another host, math is typeset, the light/dark toggle works, and every animation steps
  forward and back with its buttons and its slider;
* a page built here from :func:`dlbasics.anim.animate_training` (players side by side,
  a phone's width, no JavaScript).

Screenshots of each post's first screen and of one animation per post are saved in
``build/screenshots/`` (the run prints the folder). Browser: ``$DLBASICS_CHROMIUM`` or
``/usr/bin/chromium``; ``DLBASICS_CHROMIUM=""`` uses Playwright's own (GitHub Actions).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import torch
from nbformat import NotebookNode
from PIL import Image
from qmd import post_paths

from dlbasics.anim import PLAYER_CLASS, Style, animate_training
from dlbasics.data import logistic_toy, regression_data
from dlbasics.surface import loss_surface
from dlbasics.train import fit, gradient_descent

pytestmark = pytest.mark.slow

LOCAL_SCHEMES = {"file", "data", "blob", "about"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
MIN_BUTTON_PX = 24  # WCAG 2.2 target size (2.5.8)
PHONE_WIDTHS = (360, 390)
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


class OfflinePage:
    """A browser page that aborts and records every non-local request and every JS error."""

    def __init__(self, browser, width: int = 1000, height: int = 800) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.blocked: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _route(self, route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in LOCAL_SCHEMES or (url.hostname or "") in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self, where: Path | str) -> None:
        """Open a file (``Path``) or a URL and wait until the page and its requests settle."""
        self.page.goto(where.as_uri() if isinstance(where, Path) else where)
        self.page.wait_for_load_state("load")
        self.page.wait_for_load_state("networkidle")

    def close(self) -> None:
        self.context.close()


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def counters(page) -> list[str]:
    return page.locator(f"figure.{PLAYER_CLASS} .dla-counter").all_inner_texts()


HAS_CLASS_CALLOUT = "contains(concat(' ', normalize-space(@class), ' '), ' callout ')"


def check_player(page, i: int, require_motion: bool = False, try_play: bool = True) -> None:
    """Animation ``i`` on the page shows a loaded image and working controls.

    The picture must change on "next frame" when the first two frames differ (a run
    stuck on a plateau legitimately shows the same picture), always if ``require_motion``.
    With ``try_play``, Play also advances it, Pause stops it and no other player moves.
    """
    fig = page.locator(f"figure.{PLAYER_CLASS}").nth(i)
    if not fig.is_visible():  # in a collapsed callout (an exercise's solution): open it
        callout = fig.locator(f"xpath=ancestor::div[{HAS_CLASS_CALLOUT}][1]")
        callout.locator(".callout-header").first.click()
        fig.wait_for(state="visible")
    fig.scroll_into_view_if_needed()
    n = int(fig.get_attribute("data-frames"))
    where = f"animation {i} ({n} frames)"

    img = fig.locator("img.dla-img").first  # (a second view of two panels copies it)
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
    stage = fig.locator(".dla-stage").first
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
    if not try_play:
        return

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
    browser,
    path: Path | str,
    expect: int | None = None,
    require_motion: bool = False,
    play_all: bool = False,
) -> OfflinePage:
    """Every player on the page works (:func:`check_player`); the first one, or all with
    ``play_all``, also plays and pauses (the same script drives every player: the
    self-contained demo page plays all three, the site's pages their first)."""
    page = OfflinePage(browser)
    page.open(path)
    figs = page.page.locator(f"figure.{PLAYER_CLASS}")
    count = figs.count()
    assert count >= 1, f"no animation on {path}"
    if expect is not None:
        assert count == expect
    for i in range(count):
        check_player(page.page, i, require_motion, try_play=play_all or i == 0)
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
        frames=12, label="Week 1 regression", style=Style(fps=20),
    )  # fmt: skip
    xl, yl, prob = logistic_toy(n=400)
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    hist = fit(net, torch.nn.BCELoss(), opt, xl, yl, epochs=40)
    logistic = animate_training(
        hist,
        xl,
        yl,
        truth=prob,
        frames=8,
        label="Logistic",
        title="</script><!-- x",
        style=Style(fps=20),
    )
    body = "\n<p>Between the animations.</p>\n".join([week1.html, logistic.html, week1.html])
    path = tmp_path_factory.mktemp("anim") / "demo.html"
    path.write_text(page_html(body), encoding="utf-8")
    return path


def test_players_work_offline(browser, demo_page: Path) -> None:
    page = check_page(browser, demo_page, expect=3, require_motion=True, play_all=True)
    try:
        assert page.blocked == [], f"requests left the machine: {page.blocked}"
    finally:
        page.close()


@pytest.mark.parametrize("width", PHONE_WIDTHS)
def test_player_fits_a_phone(browser, demo_page: Path, width: int) -> None:
    """On a phone the page does not scroll sideways, the two panels (fit, loss surface)
    stand one under the other at the screen's width, both step together, and every
    control is a target of at least 24 x 24 px."""
    page = OfflinePage(browser, width=width, height=800)
    try:
        page.open(demo_page)
        p = page.page
        size = p.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert size[0] <= size[1], f"the page scrolls sideways: {size[0]} px > {size[1]} px"
        fig = p.locator(f"figure.{PLAYER_CLASS}").first  # Week 1: fit + surface
        views = fig.locator(".dla-view")
        assert views.count() == 2
        left, right = views.nth(0).bounding_box(), views.nth(1).bounding_box()
        fig_box = fig.bounding_box()
        for box in (left, right):
            assert box["width"] == pytest.approx(fig_box["width"], abs=1) and box["height"] > 100
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert right["y"] >= left["y"] + left["height"] - 1, "the panels are not stacked"
        # each view shows its half of the picture: the left edge of the surface panel
        # (image x = 50 %) sits at the right view's left edge
        shift = fig.evaluate(
            "f => { const [a, b] = f.querySelectorAll('.dla-stage');"
            " return [a.getBoundingClientRect().left, b.getBoundingClientRect().left,"
            " b.getBoundingClientRect().width]; }"
        )
        assert shift[1] == pytest.approx(shift[0] - shift[2] / 2, abs=1)
        # both views step together; screen readers meet the picture once
        fig.locator(".dla-next").click()
        paths = fig.locator(".dla-overlay > .dla-fit").evaluate_all(
            "ps => ps.map(p => p.getAttribute('d'))"
        )
        assert len(paths) == 2 and paths[0] == paths[1]
        assert fig.locator("[role=img]").count() == 1
        assert views.nth(1).get_attribute("aria-hidden") == "true"
        # the fit-only player (one panel) is not split
        assert p.locator(f"figure.{PLAYER_CLASS}").nth(1).locator(".dla-view").count() == 0
        for target in fig.locator(".dla-controls button, .dla-controls .dla-slider").all():
            box = target.bounding_box()
            assert box["height"] >= MIN_BUTTON_PX and box["width"] >= MIN_BUTTON_PX, box
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert fig.locator(".dla-slider").bounding_box()["width"] >= 80
        assert page.blocked == [] and not page.errors
    finally:
        page.close()


def test_wide_player_keeps_its_panels_side_by_side(browser, demo_page: Path) -> None:
    page = OfflinePage(browser, width=1000, height=800)
    try:
        page.open(demo_page)
        fig = page.page.locator(f"figure.{PLAYER_CLASS}").first
        assert fig.locator(".dla-view").nth(0).is_visible()
        assert not fig.locator(".dla-view").nth(1).is_visible()
        img = fig.locator("img.dla-img").first.bounding_box()
        assert img["width"] == pytest.approx(fig.bounding_box()["width"], abs=1)
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


# -------------------------------------------------------------------------- the rendered site

POSTS = post_paths()
SITE_PAGES = ["index.html", "about.html"] + [f"posts/{p.parent.name}/index.html" for p in POSTS]


def open_site_page(browser, site_url: str, rel: str, **kwargs) -> OfflinePage:
    page = OfflinePage(browser, **kwargs)
    page.open(site_url + rel)
    return page


def other_hosts(page: OfflinePage, site_url: str) -> list[str]:
    """Every request of the page that did not go to the site itself."""
    return [u for u in page.requests if not u.startswith(site_url) and not u.startswith("data:")]


def screenshot_name(rel: str) -> str:
    """The picture's file name: ``posts/NN-slug/index.html`` -> ``NN-slug.png``,
    ``about.html`` -> ``about.png``."""
    parts = rel.split("/")
    return (parts[1] if parts[0] == "posts" else parts[0].removesuffix(".html")) + ".png"


# What sticks out of the column on the right, walking the page from <body> down without
# entering a box that clips or scrolls its content (a code block, a .katex-display, a
# .table-scroll, the player's panels): each such element, as "tag.class right-edge".
STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth, out = [];
  (function visit(el) {
    const right = el.getBoundingClientRect().right;
    if (right > width + 1) out.push(el.tagName.toLowerCase() + "." + el.className + " " + right);
    if (getComputedStyle(el).overflowX !== "visible") return;
    for (const kid of el.children) visit(kid);
  })(document.body);
  return out;
}"""
# Every math or table box wider than its content column: does it scroll, and take focus?
WIDE_BOXES = """() => [...document.querySelectorAll(".katex-display, .table-scroll")]
  .filter(b => b.scrollWidth > b.clientWidth)
  .map(b => ({cls: b.className, overflow: getComputedStyle(b).overflowX,
              tabindex: b.getAttribute("tabindex"), clip: b.scrollWidth - b.clientWidth}))"""
OPEN_SOLUTIONS = """() => document.querySelectorAll('.callout-header[aria-expanded="false"]')
  .forEach(h => h.click())"""


MATH_TYPESET = "() => document.querySelectorAll('span.math:not(:has(.katex))').length === 0"


def check_clean_load(page: OfflinePage, site_url: str, rel: str) -> None:
    """No console or page error, no request to another host, a title, math typeset."""
    p = page.page
    assert other_hosts(page, site_url) == [], f"{rel} requests other hosts"
    assert p.title(), f"{rel} has no title"
    n_math = p.locator("span.math").count()
    if n_math:
        p.wait_for_function(MATH_TYPESET, timeout=WAIT_MS)
        assert p.locator(".katex-error").count() == 0, f"{rel}: KaTeX errors"
    body = p.locator("main").inner_text()
    assert "\\(" not in body and "\\[" not in body, f"{rel}: raw TeX left on the page"
    if rel.startswith("posts/"):
        assert n_math > 0, f"{rel}: no math found (expected rendered formulas)"
    assert not page.errors, f"{rel}: JavaScript errors: {page.errors}"


def check_fits_the_screen(p, where: str) -> None:
    """The page is no wider than the window, nothing sticks out of it, and each formula or
    table wider than the column scrolls in its own box that the keyboard can focus and scroll."""
    p.wait_for_timeout(300)  # the a11y script re-checks 100 ms after a change or resize
    size = p.evaluate("(e => [e.scrollWidth, e.clientWidth])(document.documentElement)")
    assert size[0] <= size[1], f"{where}: the page scrolls sideways ({size})"
    assert p.evaluate(STICKING_OUT) == [], f"{where}: content sticks out"
    wide = p.evaluate(WIDE_BOXES)
    for box in wide:
        assert box["overflow"] in ("auto", "scroll"), f"{where}: {box}"
        assert box["tabindex"] == "0", f"{where}: a scrolling box cannot take focus {box}"
    if wide:  # the keyboard scrolls the first one
        first = p.locator(".katex-display[tabindex='0'], .table-scroll[tabindex='0']").first
        first.focus()
        p.keyboard.press("ArrowRight")
        p.wait_for_function("el => el.scrollLeft > 0", arg=first.element_handle())
        first.evaluate("el => { el.scrollLeft = 0; }")


@pytest.mark.parametrize(
    "body, words",
    [
        ('<p style="width: 500px">a fixed-width paragraph</p>', "scrolls sideways"),
        ('<div class="katex-display" style="overflow: visible"><span style="display: '
         'inline-block; width: 600px">wide math</span></div>', "scrolls sideways"),
        ('<div style="position: fixed; left: 0; width: 500px">a banner the page cannot '
         'scroll to</div>', "sticks out"),
        ('<div class="katex-display" style="overflow-x: auto"><span style="display: '
         'inline-block; width: 600px">wide math</span></div>', "cannot take focus"),
    ],
)  # fmt: skip
def test_the_phone_check_catches_what_does_not_fit(browser, body: str, words: str) -> None:
    """The checker itself, on pages made to fail it at 360 px."""
    page = OfflinePage(browser, width=360, height=800)
    try:
        page.page.set_content(page_html(body))
        with pytest.raises(AssertionError, match=words):
            check_fits_the_screen(page.page, "test page")
    finally:
        page.close()


@pytest.mark.parametrize("rel", SITE_PAGES)
def test_site_page_loads_cleanly_and_fits_a_phone(
    browser, site_url: str, rel: str, screenshots: Path
) -> None:
    """Each page, loaded once as a phone at 360 px would: it loads cleanly from the site
    alone (:func:`check_clean_load`); with every solution open it fits 360 and 390 px
    (:func:`check_fits_the_screen`). Widened to 1000 px, its first screen goes to
    build/screenshots/ for a reviewer."""
    page = open_site_page(browser, site_url, rel, width=PHONE_WIDTHS[0], height=800)
    p = page.page
    try:
        check_clean_load(page, site_url, rel)
        p.evaluate(OPEN_SOLUTIONS)
        p.wait_for_function("() => !document.querySelector('.collapsing')", timeout=WAIT_MS)
        p.evaluate("() => document.fonts.ready")
        for width in PHONE_WIDTHS:
            p.set_viewport_size({"width": width, "height": 800})
            check_fits_the_screen(p, f"{rel} at {width} px")
        p.set_viewport_size({"width": 1000, "height": 800})
        p.evaluate("() => window.scrollTo(0, 0)")
        p.locator("h1").first.wait_for()
        png = p.screenshot(path=str(screenshots / screenshot_name(rel)))
        assert pixels(png).std() > 5, f"{rel}: the first screen is blank"
        assert not page.errors, f"{rel}: JavaScript errors: {page.errors}"
    finally:
        page.close()


DARK_IS = "want => document.body.classList.contains('quarto-dark') === want"


def test_light_dark_toggle_switches_the_theme(browser, site_url: str) -> None:
    page = open_site_page(browser, site_url, SITE_PAGES[-1])
    try:
        p = page.page

        def state() -> tuple[bool, str]:
            return (
                p.evaluate("document.body.classList.contains('quarto-dark')"),
                p.evaluate("getComputedStyle(document.body).backgroundColor"),
            )

        dark0, bg0 = state()
        toggle = p.locator("a.quarto-color-scheme-toggle").first
        assert toggle.is_visible(), "no light/dark toggle in the navbar"
        toggle.click()
        p.wait_for_function(DARK_IS, arg=not dark0)
        dark1, bg1 = state()
        assert dark1 != dark0 and bg1 != bg0, f"toggle: {bg0} -> {bg1}"
        toggle.click()
        p.wait_for_function(DARK_IS, arg=dark0)
        assert state() == (dark0, bg0)
        assert other_hosts(page, site_url) == [] and not page.errors
    finally:
        page.close()


@pytest.mark.parametrize(
    "qmd",
    ANIMATED_POSTS or [None],
    ids=[p.parent.name for p in ANIMATED_POSTS] or ["no-animated-posts"],
)
def test_post_animations_work_on_the_rendered_page(
    browser, site_url: str, qmd: Path | None, screenshots
) -> None:
    """Each player steps forward and back with its buttons and its slider, and plays."""
    assert qmd is not None, "no post calls animate_training: nothing to check in a browser"
    page = check_page(browser, site_url + f"posts/{qmd.parent.name}/index.html")
    try:
        fig = page.page.locator(f"figure.{PLAYER_CLASS}").first
        fig.locator(".dla-next").click()
        fig.screenshot(path=str(screenshots / f"{qmd.parent.name}-animation.png"))
        assert other_hosts(page, site_url) == [], "the page requests other hosts"
    finally:
        page.close()


def player_outputs(nb: NotebookNode) -> list[str]:
    """The outputs (any MIME type) that hold one of our players."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for value in out.get("data", {}).values():
                text = "".join(value) if isinstance(value, list) else str(value)
                if f'class="{PLAYER_CLASS}"' in text:
                    found.append(text)
                    break
    return found


def test_downloaded_notebook_shows_working_players_in_jupyter_html(
    browser, executed_post: Callable[[str | Path], NotebookNode], tmp_path: Path
) -> None:
    """The players reach Jupyter as Markdown (not text/html) and still work there.

    nbconvert renders a notebook's outputs as Jupyter does (Markdown through a Markdown
    parser that keeps raw HTML); one post is enough, every player is built the same way.
    """
    from nbconvert import HTMLExporter

    assert ANIMATED_POSTS, "no post calls animate_training"
    nb = executed_post(ANIMATED_POSTS[0])
    players = player_outputs(nb)
    assert players, "the notebook holds no player"
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            assert PLAYER_CLASS not in str(html), "a player went out as text/html"
    body, _ = HTMLExporter(template_name="basic").from_notebook_node(nb)
    path = tmp_path / "notebook.html"
    path.write_text(page_html(body), encoding="utf-8")
    page = check_page(browser, path, expect=len(players))
    try:
        assert not [u for u in page.blocked if any(u in p for p in players)]
        for html in players:
            assert not re.search(r"https?://", html)
    finally:
        page.close()
