"""Silence is an alert: every scrape job a system declares (systems/<system>.yml) has an alert for its target
down (`up == 0`) and one for its target missing altogether (`absent(up{job="..."})`), since a job with no
target has no `up` series and no other rule of the system can fire. Of the platform's jobs, only the host agents'
are checked, where the content has platform rules at all (a content tree of a test may have none): the stack's
own services are scraped by the configuration that runs them, so they cannot be missing while the service runs,
but an agent's host can be left out of `hosts` or lose its agent."""

from __future__ import annotations

from collections.abc import Iterable

from stacks.content._names import ALWAYS_DEPLOYED
from stacks.content.findings import ERROR, Finding, LintFile
from stacks.content.model import RULES_LINT_FILE, RuleFile, System
from stacks.content.ownership import JobIndex
from stacks.content.rule_names import SILENCE_ALERTS
from stacks.layout import METRIC_AGENTS
from stacks.syntax.promql import expression_facts


def check_silence(rule_files: Iterable[RuleFile], systems: dict[str, System]) -> list[tuple[LintFile, Finding]]:
    """Every job of every declared system has its down and missing alerts, in the system's own rule files."""
    rule_files = list(rule_files)
    found = []
    agents = {agent.name for agent in METRIC_AGENTS}
    has_rules = {f.system for f in rule_files}
    for system in systems.values():
        if system.name == ALWAYS_DEPLOYED and system.name not in has_rules:
            continue
        jobs = JobIndex({system.name: system})
        down, missing = set(), set()
        for expr in (e for f in rule_files if f.system == system.name for e in f.alert_expressions):
            jobs_down, jobs_missing = _up_reads(expr, jobs)
            down |= jobs_down
            missing |= jobs_missing
        for job in system.jobs:
            if system.name == ALWAYS_DEPLOYED and job not in agents:
                continue
            lint_file = LintFile(system.declared_in, RULES_LINT_FILE, "files", f"{system.name}.yml")
            if job not in down:
                message = f'no alert of {system.name} fires when its target is down: add one on up{{job="{job}"}} == 0'
                found.append((lint_file, Finding(SILENCE_ALERTS, ERROR, f"jobs.{job}", message)))
            if job not in missing:
                message = f'no alert of {system.name} fires when it has no target: add one on absent(up{{job="{job}"}})'
                found.append((lint_file, Finding(SILENCE_ALERTS, ERROR, f"jobs.{job}", message)))
    return found


def _up_reads(expr: str, jobs: JobIndex) -> tuple[set[str], set[str]]:
    """The jobs whose `up` an alert reads (outside absent()), and those whose absence it tests with
    absent(up{job="..."})."""
    try:
        facts = expression_facts(expr)
    except (ValueError, TypeError):
        return set(), set()
    in_absent = {a for a in facts.absent if a.name == "up"}
    read, missing = set(), set()
    for selector in (s for s in facts.selectors if s.name == "up"):
        matchers = selector.on("job")
        if selector in in_absent:
            # absent() names the job it reports only from an equality matcher
            missing.update(value for op, value in matchers if op == "Equal")
        elif matchers:
            read |= frozenset.intersection(*(jobs.matching(op, value, frozenset()) for op, value in matchers))
    return read, missing
