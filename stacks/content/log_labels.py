"""Logs that queries can find: every LogQL stream selector of the dashboards and the Grafana-managed rules
selects on the labels the Promtail pipeline writes (stacks/layout.py LOG_LABELS), and compares `level` with a
level as the pipeline writes it (lower case: LOG_LEVELS). A query on `compose_service`, or on level="ERROR",
finds no log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import promql_parser

from stacks.content._names import relative
from stacks.content.dashboard_lint import datasource_of, panels, substitute_variables
from stacks.content.dashboards import Dashboard
from stacks.content.grafana_rules import GrafanaRuleGroup
from stacks.content.ownership import variable_domains, variables_in_strings
from stacks.errors import Problems
from stacks.layout import LOG_JOB, LOG_LABELS, LOG_LEVELS


def check_log_labels(
    dashboards: Iterable[Dashboard], groups: Iterable[GrafanaRuleGroup], problems: Problems, root: Path
) -> None:
    for dashboard in dashboards:
        domains = variable_domains(dashboard.model)
        for where, expr in _loki_queries(dashboard.model):
            for message in log_selector_problems(variables_in_strings(expr, domains)[0]):
                problems.add(f"{dashboard.source}: {where}", message)
    for group in groups:
        for rule in group.rules:
            if rule.datasource == "loki":
                for message in log_selector_problems(rule.expr):
                    problems.add(f"{relative(group.path, root)}: group {group.name!r}, rule {rule.alert!r}", message)


def _loki_queries(model: dict) -> Iterator[tuple[str, str]]:
    for where, panel in panels(model):
        for j, target in enumerate(panel.get("targets") or []):
            expr = target.get("expr") if isinstance(target, dict) else None
            if isinstance(expr, str) and datasource_of(panel, target) == "loki":
                yield f"{where}.targets[{j}].expr", expr


def log_selector_problems(expr: str) -> list[str]:
    """Why the query's stream selectors would find no stream the pipeline writes."""
    found = []
    for selector in stream_selectors(expr):
        try:
            parsed = promql_parser.parse(substitute_variables(selector))
        except (ValueError, TypeError) as error:
            found.append(f"stream selector {selector} does not parse: {error}")
            continue
        for matcher in parsed.matchers.matchers:
            op, value = str(matcher.op).rpartition(".")[2], matcher.value
            if matcher.name not in LOG_LABELS:
                found.append(
                    f"{selector} selects on {matcher.name!r}, which no log stream has: the labels are "
                    f"{', '.join(LOG_LABELS)} (stacks/layout.py)"
                )
            elif matcher.name == "job" and op == "Equal" and value != LOG_JOB:
                found.append(f'{selector} selects job="{value}": every log stream is job="{LOG_JOB}"')
            elif matcher.name == "level" and not _reaches_a_level(op, value):
                found.append(
                    f"{selector} compares level with {value!r}, which no stream has: levels are lower case "
                    f"({', '.join(LOG_LEVELS)})"
                )
    return found


def _reaches_a_level(op: str, value: str) -> bool:
    if op == "Equal":
        return value in LOG_LEVELS
    if op == "Re":
        return any(re.fullmatch(value, level) for level in LOG_LEVELS)
    return True  # a negative matcher selects the other levels


def stream_selectors(expr: str) -> list[str]:
    """The `{...}` stream selectors of a LogQL query (braces inside quoted strings, as in line_format
    templates, are not selectors)."""
    selectors, depth, start, quote = [], 0, 0, ""
    i = 0
    while i < len(expr):
        char = expr[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in '"`':
            quote = char
        elif char == "{":
            if depth == 0:
                start = i
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                selectors.append(expr[start : i + 1])
        i += 1
    return selectors
