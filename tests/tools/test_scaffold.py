"""`python -m stacks new-system`: a declared system in one step. Its files pass the strict checks at preview, the
stack's own promtool runs its unit tests and the cross-system case, and amtool routes its routing-table rows as
written. (The whole suite on a scaffolded clone is in the closing note of issue 21: `scripts/test` passed unedited.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from repo import ROOT
from routing import route_test
from servers import stack_binary

from stacks.__main__ import main, read_repository
from stacks.config.load import load_settings
from stacks.content import load_content
from stacks.errors import InputError
from stacks.render.alertmanager import render_alertmanager_config
from stacks.scaffold import new_system_files, parse_new_system, write_files

# A name no repository is likely to have declared (the suite also runs on a clone where `shop` was scaffolded).
NAME, TITLE = "scaffoldcheck", "ScaffoldCheck"
JOBS = ["scaffoldcheck-api=host.docker.internal:8081", "scaffoldcheck-worker=host.docker.internal:8082"]


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    """What the scaffold reads and writes: content, the rule tests, the routing table and the stack files."""
    for name in ("dashboards", "rules", "systems", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests/routing_table.yaml", tmp_path / "tests")
    for stack_file in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, tmp_path)
    return tmp_path


@pytest.fixture
def scaffolded(repo_copy) -> Path:
    system = parse_new_system(NAME, JOBS, TITLE, repo_copy)
    write_files(new_system_files(system, read_repository(repo_copy)), repo_copy)
    return repo_copy


def test_the_scaffold_writes_a_declared_system_that_passes_the_strict_checks(scaffolded):
    content = load_content(scaffolded)  # raises on any error
    assert not content.imported(NAME) and content.jobs[NAME] == ("scaffoldcheck-api", "scaffoldcheck-worker")
    (dashboard,) = [d for d in content.dashboards if d.system == NAME]
    assert (dashboard.folder, dashboard.title, dashboard.warnings) == (TITLE, "ScaffoldCheck / Overview", ())
    (rules,) = [f for f in content.rule_files if f.system == NAME]
    assert rules.alerts == ("ScaffoldCheckTargetDown", "ScaffoldCheckTargetMissing")
    assert not [w for w in content.warnings if NAME in w]


@pytest.mark.tools
def test_the_stacks_promtool_passes_the_written_unit_tests_and_cross_system_case(scaffolded):
    promtool = str(Path(stack_binary("prometheus")).with_name("promtool"))
    result = subprocess.run(
        [promtool, "test", "rules", f"{NAME}_test.yml", "systems_test.yml"],
        cwd=scaffolded / "rules/tests",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    names = [t["name"] for t in yaml.safe_load((scaffolded / "rules/tests/systems_test.yml").read_text())["tests"]]
    others = sorted([p.stem for p in (ROOT / "systems").glob("*.yml")] + ["platform"])  # every system reads `up`
    assert any(name.startswith(f"{NAME} vs {', '.join(others)}:") for name in names), names


@pytest.mark.tools
def test_amtool_routes_the_written_rows_as_they_say(scaffolded, tmp_path):
    """Only dev deploys every system: its rows, and only its, name the new system."""
    table = yaml.safe_load((scaffolded / "tests/routing_table.yaml").read_text())
    rows = {stack: [r for r in table[stack] if r["labels"].get("system") == NAME] for stack in table}
    assert {stack: len(found) for stack, found in rows.items()} == {"dev": 3, "staging": 0, "prod": 0}
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    alertmanager_yml = tmp_path / "alertmanager.yml"
    alertmanager_yml.write_text(render_alertmanager_config(load_settings(config, frozenset()).alerting))
    for row in rows["dev"]:
        result = route_test(alertmanager_yml, row["labels"], row["receivers"])
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_written_dashboard_reads_its_jobs_only(scaffolded):
    model = json.loads((scaffolded / f"dashboards/{TITLE}/overview.json").read_text())
    exprs = [t["expr"] for p in model["panels"] for t in p["targets"]]
    assert exprs and all('job=~"scaffoldcheck-api|scaffoldcheck-worker"' in e for e in exprs)


@pytest.mark.parametrize(
    ("name", "jobs", "title", "expected"),
    [
        ("Shop", JOBS, None, "name: must be lower-case letters and digits"),
        ("kerp", ["kerp-web=h:1"], None, "name: 'kerp' exists already"),
        (NAME, [], None, "--job: give at least one"),
        (NAME, ["scaffoldcheck-api"], None, "--job[0]: must look like <job>=<host:port>"),
        (NAME, ["kerp-api=h:1"], None, "--job[0]: job 'kerp-api' is already a job of kerp"),
        (NAME, JOBS, "Store", "--title: 'Store' would be the folder of system 'store', not 'scaffoldcheck'"),
        ("observr", ["o-api=h:1"], "Observer", "--title: 'Observer' would be the folder of system 'observer'"),
    ],
)
def test_bad_arguments_are_named_and_nothing_is_written(repo_copy, name, jobs, title, expected):
    before = sorted(p.relative_to(repo_copy) for p in repo_copy.rglob("*"))
    with pytest.raises(InputError) as raised:
        parse_new_system(name, jobs, title, repo_copy)
    assert expected in str(raised.value)
    assert sorted(p.relative_to(repo_copy) for p in repo_copy.rglob("*")) == before


def test_the_command_line_says_what_it_wrote_and_what_to_add(capsys, repo_copy):
    assert main(["new-system", NAME, "--job", JOBS[0]], repo_copy) == 0
    out = capsys.readouterr().out
    assert (
        "wrote systems/scaffoldcheck.yml, rules/scaffoldcheck.yml, rules/tests/scaffoldcheck_test.yml, "
        "dashboards/Scaffoldcheck/overview.json" in out
    )
    assert "pulumi config set --path 'scrapeTargets[N].targets[0]' host.docker.internal:8081" in out
    assert "matchers: ['system=\"scaffoldcheck\"']" in out
    written = (repo_copy / "rules/scaffoldcheck.yml").read_text()
    assert main(["new-system", NAME, "--job", JOBS[0]], repo_copy) == 2  # it exists now: refused
    assert "name: 'scaffoldcheck' exists already" in capsys.readouterr().err
    assert (repo_copy / "rules/scaffoldcheck.yml").read_text() == written
