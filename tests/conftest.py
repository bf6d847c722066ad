"""Shared fixtures: each post is executed at most once per test session."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from nbformat import NotebookNode

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import harness` from any test

import harness  # noqa: E402


def resolve_post(name_or_path: str | Path) -> Path:
    """A post's ``index.qmd`` from its path, its folder, its folder name or a unique prefix."""
    path = Path(name_or_path)
    if path.is_dir():
        path = path / "index.qmd"
    if path.is_file():
        return path.resolve()
    matches = [p for p in harness.post_paths() if p.parent.name == str(name_or_path)]
    matches = matches or [p for p in harness.post_paths() if p.parent.name.startswith(str(path))]
    if len(matches) != 1:
        names = [p.parent.name for p in harness.post_paths()]
        raise LookupError(f"no single post matches {str(name_or_path)!r}; posts: {names}")
    return matches[0].resolve()


@pytest.fixture(scope="session")
def executed_post() -> Callable[[str | Path], NotebookNode]:
    """Factory ``executed_post(name_or_path) -> executed notebook``, cached for the session.

    The notebook is also written to ``build/executed/<post>/index.ipynb``. A failed execution
    is cached too: every test that asks for that post fails with the same error, without
    running the post again.
    """
    cache: dict[Path, NotebookNode | Exception] = {}

    def run(name_or_path: str | Path) -> NotebookNode:
        qmd = resolve_post(name_or_path)
        if qmd not in cache:
            try:
                cache[qmd] = harness.execute_post(qmd)[0]
            except (harness.PostExecutionError, ValueError) as err:
                cache[qmd] = err
        result = cache[qmd]
        if isinstance(result, Exception):
            raise result
        return result

    return run
