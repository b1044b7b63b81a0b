"""Loading and checking the content files: dashboards/<Folder>/*.json and rules/*.yml.

Everything here is pure Python and runs before any resource is registered, so a bad file stops
`pulumi preview` with the file name and the line or JSON path of the problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from stacks.alerting import Route
from stacks.durations import canonical_duration, parse_duration
from stacks import slo
from stacks.errors import Problems
from stacks.layout import DATASOURCE_SERVICES
from stacks.promql import promql_error
from stacks.render import to_yaml
from stacks.slugs import slug, slug_collisions

ROOT = Path(__file__).resolve().parent.parent
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


@dataclass(frozen=True)
class RuleFile:
    path: Path
    """The file in rules/, or for generated rules the spec they come from (rules/slos/*.yml)."""
    name: str
    """The file name in the Prometheus container's rules directory."""
    system: str
    text: str
    groups: tuple[str, ...]
    alerts: tuple[str, ...]
    label_names: frozenset[str] = frozenset()
    """Labels its alerts may carry: set by the rule, or kept from the series the expression reads."""


@dataclass(frozen=True)
class GrafanaRule:
    """A Grafana-managed alert rule: one query and a threshold on it."""

    alert: str
    datasource: str  # uid
    expr: str
    op: str  # ">" or "<"
    threshold: float
    for_: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    no_data_state: str


@dataclass(frozen=True)
class GrafanaRuleGroup:
    path: Path
    name: str
    folder: str
    interval_seconds: int
    rules: tuple[GrafanaRule, ...]


@dataclass(frozen=True)
class Content:
    dashboards: tuple[Dashboard, ...]
    rule_files: tuple[RuleFile, ...]
    grafana_rule_groups: tuple[GrafanaRuleGroup, ...] = ()

    @property
    def systems(self) -> tuple[str, ...]:
        """The systems the content covers: dashboard folders, rule files and Grafana rule folders."""
        return tuple(
            sorted(
                {d.system for d in self.dashboards}
                | {f.system for f in self.rule_files}
                | {system_of(g.folder) for g in self.grafana_rule_groups}
            )
        )

    @property
    def folders(self) -> tuple[str, ...]:
        """Grafana folders: one per dashboard directory, and those Grafana-managed rules live in."""
        return tuple(sorted({d.folder for d in self.dashboards} | {g.folder for g in self.grafana_rule_groups}))


# The stack watching itself: deployed whatever a stack's `systems` setting names.
ALWAYS_DEPLOYED = "platform"


def system_of(name: str) -> str:
    """The system a folder or rule file belongs to: 'K-ERP' and 'kerp.yml' are both 'kerp'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def select_systems(content: Content, systems: tuple[str, ...]) -> Content:
    """Only the named systems' dashboards and rules (all of them when none is named), plus the platform's."""
    if not systems:
        return content
    problems = Problems()
    for i, system in enumerate(systems):
        if system not in content.systems:
            problems.add(f"systems[{i}]", f"no content for system {system!r}; known: {', '.join(content.systems)}")
    problems.raise_if_any()
    wanted = {*systems, ALWAYS_DEPLOYED}
    return Content(
        dashboards=tuple(d for d in content.dashboards if d.system in wanted),
        rule_files=tuple(f for f in content.rule_files if f.system in wanted),
        grafana_rule_groups=tuple(g for g in content.grafana_rule_groups if system_of(g.folder) in wanted),
    )


def select_datasources(content: Content, available: set[str]) -> Content:
    """The Grafana content for a stack whose Grafana has only these datasource uids.

    The platform's own dashboards and rules that read a missing datasource are left out: a stack without
    Loki has no logs to show. Any other system's are an error naming the file: its content needs a
    service this stack does not run.
    """
    problems = Problems()

    def fits(system: str, path: Path, uses: set[str]) -> bool:
        missing = uses - available
        if missing and system != ALWAYS_DEPLOYED:
            problems.add(
                _relative(path, ROOT),
                f"reads the {', '.join(sorted(missing))} datasource, which this stack does not run: "
                "add it to services, or leave the system out of systems",
            )
        return not missing

    dashboards = tuple(d for d in content.dashboards if fits(d.system, d.path, datasource_uids(d.model)))
    groups = tuple(
        g for g in content.grafana_rule_groups
        if fits(system_of(g.folder), g.path, {rule.datasource for rule in g.rules})
    )
    problems.raise_if_any()
    return Content(dashboards=dashboards, rule_files=content.rule_files, grafana_rule_groups=groups)


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


def load_content(root: Path | None = None) -> Content:
    """Load and check every dashboard and rule file; raise InputError listing every problem."""
    root = root or ROOT
    problems = Problems()
    dashboards = load_dashboards(root / "dashboards", problems, root)
    rule_files = load_rules(root / "rules", problems, root)
    slo_rule_files, slo_dashboards = load_slos(root / "rules" / "slos", problems, root)
    grafana_rule_groups = load_grafana_rules(root / "rules" / "grafana", problems, root)
    check_rule_tests(root / "rules" / "tests", problems, root)
    check_unique_uids(dashboards + slo_dashboards, problems, root)
    content = Content(
        dashboards=dashboards + slo_dashboards,
        rule_files=rule_files + slo_rule_files,
        grafana_rule_groups=grafana_rule_groups,
    )
    for first, second, uid in slug_collisions(content.folders):
        problems.add(f"folder {second!r}", f"its uid {uid!r} is already the uid of folder {first!r}: rename one")
    problems.raise_if_any()
    return content


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- dashboards


def load_dashboards(directory: Path, problems: Problems, root: Path = ROOT) -> tuple[Dashboard, ...]:
    dashboards: list[Dashboard] = []
    stray = sorted(p for p in directory.glob("*.json")) if directory.is_dir() else []
    for path in stray:
        problems.add(_relative(path, root), "dashboards must be in a folder directory, e.g. dashboards/MindHit/")
    for path in sorted(directory.glob("*/*.json")):
        name = _relative(path, root)
        dashboard = _load_dashboard(path, name, problems)
        if dashboard is not None:
            dashboards.append(dashboard)
    return tuple(dashboards)


def check_unique_uids(dashboards: tuple[Dashboard, ...], problems: Problems, root: Path = ROOT) -> None:
    """A uid names one dashboard in Grafana: a second one, from a file or an SLO spec, is reported where it is."""
    seen: dict[str, str] = {}
    for dashboard in dashboards:
        where = _relative(dashboard.path, root)
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
    return _dashboard(model, path, name, folder, system_of(folder), problems)


def _dashboard(model: dict, path: Path, name: str, folder: str, system: str, problems: Problems) -> Dashboard | None:
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


# ---------------------------------------------------------------- rules


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A YAML loader that remembers the line of every mapping, for error messages.

    libyaml's parser (CSafeLoader) when PyYAML has it: five times faster on thousands of rules.
    """


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


class _LineDict(dict):
    line = 0


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_rules(directory: Path, problems: Problems, root: Path = ROOT) -> tuple[RuleFile, ...]:
    files = []
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        rule_file = _load_rule_file(path, _relative(path, root), problems)
        if rule_file:
            files.append(rule_file)
    return tuple(files)


def _load_yaml(text: str, name: str, problems: Problems) -> Any:
    """The YAML document with the line of every mapping, or None after reporting where it is malformed."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problems.add(f"{name}{line}", f"malformed YAML: {error.problem or error.context}")
        return None


def _load_rule_file(path: Path, name: str, problems: Problems) -> RuleFile | None:
    return _parse_rule_file(path.read_text(encoding="utf-8"), path, name, path.name, system_of(path.stem), problems)


def _parse_rule_file(text: str, path: Path, name: str, file_name: str, system: str, problems: Problems) -> RuleFile | None:
    data = _load_yaml(text, name, problems)
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        problems.add(name, "a rule file must be a mapping with a 'groups' list")
        return None
    groups, alerts = [], []
    for i, group in enumerate(data["groups"]):
        if not isinstance(group, dict):
            problems.add(f"{name}: groups[{i}]", "must be a mapping with name and rules")
            continue
        where = f"{name}:{group.line}"
        group_name = group.get("name")
        if not isinstance(group_name, str) or not group_name:
            problems.add(where, "a rule group needs a name")
        elif group_name in groups:
            problems.add(where, f"rule group {group_name!r} is defined twice")
        groups.append(str(group_name))
        rules = group.get("rules")
        if not isinstance(rules, list) or not rules:
            problems.add(where, f"rule group {group_name!r} has no rules")
            continue
        group_alerts: set[str] = set()
        for rule in rules:
            alert = _check_rule(rule, name, problems)
            if alert in group_alerts:
                problems.add(f"{name}:{rule.line}", f"alert {alert!r} is defined twice in group {group_name!r}")
            if alert:
                group_alerts.add(alert)
                alerts.append(alert)
    label_names = {"alertname"}
    for group in data["groups"]:
        for rule in (group.get("rules") or []) if isinstance(group, dict) else []:
            if isinstance(rule, dict) and "alert" in rule:
                label_names |= set(rule.get("labels") or {}) | expression_labels(str(rule.get("expr", "")))
    return RuleFile(
        path=path,
        name=file_name,
        system=system,
        text=text,
        groups=tuple(groups),
        alerts=tuple(alerts),
        label_names=frozenset(label_names),
    )


def expression_labels(expr: str) -> set[str]:
    """Label names a PromQL expression mentions (matchers, by/without/on/ignoring): those it may keep."""
    names = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"", expr))
    for group in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        names |= {n.strip() for n in group.split(",") if n.strip()}
    return names


