"""Every dashboard the program sends to Grafana matches Grafana's dashboard schema.

The check is the program's own: lint rule `schema` (stacks/content/dashboard_schema.py), which walks the dashboard
JSON along the models of grafana-foundation-sdk (Apache-2.0, pinned in requirements.txt), so that `pulumi preview`
stops on a wrong structure naming the file and JSON path. Here: the pin is the schema described, every shipped and
SLO dashboard goes through the check and passes it, the accepted fields and known violations are still needed, and
the check finds what it should, through the program's loader.

The stack runs the Grafana that stacks/versions.py pins (IMAGES["grafana"], a 13.x); no SDK release carries a
Grafana 13 schema, so the pin is the newest there is, 0.0.21, whose dashboard kind is Grafana 12's (`SDK_SCHEMAS`
says how that is known, `SCHEMA_BEHIND` why the stack may run one major ahead of it).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from repo import FIXTURES, ROOT

from stacks.content import dashboard_schema as schema
from stacks.content import load_content
from stacks.content.dashboard_schema import (
    ACCEPTED_UNKNOWN_FIELDS,
    KNOWN_VIOLATIONS,
    NOT_SENT,
    PANEL_PLUGINS,
    QUERY_PLUGINS,
    JSONEncoder,
    cogruntime,
    fields,
    panel_plugin,
    query_shape,
    schema_findings,
    schema_problems,
    sdk,
)
from stacks.errors import InputError
from stacks.versions import IMAGES

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


# ---------------------------------------------------------------- the shipped dashboards

SHIPPED = load_content().dashboards


def _installed_sdk() -> str:
    """The installed release, as pip names it: the wheel's metadata writes 0.0.21 as "v0.0.21"."""
    return importlib.metadata.version("grafana-foundation-sdk").removeprefix("v")


def _pins(requirements: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / requirements).read_text(), re.M))


def test_the_schema_is_the_pinned_sdk_release():
    """The program imports the SDK, so requirements.txt pins it (and requirements-dev.txt, which includes it, not
    a second time)."""
    assert _installed_sdk() == _pins("requirements.txt")["grafana-foundation-sdk"]
    assert "grafana-foundation-sdk" not in _pins("requirements-dev.txt")


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


def test_the_plugin_tables_are_the_sdks_registry():
    """The program imports a plugin's models when a dashboard names its type, by its own tables: they must name
    every plugin register_default_plugins() registers, each in its module, and every query decoder must give models."""
    from grafana_foundation_sdk.cog.plugins import register_default_plugins

    register_default_plugins()
    registry = cogruntime.Runtime()
    assert set(PANEL_PLUGINS) == set(registry.panelcfg_variants)
    assert set(QUERY_PLUGINS) == set(registry.dataquery_variants)
    assert all(panel_plugin(kind).identifier == kind for kind in PANEL_PLUGINS)
    assert all(query_shape(kind) is not None for kind in QUERY_PLUGINS)


def test_every_dashboard_file_and_slo_dashboard_is_checked_by_the_program(monkeypatch):
    """Loading the content walks every dashboard file and every dashboard an SLO spec generates, once each."""
    walked = []

    def recording(model):
        walked.append(model.get("title"))
        return schema_problems(model)

    monkeypatch.setattr(schema, "schema_problems", recording)
    content = load_content()
    assert Counter(walked) == Counter(d.title for d in content.dashboards)
    checked = {d.path for d in content.dashboards}
    assert set(ROOT.glob("dashboards/*/*.json")) <= checked
    assert any(path.parent == ROOT / "rules" / "slos" for path in checked)


@pytest.mark.parametrize("dashboard", SHIPPED, ids=[d.uid for d in SHIPPED])
def test_shipped_dashboard_matches_the_schema(dashboard):
    """With no .lint exclusion: the known violations below are the only departures let through."""
    assert "schema" not in dashboard.excluded_rules
    assert list(schema_findings(dashboard.model)) == []


