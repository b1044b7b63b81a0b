"""The GitHub Actions workflows in .github/workflows/: actionlint (with shellcheck on the run scripts)
passes every one, broken fixtures fail the same check naming the file and line, and the workflows do
what docs/operations.md, "Workflows", says: every stack previewed with the policy pack on pull requests, dev deployed on
merge and staging/prod behind environments, every stack drift-checked nightly, least privilege."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml
from repo import ROOT

WORKFLOWS_DIR = ROOT / ".github" / "workflows"
FIXTURES = ROOT / "tests" / "fixtures" / "workflows"
VERSIONS_ENV = ROOT / "offline" / "toolchain" / "versions.env"
TOOLCHAIN_DIR = Path(os.environ.get("MONITORING_TOOLCHAIN_DIR", Path.home() / ".cache" / "monitoring-toolchain"))

# The order a commit is promoted in by deploy.yml; dev needs no approval.
PROMOTION = ("dev", "staging", "prod", "cluster")

# pulumi/actions' inputs (its action.yml; v7.0.0 changed only the runtime to node24, the inputs are
# v6's). actionlint knows the inputs of pulumi/actions only up to v6, so this test checks them.
PULUMI_ACTION_MAJOR = "v7"
PULUMI_ACTION_INPUTS = {
    "always-include-summary",
    "cloud-url",
    "color",
    "command",
    "comment-on-pr",
    "comment-on-pr-number",
    "comment-on-summary",
    "config-map",
    "continue-on-error",
    "debug",
    "diff",
    "edit-pr-comment",
    "exclude",
    "exclude-dependents",
    "exclude-protected",
    "expect-no-changes",
    "github-token",
    "log-flow",
    "log-verbosity",
    "message",
    "parallel",
    "plan",
    "policyPackConfigs",
    "policyPacks",
    "pulumi-version",
    "pulumi-version-file",
    "refresh",
    "remove",
    "replace",
    "secrets-provider",
    "stack-name",
    "suppress-outputs",
    "suppress-progress",
    "target",
    "target-dependents",
    "upsert",
    "work-dir",
}


# --- the check: actionlint ------------------------------------------------------------------------


class WorkflowError(Exception):
    """A workflow file that GitHub would reject or run wrongly, or a checker that cannot run."""


@dataclass(frozen=True)
class LintError:
    path: str
    line: int
    column: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message} [{self.kind}]"


def pinned(name: str) -> str:
    """A pin from offline/toolchain/versions.env (KEY=value lines)."""
    match = re.search(rf"^{name}=(\S+)$", VERSIONS_ENV.read_text(), re.MULTILINE)
    if not match:
        raise WorkflowError(f"{VERSIONS_ENV.relative_to(ROOT)}: no {name}= line")
    return match.group(1)


@cache
def actionlint_binary() -> Path:
    """The actionlint that offline/toolchain/actionlint.sh built, at the pinned version."""
    binary = TOOLCHAIN_DIR / "bin" / "actionlint"
    want = pinned("ACTIONLINT_VERSION")
    if not binary.exists():
        raise WorkflowError(f"{binary} is missing: run offline/toolchain/actionlint.sh (or scripts/setup.sh)")
    have = subprocess.run([binary, "-version"], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    if have != want:
        raise WorkflowError(f"{binary} is {have}, versions.env pins {want}: run offline/toolchain/actionlint.sh")
    return binary


def _script_position(error: LintError, lines: list[str]) -> LintError:
    """actionlint puts a shellcheck finding on the `run:` key; move it to the script line it is about."""
    found = re.match(r"shellcheck reported issue in this script: SC\d+:\w+:(\d+):(\d+):", error.message)
    if not found or error.line > len(lines):
        return error
    script_line, script_column = int(found.group(1)), int(found.group(2))
    if not re.search(r"\brun:\s*[|>][-+]?\s*(#.*)?$", lines[error.line - 1]):
        return error  # a one-line script: the run: line is the script line
    line = error.line + script_line
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip()) if line <= len(lines) else 0
    return LintError(error.path, line, indent + script_column, error.kind, error.message)


def lint_workflows(paths: list[Path]) -> list[LintError]:
    """Every actionlint finding in the workflow files, shellcheck's on the run scripts included."""
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        raise WorkflowError(
            "shellcheck is not on PATH, so run scripts would go unchecked: "
            "scripts/setup.sh installs Debian's shellcheck"
        )
    names = [str(path.relative_to(ROOT)) for path in paths]
    result = subprocess.run(
        [actionlint_binary(), "-format", "{{json .}}", "-shellcheck", shellcheck, "-pyflakes", "", "-no-color", *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # 0: no findings, 1: findings; anything else is actionlint itself failing.
    if result.returncode not in (0, 1):
        raise WorkflowError(f"actionlint exited {result.returncode}: {result.stderr.strip()}")
    errors = []
    for item in json.loads(result.stdout or "[]"):
        error = LintError(item["filepath"], item["line"], item["column"], item["kind"], item["message"])
        errors.append(_script_position(error, (ROOT / error.path).read_text().splitlines()))
    return errors


def check_workflows(paths: list[Path]) -> None:
    """Raise WorkflowError naming each file:line:column that actionlint rejects."""
    errors = lint_workflows(paths)
    if errors:
        raise WorkflowError("invalid workflow:\n" + "\n".join(f"  {error}" for error in errors))


# --- reading the workflows --------------------------------------------------------------------------


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])


