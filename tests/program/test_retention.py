"""Retention covers every window (issue 25): left out, prometheus.retentionTime is the longest window the deployed
content reads (at least 15d); given shorter, preview stops naming what reads further back."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml
from conftest import configured_stack
from mockstack import run_expecting_error, run_program, unwrap
from rendering import stack_settings

from stacks.content import load_content, select_systems
from stacks.preflight import retention_findings
from stacks.syntax.promql import lookback_seconds

MINUTE, HOUR, DAY = 60, 3600, 86400


@pytest.mark.parametrize(
    ("expr", "seconds"),
    [
        ("up", 0),
        ("up offset 2h", 2 * HOUR),
        ("rate(x[5m])", 5 * MINUTE),
        ("rate(x[5m] offset 1h)", 5 * MINUTE + HOUR),
        ("max_over_time(rate(x[5m])[1d:1m] offset 1h)", DAY + HOUR + 5 * MINUTE),  # a subquery adds its inner range
        ("sum(increase(x[1d])) / sum(increase(x[30d]))", 30 * DAY),
        ("topk(3, -(avg_over_time(x[2w])))", 14 * DAY),
        ("quantile_over_time(0.9, x[3d]) > 1", 3 * DAY),
    ],
)
def test_how_far_back_an_expression_reads(expr, seconds):
    assert lookback_seconds(expr) == seconds


def retention_flag(stack: str, config: dict, secrets: list[str]) -> str:
    program = run_program(stack, config, secrets)
    prometheus = unwrap(
        program.recorder.one("docker:index/container:Container", "monitoring-prometheus-container").inputs
    )
    (flag,) = [arg for arg in prometheus["command"] if arg.startswith("--storage.tsdb.retention.time=")]
    return flag.removeprefix("--storage.tsdb.retention.time=")


@pytest.mark.parametrize(
    ("systems", "kept"),
    [
        (["mindhit"], "30d"),  # its SLOs' 30-day window
        (["wealist"], "30d"),  # its planner's MAU panel: logins over 30 days
        (["observer"], "15d"),  # nothing reads further back than the platform's hours: the floor
    ],
)
def test_left_out_the_retention_is_the_longest_window_the_deployed_content_reads(systems, kept):
    config, secrets = configured_stack("dev")
    config["monitoring:systems"] = systems
    assert retention_flag("dev", config, secrets) == kept


def test_staging_keeps_what_its_slos_read():
    """Staging kept 15 days, and MindHit's 30-day SLOs answered from 15 days of samples."""
    assert retention_flag("staging", *configured_stack("staging")) == "30d"


def test_a_retention_shorter_than_an_slo_window_stops_preview():
    config, secrets = configured_stack("staging")
    config["monitoring:prometheus"] = {"retentionTime": "15d"}
    message = run_expecting_error("staging", config, secrets)
    assert (
        "rules/slos/mindhit.yml (generated rules): reads 30d back (avg_over_time(slo:sli_error:ratio_rate5m"
        '{slo="mindhit-api-availability"}[30d])) (and 1 more in this file), and prometheus.retentionTime keeps 15d: '
        "it would answer from 15d of samples; set prometheus.retentionTime to at least 30d, or leave it out for the "
        "longest window the deployed content reads"
    ) in message


def test_a_panels_fixed_range_counts_and_names_its_path(content_copy):
    path = content_copy / "dashboards/MindHit/business-metrics.json"
    model = json.loads(path.read_text())
    model["panels"][0]["timeFrom"] = "now-45d"
    path.write_text(json.dumps(model))
    config, secrets = configured_stack("prod")  # keeps 30d (seed 002)
    message = run_expecting_error("prod", config, secrets)
    assert (
        "dashboards/MindHit/business-metrics.json: $.panels[0].timeFrom: reads 45d back (timeFrom now-45d), and "
        "prometheus.retentionTime keeps 30d: it would answer from 30d of samples; set prometheus.retentionTime to at "
        "least 45d"
    ) in message
    config, secrets = configured_stack("dev")
    assert retention_flag("dev", config, secrets) == "45d"


