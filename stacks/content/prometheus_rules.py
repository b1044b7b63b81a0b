"""Prometheus rules: rules/*.yml checked rule by rule, the SLO specs' generated rules and dashboards, and
the promtool test files' references."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from stacks.content._names import ROOT, relative, system_of
from stacks.content.findings import ERROR, WARNING, Finding, LintFile
from stacks.content.model import RuleFile
from stacks.content.rule_names import ALERT_SEVERITY
from stacks.errors import Problems
from stacks.reader import Reader
from stacks.syntax.gotemplate import PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES
from stacks.syntax.gotemplate.parse import template_error
from stacks.syntax.promql import expression_labels, promql_error
from stacks.syntax.yaml_io import load_yaml


def severity_findings(rule_files: Iterable[RuleFile], declared: Iterable[str]) -> list[tuple[LintFile, Finding]]:
    """Alerts without a severity label: the routes are keyed on it, so such an alert reaches only the default
    receiver. An error in a declared system's rules; a warning in imported ones, which Prometheus takes."""
    declared = set(declared)
    return [
        (
            rule_file.lint_file,
            Finding(
                ALERT_SEVERITY,
                ERROR if rule_file.system in declared else WARNING,
                f"line {line}",
                f"alert {alert!r} has no severity label: the routes are keyed on it",
            ),
        )
        for rule_file in rule_files
        for line, alert in rule_file.missing_severity
    ]


def load_rules(directory: Path, problems: Problems, root: Path = ROOT) -> tuple[RuleFile, ...]:
    files = []
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        rule_file = _load_rule_file(path, relative(path, root), problems)
        if rule_file:
            files.append(rule_file)
    return tuple(files)


def _load_rule_file(path: Path, name: str, problems: Problems) -> RuleFile | None:
    return parse_rule_file(path.read_text(encoding="utf-8"), path, name, path.name, system_of(path.stem), problems)


def parse_rule_file(
    text: str, path: Path, name: str, file_name: str, system: str, problems: Problems
) -> RuleFile | None:
    """A rule file checked as Prometheus 3.16 loads it (model/rulefmt/rulefmt.go: Parse and Validate): exactly
    what the server refuses is a problem, nothing more. The project's own checks of a declared system's rules are
    lint rules (rule_findings)."""
    count = len(problems)
    data = load_yaml(text, name, problems, first_document=True)
    if data is None and len(problems) > count:
        return None
    data = {} if data is None else data  # an empty file is a file of no groups
    top = Reader(data, "", problems, ("groups",), file=name, expected="a rule file: a mapping with a 'groups' list")
    groups, alerts = [], []
    label_names = {"alertname"}
    expressions, records, alert_expressions, missing_severity, alert_labels = [], [], [], [], []
    for i, item in enumerate(top.list("groups", expected="a list of rule groups")):
        group = Reader(
            item, "", problems, _GROUP_KEYS, file=name, expected=f"groups[{i}]: a mapping with name and rules"
        )
        if not group.valid:
            continue
        group_name = _text(group, "name")
        if not group_name:
            group.add("name", "is required: the rule group's name (Prometheus: Groupname must not be empty)")
        elif group_name in groups:
            group.add("name", f'groupname "{group_name}" is repeated in the same file')
        groups.append(group_name)
        group.duration("interval")
        group.duration("query_offset")
        if group.has("limit"):  # a Go int of 64 bits, which yaml.v3 fills from a float too (1.5 is 1)
            group.number("limit", valid=lambda n: -(2**63) <= n < 2**63, expected="a number of 64 bits")
        _check_label_names(group, "labels", labels=True)
        group_labels = group.get("labels") if isinstance(group.get("labels"), dict) else {}
        for rule_item in group.list("rules", expected="a list of rules"):
            rule = Reader(rule_item, "", problems, _RULE_KEYS, file=name, expected="a rule: a mapping")
            if not rule.valid:
                continue
            alert, record, expr = _check_rule(rule)
            if expr:
                expressions.append((rule.line, expr))
            if record:
                records.append(record)
            if alert:
                alerts.append(alert)
                alert_expressions.append(expr or "")
                labels = rule.get("labels")
                labels = labels if isinstance(labels, dict) else {}
                label_names |= {str(k) for k in labels} | expression_labels(expr or "")
                if "severity" not in labels:
                    missing_severity.append((rule.line, alert))
                static = {str(k): str(v) for k, v in {**group_labels, **labels}.items()}
                alert_labels.append((rule.line, alert, tuple(sorted(static.items()))))
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
        missing_severity=tuple(missing_severity),
        alert_labels=tuple(alert_labels),
    )


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


