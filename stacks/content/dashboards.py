"""Dashboards: dashboards/<Folder>/*.json loaded, normalised and linted (uids, panels, datasources, PromQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stacks.content._names import ROOT, relative, system_of
from stacks.content.dashboard_lint import RULE_NAMES, lint
from stacks.content.findings import ERROR, WARNING, Finding, LintFile, summarise
from stacks.content.model import LINT_FILE, Dashboard, dashboard_lint_file
from stacks.content.queries import DATASOURCE_NAMES, DATASOURCE_UIDS
from stacks.content.rule_names import TITLE_UNIQUE
from stacks.errors import Problems
from stacks.grafana_names import is_grafana_uid
from stacks.reader import Reader
from stacks.slugs import slug
from stacks.syntax.yaml_io import load_yaml

# What Grafana's dashboard API refuses (docs/content.md, "Dashboards", cites where): these stop preview for every
# dashboard, imported or not. The uid's rule is the one every Grafana uid follows (stacks/grafana_names.py).
_MAX_TITLE = 5000


def load_dashboards(
    directory: Path, problems: Problems, declared: frozenset[str], root: Path = ROOT
) -> tuple[Dashboard, ...]:
    """dashboards/<Folder>/*.json; those of a folder whose system is not in `declared` are imported."""
    dashboards: list[Dashboard] = []
    stray = sorted(p for p in directory.glob("*.json")) if directory.is_dir() else []
    for path in stray:
        problems.add(relative(path, root), "dashboards must be in a folder directory, e.g. dashboards/MindHit/")
    exclusions = {
        folder: lint_exclusions(folder, problems, root, RULE_NAMES, "dashboards", "dashboard")
        for folder in sorted(directory.glob("*/"))
    }
    for path in sorted(directory.glob("*/*.json")):
        name = relative(path, root)
        excluded = frozenset(rule for rule, files in exclusions[path.parent].items() if path.name in files)
        dashboard = _load_dashboard(path, name, problems, excluded, system_of(path.parent.name) in declared)
        if dashboard is not None:
            dashboards.append(dashboard)
    return tuple(dashboards)


def lint_exclusions(
    folder: Path, problems: Problems, root: Path, rule_names: tuple[str, ...], list_key: str, kind: str
) -> dict[str, set[str]]:
    """A folder's .lint file: rule name -> the files of the folder it does not apply to. Each needs a reason;
    a rule or a file that does not exist stops preview."""
    path = folder / LINT_FILE
    if not path.is_file():
        return {}
    name = relative(path, root)
    count = len(problems)
    data = load_yaml(path.read_text(encoding="utf-8"), name, problems)
    if len(problems) > count:
        return {}
    expected = f"a mapping with 'exclusions': {{rule: {{reason, {list_key}: [file]}}}}"
    top = Reader(data, "", problems, ("exclusions",), file=name, expected=expected)
    entries = top.child("exclusions", top.get("exclusions"), rule_names, expected=expected)
    exclusions = {}
    for rule, entry in entries.value.items():
        if rule not in rule_names:
            continue  # reported as an unknown key
        r = entries.child(rule, entry, (list_key, "reason"), expected=f"{{reason, {list_key}: [file]}}")
        reason = r.str("reason", required=True, expected=f"why the rule is off for these {kind} files")
        files = r.list(list_key, required=True, expected=f"the {kind} files of this folder the rule is off for")
        for file in files:
            if not (folder / str(file)).is_file():
                r.add(list_key, f"no {kind} file {file!r} in {relative(folder, root)}")
        if reason and files:
            exclusions[rule] = {str(file) for file in files}
    return exclusions


def check_unique_titles(dashboards: tuple[Dashboard, ...]) -> list[tuple[LintFile, Finding]]:
    """A second dashboard of one title in a folder: a warning, as Grafana 13 takes it (its save path no longer
    checks titles, and the unique index on folder and title was dropped; docs/content.md, "Dashboards", cites
    where), but the two are hard to tell apart in the folder and in search."""
    seen: dict[tuple[str, str], str] = {}
    found = []
    for dashboard in dashboards:
        key = (dashboard.folder, dashboard.title)
        if key in seen and TITLE_UNIQUE not in dashboard.excluded_rules:
            message = f"{dashboard.title!r} is already the title of {seen[key]} in folder {dashboard.folder!r}"
            found.append((dashboard.lint_file, Finding(TITLE_UNIQUE, WARNING, "$.title", message)))
        seen.setdefault(key, dashboard.source)
    return found


def check_unique_uids(dashboards: tuple[Dashboard, ...], problems: Problems, root: Path = ROOT) -> None:
    """A uid names one dashboard in Grafana: a second one, from a file or an SLO spec, is reported where it is."""
    seen: dict[str, str] = {}
    for dashboard in dashboards:
        where = relative(dashboard.path, root)
        if dashboard.uid in seen:
            problems.add(where, f"uid {dashboard.uid!r} is already used by {seen[dashboard.uid]}")
        else:
            seen[dashboard.uid] = where


def _load_dashboard(
    path: Path, name: str, problems: Problems, excluded: frozenset[str], strict: bool
) -> Dashboard | None:
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
    return build_dashboard(model, path, name, folder, system_of(folder), problems, excluded, strict)


def build_dashboard(
    model: dict,
    path: Path,
    name: str,
    folder: str,
    system: str,
    problems: Problems,
    excluded_rules: frozenset[str] = frozenset(),
    strict: bool = True,
) -> Dashboard | None:
    """A dashboard model checked and normalised; `name` says where it comes from in problems. What Grafana's API
    refuses is a problem. Lint errors are problems when `strict` (a declared system's dashboard); lint warnings,
    and every lint finding of an imported dashboard, go with the dashboard for preview to print."""
    # Grafana trims the title and the uid before it checks them (dashboard_service.go, BuildSaveDashboardCommand),
    # and generates a uid when there is none: here the file name's.
    title = model.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.add(f"{name}: $.title", "a dashboard needs a non-empty title")
        return None
    if len(title.strip()) > _MAX_TITLE:
        problems.add(f"{name}: $.title", f"is {len(title.strip())} characters: Grafana takes at most {_MAX_TITLE}")
        return None
    uid = model.get("uid") or slug(path.stem)
    uid = uid.strip() if isinstance(uid, str) else uid
    if not isinstance(uid, str) or not is_grafana_uid(uid):
        problems.add(f"{name}: $.uid", f"must be 1-40 letters, digits, '-' or '_', got {uid!r}")
        return None
    model, input_problems = resolve_inputs(model)
    for where, message in input_problems:
        problems.add(f"{name}: {where}", message)
    findings = lint(model, excluded_rules)
    if not strict:
        findings = [Finding(f.rule, WARNING, f.where, f.message) for f in findings]
    warnings = []
    for severity, line in summarise(findings, dashboard_lint_file(name, path)):
        if severity == ERROR:
            problems.add_line(line)
        else:
            warnings.append(line)
    normalised = {k: v for k, v in model.items() if k not in ("id", "version", "__inputs")}
    normalised["uid"] = uid
    return Dashboard(
        folder=folder,
        path=path,
        uid=uid,
        title=title,
        model=normalised,
        system=system,
        warnings=tuple(warnings),
        source=name,
        excluded_rules=excluded_rules,
        strict=strict,
    )


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
