"""Every post executes without error and keeps its outputs light."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from harness import POSTS, output_bytes, post_paths
from nbformat import NotebookNode

MAX_OUTPUT_BYTES = 1_500_000
POSTS_FOUND = post_paths()


def test_at_least_one_post_exists() -> None:
    """Guards the parametrized tests below against passing vacuously on an empty posts/."""
    assert POSTS_FOUND, f"no posts/*/index.qmd under {POSTS}"


@pytest.mark.slow
@pytest.mark.parametrize("qmd", POSTS_FOUND, ids=[p.parent.name for p in POSTS_FOUND])
def test_post_executes(qmd: Path, executed_post: Callable[[Path], NotebookNode]) -> None:
    """The post runs top to bottom in its folder; only `#| error: true` cells may raise."""
    nb = executed_post(qmd)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{qmd} has no ```{{python}} cells"
    allowed_by_default = nb.metadata["dlbasics"]["execute"]["error"]
    for cell in code:
        allowed = cell.metadata["quarto_options"].get("error", allowed_by_default)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors or allowed, f"cell {cell.id} raised {errors[0].ename}"


@pytest.mark.slow
@pytest.mark.parametrize("qmd", POSTS_FOUND, ids=[p.parent.name for p in POSTS_FOUND])
def test_post_output_weight(qmd: Path, executed_post: Callable[[Path], NotebookNode]) -> None:
    """All outputs of a post (base64 images, HTML, text) weigh at most 1.5 MB."""
    size = output_bytes(executed_post(qmd))
    assert size <= MAX_OUTPUT_BYTES, (
        f"{qmd.parent.name}: outputs weigh {size:,} bytes, over the {MAX_OUTPUT_BYTES:,} limit"
    )
