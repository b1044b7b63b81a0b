"""Prometheus rules: rules/*.yml checked rule by rule, the SLO specs' generated rules and dashboards, and
the promtool test files' references."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stacks import slo
from stacks.content._names import ROOT, relative, system_of
from stacks.content._yaml import load_yaml
from stacks.content.dashboards import Dashboard, build_dashboard
from stacks.errors import Problems, Reader
from stacks.gotemplate import PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES, template_error
from stacks.promql import LABEL_NAME, expression_labels, promql_error
from stacks.render import to_yaml
from stacks.slo_dashboard import slo_dashboard


@dataclass(frozen=True)
class RuleFile:
    path: Path
    """The file in rules/, or for generated rules the spec they come from (rules/slos/*.yml)."""
    name: str
    """The file name in the Prometheus container's rules directory."""
    system: str
    text: str
    groups: tuple[str, ...]
    alerts: tuple[str, ...]
    label_names: frozenset[str] = frozenset()
    """Labels its alerts may carry: set by the rule, or kept from the series the expression reads."""
    source: str = ""
    """Where its rules are, for problems: rules/x.yml, or the SLO spec with "(generated rules)"."""
    expressions: tuple[tuple[int, str], ...] = ()
    """(line, PromQL) of every rule."""
    records: tuple[str, ...] = ()
    """The series its recording rules write."""
    alert_expressions: tuple[str, ...] = ()
    """The PromQL of its alerting rules."""


def load_rules(directory: Path, problems: Problems, root: Path = ROOT) -> tuple[RuleFile, ...]:
    files = []
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        rule_file = _load_rule_file(path, relative(path, root), problems)
        if rule_file:
            files.append(rule_file)
    return tuple(files)


def _load_rule_file(path: Path, name: str, problems: Problems) -> RuleFile | None:
    return _parse_rule_file(path.read_text(encoding="utf-8"), path, name, path.name, system_of(path.stem), problems)


def _parse_rule_file(
    text: str, path: Path, name: str, file_name: str, system: str, problems: Problems
) -> RuleFile | None:
    data = load_yaml(text, name, problems)
    if data is None:
        return None
    top = Reader(data, "", problems, file=name, expected="a rule file: a mapping with a 'groups' list")
    groups, alerts = [], []
    for i, item in enumerate(top.list("groups", required=True, expected="a list of rule groups")):
        group = Reader(
            item, "", problems, _GROUP_KEYS, file=name, expected=f"groups[{i}]: a mapping with name and rules"
        )
        if not group.valid:
            continue
        group_name = group.str("name", required=True, expected="the rule group's name")
        group.duration("interval")
        _check_label_names(group, "labels")
        if group_name in groups:
            group.add("", f"rule group {group_name!r} is defined twice")
        groups.append(str(group_name))
        rules = group.list("rules", expected="a list of rules")
        if not rules:
            group.add("", f"rule group {group_name!r} has no rules")
            continue
        group_alerts: set[str] = set()
        for rule in rules:
            alert = _check_rule(Reader(rule, "", problems, _RULE_KEYS, file=name, expected="a rule: a mapping"))
            if alert in group_alerts:
                problems.add(f"{name}:{rule.line}", f"alert {alert!r} is defined twice in group {group_name!r}")
            if alert:
                group_alerts.add(alert)
                alerts.append(alert)
    label_names = {"alertname"}
    expressions, records, alert_expressions = [], [], []
    for group in data["groups"]:
        for rule in (group.get("rules") or []) if isinstance(group, dict) else []:
            if not isinstance(rule, dict):
                continue
            if "alert" in rule:
                label_names |= set(rule.get("labels") or {}) | expression_labels(str(rule.get("expr", "")))
                alert_expressions.append(str(rule.get("expr", "")))
            if isinstance(rule.get("expr"), str):
                expressions.append((rule.line, rule["expr"]))
            if isinstance(rule.get("record"), str):
                records.append(rule["record"])
    return RuleFile(
        path=path,
        name=file_name,
        system=system,
        text=text,
        groups=tuple(groups),
        alerts=tuple(alerts),
        label_names=frozenset(label_names),
        source=name,
        expressions=tuple(expressions),
        records=tuple(records),
        alert_expressions=tuple(alert_expressions),
    )


def load_slos(
    directory: Path, problems: Problems, root: Path = ROOT
) -> tuple[tuple[RuleFile, ...], tuple[Dashboard, ...]]:
    """rules/slos/<system>.yml: each spec becomes recording rules and burn-rate alerts (one generated rule
    file per spec file, `slo-<system>.yml` in Prometheus) and a dashboard in the SLOs folder."""
    rule_files: list[RuleFile] = []
    dashboards: list[Dashboard] = []
    seen: dict[str, str] = {}
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        name, system = relative(path, root), system_of(path.stem)
        data = load_yaml(path.read_text(encoding="utf-8"), name, problems)
        if data is None:
            continue
        specs = []
        for spec in slo.parse_slo_file(data, name, system, problems):
            if spec.name in seen:
                problems.add(name, f"SLO {spec.name!r} is already defined in {seen[spec.name]}")
                continue
            seen[spec.name] = name
            specs.append(spec)
        if not specs:
            continue
        text = f"# Generated from {name} by stacks/slo.py: edit the spec, not this file.\n" + to_yaml(
            {"groups": slo.slo_rule_groups(specs)}
        )
        rule_file = _parse_rule_file(text, path, f"{name} (generated rules)", f"slo-{system}.yml", system, problems)
        if rule_file:
            rule_files.append(rule_file)
        for spec in specs:
            dashboard = build_dashboard(
                slo_dashboard(spec), path, f"{name} (dashboard of {spec.name})", slo.SLO_FOLDER, system, problems
            )
            if dashboard:
                dashboards.append(dashboard)
    return tuple(rule_files), tuple(dashboards)


def check_rule_tests(directory: Path, problems: Problems, root: Path = ROOT) -> None:
    """promtool test files must name rule files that exist (promtool resolves them from the test's folder)."""
    for path in sorted(directory.glob("*.yml")):
        name = relative(path, root)
        data = load_yaml(path.read_text(encoding="utf-8"), name, problems)
        if data is None:
            continue
        top = Reader(data, "", problems, file=name, expected="a rule test file: a mapping with a 'rule_files' list")
        for rule_file in top.list("rule_files", required=True, expected="a list of the rule files it tests"):
            if not (path.parent / str(rule_file)).is_file():
                top.add("", f"rule_files names {rule_file!r}, which does not exist")


def _check_rule(rule: Reader) -> str | None:
    if not rule.valid:
        return None
    if rule.has("alert") == rule.has("record"):
        rule.add("", "a rule needs exactly one of 'alert' or 'record'")
        return None
    alert = rule.str("alert", expected="the alert's name")
    expr = rule.str("expr", required=True, expected="a PromQL expression")
    if expr and expr.strip() and (error := promql_error(expr)):
        rule.add("", f"invalid PromQL in {alert or rule.get('record')!r}: {error}")
    rule.duration("for")
    rule.duration("keep_firing_for")
    _check_label_names(rule, "labels")
    _check_label_names(rule, "annotations")
    if alert:
        _check_templates(rule, "labels")
        _check_templates(rule, "annotations")
    if alert and "severity" not in rule.mapping("labels"):
        rule.add("", f"alert {alert!r} needs a severity label: the alert routes are keyed on it")
    return alert


# What Prometheus accepts in a rule file (rulefmt): any other key stops it loading the file.
_GROUP_KEYS = ("interval", "labels", "limit", "name", "query_offset", "rules")
_RULE_KEYS = ("alert", "annotations", "expr", "for", "keep_firing_for", "labels", "record")


def _check_label_names(r: Reader, key: str) -> None:
    """Label and annotation names Prometheus refuses at load (and `__` names, which it reserves)."""
    for label, value in r.mapping(key, expected="a mapping of names to values").items():
        if not isinstance(label, str) or not LABEL_NAME.fullmatch(label) or label.startswith("__"):
            r.add(
                f"{key}.{label}", "is not a valid label name (letters, digits and _, not starting with a digit or __)"
            )
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            r.add(f"{key}.{label}", f"must be a string, got {value!r}")


def _check_templates(rule: Reader, key: str) -> None:
    """An alerting rule's label and annotation values are Go templates, which Prometheus parses when it loads the
    file (with $labels, $value... declared before them): one that does not parse stops it loading the file."""
    values = rule.get(key)  # not a mapping: _check_label_names says so
    for label, value in values.items() if isinstance(values, dict) else ():
        if isinstance(value, str) and (error := template_error(value, PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES)):
            rule.add(f"{key}.{label}", f"template does not parse: {error}")
