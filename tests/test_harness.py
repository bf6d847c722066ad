"""The harness follows Quarto's notebook-conversion and execution rules, one rule per test."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import harness
import nbformat
import pytest
from harness import PostExecutionError, execute_notebook, output_bytes, qmd_to_notebook
from nbformat.v4 import new_code_cell, new_notebook, new_output

FIXTURES = Path(__file__).parent / "fixtures" / "harness"
FENCE = "```"


def cells(text: str) -> list[tuple[str, str]]:
    """(cell_type, source) pairs of the converted document."""
    return [(c.cell_type, c.source) for c in qmd_to_notebook(text).cells]


# ------------------------------------------------------------------------ conversion rules


def test_only_brace_python_fences_become_code_cells() -> None:
    text = "\n".join(
        [
            "Intro.",
            "",
            "```{python}",
            "x = 1",
            "```",
            "",
            "```python",
            "shown_only = 2",
            "```",
            "",
            "```{.python}",
            "also_shown = 3",
            "```",
            "",
            "```{r}",
            "y <- 4",
            "```",
            "",
            "```{pythonic}",
            "not_python = 5",
            "```",
            "",
            "```{{python}}",
            "verbatim = 6",
            "```",
        ]
    )
    got = cells(text)
    assert [t for t, _ in got] == ["markdown", "code", "markdown"]
    assert got[1][1] == "x = 1"
    for plain in ("```python", "```{.python}", "```{r}", "```{pythonic}", "```{{python}}"):
        assert plain in got[2][1]
    assert "verbatim = 6" in got[2][1] and "y <- 4" in got[2][1]


@pytest.mark.parametrize(
    "header",
    [
        "```{python}",
        "```{python #fig-id}",
        "```{python, echo=FALSE}",
        "``` {python}  ",
        "```{python }",
    ],
)
def test_fence_header_forms(header: str) -> None:
    got = cells(f"Text.\n\n{header}\nvalue = 42\n```\n\nAfter.")
    assert got == [("markdown", "Text."), ("code", "value = 42"), ("markdown", "After.")]


def test_indented_fence_is_dedented_and_closes_at_same_indent() -> None:
    text = "\n".join(
        [
            "1. A list item with code:",
            "",
            "   ```{python}",
            "   def f():",
            "       return 1",
            "```",  # wrong indentation: part of the code, does not close
            "   ```",
            "",
            "2. Next item.",
        ]
    )
    nb = qmd_to_notebook(text)
    code = nb.cells[1]
    assert code.cell_type == "code"
    assert code.source == "def f():\n    return 1\n```"
    assert code.metadata["md-indent"] == "   "
    assert nb.cells[2].source == "2. Next item."


def test_four_backtick_fence_contains_three_backtick_lines() -> None:
    text = "\n".join(
        [
            "````{python}",
            'snippet = """',
            "```",
            "`````",
            '"""',
            "````",
            "Prose.",
        ]
    )
    got = cells(text)
    assert got == [("code", 'snippet = """\n```\n`````\n"""'), ("markdown", "Prose.")]


def test_unclosed_python_fence_is_an_error() -> None:
    with pytest.raises(ValueError, match="line 3 is never closed"):
        qmd_to_notebook("Text.\n\n````{python}\nx = 1\n```\n")


def test_front_matter_becomes_a_raw_cell() -> None:
    text = '---\ntitle: "Week 1"\ndate: 2026-09-07\n---\n\nFirst paragraph.\n'
    got = cells(text)
    assert got == [
        ("raw", '---\ntitle: "Week 1"\ndate: 2026-09-07\n---'),
        ("markdown", "First paragraph."),
    ]


def test_mid_document_yaml_block_is_raw_but_horizontal_rule_is_markdown() -> None:
    text = "\n".join(
        [
            "Before.",
            "",
            "---",
            "",
            "After a horizontal rule.",
            "",
            "---",
            "key: value",
            "---",
            "",
            "Closing words.",
            "",
            "```yaml",
            "---",
            "inside: a plain fence",
            "---",
            "```",
        ]
    )
    got = cells(text)
    assert got == [
        ("markdown", "Before.\n\n---\n\nAfter a horizontal rule."),
        ("raw", "---\nkey: value\n---"),
        ("markdown", "Closing words.\n\n```yaml\n---\ninside: a plain fence\n---\n```"),
    ]


def test_python_fence_inside_a_plain_fence_is_still_code() -> None:
    """Quarto's rule: a ``{python}`` fence opens a cell anywhere; show one with ``{{python}}``."""
    text = "````markdown\n```{python}\n1 + 1\n```\n````"
    got = cells(text)
    assert got == [("markdown", "````markdown"), ("code", "1 + 1"), ("markdown", "````")]


