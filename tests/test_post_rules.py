"""Rules every post keeps, whatever its week: numbering, listing metadata, captioned figures,
exercises and a closing self-check, credit, thumbnail.

The weekly test files check what a post teaches; this file checks what makes each post a
lecture note of this course (README, "Adding or editing a post"), from the sources alone
(tools/qmd.py reads them). Each rule is a function returning readable problems; a small
hand-written case shows that it fails when it should.
"""

from __future__ import annotations

import re

import pytest
from qmd import POSTS, Qmd, callouts, post_paths, sections

QMDS = [Qmd(p) for p in post_paths()]
IDS = [q.path.parent.name for q in QMDS]
FOLDER = re.compile(r"^(\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED = ("title", "description", "date", "categories", "image", "image-alt")
# calls that draw a figure on the page (an animation carries its own caption: label=...)
DRAWS = re.compile(r"\b(plt\.subplots|plt\.figure|plot_\w+)\(")
QUESTION = re.compile(r"^\d+\. ", re.M)
DIV = re.compile(r"^:{3,} *\{", re.M)


def week_problems(folders: list[str]) -> list[str]:
    """Folders are ``NN-slug``, numbered one after another from 00 or 01, without gaps."""
    problems = [
        f"posts/{f}: not NN-slug (e.g. 01-regression)" for f in folders if not FOLDER.match(f)
    ]
    weeks = sorted(int(f[:2]) for f in folders if FOLDER.match(f))
    if not weeks:
        return [*problems, "posts/: no weeks found"]
    if weeks[0] not in (0, 1):
        problems.append(f"posts/: the first week is {weeks[0]:02d}, not 00 or 01")
    expected = list(range(weeks[0], weeks[0] + len(weeks)))
    if weeks != expected:
        problems.append(f"posts/: weeks {weeks} are not consecutive without gaps or repeats")
    return problems


def self_check_problems(text: str) -> list[str]:
    """The page ends with ``## Self-check`` (after ``## Exercises``): 4 to 6 numbered
    questions, each followed by its answer in a collapsed callout of exactly this form::

        ::: {.callout-note collapse="true"}
        ## Answer
        ...
        :::
    """
    titles = [s.title for s in sections(text)]
    if "Self-check" not in titles:
        return ["no '## Self-check' section"]
    problems = []
    if titles[-1] != "Self-check":
        problems.append(f"the last section is '## {titles[-1]}', not '## Self-check'")
    if "Exercises" not in titles[: titles.index("Self-check")]:
        problems.append("'## Self-check' does not come after '## Exercises'")
    body = next(s.text for s in sections(text) if s.title == "Self-check")
    answers = [m.span() for m in callouts(body)]

    def outside(match: re.Match) -> bool:
        return not any(a <= match.start() < b for a, b in answers)

    order = sorted(
        [(a, "A") for a, _ in answers]
        + [(m.start(), "Q") for m in QUESTION.finditer(body) if outside(m)]
    )
    kinds = "".join(kind for _, kind in order)
    questions = kinds.count("Q")
    if not 4 <= questions <= 6:
        problems.append(f"{questions} numbered questions (4 to 6 wanted)")
    if kinds != "QA" * questions:
        problems.append(f"questions (Q) and answers (A) do not alternate: {kinds}")
    if [m for m in DIV.finditer(body) if outside(m)]:
        problems.append('a callout that is not ::: {.callout-note collapse="true"} / ## Answer')
    return problems


# ---------------------------------------------------------------- the weeks


def test_weeks_are_consecutive_from_00_or_01() -> None:
    folders = sorted(p.name for p in POSTS.iterdir() if p.is_dir() and p.name[0] not in "._")
    assert week_problems(folders) == []


def test_week_rule_fails_on_a_gap_a_repeat_or_a_late_start() -> None:
    assert week_problems(["00-tensors", "01-a", "02-b"]) == []
    assert week_problems(["01-a", "02-b"]) == []
    assert "not consecutive" in week_problems(["01-a", "03-c"])[0]
    assert "not consecutive" in week_problems(["01-a", "01-b", "02-c"])[0]
    assert week_problems(["02-b", "03-c"]) == ["posts/: the first week is 02, not 00 or 01"]
    assert "not NN-slug" in week_problems(["1-a", "01-a"])[0]


# --------------------------------------------------------------- each post


@pytest.mark.parametrize("post", QMDS, ids=IDS)
def test_front_matter_has_the_listing_fields(post: Qmd) -> None:
    meta = post.front_matter
    missing = [key for key in REQUIRED if meta.get(key) in (None, "", [])]
    assert not missing, f"{post.path}: front matter lacks {missing}"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(meta["date"])), meta["date"]
    assert isinstance(meta["categories"], list), "categories: a list of strings"
    assert str(meta["title"]).startswith(f"Week {int(post.path.parent.name[:2])}: ")