def route_warnings(route: Route, content: Content, external_labels: set[str]) -> list[str]:
    """Routes whose matchers name a label no alert rule sets: they can never match (a warning, not an error)."""
    known = set(external_labels)
    for rule_file in content.rule_files:
        known |= rule_file.label_names
    for group in content.grafana_rule_groups:
        for rule in group.rules:
            known |= {"alertname", "grafana_folder"} | {k for k, _ in rule.labels} | expression_labels(rule.expr)
    warnings = []

    def walk(node: Route, where: str) -> None:
        for i, child in enumerate(node.routes):
            path = f"{where}.routes[{i}]"
            for matcher in child.matchers:
                if matcher.label not in known:
                    warnings.append(
                        f"{path}: matcher {matcher.alertmanager()} names label {matcher.label!r}, "
                        "which no alert rule sets; this route can never match"
                    )
            walk(child, path)

    walk(route, "alerting.route")
    return warnings


def load_slos(directory: Path, problems: Problems, root: Path = ROOT) -> tuple[tuple[RuleFile, ...], tuple[Dashboard, ...]]:
    """rules/slos/<system>.yml: each spec becomes recording rules and burn-rate alerts (one generated rule
    file per spec file, `slo-<system>.yml` in Prometheus) and a dashboard in the SLOs folder."""
    rule_files: list[RuleFile] = []
    dashboards: list[Dashboard] = []
    seen: dict[str, str] = {}
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        name, system = _relative(path, root), system_of(path.stem)
        data = _load_yaml(path.read_text(encoding="utf-8"), name, problems)
        if data is None:
            continue
        specs = []
        for spec in slo.parse_slo_file(data, name, system, problems):
            if spec.name in seen:
                problems.add(name, f"SLO {spec.name!r} is already defined in {seen[spec.name]}")
                continue
            seen[spec.name] = name
            specs.append(spec)
        if not specs:
            continue
        text = f"# Generated from {name} by stacks/slo.py: edit the spec, not this file.\n" + to_yaml(
            {"groups": slo.slo_rule_groups(specs)}
        )
        rule_file = _parse_rule_file(text, path, f"{name} (generated rules)", f"slo-{system}.yml", system, problems)
        if rule_file:
            rule_files.append(rule_file)
        for spec in specs:
            dashboard = _dashboard(
                slo.slo_dashboard(spec), path, f"{name} (dashboard of {spec.name})", slo.SLO_FOLDER, system, problems
            )
            if dashboard:
                dashboards.append(dashboard)
    return tuple(rule_files), tuple(dashboards)


