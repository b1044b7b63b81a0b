"""Every dashboard the program sends to Grafana matches Grafana's dashboard schema.

The schema comes from grafana-foundation-sdk (Apache-2.0, pinned in requirements-dev.txt): its Python
models are generated from Grafana's dashboard kind and panel/query plugin schemas. The stack runs the
Grafana that stacks/versions.py pins (IMAGES["grafana"], a 13.x); no SDK release carries a Grafana 13
schema, so the pin is the newest there is, 0.0.21, whose dashboard kind is Grafana 12's (`SDK_SCHEMAS` says
how that is known, `SCHEMA_BEHIND` why the stack may run one major ahead of it). The checked JSON is the classic
dashboard model (`models.dashboard`), which the program sends through the provider's `config_json`; the
SDK's dashboardv2 models are the other, Kubernetes-style API's. The SDK itself does
not validate: `Dashboard.from_json` copies whatever it is given (see
test_sdk_from_json_alone_accepts_wrong_types) and the wheel ships no JSON Schema. So `schema_problems`
below walks the dashboard JSON along the SDK's models: field names as the models' `to_json` writes
them, field types from their annotations (str, int, enums, literals, lists, nested models), panel
options and field config by the panel plugin's model, queries by the datasource plugin's model, both
found in the SDK's plugin registry. It reports wrong types, values outside an enum or literal, fields
no model has, unknown panel types and panels without a type. The SDK's models cannot say which fields
are required (every one has a default), so a panel's `type` is the only field checked for presence.
"""

from __future__ import annotations

import enum
import functools
import importlib
import importlib.metadata
import json
import re
import types
import typing
import warnings
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # The SDK deprecates the classic dashboard model for dashboardv2 at import. Classic JSON is what the program
    # sends (see above), so the classic model stays the schema here.
    warnings.filterwarnings("ignore", "Prefer using dashboardv2.Dashboard instead", DeprecationWarning)
    from grafana_foundation_sdk.cog import runtime as cogruntime
    from grafana_foundation_sdk.cog import variants as cogvariants
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models import dashboard as sdk

from stacks.content import Dashboard, load_content
from stacks.versions import IMAGES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures/dashboards"

register_default_plugins()
_REGISTRY = cogruntime.Runtime()

NOT_A_FIELD = "not a field of "

# The Grafana major whose dashboard schema each SDK release carries, and the schemaVersion its Dashboard model
# defaults to (the check that the installed models are the ones described). 0.0.21 names no Grafana: it has no
# version constant and its README and package metadata say nothing. Its models do: Dashboard.schemaVersion
# defaults to 42 where the builds for Grafana 10.1-11.6 and the "next" builds of 2025-26 say 41, and upstream
# generates the kind from grafana v12.3.3's kinds/dashboard/dashboard_kind.cue
# (.cog/resources/dashboard/config.yaml of github.com/grafana/grafana-foundation-sdk). Most panel schemas
# (table, bar gauge, stat, gauge, time series) are byte for byte those of its Grafana 11.6 build.
SDK_SCHEMAS = {"0.0.21": (12, 42)}

# Grafana majors the stack runs ahead of the pinned schema: major -> why no nearer schema is pinned.
SCHEMA_BEHIND = {
    13: "no grafana-foundation-sdk release carries Grafana 13's schema: 0.0.21 (Grafana 12's) is the newest",
}

# Fields the schema does not have but Grafana writes and reads: (SDK model, JSON field) -> why accepted. The 10.1
# schema needed four (AnnotationQuery.builtIn, VariableModel.definition, bar gauge namePlacement and sizing);
# Grafana 12's has them all.
ACCEPTED_UNKNOWN_FIELDS: dict[tuple[str, str], str] = {}

# Schema violations in shipped dashboards, left as they are: (uid, JSON path) -> why.
KNOWN_VIOLATIONS = {
    ("kerp-business", "$.panels[14].options.footer.fields"): (
        'Grafana\'s table editor writes "fields": "" when no footer field is chosen; the table schema says string[]'
    ),
    ("mindhit-api-overview", "$.style"): (
        'an old export\'s "style": "dark": that dashboard theme field is in the 10.1 schema, in none from 11.6 on'
    ),
}


# ---------------------------------------------------------------- the check


class _Field:
    def __init__(self, attribute: str) -> None:
        self.attribute = attribute


