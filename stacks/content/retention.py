"""How far back the content reads: every Prometheus rule, Grafana-managed rule on Prometheus and dashboard query,
and every panel's fixed range. A stack that gives no prometheus.retentionTime keeps that long (the longest window,
at least RETENTION_FLOOR); one that gives a shorter retention stops at preview (stacks/preflight.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from stacks.content.dashboard_lint import panels, prometheus_queries
from stacks.durations import parse_duration
from stacks.promql import lookback_seconds

if TYPE_CHECKING:
    from stacks.content import Content

# The retention of a stack whose content reads no further back: Prometheus' own default.
RETENTION_FLOOR = "15d"
_DAY = 86_400


def content_retention(content: Content) -> str:
    """The retention the content needs when the stack gives none: the longest window it reads, in whole days,
    and at least RETENTION_FLOOR."""
    floor = parse_duration(RETENTION_FLOOR) / 1000
    return days(max([floor, *(seconds for seconds, _, _ in readers(content))]))


def readers(content: Content) -> Iterator[tuple[float, str, str]]:
    """(seconds back, where, what) of every Prometheus rule, Grafana-managed rule and dashboard query the stack
    deploys, and every panel's fixed relative range (timeFrom)."""
    for rule_file in content.rule_files:
        generated = rule_file.name != rule_file.path.name  # slo-<system>.yml, from rules/slos/<system>.yml
        for line, expr in rule_file.expressions:
            # A generated rule's line is in no file: its SLO (slo="...") and the spec's window tell where.
            yield from _read(expr, rule_file.source if generated else f"{rule_file.source}:{line}")
    for group in content.grafana_rule_groups:
        for rule in group.rules:
            if rule.datasource == "prometheus":
                where = f"rules/grafana/{group.path.name}: group {group.name!r}, rule {rule.alert!r}"
                yield from _read(rule.expr, where, extra=600)  # its query's relative time range (render/grafana.py)
    for dashboard in content.dashboards:
        for where, expr in prometheus_queries(dashboard.model):
            yield from _read(expr, f"{dashboard.source}: {where}")
        for where, panel in panels(dashboard.model):
            fixed = re.fullmatch(r"(?:now-)?(\d+[smhdwy])", str(panel.get("timeFrom") or ""))
            if fixed:
                yield parse_duration(fixed[1]) / 1000, f"{dashboard.source}: {where}.timeFrom", f"timeFrom {fixed[0]}"


def _read(expr: str, where: str, extra: float = 0.0) -> Iterator[tuple[float, str, str]]:
    try:
        seconds = lookback_seconds(expr)
    except (ValueError, TypeError):
        return  # not PromQL once Grafana's variables are substituted: the lint reports it
    if seconds:
        yield seconds + extra, where, " ".join(expr.split())[:120]


def days(seconds: float) -> str:
    """Whole days, rounded up: the retention Prometheus keeps at least this long for."""
    return f"{-(-int(seconds) // _DAY)}d"