def _check_rule(rule: Reader) -> tuple[str, str, str]:
    """(alert, record, expr) of a rule, each "" when missing, after reporting what Prometheus refuses in it."""
    alert, record, expr = _text(rule, "alert"), _text(rule, "record"), _text(rule, "expr")
    if alert and record:
        rule.add("", "only one of 'record' and 'alert' must be set")
    elif not alert and not record:
        rule.add("", "one of 'record' or 'alert' must be set")
    if not expr:
        rule.add("expr", "is required: a PromQL expression (Prometheus: field 'expr' must be set in rule)")
    elif error := promql_error(expr):
        rule.add("expr", f"invalid PromQL in {alert or record!r}: {error}")
    for_ = rule.duration("for")
    keep_firing_for = rule.duration("keep_firing_for")
    if record and not alert:
        if rule.mapping("annotations"):
            rule.add("annotations", "a recording rule takes no annotations")
        if for_ not in (None, "0s"):
            rule.add("for", "a recording rule takes no 'for'")
        if keep_firing_for not in (None, "0s"):
            rule.add("keep_firing_for", "a recording rule takes no 'keep_firing_for'")
        if "{" in record or "}" in record:
            rule.add("record", f"braces in the recording rule name {record!r}: should they be in expr?")
    _check_label_names(rule, "labels", labels=True)
    _check_label_names(rule, "annotations", labels=False)
    if alert:
        _check_templates(rule, "labels")
        _check_templates(rule, "annotations")
    return alert, record, expr


# What Prometheus accepts in a rule file (rulefmt): any other key stops it loading the file.
_GROUP_KEYS = ("interval", "labels", "limit", "name", "query_offset", "rules")
_RULE_KEYS = ("alert", "annotations", "expr", "for", "keep_firing_for", "labels", "record")


def _text(r: Reader, key: str) -> str:
    """A string field as Prometheus' YAML decoder reads it: any scalar as its text, null as empty; a list or a
    mapping is refused."""
    value = r.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        r.add(key, f"must be a string, got {value!r}")
        return ""
    return _scalar_text(value)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_label_names(r: Reader, key: str, *, labels: bool) -> None:
    """Label and annotation names Prometheus 3 refuses at load: it validates names as UTF-8, so any non-empty
    name is valid (`team.name` too), but a label (not an annotation) may not be __name__. Values are strings."""
    for name, value in r.mapping(key, expected="a mapping of names to values").items():
        if isinstance(name, (dict, list)) or _scalar_text(name) == "" or (labels and name == "__name__"):
            kind = "label" if labels else "annotation"
            r.add(f"{key}.{name}", f"invalid {kind} name {name!r}")
        elif isinstance(value, (dict, list)):
            r.add(f"{key}.{name}", f"must be a string, got {value!r}")


def _check_templates(rule: Reader, key: str) -> None:
    """An alerting rule's label and annotation values are Go templates, which Prometheus parses when it loads the
    file (with $labels, $value... declared before them): one that does not parse stops it loading the file."""
    values = rule.get(key)  # not a mapping: _check_label_names says so
    for label, value in values.items() if isinstance(values, dict) else ():
        if isinstance(value, str) and (error := template_error(value, PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES)):
            rule.add(f"{key}.{label}", f"template does not parse: {error}")