@functools.cache
def _json_fields(model: type) -> dict[str, tuple[str, Any]]:
    """JSON field -> (attribute, annotation) of an SDK model, as its own to_json names the fields."""
    hints = typing.get_type_hints(model)
    probe = model.__new__(model)
    for attribute in hints:
        setattr(probe, attribute, _Field(attribute))
    return {key: (field.attribute, hints[field.attribute]) for key, field in probe.to_json().items()}


def _is_model(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and annotation.__module__.startswith("grafana_foundation_sdk.models.")
        and callable(getattr(annotation, "to_json", None))
        and not issubclass(annotation, enum.Enum)
    )


def _by_type(models: list[type], kind: Any) -> list[type]:
    """The models a JSON object of this `type` decodes to, as the SDK's decoding maps choose (row -> RowPanel)."""

    def literal(model: type) -> tuple | None:
        annotation = _json_fields(model).get("type", (None, None))[1]
        return typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else None

    named = [m for m in models if literal(m) is not None and kind in literal(m)]
    return named or [m for m in models if literal(m) is None] or models


def _model_name(model: type) -> str:
    return f"{model.__module__.rsplit('.', 1)[-1]}.{model.__name__}"


def _expected(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " or ".join(json.dumps(a) for a in typing.get_args(annotation))
    if origin is list:
        return "an array"
    if origin is dict:
        return "an object"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return f"one of {[m.value for m in annotation]} ({annotation.__name__})"
    if _is_model(annotation):
        return f"an object ({_model_name(annotation)})"
    names = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}
    return names.get(annotation, repr(annotation))


def _got(value: Any) -> str:
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    kinds |= {list: "an array", dict: "an object"}
    shown = json.dumps(value) if isinstance(value, (str, int, float)) else ""
    return kinds.get(type(value), "null") + (f" {shown}" if shown and len(shown) <= 40 else "")


