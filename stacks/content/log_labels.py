"""Logs that queries can find: every LogQL stream selector of the dashboards and the Grafana-managed rules
selects on the labels the Promtail pipeline writes (stacks/layout.py LOG_LABELS), and compares `level` with a
level as the pipeline writes it (lower case: LOG_LEVELS). A query on `compose_service`, or on level="ERROR",
finds no log. In a declared system's dashboards, `service` is compared with the compose services of the system or
the stack (lint rule log-services): a Prometheus job name there (wealist-user-service) finds no log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import promql_parser

from stacks.content._names import relative
from stacks.content.dashboard_lint import LOG_SERVICES, datasource_of, panels, substitute_variables
from stacks.content.dashboards import Dashboard
from stacks.content.findings import ERROR, Finding, LintFile
from stacks.content.grafana_rules import GrafanaRuleGroup
from stacks.content.ownership import VARIABLE_IN_STRING, variable_domains, variables_in_strings
from stacks.content.systems import PLATFORM, System
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


def check_log_services(dashboards: Iterable[Dashboard], systems: dict[str, System]) -> list[tuple[LintFile, Finding]]:
    """Each `service` matcher of a declared system's log queries can find a stream: its value, or each value its
    variables take, is one of the compose services of the system or of the stack itself."""
    found = []
    for dashboard in dashboards:
        if dashboard.system not in systems or LOG_SERVICES in dashboard.excluded_rules:
            continue
        system = systems[dashboard.system]
        values = _variable_values(dashboard.model, system)
        for where, expr in _loki_queries(dashboard.model):
            for message in _service_problems(expr, system, values):
                found.append((dashboard.lint_file, Finding(LOG_SERVICES, ERROR, where, message)))
    return found


def _service_problems(expr: str, system: System, values: dict[str, tuple[list[tuple[str, bool]], str]]) -> list[str]:
    services = (*system.services, *(s for s in PLATFORM.services if s not in system.services))
    known = f"{system.name}'s are {', '.join(system.services)}" if system.services else f"{system.name} declares none"
    fix = f"({system.declared_in} services; the stack's own: {', '.join(PLATFORM.services)})"
    found = []
    for selector in stream_selectors(expr):
        try:
            parsed = promql_parser.parse(selector)
        except (ValueError, TypeError):
            continue  # a variable outside a string: log_selector_problems reports what does not parse
        for matcher in parsed.matchers.matchers:
            op = str(matcher.op).rpartition(".")[2]
            if matcher.name != "service" or op not in ("Equal", "Re"):
                continue  # a negative matcher selects the other services
            regex = op == "Re"
            missed = [
                (choices, sources)
                for value, choices, sources in _expanded(matcher.value, values, regex)
                if not any(re.fullmatch(value, s) if regex else value == s for s in services)
            ]
            if not missed:
                continue
            compared = f'service{"=~" if regex else "="}"{matcher.value}"'
            if not missed[0][0]:
                found.append(f"{selector} compares {compared}, and no log stream has such a service: {known} {fix}")
                continue
            shown = ", ".join(" and ".join(choices) for choices, _ in missed[:3])
            more = f" and {len(missed) - 3} more" if len(missed) > 3 else ""
            found.append(
                f"{selector}: {compared} finds no log stream with {shown}{more} "
                f"({'; '.join(dict.fromkeys(missed[0][1]))}): {known} {fix}"
            )
    return found


def _expanded(
    value: str, values: dict[str, tuple[list[tuple[str, bool]], str]], regex: bool
) -> Iterator[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """The matcher value with each of its variables' values in turn, as Grafana puts it in (a value escaped in a
    regex, the All value as it is), the values chosen and where they come from; nothing when a variable's values
    are not known."""
    match = VARIABLE_IN_STRING.search(value)
    if not match:
        yield value, (), ()
        return
    name = match[1] or match[2] or match[3]
    taken, source = values.get(name, ([], ""))
    for option, is_regex in taken:
        for rest, choices, sources in _expanded(value[match.end() :], values, regex):
            text = re.escape(option) if regex and not is_regex else option
            yield (
                value[: match.start()] + text + rest,
                (f"${name} = {option!r}", *choices),
                (f"${name}: {source}", *sources),
            )


def _variable_values(model: dict, system: System) -> dict[str, tuple[list[tuple[str, bool]], str]]:
    """Variable -> the values it takes (each with whether it is a regex: the All value) and where from, for the
    variables whose values are known: a custom variable's list, and a Prometheus label_values(<selector>, job)
    query's jobs of the system that expose the selector's metric; Grafana's `regex` option applied as Grafana
    does (the first capture group, or a filter)."""
    values = {}
    for variable in (model.get("templating") or {}).get("list") or []:
        if not isinstance(variable, dict) or not variable.get("name"):
            continue
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "custom" and isinstance(query, str):
            taken = [v.split(" : ")[-1].strip() for v in query.split(",") if v.strip()]
            source = "its custom values"
        elif variable.get("type") == "query" and datasource_of({}, variable) == "prometheus":
            jobs = _jobs_of_label_values(query, system)
            if jobs is None:
                continue
            taken, source = jobs, f"from {query}"
        else:
            continue
        pattern = _grafana_regex(variable.get("regex"))
        if pattern:
            matches = [pattern.search(v) for v in taken]
            kept = [(v, m) for v, m in zip(taken, matches, strict=True) if m]
            taken = [(m.groupdict().get("value") or m[1]) if pattern.groups else v for v, m in kept]
            source += f" through its regex {variable['regex']}"
        every = [variable["allValue"]] if variable.get("includeAll") and variable.get("allValue") else []
        values[str(variable["name"])] = ([(v, False) for v in taken] + [(v, True) for v in every], source)
    return values


def _jobs_of_label_values(query, system: System) -> list[str] | None:
    """The system's jobs a label_values(<selector>, job) query lists: those its job matcher selects that expose
    its metric (the metrics contract); None for another query."""
    match = re.fullmatch(r"\s*label_values\((.*),\s*job\s*\)\s*", query or "")
    if not match:
        return None
    try:
        selector = promql_parser.parse(substitute_variables(match[1]))
    except (ValueError, TypeError):
        return None
    if not isinstance(selector, promql_parser.VectorSelector):
        return None
    exposing = {m.name: m.jobs for m in system.metrics}.get(selector.name or "", system.jobs)
    jobs = []
    for job in exposing:
        labels = {"job": job}
        if all(_matches(m, labels) for m in selector.matchers.matchers if m.name == "job"):
            jobs.append(job)
    return jobs


def _matches(matcher, labels: dict[str, str]) -> bool:
    op, value, actual = str(matcher.op).rpartition(".")[2], matcher.value, labels.get(matcher.name, "")
    return {
        "Equal": actual == value,
        "NotEqual": actual != value,
        "Re": re.fullmatch(value, actual) is not None,
        "NotRe": re.fullmatch(value, actual) is None,
    }[op]


def _grafana_regex(text) -> re.Pattern | None:
    """A variable's `regex` option, /pattern/flags as Grafana writes it (a bare pattern too)."""
    if not isinstance(text, str) or not text:
        return None
    match = re.fullmatch(r"/(.*)/([gimsuy]*)", text, re.S)
    pattern, flags = (match[1], match[2]) if match else (text, "")
    pattern = re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern)  # a named group as JavaScript writes it
    return re.compile(pattern, re.I if "i" in flags else 0)


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