def load_workflow(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS_DIR / name).read_text())
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean true; GitHub reads it as "on".
    workflow["on"] = workflow.pop(True)
    return workflow


def repo_stacks() -> set[str]:
    """The stacks there are: one Pulumi.<stack>.yaml each."""
    return {path.name[len("Pulumi.") : -len(".yaml")] for path in ROOT.glob("Pulumi.*.yaml")}


def pulumi_steps(job: dict) -> list[dict]:
    return [step for step in job.get("steps", []) if step.get("uses", "").startswith("pulumi/actions@")]


def stack_runs(workflow: dict, command: str) -> dict[str, tuple[str, dict]]:
    """stack -> (job id, pulumi/actions inputs with the matrix stack filled in) for every run of `command`."""
    runs: dict[str, tuple[str, dict]] = {}
    for job_id, job in workflow["jobs"].items():
        matrix_stacks = job.get("strategy", {}).get("matrix", {}).get("stack", [None])
        for step in pulumi_steps(job):
            if step["with"]["command"] != command:
                continue
            for stack in matrix_stacks:
                inputs = {
                    key: value.replace("${{ matrix.stack }}", str(stack)) if isinstance(value, str) else value
                    for key, value in step["with"].items()
                }
                assert inputs["stack-name"] not in runs, f"stack {inputs['stack-name']} run twice by {command}"
                runs[inputs["stack-name"]] = (job_id, inputs)
    return runs


def environment_name(job: dict) -> str | None:
    environment = job.get("environment")
    return environment.get("name") if isinstance(environment, dict) else environment


# --- actionlint on the repository's workflows and on the broken fixtures ---------------------------


def test_actionlint_passes_every_workflow():
    files = workflow_files()
    assert {path.name for path in files} >= {"pull-request.yml", "deploy.yml", "drift.yml"}
    check_workflows(files)


def expected_errors(fixture: Path) -> list[tuple[int, str]]:
    """The (line, kind) pairs a fixture marks with `# expect: <kind>`."""
    return [
        (number, match.group(1))
        for number, text in enumerate(fixture.read_text().splitlines(), start=1)
        if (match := re.search(r"# expect: ([\w-]+)", text))
    ]


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.yml")), ids=lambda path: path.stem)
def test_a_broken_workflow_fails_the_check_naming_file_and_line(fixture):
    expected = expected_errors(fixture)
    assert expected, f"{fixture.name} marks no line with '# expect: <kind>'"
    with pytest.raises(WorkflowError) as failure:
        check_workflows([fixture])
    report = str(failure.value)
    name = str(fixture.relative_to(ROOT))
    for line, kind in expected:
        assert re.search(rf"^  {re.escape(name)}:{line}:\d+: .* \[{kind}\]$", report, re.MULTILINE), report
    # Nothing else is wrong with the fixture: each one proves one kind of check.
    assert sorted((error.line, error.kind) for error in lint_workflows([fixture])) == sorted(expected), report


def test_the_fixtures_cover_each_kind_of_mistake():
    kinds = {kind for fixture in FIXTURES.glob("*.yml") for _, kind in expected_errors(fixture)}
    assert kinds >= {"syntax-check", "job-needs", "expression", "shellcheck", "action", "events"}