class _Walk:
    """Problems of one JSON value against an SDK annotation, as (JSON path, message)."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def value(self, value: Any, annotation: Any, path: str, panel_type: Any = None, datasource_type: Any = None):
        """`panel_type` and `datasource_type`: of the panel around, which choose its options' and queries' models."""
        origin = typing.get_origin(annotation)
        if annotation is Any or annotation is object:
            return
        if origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if value is None and len(options) < len(typing.get_args(annotation)):
                return
            if isinstance(value, dict) and all(map(_is_model, options)):
                options = _by_type(options, value.get("type"))
            trials = []
            for option in options:
                trial = _Walk()
                trial.value(value, option, path, panel_type, datasource_type)
                if not trial.problems:
                    return
                trials.append(trial.problems)
            if len(trials) > 1 and all(t == [(path, t[0][1])] for t in trials):
                self.problems.append((path, f"expected {' or '.join(map(_expected, options))}, got {_got(value)}"))
            else:
                self.problems += min(trials, key=len)
        elif origin is typing.Literal:
            if not any(type(value) is type(a) and value == a for a in typing.get_args(annotation)):
                self.problems.append((path, f"expected {_expected(annotation)}, got {_got(value)}"))
        elif origin in (list, dict):
            if not isinstance(value, origin):
                self.problems.append((path, f"expected {_expected(annotation)}, got {_got(value)}"))
                return
            item = typing.get_args(annotation)[-1]
            for key, each in enumerate(value) if origin is list else value.items():
                where = f"{path}[{key}]" if origin is list else f"{path}.{key}"
                self.value(each, item, where, panel_type, datasource_type)
        elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            if not any(type(value) is type(m.value) and value == m.value for m in annotation):
                self.problems.append((path, f"expected {_expected(annotation)}, got {_got(value)}"))
        elif annotation is cogvariants.Dataquery:
            self.query(value, path, datasource_type)
        elif _is_model(annotation):
            self.model(value, annotation, path, panel_type, datasource_type)
        elif annotation in (str, int, float, bool):
            numbers = (int, float) if annotation is float else (annotation,)
            if not isinstance(value, numbers) or (isinstance(value, bool) and annotation is not bool):
                self.problems.append((path, f"expected {_expected(annotation)}, got {_got(value)}"))
        else:
            raise TypeError(f"{path}: no rule for the SDK annotation {annotation!r}")

    def query(self, value: Any, path: str, panel_datasource_type: Any) -> None:
        """A query by its datasource's model, chosen as the SDK's runtime does; unknown datasources: any object."""
        if not isinstance(value, dict):
            self.problems.append((path, f"expected an object (a query), got {_got(value)}"))
            return
        datasource = value.get("datasource")
        kind = datasource.get("type") if isinstance(datasource, dict) else None
        kind = kind or panel_datasource_type
        variant = _REGISTRY.dataquery_variants.get(kind) if isinstance(kind, str) else None
        if variant is not None:
            self.model(value, variant.from_json_hook.__self__, path, None, None)

    def model(self, value: Any, model: type, path: str, panel_type: Any, datasource_type: Any) -> None:
        if not isinstance(value, dict):
            self.problems.append((path, f"expected {_expected(model)}, got {_got(value)}"))
            return
        if model in (sdk.Panel, sdk.RowPanel):
            panel_type = value.get("type")
            datasource = value.get("datasource")
            datasource_type = datasource.get("type") if isinstance(datasource, dict) else None
            if "type" not in value:
                self.problems.append((f"{path}.type", "missing: every panel needs a type"))
            elif model is sdk.Panel and _REGISTRY.panelcfg_config(panel_type) is None:
                known = ", ".join(sorted(["row", *_REGISTRY.panelcfg_variants]))
                self.problems.append((f"{path}.type", f"unknown panel type {panel_type!r}; the schema knows {known}"))
        plugin = _REGISTRY.panelcfg_config(panel_type) if isinstance(panel_type, str) else None
        fields = _json_fields(model)
        for key, each in value.items():
            if key not in fields:
                self.problems.append((f"{path}.{key}", f"{NOT_A_FIELD}{_model_name(model)}"))
                continue
            annotation = fields[key][1]
            # `options` and `fieldConfig.defaults.custom` are `object` in the panel model: the plugin's model says.
            if model is sdk.Panel and key == "options" and plugin and plugin.options_from_json_hook:
                annotation = plugin.options_from_json_hook.__self__
            if model is sdk.FieldConfig and key == "custom" and plugin and plugin.field_config_from_json_hook:
                annotation = plugin.field_config_from_json_hook.__self__
            self.value(each, annotation, f"{path}.{key}", panel_type, datasource_type)


def schema_problems(config_json: str) -> list[tuple[str, str]]:
    """(JSON path, message) for each place a dashboard's JSON departs from the SDK's dashboard schema."""
    model = json.loads(config_json)
    walk = _Walk()
    walk.value(model, sdk.Dashboard, "$")
    if not walk.problems:  # what passes the walk, the SDK's own decoder and encoder must take too
        try:
            json.dumps(sdk.Dashboard.from_json(model), cls=JSONEncoder)
        except Exception as error:  # noqa: BLE001 - any failure of the SDK is the finding
            walk.problems.append(("$", f"the SDK cannot decode it: {type(error).__name__}: {error}"))
    return walk.problems


def report(dashboards: tuple[Dashboard, ...], root: Path = ROOT) -> list[str]:
    """One line per schema problem, naming the dashboard, less the accepted fields and known violations."""
    lines = []
    for dashboard in dashboards:
        for path, message in schema_problems(dashboard.config_json):
            field = (message.removeprefix(NOT_A_FIELD), path.rsplit(".", 1)[-1])
            accepted = message.startswith(NOT_A_FIELD) and field in ACCEPTED_UNKNOWN_FIELDS
            if accepted or (dashboard.uid, path) in KNOWN_VIOLATIONS:
                continue
            where = f"{dashboard.path.relative_to(root)} (uid {dashboard.uid!r}, {dashboard.title!r})"
            lines.append(f"{where}: {path}: {message}")
    return lines


# ---------------------------------------------------------------- the shipped dashboards

SHIPPED = load_content().dashboards


def _installed_sdk() -> str:
    """The installed release, as pip names it: the wheel's metadata writes 0.0.21 as "v0.0.21"."""
    return importlib.metadata.version("grafana-foundation-sdk").removeprefix("v")


def test_the_schema_is_the_pinned_sdk_release():
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements-dev.txt").read_text(), re.M))
    assert _installed_sdk() == pins["grafana-foundation-sdk"]


def test_the_schema_is_nearest_the_grafana_the_stack_runs():
    """The schema is of the major of IMAGES["grafana"], or one major behind it for a reason SCHEMA_BEHIND states.

    A new SDK release must be described in SDK_SCHEMAS; an entry of SCHEMA_BEHIND goes once a schema of that
    major is pinned, or once the stack no longer runs it.
    """
    schema_major, schema_version = SDK_SCHEMAS[_installed_sdk()]
    assert sdk.Dashboard().schema_version == schema_version
    running = int(IMAGES["grafana"].rsplit(":", 1)[1].split(".")[0])
    assert running - schema_major in (0, 1)
    assert set(SCHEMA_BEHIND) == ({running} if running != schema_major else set())