@pytest.mark.parametrize("post", QMDS, ids=IDS)
def test_listing_thumbnail_is_small(post: Qmd) -> None:
    image = post.path.parent / post.front_matter["image"]
    assert image.is_file() and image.stat().st_size < 40_000, f"{image} missing or >= 40 KB"


@pytest.mark.parametrize("post", QMDS, ids=IDS)
def test_every_figure_is_captioned_with_alt_text(post: Qmd) -> None:
    for cell in post.cells:
        options = cell.options
        where = f"{post.path.parent.name}:{cell.line}"
        if str(options.get("label", "")).startswith("fig-"):
            assert options.get("fig-cap") and options.get("fig-alt"), f"{where}: no fig-cap/alt"
        body = "\n".join(
            line
            for line in cell.code.splitlines()
            if not line.startswith(("#", "from ", "import "))
        )
        if "animate_training(" in body and not options.get("label"):
            assert "label=" in body, f"{where}: an animation without label= (caption)"
            continue
        if not DRAWS.search(body) or False in (
            options.get(k) for k in ("output", "eval", "include")
        ):
            continue
        assert str(options.get("label", "")).startswith("fig-"), f"{where}: draws; no fig- label"


@pytest.mark.parametrize("post", QMDS, ids=IDS)
def test_exercises_have_at_least_four_collapsed_worked_solutions(post: Qmd) -> None:
    solutions = callouts(post.section("Exercises").text, "callout-tip", "Solution")
    assert len(solutions) >= 4, f"{post.path.parent.name}: {len(solutions)} collapsed solutions"


@pytest.mark.parametrize("post", QMDS, ids=IDS)
def test_post_ends_with_a_self_check(post: Qmd) -> None:
    assert self_check_problems(post.text) == []


def test_self_check_rule_fails_on_bad_pages() -> None:
    answer = '::: {.callout-note collapse="true"}\n## Answer\nBecause.\n:::\n'
    good = "## Exercises\n\nx\n\n## Self-check\n\n" + "".join(
        f"{n}. Question?\n\n{answer}\n" for n in range(1, 5)
    )
    assert self_check_problems(good) == []
    assert self_check_problems(good + "## References\n") == [
        "the last section is '## References', not '## Self-check'"
    ]
    assert self_check_problems(good.replace("## Exercises", "## Summary")) == [
        "'## Self-check' does not come after '## Exercises'"
    ]
    three = good.split("4. Question?")[0]
    assert self_check_problems(three) == ["3 numbered questions (4 to 6 wanted)"]
    tip = good.replace("callout-note", "callout-tip", 1)
    assert self_check_problems(tip) == [
        "questions (Q) and answers (A) do not alternate: QQAQAQA",
        'a callout that is not ::: {.callout-note collapse="true"} / ## Answer',
    ]
    unanswered = good.replace(answer, "", 1)
    assert self_check_problems(unanswered) == [
        "questions (Q) and answers (A) do not alternate: QQAQAQA"
    ]


@pytest.mark.parametrize("post", QMDS, ids=IDS)
def test_post_credits_the_lecture_it_follows(post: Qmd) -> None:
    source = re.search(r"^\*{1,2}Source:?\*{0,2}:? .*?(?=\n\n)", post.text, re.M | re.S)
    assert source, f"{post.path.parent.name} has no source note"
    assert re.search(r"https://(guebin\.github\.io|github\.com/(guebin|hunkim))/", source[0]), (
        f"{post.path.parent.name}: the source note links no lecture"
    )


def test_rules_read_real_posts() -> None:
    """The parametrized rules above do not pass vacuously on an empty posts/ folder."""
    assert len(QMDS) >= 12 and all(q.cells for q in QMDS), [q.path for q in QMDS]
