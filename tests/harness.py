"""Post-execution harness: one post executed by Quarto's rules in seconds, without Quarto.

The tests read the notebooks real Quarto executes (tests/conftest.py renders the site);
this harness stays for speed (``python tests/harness.py post`` while writing a post, and
``bench/run.py``'s per-post timings), and tests/test_site_render.py checks that it runs
the same code cells, with the same options, as Quarto does for every post.

``qmd_to_notebook`` ports the cell-splitting rules of quarto-cli's ``quartoMdToJupyter``
(``src/core/jupyter/jupyter.ts``) and ``execute_notebook`` follows Quarto's executor
(``src/resources/jupyter/notebook.py``): a hidden setup cell with Quarto's HTML figure defaults,
``#|`` option lines stripped before a cell runs, ``eval: false`` cells skipped, ``error: true``
cells allowed to raise, any other error fatal. Deliberate differences from Quarto, all outside
execution: a YAML block's closing ``---`` closes it even when a blank line follows (Quarto then
leaves typical front matter inside a markdown cell, quarto-cli #9819/#12042; we make it the raw
cell Quarto documents), plain fences toggle "inside code" on their closing line (Quarto never
resets that flag), and an unclosed ```` ```{python} ```` fence is an error (Quarto silently turns
the rest of the page into markdown, so the code never runs).

Plain module (no pytest): ``bench/run.py`` imports it after ``sys.path.insert(0, "<repo>/tests")``.
CLI: ``python tests/harness.py posts/01-*/index.qmd``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

REPO = Path(__file__).resolve().parent.parent
POSTS = REPO / "posts"
BUILD_DIR = REPO / "build" / "executed"
SHARED_MNIST = REPO.parent / "shared" / "mnist"

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
# Quarto's defaults for HTML output (formats-shared.ts createHtmlFormat; fig-dpi from execute).
DEFAULT_EXECUTE: dict[str, Any] = {
    "eval": True,
    "error": False,
    "fig-width": 7,
    "fig-height": 5,
    "fig-dpi": 96,
    "fig-format": "retina",
}

_CODE_FENCE = re.compile(r"^(\s*)(```+)\s*\{python( *[ ,].*)?\}\s*$")
_ANY_FENCE = re.compile(r"^(\s*)(```+)")
_YAML_DELIM = re.compile(r"^---\s*$")
_OPTION = re.compile(r"^#\s*\| ?")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class PostExecutionError(RuntimeError):
    """A cell of a post raised (without ``error: true``), timed out, or killed the kernel."""


# ----------------------------------------------------------------------------- conversion


def _closes(line: str, indent: str, ticks: int) -> bool:
    """Quarto's end-of-fence test: same indentation, same number of backticks, nothing else."""
    return re.match("^" + re.escape(indent) + "`" * ticks + r"\s*$", line) is not None


def _cell_id(label: str) -> str:
    """Quarto's ``jupyterAutoIdentifier``: an nbformat-valid id (``[a-zA-Z0-9-_]{1,64}``)."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-zA-Z0-9\-_]", "", re.sub(r"\s", "-", text))
    text = re.sub(r"^[^A-Za-z]+", "", text)[:64]
    return text or uuid.uuid4().hex[:8]


def _parse_options(lines: list[str], where: str) -> dict[str, Any]:
    """YAML from the ``#|`` lines at the very top of a code cell ({} if none / knitr style)."""
    yaml_lines = []
    for line in lines:
        match = _OPTION.match(line)
        if not match:
            break
        yaml_lines.append(line[match.end() :])
    if not yaml_lines:
        return {}
    try:
        parsed = yaml.safe_load("\n".join(yaml_lines))
    except yaml.YAMLError as err:
        raise ValueError(f"invalid '#|' cell options in {where}: {err}") from err
    # json round trip: notebook metadata must be JSON (YAML may give dates)
    return json.loads(json.dumps(parsed, default=str)) if isinstance(parsed, dict) else {}