def test_a_stale_actionlint_is_refused(tmp_path, monkeypatch):
    """The check never runs an actionlint other than the pinned one."""
    versions = tmp_path / "versions.env"
    versions.write_text(VERSIONS_ENV.read_text().replace("ACTIONLINT_VERSION=", "ACTIONLINT_VERSION=v0.0.1-"))
    monkeypatch.setitem(globals(), "VERSIONS_ENV", versions)
    actionlint_binary.cache_clear()
    try:
        with pytest.raises(WorkflowError, match=r"versions.env pins v0.0.1-v1\.\d+\.\d+"):
            actionlint_binary()
    finally:
        actionlint_binary.cache_clear()


# --- what the workflows do ------------------------------------------------------------------------


def test_pull_requests_preview_every_stack_with_the_policy_pack_and_comment():
    workflow = load_workflow("pull-request.yml")
    assert "pull_request" in workflow["on"]
    previews = stack_runs(workflow, "preview")
    assert set(previews) == repo_stacks(), "every Pulumi.<stack>.yaml needs a preview on pull requests"
    for stack, (job_id, inputs) in previews.items():
        assert inputs["policyPacks"] == "policy", stack
        assert inputs["policyPackConfigs"] == f"policy/config/{stack}.json", stack
        assert inputs["comment-on-pr"] is True, stack
        assert workflow["jobs"][job_id]["permissions"]["pull-requests"] == "write"
        assert "tests" in workflow["jobs"][job_id]["needs"], "previews wait for the fast tests"


def test_pull_requests_build_what_their_tiers_run_and_nothing_more():
    """The tools and live tiers run the stack's own Prometheus and Alertmanager (tests/support/servers.py stack_binary):
    the job builds them, cached under the pins, before the tests; never the images, the toolchain or Docker."""
    steps = load_workflow("pull-request.yml")["jobs"]["tests"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert '-m pytest -m "not containers and not engine and not kubernetes"' in scripts
    assert "offline/toolchain/actionlint.sh" in scripts
    # promtool and amtool from the builds, not Debian's older releases (tests/conftest.py puts them on PATH).
    assert "--no-install-recommends shellcheck" in scripts and "prometheus-alertmanager" not in scripts
    runs = [step.get("run", "") for step in steps]
    build = next(i for i, run in enumerate(runs) if "offline/images/build.sh --binaries prometheus alertmanager" in run)
    tests = next(i for i, run in enumerate(runs) if "-m pytest" in run)
    assert build < tests
    (cache,) = [step for step in steps if step.get("uses", "").startswith("actions/cache@")]
    # Where stack_binary looks, and the module sources the licence scan reads.
    assert cache["with"]["path"].split() == ["~/.cache/monitoring-images/bin", "~/.cache/monitoring-images/go/mod"]
    for pin in ("stacks/versions.py", "offline/images/local_builds.py", "offline/images/build.sh"):
        assert pin in cache["with"]["key"], pin
    assert steps.index(cache) < build
    # setup.sh (and scripts/test, which calls it) also builds the Pulumi toolchain and the images.
    without_build = scripts.replace("offline/images/build.sh --binaries prometheus alertmanager", "")
    for heavy in ("scripts/setup.sh", "scripts/test", "offline/toolchain/build.sh", "offline/images", "offline/docker"):
        assert heavy not in without_build, heavy


# Starts the pack as policy/.venv/bin/python policy (tests/support/policy_harness.py).
POLICY_TESTS = "tests/program/test_policy.py"
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")"}


def pytest_commands(job: dict) -> list[tuple[int, tuple[str, ...]]]:
    """(step index, arguments) of each pytest command in the job's run scripts: `python -m pytest ARGS`
    or `pytest ARGS`, up to the end of its shell command."""
    commands = []
    for index, step in enumerate(job.get("steps", [])):
        for line in step.get("run", "").replace("\\\n", " ").splitlines():
            if "pytest" not in line:
                continue
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            try:
                words = list(lexer)
            except ValueError as error:
                raise WorkflowError(f"cannot read the pytest command {line.strip()!r}: {error}") from None
            for at, word in enumerate(words):
                as_module = (
                    word == "pytest"
                    and at >= 2
                    and words[at - 1] == "-m"
                    and re.search(r"(^|/)python[\d.]*$", words[at - 2])
                )
                as_command = word.rsplit("/", 1)[-1] == "pytest" and (at == 0 or words[at - 1] in SHELL_OPERATORS)
                if as_module or as_command:
                    args = words[at + 1 :]
                    end = next((i for i, arg in enumerate(args) if arg in SHELL_OPERATORS), len(args))
                    commands.append((index, tuple(args[:end])))
    return commands


