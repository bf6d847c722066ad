"""Quarto post-render step: each post's downloadable notebook, from the render's own execution.

Quarto executes a post once, for its HTML page, into ``index.quarto_ipynb`` beside the
``.qmd`` (``keep-ipynb: true`` in ``posts/_metadata.yml`` keeps that file). This step turns
it into ``index.ipynb`` next to the page in the output folder, so the download carries the
page's outputs without a second execution, and removes the kept file from the source tree.

For a reader opening it in Jupyter: the front matter becomes a title and a description,
Quarto's ``:::`` div fences are dropped (a callout's content stays), and ``@fig-x``
references become "Figure N" as on the page. Code cells keep their ``#|`` options.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from qmd import cell_options, split_front_matter

ROOT = Path(__file__).resolve().parent.parent
_FENCE = re.compile(r"^\s*:::+.*$\n?", re.M)
_MD_ID = re.compile(r"\{#((?:fig|tbl)-[^\s}]+)")
_REF = re.compile(r"(?<![\w@\\])@((?:fig|tbl)-[A-Za-z0-9_-]*[A-Za-z0-9_])")
KIND = {"fig": "Figure", "tbl": "Table"}


def _text(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else source


def _numbers(cells: list[dict]) -> dict[str, str]:
    """``fig-x`` -> ``Figure 3``: Quarto numbers each kind in order of appearance."""
    found: list[str] = []
    for cell in cells:
        text = _text(cell.get("source", ""))
        if cell["cell_type"] != "code":
            found += _MD_ID.findall(text)
        elif label := cell_options(text).get("label"):
            found.append(str(label))
    counts: dict[str, int] = {}
    numbers = {}
    for label in found:
        kind = label.split("-", 1)[0]
        if kind in KIND and label not in numbers:
            counts[kind] = counts.get(kind, 0) + 1
            numbers[label] = f"{KIND[kind]}\u00a0{counts[kind]}"
    return numbers


def reader_notebook(nb: dict) -> dict:
    """The executed notebook, tidied for Jupyter (see the module docstring)."""
    numbers = _numbers(nb["cells"])
    cells = []
    for cell in nb["cells"]:
        cell = dict(cell)
        text = _text(cell.get("source", ""))
        prose = cell["cell_type"] in ("markdown", "raw")
        meta, rest = split_front_matter(text) if prose else (None, text)
        if meta is not None:
            head = [f"# {meta['title']}"] if meta.get("title") else []
            head += [str(meta["description"]).strip()] if meta.get("description") else []
            text = "\n\n".join([*head, rest.strip()]).strip()
            cell["cell_type"] = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        if cell["cell_type"] == "markdown":
            text = _FENCE.sub("", text)
            text = _REF.sub(lambda m: numbers.get(m[1], m[0]), text)
            if not text.strip():
                continue
        cell["source"] = text
        cells.append(cell)
    meta = nb.get("metadata", {})
    kernelspec = {k: v for k, v in meta.get("kernelspec", {}).items() if k != "path"}
    metadata = {"kernelspec": kernelspec, "language_info": meta.get("language_info", {})}
    return {**nb, "metadata": metadata, "cells": cells}


def _executed(path: Path) -> bool:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(c.get("execution_count") for c in nb.get("cells", []))


def kept_notebook(qmd: Path) -> Path | None:
    """The newest executed ``<stem>.quarto_ipynb[_N]`` Quarto kept beside ``qmd``.

    Quarto numbers the file (``_1``, ``_2``) when another render's is still there.
    """
    kept = [p for p in qmd.parent.glob(qmd.stem + ".quarto_ipynb*") if _executed(p)]
    return max(kept, key=lambda p: p.stat().st_mtime) if kept else None


def publish_notebooks(out_dir: Path, inputs: list[Path]) -> list[str]:
    """Write each rendered post's notebook into ``out_dir``; the posts that had none."""
    missing = []
    for qmd in inputs:
        qmd = (qmd if qmd.is_absolute() else ROOT / qmd).resolve()
        rel = qmd.relative_to(ROOT)
        if rel.parts[0] != "posts" or qmd.suffix != ".qmd":
            continue
        kept = kept_notebook(qmd)
        if kept is None:
            missing.append(str(rel))
            continue
        nb = json.loads(kept.read_text(encoding="utf-8"))
        target = out_dir / rel.with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(reader_notebook(nb), indent=1, ensure_ascii=False) + "\n"
        target.write_text(text, encoding="utf-8")
        kept.unlink()
    return missing


def rendered_inputs(out_dir: Path) -> list[Path]:
    """The ``.qmd`` behind each page this render wrote (``QUARTO_PROJECT_OUTPUT_FILES``)."""
    listing = os.environ.get("QUARTO_USE_FILE_FOR_PROJECT_OUTPUT_FILES")
    text = (
        Path(listing).read_text() if listing else os.environ.get("QUARTO_PROJECT_OUTPUT_FILES", "")
    )
    inputs = []
    for line in filter(None, text.splitlines()):
        page = (ROOT / line).resolve()
        if page.suffix == ".html" and page.is_relative_to(out_dir):
            qmd = ROOT / page.relative_to(out_dir).with_suffix(".qmd")
            if qmd.is_file():
                inputs.append(qmd)
    return inputs


def main() -> int:
    out_dir = Path(os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", "_site"))
    out_dir = (out_dir if out_dir.is_absolute() else ROOT / out_dir).resolve()
    missing = publish_notebooks(out_dir, rendered_inputs(out_dir))
    if missing:
        print(f"post-render: no executed notebook kept for {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
