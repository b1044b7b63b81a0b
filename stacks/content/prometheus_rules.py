"""Prometheus rules: rules/*.yml checked rule by rule, the SLO specs' generated rules and dashboards, and
the promtool test files' references."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks import slo
from stacks.content._names import ROOT, relative, system_of
from stacks.content._yaml import load_yaml
from stacks.content.dashboards import Dashboard, build_dashboard
from stacks.durations import parse_duration
from stacks.errors import Problems
from stacks.promql import expression_labels, promql_error
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
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        problems.add(name, "a rule file must be a mapping with a 'groups' list")
        return None
    groups, alerts = [], []
    for i, group in enumerate(data["groups"]):
        if not isinstance(group, dict):
            problems.add(f"{name}: groups[{i}]", "must be a mapping with name and rules")
            continue
        where = f"{name}:{group.line}"
        group_name = group.get("name")
        if not isinstance(group_name, str) or not group_name:
            problems.add(where, "a rule group needs a name")
        elif group_name in groups:
            problems.add(where, f"rule group {group_name!r} is defined twice")
        groups.append(str(group_name))
        rules = group.get("rules")
        if not isinstance(rules, list) or not rules:
            problems.add(where, f"rule group {group_name!r} has no rules")
            continue
        group_alerts: set[str] = set()
        for rule in rules:
            alert = _check_rule(rule, name, problems)
            if alert in group_alerts:
                problems.add(f"{name}:{rule.line}", f"alert {alert!r} is defined twice in group {group_name!r}")
            if alert:
                group_alerts.add(alert)
                alerts.append(alert)
    label_names = {"alertname"}
    for group in data["groups"]:
        for rule in (group.get("rules") or []) if isinstance(group, dict) else []:
            if isinstance(rule, dict) and "alert" in rule:
                label_names |= set(rule.get("labels") or {}) | expression_labels(str(rule.get("expr", "")))
    return RuleFile(
        path=path,
        name=file_name,
        system=system,
        text=text,
        groups=tuple(groups),
        alerts=tuple(alerts),
        label_names=frozenset(label_names),
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
        rule_files = data.get("rule_files") if isinstance(data, dict) else None
        if not isinstance(rule_files, list) or not rule_files:
            problems.add(name, "a rule test file needs a 'rule_files' list")
            continue
        for rule_file in rule_files:
            if not (path.parent / str(rule_file)).is_file():
                problems.add(f"{name}:{data.line}", f"rule_files names {rule_file!r}, which does not exist")


def _check_rule(rule: Any, name: str, problems: Problems) -> str | None:
    if not isinstance(rule, dict):
        problems.add(name, f"a rule must be a mapping, got {rule!r}")
        return None
    where = f"{name}:{rule.line}"
    if ("alert" in rule) == ("record" in rule):
        problems.add(where, "a rule needs exactly one of 'alert' or 'record'")
        return None
    expr = rule.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        problems.add(where, "a rule needs an 'expr'")
    else:
        error = promql_error(expr)
        if error:
            problems.add(where, f"invalid PromQL in {rule.get('alert') or rule.get('record')!r}: {error}")
    if "for" in rule:
        try:
            parse_duration(rule["for"])
        except ValueError as error:
            problems.add(where, f"'for' {error}")
    if "alert" in rule and "severity" not in (rule.get("labels") or {}):
        problems.add(where, f"alert {rule['alert']!r} needs a severity label: the alert routes are keyed on it")
    return rule.get("alert")