def test_cell_options_stay_in_source_and_are_parsed() -> None:
    text = "\n".join(
        [
            "```{python}",
            "#| label: fig-loss",
            '#| fig-cap: "Loss: going down"',
            "# | echo: false",
            "#|eval: false",
            "x = 1",
            "#| error: true",
            "```",
        ]
    )
    cell = qmd_to_notebook(text).cells[0]
    assert cell.source.startswith('#| label: fig-loss\n#| fig-cap: "Loss: going down"\n')
    assert cell.source.endswith("x = 1\n#| error: true")
    assert cell.metadata["quarto_options"] == {
        "label": "fig-loss",
        "fig-cap": "Loss: going down",
        "echo": False,
        "eval": False,
    }  # `error` comes after a code line, so it is not an option
    assert cell.metadata["qmd_line"] == 1
    # Quarto drops one blank line after the fence before looking for options, not two
    one, two = (
        qmd_to_notebook(f"```{{python}}{gap}#| eval: false\nx\n```").cells[0]
        for gap in ("\n\n", "\n\n\n")
    )
    assert one.metadata["quarto_options"] == {"eval": False}
    assert two.metadata["quarto_options"] == {} and two.source == "#| eval: false\nx"


def test_invalid_option_yaml_is_an_error_and_knitr_style_is_ignored() -> None:
    with pytest.raises(ValueError, match="line 1"):
        qmd_to_notebook("```{python}\n#| label: [unclosed\nx = 1\n```")
    knitr = qmd_to_notebook("```{python}\n#| echo=FALSE\nx = 1\n```").cells[0]
    assert knitr.metadata["quarto_options"] == {}


def test_label_becomes_a_valid_cell_id() -> None:
    text = "```{python}\n#| label: 1. Loss curve (é)\nx = 1\n```\n\n```{python}\ny = 2\n```"
    nb = qmd_to_notebook(text)
    assert nb.cells[0].id == "Loss-curve-e"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    nbformat.validate(nb)  # ids, metadata and cell shapes are valid nbformat 4.5
    with pytest.raises(ValueError, match="duplicate cell label"):
        qmd_to_notebook("```{python}\n#| label: a\n```\n```{python}\n#| label: a\n```")


def test_blank_lines_trimmed_and_empty_cells_dropped() -> None:
    text = "\n".join(
        ["", "", "Para.", "", "", "", "```{python}", "", "", "x = 1", "", "", "```"]
        + ["", "", "```{python}", "", "```", "   ", "```{python}", "y = 2", "```", "", ""]
    )
    assert cells(text) == [("markdown", "Para."), ("code", "x = 1"), ("code", "y = 2")]


def test_execute_defaults_merge_metadata_layers() -> None:
    """``_metadata.yml`` (fig-height 3, error false) under front matter (fig-width 4)."""
    qmd = FIXTURES / "_exec-post" / "index.qmd"
    nb = qmd_to_notebook(qmd.read_text(encoding="utf-8"))
    opts = harness.execute_defaults(nb, qmd)
    assert (opts["fig-width"], opts["fig-height"], opts["error"]) == (4, 3, False)
    override = qmd_to_notebook(
        "---\nexecute:\n  eval: false\nformat:\n  html:\n    fig-dpi: 50\n---"
    )
    assert harness.execute_defaults(override) == {
        **harness.DEFAULT_EXECUTE,
        "eval": False,
        "fig-dpi": 50,
    }


def test_kernel_env_defaults_dlbasics_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DLBASICS_DATA", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(harness, "SHARED_MNIST", tmp_path / "absent")
    assert "DLBASICS_DATA" not in harness.kernel_env()
    monkeypatch.setattr(harness, "SHARED_MNIST", tmp_path)
    env = harness.kernel_env()
    assert env["DLBASICS_DATA"] == str(tmp_path)
    assert env["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"
    assert harness.kernel_env({"DLBASICS_DATA": "/elsewhere"})["DLBASICS_DATA"] == "/elsewhere"


def test_output_bytes_counts_every_output() -> None:
    cell = new_code_cell("x")
    cell.outputs = [
        new_output("stream", name="stdout", text="abc"),  # 3
        new_output("display_data", data={"image/png": "QUJD", "text/plain": "é"}),  # 4 + 2
        new_output("error", ename="E", evalue="v", traceback=["x", "yz"]),  # 3
    ]
    assert output_bytes(new_notebook(cells=[cell, new_code_cell("y")])) == 12


def test_post_paths_lists_index_qmd_files_sorted() -> None:
    paths = harness.post_paths()
    assert paths == sorted(paths)
    assert all(p.name == "index.qmd" and p.parent.parent == harness.POSTS for p in paths)
    assert set(paths) == set(harness.POSTS.glob("*/index.qmd"))


# ------------------------------------------------------------------------- execution rules


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, Path]:
    """One kernel run of the fixture post (several rules are checked on it)."""
    return harness.execute_post(FIXTURES / "_exec-post" / "index.qmd", tmp_path_factory.mktemp("b"))


