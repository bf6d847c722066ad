"""Accessibility of the rendered site: axe-core (WCAG 2.x A and AA) on every page, both themes.

Every ``.html`` page of the real render (the ``rendered_site`` fixture, served on 127.0.0.1
by ``site_url``) is loaded in chromium and checked in the light and the dark theme with
axe-core restricted to the ``wcag2a`` and ``wcag2aa`` tags (plus WCAG 2.1 and 2.2's A/AA
additions), with every solution open; the collapsed solution headers as loaded, whose
markup filters/a11y.lua writes alike on every page, on one page. KaTeX's aria-hidden
drawing of the formulas is checked directly instead (KATEX_DRAWING). A failure names the
rule, the page, the theme and each offending element (CSS selector and HTML).

axe-core is the copy Quarto itself ships in its HTML format resources
(``<quarto share dir>/formats/html/axe/axe.min.js``, found with ``quarto --paths``);
``$DLBASICS_AXE`` may name another local copy (e.g. ``node_modules/axe-core/axe.min.js``).
Nothing is loaded from the network: every request that is not 127.0.0.1 is aborted.

The animation player is also driven with the keyboard alone (Tab order, visible focus,
labelled controls, the slider's spoken value) and checked not to start by itself, with
and without ``prefers-reduced-motion``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

pytestmark = pytest.mark.slow

# WCAG 2.0 A/AA (the bar), plus what WCAG 2.1 and 2.2 AA add (e.g. 2.5.8 target size)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
THEMES = ["light", "dark"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


# --------------------------------------------------------------------------- axe-core


def find_axe() -> Path:
    """axe.min.js: ``$DLBASICS_AXE``, else the copy in the Quarto install on PATH."""
    env = os.environ.get("DLBASICS_AXE")
    if env:
        path = Path(env)
        if not path.is_file():
            raise FileNotFoundError(f"DLBASICS_AXE={env} is not a file")
        return path
    quarto = shutil.which("quarto")
    if quarto is None:
        raise FileNotFoundError("no quarto on PATH to take axe-core from; set DLBASICS_AXE")
    # `quarto --paths` prints the bin folder, then the share (resources) folder
    out = subprocess.run([quarto, "--paths"], capture_output=True, text=True, check=True).stdout
    candidates = [Path(line.strip()) / "formats/html/axe/axe.min.js" for line in out.splitlines()]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"axe.min.js not found in Quarto's resources ({[str(p) for p in candidates]}); "
        "set DLBASICS_AXE to a local axe.min.js (npm package axe-core)"
    )


@pytest.fixture(scope="session")
def axe_source() -> str:
    return find_axe().read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- browser


def local_only(route) -> None:
    """Let requests to this machine through; abort the rest (the site must not need them)."""
    if (urlparse(route.request.url).hostname or "") in LOCAL_HOSTS:
        route.continue_()
    else:
        route.abort()


def new_page(browser, theme: str = "light", reduced_motion: str = "no-preference"):
    """A page in a fresh context (no stored theme choice) that stays on this machine."""
    context = browser.new_context(
        viewport={"width": 1200, "height": 900},
        color_scheme="dark" if theme == "dark" else "light",
        reduced_motion=reduced_motion,
    )
    page = context.new_page()
    page.route("**/*", local_only)
    return page


def set_theme(page, theme: str) -> None:
    """Switch Quarto's light/dark theme with its own toggle; returns once it took and the
    theme's stylesheets have arrived (the toggle only enables them: one not fetched yet
    arrives later, and axe must not see the page without it)."""
    is_dark = "() => document.body.classList.contains('quarto-dark')"
    if page.evaluate(is_dark) != (theme == "dark"):
        page.locator(".quarto-color-scheme-toggle").first.click()
    page.wait_for_function(is_dark if theme == "dark" else f"() => !({is_dark})()")
    page.wait_for_function(
        "() => [...document.querySelectorAll('link.quarto-color-scheme[rel=\"stylesheet\"]')]"
        ".every(link => link.sheet)"
    )


# Quarto's links, menus and headers fade to a new theme's colours over 0.15 s (CSS
# transitions), and axe, caught halfway, reports the colours in between. On the pages
# axe checks they are switched off: every colour is at once the one a reader ends up with.
NO_TRANSITIONS = "*, *::before, *::after { transition: none !important; }"


def open_for_axe(page, url: str) -> None:
    """Load ``url`` in ``page`` (from :func:`new_page`) and switch off CSS transitions."""
    page.goto(url)
    page.wait_for_load_state("load")
    page.add_style_tag(content=NO_TRANSITIONS)


THEME_COLOURS = (
    "() => [document.body, ...document.querySelectorAll('#TOC a, .menu-text, pre span')]"
    ".map(e => getComputedStyle(e).color + ' on ' + getComputedStyle(e).backgroundColor)"
)


def test_axe_sees_each_themes_final_colours(browser, site_url: str) -> None:
    """On a page opened for axe, the colours right after set_theme are the ones a second
    later, and light and dark differ (without NO_TRANSITIONS a link is still fading)."""
    page = new_page(browser)
    try:
        open_for_axe(page, urljoin(site_url, "posts/03-logistic-regression-module/"))
        light = page.evaluate(THEME_COLOURS)
        for theme in ("dark", "light", "dark"):
            set_theme(page, theme)
            now = page.evaluate(THEME_COLOURS)
            page.wait_for_timeout(1000)  # long after any fade
            assert page.evaluate(THEME_COLOURS) == now, f"{theme}: colours still changing"
            assert (now == light) == (theme == "light"), f"{theme}: {now[:2]} vs light {light[:2]}"
    finally:
        page.context.close()


def test_set_theme_waits_for_a_stylesheet_still_on_its_way(browser, site_url: str) -> None:
    """Quarto's toggle only enables the other theme's stylesheets; one the page has not
    fetched yet (a busy machine) arrives later. Here the dark ones fail with the page and
    are held on the way: set_theme does not return, and the page is indeed still light;
    once they arrive it returns, dark."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    tried: set[str] = set()
    held: list = []

    def late_css(route) -> None:
        if route.request.url in tried:
            held.append(route)  # answered below
        else:
            tried.add(route.request.url)
            route.abort()

    page = new_page(browser)
    page.route("**/*-dark*.css", late_css)
    try:
        open_for_axe(page, urljoin(site_url, "posts/03-logistic-regression-module/"))
        light = page.evaluate(THEME_COLOURS)
        page.set_default_timeout(2000)
        with pytest.raises(PlaywrightTimeout):
            set_theme(page, "dark")
        assert held and page.evaluate(THEME_COLOURS) == light
        for route in held:
            route.continue_()
        set_theme(page, "dark")
        assert page.evaluate(THEME_COLOURS) != light
    finally:
        page.context.close()


