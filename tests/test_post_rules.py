"""Rules every post keeps, whatever its week: lecture-note shape, credit, figures, thumbnail.

The weekly test files check what a post teaches; this file checks what makes each post a
lecture note of this course (README, "Adding or editing a post").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
POSTS = sorted(ROOT.glob("posts/[0-9][0-9]-*/index.qmd"))
# calls that draw a figure on the page (an animation carries its own caption: label=...)
DRAWS = re.compile(r"\b(plt\.subplots|plt\.figure|plot_\w+)\(")


def _front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("\n---", 1)[0].removeprefix("---\n"))


def _cells(text: str) -> list[tuple[dict, str]]:
    """(``#|`` options, code) of every ``{python}`` cell."""
    cells = []
    for block in re.findall(r"^```\{python\}\n(.*?)^```$", text, flags=re.S | re.M):
        head = [line[3:].strip() for line in block.splitlines() if line.startswith("#| ")]
        options = yaml.safe_load("\n".join(head)) if head else {}
        cells.append((options or {}, block))
    return cells


def test_there_are_twelve_weeks() -> None:
    assert [p.parent.name[:2] for p in POSTS] == [f"{n:02d}" for n in range(1, 13)]


@pytest.mark.parametrize("qmd", POSTS, ids=lambda p: p.parent.name)
def test_every_drawing_cell_is_a_captioned_figure_with_alt_text(qmd: Path) -> None:
    for options, code in _cells(qmd.read_text(encoding="utf-8")):
        body = "\n".join(
            line for line in code.splitlines() if not line.startswith(("#", "from ", "import "))
        )
        if "animate_training(" in body and not options.get("label"):
            assert "label=" in body, f"{qmd.parent.name}: an animation without label= (caption)"
            continue
        if not DRAWS.search(body) or options.get("output") is False:
            continue
        if options.get("eval") is False or options.get("include") is False:
            continue
        where = f"{qmd.parent.name}: cell starting {body.strip()[:60]!r}"
        assert str(options.get("label", "")).startswith("fig-"), f"{where} has no fig- label"
        assert options.get("fig-cap"), f"{where} has no fig-cap"
        assert options.get("fig-alt"), f"{where} has no fig-alt"


@pytest.mark.parametrize("qmd", POSTS, ids=lambda p: p.parent.name)
def test_post_ends_with_four_exercises_with_collapsed_worked_solutions(qmd: Path) -> None:
    text = qmd.read_text(encoding="utf-8")
    assert "\n## Exercises\n" in text, f"{qmd.parent.name} has no '## Exercises' section"
    exercises = text.split("\n## Exercises\n", 1)[1]
    solutions = re.findall(r'^::: \{\.callout-tip collapse="true"\}\n## Solution', exercises, re.M)
    assert len(solutions) >= 4, f"{qmd.parent.name}: {len(solutions)} collapsed solutions"


@pytest.mark.parametrize("qmd", POSTS, ids=lambda p: p.parent.name)
def test_post_credits_the_lecture_it_follows(qmd: Path) -> None:
    text = qmd.read_text(encoding="utf-8")
    source = re.search(r"^\*{1,2}Source:?\*{0,2}:? .*?(?=\n\n)", text, re.M | re.S)
    assert source, f"{qmd.parent.name} has no source note"
    assert re.search(r"https://(guebin\.github\.io|github\.com/(guebin|hunkim))/", source[0]), (
        f"{qmd.parent.name}: the source note links no lecture"
    )


@pytest.mark.parametrize("qmd", POSTS, ids=lambda p: p.parent.name)
def test_listing_thumbnail_is_small_and_described(qmd: Path) -> None:
    meta = _front_matter(qmd.read_text(encoding="utf-8"))
    image = qmd.parent / meta["image"]
    assert image.is_file() and image.stat().st_size < 40_000, f"{image} missing or >= 40 KB"
    assert str(meta.get("image-alt", "")).strip(), f"{qmd.parent.name} has no image-alt"
    week = int(qmd.parent.name[:2])
    assert str(meta["title"]).startswith(f"Week {week}: ")
