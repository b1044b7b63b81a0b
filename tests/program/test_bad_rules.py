"""Bad rule files (rules/*.yml, rules/grafana/, rules/slos/, rules/tests/): malformed, unnamed or repeated
groups, invalid PromQL and durations, what Prometheus refuses when it loads a file, severities no route
compares with, Grafana-managed rules' datasources, conditions and systems. The whole program under mocks stops
with an error naming the file and line, and registers nothing."""

from __future__ import annotations

import pytest
from bad_input import dev, write
from conftest import configured_stack
from mockstack import run_expecting_error, run_program


def test_malformed_rule_yaml_names_file_and_line(content_copy):
    write(content_copy / "rules/broken.yml", "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: [\n")
    message = run_expecting_error("dev", *dev())
    assert "rules/broken.yml:6: malformed YAML" in message


def test_rule_group_without_a_name(content_copy):
    write(content_copy / "rules/nameless.yml", "groups:\n  - rules: []\n")
    message = run_expecting_error("dev", *dev())
    assert "rules/nameless.yml:2: name: is required: the rule group's name" in message


def test_a_group_name_twice_in_a_file(content_copy):
    group = "  - name: g\n    rules:\n      - record: x:up\n        expr: up\n"
    write(content_copy / "rules/twice.yml", "groups:\n" + group + group)
    message = run_expecting_error("dev", *dev())
    assert 'rules/twice.yml:6: name: groupname "g" is repeated in the same file' in message


def test_invalid_promql_in_a_rule(content_copy):
    write(
        content_copy / "rules/bad.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: rate(x[5m]\n"
        "        labels: {severity: warning}\n",
    )
    message = run_expecting_error("dev", *dev())
    assert "rules/bad.yml:4: expr: invalid PromQL in 'Broken': unclosed left parenthesis" in message


def test_for_that_is_not_a_duration(content_copy):
    write(
        content_copy / "rules/slow.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: up == 0\n        for: five minutes\n"
        "        labels: {severity: warning}\n",
    )
    message = run_expecting_error("dev", *dev())
    assert "rules/slow.yml:4: for: must look like '15d', '5m' or '1h30m', got 'five minutes'" in message


RULE = "  - name: g\n    rules:\n      - alert: Bad\n        expr: up == 0\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # What Prometheus refuses when it loads a rule file (so a replaced container would not start).
        # Prometheus 3 validates names as UTF-8: any name but an empty one, and for a label __name__.
        (
            "groups:\n" + RULE + "        labels: {severity: warning, __name__: x}\n",
            "rules/bad.yml:4: labels.__name__: invalid label name '__name__'",
        ),
        (
            "groups:\n" + RULE + "        labels: {severity: warning}\n        annotations: {'': s}\n",
            "rules/bad.yml:4: annotations.: invalid annotation name ''",
        ),
        (
            "groups:\n  - name: g\n    rules:\n      - record: 'job:up{x}'\n        expr: up\n",
            "rules/bad.yml:4: record: braces in the recording rule name 'job:up{x}': should they be in expr?",
        ),
        (
            "groups:\n  - name: g\n    rules:\n      - record: job:up\n        expr: up\n        for: 5m\n",
            "rules/bad.yml:4: for: a recording rule takes no 'for'",
        ),
        (
            "groups:\n" + RULE + "        labels: {severity: warning}\n        anotations: {summary: s}\n",
            "rules/bad.yml:4: anotations: unknown key; known keys: alert, annotations, expr, for, keep_firing_for",
        ),
        (
            "groups:\n  - name: g\n    intervl: 1m\n    rules:\n      - alert: Bad\n        expr: up == 0\n"
            "        labels: {severity: warning}\n",
            "rules/bad.yml:2: intervl: unknown key; known keys: interval, labels, limit, name, query_offset, rules",
        ),
        (
            "groups:\n  - name: g\n    interval: 1 minute\n    rules:\n      - alert: Bad\n        expr: up == 0\n"
            "        labels: {severity: warning}\n",
            "rules/bad.yml:2: interval: must look like '15d', '5m' or '1h30m', got '1 minute'",
        ),
        (
            "groups:\n" + RULE + "        keep_firing_for: soon\n        labels: {severity: warning}\n",
            "rules/bad.yml:4: keep_firing_for: must look like '15d', '5m' or '1h30m', got 'soon'",
        ),
        (
            "groups:\n" + RULE + "        labels: {severity: warning}\n"
            "        annotations: {description: '{{ $labels.job } is down'}\n",
            'rules/bad.yml:4: annotations.description: template does not parse: unexpected "}" in operand',
        ),
        (
            "groups:\n" + RULE + "        labels: {severity: warning, load: '{{ $value | humanise }}'}\n",
            'rules/bad.yml:4: labels.load: template does not parse: function "humanise" not defined',
        ),
        # Experimental PromQL, which the Rust parser accepts and Prometheus refuses without --enable-feature.
        (
            "groups:\n  - name: g\n    rules:\n      - alert: Bad\n"
            '        expr: sort_by_label(up, "job") == 0\n        labels: {severity: warning}\n',
            "rules/bad.yml:4: expr: invalid PromQL in 'Bad': function \"sort_by_label\" is not enabled",
        ),
        (
            "groups:\n  - name: g\n    rules:\n      - record: job:up:limited\n        expr: limitk(2, up)\n",
            "rules/bad.yml:4: expr: invalid PromQL in 'job:up:limited': limitk() is experimental and must be enabled "
            "with --enable-feature=promql-experimental-functions",
        ),
    ],
)
def test_what_prometheus_refuses_in_a_rule_file_stops_preview(content_copy, text, expected):
    write(content_copy / "rules/bad.yml", text)
    assert expected in run_expecting_error("dev", *dev())