def test_a_given_retention_that_covers_every_window_is_kept():
    config, secrets = configured_stack("dev")
    config["monitoring:prometheus"] = {"retentionTime": "400d"}
    assert retention_flag("dev", config, secrets) == "400d"


def test_imported_content_reading_further_back_than_retention_is_a_warning(content_copy, logged_warnings):
    """Prometheus and Grafana load a dashboard whatever its range: for content nobody here declared, a short
    retention is the project's own finding, so a warning that names its rule and the setting that clears it."""
    imported = content_copy / "dashboards/Vendor"
    imported.mkdir()
    model = json.loads((content_copy / "dashboards/MindHit/business-metrics.json").read_text())
    model.update(uid="vendor-sessions", title="Vendor sessions")
    model["panels"][0]["timeFrom"] = "now-45d"
    (imported / "sessions.json").write_text(json.dumps(model))
    config, secrets = configured_stack("prod")  # keeps 30d
    program = run_program("prod", config, secrets)
    assert program.recorder.registrations, "a warning must not stop the stack"
    assert [w for w in logged_warnings if w.startswith("[retention]")] == [
        "[retention] dashboards/Vendor/sessions.json: $.panels[0].timeFrom: reads 45d back (timeFrom now-45d), and "
        "prometheus.retentionTime keeps 30d: it would answer from 30d of samples; set prometheus.retentionTime to "
        "at least 45d, or leave it out for the longest window the deployed content reads"
    ]


def grafana_rules(folder: str, system: str, rules: list[tuple[str, str, str]]) -> str:
    """A rules/grafana file of one group: (alert, datasource, expr) each."""
    return yaml.safe_dump(
        {
            "groups": [
                {
                    "name": "slow",
                    "folder": folder,
                    "interval": "1m",
                    "rules": [
                        {
                            "alert": alert,
                            "datasource": datasource,
                            "expr": expr,
                            "condition": "> 1",
                            "for": "5m",
                            "labels": {"severity": "warning", **({"system": system} if system else {})},
                            "annotations": {"summary": alert},
                        }
                        for alert, datasource, expr in rules
                    ],
                }
            ]
        }
    )


def test_grafana_managed_rules_read_back_with_their_query_range_and_a_rule_files_line_is_named(content_copy):
    """A Grafana-managed rule on Prometheus reads its expression's range plus its query's relative time range
    (600 s, render/grafana.py): 40 days and 10 minutes, kept as 41 whole days. One on Loki reads logs, not
    samples. A rule file names its line."""
    (content_copy / "rules/grafana/mindhit-slow.yml").write_text(
        grafana_rules(
            "MindHit",
            "mindhit",
            [
                (
                    "MindHitMonthlyDrop",
                    "prometheus",
                    'sum(increase(mindhit_api_requests_total{job="mindhit-api"}[40d]))',
                ),
                ("MindHitLogQuiet", "loki", 'sum(count_over_time({job="docker", service="mindhit-api"}[90d]))'),
            ],
        )
    )
    rules = content_copy / "rules/mindhit.yml"
    rules.write_text(rules.read_text().replace("[5m]", "[35d]", 1))
    rows = rules.read_text().splitlines()
    at = next(i for i, row in enumerate(rows) if "[35d]" in row)
    line = next(i + 1 for i in range(at, -1, -1) if rows[i].strip().startswith("- alert:"))  # the rule's own line
    settings = replace(
        stack_settings("prod"), prometheus=replace(stack_settings("prod").prometheus, retention_time="30d")
    )
    problems = retention_findings(settings, select_systems(load_content(content_copy), settings.systems))[0]
    assert [p.split(" back (")[0] for p in problems] == [
        "rules/grafana/mindhit-slow.yml: group 'slow', rule 'MindHitMonthlyDrop': reads 41d",
        f"rules/mindhit.yml:{line}: reads 35d",
    ]
    # The expression on one line, cut at 120 characters.
    assert (
        problems[1]
        .split(" back (", 1)[1]
        .startswith(
            '( sum(rate(mindhit_http_requests_total{job=~"mindhit-.+", status=~"5.."}[35d])) / '
            "sum(rate(mindhit_http_requests_total{j), and "
        )
    )
    assert all(
        p.endswith(
            "set prometheus.retentionTime to at least 41d, or leave it out for the longest window "
            "the deployed content reads"
        )
        for p in problems
    )


