"""Dashboard lint: every rule of the registry fires on a dashboard that breaks it and stays quiet on one that
does not; the shipped dashboards break none; a folder's .lint file turns a rule off for named dashboards; and
dashboards as people export or download them deploy with no hand edits but a .lint line for those that depart
from Grafana's schema (lint rule schema), preview warning about them."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import configured_stack
from mockstack import run_program, unwrap
from repo import FIXTURES, ROOT

from stacks.content import load_content
from stacks.content.dashboard_lint import RULE_NAMES, RULES, lint
from stacks.content.rule_names import LOG_SERVICES_DESCRIPTION
from stacks.errors import InputError

PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}


def panel(**overrides) -> dict:
    """A panel that breaks no rule; each case below changes one thing."""
    base = {
        "id": 1,
        "type": "timeseries",
        "title": "Requests",
        "datasource": PROMETHEUS,
        "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
        "fieldConfig": {"defaults": {"unit": "reqps"}},
        "targets": [
            {
                "refId": "A",
                "datasource": PROMETHEUS,
                "expr": 'sum(rate(http_requests_total{job=~"imported-.+"}[$__rate_interval]))',
            }
        ],
    }
    return {**base, **overrides}


def dashboard(*panels: dict, **overrides) -> dict:
    return {"title": "Lint case", "uid": "lint-case", "panels": list(panels) or [panel()], **overrides}


# One dashboard per rule that breaks it, and only it.
BREAKS = {
    "template-datasource": dashboard(
        templating={"list": [{"name": "job", "type": "query", "datasource": {"type": "prometheus", "uid": "nope"}}]}
    ),
    "panel-overlap": dashboard(panel(), panel(id=2, gridPos={"x": 6, "y": 4, "w": 12, "h": 8})),
    "panel-query": dashboard(panel(targets=[])),
    "panel-id-unique": dashboard(panel(), panel(gridPos={"x": 12, "y": 0, "w": 12, "h": 8})),
    "panel-datasource": dashboard(panel(targets=[{"refId": "A", "datasource": {"uid": "mysql"}, "expr": "up"}])),
    "promql": dashboard(panel(targets=[{"refId": "A", "datasource": PROMETHEUS, "expr": "rate(x[5m]"}])),
    "schema": dashboard(panel(gridPos={"x": 0, "y": 0, "w": "12", "h": 8})),
    "panel-modern": dashboard(panel(type="graph")),
    "panel-units": dashboard(panel(fieldConfig={"defaults": {}})),
    "datasource-by-uid": dashboard(panel(datasource="Prometheus")),
    "histogram-panel": dashboard(
        panel(
            type="histogram",
            targets=[{"refId": "A", "datasource": PROMETHEUS, "expr": 'x_seconds_bucket{job=~"imported-.+"}'}],
        )
    ),
}


# A graph panel and a datasource by name are not in Grafana's schema either: these warnings are for dashboards whose
# folder's .lint turns the schema rule off (imported as their vendor publishes them).
BREAKS_THE_SCHEMA_TOO = {"panel-modern", "datasource-by-uid"}


def _excluded_with(rule: str) -> frozenset[str]:
    return frozenset({rule, "schema"} if rule in BREAKS_THE_SCHEMA_TOO else {rule})


def test_every_rule_has_a_case_and_a_description():
    assert set(BREAKS) == {rule.name for rule in RULES}
    # Checked over all the content: tests/unit/test_ownership.py, tests/unit/test_log_labels.py for log-services, and
    # tests/program/test_bad_dashboards.py for title-unique.
    assert set(RULE_NAMES) == {*BREAKS, "job-ownership", "log-services", "title-unique"}
    assert all(rule.description and rule.severity in ("error", "warning") for rule in RULES)


def test_the_docs_list_every_rule():
    docs = (ROOT / "docs" / "content.md").read_text()
    for rule in RULES:
        assert f"| `{rule.name}` | {rule.severity} | {rule.description} |" in docs
    assert f"| `log-services` | error | {LOG_SERVICES_DESCRIPTION} |" in docs


def test_a_dashboard_that_breaks_no_rule_has_no_findings():
    assert lint(dashboard()) == []


@pytest.mark.parametrize("rule", [rule.name for rule in RULES])
def test_each_rule_fires_on_the_dashboard_that_breaks_it_and_only_it_fires(rule):
    findings = lint(copy.deepcopy(BREAKS[rule]), excluded=_excluded_with(rule) - {rule})
    assert findings and {finding.rule for finding in findings} == {rule}, findings
    if rule in BREAKS_THE_SCHEMA_TOO:
        assert {finding.rule for finding in lint(copy.deepcopy(BREAKS[rule]))} == {rule, "schema"}


@pytest.mark.parametrize("rule", [rule.name for rule in RULES])
def test_an_excluded_rule_does_not_fire(rule):
    assert lint(copy.deepcopy(BREAKS[rule]), excluded=_excluded_with(rule)) == []


def test_datasource_variables_resolve_by_name_whatever_their_format():
    """A datasource given as a variable resolves when a datasource variable (with or without a :format) or an
    __inputs entry of that name exists, and only then."""
    refs = ["${ds}", "${ds:text}", "$ds", "${DS_PROM}", "${other}", "$query_var", "${ds_x}", "${dsX}", "$ds}"]
    model = dashboard(
        *(
            panel(id=i, gridPos={"x": 0, "y": 8 * i, "w": 12, "h": 8}, datasource={"type": "prometheus", "uid": ref})
            for i, ref in enumerate(refs, start=1)
        ),
        templating={
            "list": [
                {"name": "ds", "type": "datasource", "query": "prometheus"},
                {"name": "query_var", "type": "query", "datasource": PROMETHEUS, "query": "label_values(up, job)"},
            ]
        },
        __inputs=[{"name": "DS_PROM", "type": "datasource", "pluginId": "prometheus"}],
    )
    findings = [(f.where, f.message) for f in lint(model) if f.rule == "panel-datasource"]
    assert findings == [
        ("$.panels[4].datasource", "${other} is neither a datasource template variable nor an __inputs entry"),
        ("$.panels[5].datasource", "$query_var is neither a datasource template variable nor an __inputs entry"),
        ("$.panels[6].datasource", "${ds_x} is neither a datasource template variable nor an __inputs entry"),
        ("$.panels[7].datasource", "${dsX} is neither a datasource template variable nor an __inputs entry"),
        ("$.panels[8].datasource", "$ds} is neither a datasource template variable nor an __inputs entry"),
    ]


def test_a_datasource_named_by_its_uid_alone_or_its_type_alone_is_read():
    from stacks.content.dashboards import datasource_uids

    assert datasource_uids({"panels": [{"datasource": {"uid": "loki"}}]}) == {"loki"}
    assert datasource_uids({"panels": [{"datasource": {"type": "prometheus"}}]}) == {"prometheus"}
    assert datasource_uids({"panels": [{"datasource": {"uid": "users-own", "type": "postgres"}}]}) == set()


def test_a_dashboards_config_json_keeps_its_text_as_written():
    """Titles in Korean or with accents reach Grafana, and pulumi preview's diff, readable, not as \\u escapes."""
    from stacks.content.model import config_json

    assert config_json({"title": "주문 현황", "uid": "orders", "tags": ["café"]}) == (
        '{"tags":["café"],"title":"주문 현황","uid":"orders"}'
    )


