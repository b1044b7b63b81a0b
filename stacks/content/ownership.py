"""Every system owns its series: each selector in a system's rules and panels matches its own scrape jobs
and no other system's, so that one system's traffic can never fire another's alerts or fill its panels.

A selector owns its series through its `job` matchers (systems/<system>.yml declares the jobs). Selectors
of recorded series (their rules select for them) and of Prometheus' own ALERTS series are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from stacks.content.findings import ERROR, Finding, LintFile
from stacks.content.model import Dashboard, RuleFile, System
from stacks.content.queries import datasource_of, panels, substitute_variables
from stacks.content.rule_names import JOB_OWNERSHIP
from stacks.syntax.promql import expression_facts

_SYNTHETIC = {"ALERTS", "ALERTS_FOR_STATE"}  # written by Prometheus itself, labelled by the alert rule
# A variable reference as ownership reads it inside a query string: ${x}, ${x:fmt}, $x or [[x]].
VARIABLE_IN_STRING = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def selector_problems(
    expr: str, system: System, jobs: JobIndex, recorded: set[str], templated: Iterable[str] = ()
) -> list[str]:
    """Why the expression's selectors would read another system's series or none of its own.

    `templated`: matcher values that came from a dashboard variable, compared as regular expressions (a
    variable's value is one of several jobs, whatever the operator).
    """
    try:
        selectors = expression_facts(expr).selectors
    except (ValueError, TypeError):
        return []  # reported by the PromQL check
    templated = frozenset(templated)
    found = []
    for selector in selectors:
        if selector.name in _SYNTHETIC or selector.name in recorded:
            continue
        job_matchers = selector.on("job")
        if not job_matchers:
            found.append(f"{selector} selects no job: add {system.job_matcher} ({system.declared_in})")
            continue
        matched = frozenset.intersection(*(jobs.matching(op, value, templated) for op, value in job_matchers))
        foreign = sorted(matched - set(system.jobs))
        if foreign:
            listed = ", ".join(foreign[:4]) + (f" and {len(foreign) - 4} more" if len(foreign) > 4 else "")
            found.append(f"{selector} would also read other systems' jobs ({listed}): select {system.job_matcher}")
        elif not matched:
            found.append(f"{selector} matches no job of {system.name} ({', '.join(system.jobs)})")
    return found


class JobIndex:
    """Every system's jobs, and the jobs each matcher matches: computed once per matcher, as the same ones
    (job=~"kerp-.+") recur in every rule and panel of a system."""

    def __init__(self, systems: dict[str, System]):
        self.jobs = frozenset(job for system in systems.values() for job in system.jobs)
        self._matched: dict[tuple[str, str, bool], frozenset[str]] = {}

    def matching(self, op: str, value: str, templated: frozenset[str]) -> frozenset[str]:
        regex = op in ("Re", "NotRe") or value in templated  # a variable's value is one of several jobs
        key = (op, value, regex)
        if key not in self._matched:
            if regex:
                pattern = re.compile(value)
                matched = frozenset(job for job in self.jobs if pattern.fullmatch(job))
            else:
                matched = frozenset({value}) & self.jobs
            self._matched[key] = self.jobs - matched if op in ("NotEqual", "NotRe") else matched
        return self._matched[key]


def dashboard_queries(model: dict) -> Iterator[tuple[str, str, set[str]]]:
    """(JSON path, PromQL, templated matcher values) of every Prometheus query of a dashboard and of its query
    variables, each variable inside a string replaced by the jobs it can take."""
    domains = variable_domains(model)
    templating = (model.get("templating") or {}).get("list") or []
    queries = [
        (f"$.templating.list[{i}].query", _variable_selector(v))
        for i, v in enumerate(templating)
        if isinstance(v, dict) and v.get("type") == "query" and datasource_of({}, v) == "prometheus"
    ]
    for where, panel in panels(model):
        for j, target in enumerate(panel.get("targets") or []):
            if isinstance(target, dict) and datasource_of(panel, target) == "prometheus":
                queries.append((f"{where}.targets[{j}].expr", target.get("expr")))
    for where, expr in queries:
        if isinstance(expr, str) and expr.strip():
            substituted, templated = variables_in_strings(expr, domains)
            yield where, substitute_variables(substituted), templated


def variables_in_strings(expr: str, domains: dict[str, str]) -> tuple[str, set[str]]:
    """The query with each variable inside a string replaced by the values it can take, as a regular
    expression; and the strings so made (a variable's value is one of several, whatever the operator)."""
    templated: set[str] = set()

    def in_string(match: re.Match) -> str:
        value = VARIABLE_IN_STRING.sub(
            lambda v: f"(?:{domains.get(v.group(1) or v.group(2) or v.group(3), '.*')})", match[0]
        )
        if value != match[0]:
            templated.add(value[1:-1])
        return value

    return _STRING.sub(in_string, expr), templated


def _variable_selector(variable: dict) -> str | None:
    """The series selector of a label_values(<selector>, label) variable query, else None."""
    query = variable.get("query")
    query = query.get("query") if isinstance(query, dict) else query
    match = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", query or "")
    return match[1] if match else None


def variable_domains(model: dict) -> dict[str, str]:
    """Variable -> a regular expression of the values it can take, as Grafana interpolates it."""
    domains = {}
    for variable in (model.get("templating") or {}).get("list") or []:
        if not isinstance(variable, dict) or not variable.get("name"):
            continue
        values = ".*"
        if variable.get("type") == "custom" and isinstance(variable.get("query"), str):
            values = "|".join(_literal(v.strip()) for v in variable["query"].split(",") if v.strip())
        elif variable.get("type") == "query":
            selector = _variable_selector(variable) or ""
            job = re.search(r'\bjob\s*(=~|=)\s*"([^"]*)"', selector)
            values = (job[2] if job[1] == "=~" else _literal(job[2])) if job else ".*"
        if re.search(r"\((?!\?:)", str(variable.get("regex") or "")):
            values = ".*"  # Grafana's regex option takes a part of each value (its capture group): not the job
        if variable.get("includeAll") and variable.get("allValue"):
            values = f"{values}|{variable['allValue']}"
        domains[variable["name"]] = values
    return domains


def check_ownership(
    dashboards: Iterable[Dashboard], rule_files: Iterable[RuleFile], systems: dict[str, System]
) -> list[tuple[LintFile, Finding]]:
    """Every selector of every rule, panel and query variable of a declared system reads its own system's jobs
    only. Imported content (no systems/ file) is not checked: it has no jobs of its own."""
    dashboards, rule_files = list(dashboards), list(rule_files)
    recorded = {record for rule_file in rule_files for record in rule_file.records}
    jobs = JobIndex(systems)
    found = []
    for rule_file in (f for f in rule_files if f.system in systems):
        system = systems[rule_file.system]
        for line, expr in rule_file.expressions:
            for message in selector_problems(expr, system, jobs, recorded):
                found.append((rule_file.lint_file, Finding(JOB_OWNERSHIP, ERROR, f"line {line}", message)))
    for dashboard in dashboards:
        if dashboard.system not in systems or JOB_OWNERSHIP in dashboard.excluded_rules:
            continue
        system = systems[dashboard.system]
        for where, expr, templated in dashboard_queries(dashboard.model):
            for message in selector_problems(expr, system, jobs, recorded, templated):
                found.append((dashboard.lint_file, Finding(JOB_OWNERSHIP, ERROR, where, message)))
    return found


def _literal(value: str) -> str:
    """A value as a regular expression inside a PromQL string: metacharacters escaped with a backslash that
    the string itself escapes (PromQL strings take Go's escapes, where `\\.` is not one)."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\\\1", value)