def check_rule_tests(directory: Path, problems: Problems, root: Path = ROOT) -> None:
    """promtool test files must name rule files that exist (promtool resolves them from the test's folder)."""
    for path in sorted(directory.glob("*.yml")):
        name = _relative(path, root)
        data = _load_yaml(path.read_text(encoding="utf-8"), name, problems)
        if data is None:
            continue
        rule_files = data.get("rule_files") if isinstance(data, dict) else None
        if not isinstance(rule_files, list) or not rule_files:
            problems.add(name, "a rule test file needs a 'rule_files' list")
            continue
        for rule_file in rule_files:
            if not (path.parent / str(rule_file)).is_file():
                problems.add(f"{name}:{data.line}", f"rule_files names {rule_file!r}, which does not exist")


def _check_rule(rule: Any, name: str, problems: Problems) -> str | None:
    if not isinstance(rule, dict):
        problems.add(name, f"a rule must be a mapping, got {rule!r}")
        return None
    where = f"{name}:{rule.line}"
    if ("alert" in rule) == ("record" in rule):
        problems.add(where, "a rule needs exactly one of 'alert' or 'record'")
        return None
    expr = rule.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        problems.add(where, "a rule needs an 'expr'")
    else:
        error = promql_error(expr)
        if error:
            problems.add(where, f"invalid PromQL in {rule.get('alert') or rule.get('record')!r}: {error}")
    if "for" in rule:
        try:
            parse_duration(rule["for"])
        except ValueError as error:
            problems.add(where, f"'for' {error}")
    if "alert" in rule and "severity" not in (rule.get("labels") or {}):
        problems.add(where, f"alert {rule['alert']!r} needs a severity label: the alert routes are keyed on it")
    return rule.get("alert")


# ---------------------------------------------------------------- Grafana-managed rules

_CONDITION = re.compile(r"^\s*([<>])\s*(-?\d+(\.\d+)?)\s*$")
_NO_DATA_STATES = ("NoData", "Alerting", "OK", "KeepLast")
_GRAFANA_RULE_KEYS = {"alert", "datasource", "expr", "condition", "for", "labels", "annotations", "noDataState"}