def test_rule_test_naming_a_missing_rule_file(content_copy):
    write(content_copy / "rules/tests/ghost_test.yml", "rule_files:\n  - ../ghost.yml\ntests: []\n")
    message = run_expecting_error("dev", *dev())
    assert "rules/tests/ghost_test.yml:1: rule_files names '../ghost.yml', which does not exist" in message


def test_a_bad_slo_spec_stops_preview_naming_its_file_and_line(content_copy):
    """Each field's message is tested on the spec loader (tests/unit/test_slo.py); here, that the program stops."""
    spec = content_copy / "rules/slos/mindhit.yml"
    write(spec, spec.read_text().replace("objective: 99.9", "objective: 100", 1))
    message = run_expecting_error("dev", *dev())
    assert "rules/slos/mindhit.yml:6: slos[0].objective: must be a percentage above 0 and below 100" in message


# ---------------------------------------------------------------- severities


def test_a_declared_systems_alert_with_a_severity_no_route_names(content_copy):
    """`crit` where the routes say critical: in prod it stopped at K-ERP's route, whose own receiver is the
    warning channel, and paged no one."""
    rules = content_copy / "rules/kerp.yml"
    text = rules.read_text()
    rules.write_text(text.replace("severity: critical", "severity: crit", 1))
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == "severity: critical")
    alert = next(row for row in reversed(text.splitlines()[:line]) if "- alert:" in row).split(": ")[1]
    config, secrets = configured_stack("prod")
    message = run_expecting_error("prod", config, secrets)
    rule_line = text.splitlines().index(f"      - alert: {alert}") + 1
    assert (
        f"rules/kerp.yml:{rule_line}: alert '{alert}' has severity 'crit', which no route compares with (they split "
        "on critical, warning, info): it stops at alerting.route.routes[1], whose own receiver kerp gets it; "
        'give it one of those severities, or route severity="crit" there'
    ) in message


def test_a_severity_no_route_names_passes_where_no_route_splits_on_severity(content_copy):
    """An alert stopping at a route without severity children (dev's K-ERP route takes every severity) or named
    by a route passes: only a severity named nowhere that stops at a split is an error."""
    rules = content_copy / "rules/kerp.yml"
    rules.write_text(rules.read_text().replace("severity: critical", "severity: crit", 1))
    assert run_program("dev", *dev()).recorder.registrations