@cache
def runs_policy_tests(args: tuple[str, ...]) -> bool:
    """Whether `pytest ARGS` at the repository root (as a job runs it) runs tests/program/test_policy.py: what pytest
    itself collects, its paths, testpaths, -m and -k applied."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--continue-on-collection-errors",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # 0: collected, 1: some module failed to import (named in an ERROR line), 5: nothing collected.
    if result.returncode not in (0, 1, 5):
        raise WorkflowError(
            f"pytest {shlex.join(args)} --collect-only exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return any(line.startswith((f"{POLICY_TESTS}::", f"ERROR {POLICY_TESTS}")) for line in result.stdout.splitlines())


def policy_pack_runs(workflow: dict) -> dict[str, tuple[int, str]]:
    """job id -> (index of its first step that runs the policy pack, what that step runs): a pulumi/actions
    step with policyPacks, or a pytest command that runs tests/program/test_policy.py."""
    runs: dict[str, tuple[int, str]] = {}
    for job_id, job in workflow["jobs"].items():
        found = [
            (index, f"pulumi {step['with']['command']} with policyPacks")
            for index, step in enumerate(job.get("steps", []))
            if step.get("uses", "").startswith("pulumi/actions@") and step["with"].get("policyPacks")
        ]
        found += [
            (index, f"pytest {shlex.join(args)}, which runs {POLICY_TESTS}")
            for index, args in pytest_commands(job)
            if runs_policy_tests(args)
        ]
        if found:
            runs[job_id] = min(found)
    return runs


def jobs_without_the_policy_venv(workflow: dict) -> dict[str, str]:
    """job id -> what runs the pack, for each job that runs it without first building policy/.venv from
    policy/requirements.txt with that venv's own pip."""
    missing = {}
    for job_id, (index, what) in policy_pack_runs(workflow).items():
        scripts = "\n".join(step.get("run", "") for step in workflow["jobs"][job_id]["steps"][:index])
        installs = [line.strip() for line in scripts.splitlines() if "-r policy/requirements.txt" in line]
        if not (
            "python -m venv policy/.venv" in scripts
            and installs
            and all(line.startswith("policy/.venv/bin/pip install") for line in installs)
        ):
            missing[job_id] = what
    return missing


def test_every_job_that_runs_the_policy_pack_builds_its_own_virtualenv():
    """PulumiPolicy.yaml names policy/.venv; the pack's pins conflict with the program's (protobuf). The pack
    runs in `pulumi preview`/`up` with policyPacks and in tests/program/test_policy.py, in every workflow."""
    virtualenv = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())["runtime"]["options"]["virtualenv"]
    assert virtualenv == ".venv"
    runs = set()
    for path in workflow_files():
        workflow = load_workflow(path.name)
        runs |= {(path.name, job_id) for job_id in policy_pack_runs(workflow)}
        assert jobs_without_the_policy_venv(workflow) == {}, path.name
    # The check found the jobs that run the pack: the fast tests, the previews and every deploy.
    assert runs >= {
        ("pull-request.yml", "tests"),
        ("pull-request.yml", "preview"),
        *(("deploy.yml", stack) for stack in PROMOTION),
    }, runs


def test_the_policy_venv_check_names_a_job_that_runs_the_pack_tests_without_it():
    """The check can fail: the fast tests without the venv step's policy/ lines (the workflow before it built
    the venv) are named; told to skip tests/program/test_policy.py, they need no venv."""
    workflow = load_workflow("pull-request.yml")
    tests = workflow["jobs"]["tests"]
    for step in tests["steps"]:
        if "run" in step:
            step["run"] = "\n".join(line for line in step["run"].splitlines() if "policy/" not in line)
    missing = jobs_without_the_policy_venv(workflow)
    assert list(missing) == ["tests"] and missing["tests"].endswith(f"which runs {POLICY_TESTS}"), missing
    for step in tests["steps"]:
        if "-m pytest" in step.get("run", ""):
            step["run"] = step["run"].rstrip("\n") + f" --ignore={POLICY_TESTS}"
    assert jobs_without_the_policy_venv(workflow) == {}