def by_label(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["quarto_options"]["label"]: c for c in nb.cells if c.cell_type == "code"}


def stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def test_runs_in_the_post_folder(fixture_run: tuple[nbformat.NotebookNode, Path]) -> None:
    assert stdout(by_label(fixture_run[0])["cwd"]) == "read from the post folder\n"


def test_eval_false_cell_is_not_run(fixture_run: tuple[nbformat.NotebookNode, Path]) -> None:
    cells_ = by_label(fixture_run[0])
    assert cells_["skipped"].outputs == [] and cells_["skipped"].execution_count is None
    assert "skipped cell ran: False" in stdout(cells_["after-error"])


def test_error_true_cell_keeps_its_error(fixture_run: tuple[nbformat.NotebookNode, Path]) -> None:
    cells_ = by_label(fixture_run[0])
    errors = [o for o in cells_["allowed-error"].outputs if o.output_type == "error"]
    assert [(e.ename, e.evalue) for e in errors] == [("ValueError", "allowed failure")]
    assert "tags" not in cells_["allowed-error"].metadata  # the injected tag is removed
    assert cells_["after-error"].execution_count == 4  # the run went on


def test_kernel_setup_env_and_figures(fixture_run: tuple[nbformat.NotebookNode, Path]) -> None:
    cells_ = by_label(fixture_run[0])
    out = stdout(cells_["after-error"])
    assert "figsize: [4.0, 3.0] backend: module://matplotlib_inline.backend_inline" in out
    assert f"DLBASICS_DATA: {harness.kernel_env().get('DLBASICS_DATA')}\n" in out
    # `#|` lines are stripped before running, so the cell magic is on the first line
    assert cells_["magic"].source.startswith("#| label: magic\n%%capture")
    assert "captured stdout: captured, not shown" in stdout(cells_["figure"])
    pngs = [
        o.data["image/png"] for o in cells_["figure"].outputs if "image/png" in o.get("data", {})
    ]
    assert len(pngs) == 1 and base64.b64decode(pngs[0]).startswith(b"\x89PNG")


def test_execute_post_writes_notebook(fixture_run: tuple[nbformat.NotebookNode, Path]) -> None:
    nb, path = fixture_run
    assert path.parent.name == "_exec-post" and path.name == "index.ipynb"
    written = nbformat.read(path, as_version=4)
    nbformat.validate(written)
    assert written.cells == nb.cells
    assert 0 < written.metadata["dlbasics"]["seconds"] < 120
    assert written.metadata["dlbasics"]["source"] == "tests/fixtures/harness/_exec-post/index.qmd"


def test_unmarked_error_fails_naming_the_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI: exit status 1, the message names post, label, cell and line."""
    post = tmp_path / "98-broken"
    post.mkdir()
    text = "```{python}\nx = 1\n```\n\n```{python}\n#| label: boom\nraise ValueError('kaput')\n```"
    (post / "index.qmd").write_text(text, encoding="utf-8")
    build = tmp_path / "build"
    stale = build / "98-broken" / "index.ipynb"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}", encoding="utf-8")
    assert harness.main([str(post / "index.qmd"), "--build-dir", str(build)]) == 1
    message = capsys.readouterr().err
    assert f"FAILED {post / 'index.qmd'}" in message and "label 'boom'" in message
    assert "code cell 2" in message and "line 5" in message and "ValueError: kaput" in message
    assert "raise ValueError('kaput')" in message  # the traceback's last lines
    assert not stale.exists()  # a failed post leaves no notebook from an earlier run


def test_per_cell_timeout(tmp_path: Path) -> None:
    nb = qmd_to_notebook("```{python}\n#| label: slow\nimport time\ntime.sleep(30)\n```")
    start = time.perf_counter()
    with pytest.raises(PostExecutionError, match="label 'slow'.*timed out after 1 s"):
        execute_notebook(nb, tmp_path, timeout=1)
    assert time.perf_counter() - start < 20


def test_cli_prints_seconds_bytes_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The success line (the kernel part is covered by the tests above)."""
    cell = new_code_cell("print('hi')")
    cell.outputs = [new_output("stream", name="stdout", text="hi\n")]
    nb = new_notebook(cells=[cell], metadata={"dlbasics": {"seconds": 1.25}})
    calls = []

    def fake_execute_post(qmd: Path, build_dir: Path, timeout: int) -> tuple:
        calls.append((qmd, build_dir, timeout))
        return nb, build_dir / "x" / "index.ipynb"

    monkeypatch.setattr(harness, "execute_post", fake_execute_post)
    assert harness.main(["a.qmd", "--build-dir", str(tmp_path), "--timeout", "7"]) == 0
    assert calls == [(Path("a.qmd"), tmp_path, 7)]
    out = capsys.readouterr().out
    assert out == f"a.qmd: 1.2 s, 3 output bytes -> {tmp_path / 'x' / 'index.ipynb'}\n"