def test_known_violations_are_still_there():
    """An entry whose dashboard was fixed is removed, so that the same mistake cannot come back unseen."""
    found = {(d.uid, path) for d in SHIPPED for path, _ in schema_problems(d.model)}
    assert set(KNOWN_VIOLATIONS) - found == set()


def _in_the_schema(accepted) -> set[tuple[str, str]]:
    """The accepted (SDK model, JSON field) pairs whose model has the field by now."""

    def model(name: str) -> type:
        module, cls = name.split(".")
        return getattr(importlib.import_module(f"grafana_foundation_sdk.models.{module}"), cls)

    return {(name, field) for name, field in accepted if field in fields(model(name))}


def test_accepted_fields_are_still_missing_from_the_schema():
    """An acceptance the schema made unneeded is removed, so that the field is checked by its type again."""
    assert _in_the_schema(ACCEPTED_UNKNOWN_FIELDS) == set()
    # The check itself: of the 10.1 schema's acceptances, the one this schema has is found, a misplaced one not.
    assert _in_the_schema([("dashboard.AnnotationQuery", "builtIn"), ("dashboard.Panel", "builtIn")]) == {
        ("dashboard.AnnotationQuery", "builtIn")
    }


# ---------------------------------------------------------------- the check finds what it should


def _write(tmp_path: Path, model: dict, name: str = "broken.json", excluded: tuple[str, ...] = ()) -> Path:
    """A dashboard file of a declared system, team, whose lint errors stop preview (an imported one's are warnings).
    Its folder's .lint turns off job-ownership (schema cases, whose queries read no job of the system) and the
    `excluded` rules, for every file in it."""
    for directory in ("systems", "rules"):
        (tmp_path / directory).mkdir(parents=True, exist_ok=True)
    (tmp_path / "systems/team.yml").write_text("jobs:\n  team-api: a test system\n")
    (tmp_path / "rules/team.yml").write_text(
        "groups:\n  - name: team-targets\n    rules:\n"
        "      - {alert: TeamDown, expr: 'up{job=\"team-api\"} == 0', labels: {severity: critical}}\n"
        "      - {alert: TeamMissing, expr: 'absent(up{job=\"team-api\"})', labels: {severity: warning}}\n"
    )
    folder = tmp_path / "dashboards" / "Team"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(model), encoding="utf-8")
    files = sorted(p.name for p in folder.glob("*.json"))
    exclusions = {rule: {"reason": "schema cases", "dashboards": files} for rule in ("job-ownership", *excluded)}
    (folder / ".lint").write_text(json.dumps({"exclusions": exclusions}), encoding="utf-8")
    return folder / name


def _preview_problems(tmp_path: Path, model: dict, name: str = "broken.json") -> list[str]:
    """What the program's loader stops on (as preview would) for a dashboard file someone adds."""
    _write(tmp_path, model, name)
    try:
        load_content(tmp_path)
    except InputError as error:
        return error.problems
    return []


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
def test_a_broken_dashboard_stops_preview_by_name_and_path(tmp_path, changes, expected):
    model = {"title": "Team overview", "uid": "team-overview", "schemaVersion": 39, **changes}
    problems = _preview_problems(tmp_path, model)
    assert len(problems) == 1 and problems[0].startswith("dashboards/Team/broken.json: [schema] " + expected), problems


def test_a_correct_dashboard_passes(tmp_path):
    assert _preview_problems(tmp_path, {"title": "Team overview", "uid": "team-overview", "panels": [_panel()]}) == []


def test_what_the_program_does_not_send_is_not_checked(tmp_path):
    """id, version and __inputs are dropped by the loader (stacks/content/dashboards.py), so their types do not
    matter; NOT_SENT must name exactly what it drops."""
    model = {"title": "Team overview", "uid": "team-overview", "id": "x", "version": "y", "__inputs": {}}
    assert _preview_problems(tmp_path, model) == []
    (dashboard,) = load_content(tmp_path).dashboards
    assert set(model) - set(dashboard.model) == set(NOT_SENT)