# ------------------------------------------------------------------------------ pages


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the render, relative to its root (Quarto's libraries excluded)."""
    pages = [
        p.relative_to(site).as_posix()
        for p in sorted(site.rglob("*.html"))
        if "site_libs" not in p.relative_to(site).parts
    ]
    return pages


def run_axe(
    page, axe_source: str, within: str | None = None, skip: str | None = None
) -> list[dict]:
    """axe-core's violations for the WCAG 2 A/AA tags on the loaded page, or only on the
    elements that match the CSS selector ``within``, leaving out those that match ``skip``."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    return page.evaluate(
        """async ([tags, within, skip]) => {
            const context = {include: within ? [[within]] : [['html']]};
            if (skip) context.exclude = [[skip]];
            const r = await axe.run(context, {runOnly: {type: 'tag', values: tags},
                                              resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          html: n.html.slice(0, 200),
                                          summary: n.failureSummary}))}));
        }""",
        [AXE_TAGS, within, skip],
    )


# KaTeX draws each formula twice: MathML for screen readers and an aria-hidden HTML drawing
# of thousands of spans (Week 4: 5,082 of the page's 9,724 elements). The drawing has no
# colour, background or focus target of its own (checked by MATH_OWN_LOOK), so its contrast
# is that of the text around it, which axe checks; axe leaves it out (measured: a run on
# Week 2 17-26 % faster, on Week 4 45-49 %).
KATEX_DRAWING = ".katex-html"
MATH_OWN_LOOK = """() => [...document.querySelectorAll('.katex-html')].flatMap(drawing => {
  const text = getComputedStyle(drawing.closest('.katex').parentElement).color;
  return [drawing, ...drawing.querySelectorAll('*')].filter(e => {
      const s = getComputedStyle(e);
      return s.color !== text || s.backgroundColor !== 'rgba(0, 0, 0, 0)'
             || s.backgroundImage !== 'none' || e.matches('a, button, input, [tabindex]');
    }).slice(0, 1).map(e => e.outerHTML.slice(0, 160));
})"""


def describe(violations: list[dict], where: str) -> list[str]:
    """One line per offending element: rule, page/theme, selector, HTML."""
    return [
        f"{v['id']} ({v['impact']}: {v['help']}) on {where}: {n['target']}  {n['html']}"
        for v in violations
        for n in v["nodes"]
    ]


def open_solutions(page) -> int:
    """Open every collapsed callout (the exercises' solutions) at once; returns how many.

    Clicked in the page's own JavaScript, all together: one Playwright click per header
    (scroll, wait, animate, repeat) took longer than axe itself on the longer posts.
    """
    n = page.evaluate(
        """() => { const hs = document.querySelectorAll('.callout-header[aria-expanded="false"]');
                   hs.forEach(h => h.click()); return hs.length; }"""
    )
    # Bootstrap's collapse animates; wait until every one is open and none still opening
    page.wait_for_function(
        """() => !document.querySelector('.collapsing')
                 && !document.querySelector('.callout-header[aria-expanded="false"]')"""
    )
    return n


def merged(violations: list[dict]) -> list[dict]:
    """The violations of several axe runs, one entry per rule and element."""
    by_rule: dict[str, dict] = {}
    for v in violations:
        seen = by_rule.setdefault(v["id"], {**v, "nodes": []})
        for node in v["nodes"]:
            if node["target"] not in [n["target"] for n in seen["nodes"]]:
                seen["nodes"].append(node)
    return list(by_rule.values())


def page_problems(browser, site_url: str, rel: str, axe_source: str) -> list[str]:
    """axe's findings on one page in both themes, one line per offending element.

    The page is loaded once, every solution opened (opening hides nothing), and checked
    in each theme, switched with Quarto's own toggle (KaTeX's drawing aside, see
    KATEX_DRAWING). The collapsed headers as loaded: test_collapsed_headers_pass_axe.
    """
    page = new_page(browser)
    found: dict[str, list[dict]] = {theme: [] for theme in THEMES}
    own_look: list[str] = []
    try:
        open_for_axe(page, urljoin(site_url, rel))
        open_solutions(page)
        for theme in THEMES:
            set_theme(page, theme)
            found[theme] += run_axe(page, axe_source, skip=KATEX_DRAWING)
            own_look += [f"{rel} [{theme}]: math with a look of its own: {html}"
                         for html in page.evaluate(MATH_OWN_LOOK)]  # fmt: skip
    finally:
        page.context.close()
    axe_lines = [
        line for theme in THEMES for line in describe(merged(found[theme]), f"{rel} [{theme}]")
    ]
    return axe_lines + own_look


def test_axe_finds_known_violations(browser, axe_source: str) -> None:
    """The checker itself: on a page with known faults, axe reports them, named; a run
    restricted to some elements reports only theirs; math drawn in its own colour, which
    axe is told to skip, is caught by MATH_OWN_LOOK."""
    page = new_page(browser)
    try:
        page.set_content(
            '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="9" height="9">'
            '<p style="color: #aaa; background: #fff">grey on white, 2.3:1</p>'
            '<div aria-expanded="false">a div may not say it is expanded</div>'
            '<p><span class="katex"><span class="katex-html" aria-hidden="true">'
            '<span>x</span><span style="color: #ccc">y</span></span></span></p>'
            "</main></body></html>"
        )
        found = {v["id"]: v for v in run_axe(page, axe_source)}
        within_p = {v["id"] for v in run_axe(page, axe_source, within="p")}
        skipped = run_axe(page, axe_source, skip=KATEX_DRAWING)
        own_look = page.evaluate(MATH_OWN_LOOK)
    finally:
        page.context.close()
    assert {"image-alt", "color-contrast", "aria-allowed-attr"} <= set(found), sorted(found)
    assert within_p == {"color-contrast"}, within_p  # `within` checks only what it selects
    grey = [n["html"] for v in skipped if v["id"] == "color-contrast" for n in v["nodes"]]
    assert len(grey) == 1 and "grey on white" in grey[0], grey  # not the skipped math
    assert own_look == ['<span style="color: #ccc">y</span>'], own_look  # but this sees it
    lines = describe([found["image-alt"]], "test.html [light]")
    assert (
        lines
        and lines[0].startswith("image-alt (critical")
        and "test.html [light]: img" in lines[0]
    )


def test_every_page_passes_axe_wcag2aa(
    browser, rendered_site: Path, site_url: str, axe_source: str
) -> None:
    """Every page, light and dark, with every solution open (collapsed: the test below)."""
    pages = site_pages(rendered_site)
    assert "index.html" in pages and any(p.startswith("posts/") for p in pages), pages
    problems = [line for rel in pages for line in page_problems(browser, site_url, rel, axe_source)]
    assert not problems, f"{len(problems)} axe violations:\n" + "\n".join(problems)


def test_collapsed_headers_pass_axe(browser, rendered_site: Path, site_url: str, axe_source: str):
    """The solutions' headers as loaded, collapsed, in both themes.

    A page as loaded differs from the opened page that the test above checks only in
    these headers (``aria-expanded="false"``, the chevron's turn). filters/a11y.lua writes
    the same markup on every page, so one page shows them all: the first post with any.
    """
    rel = pages_with(rendered_site, 'class="callout-header')[0]
    page = new_page(browser)
    collapsed = '.callout-header[aria-expanded="false"]'
    problems: list[str] = []
    try:
        open_for_axe(page, urljoin(site_url, rel))
        assert page.locator(collapsed).count() >= 2, f"{rel}: no collapsed solutions"
        for theme in THEMES:
            set_theme(page, theme)
            problems += describe(run_axe(page, axe_source, within=collapsed), f"{rel} [{theme}]")
    finally:
        page.context.close()
    assert not problems, f"{len(problems)} axe violations:\n" + "\n".join(problems)


# ---------------------------------------------------------------------- keyboard only


def pages_with(site: Path, marker: str) -> list[str]:
    """The pages of the render whose HTML contains ``marker``."""
    return [rel for rel in site_pages(site) if marker in (site / rel).read_text(encoding="utf-8")]


def tab_to(page, selector: str, limit: int = 800) -> None:
    """Press Tab from the top of the page until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement?.matches(s)", selector):
            return
    pytest.fail(f"{limit} presses of Tab never reached {selector} on {page.url}")


def focused(page) -> dict:
    """The focused element: its classes, accessible attributes and focus ring."""
    return page.evaluate(
        """() => { const e = document.activeElement, s = getComputedStyle(e);
            return {cls: e.className.baseVal ?? e.className, tag: e.tagName.toLowerCase(),
                    ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
                          || s.boxShadow !== 'none'}; }"""
    )


def test_player_works_with_the_keyboard_alone(browser, rendered_site: Path, site_url: str) -> None:
    """Tab reaches every control in order, each named and visibly focused; keys drive it."""
    pages = pages_with(rendered_site, 'class="dla-slider"')
    assert pages, "no page of the site shows an animation"
    page = new_page(browser)
    try:
        page.goto(urljoin(site_url, pages[0]))
        fig = page.locator("figure.dlbasics-anim").first
        n = int(fig.get_attribute("data-frames"))
        counter, slider = fig.locator(".dla-counter"), fig.locator(".dla-slider")
        status, live = fig.locator(".dla-status"), fig.locator(".dla-live")
        play = fig.locator(".dla-play")
        where = f"{pages[0]}, first animation"

        tab_to(page, "figure.dlbasics-anim .dla-first")
        controls = [
            ("dla-first", "button", "First frame"),
            ("dla-prev", "button", "Previous frame"),
            ("dla-play", "button", "Play"),
            ("dla-next", "button", "Next frame"),
            ("dla-last", "button", "Last frame"),
            ("dla-slider", "slider", "Frame"),
        ]
        for i, (cls, role, name) in enumerate(controls):
            if i:
                page.keyboard.press("Tab")
            f = focused(page)
            assert cls in f["cls"].split(), f"{where}: Tab order reached {f} instead of {cls}"
            assert f["ring"], f"{where}: {cls} has no visible focus ring"
            named = fig.get_by_role(role, name=name, exact=True)
            assert named.evaluate("e => e === document.activeElement"), f"{where}: {cls} name"

        def frame_text(k: int) -> str:
            return f"Frame {k} of {n}: {status.inner_text()}"

        # the slider: arrows, End, Home; its value is spoken as the frame and epoch line
        page.keyboard.press("ArrowRight")
        assert counter.inner_text() == f"2 / {n}", where
        assert slider.get_attribute("aria-valuetext") == frame_text(2), where
        page.keyboard.press("End")
        assert counter.inner_text() == f"{n} / {n}", where
        assert slider.get_attribute("aria-valuetext") == frame_text(n), where
        page.keyboard.press("Home")
        assert counter.inner_text() == f"1 / {n}", where

        # back to "Next frame": Enter and Space step, and the live region says where
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        assert "dla-next" in focused(page)["cls"].split(), where
        page.keyboard.press("Enter")
        assert counter.inner_text() == f"2 / {n}", where
        assert live.inner_text() == frame_text(2), where
        page.keyboard.press("Space")
        assert counter.inner_text() == f"3 / {n}", where

        # Play/Pause with the keyboard
        page.keyboard.press("Shift+Tab")
        assert "dla-play" in focused(page)["cls"].split(), where
        page.keyboard.press("Space")
        assert play.get_attribute("aria-label") == "Pause" and live.inner_text() == "Playing"
        page.wait_for_function(
            "([el, k]) => parseInt(el.textContent, 10) >= k",
            arg=[counter.element_handle(), min(4, n)],
            timeout=10_000,
        )
        page.keyboard.press("Enter")
        assert play.get_attribute("aria-label") == "Play", where
        assert live.inner_text().startswith("Paused. Frame "), where

        # previous and first frame
        k = int(counter.inner_text().split("/")[0])
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        assert counter.inner_text() == f"{max(1, k - 1)} / {n}", where
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        assert counter.inner_text() == f"1 / {n}", where
        assert live.inner_text() == frame_text(1), where
        assert fig.evaluate("f => f.contains(document.activeElement)"), where
    finally:
        page.context.close()


def test_players_never_start_by_themselves(browser, rendered_site: Path, site_url: str) -> None:
    """No animation plays until the reader presses Play, with or without reduced motion.

    Every page with players is opened with each setting first; then all are watched over
    the same 1.5 s.
    """
    rels = pages_with(rendered_site, 'class="dla-slider"')
    assert rels, "no page of the site shows an animation"
    pages = {
        (rel, motion): new_page(browser, reduced_motion=motion)
        for rel in rels
        for motion in ("reduce", "no-preference")
    }
    try:
        start = {}
        for (rel, motion), page in pages.items():
            page.goto(urljoin(site_url, rel))
            page.wait_for_function(
                "() => [...document.querySelectorAll('figure.dlbasics-anim .dla-controls')]"
                ".every(c => !c.hidden)"
            )
            figs = page.locator("figure.dlbasics-anim").all()
            start[rel, motion] = [f"1 / {f.get_attribute('data-frames')}" for f in figs]
        page.wait_for_timeout(1500)  # several frames at any of the posts' speeds
        for (rel, motion), page in pages.items():
            now = page.locator("figure.dlbasics-anim .dla-counter").all_inner_texts()
            assert now == start[rel, motion], f"{rel} ({motion}): an animation moved: {now}"
            labels = page.locator("figure.dlbasics-anim .dla-play").evaluate_all(
                "bs => bs.map(b => b.getAttribute('aria-label'))"
            )
            assert set(labels) == {"Play"}, f"{rel} ({motion}): {labels}"
    finally:
        for page in pages.values():
            page.context.close()


def test_solutions_open_and_close_with_the_keyboard(
    browser, rendered_site: Path, site_url: str
) -> None:
    """A collapsed solution is reached with Tab, named by its title, toggled by Enter/Space."""
    pages = pages_with(rendered_site, 'class="callout-header')
    assert pages, "no page has a collapsible callout"
    page = new_page(browser)
    try:
        page.goto(urljoin(site_url, pages[0]))
        header_sel = '.callout-header[role="button"][data-bs-toggle="collapse"]'
        tab_to(page, header_sel)
        header = page.locator(f"{header_sel}:focus")
        f = focused(page)
        assert f["ring"], f"{pages[0]}: the solution header shows no focus ring"
        body = page.locator("#" + header.get_attribute("aria-controls"))
        name = page.get_by_role("button", name="Solution")
        assert name.count() >= 1, f"{pages[0]}: no button named after the title 'Solution'"
        assert header.get_attribute("aria-expanded") == "false" and not body.is_visible()

        page.keyboard.press("Enter")
        page.wait_for_function(
            "e => e.getAttribute('aria-expanded') === 'true'", arg=header.element_handle()
        )
        body.wait_for(state="visible")
        page.wait_for_function("() => !document.querySelector('.collapsing')")
        page.keyboard.press("Space")
        page.wait_for_function(
            "e => e.getAttribute('aria-expanded') === 'false'", arg=header.element_handle()
        )
        body.wait_for(state="hidden")
    finally:
        page.context.close()


def test_category_filter_works_with_the_keyboard(browser, site_url: str) -> None:
    """The home page's category filter: buttons reached with Tab, Enter filters the list."""
    page = new_page(browser)
    try:
        page.goto(site_url)
        page.wait_for_load_state("load")
        cats = page.locator(".quarto-listing-category .category")
        assert cats.count() >= 2, "the home page has no category filter"
        tab_to(page, ".quarto-listing-category .category")
        page.keyboard.press("Tab")  # "All" first, then the first category
        chosen = page.locator(".quarto-listing-category .category:focus")
        assert focused(page)["ring"], "a category shows no focus ring"
        expected = int(chosen.locator(".quarto-category-count").inner_text().strip("()"))
        page.keyboard.press("Enter")
        assert chosen.get_attribute("aria-pressed") == "true"
        shown = page.locator(".quarto-listing .list > *").count()
        assert shown == expected, f"filter by {chosen.inner_text()}: {shown} posts shown"
    finally:
        page.context.close()