def qmd_to_notebook(text: str) -> NotebookNode:
    """Split a ``.qmd`` into a notebook the way Quarto's jupyter engine does.

    Code cells keep their ``#|`` lines; the parsed options are in
    ``cell.metadata["quarto_options"]`` and the 1-based line of the opening fence in
    ``cell.metadata["qmd_line"]``. A ``label`` (or ``id``) option becomes the cell id.
    """
    nb = new_notebook(
        metadata={"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    )
    lines = re.split(r"\r?\n", text)
    buf: list[str] = []
    ids: set[str] = set()
    state: dict[str, Any] = {"yaml": False, "cell": None, "plain": None, "start": 0}

    def flush(kind: str) -> None:
        if buf and buf[0] == "":  # Quarto drops one blank line at each end, then trims all
            buf.pop(0)
        if buf and buf[-1] == "":
            buf.pop()
        src = list(buf)
        buf.clear()
        options: dict[str, Any] = {}
        if kind == "code":
            src = [line.removeprefix(state["cell"][0]) for line in src]
            options = _parse_options(src, f"the code cell at line {state['start']}")
        while src and not src[0].strip():
            src.pop(0)
        while src and not src[-1].strip():
            src.pop()
        if not src:
            return
        source = "\n".join(src)
        if kind == "markdown":
            nb.cells.append(new_markdown_cell(source))
            return
        if kind == "raw":
            nb.cells.append(new_raw_cell(source))
            return
        cell = new_code_cell(source)
        cell.metadata["quarto_options"] = options
        cell.metadata["qmd_line"] = state["start"]
        if state["cell"][0]:
            cell.metadata["md-indent"] = state["cell"][0]
        name = options.get("id", options.get("label"))
        if name is not None:
            cell.id = _cell_id(str(name))
            if cell.id in ids:
                raise ValueError(f"duplicate cell label/id {cell.id!r} (line {state['start']})")
            ids.add(cell.id)
        nb.cells.append(cell)

    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        outside_code = state["cell"] is None and state["plain"] is None
        if (
            outside_code
            and _YAML_DELIM.match(line)
            and (state["yaml"] or nxt is None or nxt.strip())
        ):
            if state["yaml"]:  # closing delimiter: the block becomes a raw cell
                buf.append(line)
                flush("raw")
            else:  # opening delimiter (a `---` followed by a blank line is a horizontal rule)
                flush("markdown")
                buf.append(line)
            state["yaml"] = not state["yaml"]
        elif state["cell"] is None and (match := _CODE_FENCE.match(line)):
            flush("markdown")  # as in Quarto, recognised even inside a plain fence
            state["cell"], state["start"] = (match[1], len(match[2])), i + 1
        elif state["cell"] is not None and _closes(line, *state["cell"]):
            flush("code")
            state["cell"] = None
        elif outside_code and (match := _ANY_FENCE.match(line)):
            state["plain"] = (match[1], len(match[2]))
            buf.append(line)
        elif state["cell"] is None and state["plain"] and _closes(line, *state["plain"]):
            state["plain"] = None
            buf.append(line)
        else:
            buf.append(line)
    if state["cell"] is not None:
        raise ValueError(f"```{{python}} fence at line {state['start']} is never closed")
    flush("markdown")
    return nb


# ------------------------------------------------------------------------------ execution


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of YAML mappings (``over`` wins)."""
    out = dict(base)
    for key, value in over.items():
        both_dicts = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if both_dicts else value
    return out


def _yaml_mapping(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def execute_defaults(nb: NotebookNode, qmd: Path | None = None) -> dict[str, Any]:
    """Document-level ``eval``/``error``/figure options, merged like Quarto's metadata.

    ``_quarto.yml`` < each ``_metadata.yml`` from the project root down to the post's folder
    < the front matter; within each, top-level keys < ``format: html:`` < ``execute:``
    (``eval``/``error`` only come from ``execute:``).
    """
    layers: list[dict[str, Any]] = []
    if qmd is not None:
        folder = qmd.resolve().parent
        if (REPO / "_quarto.yml").is_file():
            layers.append(_yaml_mapping((REPO / "_quarto.yml").read_text(encoding="utf-8")))
        parents = [p for p in [folder, *folder.parents] if p == REPO or REPO in p.parents]
        for directory in reversed(parents):
            if (directory / "_metadata.yml").is_file():
                text = (directory / "_metadata.yml").read_text(encoding="utf-8")
                layers.append(_yaml_mapping(text))
    first = nb.cells[0] if nb.cells else None
    if first is not None and first.cell_type == "raw" and first.source.startswith("---"):
        layers.append(_yaml_mapping(first.source.strip().strip("-")))
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = _merge(merged, layer)

    def mapping(value: Any) -> dict[str, Any]:
        return value if isinstance(value, dict) else {}

    html = mapping(mapping(merged.get("format")).get("html"))
    options = dict(DEFAULT_EXECUTE)
    for layer in (merged, html):
        options.update({k: v for k, v in layer.items() if k in DEFAULT_EXECUTE and k[:4] == "fig-"})
    for layer in (mapping(merged.get("execute")), mapping(html.get("execute"))):
        options.update({k: v for k, v in layer.items() if k in DEFAULT_EXECUTE})
    return options


def _setup_code(opts: dict[str, Any]) -> str:
    """Quarto's python setup cell (figure size, dpi, format), leaving no names behind."""
    return (
        "def _quarto_setup():\n"
        "    try:\n"
        "        import matplotlib.pyplot as plt\n"
        "        from matplotlib_inline.backend_inline import set_matplotlib_formats\n"
        "    except ImportError:\n"
        "        return\n"
        f"    plt.rcParams['figure.figsize'] = ({opts['fig-width']!r}, {opts['fig-height']!r})\n"
        f"    plt.rcParams['figure.dpi'] = {opts['fig-dpi']!r}\n"
        "    plt.rcParams['savefig.dpi'] = 'figure'\n"
        f"    set_matplotlib_formats({opts['fig-format']!r})\n"
        "_quarto_setup()\n"
        "del _quarto_setup\n"
    )


def kernel_env(
    env: dict[str, str] | None = None, opts: dict[str, Any] | None = None
) -> dict[str, str]:
    """The kernel's environment: ours + ``env``, inline matplotlib, ``DLBASICS_DATA`` default."""
    opts = opts or DEFAULT_EXECUTE
    full = {**os.environ, **(env or {})}
    if "DLBASICS_DATA" not in full and SHARED_MNIST.is_dir():
        full["DLBASICS_DATA"] = str(SHARED_MNIST)
    full["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures as outputs
    retina = opts["fig-format"] == "retina"
    full["QUARTO_FIG_WIDTH"] = str(opts["fig-width"])
    full["QUARTO_FIG_HEIGHT"] = str(opts["fig-height"])
    full["QUARTO_FIG_DPI"] = str(opts["fig-dpi"] * (2 if retina else 1))
    full["QUARTO_FIG_FORMAT"] = "png" if retina else str(opts["fig-format"])
    full.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return full


def _describe(nb: NotebookNode, index: int, ordinal: int, cwd: Path) -> str:
    cell = nb.cells[index]
    where = nb.metadata.get("dlbasics", {}).get("source", f"notebook run in {cwd}")
    label = cell.metadata.get("quarto_options", {}).get("label")
    line = cell.metadata.get("qmd_line")
    parts = [f"code cell {ordinal}", f"notebook cell {index}"]
    if label:
        parts.insert(0, f"label {label!r}")
    if line:
        parts.append(f"line {line}")
    return f"{where}: {', '.join(parts)}"


def _tail(text: str, n: int = 15) -> str:
    lines = _ANSI.sub("", text).rstrip().splitlines()
    return "\n".join(lines[-n:])


def execute_notebook(
    nb: NotebookNode, cwd: Path, timeout: int = 120, env: dict[str, str] | None = None
) -> NotebookNode:
    """Execute ``nb`` (in place, and returned) in a fresh ``python3`` kernel running in ``cwd``.

    ``timeout`` is per cell (seconds). Raises :class:`PostExecutionError` naming the post, the
    cell (label, index, qmd line) and the traceback's last lines.
    """
    opts = nb.metadata.get("dlbasics", {}).get("execute") or execute_defaults(nb)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": str(cwd)}},
        shutdown_kernel="immediate",
        record_timing=False,
    )
    ordinal = 0
    with client.setup_kernel(env=kernel_env(env, opts)):
        client.timeout = max(timeout, 60)  # importing matplotlib must not eat the cell budget
        setup = new_code_cell(_setup_code(opts))
        nb.cells.insert(0, setup)  # like Quarto; nbclient stores the cell at its index
        try:
            client.execute_cell(setup, 0, store_history=False)
        except CellExecutionError as err:
            raise PostExecutionError(
                f"setup cell failed in {cwd}:\n{_tail(err.traceback)}"
            ) from err
        finally:
            nb.cells.pop(0)
        client.timeout = timeout
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            ordinal += 1
            options = cell.metadata.get("quarto_options", {})
            cell.outputs, cell.execution_count = [], None
            if options.get("eval", opts["eval"]) != True:  # noqa: E712 - Quarto runs only `True`
                continue
            allow = bool(options.get("error", opts["error"]))
            tags = list(cell.metadata.get("tags", []))
            if allow:
                cell.metadata["tags"] = [*tags, "raises-exception"]
            source = cell.source
            cell.source = "\n".join(line for line in source.split("\n") if not _OPTION.match(line))
            try:
                client.execute_cell(cell, index, execution_count=ordinal)
            except CellTimeoutError as err:
                raise PostExecutionError(
                    f"{_describe(nb, index, ordinal, cwd)} timed out after {timeout} s"
                ) from err
            except CellExecutionError as err:
                raise PostExecutionError(
                    f"{_describe(nb, index, ordinal, cwd)} raised {err.ename}: {err.evalue}\n"
                    f"{_tail(err.traceback)}"
                ) from err
            except DeadKernelError as err:
                raise PostExecutionError(
                    f"{_describe(nb, index, ordinal, cwd)} killed the kernel"
                ) from err
            finally:
                cell.source = source
                if allow:
                    cell.metadata["tags"] = tags
                    if not tags:
                        del cell.metadata["tags"]
            cell.execution_count = ordinal
    return nb


def execute_post(
    qmd: Path, build_dir: Path = BUILD_DIR, timeout: int = 120
) -> tuple[NotebookNode, Path]:
    """Convert and execute one post in its own folder; write ``<build_dir>/<folder>/index.ipynb``.

    Wall-clock seconds are stored in ``nb.metadata["dlbasics"]["seconds"]``.
    """
    qmd = Path(qmd).resolve()
    nb = qmd_to_notebook(qmd.read_text(encoding="utf-8"))
    try:
        source = str(qmd.relative_to(REPO))
    except ValueError:
        source = str(qmd)
    nb.metadata["dlbasics"] = {"source": source, "execute": execute_defaults(nb, qmd)}
    out = Path(build_dir) / qmd.parent.name / "index.ipynb"
    out.unlink(missing_ok=True)  # a failed run must not leave an earlier notebook behind
    start = time.perf_counter()
    execute_notebook(nb, qmd.parent, timeout=timeout)
    nb.metadata["dlbasics"]["seconds"] = round(time.perf_counter() - start, 3)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, out)  # atomic: parallel test sessions never see half a notebook
    return nb, out


# -------------------------------------------------------------------------------- queries


def _size(value: Any) -> int:
    if isinstance(value, list):
        value = "".join(str(v) for v in value)
    if not isinstance(value, str):
        value = json.dumps(value)
    return len(value.encode("utf-8"))


def output_bytes(nb: NotebookNode) -> int:
    """Bytes of every output as stored: all mime data (base64 PNG as text), streams, tracebacks."""
    total = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                total += _size(out.text)
            elif out.output_type == "error":
                total += _size(out.traceback)
            else:
                total += sum(_size(v) for v in out.get("data", {}).values())
    return total


def post_paths() -> list[Path]:
    """Every ``posts/*/index.qmd``, sorted."""
    return sorted(POSTS.glob("*/index.qmd"))


def main(argv: list[str] | None = None) -> int:
    """CLI: execute posts, print seconds, output bytes and the executed notebook's path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("qmd", nargs="+", type=Path, help="posts/NN-slug/index.qmd")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR, help="output folder")
    args = parser.parse_args(argv)
    failed = 0
    for qmd in args.qmd:
        try:
            nb, path = execute_post(qmd, args.build_dir, timeout=args.timeout)
        except (PostExecutionError, ValueError) as err:
            print(f"FAILED {qmd}\n{err}", file=sys.stderr)
            failed += 1
            continue
        seconds = nb.metadata["dlbasics"]["seconds"]
        print(f"{qmd}: {seconds:.1f} s, {output_bytes(nb):,} output bytes -> {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
