"""The released helper package: one version everywhere, and the tag-triggered release workflow.

* ``pyproject.toml``'s ``version`` and ``dlbasics.__version__`` agree (the notebooks' setup
  cell pins that version, see ``tools/notebook_setup.py``);
* ``.github/workflows/release.yml`` runs only on ``v*`` tags, checks the tag against the
  version, builds wheel and sdist in a read-only job and publishes them from a second job
  with PyPI trusted publishing: ``id-token: write`` on that job only, ``environment: pypi``,
  no token or password anywhere, the same action SHAs as ``tests.yml`` for the actions both
  use. (Pinning, checkouts without credentials, no expression in ``run:`` and zizmor are
  checked for every workflow in tests/test_workflows.py.)
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the TOML reader pytest itself uses
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
RELEASE = WORKFLOWS / "release.yml"
PIN = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)\s*(?:#\s*(?P<tag>\S+))?")


def project_version() -> str:
    """``[project] version`` of pyproject.toml."""
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def package_version() -> str:
    """``__version__`` read from the source (no import: the installed copy may be older)."""
    tree = ast.parse((REPO / "src" / "dlbasics" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__version__"]:
            return ast.literal_eval(node.value)
    raise AssertionError("src/dlbasics/__init__.py defines no __version__")


def workflow(path: Path = RELEASE) -> dict:
    wf = yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # BaseLoader: `on` stays a key
    return wf


def pins(path: Path) -> dict[str, tuple[str, str | None]]:
    found = {}
    for line in path.read_text().splitlines():
        if m := PIN.match(line):
            found[m["action"]] = (m["ref"], m["tag"])
    return found


# ------------------------------------------------------------------ the version


def test_version_agrees_between_pyproject_and_package() -> None:
    assert project_version() == package_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", project_version())


# ------------------------------------------------------------------ release.yml


def test_release_runs_on_version_tags_only() -> None:
    wf = workflow()
    assert wf["on"] == {"push": {"tags": ["v*"]}}
    assert wf["permissions"] == {}


def test_release_builds_read_only_then_publishes_with_trusted_publishing() -> None:
    jobs = workflow()["jobs"]
    assert set(jobs) == {"build", "deploy"}
    build, deploy = jobs["build"], jobs["deploy"]
    assert build["permissions"] == {"contents": "read"}
    assert "environment" not in build
    # id-token: write only where the upload happens, and nothing else there
    assert deploy["permissions"] == {"id-token": "write"}
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "pypi"
    uses = [s.get("uses", "").split("@")[0] for s in deploy["steps"]]
    assert uses == ["actions/download-artifact", "pypa/gh-action-pypi-publish"]
    publish = deploy["steps"][-1]
    assert not set(publish.get("with", {})) & {"password", "user", "repository-url"}
    # the artifact the publish job downloads is the one the build job uploaded
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-"))
    download = deploy["steps"][0]
    assert upload["with"]["name"] == download["with"]["name"]
    assert upload["with"]["path"].rstrip("/") == download["with"]["path"].rstrip("/") == "dist"
    runs = "\n".join(s.get("run", "") for s in build["steps"])
    assert "python -m build" in runs


def test_release_holds_no_secret() -> None:
    text = RELEASE.read_text()
    assert "secrets." not in text and "password" not in text.lower()
    assert "GITHUB_TOKEN" not in text and "PYPI_API_TOKEN" not in text


def test_release_actions_are_pinned_like_the_tests_workflow() -> None:
    release, tests = pins(RELEASE), pins(WORKFLOWS / "tests.yml")
    assert "pypa/gh-action-pypi-publish" in release
    assert {"actions/checkout", "actions/setup-python"} <= set(release) & set(tests)
    for action in set(release) & set(tests):
        assert release[action] == tests[action], f"{action}: another SHA than tests.yml"


def _tag_check(tmp_path: Path, tag: str) -> subprocess.CompletedProcess:
    """Run the workflow's tag-vs-version step in a folder holding this pyproject.toml."""
    (tmp_path / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    step = next(s for s in workflow()["jobs"]["build"]["steps"] if "TAG" in s.get("env", {}))
    assert step["env"]["TAG"] == "${{ github.ref_name }}"
    python_dir = str(Path(sys.executable).parent)
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=tmp_path,
        env={"TAG": tag, "PATH": f"{python_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_release_refuses_a_tag_that_is_not_the_version(tmp_path: Path) -> None:
    good = _tag_check(tmp_path, f"v{project_version()}")
    assert good.returncode == 0, good.stderr
    bad = _tag_check(tmp_path, "v9.9.9")
    assert bad.returncode != 0
    assert f"tag v9.9.9 does not match version {project_version()}" in bad.stderr