def test_shipped_dashboards_break_no_rule():
    """Neither errors (those stop preview) nor warnings, for the files and the SLO dashboards alike, of every
    declared system (an imported dashboard deploys as published, warnings and all)."""
    content = load_content()
    assert {d.uid: d.warnings for d in content.dashboards if d.warnings and not content.imported(d.system)} == {}


def write_dashboard(folder: Path, name: str, model: dict) -> None:
    """A dashboard in a folder of no declared system: imported content, which needs no systems/ file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(model))


def test_a_lint_file_turns_a_rule_off_for_the_dashboards_it_names(content_copy):
    folder = content_copy / "dashboards/Imported"
    write_dashboard(folder, "legacy.json", dashboard(panel(type="graph"), uid="imported-legacy", title="Legacy"))
    write_dashboard(folder, "other.json", dashboard(panel(type="graph"), uid="imported-other", title="Other"))
    (folder / ".lint").write_text(
        "exclusions:\n  panel-modern:\n    reason: as the vendor publishes it\n    dashboards: [legacy.json]\n"
        "  schema:\n    reason: graph panels\n    dashboards: [legacy.json, other.json]\n"
    )
    warnings = {d.uid: d.warnings for d in load_content().dashboards}
    assert warnings["imported-legacy"] == ()
    assert warnings["imported-other"] == (
        "dashboards/Imported/other.json: [panel-modern] $.panels[0].type: panel 'Requests' is a graph panel: use "
        "timeseries or stat (to turn the rule off for this file: dashboards/Imported/.lint: exclusions: "
        '{panel-modern: {reason: "<why>", dashboards: [other.json]}})',
    )


@pytest.mark.parametrize(
    ("lint_file", "expected"),
    [
        (
            "exclusions:\n  panel-unit:\n    reason: x\n    dashboards: [a.json]\n",
            "dashboards/Imported/.lint:1: exclusions.panel-unit: unknown key; known keys: template-datasource",
        ),
        (
            "exclusions:\n  panel-units:\n    dashboards: [a.json]\n",
            "dashboards/Imported/.lint:1: exclusions.panel-units.reason: is required",
        ),
        (
            "exclusions:\n  panel-units:\n    reason: x\n    dashboards: [missing.json]\n",
            "dashboards/Imported/.lint:1: exclusions.panel-units.dashboards: "
            "no dashboard file 'missing.json' in dashboards/Imported",
        ),
        (
            "exclusions: [panel-units]\n",
            "dashboards/Imported/.lint:1: exclusions: must be a mapping with 'exclusions': {rule: {reason, dashboards: "
            "[file]}}, got ['panel-units']",
        ),
    ],
)
def test_a_bad_lint_file_is_named(content_copy, lint_file, expected):
    folder = content_copy / "dashboards/Imported"
    write_dashboard(folder, "a.json", dashboard(uid="imported-a"))
    (folder / ".lint").write_text(lint_file)
    with pytest.raises(InputError) as raised:
        load_content()
    assert expected in str(raised.value)


def test_real_world_dashboards_deploy_unchanged_and_preview_warns(content_copy, logged_warnings):
    shutil.copytree(FIXTURES / "dashboards", content_copy / "dashboards/Imported")
    run = run_program("dev", *configured_stack("dev"))
    sent = {
        json.loads(unwrap(r.inputs)["configJson"])["title"]: json.loads(unwrap(r.inputs)["configJson"])
        for r in run.recorder.by_type("grafana:oss/dashboard:Dashboard")
    }
    exported = sent["Exported for sharing externally"]
    assert "${DS_PROMETHEUS}" not in json.dumps(exported) and "__inputs" not in exported
    assert exported["panels"][0]["datasource"] == {"type": "prometheus", "uid": "prometheus"}
    assert exported["templating"]["list"][0]["datasource"]["uid"] == "prometheus"
    assert "id" not in exported and "version" not in exported and exported["uid"] == "node-exported"
    # A datasource variable, names instead of uids and the old schema go to Grafana as they are.
    variable = sent["Datasource chosen by a variable"]
    assert variable["uid"] == "datasource-variable"  # derived from the file name
    assert variable["panels"] == json.loads((FIXTURES / "dashboards/datasource-variable.json").read_text())["panels"]
    assert sent["Datasource by name"]["panels"][1]["datasource"] == "Loki"
    old = sent["Old schema with rows, graph and singlestat"]
    assert [p["type"] for p in old["rows"][0]["panels"]] == ["singlestat", "graph"]
    # Preview says what in them falls short of the shipped dashboards, naming file, place and rule.
    by_name = [w for w in logged_warnings if w.startswith("dashboards/Imported/datasource-by-name.json")]
    assert any("[datasource-by-uid]" in w for w in by_name), logged_warnings
    lint_warnings = [w for w in logged_warnings if w.startswith("dashboards/Imported/")]
    assert lint_warnings and all(
        re.search(r": \[[a-z-]+\] .*\(to turn the rule off for this file: dashboards/Imported/\.lint: ", w)
        for w in lint_warnings
    )


@pytest.mark.parametrize(
    "expr",
    [
        'histogram_quantile(0.95, sum by (le) (rate(x_seconds_bucket{job=~"imported-.+"}[5m])))',  # durations
        'x_seconds_count{job=~"imported-.+"}',
    ],
)
def test_a_histogram_panel_of_observations_is_no_finding(expr):
    model = dashboard(panel(type="histogram", targets=[{"refId": "A", "datasource": PROMETHEUS, "expr": expr}]))
    assert lint(model) == []


def histogram_findings(*targets: object, **panel_fields) -> list[tuple[str, str]]:
    model = dashboard(panel(type="histogram", targets=list(targets), **panel_fields))
    return [(f.where, f.message) for f in lint(model, excluded={"schema"}) if f.rule == "histogram-panel"]


def test_a_histogram_panel_of_rates_of_buckets_bins_counts_too():
    """rate() of the buckets is still a count per bucket: only histogram_quantile turns buckets into values."""
    expr = 'sum by (le) (rate(x_seconds_bucket{job=~"imported-.+"}[5m]))'
    assert histogram_findings({"refId": "A", "datasource": PROMETHEUS, "expr": expr}, title="Latency") == [
        (
            "$.panels[0].targets[0].expr",
            "histogram panel 'Latency' bins the values of x_seconds_bucket, cumulative counters of observations, so "
            "it shows counts, not the observations: use a bar gauge or heatmap of sum by (le) "
            "(increase(...[$__range])) with the query's format heatmap",
        )
    ]


def test_a_histogram_panel_without_a_title_is_named_by_its_empty_title():
    untitled = {k: v for k, v in panel(type="histogram").items() if k != "title"}
    untitled["targets"] = [{"refId": "A", "datasource": PROMETHEUS, "expr": 'x_bucket{job=~"imported-.+"}'}]
    (finding,) = [f for f in lint(dashboard(untitled), excluded={"schema"}) if f.rule == "histogram-panel"]
    assert finding.message.startswith("histogram panel '' bins the values of x_bucket,")


def test_a_histogram_panels_other_datasources_and_odd_targets_are_not_read():
    loki = {"refId": "A", "datasource": {"type": "loki", "uid": "loki"}, "expr": "x_bucket"}
    assert histogram_findings(loki, "not a target", {"refId": "B", "datasource": PROMETHEUS}) == []


def test_mindhits_seed_histogram_panel_of_raw_buckets_stops_preview(content_copy):
    """Seed 000's "Session Duration Distribution": a histogram panel over the raw buckets, which showed session
    counts with the unit seconds."""
    path = content_copy / "dashboards/MindHit/business-metrics.json"
    model = json.loads(path.read_text())
    (distribution,) = [p for p in model["panels"] if p["id"] == 6]
    distribution.update(
        type="histogram",
        targets=[{"expr": 'mindhit_session_duration_seconds_bucket{job=~"mindhit-.+"}'}],
        fieldConfig={"defaults": {"unit": "s"}},
        options={},
    )
    path.write_text(json.dumps(model))
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert raised.value.problems[0].startswith(
        "dashboards/MindHit/business-metrics.json: [histogram-panel] $.panels[5].targets[0].expr: histogram panel "
        "'Session Duration Distribution' bins the values of mindhit_session_duration_seconds_bucket, cumulative "
        "counters of observations, so it shows counts, not the observations: use a bar gauge or heatmap of sum by "
        "(le) (increase(...[$__range])) with the query's format heatmap"
    )
