"""Grafana-managed rules: rules/grafana/*.yml, rule groups Grafana evaluates (log alerts on Loki, for instance)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.content._names import ROOT, relative
from stacks.content._yaml import load_yaml
from stacks.content.dashboards import DATASOURCE_UIDS
from stacks.durations import canonical_duration, parse_duration
from stacks.errors import Problems
from stacks.promql import promql_error


@dataclass(frozen=True)
class GrafanaRule:
    """A Grafana-managed alert rule: one query and a threshold on it."""

    alert: str
    datasource: str  # uid
    expr: str
    op: str  # ">" or "<"
    threshold: float
    for_: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    no_data_state: str


@dataclass(frozen=True)
class GrafanaRuleGroup:
    path: Path
    name: str
    folder: str
    interval_seconds: int
    rules: tuple[GrafanaRule, ...]


_CONDITION = re.compile(r"^\s*([<>])\s*(-?\d+(\.\d+)?)\s*$")
_NO_DATA_STATES = ("NoData", "Alerting", "OK", "KeepLast")
_GRAFANA_RULE_KEYS = {"alert", "datasource", "expr", "condition", "for", "labels", "annotations", "noDataState"}


def load_grafana_rules(directory: Path, problems: Problems, root: Path = ROOT) -> tuple[GrafanaRuleGroup, ...]:
    """rules/grafana/*.yml: rule groups that Grafana evaluates (log-based alerts on Loki, for instance).

    Format: groups: [{name, folder, interval, rules: [{alert, datasource (uid), expr, condition ('> 10'),
    for, labels, annotations, noDataState}]}].
    """
    groups: list[GrafanaRuleGroup] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        name = relative(path, root)
        data = load_yaml(path.read_text(encoding="utf-8"), name, problems)
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
            problems.add(name, "a Grafana rule file must be a mapping with a 'groups' list")
            continue
        for group in data["groups"]:
            parsed = _grafana_group(group, path, name, problems)
            if parsed is None:
                continue
            if (parsed.folder, parsed.name) in seen:
                problems.add(
                    f"{name}:{group.line}", f"rule group {parsed.name!r} is already in folder {parsed.folder!r}"
                )
            seen.add((parsed.folder, parsed.name))
            groups.append(parsed)
    return tuple(groups)


def _grafana_group(group: Any, path: Path, name: str, problems: Problems) -> GrafanaRuleGroup | None:
    if not isinstance(group, dict):
        problems.add(name, "a rule group must be a mapping with name, folder, interval and rules")
        return None
    where = f"{name}:{group.line}"
    group_name, folder = group.get("name"), group.get("folder")
    if not isinstance(group_name, str) or not group_name:
        problems.add(where, "a rule group needs a name")
    if not isinstance(folder, str) or not folder:
        problems.add(where, "a Grafana rule group needs a folder")
    try:
        interval_ms = parse_duration(group.get("interval", "1m"))
    except ValueError as error:
        problems.add(where, f"'interval' {error}")
        interval_ms = 60_000
    if interval_ms % 10_000:
        problems.add(where, "'interval' must be a multiple of 10s (Grafana's evaluation tick)")
    rules = group.get("rules")
    if not isinstance(rules, list) or not rules:
        problems.add(where, f"rule group {group_name!r} has no rules")
        return None
    parsed = tuple(r for r in (_grafana_rule(rule, name, problems) for rule in rules) if r)
    names = [r.alert for r in parsed]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        problems.add(where, f"alert {duplicate!r} is defined twice in group {group_name!r}")
    return GrafanaRuleGroup(
        path=path, name=str(group_name), folder=str(folder), interval_seconds=interval_ms // 1000, rules=parsed
    )


def _grafana_rule(rule: Any, name: str, problems: Problems) -> GrafanaRule | None:
    if not isinstance(rule, dict):
        problems.add(name, f"a rule must be a mapping, got {rule!r}")
        return None
    where = f"{name}:{rule.line}"
    problems.unknown_keys(where, rule, sorted(_GRAFANA_RULE_KEYS))
    alert, datasource, expr = rule.get("alert"), rule.get("datasource"), rule.get("expr")
    if not isinstance(alert, str) or not alert:
        problems.add(where, "a Grafana rule needs an 'alert' name")
    if datasource not in DATASOURCE_UIDS.values():
        problems.add(
            where, f"unknown datasource uid {datasource!r}; provisioned: {', '.join(sorted(DATASOURCE_UIDS.values()))}"
        )
    if not isinstance(expr, str) or not expr.strip():
        problems.add(where, "a Grafana rule needs an 'expr'")
    elif datasource == "prometheus":
        error = promql_error(expr)
        if error:
            problems.add(where, f"invalid PromQL in {alert!r}: {error}")
    condition = _CONDITION.match(str(rule.get("condition", "")))
    if not condition:
        problems.add(where, f"'condition' must look like '> 10' or '< 1', got {rule.get('condition')!r}")
    try:
        for_ = canonical_duration(str(rule.get("for", "0s")))  # as Grafana returns it: no perpetual diff
    except ValueError as error:
        problems.add(where, f"'for' {error}")
        for_ = "0s"
    no_data = rule.get("noDataState", "NoData")
    if no_data not in _NO_DATA_STATES:
        problems.add(where, f"'noDataState' must be one of {', '.join(_NO_DATA_STATES)}, got {no_data!r}")
    labels, annotations = rule.get("labels") or {}, rule.get("annotations") or {}
    if "severity" not in labels:
        problems.add(where, f"alert {alert!r} needs a severity label: the notification policy routes on it")
    if not condition or not isinstance(labels, dict) or not isinstance(annotations, dict):
        return None
    return GrafanaRule(
        alert=str(alert),
        datasource=str(datasource),
        expr=str(expr),
        op=condition.group(1),
        threshold=float(condition.group(2)),
        for_=for_,
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        annotations=tuple(sorted((str(k), str(v)) for k, v in annotations.items())),
        no_data_state=no_data,
    )
