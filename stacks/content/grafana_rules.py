"""Grafana-managed rules: rules/grafana/*.yml, rule groups Grafana evaluates (log alerts on Loki, for instance)."""

from __future__ import annotations

import re
from pathlib import Path

from stacks.content._names import ROOT, relative, system_of
from stacks.content.model import GrafanaRule, GrafanaRuleGroup
from stacks.content.queries import DATASOURCE_UIDS
from stacks.errors import Problems
from stacks.reader import Reader
from stacks.syntax.durations import parse_duration
from stacks.syntax.promql import promql_error
from stacks.syntax.yaml_io import load_yaml

_CONDITION = re.compile(r"^\s*([<>])\s*(-?\d+(\.\d+)?)\s*$")
_NO_DATA_STATES = ("NoData", "Alerting", "OK", "KeepLast")
_RULE_KEYS = ("alert", "annotations", "condition", "datasource", "expr", "for", "labels", "noDataState")


def load_grafana_rules(
    directory: Path, problems: Problems, root: Path = ROOT, declared: frozenset[str] = frozenset()
) -> tuple[GrafanaRuleGroup, ...]:
    """rules/grafana/*.yml: rule groups that Grafana evaluates (log-based alerts on Loki, for instance).

    Format: groups: [{name, folder, interval, rules: [{alert, datasource (uid), expr, condition ('> 10'),
    for, labels, annotations, noDataState}]}]. A rule in a declared system's folder (`declared`: the systems of
    systems/, and the platform) carries that system as its `system` label, which the routes split on.
    """
    groups: list[GrafanaRuleGroup] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        name = relative(path, root)
        data = load_yaml(path.read_text(encoding="utf-8"), name, problems)
        if data is None:
            continue
        top = Reader(data, "", problems, file=name, expected="a Grafana rule file: a mapping with a 'groups' list")
        for i, item in enumerate(top.list("groups", required=True, expected="a list of rule groups")):
            group = Reader(
                item, "", problems, file=name, expected=f"groups[{i}]: a mapping with name, folder and rules"
            )
            parsed = _grafana_group(group, path, declared) if group.valid else None
            if parsed is None:
                continue
            if (parsed.folder, parsed.name) in seen:
                group.add("", f"rule group {parsed.name!r} is already in folder {parsed.folder!r}")
            seen.add((parsed.folder, parsed.name))
            groups.append(parsed)
    return tuple(groups)


def _grafana_group(group: Reader, path: Path, declared: frozenset[str]) -> GrafanaRuleGroup | None:
    group_name = group.str("name", required=True, expected="the rule group's name")
    folder = group.str("folder", required=True, expected="the Grafana folder the group goes to")
    system = system_of(folder) if system_of(folder) in declared else ""
    interval_ms = parse_duration(group.duration("interval", "1m"))
    if interval_ms % 10_000:
        group.add("interval", "must be a multiple of 10s (Grafana's evaluation tick)")
    rules = group.list("rules", expected="a list of rules")
    if not rules:
        group.add("", f"rule group {group_name!r} has no rules")
        return None
    parsed = tuple(
        r
        for r in (
            _grafana_rule(
                Reader(rule, "", group.problems, _RULE_KEYS, file=group.file, expected="a rule: a mapping"),
                folder,
                system,
            )
            for rule in rules
        )
        if r
    )
    names = [r.alert for r in parsed]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        group.add("", f"alert {duplicate!r} is defined twice in group {group_name!r}")
    return GrafanaRuleGroup(
        path=path, name=str(group_name), folder=str(folder), interval_seconds=interval_ms // 1000, rules=parsed
    )


def _grafana_rule(rule: Reader, folder: str, system: str) -> GrafanaRule | None:
    if not rule.valid:
        return None
    alert = rule.str("alert", required=True, expected="the alert's name")
    datasource = rule.get("datasource")
    if datasource not in DATASOURCE_UIDS.values():
        rule.add(
            "", f"unknown datasource uid {datasource!r}; provisioned: {', '.join(sorted(DATASOURCE_UIDS.values()))}"
        )
    expr = rule.str("expr", required=True, expected="a query")
    if expr and datasource == "prometheus" and (error := promql_error(expr)):
        rule.add("", f"invalid PromQL in {alert!r}: {error}")
    condition = _CONDITION.match(str(rule.get("condition", "")))
    if not condition:
        rule.add("condition", f"must look like '> 10' or '< 1', got {rule.get('condition')!r}")
    for_ = rule.duration("for", "0s")  # canonical, as Grafana returns it: no perpetual diff
    no_data = rule.str("noDataState", "NoData", expected=f"one of {', '.join(_NO_DATA_STATES)}")
    if no_data not in _NO_DATA_STATES:
        rule.add("noDataState", f"must be one of {', '.join(_NO_DATA_STATES)}, got {no_data!r}")
    labels = rule.mapping("labels", expected="a mapping of label names to values")
    annotations = rule.mapping("annotations", expected="a mapping of annotation names to templates")
    if "severity" not in labels:
        rule.add("", f"alert {alert!r} needs a severity label: the notification policy routes on it")
    if system and labels.get("system") != system:
        given = f"is {labels['system']!r}" if "system" in labels else "is missing"
        rule.add(
            "labels.system",
            f"{given} in alert {alert!r}: folder {folder!r} is system {system}'s, and the notification policy "
            f"routes an alert to its team by `system`; set system: {system}",
        )
    if not condition:
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