def test_a_known_violation_is_excused_for_its_own_dashboard_only(tmp_path):
    """A copy of the dashboard under another uid is checked in full."""
    model = json.loads((ROOT / "dashboards/K-ERP/business-metrics.json").read_text())
    ((_, path),) = [key for key in KNOWN_VIOLATIONS if key[0] == model["uid"]]
    assert _preview_problems(tmp_path, {**model, "uid": "team-copy"}) == [
        f'dashboards/Team/broken.json: [schema] {path}: expected an array, got a string "" (to turn the rule off for '
        'this file: dashboards/Team/.lint: exclusions: {schema: {reason: "<why>", dashboards: [broken.json]}})'
    ]


GRAFANA = {"datasource": {"type": "grafana", "uid": "-- Grafana --"}}
EXPRESSION = {"datasource": {"type": "__expr__", "uid": "__expr__"}}


def test_expression_queries_are_checked_by_the_model_their_type_chooses():
    """Server-side expressions: the SDK decodes each by its `type` (math, reduce, ...), and so does the walk."""
    targets = [
        {"refId": "A", "expr": "up"},
        {"refId": "B", "type": "reduce", "expression": "A", "reducer": "mean", **EXPRESSION},
        {"refId": "C", "type": "math", "expression": 5, **EXPRESSION},
    ]
    assert schema_problems({"title": "Expressions", "panels": [_panel(targets=targets)]}) == [
        ("$.panels[0].targets[2].expression", "expected a string, got an integer 5")
    ]


def test_accepted_fields_are_accepted_only_where_they_belong(tmp_path, monkeypatch):
    """A field accepted in an annotation query is not accepted as a panel field."""
    monkeypatch.setitem(ACCEPTED_UNKNOWN_FIELDS, ("dashboard.AnnotationQuery", "sortOrder"), "for this test")
    model = {
        "title": "Team overview",
        "uid": "team-overview",
        "annotations": {
            "list": [{"builtIn": 1, "name": "Annotations", "iconColor": "blue", "sortOrder": 1, **GRAFANA}]
        },
        "panels": [_panel(sortOrder=1)],
    }
    assert _preview_problems(tmp_path, model) == [
        "dashboards/Team/broken.json: [schema] $.panels[0].sortOrder: not a field of dashboard.Panel (to turn the rule "
        'off for this file: dashboards/Team/.lint: exclusions: {schema: {reason: "<why>", dashboards: [broken.json]}})'
    ]


def test_real_world_exports_as_the_program_sends_them(tmp_path):
    """The test fixtures, as people export them: what the schema says of what the program sends for them. Those
    it finds fault with stop preview, unless their folder's .lint turns the rule off for them."""
    expected = {
        # Datasources by name: Grafana resolves them, the schema wants a {type, uid} reference.
        "datasource-by-name.json": ["$.panels[0].datasource", "$.panels[1].datasource"],
        "datasource-variable.json": [],
        # The loader drops __inputs but keeps __requires, which is no dashboard field.
        "exported-with-inputs.json": ["$.__requires"],
        # Pre-5.0 rows (with graph and singlestat panels inside): Grafana migrates them on load.
        "old-schema-rows.json": ["$.rows"],
    }
    excluded, checked = tmp_path / "excluded", tmp_path / "checked"
    for fixture in (FIXTURES / "dashboards").glob("*.json"):
        _write(excluded, json.loads(fixture.read_text()), fixture.name, excluded=("schema",))
        _write(checked, json.loads(fixture.read_text()), fixture.name)
    dashboards = load_content(excluded).dashboards
    assert {d.path.name: [path for path, _ in schema_problems(d.model)] for d in dashboards} == expected
    with pytest.raises(InputError) as raised:
        load_content(checked)
    stopped = {problem.split(": ")[0] for problem in raised.value.problems}
    assert stopped == {f"dashboards/Team/{name}" for name, paths in expected.items() if paths}


def test_sdk_from_json_alone_accepts_wrong_types():
    """Why the program walks the JSON itself: the SDK's decoder checks neither types nor panel types (if this fails,
    use it instead)."""
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