def test_an_imported_folders_grafana_rules_are_warned_of(content_copy):
    (content_copy / "rules/grafana/vendor.yml").write_text(
        grafana_rules("Vendor", "", [("VendorMonthly", "prometheus", "sum(increase(vendor_total[40d]))")])
    )
    settings = replace(
        stack_settings("prod"), prometheus=replace(stack_settings("prod").prometheus, retention_time="30d")
    )
    content = select_systems(load_content(content_copy), settings.systems)
    problems, warnings = retention_findings(settings, content)
    assert problems == []
    (warning,) = warnings
    assert warning.startswith(
        "[retention] rules/grafana/vendor.yml: group 'slow', rule 'VendorMonthly': reads 41d back"
    )


def test_a_grafana_rule_reading_exactly_the_retention_fits_and_a_dashboard_query_is_named(content_copy):
    """30 days less the query's 10 minutes is 30 days: kept. A dashboard query names its file and JSON path."""
    (content_copy / "rules/grafana/mindhit-slow.yml").write_text(
        grafana_rules("MindHit", "mindhit", [("MindHitMonth", "prometheus", "sum(increase(x_total[43190m]))")])
    )
    path = content_copy / "dashboards/MindHit/business-metrics.json"
    model = json.loads(path.read_text())
    model["panels"][0]["targets"][0]["expr"] = 'sum(increase(mindhit_api_requests_total{job="mindhit-api"}[45d]))'
    path.write_text(json.dumps(model))
    settings = replace(
        stack_settings("prod"), prometheus=replace(stack_settings("prod").prometheus, retention_time="30d")
    )
    problems = retention_findings(settings, select_systems(load_content(content_copy), settings.systems))[0]
    assert [p.split(" back (")[0] for p in problems] == [
        "dashboards/MindHit/business-metrics.json: $.panels[0].targets[0].expr: reads 45d"
    ]


@pytest.mark.parametrize(("time_from", "short"), [("2592000s", False), ("2592001s", True), ("30d", False)])
def test_a_panels_range_one_second_past_the_retention_is_too_long(content_copy, time_from, short):
    path = content_copy / "dashboards/MindHit/business-metrics.json"
    model = json.loads(path.read_text())
    model["panels"][0]["timeFrom"] = time_from
    path.write_text(json.dumps(model))
    settings = replace(
        stack_settings("prod"), prometheus=replace(stack_settings("prod").prometheus, retention_time="30d")
    )
    problems = retention_findings(settings, select_systems(load_content(content_copy), settings.systems))[0]
    assert bool(problems) == short


def test_one_line_per_file_naming_its_longest_window(content_copy):
    rules = content_copy / "rules/mindhit.yml"
    text = rules.read_text().replace("[5m]", "[35d]", 1)  # the first rule
    head, _, tail = text.rpartition("[5m]")  # and the last
    rules.write_text(f"{head}[40d]{tail}")
    settings = replace(
        stack_settings("prod"), prometheus=replace(stack_settings("prod").prometheus, retention_time="30d")
    )
    (problem,) = retention_findings(settings, select_systems(load_content(content_copy), settings.systems))[0]
    assert problem.startswith("rules/mindhit.yml:")
    assert " reads 40d back (" in problem and "(and 1 more in this file)" in problem
