"""Every system owns its series (systems/<system>.yml, stacks/content/ownership.py): a selector with no job
matcher, one that would read another system's jobs, or one that reads none of its own stops preview, naming
the file and the line or JSON path; and the promtool tests across systems cover every pair of systems whose
rules read a metric of the same name."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import promql_parser
import pytest
import yaml
from conftest import configured_stack
from mockstack import Recorder, run_program
from repo import ROOT, declared_rule_files

from stacks.content import load_content
from stacks.content.model import PLATFORM, System
from stacks.content.ownership import JobIndex, selector_problems
from stacks.errors import InputError

KERP = System("kerp", ("kerp-api",))
SYSTEMS = {
    "kerp": KERP,
    "mindhit": System("mindhit", ("mindhit-api",)),
    "wealist": System("wealist", ("wealist-user-service", "wealist-postgres-exporter")),
    "platform": PLATFORM,
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('sum(rate(http_requests_total{job=~"kerp-.+"}[5m]))', []),
        ('up{job="kerp-api"} == 0', []),
        ('ALERTS{alertstate="firing"}', []),  # Prometheus' own series, labelled by the rule
        ("slo:sli_error:ratio_rate5m > 0.1", []),  # a recorded series: its rule selects the jobs
        (
            "sum(rate(http_requests_total[5m]))",
            ['http_requests_total selects no job: add job="kerp-api" (systems/kerp.yml)'],
        ),
        (
            'up{job=~".*-api"}',
            [
                'up{job=~".*-api"} would also read other systems\' jobs (mindhit-api): select job="kerp-api"',
            ],
        ),
        (
            'rate(http_requests_total{job!="kerp-api"}[5m])',
            [
                'http_requests_total{job!="kerp-api"} would also read other systems\' jobs (alertmanager, cadvisor, '
                'grafana, loki and 6 more): select job="kerp-api"'
            ],
        ),
        ('up{job="kerp-web"}', ['up{job="kerp-web"} matches no job of kerp (kerp-api)']),
    ],
)
def test_a_selector_reads_its_own_systems_jobs_only(expr, expected):
    assert selector_problems(expr, KERP, JobIndex(SYSTEMS), recorded={"slo:sli_error:ratio_rate5m"}) == expected


def test_a_dashboard_variable_is_read_as_every_job_it_can_take():
    """`job="$service"` with a variable whose All value is `.*` reads every job; with `kerp-.+` only K-ERP's."""
    templated = {"(?:.*)"}
    assert selector_problems('up{job="(?:.*)"}', KERP, JobIndex(SYSTEMS), set(), templated) == [
        'up{job="(?:.*)"} would also read other systems\' jobs (alertmanager, cadvisor, grafana, loki and 6 more): '
        'select job="kerp-api"'
    ]
    assert selector_problems('up{job="(?:kerp-.+)"}', KERP, JobIndex(SYSTEMS), set(), {"(?:kerp-.+)"}) == []


# K-ERP's jobs (systems/kerp.yml): its API and its datastores' exporters.
KERP_JOBS = 'job=~"kerp-api|kerp-postgres-exporter|kerp-redis-exporter"'


def _preview_error(tmp_path_content: Path) -> str:
    """The program run on the edited content: the message, and nothing registered before it."""
    recorder = Recorder()
    with pytest.raises(InputError) as raised:
        run_program("dev", *configured_stack("dev"), recorder)
    assert recorder.registrations == []
    return str(raised.value)


def test_a_rule_without_its_job_matcher_stops_preview_naming_file_and_line(content_copy):
    rules = content_copy / "rules/kerp.yml"
    text = rules.read_text()
    rules.write_text(
        text.replace(
            'sum(rate(http_requests_total{job=~"kerp-.+"}[5m])) > 0.05', "sum(rate(http_requests_total[5m])) > 0.05"
        )
    )
    line = text.splitlines().index("      - alert: HighErrorRate") + 1
    assert (
        f"rules/kerp.yml: [job-ownership] line {line}: http_requests_total selects no job: add {KERP_JOBS}"
        in _preview_error(content_copy)
    )


def test_a_rule_reading_another_systems_job_stops_preview(content_copy):
    rules = content_copy / "rules/kerp.yml"
    rules.write_text(
        rules.read_text().replace('expr: up{job="kerp-api"} == 0', 'expr: up{job=~"kerp-api|mindhit-api"} == 0')
    )
    message = _preview_error(content_copy)
    assert f"would also read other systems' jobs (mindhit-api): select {KERP_JOBS}" in message