def test_every_dashboard_file_and_slo_dashboard_is_checked():
    checked = {d.path for d in SHIPPED}
    assert set(ROOT.glob("dashboards/*/*.json")) <= checked
    assert any(path.parent == ROOT / "rules" / "slos" for path in checked)


@pytest.mark.parametrize("dashboard", SHIPPED, ids=[d.uid for d in SHIPPED])
def test_shipped_dashboard_matches_the_schema(dashboard):
    assert report((dashboard,)) == []


def test_known_violations_are_still_there():
    """An entry whose dashboard was fixed is removed, so that the same mistake cannot come back unseen."""
    found = {(d.uid, path) for d in SHIPPED for path, _ in schema_problems(d.config_json)}
    assert set(KNOWN_VIOLATIONS) - found == set()


def _in_the_schema(accepted) -> set[tuple[str, str]]:
    """The accepted (SDK model, JSON field) pairs whose model has the field by now."""

    def model(name: str) -> type:
        module, cls = name.split(".")
        return getattr(importlib.import_module(f"grafana_foundation_sdk.models.{module}"), cls)

    return {(name, field) for name, field in accepted if field in _json_fields(model(name))}


def test_accepted_fields_are_still_missing_from_the_schema():
    """An acceptance the schema made unneeded is removed, so that the field is checked by its type again."""
    assert _in_the_schema(ACCEPTED_UNKNOWN_FIELDS) == set()
    # The check itself: of the 10.1 schema's acceptances, the one this schema has is found, a misplaced one not.
    assert _in_the_schema([("dashboard.AnnotationQuery", "builtIn"), ("dashboard.Panel", "builtIn")]) == {
        ("dashboard.AnnotationQuery", "builtIn")
    }


# ---------------------------------------------------------------- the check finds what it should


def _deploy(tmp_path: Path, model: dict, name: str = "broken.json") -> tuple[Dashboard, ...]:
    """A dashboard file as someone would add it, loaded by the program's own loader."""
    folder = tmp_path / "dashboards" / "Team"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(model), encoding="utf-8")
    # Schema cases, not a system with scrape jobs of its own (README, "Systems").
    exclusion = {
        "job-ownership": {"reason": "schema cases", "dashboards": sorted(p.name for p in folder.glob("*.json"))}
    }
    (folder / ".lint").write_text(json.dumps({"exclusions": exclusion}), encoding="utf-8")
    return load_content(tmp_path).dashboards


def _panel(**changes) -> dict:
    panel = {
        "type": "timeseries",
        "title": "Requests",
        "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "targets": [{"expr": "sum(rate(http_requests_total[5m]))", "refId": "A"}],
    }
    panel.update(changes)
    return {k: v for k, v in panel.items() if v is not None}


THRESHOLDS_80_AS_TEXT = {
    "mode": "absolute",
    "steps": [{"color": "green", "value": None}, {"color": "red", "value": "80"}],
}
ROW_WITH_AN_OBJECT_OF_PANELS = {"type": "row", "title": "Row", "id": 1, "collapsed": True, "panels": {"a": 1}}

BROKEN = {
    "panels not a list": ({"panels": "x"}, '$.panels: expected an array, got a string "x"'),
    "gridPos.w a string": (
        {"panels": [_panel(gridPos={"h": 8, "w": "12", "x": 0, "y": 0})]},
        '$.panels[0].gridPos.w: expected an integer, got a string "12"',
    ),
    "panel without type": ({"panels": [_panel(type=None)]}, "$.panels[0].type: missing: every panel needs a type"),
    "unknown panel type": ({"panels": [_panel(type="graphh")]}, "$.panels[0].type: unknown panel type 'graphh'"),
    "title a number": ({"panels": [_panel(title=42)]}, "$.panels[0].title: expected a string, got an integer 42"),
    "refresh true": ({"refresh": True}, "$.refresh: expected a string, got a boolean true"),
    "graphTooltip out of range": (
        {"graphTooltip": 3},
        "$.graphTooltip: expected one of [0, 1, 2] (DashboardCursorSync), got an integer 3",
    ),
    "query field of the wrong type": (
        {"panels": [_panel(targets=[{"expr": "up", "refId": "A", "instant": "yes"}])]},
        '$.panels[0].targets[0].instant: expected a boolean, got a string "yes"',
    ),
    "panel option outside its enum": (
        {"panels": [_panel(options={"legend": {"displayMode": "sideways", "placement": "bottom"}})]},
        "$.panels[0].options.legend.displayMode: expected one of ['list', 'table', 'hidden'] (LegendDisplayMode)",
    ),
    "custom field config of the wrong type": (
        {"panels": [_panel(fieldConfig={"defaults": {"custom": {"lineWidth": "2"}}, "overrides": []})]},
        '$.panels[0].fieldConfig.defaults.custom.lineWidth: expected a number, got a string "2"',
    ),
    "threshold value a string": (
        {"panels": [_panel(fieldConfig={"defaults": {"thresholds": THRESHOLDS_80_AS_TEXT}, "overrides": []})]},
        '$.panels[0].fieldConfig.defaults.thresholds.steps[1].value: expected a number, got a string "80"',
    ),
    "row panels not a list": (
        {"panels": [ROW_WITH_AN_OBJECT_OF_PANELS]},
        "$.panels[0].panels: expected an array, got an object",
    ),
    "old-schema rows": ({"rows": [{"panels": []}]}, "$.rows: not a field of dashboard.Dashboard"),
}


