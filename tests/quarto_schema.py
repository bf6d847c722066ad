"""Quarto's own YAML validation, run without a render (fast, readable errors).

The tests check the site's configuration against the compiled schema of the Quarto
that renders the site (``all-schema-definitions.json``, found through ``quarto --paths``
in ``<share>/editor/tools/yaml/``; the offline kit and CI both run Quarto 1.10.18), or the
file named by the environment variable ``DLBASICS_QUARTO_SCHEMA`` (``.json`` or
``.json.gz``). ``quarto render`` validates too, but only after minutes of execution and
for one document at a time; these checks take a second and name every problem.

What this module does:

* :func:`load_yaml` reads YAML the way Quarto does (js-yaml with its JSON schema:
  ``true``/``false`` only, no ``yes``/``no``, dates stay strings), refuses duplicate
  keys (js-yaml does) and aliases (Quarto's validator mishandles them,
  quarto-cli#8762).
* :class:`QuartoSchema` translates Quarto's internal schema form to JSON Schema once
  (``ref`` -> ``$ref: #/$defs/<id>``, ``closed: true`` -> ``additionalProperties:
  false``, ``anyOf``/``allOf``/``enum``/arrays/objects passed through) and validates
  ``_quarto.yml`` (``project-config``), ``_metadata.yml`` and front matter
  (``front-matter``) and ``#|`` cell options (``engine-jupyter``, the schema Quarto
  builds for the jupyter engine's cells). Because ``project-config``,
  ``front-matter`` and ``engine-jupyter`` are open objects, top-level keys are also
  checked against the union of the property names they know, so a misspelt key is
  caught too.
* :func:`parse_qmd` splits a ``.qmd`` file like Quarto's jupyter engine: front
  matter, executable ``{python}`` cells with their ``#|`` options, and the markdown
  around them.

Every check returns a list of readable messages (``location: problem``); an empty
list means valid.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA_ENV = "DLBASICS_QUARTO_SCHEMA"
SCHEMA_IN_SHARE = Path("editor", "tools", "yaml", "all-schema-definitions.json")

# Front-matter keys that Quarto documents for website posts but that its schema
# does not list (front matter is an open object, so Quarto accepts them): the
# post's listing categories and the draft flag.
DOCUMENTED_KEYS_MISSING_FROM_SCHEMA = frozenset({"categories", "draft"})


# --------------------------------------------------------------------------- YAML


class QuartoYamlLoader(yaml.SafeLoader):
    """YAML 1.2 core scalars as js-yaml's JSON schema reads them (Quarto's parser).

    Differences from PyYAML's default: ``yes``/``no``/``on``/``off`` stay strings,
    ``2025-09-01`` stays a string (no timestamps), duplicate keys and aliases are
    errors.
    """

    yaml_implicit_resolvers: dict = {}

    def compose_node(self, parent, index):  # noqa: D102 (PyYAML hook)
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                "YAML aliases are not supported: Quarto's validator mishandles them "
                "(quarto-cli#8762); repeat the value instead",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # noqa: D102 (PyYAML hook)
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen[key] = True
        return super().construct_mapping(node, deep=deep)


QuartoYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
QuartoYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)
QuartoYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)$"),
    list("-+0123456789"),
)
QuartoYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
            |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """Parse YAML text as Quarto does (see :class:`QuartoYamlLoader`)."""
    return yaml.load(text, Loader=QuartoYamlLoader)  # noqa: S506 (safe loader subclass)


def load_yaml_file(path: Path) -> Any:
    return load_yaml(Path(path).read_text(encoding="utf-8"))


# ------------------------------------------------------------------ schema file


def quarto_share_dir() -> Path:
    """The resources folder of the Quarto on PATH (``quarto --paths``, second line)."""
    quarto = shutil.which("quarto")
    if quarto is None:
        raise FileNotFoundError(
            "Quarto is not on PATH, so its schema cannot be found: run `make test` (it finds "
            f"or installs Quarto), install Quarto 1.10.18, or set {SCHEMA_ENV} to its "
            "all-schema-definitions.json"
        )
    return _share_dir(quarto)


@functools.cache
def _share_dir(quarto: str) -> Path:
    out = subprocess.run([quarto, "--paths"], capture_output=True, text=True, check=True)
    lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    if len(lines) < 2:
        raise RuntimeError(f"unexpected output of `quarto --paths`: {out.stdout!r}")
    return Path(lines[1])


def schema_file() -> Path:
    """The schema file to use: ``$DLBASICS_QUARTO_SCHEMA``, else the one of the Quarto on PATH.

    Never ``None``: a missing Quarto or file is an error that says how to get it.
    """
    override = os.environ.get(SCHEMA_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise FileNotFoundError(f"{SCHEMA_ENV}={override} does not name a file")
        return path
    path = quarto_share_dir() / SCHEMA_IN_SHARE
    if not path.is_file():
        raise FileNotFoundError(f"this Quarto has no schema file at {path}")
    return path


def read_definitions(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or "project-config" not in data:
        raise ValueError(f"{path} is not Quarto's all-schema-definitions.json")
    return data


# ------------------------------------------------------------------ translation

_SCALAR_KINDS = {"boolean", "number", "string", "null"}


def translate(node: Any, where: str = "") -> Any:
    """Translate one node of Quarto's internal schema form to JSON Schema.

    Raises ``ValueError`` on a node kind it does not know, so a change in the
    file's format is noticed instead of silently accepting everything.
    """
    if isinstance(node, bool):  # e.g. additionalProperties: false
        return node
    if not isinstance(node, dict):
        raise ValueError(f"{where}: schema node is {type(node).__name__}, not an object")
    kind = node.get("type")
    out: dict[str, Any] = {}
    if isinstance(node.get("description"), str):
        out["description"] = node["description"]
    if isinstance(node.get("errorMessage"), str):
        out["x-errorMessage"] = node["errorMessage"]

    if kind == "ref":
        out["$ref"] = f"#/$defs/{node['$ref']}"
    elif kind in ("anyOf", "allOf"):
        out[kind] = [translate(c, f"{where}/{kind}/{i}") for i, c in enumerate(node[kind])]
    elif kind == "enum":
        out["enum"] = list(node["enum"])
    elif kind == "any":
        pass
    elif kind in _SCALAR_KINDS:
        out["type"] = kind
        if "pattern" in node:
            out["pattern"] = node["pattern"]
    elif kind == "array":
        out["type"] = "array"
        if "items" in node:
            out["items"] = translate(node["items"], f"{where}/items")
    elif kind == "object":
        out["type"] = "object"
        props = node.get("properties") or {}
        pats = node.get("patternProperties") or {}
        if props:
            out["properties"] = {
                k: translate(v, f"{where}/properties/{k}") for k, v in props.items()
            }
        if pats:
            out["patternProperties"] = {
                k: translate(v, f"{where}/patternProperties/{k}") for k, v in pats.items()
            }
        if "propertyNames" in node:
            out["propertyNames"] = translate(node["propertyNames"], f"{where}/propertyNames")
        required = node.get("required")
        if required == "all":
            out["required"] = sorted(props)
        elif required:
            out["required"] = list(required)
        if "additionalProperties" in node:
            out["additionalProperties"] = translate(
                node["additionalProperties"], f"{where}/additionalProperties"
            )
        if node.get("closed") is True:
            out["additionalProperties"] = False
    else:
        raise ValueError(f"{where}: unknown Quarto schema node type {kind!r}")
    return out


# ------------------------------------------------------------------- validation


def _location(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _is_type_mismatch(errors: list[jsonschema.ValidationError]) -> bool:
    """True when a failed anyOf branch was for another kind of value altogether."""
    return any(not e.relative_path and e.validator in ("type", "enum", "const") for e in errors)


def _depth(err: jsonschema.ValidationError) -> int:
    """How deep into the instance an error (or any error inside it) reaches."""
    return max([len(err.absolute_path)] + [_depth(sub) for sub in err.context or ()])


def _explain(err: jsonschema.ValidationError, prefix: tuple = ()) -> list[str]:
    """Readable messages for one error, descending into the branch that applied."""
    path = prefix + tuple(err.relative_path)
    if err.validator in ("anyOf", "oneOf") and err.context:
        branches: dict[Any, list[jsonschema.ValidationError]] = {}
        for sub in err.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        relevant = [errs for errs in branches.values() if not _is_type_mismatch(errs)]
        if relevant:
            # The branch that got furthest into the value explains it best.
            best = max(relevant, key=lambda errs: (max(map(_depth, errs)), -len(errs)))
            if len(relevant) == 1 or max(map(_depth, best)) > len(err.absolute_path):
                messages: list[str] = []
                for sub in best:
                    messages.extend(_explain(sub, path))
                return messages
        want = err.schema.get("description") if isinstance(err.schema, dict) else None
        if want:
            return [f"{_location(path)}: {err.instance!r} must {want}"]
    if err.validator == "additionalProperties":
        return [f"{_location(path)}: {err.message} (closed object: misspelt key?)"]
    if err.validator in ("type", "enum", "pattern") and isinstance(err.schema, dict):
        custom = err.schema.get("x-errorMessage")
        want = err.schema.get("description")
        if custom:
            return [f"{_location(path)}: {custom.replace('${value}', repr(err.instance))}"]
        if want:
            return [f"{_location(path)}: {err.instance!r} must {want}"]
    return [f"{_location(path)}: {err.message}"]


def _top_level_keys(defs: dict[str, Any], node: dict[str, Any], seen: set[str]) -> set[str]:
    """Property names an object schema knows at its top level (through refs, anyOf, allOf)."""
    kind = node.get("type")
    if kind == "ref":
        target = node["$ref"]
        if target in seen:
            return set()
        seen.add(target)
        return _top_level_keys(defs, defs[target], seen)
    if kind in ("anyOf", "allOf"):
        keys: set[str] = set()
        for child in node[kind]:
            keys |= _top_level_keys(defs, child, seen)
        return keys
    if kind == "object":
        return set(node.get("properties") or {})
    return set()


def _close_match(key: str, known: Iterable[str]) -> str:
    import difflib

    near = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


@dataclass
class QuartoSchema:
    """Quarto's schema definitions, translated once to JSON Schema ``$defs``."""

    raw: dict[str, Any]
    defs: dict[str, Any] = field(init=False)
    _validators: dict[str, Any] = field(init=False, default_factory=dict)
    _keys: dict[str, frozenset[str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.defs = {sid: translate(node, sid) for sid, node in self.raw.items()}

    def validator(self, schema_id: str) -> jsonschema.Draft202012Validator:
        if schema_id not in self.defs:
            raise KeyError(f"no schema id {schema_id!r} in Quarto's definitions")
        if schema_id not in self._validators:
            schema = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$defs": self.defs,
                "$ref": f"#/$defs/{schema_id}",
            }
            self._validators[schema_id] = jsonschema.Draft202012Validator(schema)
        return self._validators[schema_id]

    def known_keys(self, schema_id: str) -> frozenset[str]:
        if schema_id not in self._keys:
            self._keys[schema_id] = frozenset(
                _top_level_keys(self.raw, self.raw[schema_id], {schema_id})
            )
        return self._keys[schema_id]

    def errors(
        self, instance: Any, schema_id: str, *, strict_keys: bool = True, extra_keys=()
    ) -> list[str]:
        """Messages for everything wrong with ``instance`` under ``schema_id``."""
        messages: list[str] = []
        for err in self.validator(schema_id).iter_errors(instance):
            messages.extend(_explain(err))
        if strict_keys and isinstance(instance, dict):
            known = self.known_keys(schema_id) | set(extra_keys)
            for key in instance:
                if key not in known:
                    messages.append(
                        f"{key}: unknown top-level key for {schema_id}{_close_match(key, known)}"
                    )
        return list(dict.fromkeys(messages))  # de-duplicate, keep order

    # The three kinds of configuration a Quarto website has.

    def check_project_config(self, config: Any) -> list[str]:
        """``_quarto.yml`` against ``project-config``."""
        return self.errors(config, "project-config", extra_keys=DOCUMENTED_KEYS_MISSING_FROM_SCHEMA)

    def check_front_matter(self, meta: Any) -> list[str]:
        """A page's front matter or a ``_metadata.yml`` against ``front-matter``."""
        return self.errors(meta, "front-matter", extra_keys=DOCUMENTED_KEYS_MISSING_FROM_SCHEMA)

    def check_cell_options(self, options: Any, engine: str = "jupyter") -> list[str]:
        """``#|`` options of one cell against ``engine-<engine>``."""
        if not isinstance(options, dict):
            return [f"(cell options): must be a mapping of option: value, got {options!r}"]
        return self.errors(options, f"engine-{engine}")


@functools.cache
def load_schema(path: Path | None = None) -> QuartoSchema:
    """The translated schema (cached); ``path`` defaults to :func:`schema_file`."""
    return QuartoSchema(read_definitions(path or schema_file()))


# ------------------------------------------------------------------ .qmd files

# Quarto's jupyter engine: executable fences are {python}, {python #id}, {python, ...}.
_CELL_OPEN = re.compile(r"^(\s*)(```+)\s*\{python( *[ ,].*)?\}\s*$")
# Any other fence (```bash, ```{.python}, ~~~) is markdown: skipped for links.
_FENCE_OPEN = re.compile(r"^(\s*)(`{3,}|~{3,})")
_OPTION_LINE = re.compile(r"^#\s*\| ?")


@dataclass
class Cell:
    line: int  # 1-based line of the opening fence
    source: str  # cell text, option lines included (as Quarto keeps them)
    option_text: str  # the YAML of the leading #| lines

    def options(self) -> Any:
        return load_yaml(self.option_text) if self.option_text.strip() else {}


@dataclass
class QmdDoc:
    path: Path
    front_matter_text: str | None
    cells: list[Cell]
    prose: list[tuple[int, str]]  # (1-based line, text) outside any code block

    def front_matter(self) -> dict[str, Any]:
        if self.front_matter_text is None:
            return {}
        data = load_yaml(self.front_matter_text)
        return data if data is not None else {}


def parse_qmd(path: Path, text: str | None = None) -> QmdDoc:
    """Split a ``.qmd`` into front matter, executable cells and prose lines."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if text is None else text
    lines = text.splitlines()
    i = 0
    front = None
    if lines and lines[0].strip() == "---" and len(lines) > 1 and lines[1].strip():
        for j in range(1, len(lines)):
            if lines[j].strip() in ("---", "..."):
                front = "\n".join(lines[1:j])
                i = j + 1
                break
        else:
            raise ValueError(f"{path}: front matter opened on line 1 is never closed")
    cells: list[Cell] = []
    prose: list[tuple[int, str]] = []
    while i < len(lines):
        line = lines[i]
        m = _CELL_OPEN.match(line)
        if m:
            indent, ticks = m.group(1), m.group(2)
            close = re.compile(rf"^{re.escape(indent)}{ticks}\s*$")
            body: list[str] = []
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
                j += 1
            opts: list[str] = []
            for b in body:
                om = _OPTION_LINE.match(b)
                if not om:
                    break
                opts.append(b[om.end() :])
            cells.append(Cell(line=i + 1, source="\n".join(body), option_text="\n".join(opts)))
            i = j + 1
            continue
        m = _FENCE_OPEN.match(line)
        if m:
            indent, fence = m.group(1), m.group(2)
            close = re.compile(rf"^{re.escape(indent)}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                j += 1
            i = j + 1
            continue
        prose.append((i + 1, line))
        i += 1
    return QmdDoc(path=path, front_matter_text=front, cells=cells, prose=prose)
