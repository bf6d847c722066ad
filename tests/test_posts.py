"""Every post keeps its outputs light (a cell that raises fails the render itself)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from nbformat import NotebookNode
from qmd import post_paths

MAX_OUTPUT_BYTES = 1_500_000
POSTS = post_paths()


def output_bytes(nb: NotebookNode) -> int:
    """Bytes of every output as stored: mime data (base64 PNG as text), streams, tracebacks."""
    total = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts = [out.text]
            elif out.output_type == "error":
                parts = out.traceback
            else:
                parts = list(out.get("data", {}).values())
            for part in parts:
                text = part if isinstance(part, str) else json.dumps(part)
                total += len(text.encode("utf-8"))
    return total


def test_output_bytes_counts_what_a_notebook_stores() -> None:
    """A hand-counted case: 3 + 4 bytes of text, an 8-byte PNG string, 6 bytes of JSON."""
    nb = NotebookNode(
        cells=[
            NotebookNode(
                cell_type="code",
                outputs=[
                    NotebookNode(output_type="stream", text="ab\n"),
                    NotebookNode(output_type="error", traceback=["é", "ab"]),
                    NotebookNode(output_type="display_data", data={"image/png": "iVBORw0K"}),
                    NotebookNode(output_type="execute_result", data={"application/json": [1, 2]}),
                ],
            ),
            NotebookNode(cell_type="markdown", source="not an output"),
        ]
    )
    assert output_bytes(nb) == 3 + 4 + 8 + 6


@pytest.mark.slow
@pytest.mark.parametrize("qmd", POSTS, ids=[p.parent.name for p in POSTS])
def test_post_output_weight(qmd: Path, executed_post: Callable[[Path], NotebookNode]) -> None:
    """All outputs of a post (base64 images, HTML, text) weigh at most 1.5 MB."""
    size = output_bytes(executed_post(qmd))
    assert 0 < size <= MAX_OUTPUT_BYTES, (
        f"{qmd.parent.name}: outputs weigh {size:,} bytes, over the {MAX_OUTPUT_BYTES:,} limit"
    )