@pytest.mark.parametrize("changes, expected", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_dashboard_is_reported_by_name_and_path(tmp_path, changes, expected):
    (dashboard,) = _deploy(tmp_path, {"title": "Team overview", "uid": "team-overview", "schemaVersion": 39, **changes})
    lines = report((dashboard,), tmp_path)
    where = "dashboards/Team/broken.json (uid 'team-overview', 'Team overview'): "
    assert len(lines) == 1 and lines[0].startswith(where + expected), lines


def test_a_correct_dashboard_passes(tmp_path):
    (dashboard,) = _deploy(tmp_path, {"title": "Team overview", "uid": "team-overview", "panels": [_panel()]})
    assert report((dashboard,), tmp_path) == []


GRAFANA = {"datasource": {"type": "grafana", "uid": "-- Grafana --"}}


def test_accepted_fields_are_accepted_only_where_they_belong(tmp_path, monkeypatch):
    """A field accepted in an annotation query is not accepted as a panel field (none is accepted today: one is set)."""
    monkeypatch.setitem(ACCEPTED_UNKNOWN_FIELDS, ("dashboard.AnnotationQuery", "sortOrder"), "for this test")
    (dashboard,) = _deploy(
        tmp_path,
        {
            "title": "Team overview",
            "uid": "team-overview",
            "annotations": {
                "list": [{"builtIn": 1, "name": "Annotations", "iconColor": "blue", "sortOrder": 1, **GRAFANA}]
            },
            "panels": [_panel(sortOrder=1)],
        },
    )
    assert report((dashboard,), tmp_path) == [
        "dashboards/Team/broken.json (uid 'team-overview', 'Team overview'): "
        "$.panels[0].sortOrder: not a field of dashboard.Panel"
    ]


def test_real_world_exports_as_the_program_sends_them(tmp_path):
    """The test fixtures, as people export them: what the schema says of what the program sends for them."""
    for fixture in FIXTURES.glob("*.json"):
        _deploy(tmp_path, json.loads(fixture.read_text()), fixture.name)
    dashboards = load_content(tmp_path).dashboards
    assert {d.path.name: [path for path, _ in schema_problems(d.config_json)] for d in dashboards} == {
        # Datasources by name: Grafana resolves them, the schema wants a {type, uid} reference.
        "datasource-by-name.json": ["$.panels[0].datasource", "$.panels[1].datasource"],
        "datasource-variable.json": [],
        # The loader drops __inputs but keeps __requires, which is no dashboard field.
        "exported-with-inputs.json": ["$.__requires"],
        # Pre-5.0 rows (with graph and singlestat panels inside): Grafana migrates them on load.
        "old-schema-rows.json": ["$.rows"],
    }


def test_sdk_from_json_alone_accepts_wrong_types():
    """Why the walk above: the SDK's decoder checks neither types nor panel types (if this fails, use it instead)."""
    broken = {
        "title": 42,
        "graphTooltip": 7,
        "panels": [{"type": "no-such-panel", "gridPos": {"h": 8, "w": "12", "x": 0, "y": 0}}],
    }
    decoded = json.loads(json.dumps(sdk.Dashboard.from_json(broken), cls=JSONEncoder))
    panel = decoded["panels"][0]
    assert (decoded["title"], decoded["graphTooltip"], panel["type"], panel["gridPos"]["w"]) == (
        42,
        7,
        "no-such-panel",
        "12",
    )