def load_grafana_rules(directory: Path, problems: Problems, root: Path = ROOT) -> tuple[GrafanaRuleGroup, ...]:
    """rules/grafana/*.yml: rule groups that Grafana evaluates (log-based alerts on Loki, for instance).

    Format: groups: [{name, folder, interval, rules: [{alert, datasource (uid), expr, condition ('> 10'),
    for, labels, annotations, noDataState}]}].
    """
    groups: list[GrafanaRuleGroup] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        name = _relative(path, root)
        data = _load_yaml(path.read_text(encoding="utf-8"), name, problems)
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
            problems.add(name, "a Grafana rule file must be a mapping with a 'groups' list")
            continue
        for group in data["groups"]:
            parsed = _grafana_group(group, path, name, problems)
            if parsed is None:
                continue
            if (parsed.folder, parsed.name) in seen:
                problems.add(f"{name}:{group.line}", f"rule group {parsed.name!r} is already in folder {parsed.folder!r}")
            seen.add((parsed.folder, parsed.name))
            groups.append(parsed)
    return tuple(groups)


def _grafana_group(group: Any, path: Path, name: str, problems: Problems) -> GrafanaRuleGroup | None:
    if not isinstance(group, dict):
        problems.add(name, "a rule group must be a mapping with name, folder, interval and rules")
        return None
    where = f"{name}:{group.line}"
    group_name, folder = group.get("name"), group.get("folder")
    if not isinstance(group_name, str) or not group_name:
        problems.add(where, "a rule group needs a name")
    if not isinstance(folder, str) or not folder:
        problems.add(where, "a Grafana rule group needs a folder")
    try:
        interval_ms = parse_duration(group.get("interval", "1m"))
    except ValueError as error:
        problems.add(where, f"'interval' {error}")
        interval_ms = 60_000
    if interval_ms % 10_000:
        problems.add(where, "'interval' must be a multiple of 10s (Grafana's evaluation tick)")
    rules = group.get("rules")
    if not isinstance(rules, list) or not rules:
        problems.add(where, f"rule group {group_name!r} has no rules")
        return None
    parsed = tuple(r for r in (_grafana_rule(rule, name, problems) for rule in rules) if r)
    names = [r.alert for r in parsed]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        problems.add(where, f"alert {duplicate!r} is defined twice in group {group_name!r}")
    return GrafanaRuleGroup(
        path=path, name=str(group_name), folder=str(folder), interval_seconds=interval_ms // 1000, rules=parsed
    )


def _grafana_rule(rule: Any, name: str, problems: Problems) -> GrafanaRule | None:
    if not isinstance(rule, dict):
        problems.add(name, f"a rule must be a mapping, got {rule!r}")
        return None
    where = f"{name}:{rule.line}"
    for key in sorted(set(rule) - _GRAFANA_RULE_KEYS):
        problems.add(where, f"unknown key {key!r}; known keys: {', '.join(sorted(_GRAFANA_RULE_KEYS))}")
    alert, datasource, expr = rule.get("alert"), rule.get("datasource"), rule.get("expr")
    if not isinstance(alert, str) or not alert:
        problems.add(where, "a Grafana rule needs an 'alert' name")
    if datasource not in DATASOURCE_UIDS.values():
        problems.add(where, f"unknown datasource uid {datasource!r}; provisioned: {', '.join(sorted(DATASOURCE_UIDS.values()))}")
    if not isinstance(expr, str) or not expr.strip():
        problems.add(where, "a Grafana rule needs an 'expr'")
    elif datasource == "prometheus":
        error = promql_error(expr)
        if error:
            problems.add(where, f"invalid PromQL in {alert!r}: {error}")
    condition = _CONDITION.match(str(rule.get("condition", "")))
    if not condition:
        problems.add(where, f"'condition' must look like '> 10' or '< 1', got {rule.get('condition')!r}")
    try:
        for_ = canonical_duration(str(rule.get("for", "0s")))  # as Grafana returns it: no perpetual diff
    except ValueError as error:
        problems.add(where, f"'for' {error}")
        for_ = "0s"
    no_data = rule.get("noDataState", "NoData")
    if no_data not in _NO_DATA_STATES:
        problems.add(where, f"'noDataState' must be one of {', '.join(_NO_DATA_STATES)}, got {no_data!r}")
    labels, annotations = rule.get("labels") or {}, rule.get("annotations") or {}
    if "severity" not in labels:
        problems.add(where, f"alert {alert!r} needs a severity label: the notification policy routes on it")
    if not condition or not isinstance(labels, dict) or not isinstance(annotations, dict):
        return None
    return GrafanaRule(
        alert=str(alert),
        datasource=str(datasource),
        expr=str(expr),
        op=condition.group(1),
        threshold=float(condition.group(2)),
        for_=for_,
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        annotations=tuple(sorted((str(k), str(v)) for k, v in annotations.items())),
        no_data_state=no_data,
    )