def test_a_panel_whose_variable_reads_every_job_stops_preview_naming_the_json_path(content_copy):
    path = content_copy / "dashboards/weAlist/developer.json"
    model = json.loads(path.read_text().replace("wealist-$service", "$service"))  # $service: the jobs themselves
    (service,) = [v for v in model["templating"]["list"] if v["name"] == "service"]
    service["regex"], service["allValue"] = "", ".*"
    path.write_text(json.dumps(model))
    message = _preview_error(content_copy)
    assert "dashboards/weAlist/developer.json: [job-ownership] 10 findings: $.panels[" in message
    assert "; and 7 more (to turn the rule off for this file: dashboards/weAlist/.lint: " in message
    # The first four jobs of the others, and how many more (as many as the systems declare).
    assert re.search(
        r"would also read other systems' jobs \(alertmanager, cadvisor, grafana, kerp-api and \d+ more\)", message
    )


def test_a_query_variable_reading_another_systems_jobs_stops_preview_naming_its_query(content_copy):
    """The variable's own label_values() selector is a query too: its values are what the panels then read."""
    path = content_copy / "dashboards/weAlist/developer.json"
    model = json.loads(path.read_text())
    model["templating"]["list"][0]["query"] = 'label_values(http_requests_total{job=~".+"}, job)'
    path.write_text(json.dumps(model))
    message = _preview_error(content_copy)
    # Only the query: the panels read job=~"wealist-$service", weAlist's jobs whatever $service takes.
    assert "dashboards/weAlist/developer.json: [job-ownership] $.templating.list[0].query: " in message
    assert 'http_requests_total{job=~".+"} would also read other systems\' jobs' in message


def test_content_of_an_undeclared_system_is_imported(content_copy):
    """Without systems/observer.yml, Observer's rules and dashboard are imported: they deploy as published."""
    rules = content_copy / "rules/observer.yml"
    rules.write_text(rules.read_text().replace('expr: up{job=~"observer-.+"} == 0', "expr: up == 0"))
    (content_copy / "systems/observer.yml").unlink()
    content = load_content(content_copy)
    assert content.imported("observer") and not content.imported("kerp")
    assert "observer.yml" in {f.name for f in content.rule_files}
    assert "observer" not in content.systems


def test_job_names_are_free_and_ownership_reads_the_declared_ones(content_copy):
    path = content_copy / "systems/observer.yml"
    path.write_text(path.read_text().replace("observer-collector", "collector"))
    message = _preview_error(content_copy)
    assert "jobs.collector: must be" not in message
    assert 'observer_api_errors_total{job=~"observer-.+"} matches no job of observer (collector)' in message


def test_a_job_declared_by_two_systems_stops_preview(content_copy):
    path = content_copy / "systems/observer.yml"
    path.write_text(path.read_text().replace("  observer-collector:", "  kerp-api:"))
    message = _preview_error(content_copy)
    assert "systems/observer.yml:4: jobs.kerp-api: is already a job of system kerp: a job belongs to one system" in (
        message
    )


def _metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def test_every_pair_of_systems_sharing_a_metric_has_a_promtool_case():
    """Pairs found from the rule files themselves; systems_test.yml names each pair in a case's name."""
    metrics = {}
    for path in declared_rule_files():
        groups = yaml.safe_load(path.read_text())["groups"]
        metrics[path.stem] = set().union(*(_metric_names(r["expr"]) for g in groups for r in g["rules"]))
    pairs = {(a, b) for a, b in itertools.combinations(sorted(metrics), 2) if metrics[a] & metrics[b]}
    assert ("kerp", "wealist") in pairs
    names = [t["name"] for t in yaml.safe_load((ROOT / "rules/tests/systems_test.yml").read_text())["tests"]]
    for a, b in sorted(pairs):
        assert any(
            name.split(":")[0].startswith((f"{a} vs", f"{b} vs"))
            and {a, b} <= set(name.split(":")[0].replace(",", " ").split())
            for name in names
        ), f"no case in rules/tests/systems_test.yml for {a} and {b} (they share {sorted(metrics[a] & metrics[b])})"


def test_the_shipped_content_owns_its_series():
    """No problem at all: load_content raises on any."""
    assert load_content().rule_files