def test_merges_deploy_dev_then_staging_then_prod_behind_environments():
    workflow = load_workflow("deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    ups = stack_runs(workflow, "up")
    assert set(PROMOTION) == repo_stacks() == set(ups), "every Pulumi.<stack>.yaml needs a place in PROMOTION"
    jobs = workflow["jobs"]
    assert environment_name(jobs[ups["dev"][0]]) is None, "dev deploys without an approval"
    for previous, stack in itertools.pairwise(PROMOTION):
        job = jobs[ups[stack][0]]
        assert environment_name(job) == stack, f"{stack} deploys behind the GitHub environment {stack!r}"
        needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
        assert ups[previous][0] in needs, f"{stack} is promoted only after {previous}"
    for stack, (job_id, inputs) in ups.items():
        assert inputs["policyPacks"] == "policy" and inputs["policyPackConfigs"] == f"policy/config/{stack}.json"
        assert jobs[job_id]["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}


def test_nightly_drift_check_refreshes_every_stack_and_expects_no_changes():
    workflow = load_workflow("drift.yml")
    assert [entry["cron"] for entry in workflow["on"]["schedule"]], "a schedule with a cron"
    checks = stack_runs(workflow, "preview")
    assert set(checks) == repo_stacks(), "every Pulumi.<stack>.yaml needs a nightly drift check"
    for stack, (job_id, inputs) in checks.items():
        assert inputs["refresh"] is True and inputs["expect-no-changes"] is True, stack
        job = workflow["jobs"][job_id]
        # The same group as the stack's deploy: a refresh during an update is no drift.
        assert job["concurrency"]["group"].replace("${{ matrix.stack }}", stack) == f"pulumi-{stack}"
        steps = job["steps"]
        drift_step = next(i for i, step in enumerate(steps) if step in pulumi_steps(job))
        notify = [step for step in steps[drift_step + 1 :] if "failure()" in step.get("if", "")]
        assert notify and "gh issue create" in notify[0]["run"], "drift opens an issue, not just a red run"


def test_permissions_are_read_only_except_where_a_job_writes():
    writes = set()
    for path in workflow_files():
        workflow = load_workflow(path.name)
        assert workflow["permissions"] == {"contents": "read"}, f"{path.name}: top-level permissions"
        for job_id, job in workflow["jobs"].items():
            permissions = job.get("permissions", {})
            assert isinstance(permissions, dict), f"{path.name} job {job_id}: no write-all/read-all"
            writes |= {(path.name, job_id, scope) for scope, level in permissions.items() if level == "write"}
    assert writes == {("pull-request.yml", "preview", "pull-requests"), ("drift.yml", "drift", "issues")}


def test_actions_are_pinned_to_a_major_and_pulumi_inputs_exist():
    for path in workflow_files():
        for job_id, job in load_workflow(path.name)["jobs"].items():
            for step in job.get("steps", []):
                if "uses" not in step:
                    continue
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), f"{path.name} {job_id}: {step['uses']}"
                if step["uses"].startswith("pulumi/actions@"):
                    assert step["uses"] == f"pulumi/actions@{PULUMI_ACTION_MAJOR}"
                    unknown = set(step["with"]) - PULUMI_ACTION_INPUTS
                    assert not unknown, f"{path.name} {job_id}: pulumi/actions has no input {sorted(unknown)}"


def test_the_cli_version_step_reads_the_pinned_pulumi_version(tmp_path):
    """Each Pulumi job installs the CLI version pinned in versions.env, the same as the pip pin."""
    sdk_pin = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)
    for path in workflow_files():
        for job_id, job in load_workflow(path.name)["jobs"].items():
            for step in pulumi_steps(job):
                assert step["with"]["pulumi-version"] == "${{ steps.pins.outputs.pulumi }}", f"{path.name} {job_id}"
                pins = next(step for step in job["steps"] if step.get("id") == "pins")
                output = tmp_path / f"{path.stem}-{job_id}.out"
                subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", pins["run"]],
                    cwd=ROOT,
                    check=True,
                    env={**os.environ, "GITHUB_OUTPUT": str(output)},
                )
                assert output.read_text() == f"pulumi={sdk_pin}\n", f"{path.name} {job_id}"
