"""An existing Grafana keeps what it had: the stack's objects under their own names (grafana.namePrefix),
inhibition only where Grafana applies it (grafana.version, grafana.alertingMultiplePolicies), and an application
token that edits the stack's folders only. Read from what the program registers under mocks; the user's Grafana
is the objects kube-prometheus-stack's Grafana and a team's own alerting hold (issue 23's clash cases).
"""

from __future__ import annotations

import json
import logging

import pytest
from mockstack import unwrap
from variants import DASHBOARD, DATASOURCE, FOLDER, INHIBITION_RULE, POLICY, existing_grafana, run

from stacks.content import ROOT
from stacks.grafana_names import GrafanaNames, uid_problems

CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
SERVICE_ACCOUNT = "grafana:oss/serviceAccount:ServiceAccount"
FOLDER_PERMISSION = "grafana:oss/folderPermissionItem:FolderPermissionItem"
TEMPLATE = "grafana:alerting/messageTemplate:MessageTemplate"
PREFIX = "team-a"
INHIBITING = {"version": "13.2.0", "alertingMultiplePolicies": True}


def registered(program, kind: str) -> list[dict]:
    return [unwrap(r.inputs) for r in program.recorder.by_type(kind)]


# What a user's Grafana holds already, by the object kind and the field that must be unique in an org. The
# datasources are kube-prometheus-stack's Grafana's; the rest carry the names a same-shaped config would give.
USERS_GRAFANA = {
    (DATASOURCE, "name"): {"Prometheus", "Alertmanager", "Loki"},
    (DATASOURCE, "uid"): {"prometheus", "alertmanager", "loki"},
    (FOLDER, "uid"): {"platform", "mindhit"},
    (SERVICE_ACCOUNT, "name"): {"applications"},
    (CONTACT_POINT, "name"): {"default", "critical"},
    (RULE_GROUP, "name"): {"platform-logs"},
    (TEMPLATE, "name"): {"slack"},
}


@pytest.mark.parametrize(("kind", "field"), sorted(USERS_GRAFANA))
def test_a_prefix_keeps_every_object_of_the_users_grafana_out_of_the_stacks_reach(kind, field):
    """Each is a 409 on the first up, or (contact points, templates: matched by name) a takeover of the user's."""
    theirs = USERS_GRAFANA[(kind, field)]
    unscoped = {item[field] for item in registered(existing_grafana(), kind)}
    assert unscoped & theirs, "the case must clash without a prefix"
    scoped = {item[field] for item in registered(existing_grafana(namePrefix=PREFIX), kind)}
    assert scoped and not scoped & theirs
    assert all(name.startswith(f"{PREFIX}-") for name in scoped)


def test_a_prefix_scopes_the_inhibition_rules_the_stack_owns():
    unscoped = [
        r["metadata"]["uid"]
        for r in registered(existing_grafana(**INHIBITING, ownNotificationPolicy=True), INHIBITION_RULE)
    ]
    scoped = registered(existing_grafana(**INHIBITING, ownNotificationPolicy=True, namePrefix=PREFIX), INHIBITION_RULE)
    assert unscoped == ["inhibit-0"]
    assert [r["metadata"]["uid"] for r in scoped] == ["team-a-inhibit-0"]


def test_the_scoped_policy_and_rules_reach_the_scoped_contact_points_folders_and_datasources():
    program = existing_grafana(namePrefix=PREFIX, ownNotificationPolicy=True)
    contact_points = {c["name"] for c in registered(program, CONTACT_POINT)}
    (policy,) = registered(program, POLICY)

    def receivers(node: dict):
        yield node["contactPoint"]
        for child in node.get("policies") or []:
            yield from receivers(child)

    assert set(receivers(policy)) <= contact_points
    folders = {f["uid"] for f in registered(program, FOLDER)}
    datasources = {d["uid"] for d in registered(program, DATASOURCE)}
    groups = registered(program, RULE_GROUP)
    assert groups and {g["folderUid"] for g in groups} <= folders
    queried = {d["datasourceUid"] for g in groups for rule in g["rules"] for d in rule["datas"]}
    assert queried == {"team-a-loki", "__expr__"} and "team-a-loki" in datasources


def test_every_dashboard_reads_the_stacks_scoped_datasources_and_no_other():
    program = existing_grafana(namePrefix=PREFIX)
    models = [json.loads(d["configJson"]) for d in registered(program, DASHBOARD)]
    assert models and all(m["uid"].startswith("team-a-") for m in models)
    refs = set()

    def collect(value):
        if isinstance(value, dict):
            ref = value.get("datasource")
            if isinstance(ref, dict) and ref.get("type") != "grafana":
                refs.add(ref.get("uid"))
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for model in models:
        collect(model)
    assert refs == {"team-a-prometheus", "team-a-loki"}


