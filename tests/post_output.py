"""Reading what an executed post printed, for the weekly tests' checks of its numbers."""

from __future__ import annotations

import re
from pathlib import Path

from nbformat import NotebookNode
from qmd import Qmd, callouts


def printed(nb: NotebookNode) -> str:
    """Everything the post's code cells printed or displayed as text, cell after cell.

    Fails on an error output. Quarto may split one ``print`` into several stream
    outputs, so a cell's streams are joined without separators; cells are separated
    by a newline.
    """
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = []
        for out in cell.get("outputs", []):
            assert out.output_type != "error", out.get("ename")
            if out.output_type == "stream":
                text.append(out.text)
            elif "text/plain" in out.get("data", {}):
                text.append(out["data"]["text/plain"] + "\n")
        cells.append("".join(text))
    return "\n".join(cells)


def numbers(pattern: str, text: str) -> list[float]:
    """The groups of the first match of ``pattern`` in ``text`` as floats (commas dropped)."""
    match = re.search(pattern, text)
    assert match, f"the post no longer prints {pattern!r}"
    return [float(g.replace(",", "")) for g in match.groups()]


def number(pattern: str, text: str) -> float:
    """The first group of the first match of ``pattern`` in ``text``, as a float."""
    return numbers(pattern, text)[0]


def animation_sizes(nb: NotebookNode) -> list[int]:
    """The size in bytes of every animation player the post displays, in order."""
    sizes = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            players = [str(v) for v in out.get("data", {}).values() if "dlbasics-anim" in str(v)]
            if players:
                sizes.append(len(players[0].encode("utf-8")))
    return sizes


def answers_of(qmd: Path) -> list[str]:
    """The text of each answer of the post's closing ``## Self-check``, in order.

    Each answer is a collapsed ``callout-note`` headed ``## Answer`` (``qmd.callouts``);
    the text is stripped of surrounding blank lines.
    """
    section = Qmd(qmd).section("Self-check").text
    return [match[1].strip() for match in callouts(section)]
