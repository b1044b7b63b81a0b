"""Logs that queries can find: every LogQL stream selector of the dashboards and the Grafana-managed rules
selects on the labels the Promtail pipeline writes (stacks/layout.py LOG_LABELS), and compares the labels whose
values it knows with one of them: `job` (always docker), `stream` (stdout, stderr) and `level` (lower case:
LOG_LEVELS). A query on `compose_service`, on level="ERROR" or on job=~"container.*" finds no log. In a declared
system's dashboards, `service` is compared with the compose services of the system or the stack (lint rule
log-services): a Prometheus job name there (wealist-user-service) finds no log. The other labels' values depend on
the stack (environment, host) or are the container's own name (container), which dashboards select through
variables: not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import promql_parser

from stacks.content._names import relative
from stacks.content.findings import ERROR, Finding, LintFile
from stacks.content.model import PLATFORM, Dashboard, GrafanaRuleGroup, System
from stacks.content.ownership import VARIABLE_IN_STRING, JobIndex, variable_domains, variables_in_strings
from stacks.content.queries import datasource_of, panels, substitute_variables
from stacks.content.rule_names import LOG_SERVICES
from stacks.errors import Problems
from stacks.layout import LOG_JOB, LOG_LABELS, LOG_LEVELS, LOG_STREAMS
from stacks.syntax.promql import expression_facts


def check_log_labels(
    dashboards: Iterable[Dashboard], groups: Iterable[GrafanaRuleGroup], problems: Problems, root: Path
) -> None:
    for dashboard in dashboards:
        domains = variable_domains(dashboard.model)
        for where, expr in loki_queries(dashboard.model):
            for message in log_selector_problems(variables_in_strings(expr, domains)[0]):
                problems.add(f"{dashboard.source}: {where}", message)
    for group in groups:
        for rule in group.rules:
            if rule.datasource == "loki":
                for message in log_selector_problems(rule.expr):
                    problems.add(f"{relative(group.path, root)}: group {group.name!r}, rule {rule.alert!r}", message)


def loki_queries(model: dict) -> Iterator[tuple[str, str]]:
    """(JSON path, LogQL) of every Loki query of a dashboard."""
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
            elif matcher.name in _CLOSED_VALUES and not _reaches_one(op, value, _CLOSED_VALUES[matcher.name][0]):
                found.append(
                    f"{selector} compares {matcher.name} with {value!r}, which no stream has: "
                    f"{_CLOSED_VALUES[matcher.name][1]}"
                )
    return found


# The labels whose every value the pipeline knows: (values, what to tell).
_CLOSED_VALUES = {
    "job": ((LOG_JOB,), f'every log stream is job="{LOG_JOB}"'),
    "stream": (LOG_STREAMS, f"streams are {' and '.join(LOG_STREAMS)}"),
    "level": (LOG_LEVELS, f"levels are lower case ({', '.join(LOG_LEVELS)})"),
}


def check_log_services(dashboards: Iterable[Dashboard], systems: dict[str, System]) -> list[tuple[LintFile, Finding]]:
    """Each `service` matcher of a declared system's log queries can find a stream: its value, or each value its
    variables take, is one of the compose services of the system or of the stack itself."""
    found = []
    for dashboard in dashboards:
        if dashboard.system in systems and LOG_SERVICES not in dashboard.excluded_rules:
            system = systems[dashboard.system]
            values = _variable_values(dashboard.model, system)
            for where, expr in loki_queries(dashboard.model):
                for message in _service_problems(expr, system, values):
                    found.append((dashboard.lint_file, Finding(LOG_SERVICES, ERROR, where, message)))
    return found


# A variable's options, each as Grafana puts it into a query: a value (escaped in a regex matcher) or the All value
# (a regex as it is); and where they come from.
Options = tuple[list[tuple[str, bool]], str]


def _service_problems(expr: str, system: System, values: dict[str, Options]) -> list[str]:
    services = (*system.services, *PLATFORM.services)
    known = f"{system.name}'s are {', '.join(system.services)}" if system.services else f"{system.name} declares none"
    fix = f"({system.declared_in} services; the stack's own: {', '.join(PLATFORM.services)})"
    found = []
    for selector in stream_selectors(expr):
        try:
            matchers = expression_facts(selector).selectors[0].on("service")
        except (ValueError, TypeError):
            continue  # a variable outside a string: log_selector_problems reports what does not parse
        for op, value in matchers:
            if op not in ("Equal", "Re"):
                continue  # a negative matcher selects the other services
            regex = op == "Re"
            missed = [
                choices
                for text, choices, _ in _expanded(value, values, regex)
                if not any(re.fullmatch(text, s) if regex else text == s for s in services)
            ]
            compared = f'service{"=~" if regex else "="}"{value}"'
            if missed and not VARIABLE_IN_STRING.search(value):
                found.append(f"{selector} compares {compared}, and no log stream has such a service: {known} {fix}")
            elif missed:
                shown = ", ".join(" and ".join(choices) for choices in missed[:3])
                more = f" and {len(missed) - 3} more" if len(missed) > 3 else ""
                sources = "; ".join(
                    dict.fromkeys(s for _, _, found_in in _expanded(value, values, regex) for s in found_in)
                )
                found.append(
                    f"{selector}: {compared} finds no log stream with {shown}{more} ({sources}): {known} {fix}"
                )
    return found


def _expanded(
    value: str, values: dict[str, Options], regex: bool
) -> Iterator[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """The matcher value with each of its variables' options in turn, the options chosen and where they come
    from; nothing when a variable's options are not known here (a Loki query, a text box)."""
    match = VARIABLE_IN_STRING.search(value)
    if not match:
        yield value, (), ()
        return
    name = match[1] or match[2] or match[3]
    if name not in values:
        return
    taken, source = values[name]
    for option, is_regex in taken:
        text = re.escape(option) if regex and not is_regex else option
        for rest, choices, sources in _expanded(value[match.end() :], values, regex):
            yield (
                value[: match.start()] + text + rest,
                (f"${name} = {option!r}", *choices),
                (f"${name}: {source}", *sources),
            )


