"""The GitHub Actions workflows, checked offline in place of GitHub.

* zizmor (``--offline``, default settings) reports no findings on
  ``.github/workflows``;
* check-jsonschema accepts every workflow under its vendored
  ``vendor.github-workflows`` schema (bundled in the package: no network);
* our own rules: every ``uses:`` pinned to a 40-hex commit SHA with a version
  comment, ``persist-credentials: false`` on every checkout, no
  ``pull_request_target``, no ``${{ }}`` expressions inside ``run:`` scripts (values
  reach scripts through ``env:``), least-privilege permissions, and publish's
  ``build`` job needs ``tests``.

Each check is a function the tests run on the real workflows (must pass) and on
a broken fixture in ``tests/fixtures/workflows-broken/`` (must fail).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import QUARTO_VERSION
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from qmd import REPO

WORKFLOWS = REPO / ".github" / "workflows"
BROKEN = REPO / "tests" / "fixtures" / "workflows-broken"
BIN = Path(sys.executable).parent

SHA_PIN = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")
VERSION_COMMENT = re.compile(r"^v?\d+(?:\.\d+)*\b")
LOCAL_REFS = ("./", "$/")
UNTRUSTED_EXPR = re.compile(r"\$\{\{")


def tool(name: str) -> Path:
    path = BIN / name
    assert path.exists(), f"{name} is not installed next to {sys.executable}"
    return path


def real_workflows() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    """A workflow as GitHub reads it (YAML 1.1 would make the key ``on`` a boolean)."""
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in wf:
        wf["on"] = wf.pop(True)
    return wf


def quarto_version_in(job: dict[str, Any], tmp_path: Path) -> str:
    """The version the job's Quarto setup step installs: it runs the step that reads it."""
    steps = job["steps"]
    setup = next(s for s in steps if "quarto-actions/setup@" in str(s.get("uses", "")))
    ref = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.version \}\}", setup["with"]["version"])
    assert ref, f"Quarto's version is not read from .quarto-version: {setup['with']}"
    reader = next(s for s in steps if s.get("id") == ref[1])
    assert steps.index(reader) < steps.index(setup)
    output = tmp_path / "github_output"
    output.write_text("")
    subprocess.run(
        ["bash", "-e", "-c", reader["run"]],
        cwd=REPO,
        env={"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return dict(line.split("=", 1) for line in output.read_text().splitlines())["version"]


# ------------------------------------------------------------------ the checks


def zizmor_findings(*paths: Path) -> list[dict[str, Any]]:
    """zizmor's findings (offline, default persona and settings) as JSON objects."""
    proc = subprocess.run(
        [str(tool("zizmor")), "--offline", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # 0: no findings; 10-14: findings (by highest severity); anything else: an error.
    assert proc.returncode == 0 or 10 <= proc.returncode <= 14, (
        f"zizmor failed (exit {proc.returncode}):\n{proc.stderr}"
    )
    return json.loads(proc.stdout or "[]")


def describe(findings: list[dict[str, Any]]) -> str:
    lines = []
    for f in findings:
        spans = [
            loc["symbolic"]["key"]["Local"]["given_path"]
            for loc in f.get("locations", [])
            if isinstance(loc.get("symbolic", {}).get("key"), dict)
            and "Local" in loc["symbolic"]["key"]
        ]
        lines.append(f"{f['ident']}: {f['desc']} {sorted(set(spans))}")
    return "\n".join(lines)


def schema_errors(path: Path) -> str | None:
    """None if check-jsonschema accepts the workflow, else its report."""
    proc = subprocess.run(
        [str(tool("check-jsonschema")), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return None if proc.returncode == 0 else (proc.stdout + proc.stderr)


def check_pinned(path: Path) -> list[str]:
    """Every remote ``uses:`` is ``owner/repo[/path]@<40-hex sha> # <version>``."""
    problems = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = USES_LINE.match(line)
        if not m:
            continue
        ref, comment = m.group("ref").strip("'\""), (m.group("comment") or "").strip()
        if ref.startswith(LOCAL_REFS):
            continue
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                problems.append(f"{path.name}:{n}: {ref} is not pinned to a digest")
            continue
        if not SHA_PIN.match(ref):
            problems.append(f"{path.name}:{n}: {ref} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.match(comment):
            problems.append(f"{path.name}:{n}: {ref} has no version comment (# vX.Y.Z)")
    return problems


def steps(wf: dict[str, Any]):
    for job_id, job in (wf.get("jobs") or {}).items():
        for i, step in enumerate(job.get("steps") or []):
            yield job_id, i, step


def check_checkout_credentials(path: Path) -> list[str]:
    problems = []
    for job_id, i, step in steps(load(path)):
        is_checkout = str(step.get("uses", "")).startswith("actions/checkout@")
        if is_checkout and (step.get("with") or {}).get("persist-credentials") is not False:
            problems.append(
                f"{path.name}: jobs.{job_id}.steps[{i}]: checkout without "
                "persist-credentials: false"
            )
    return problems


def triggers(wf: dict[str, Any]) -> set[str]:
    on = wf.get("on")
    if isinstance(on, str):
        return {on}
    return set(on or [])


def check_triggers(path: Path) -> list[str]:
    if "pull_request_target" in triggers(load(path)):
        return [f"{path.name}: uses the pull_request_target trigger"]
    return []


def check_run_scripts(path: Path) -> list[str]:
    """No ``${{ ... }}`` inside ``run:``: values reach scripts only through ``env:``."""
    return [
        f"{path.name}: jobs.{job_id}.steps[{i}]: expression inside run: (use env:)"
        for job_id, i, step in steps(load(path))
        if UNTRUSTED_EXPR.search(str(step.get("run", "")))
    ]


def check_permissions(path: Path) -> list[str]:
    """Read-only (or no) permissions at the top; write scopes only in the deploy job."""
    wf = load(path)
    problems = []
    top = wf.get("permissions")
    if top is None:
        problems.append(f"{path.name}: no top-level permissions (defaults may be write-all)")
    elif top not in ({}, "read-all") and not (
        isinstance(top, dict) and set(top.values()) <= {"read", "none"}
    ):
        problems.append(f"{path.name}: top-level permissions {top!r} are not read-only")
    for job_id, job in (wf.get("jobs") or {}).items():
        perms = job.get("permissions") or {}
        writes = {k for k, v in perms.items() if v == "write"} if isinstance(perms, dict) else set()
        allowed = {"pages", "id-token"} if job_id == "deploy" else set()
        if job_id == "notebooks":  # publish.yml: pushes the executed-notebooks branch
            allowed = {"contents"}
        if writes - allowed:
            extra = sorted(writes - allowed)
            problems.append(f"{path.name}: job {job_id} asks for write on {extra}")
    return problems


ALL_CHECKS = (
    check_pinned,
    check_checkout_credentials,
    check_triggers,
    check_run_scripts,
    check_permissions,
)


# ====================================================================== tests


def test_there_are_two_workflows():
    assert {p.name for p in real_workflows()} == {"tests.yml", "publish.yml", "release.yml"}


def test_zizmor_reports_no_findings():
    findings = zizmor_findings(WORKFLOWS)
    assert findings == [], describe(findings)


@pytest.mark.parametrize("path", real_workflows(), ids=lambda p: p.name)
def test_workflow_matches_githubs_schema(path):
    assert schema_errors(path) is None


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("path", real_workflows(), ids=lambda p: p.name)
def test_workflow_rules(path, check):
    assert check(path) == []


def test_every_action_is_pinned_somewhere():
    """The pin check saw real `uses:` lines (it is not passing vacuously)."""
    text = "\n".join(p.read_text() for p in real_workflows())
    refs = [m.group("ref") for line in text.splitlines() if (m := USES_LINE.match(line))]
    assert len([r for r in refs if SHA_PIN.match(r)]) >= 7, refs


def test_tests_workflow_runs_the_readme_command(tmp_path):
    wf = load(WORKFLOWS / "tests.yml")
    assert {"push", "pull_request", "workflow_call"} <= triggers(wf)
    (job,) = wf["jobs"].values()
    assert job["env"]["DLBASICS_CHROMIUM"] == ""
    runs = "\n".join(str(s.get("run", "")) for s in job["steps"])
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs
    assert "playwright install --with-deps chromium" in runs
    assert runs.strip().splitlines()[-1].strip() == "make test"
    py = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-python@"))
    # a Python that pyproject.toml allows (the lock covers every one of them), and a pip
    # cache that is keyed on the lock, so a new lock is never served stale wheels
    requires = re.search(r'requires-python = "([^"]+)"', (REPO / "pyproject.toml").read_text())
    assert Version(str(py["with"]["python-version"])) in SpecifierSet(requires.group(1))
    assert py["with"]["cache"] == "pip" and py["with"]["cache-dependency-path"] == "constraints.txt"
    cache = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/cache@"))
    test_step = job["steps"][-1]
    assert test_step["env"]["DLBASICS_DATA"] == cache["with"]["path"]
    # make test renders the site with the Quarto that publishes it, pinned in .quarto-version
    assert quarto_version_in(job, tmp_path) == QUARTO_VERSION


def test_publish_points_the_site_at_the_repository_it_runs_in(tmp_path):
    """The URL step rewrites site-url, repo-url and the navbar's GitHub link, nothing else."""
    config = tmp_path / "_quarto.yml"
    original = (REPO / "_quarto.yml").read_text(encoding="utf-8")
    config.write_text(original, encoding="utf-8")
    site, repo = "https://fork-owner.github.io/dl-course", "https://github.com/fork-owner/dl-course"
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "set_site_urls.py"), site, repo, str(config)],
        check=True,
        capture_output=True,
    )
    new = yaml.safe_load(config.read_text(encoding="utf-8"))
    old = yaml.safe_load(original)
    assert new["website"]["site-url"] == site and new["website"]["repo-url"] == repo
    icons = [i for i in new["website"]["navbar"]["right"] if i.get("icon") == "github"]
    assert [i["href"] for i in icons] == [repo]
    for key in ("site-url", "repo-url"):
        old["website"][key] = new["website"][key]
    for item in old["website"]["navbar"]["right"]:
        if item.get("icon") == "github":
            item["href"] = repo
    assert new == old
    bad = subprocess.run(
        [sys.executable, str(REPO / "tools" / "set_site_urls.py"), "", repo, str(config)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "SITE_URL must be an http(s) URL" in bad.stderr


def test_publish_builds_after_tests_and_deploys_to_pages(tmp_path):
    wf = load(WORKFLOWS / "publish.yml")
    assert triggers(wf) == {"push", "workflow_dispatch"}
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    jobs = wf["jobs"]
    assert jobs["tests"]["uses"] in (
        "./.github/workflows/tests.yml",
        "$/.github/workflows/tests.yml",
    )
    needs = jobs["build"]["needs"]
    assert "tests" in ([needs] if isinstance(needs, str) else needs)
    assert jobs["deploy"]["needs"] in ("build", ["build"])
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    build_steps = jobs["build"]["steps"]
    uses = [str(s.get("uses", "")).split("@")[0] for s in build_steps]
    assert uses.index("quarto-dev/quarto-actions/setup") < uses.index(
        "actions/upload-pages-artifact"
    )
    assert quarto_version_in(jobs["build"], tmp_path) == QUARTO_VERSION
    upload = build_steps[uses.index("actions/upload-pages-artifact")]
    assert upload["with"]["path"] == "_site"
    runs = [str(s.get("run", "")) for s in build_steps]
    render = next(i for i, r in enumerate(runs) if r.strip().startswith("quarto render"))
    assert build_steps[render].get("shell") == "bash"  # bash -eo pipefail: tee keeps the status
    checks = next(i for i, r in enumerate(runs) if "tests/test_site_render.py" in r)
    assert "tests/test_browser.py" in runs[checks]
    assert build_steps[checks]["env"]["DLBASICS_SITE"] == upload["with"]["path"]
    log = build_steps[checks]["env"]["DLBASICS_SITE_LOG"]
    assert log.replace("${{ runner.temp }}", "$RUNNER_TEMP") in runs[render]
    assert render < checks < uses.index("actions/upload-pages-artifact")
    # site-url / repo-url come from the repository the workflow runs in
    pages = uses.index("actions/configure-pages")
    urls = next(i for i, r in enumerate(runs) if "tools/set_site_urls.py" in r)
    assert pages < urls < render
    assert build_steps[urls]["env"] == {
        "SITE_URL": f"${{{{ steps.{build_steps[pages]['id']}.outputs.base_url }}}}",
        "REPO_URL": "${{ github.server_url }}/${{ github.repository }}",
    }
    assert jobs["build"]["permissions"] == {"contents": "read", "pages": "read"}
    deploy_uses = [str(s.get("uses", "")).split("@")[0] for s in jobs["deploy"]["steps"]]
    assert deploy_uses == ["actions/deploy-pages"]


# ---- each broken fixture fails its check


def test_unpinned_action_fails_pin_check():
    problems = check_pinned(BROKEN / "unpinned.yml")
    assert any("actions/checkout@v7 is not pinned" in p for p in problems), problems
    assert any("quarto-actions/setup@v2 is not pinned" in p for p in problems), problems
    assert {f["ident"] for f in zizmor_findings(BROKEN / "unpinned.yml")} == {"unpinned-uses"}
    assert schema_errors(BROKEN / "unpinned.yml") is None  # only the pinning is wrong


def test_untrusted_expression_in_run_fails():
    path = BROKEN / "injection.yml"
    assert check_run_scripts(path) == [
        "injection.yml: jobs.greet.steps[0]: expression inside run: (use env:)"
    ]
    assert "template-injection" in {f["ident"] for f in zizmor_findings(path)}


def test_schema_error_fails_check_jsonschema():
    report = schema_errors(BROKEN / "schema-error.yml")
    assert report is not None and "'step' was unexpected" in report


def test_pin_check_wants_a_version_comment(tmp_path):
    wf = tmp_path / "no-comment.yml"
    wf.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1\n"
    )
    assert check_pinned(wf) == [
        "no-comment.yml:6: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 "
        "has no version comment (# vX.Y.Z)"
    ]


def test_checkout_credentials_and_trigger_checks_fail_on_bad_input(tmp_path):
    wf = tmp_path / "bad.yml"
    wf.write_text(
        "on: pull_request_target\npermissions: write-all\njobs:\n  a:\n"
        "    runs-on: ubuntu-24.04\n    permissions:\n      contents: write\n    steps:\n"
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n"
    )
    assert check_checkout_credentials(wf) == [
        "bad.yml: jobs.a.steps[0]: checkout without persist-credentials: false"
    ]
    assert check_triggers(wf) == ["bad.yml: uses the pull_request_target trigger"]
    assert check_permissions(wf) == [
        "bad.yml: top-level permissions 'write-all' are not read-only",
        "bad.yml: job a asks for write on ['contents']",
    ]
