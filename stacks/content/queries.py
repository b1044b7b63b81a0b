"""What a dashboard queries: its panels, the provisioned datasource each query runs on, and its PromQL with
Grafana's variables substituted, for the lint, the cross-file checks and the retention a stack needs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stacks.layout import DATASOURCE_SERVICES

DATASOURCE_UIDS = {service: service for service in DATASOURCE_SERVICES}  # type -> uid
DATASOURCE_NAMES = {service.capitalize(): service for service in DATASOURCE_SERVICES}  # name -> uid
# Grafana's own variables, replaced by representative values before a PromQL expression is parsed.
_GRAFANA_VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "__interval_ms": "60000",
    "__range_s": "3600",
    "__range_ms": "3600000",
}


def panels(model: dict, path: str = "$") -> Iterator[tuple[str, dict]]:
    """Every panel with its JSON path, including those inside rows (new and old schema)."""
    for key in ("panels", "rows"):
        for i, panel in enumerate(model.get(key) or []):
            if isinstance(panel, dict):
                where = f"{path}.{key}[{i}]"
                yield where, panel
                yield from panels(panel, where)


def prometheus_queries(model: dict) -> Iterator[tuple[str, str]]:
    """(JSON path, PromQL with Grafana's variables substituted) of every Prometheus query in a dashboard."""
    templating = (model.get("templating") or {}).get("list") or []
    variables = {v.get("name") for v in templating if isinstance(v, dict)}
    for where, panel in panels(model):
        for j, target in enumerate(panel.get("targets") or []):
            expr = target.get("expr") if isinstance(target, dict) else None
            if isinstance(expr, str) and expr.strip() and is_prometheus(panel, target):
                yield f"{where}.targets[{j}].expr", substitute_variables(expr, variables)


def is_prometheus(panel: dict, target: dict) -> bool:
    return datasource_of(panel, target) == "prometheus"


def datasource_of(panel: dict, target: dict) -> str | None:
    """The provisioned datasource (its uid and type) a query runs on, or None for another or a variable."""
    for ref in (target.get("datasource"), panel.get("datasource")):
        if isinstance(ref, dict) and (ref.get("type") or ref.get("uid")):
            kind = ref.get("type") or ref.get("uid")
            return kind if kind in DATASOURCE_UIDS else None
        if isinstance(ref, str):
            return DATASOURCE_NAMES.get(ref, ref if ref in DATASOURCE_UIDS else None)
    return "prometheus"  # the default datasource


def substitute_variables(expr: str, variables: set[str] | None = None) -> str:
    """Replace Grafana variables with values the PromQL parser accepts ($job -> 'job' in a selector)."""

    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return _GRAFANA_VARIABLES.get(name, name)

    return re.sub(r"\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)", value, expr)
