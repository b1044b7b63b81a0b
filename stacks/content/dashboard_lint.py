"""Dashboard lint: named rules, each with a description and a check, over one walk of the panels.

`build_dashboard` runs every rule when the program loads a dashboard, so `pulumi preview` stops on an
error and warns on a warning. A folder's `.lint` file turns a rule off for some of its dashboards, with a
reason (dashboard-linter's exclusions have this shape):

    # dashboards/<Folder>/.lint
    exclusions:
      panel-units:
        reason: imported as the vendor publishes it
        dashboards: [node-exporter.json]

`python -m stacks.content` lists the rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser

from stacks.content.dashboard_schema import schema_findings
from stacks.content.findings import ERROR, WARNING, Finding
from stacks.content.queries import (
    DATASOURCE_NAMES,
    DATASOURCE_UIDS,
    is_prometheus,
    panels,
    prometheus_queries,
    substitute_variables,
)
from stacks.content.rule_names import JOB_OWNERSHIP, LOG_SERVICES, TITLE_UNIQUE
from stacks.syntax.promql import parse_promql, promql_error, vector_selectors

BUILTIN_DATASOURCES = {"-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana"}
# Panel types that show no query results (text, links, lists of dashboards or alerts).
_PANELS_WITHOUT_QUERIES = {"row", "text", "news", "dashlist", "welcome", "annolist", "alertlist", "gettingstarted"}


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    severity: str
    """For a declared system's dashboard: ERROR stops preview, WARNING is printed by preview. Every finding in an
    imported dashboard is a warning: Grafana takes it as it is."""
    check: Callable[[Dashboard], Iterator[tuple[str, str]]]
    """(JSON path, message) for every place the dashboard breaks the rule."""


class Dashboard:
    """What the rules look at: the model, its datasource variables and inputs, and its panels, walked once."""

    def __init__(self, model: dict):
        self.model = model
        self.templating = (model.get("templating") or {}).get("list") or []
        self.variables = {
            v.get("name") for v in self.templating if isinstance(v, dict) and v.get("type") == "datasource"
        }
        self.inputs = {i.get("name") for i in model.get("__inputs") or [] if isinstance(i, dict)}
        self.panels = list(panels(model))
        """(JSON path, panel) of every panel, rows and panels inside rows included (new and old schema)."""

    def data_panels(self) -> Iterator[tuple[str, dict]]:
        """The panels that are not rows (nor old-schema row containers)."""
        for where, panel in self.panels:
            if panel.get("type") != "row" and "rows" not in where.rsplit(".", 1)[-1]:
                yield where, panel

    def datasource_problem(self, ref: Any) -> str | None:
        return _datasource_problem(ref, self.variables, self.inputs)


def _datasource_problem(ref: Any, variables: set[str], inputs: set[str]) -> str | None:
    """Why a datasource reference would not resolve in Grafana, or None when it does."""
    if ref is None:
        return None  # the dashboard default datasource
    if isinstance(ref, str):
        if ref in DATASOURCE_NAMES or ref in BUILTIN_DATASOURCES or ref in DATASOURCE_UIDS.values():
            return None
        return _variable_problem(ref, variables, inputs) if ref.startswith("$") else f"unknown datasource {ref!r}"
    if not isinstance(ref, dict):
        return f"a datasource reference must be an object or a name, got {ref!r}"
    uid = ref.get("uid")
    if uid is None:
        kind = ref.get("type")
        return None if kind in (None, *DATASOURCE_UIDS, "datasource", "grafana") else f"no datasource of type {kind!r}"
    if isinstance(uid, str) and uid.startswith("$"):
        return _variable_problem(uid, variables, inputs)
    if uid in DATASOURCE_UIDS.values() or uid in BUILTIN_DATASOURCES:
        return None
    return f"unknown datasource uid {uid!r}; provisioned: {', '.join(sorted(DATASOURCE_UIDS.values()))}"


# A variable reference as Grafana's template service reads one: $name, ${name}, ${name.field}, ${name:format}.
_VARIABLE_REF = re.compile(r"\$(\w+)|\$\{(\w+)(?:\.[^:^}]+)?(?::[^}]+)?\}")


def _variable_problem(ref: str, variables: set[str], inputs: set[str]) -> str | None:
    match = _VARIABLE_REF.fullmatch(ref)
    name = match and (match[1] or match[2])
    if name and (name in variables or name in inputs):
        return None
    return f"{ref} is neither a datasource template variable nor an __inputs entry"


def _overlaps(panels: list) -> list[tuple[str, str]]:
    """Top-level panels whose gridPos rectangles overlap (Grafana would push one of them down)."""
    boxes = []
    for i, panel in enumerate(panels):
        grid = panel.get("gridPos") if isinstance(panel, dict) else None
        if isinstance(grid, dict) and all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
            boxes.append((i, grid["x"], grid["y"], grid["x"] + grid["w"], grid["y"] + grid["h"]))
    found = []
    for a, (i, x1, y1, x2, y2) in enumerate(boxes):
        for j, u1, v1, u2, v2 in boxes[a + 1 :]:
            if x1 < u2 and u1 < x2 and y1 < v2 and v1 < y2:
                found.append((f"$.panels[{j}].gridPos", f"overlaps $.panels[{i}].gridPos"))
    return found


# ---------------------------------------------------------------- the rules


def _template_datasources(d: Dashboard) -> Iterator[tuple[str, str]]:
    for i, variable in enumerate(d.templating):
        if isinstance(variable, dict) and variable.get("type") == "query":
            problem = d.datasource_problem(variable.get("datasource"))
            if problem:
                yield f"$.templating.list[{i}].datasource", problem


def _panel_overlaps(d: Dashboard) -> Iterator[tuple[str, str]]:
    yield from _overlaps(d.model.get("panels") or [])


def _panel_queries(d: Dashboard) -> Iterator[tuple[str, str]]:
    for where, panel in d.data_panels():
        if panel.get("type") not in _PANELS_WITHOUT_QUERIES and not panel.get("targets"):
            yield f"{where}.targets", f"panel {panel.get('title', '')!r} has no query"


def _panel_ids(d: Dashboard) -> Iterator[tuple[str, str]]:
    seen: dict[Any, str] = {}
    for where, panel in d.data_panels():
        if "id" in panel:
            if panel["id"] in seen:
                yield f"{where}.id", f"panel id {panel['id']} is already used by {seen[panel['id']]}"
            seen[panel["id"]] = where


def _panel_datasources(d: Dashboard) -> Iterator[tuple[str, str]]:
    for where, panel in d.data_panels():
        problem = d.datasource_problem(panel.get("datasource"))
        if problem:
            yield f"{where}.datasource", problem
        for j, target in enumerate(panel.get("targets") or []):
            if isinstance(target, dict):
                problem = d.datasource_problem(target.get("datasource"))
                if problem:
                    yield f"{where}.targets[{j}].datasource", problem


def _promql(d: Dashboard) -> Iterator[tuple[str, str]]:
    for where, expr in prometheus_queries(d.model):
        error = promql_error(expr)
        if error:
            yield where, f"invalid PromQL: {error}"


def _schema(d: Dashboard) -> Iterator[tuple[str, str]]:
    yield from schema_findings(d.model)  # the walk and its accepted fields: stacks/content/dashboard_schema.py


def _modern_panels(d: Dashboard) -> Iterator[tuple[str, str]]:
    for where, panel in d.data_panels():
        if panel.get("type") in ("graph", "singlestat"):
            yield (
                f"{where}.type",
                f"panel {panel.get('title', '')!r} is a {panel['type']} panel: use timeseries or stat",
            )


def _panel_units(d: Dashboard) -> Iterator[tuple[str, str]]:
    for where, panel in d.data_panels():
        if panel.get("type") in ("logs", "text"):
            continue
        if not ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit"):
            yield f"{where}.fieldConfig.defaults.unit", f"panel {panel.get('title', '')!r} has no unit"


def _histogram_panels(d: Dashboard) -> Iterator[tuple[str, str]]:
    for where, panel in d.data_panels():
        if panel.get("type") != "histogram":
            continue
        for j, target in enumerate(panel.get("targets") or []):
            expr = target.get("expr") if isinstance(target, dict) else None
            buckets = _raw_buckets(expr) if isinstance(expr, str) and is_prometheus(panel, target) else []
            if buckets:
                yield (
                    f"{where}.targets[{j}].expr",
                    f"histogram panel {panel.get('title', '')!r} bins the values of {buckets[0]}, cumulative "
                    "counters of observations, so it shows counts, not the observations: use a bar gauge or "
                    "heatmap of sum by (le) (increase(...[$__range])) with the query's format heatmap",
                )


def _raw_buckets(expr: str) -> list[str]:
    """The _bucket series an expression reads outside histogram_quantile (none when it does not parse)."""
    try:
        tree = parse_promql(substitute_variables(expr))
    except (ValueError, TypeError):
        return []
    quantiles = []

    def visit(node):
        if isinstance(node, promql_parser.Call) and node.func.name == "histogram_quantile":
            quantiles.extend(str(s.prettify()) for arg in node.args for s in vector_selectors(arg))

    promql_parser.walk(tree, visit)
    names = []
    for selector in vector_selectors(tree):
        text = str(selector.prettify())
        if text in quantiles:
            quantiles.remove(text)
        elif (selector.name or "").endswith("_bucket"):
            names.append(selector.name)
    return names


def _datasources_by_uid(d: Dashboard) -> Iterator[tuple[str, str]]:
    for where, panel in d.data_panels():
        if not isinstance(panel.get("datasource"), dict):
            yield (
                f"{where}.datasource",
                (
                    f"panel {panel.get('title', '')!r} names its datasource by name or not at all: "
                    'use {"type": ..., "uid": ...}'
                ),
            )


RULES = (
    Rule(
        "template-datasource",
        "Query variables use a provisioned datasource or a datasource variable.",
        ERROR,
        _template_datasources,
    ),
    Rule("panel-overlap", "Top-level panels do not overlap (Grafana would push one down).", ERROR, _panel_overlaps),
    Rule("panel-query", "Every panel that shows data has a query.", ERROR, _panel_queries),
    Rule("panel-id-unique", "Panel ids are unique within the dashboard.", ERROR, _panel_ids),
    Rule(
        "panel-datasource",
        "Panel and query datasources resolve: provisioned uids, names or variables.",
        ERROR,
        _panel_datasources,
    ),
    Rule("promql", "Every Prometheus query parses (Grafana's variables substituted).", ERROR, _promql),
    Rule(
        "schema",
        "Fields, their types and panel types match Grafana's dashboard schema (grafana-foundation-sdk's models).",
        ERROR,
        _schema,
    ),
    Rule("panel-modern", "No graph or singlestat panels: Grafana migrates them on load.", WARNING, _modern_panels),
    Rule("panel-units", "Every panel but logs and text sets a unit.", WARNING, _panel_units),
    Rule(
        "histogram-panel",
        "A histogram panel does not bin a Prometheus histogram's _bucket counters (it would show counts).",
        ERROR,
        _histogram_panels,
    ),
    Rule(
        "datasource-by-uid",
        "Panels name their datasource by type and uid, not by name or default.",
        WARNING,
        _datasources_by_uid,
    ),
)
RULE_NAMES = (*(rule.name for rule in RULES), JOB_OWNERSHIP, LOG_SERVICES, TITLE_UNIQUE)


def lint(model: dict, excluded: frozenset[str] = frozenset()) -> list[Finding]:
    """Every finding of every rule not excluded for this dashboard."""
    dashboard = Dashboard(model)
    return [
        Finding(rule.name, rule.severity, where, message)
        for rule in RULES
        if rule.name not in excluded
        for where, message in rule.check(dashboard)
    ]