def test_without_a_prefix_the_names_are_todays():
    """The stack's own Grafana sees no change: the same uids, names and dashboard JSON as the files."""
    program = run()
    assert {d["uid"] for d in registered(program, DATASOURCE)} == {"prometheus", "alertmanager", "loki"}
    assert {d["name"] for d in registered(program, DATASOURCE)} == {"Prometheus", "Alertmanager", "Loki"}
    assert {a["name"] for a in registered(program, SERVICE_ACCOUNT)} == {"applications"}
    files = {path.name: json.loads(path.read_text()) for path in ROOT.glob("dashboards/*/*.json")}
    sent = {json.loads(d["configJson"])["uid"]: json.loads(d["configJson"]) for d in registered(program, DASHBOARD)}
    health = files["stack-health.json"]
    assert sent[health["uid"]]["panels"] == health["panels"]


def test_an_existing_grafana_with_a_prefix_and_no_policy_opt_in_gets_no_tree_and_no_default_datasource():
    program = existing_grafana(namePrefix=PREFIX)
    assert program.recorder.by_type(POLICY) == [] and program.recorder.by_type(INHIBITION_RULE) == []
    assert not any(d.get("isDefault") for d in registered(program, DATASOURCE))


def test_a_dashboard_model_scoped_by_hand():
    """Every way a dashboard names a datasource or links a dashboard, and the result written out by hand."""
    model = {
        "uid": "api",
        "links": [{"url": "/d/api-detail/detail?orgId=1"}, {"url": "/d/apix"}, {"url": "https://example.com/d/api"}],
        "panels": [
            {"datasource": {"type": "prometheus", "uid": "prometheus"}, "targets": [{"datasource": "Prometheus"}]},
            {"datasource": {"type": "loki"}, "targets": [{"datasource": {"uid": "loki"}}]},
            {"datasource": {"type": "grafana", "uid": "-- Grafana --"}},
            {"datasource": {"type": "prometheus", "uid": "$ds"}},
            {"datasource": "users-own", "title": "prometheus"},
        ],
        "templating": {
            "list": [{"name": "ds", "type": "datasource", "query": "prometheus", "current": {"value": "prometheus"}}]
        },
    }
    datasources = {"prometheus": "prometheus", "loki": "loki", "Prometheus": "prometheus", "Loki": "loki"}
    scoped = GrafanaNames("t").dashboard(model, datasources, {"api", "api-detail"})
    assert scoped == {
        "uid": "t-api",
        "links": [
            {"url": "/d/t-api-detail/detail?orgId=1"},
            {"url": "/d/apix"},
            {"url": "https://example.com/d/t-api"},
        ],
        "panels": [
            {"datasource": {"type": "prometheus", "uid": "t-prometheus"}, "targets": [{"datasource": "t-prometheus"}]},
            {"datasource": {"type": "loki", "uid": "t-loki"}, "targets": [{"datasource": {"uid": "t-loki"}}]},
            {"datasource": {"type": "grafana", "uid": "-- Grafana --"}},
            {"datasource": {"type": "prometheus", "uid": "$ds"}},
            {"datasource": "users-own", "title": "prometheus"},
        ],
        "templating": {
            "list": [{"name": "ds", "type": "datasource", "query": "prometheus", "current": {"value": "t-prometheus"}}]
        },
    }
    assert GrafanaNames("").dashboard(model, datasources, {"api"}) is model


# ---------------------------------------------------------------- inhibition where Grafana applies it


@pytest.mark.parametrize(
    ("grafana", "warning"),
    [
        ({}, "grafana.version: the version of the Grafana at https://grafana.example.com is not known"),
        ({"version": "12.4.2", "alertingMultiplePolicies": True}, "is Grafana 12.4, which has no inhibition rules"),
        ({"version": "13.0.1", "alertingMultiplePolicies": True}, "is Grafana 13.0, which has no inhibition rules"),
        ({"version": "13.1.0"}, "grafana.alertingMultiplePolicies: off, and Grafana applies inhibition rules only"),
        ({"version": "13.2.0", "alertingMultiplePolicies": True, "orgId": 2}, "grafana.orgId: the token is of org 2"),
        ({"version": "v13.1.0+security-01", "alertingMultiplePolicies": True}, None),
        ({"version": "13.2.0", "alertingMultiplePolicies": True, "orgId": 2, "stackId": 7}, None),
    ],
)
def test_inhibition_rules_go_only_to_a_grafana_that_applies_them(grafana, warning, caplog):
    """Below 13.1 the inhibition rule API answers 404; without the toggle Grafana stores the rules and inhibits
    nothing. Either way the up succeeds, inhibition applies in Alertmanager only, and preview says so."""
    caplog.set_level(logging.WARNING)
    program = existing_grafana(ownNotificationPolicy=True, namePrefix=PREFIX, **grafana)
    messages = [r.getMessage() for r in caplog.records]
    rules = program.recorder.by_type(INHIBITION_RULE)
    assert len(program.recorder.by_type(POLICY)) == 1
    if warning is None:
        assert rules and not [m for m in messages if "inhibit" in m]
    else:
        assert rules == []
        (said,) = [m for m in messages if warning in m]
        assert "its inhibit rules apply in Alertmanager only, and Grafana-managed alerts are not inhibited" in said