def test_a_declared_systems_alert_without_severity(content_copy):
    """Lint rule alert-severity: an error for a declared system (imported rules:
    tests/program/test_imported_content.py)."""
    rules = content_copy / "rules/kerp.yml"
    rules.write_text(rules.read_text().replace("severity: warning", "team: erp", 1))
    message = run_expecting_error("dev", *dev())
    assert "rules/kerp.yml: [alert-severity] line " in message
    assert (
        "has no severity label: the routes are keyed on it (to turn the rule off for this file: rules/.lint: "
        'exclusions: {alert-severity: {reason: "<why>", files: [kerp.yml]}})' in message
    )


# ---------------------------------------------------------------- Grafana-managed rules


def test_grafana_rule_with_unknown_datasource_and_bad_condition(content_copy):
    write(
        content_copy / "rules/grafana/bad.yml",
        "groups:\n  - name: g\n    folder: Platform\n    rules:\n      - alert: A\n        datasource: elastic\n"
        '        expr: count_over_time({job="x"}[5m])\n        condition: more than 10\n'
        "        labels: {severity: warning}\n",
    )
    message = run_expecting_error("dev", *dev())
    assert "rules/grafana/bad.yml:5: unknown datasource uid 'elastic'" in message
    assert "rules/grafana/bad.yml:5: condition: must look like '> 10' or '< 1', got 'more than 10'" in message


def test_grafana_rule_without_severity(content_copy):
    write(
        content_copy / "rules/grafana/bad.yml",
        "groups:\n  - name: g\n    folder: Platform\n    rules:\n      - alert: Quiet\n        datasource: loki\n"
        "        expr: count_over_time({job=\"x\"}[5m])\n        condition: '> 1'\n",
    )
    message = run_expecting_error("dev", *dev())
    assert "rules/grafana/bad.yml:5: alert 'Quiet' needs a severity label" in message


@pytest.mark.parametrize(
    ("labels", "given"),
    [
        ("        labels: {severity: warning}\n", "is missing"),
        ("        labels: {severity: warning, system: kerp}\n", "is 'kerp'"),
    ],
)
def test_a_grafana_rule_in_a_declared_systems_folder_without_its_system(content_copy, labels, given):
    """The platform's log alerts had no system, and fell to prod's default receiver: K-ERP's channel."""
    write(
        content_copy / "rules/grafana/bad.yml",
        "groups:\n  - name: g\n    folder: Platform\n    rules:\n      - alert: Quiet\n        datasource: loki\n"
        "        expr: count_over_time({job=\"docker\"}[5m])\n        condition: '> 1'\n" + labels,
    )
    message = run_expecting_error("dev", *dev())
    assert (
        f"rules/grafana/bad.yml:5: labels.system: {given} in alert 'Quiet': folder 'Platform' is system platform"
        "'s, and the notification policy routes an alert to its team by `system`; set system: platform"
    ) in message


def test_a_grafana_rule_in_an_imported_folder_needs_no_system(content_copy):
    write(
        content_copy / "rules/grafana/vendor.yml",
        "groups:\n  - name: g\n    folder: Vendor\n    rules:\n      - alert: Quiet\n        datasource: loki\n"
        "        expr: count_over_time({job=\"docker\"}[5m])\n        condition: '> 1'\n"
        "        labels: {severity: warning}\n",
    )
    assert run_program("dev", *dev()).recorder.registrations


def test_grafana_managed_loki_rules_in_a_stack_without_loki(content_copy):
    """Another system's Loki content (a rule group in its own folder) needs the stack's Loki."""
    source = content_copy / "rules/grafana/platform-logs.yml"
    write(
        content_copy / "rules/grafana/wealist-logs.yml",
        source.read_text()
        .replace("folder: Platform", "folder: weAlist")
        .replace("system: platform", "system: wealist"),
    )
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "alertmanager", "grafana"]
    config["monitoring:systems"] = ["mindhit", "wealist"]
    message = run_expecting_error("dev", config, secrets)
    assert "rules/grafana/wealist-logs.yml: reads the loki datasource, which this stack does not run" in message
    assert "dashboards/weAlist/log-analysis.json: reads the loki datasource" in message
    assert "platform-logs.yml" not in message  # the stack's own log rules just go with its Loki
