"""How far back the content reads: every Prometheus rule, Grafana-managed rule on Prometheus and dashboard query,
and every panel's fixed range. A stack that gives no prometheus.retentionTime keeps that long (the longest window,
at least RETENTION_FLOOR); one that gives a shorter retention stops at preview for a declared system's content, and
is warned of for imported content, which Prometheus and Grafana load all the same (stacks/preflight.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stacks.content._names import system_of
from stacks.content.queries import panels, prometheus_queries
from stacks.syntax.durations import parse_duration
from stacks.syntax.promql import lookback_seconds

if TYPE_CHECKING:
    from stacks.content.model import Content

# The retention of a stack whose content reads no further back: Prometheus' own default.
RETENTION_FLOOR = "15d"
_DAY = 86_400


@dataclass(frozen=True)
class LookBack:
    """One rule, query or panel range, and how far back it reads."""

    seconds: float
    where: str
    """Its file, and its line or JSON path."""
    what: str
    """The expression (shortened) or `timeFrom <range>`."""
    declared: bool
    """A declared system's content (systems/, and the platform's) rather than imported."""


def content_retention(content: Content) -> str:
    """The retention the content needs when the stack gives none: the longest window it reads, in whole days,
    and at least RETENTION_FLOOR."""
    return needed_retention(readers(content))


def needed_retention(look_backs: Iterable[LookBack]) -> str:
    """The longest of these windows in whole days, and at least RETENTION_FLOOR."""
    floor = parse_duration(RETENTION_FLOOR) / 1000
    return days(max([floor, *(look_back.seconds for look_back in look_backs)]))


def readers(content: Content) -> Iterator[LookBack]:
    """Every Prometheus rule, Grafana-managed rule and dashboard query the stack deploys that reads back in time,
    and every panel's fixed relative range (timeFrom)."""
    for rule_file in content.rule_files:
        declared = not content.imported(rule_file.system)
        generated = rule_file.name != rule_file.path.name  # slo-<system>.yml, from rules/slos/<system>.yml
        for line, expr in rule_file.expressions:
            # A generated rule's line is in no file: its SLO (slo="...") and the spec's window tell where.
            yield from _read(expr, rule_file.source if generated else f"{rule_file.source}:{line}", declared)
    for group in content.grafana_rule_groups:
        declared = not content.imported(system_of(group.folder))
        for rule in group.rules:
            if rule.datasource == "prometheus":
                where = f"rules/grafana/{group.path.name}: group {group.name!r}, rule {rule.alert!r}"
                # Plus its query's relative time range (render/grafana.py).
                yield from _read(rule.expr, where, declared, extra=600)
    for dashboard in content.dashboards:
        declared = not content.imported(dashboard.system)
        for where, expr in prometheus_queries(dashboard.model):
            yield from _read(expr, f"{dashboard.source}: {where}", declared)
        for where, panel in panels(dashboard.model):
            fixed = re.fullmatch(r"(?:now-)?(\d+[smhdwy])", str(panel.get("timeFrom") or ""))
            if fixed:
                seconds = parse_duration(fixed[1]) / 1000
                yield LookBack(seconds, f"{dashboard.source}: {where}.timeFrom", f"timeFrom {fixed[0]}", declared)


def _read(expr: str, where: str, declared: bool, extra: float = 0.0) -> Iterator[LookBack]:
    try:
        seconds = lookback_seconds(expr)
    except (ValueError, TypeError):
        return  # not PromQL once Grafana's variables are substituted: the lint reports it
    if seconds:
        yield LookBack(seconds + extra, where, " ".join(expr.split())[:120], declared)


def days(seconds: float) -> str:
    """Whole days, rounded up: the retention Prometheus keeps at least this long for."""
    return f"{-(-int(seconds) // _DAY)}d"
