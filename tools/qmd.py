"""Reading a ``.qmd`` page: its front matter, its ``{python}`` cells and its ``##`` sections.

The one reader of page sources for the tests and the tools (``tools/post_render.py``).
It reads what Quarto reads (quarto-cli ``src/core/jupyter/jupyter.ts``): a code cell
opens with a line such as ````` ```{python} ````` (three or more backticks, optional
indentation and attributes) and closes with a line of the same indentation and number
of backticks; its options are the ``#|`` lines at its top, read as YAML; the front
matter is the YAML between the first two ``---`` lines. It validates nothing: Quarto
checks options and front matter against its own schema when it renders, and the render
fails on an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
POSTS = REPO / "posts"

_PYTHON_FENCE = re.compile(r"^(\s*)(`{3,})\s*\{python( *[ ,].*)?\}\s*$")
_ANY_FENCE = re.compile(r"^(\s*)(`{3,})")
_OPTION = re.compile(r"^#\s*\| ?")
_DIV_OPEN = re.compile(r"^:{3,}\s*\S")  # ::: {.callout-note} (a closing fence is bare)
_DIV_CLOSE = re.compile(r"^:{3,}\s*$")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)


@dataclass(frozen=True)
class Cell:
    """A ``{python}`` cell: its ``#|`` options, its code without them, its first line."""

    options: dict[str, Any]
    code: str
    line: int  # 1-based line of the opening fence


@dataclass(frozen=True)
class Section:
    """A ``## Title`` section outside code and ``:::`` divs, up to the next one."""

    title: str
    text: str  # the lines after the heading
    line: int  # 1-based line of the heading


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str]:
    """(front matter, the rest); ``None`` when the text does not open with ``---``."""
    match = _FRONT.match(text)
    if match is None:
        return None, text
    return yaml.safe_load(match[1]) or {}, text[match.end() :]


def front_matter(text: str) -> dict[str, Any]:
    """The YAML front matter (``{}`` when there is none)."""
    return split_front_matter(text)[0] or {}


def split_cell(source: str) -> tuple[dict[str, Any], str]:
    """(the ``#|`` options at the top of a cell's source, the code below them)."""
    lines = source.split("\n")
    head = []
    while len(head) < len(lines) and (match := _OPTION.match(lines[len(head)])):
        head.append(lines[len(head)][match.end() :])
    options = yaml.safe_load("\n".join(head)) if head else None
    code = "\n".join(lines[len(head) :]).strip("\n")
    return (options if isinstance(options, dict) else {}), code


def cell_options(source: str) -> dict[str, Any]:
    """The ``#|`` options at the top of a cell's source (``{}`` when there are none)."""
    return split_cell(source)[0]


def _lines(text: str) -> Iterator[tuple[int, str, str]]:
    """(line number, line, where) for every line; where: "text", "python", "fence" or "div".

    "python": inside a ``{python}`` cell, "fence": inside another fenced block (fences
    included), "div": inside a ``:::`` div (its fences included).
    """
    fence: tuple[str, str, str] | None = None  # (indent, backticks, kind)
    divs = 0
    for n, line in enumerate(text.split("\n"), 1):
        if fence is not None:
            closes = re.fullmatch(re.escape(fence[0] + fence[1]) + r"\s*", line)
            yield n, line, "fence" if closes else fence[2]
            fence = None if closes else fence
        elif match := _PYTHON_FENCE.match(line):
            fence = (match[1], match[2], "python")
            yield n, line, "fence"
        elif match := _ANY_FENCE.match(line):
            fence = (match[1], match[2], "fence")
            yield n, line, "fence"
        elif _DIV_OPEN.match(line):
            divs += 1
            yield n, line, "div"
        elif _DIV_CLOSE.match(line) and divs:
            divs -= 1
            yield n, line, "div"
        else:
            yield n, line, "div" if divs else "text"


def cells(text: str) -> list[Cell]:
    """Every ``{python}`` cell, in order (inside callouts too)."""
    found: list[Cell] = []
    body: list[str] | None = None  # the lines of the cell being read
    start = indent = 0
    for n, line, where in _lines(text):
        if where == "python":
            body.append(line[indent:])
        elif body is not None:  # its closing fence
            found.append(Cell(*split_cell("\n".join(body)), start))
            body = None
        elif match := _PYTHON_FENCE.match(line):
            start, indent, body = n, len(match[1]), []
    return found


def sections(text: str) -> list[Section]:
    """The ``##`` sections of the page (headings in code or in ``:::`` divs do not count)."""
    found: list[tuple[str, int, list[str]]] = []
    for n, line, where in _lines(text):
        if where == "text" and line.startswith("## "):
            found.append((line[3:].strip(), n, []))
        elif found:
            found[-1][2].append(line)
    return [Section(title, "\n".join(body), n) for title, n, body in found]


def callouts(text: str, kind: str = "callout-note", heading: str = "Answer") -> list[re.Match]:
    """Every collapsed callout of exactly this form in ``text``, in order::

        ::: {.callout-note collapse="true"}
        ## Answer
        <body: match[1]>
        :::

    (a self-check answer; ``kind="callout-tip", heading="Solution"``: a worked solution).
    """
    pattern = (
        rf'^::: \{{\.{re.escape(kind)} collapse="true"\}}\n## {re.escape(heading)}\n(.*?)\n?^:::$'
    )
    return list(re.finditer(pattern, text, re.M | re.S))


@dataclass(frozen=True)
class Qmd:
    """One ``.qmd`` file, read once."""

    path: Path

    @cached_property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @cached_property
    def front_matter(self) -> dict[str, Any]:
        return front_matter(self.text)

    @cached_property
    def cells(self) -> list[Cell]:
        return cells(self.text)

    @cached_property
    def sections(self) -> list[Section]:
        return sections(self.text)

    def section(self, title: str) -> Section:
        """The section headed ``## <title>``; ``KeyError`` naming the page when missing."""
        for found in self.sections:
            if found.title == title:
                return found
        raise KeyError(f"{self.path} has no '## {title}' section")


def post_paths() -> list[Path]:
    """Every post, ``posts/NN-slug/index.qmd``, in week order."""
    return sorted(POSTS.glob("[0-9][0-9]-*/index.qmd"))
