"""Dashboards: dashboards/<Folder>/*.json loaded, normalised and linted (uids, panels, datasources, PromQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.content._names import ROOT, relative, system_of
from stacks.errors import Problems
from stacks.layout import DATASOURCE_SERVICES
from stacks.promql import promql_error
from stacks.slugs import slug

DATASOURCE_UIDS = {service: service for service in DATASOURCE_SERVICES}  # type -> uid
DATASOURCE_NAMES = {service.capitalize(): service for service in DATASOURCE_SERVICES}  # name -> uid
BUILTIN_DATASOURCES = {"-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana"}
# Panel types that show no query results (text, links, lists of dashboards or alerts).
_PANELS_WITHOUT_QUERIES = {"row", "text", "news", "dashlist", "welcome", "annolist", "alertlist", "gettingstarted"}
_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
_VARIABLE = re.compile(r"^\$\{?[A-Za-z0-9_]+(:[a-z]+)?\}?$")
# Grafana's own variables, replaced by representative values before a PromQL expression is parsed.
_GRAFANA_VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "__interval_ms": "60000",
    "__range_s": "3600",
    "__range_ms": "3600000",
}


@dataclass(frozen=True)
class Dashboard:
    folder: str  # the directory under dashboards/, which is the Grafana folder title
    path: Path
    uid: str
    title: str
    model: dict  # normalised: no id or version, uid pinned
    system: str  # which system it belongs to (the `systems` stack key): the folder's, or the SLO spec's

    @property
    def config_json(self) -> str:
        # Sorted keys and no whitespace: the same file always sends the same text.
        return json.dumps(self.model, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_dashboards(directory: Path, problems: Problems, root: Path = ROOT) -> tuple[Dashboard, ...]:
    dashboards: list[Dashboard] = []
    stray = sorted(p for p in directory.glob("*.json")) if directory.is_dir() else []
    for path in stray:
        problems.add(relative(path, root), "dashboards must be in a folder directory, e.g. dashboards/MindHit/")
    for path in sorted(directory.glob("*/*.json")):
        name = relative(path, root)
        dashboard = _load_dashboard(path, name, problems)
        if dashboard is not None:
            dashboards.append(dashboard)
    return tuple(dashboards)


def check_unique_uids(dashboards: tuple[Dashboard, ...], problems: Problems, root: Path = ROOT) -> None:
    """A uid names one dashboard in Grafana: a second one, from a file or an SLO spec, is reported where it is."""
    seen: dict[str, str] = {}
    for dashboard in dashboards:
        where = relative(dashboard.path, root)
        if dashboard.uid in seen:
            problems.add(where, f"uid {dashboard.uid!r} is already used by {seen[dashboard.uid]}")
        else:
            seen[dashboard.uid] = where


def _load_dashboard(path: Path, name: str, problems: Problems) -> Dashboard | None:
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        problems.add(f"{name}:{error.lineno}:{error.colno}", f"malformed JSON: {error.msg}")
        return None
    except UnicodeDecodeError as error:
        problems.add(name, f"not UTF-8: {error}")
        return None
    if not isinstance(model, dict):
        problems.add(name, "a dashboard must be a JSON object")
        return None
    if isinstance(model.get("dashboard"), dict):
        problems.add(f"{name}: $.dashboard", "unwrap the export: the file must hold the dashboard model itself")
        return None
    folder = path.parent.name
    return build_dashboard(model, path, name, folder, system_of(folder), problems)


def build_dashboard(
    model: dict, path: Path, name: str, folder: str, system: str, problems: Problems
) -> Dashboard | None:
    """A dashboard model checked and normalised; `name` says where it comes from in problems."""
    title = model.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.add(f"{name}: $.title", "a dashboard needs a non-empty title")
        return None
    uid = model.get("uid") or slug(path.stem)
    if not isinstance(uid, str) or not _UID.match(uid):
        problems.add(f"{name}: $.uid", f"must be 1-40 letters, digits, '-' or '_', got {uid!r}")
        return None
    model, input_problems = resolve_inputs(model)
    for where, message in input_problems + lint_dashboard(model):
        problems.add(f"{name}: {where}", message)
    normalised = {k: v for k, v in model.items() if k not in ("id", "version", "__inputs")}
    normalised["uid"] = uid
    return Dashboard(folder=folder, path=path, uid=uid, title=title, model=normalised, system=system)


def resolve_inputs(model: dict) -> tuple[dict, list[tuple[str, str]]]:
    """An exported dashboard's `${DS_...}` placeholders replaced by the provisioned datasource's uid.

    Grafana's import dialog does this by hand; the HTTP API the provider uses does not, so without it
    every panel of a dashboard exported "for sharing externally" would show 'datasource not found'.
    """
    replacements, found = {}, []
    for i, item in enumerate(model.get("__inputs") or []):
        if not isinstance(item, dict) or item.get("type") != "datasource":
            continue
        uid = DATASOURCE_UIDS.get(item.get("pluginId"))
        if uid is None:
            found.append((f"$.__inputs[{i}].pluginId", f"no provisioned datasource of type {item.get('pluginId')!r}"))
        else:
            replacements["${" + str(item.get("name")) + "}"] = uid

    def replace(value: Any) -> Any:
        if isinstance(value, str):
            return replacements.get(value, value)
        if isinstance(value, list):
            return [replace(v) for v in value]
        if isinstance(value, dict):
            return {k: replace(v) for k, v in value.items()}
        return value

    return (replace(model) if replacements else model), found


def _panels(model: dict, path: str = "$") -> Iterator[tuple[str, dict]]:
    """Every panel with its JSON path, including those inside rows (new and old schema)."""
    for key in ("panels", "rows"):
        for i, panel in enumerate(model.get(key) or []):
            if isinstance(panel, dict):
                where = f"{path}.{key}[{i}]"
                yield where, panel
                yield from _panels(panel, where)


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


def _variable_problem(ref: str, variables: set[str], inputs: set[str]) -> str | None:
    name = ref.strip("${}").split(":")[0]
    if name in variables or name in inputs:
        return None
    return f"{ref} is neither a datasource template variable nor an __inputs entry"


def lint_dashboard(model: dict) -> list[tuple[str, str]]:
    """Problems that would make a dashboard fail to deploy or show nothing, as (JSON path, message)."""
    found: list[tuple[str, str]] = []
    templating = (model.get("templating") or {}).get("list") or []
    variables = {v.get("name") for v in templating if isinstance(v, dict) and v.get("type") == "datasource"}
    inputs = {i.get("name") for i in model.get("__inputs") or [] if isinstance(i, dict)}
    for i, variable in enumerate(templating):
        if isinstance(variable, dict) and variable.get("type") == "query":
            problem = _datasource_problem(variable.get("datasource"), variables, inputs)
            if problem:
                found.append((f"$.templating.list[{i}].datasource", problem))
    found += _overlaps(model.get("panels") or [])
    panel_ids: dict[Any, str] = {}
    for where, panel in _panels(model):
        if panel.get("type") == "row" or "rows" in where.rsplit(".", 1)[-1]:
            continue
        if panel.get("type") not in _PANELS_WITHOUT_QUERIES and not panel.get("targets"):
            found.append((f"{where}.targets", f"panel {panel.get('title', '')!r} has no query"))
        if "id" in panel:
            if panel["id"] in panel_ids:
                found.append((f"{where}.id", f"panel id {panel['id']} is already used by {panel_ids[panel['id']]}"))
            panel_ids[panel["id"]] = where
        problem = _datasource_problem(panel.get("datasource"), variables, inputs)
        if problem:
            found.append((f"{where}.datasource", problem))
        for j, target in enumerate(panel.get("targets") or []):
            if not isinstance(target, dict):
                continue
            problem = _datasource_problem(target.get("datasource"), variables, inputs)
            if problem:
                found.append((f"{where}.targets[{j}].datasource", problem))
    for where, expr in prometheus_queries(model):
        error = promql_error(expr)
        if error:
            found.append((where, f"invalid PromQL: {error}"))
    return found


def prometheus_queries(model: dict) -> Iterator[tuple[str, str]]:
    """(JSON path, PromQL with Grafana's variables substituted) of every Prometheus query in a dashboard."""
    templating = (model.get("templating") or {}).get("list") or []
    variables = {v.get("name") for v in templating if isinstance(v, dict)}
    for where, panel in _panels(model):
        for j, target in enumerate(panel.get("targets") or []):
            expr = target.get("expr") if isinstance(target, dict) else None
            if isinstance(expr, str) and expr.strip() and _is_prometheus(panel, target):
                yield f"{where}.targets[{j}].expr", substitute_variables(expr, variables)


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


def _is_prometheus(panel: dict, target: dict) -> bool:
    for ref in (target.get("datasource"), panel.get("datasource")):
        if isinstance(ref, dict) and ref.get("type"):
            return ref["type"] == "prometheus"
        if isinstance(ref, dict) and ref.get("uid"):
            return ref["uid"] == "prometheus"
        if isinstance(ref, str):
            return ref in ("prometheus", "Prometheus")
    return True  # the default datasource is Prometheus


def substitute_variables(expr: str, variables: set[str] | None = None) -> str:
    """Replace Grafana variables with values the PromQL parser accepts ($job -> 'job' in a selector)."""

    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return _GRAFANA_VARIABLES.get(name, name)

    return re.sub(r"\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)", value, expr)


def datasource_uids(model: Any) -> set[str]:
    """The provisioned datasources (by uid) a dashboard reads, wherever it names one: by uid, name or type,
    or through a datasource template variable."""
    found: set[str] = set()
    if isinstance(model, list):
        for item in model:
            found |= datasource_uids(item)
    elif isinstance(model, dict):
        if model.get("type") == "datasource" and isinstance(model.get("query"), str):
            found |= {DATASOURCE_UIDS[model["query"]]} if model["query"] in DATASOURCE_UIDS else set()
        for key, value in model.items():
            if key != "datasource":
                found |= datasource_uids(value)
            elif isinstance(value, str):
                found |= {u for u in (DATASOURCE_NAMES.get(value), value) if u in DATASOURCE_UIDS.values()}
            elif isinstance(value, dict):
                uid, kind = value.get("uid"), value.get("type")
                found |= {u for u in (uid, DATASOURCE_UIDS.get(kind)) if u in DATASOURCE_UIDS.values()}
    return found