def _variable_values(model: dict, system: System) -> dict[str, Options]:
    """Variable -> its options, for the variables whose options are known here: a custom variable's list, and
    a Prometheus label_values(<selector>, job) query's jobs of the system that expose the selector's metric,
    through the variable's `regex` as Grafana applies it; with the All value when it offers one."""
    values = {}
    for variable in (model.get("templating") or {}).get("list") or []:
        name = variable.get("name") if isinstance(variable, dict) else None
        query = variable.get("query") if isinstance(name, str) else None
        query = query.get("query") if isinstance(query, dict) else query
        if not isinstance(query, str):
            continue
        if variable.get("type") == "custom":
            taken, source = [v.split(" : ")[-1].strip() for v in query.split(",") if v.strip()], "its custom values"
        elif variable.get("type") == "query" and datasource_of({}, variable) == "prometheus":
            taken, source = _jobs_of_label_values(query, system), f"from {query}"
        else:
            continue
        if taken is None or not _grafana_regex_known(variable.get("regex")):
            continue
        if variable.get("regex"):
            taken = [option for v in taken if (option := _through_regex(variable["regex"], v)) is not None]
            source += f" through its regex {variable['regex']}"
        every = [variable["allValue"]] if variable.get("includeAll") and variable.get("allValue") else []
        values[name] = ([(v, False) for v in taken] + [(v, True) for v in every], source)
    return values


def _jobs_of_label_values(query: str, system: System) -> list[str] | None:
    """The system's jobs a label_values(<selector>, job) query lists: those its job matchers select that expose
    its metric (the metrics contract); None for another query."""
    match = re.fullmatch(r"\s*label_values\((.*),\s*job\s*\)\s*", query)
    try:
        (selector,) = expression_facts(substitute_variables(match[1])).selectors if match else ()
    except (ValueError, TypeError):
        return None
    jobs = JobIndex({system.name: system})
    selected = set(system.jobs).intersection(*(jobs.matching(op, v, frozenset()) for op, v in selector.on("job")))
    exposing = {metric.name: metric.jobs for metric in system.metrics}.get(selector.name, system.jobs)
    return [job for job in exposing if job in selected]


# Grafana's stringToJsRegex: /pattern/flags, or a bare pattern anchored at both ends.
_GRAFANA_REGEX = re.compile(r"/(.*?)/(g?i?m?y?s?)", re.S)
_JS_FLAGS = {"i": re.I, "m": re.M, "s": re.S}  # g and y change nothing for one match


def _grafana_regex_known(text) -> bool:
    """Whether a variable's `regex` is none, or one Grafana and Python read alike."""
    if not text:
        return True
    try:
        _compiled(text)
    except re.error:
        return False
    return True


def _through_regex(text: str, value: str) -> str | None:
    """The option Grafana makes of a value through a variable's `regex` (metricNamesToVariableValues): None when
    it does not match; the named group `value` (or `text`), else the first group, else the value itself."""
    match = _compiled(text).search(value)
    if match is None:
        return None
    named = match.groupdict()
    return named.get("value") or named.get("text") or (match[1] if match.re.groups else value)


def _compiled(text: str) -> re.Pattern:
    match = _GRAFANA_REGEX.fullmatch(text) if text.startswith("/") else None
    if text.startswith("/") and not match:
        raise re.error(f"{text!r} is not a valid regular expression")  # as Grafana says
    pattern, flags = (match[1], match[2]) if match else (f"^{text}$", "")
    pattern = re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern)  # a named group as JavaScript writes it
    return re.compile(pattern, sum(_JS_FLAGS.get(flag, 0) for flag in flags))


def _reaches_one(op: str, value: str, values: tuple[str, ...]) -> bool:
    if op == "Equal":
        return value in values
    if op == "Re":
        return any(re.fullmatch(value, known) for known in values)
    return True  # a negative matcher selects the other values


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