def test_the_own_grafanas_version_is_its_images_tag(caplog):
    caplog.set_level(logging.WARNING)
    older = run(images={"grafana": "registry.example.com/grafana/grafana:12.4.2@sha256:" + "0" * 64})
    assert older.recorder.by_type(INHIBITION_RULE) == []
    assert [m for m in (r.getMessage() for r in caplog.records) if "is Grafana 12.4, which has no inhibition" in m]
    assert run().recorder.by_type(INHIBITION_RULE)  # grafana/grafana:13.2.3 with the toggle on (Pulumi.dev.yaml)


# ---------------------------------------------------------------- the applications' token


def test_the_application_token_edits_the_stacks_folders_and_nothing_else_of_the_org():
    """An org-wide Editor edits every dashboard, folder and rule of a shared Grafana. Viewer reads and queries
    (saving a rule checks datasources:query); Edit on a folder creates dashboards and alert rules in it."""
    for program in (existing_grafana(namePrefix=PREFIX), run()):
        (account,) = program.recorder.by_type(SERVICE_ACCOUNT)
        assert unwrap(account.inputs)["role"] == "Viewer"
        folders = {r.urn: unwrap(r.inputs)["uid"] for r in program.recorder.by_type(FOLDER)}
        permissions = program.recorder.by_type(FOLDER_PERMISSION)
        granted = {unwrap(p.inputs)["folderUid"]: unwrap(p.inputs) for p in permissions}
        assert set(granted) == set(folders.values())
        assert all(p["permission"] == "Edit" and p["user"] == f"{account.name}-id" for p in granted.values())
        assert all(account.urn in p.dependencies for p in permissions)


def test_a_uid_with_no_room_for_a_prefix_is_named_with_its_file():
    """39 characters leave none for `<prefix>-` within Grafana's 40; 38 leave one."""
    uids = {"u" * 39: "dashboards/A/long.json", "v" * 38: "dashboards/A/v.json"}
    assert uid_problems(GrafanaNames("pp"), uids) == [
        f"grafana.namePrefix: 'pp' makes the uid of dashboards/A/long.json 'pp-{'u' * 39}' (and 1 more) 42 "
        f"characters, and Grafana takes at most 40: '{'u' * 39}' leaves no room for a prefix: shorten it in "
        "dashboards/A/long.json"
    ]
    assert uid_problems(GrafanaNames("pp"), {"u" * 38: "dashboards/A/u.json"}) == [
        f"grafana.namePrefix: 'pp' makes the uid of dashboards/A/u.json 'pp-{'u' * 38}' 41 characters, and Grafana "
        "takes at most 40: a prefix of at most 1 characters fits every uid the stack gives"
    ]
    assert uid_problems(GrafanaNames("p"), {"u" * 38: "dashboards/A/u.json"}) == []


def test_a_panel_naming_a_datasource_by_its_name_reads_the_scoped_one(content_copy):
    """Exports from older Grafanas name their datasource ("Prometheus"), imported as they are: scoped like a uid."""
    model = json.loads((content_copy / "dashboards/MindHit/business-metrics.json").read_text())
    model["uid"], model["panels"][0]["datasource"] = "vendor-old", "Prometheus"
    (content_copy / "dashboards/Vendor").mkdir()
    (content_copy / "dashboards/Vendor/old.json").write_text(json.dumps(model))
    models = [json.loads(d["configJson"]) for d in registered(existing_grafana(namePrefix=PREFIX), DASHBOARD)]
    (old,) = [m for m in models if m["uid"] == f"{PREFIX}-vendor-old"]
    assert old["panels"][0]["datasource"] == f"{PREFIX}-prometheus"


def test_a_stack_that_pushes_no_grafana_content_is_warned_of_nothing_about_grafana():
    """The warnings on what a Grafana gets are about the content the stack pushes: dev's own Grafana with the
    inhibition toggle off is warned of with its content, and of nothing without it."""
    from conftest import configured_stack

    from stacks.config.grafana import grafana_warnings
    from stacks.config.load import load_settings

    def settings(content: bool):
        values, secret_keys = configured_stack("dev")
        values["monitoring:grafana"] = {**values.get("monitoring:grafana", {}), "alertingMultiplePolicies": False}
        values["monitoring:grafanaContent"] = content
        return load_settings(values, frozenset(secret_keys))

    (pushed,) = grafana_warnings(settings(True), grafana_rules=True)
    assert pushed.startswith("grafana.alertingMultiplePolicies: off")
    assert grafana_warnings(settings(False), grafana_rules=True) == []
