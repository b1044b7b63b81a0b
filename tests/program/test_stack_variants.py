"""Stacks of other shapes, and the Grafana content fixes, read from what the program registers under mocks.

- `images`: a stack's image references replace the pinned ones, per service.
- `services`: a stack without Loki and Promtail, one that brings its own Grafana, one with no Grafana.
- An existing Grafana keeps what it had: its default datasource, a dashboard of the same uid or title, a folder's
  content the stack did not put there; the inhibition rules come after the policy.
- The Grafana content: query types set from the query model, inhibit rules in both trees, one explicit root
  grouping, provenance locked, PagerDuty's v2 key.
"""

from __future__ import annotations

import json

import yaml
from conftest import configured_stack
from mockstack import ProgramRun, is_secret, run_program, shared_run, unwrap
from variants import (
    DASHBOARD,
    DATASOURCE,
    EXTERNAL,
    FOLDER,
    INHIBITION_RULE,
    POLICY,
    TOKEN,
    containers,
    existing_grafana,
    run,
)

from offline.images.local_builds import LOCAL_BUILDS, LOCAL_REGISTRY, local_images
from stacks.versions import IMAGES

PROVIDER = "pulumi:providers:grafana"
CONTENT = "monitoring-grafana-content"


@shared_run
def shipped(stack: str) -> ProgramRun:
    return run(stack)


def uploaded(inputs: dict, path: str) -> str:
    return next(u["content"] for u in inputs["uploads"] if u["file"] == path)


# ---------------------------------------------------------------- images


def test_pinned_images_are_upstream_releases_with_a_version_and_local_builds_carry_the_local_name():
    for image in IMAGES.values():
        name, _, tag = image.rpartition(":")
        assert name.split("/")[0] in ("prom", "grafana") and tag and tag != "latest", image
    assert local_images() == {
        "prometheus": f"{LOCAL_REGISTRY}/prometheus:{IMAGES['prometheus'].rpartition(':')[2]}",
        "alertmanager": f"{LOCAL_REGISTRY}/alertmanager:{IMAGES['alertmanager'].rpartition(':')[2]}",
    }


def test_prometheus_3_release_and_its_go_module_version_agree():
    """Prometheus 3.x.y is Go module v0.3xx.y (3.16.0 -> v0.316.0): the local build compiles the pinned release."""
    major, minor, patch = IMAGES["prometheus"].rpartition(":v")[2].split(".")
    assert LOCAL_BUILDS["prometheus"].module_version == f"v0.{int(major) * 100 + int(minor)}.{patch}"
    assert LOCAL_BUILDS["alertmanager"].module_version == IMAGES["alertmanager"].rpartition(":")[2]


def test_the_images_key_replaces_the_pinned_image_of_the_services_it_names():
    mirror = {
        "prometheus": "registry.example.com/prom/prometheus:v3.16.0@sha256:" + "a" * 64,
        "grafana": "registry.example.com/grafana/grafana:13.2.3",
    }
    images = {service: inputs["image"] for service, inputs in containers(run(images=mirror)).items()}
    assert images == {**IMAGES, **mirror}


def test_the_shipped_stacks_run_the_pinned_upstream_images():
    assert {service: inputs["image"] for service, inputs in containers(shipped("dev")).items()} == IMAGES


# ---------------------------------------------------------------- services


def test_a_stack_without_loki_and_promtail_runs_neither_and_neither_is_scraped_nor_a_datasource():
    program = run(services=["prometheus", "alertmanager", "grafana"], systems=["mindhit", "kerp"])
    assert set(containers(program)) == {"prometheus", "alertmanager", "grafana"}
    config = yaml.safe_load(uploaded(containers(program)["prometheus"], "/etc/prometheus/prometheus.yml"))
    assert {job["job_name"] for job in config["scrape_configs"]} == {
        "prometheus",
        "alertmanager",
        "grafana",
        "node-exporter",
        "cadvisor",
        "mindhit-api",
        "docker-apps",
    }
    sources = {unwrap(r.inputs)["uid"] for r in program.recorder.by_type("grafana:oss/dataSource:DataSource")}
    assert sources == {"prometheus", "alertmanager"}
    dashboards = {
        json.loads(unwrap(r.inputs)["configJson"])["uid"]
        for r in program.recorder.by_type("grafana:oss/dashboard:Dashboard")
    }
    # The platform's log dashboard and log alerts go with Loki; its other content stays.
    assert "platform-logs" not in dashboards and "platform-stack-health" in dashboards
    assert program.recorder.by_type("grafana:alerting/ruleGroup:RuleGroup") == []
    assert set(program.exports["urls"]) == {"prometheus", "alertmanager", "grafana"}


def test_a_stack_with_an_existing_grafana_points_the_provider_at_it_with_the_token():
    program = run(services=["prometheus", "alertmanager", "loki", "promtail"], grafana=EXTERNAL, grafanaToken=TOKEN)
    rec = program.recorder
    assert "grafana" not in containers(program)
    assert not [r for r in rec.registrations if r.type == "monitoring:index:Grafana"]
    provider = rec.one(PROVIDER, f"{CONTENT}-provider")
    assert unwrap(provider.inputs)["url"] == "https://grafana.example.com"
    assert is_secret(provider.inputs["auth"]) and unwrap(provider.inputs)["auth"] == TOKEN
    sources = {
        unwrap(r.inputs)["uid"]: unwrap(r.inputs)["url"] for r in rec.by_type("grafana:oss/dataSource:DataSource")
    }
    assert sources == EXTERNAL["datasourceUrls"]
    # The content goes there: folders, dashboards, rule groups, contact points (the policy tree: below).
    for kind in (
        "oss/folder:Folder",
        "oss/dashboard:Dashboard",
        "alerting/ruleGroup:RuleGroup",
        "alerting/contactPoint:ContactPoint",
    ):
        assert rec.by_type(f"grafana:{kind}"), kind
        assert all(r.provider.startswith(provider.urn + "::") for r in rec.by_type(f"grafana:{kind}"))
    assert program.exports["grafana"]["url"] == "https://grafana.example.com"
    assert "grafana" not in program.exports["urls"]
    # Prometheus does not scrape a Grafana it does not run.
    config = yaml.safe_load(uploaded(containers(program)["prometheus"], "/etc/prometheus/prometheus.yml"))
    assert "grafana" not in {job["job_name"] for job in config["scrape_configs"]}


# ---------------------------------------------------------------- an existing Grafana keeps what it had

# An existing Grafana whose tree the stack owns, which applies inhibition rules.
OWNED_TREE = {"ownNotificationPolicy": True, "version": "13.2.0", "alertingMultiplePolicies": True}


def test_an_existing_grafanas_default_datasource_stays_its_own():
    """is_default on the stack's Prometheus would move the org's default away from the user's datasource."""
    sources = {unwrap(r.inputs)["uid"]: unwrap(r.inputs) for r in existing_grafana().recorder.by_type(DATASOURCE)}
    assert sources and not any(source.get("isDefault") for source in sources.values())
    own = {unwrap(r.inputs)["uid"]: unwrap(r.inputs) for r in shipped("dev").recorder.by_type(DATASOURCE)}
    assert own["prometheus"]["isDefault"] is True  # the stack's own Grafana: its default is the stack's


def test_a_dashboard_is_created_in_an_existing_grafana_without_overwriting_one_of_the_same_uid_or_title():
    """With overwrite, Grafana replaces a same-uid dashboard, or one of the same title in the folder, silently. The
    provider overwrites on update, that is what the stack created (resource_dashboard.go UpdateDashboard)."""
    dashboards = [unwrap(r.inputs) for r in existing_grafana().recorder.by_type(DASHBOARD)]
    assert dashboards and not any(d.get("overwrite") for d in dashboards)
    assert all(unwrap(r.inputs)["overwrite"] is True for r in shipped("dev").recorder.by_type(DASHBOARD))


def test_a_folder_holding_what_the_stack_did_not_put_there_is_never_deleted():
    """Applications push into the stack's folders with the exported token: a destroy or a renamed folder must not
    take their dashboards and rules with it (the provider's prevent_destroy_if_not_empty)."""
    for program in (existing_grafana(), shipped("dev")):
        folders = [unwrap(r.inputs) for r in program.recorder.by_type(FOLDER)]
        assert folders and all(folder["preventDestroyIfNotEmpty"] is True for folder in folders)


def test_an_existing_grafanas_notification_policy_tree_stays_its_own_unless_the_stack_is_asked_for_it(caplog):
    """The org has one tree: the stack's NotificationPolicy replaces it whole, and its destroy leaves Grafana's
    default one (resource_alerting_notification_policy.go). Inhibition rules act on every alert of the org."""
    program = existing_grafana()
    rec = program.recorder
    assert rec.by_type(POLICY) == [] and rec.by_type(INHIBITION_RULE) == []
    assert rec.by_type("grafana:alerting/contactPoint:ContactPoint")
    groups = rec.by_type("grafana:alerting/ruleGroup:RuleGroup")
    assert groups and all(
        rec.by_urn(urn).type.startswith(("grafana:oss/dataSource", "grafana:oss/folder"))
        for group in groups
        for urn in group.dependencies
    )
    warned = [r.getMessage() for r in caplog.records if r.getMessage().startswith("grafana.ownNotificationPolicy:")]
    assert len(warned) == 1
    assert "pulumi config set --path grafana.ownNotificationPolicy true" in warned[0]
    assert "inhibition applies in Alertmanager only" in warned[0]
    caplog.clear()
    owned = existing_grafana(**OWNED_TREE).recorder
    assert len(owned.by_type(POLICY)) == 1 and owned.by_type(INHIBITION_RULE)
    assert not [r for r in caplog.records if r.getMessage().startswith("grafana.ownNotificationPolicy:")]


def test_the_inhibition_rules_are_created_after_the_notification_policy():
    """Grafana applies inhibition rules to the org's policy tree: registered beside it, the first up could create
    them before the tree they act on."""
    for program in (existing_grafana(**OWNED_TREE), shipped("dev")):
        policy = program.recorder.one(POLICY, f"{CONTENT}-notification-policy")
        rules = program.recorder.by_type(INHIBITION_RULE)
        assert rules and all(policy.urn in rule.dependencies for rule in rules)


def test_a_grafana_cloud_stack_id_reaches_the_provider():
    """Without it the provider addresses Grafana Cloud's /apis (the inhibition rules) in namespace `default`."""
    provider = existing_grafana(stackId=123456).recorder.one(PROVIDER, f"{CONTENT}-provider")
    assert unwrap(provider.inputs)["stackId"] == "123456"  # provider settings reach it as strings
    assert "stackId" not in unwrap(existing_grafana().recorder.one(PROVIDER, f"{CONTENT}-provider").inputs)


def test_a_refused_password_or_token_is_reported_at_once_not_retried():
    """Grafana applies the admin password at its first start only: after a change, the provider gets 401s, which
    it must not spend its retries (10, 2 s apart) on, whatever GRAFANA_RETRY_STATUS_CODES says."""
    for program in (existing_grafana(), shipped("dev")):
        provider = unwrap(program.recorder.one(PROVIDER, f"{CONTENT}-provider").inputs)
        assert sorted(json.loads(provider["retryStatusCodes"])) == ["429", "5xx"]


def test_a_stack_with_no_grafana_registers_no_grafana_resource():
    program = run(services=["prometheus", "alertmanager"], grafanaContent=False)
    assert set(containers(program)) == {"prometheus", "alertmanager"}
    assert not [r for r in program.recorder.registrations if "grafana" in r.type.lower()]
    assert set(program.exports["urls"]) == {"prometheus", "alertmanager"} and "grafanaToken" not in program.exports


# ---------------------------------------------------------------- the Grafana content fixes


def test_every_rule_query_sets_the_query_type_its_model_has():
    """Grafana copies the model's queryType into the query: the registered query_type must be the same, or every
    preview after an up shows a change."""
    groups = shipped("dev").recorder.by_type("grafana:alerting/ruleGroup:RuleGroup")
    datas = [d for g in groups for rule in unwrap(g.inputs)["rules"] for d in rule["datas"]]
    assert datas
    for data in datas:
        assert data.get("queryType") == json.loads(data["model"]).get("queryType")
    assert {d.get("queryType") for d in datas if d["datasourceUid"] == "loki"} == {"instant"}


def test_inhibit_rules_reach_grafana_as_they_reach_alertmanager():
    for stack in ("dev", "prod"):
        program = shipped(stack)
        am = yaml.safe_load(uploaded(containers(program)["alertmanager"], "/etc/alertmanager/alertmanager.yml"))
        rules = [unwrap(r.inputs) for r in program.recorder.by_type(INHIBITION_RULE)]

        def as_alertmanager(matchers):
            return [f"{m['label']}{m['type']}{json.dumps(m['value'])}" for m in matchers]

        assert [
            {
                "source_matchers": as_alertmanager(r["spec"]["sourceMatchers"]),
                "target_matchers": as_alertmanager(r["spec"]["targetMatchers"]),
                "equal": r["spec"]["equals"],
            }
            for r in rules
        ] == am["inhibit_rules"]
        assert [r["metadata"]["uid"] for r in rules] == [f"inhibit-{i}" for i in range(len(rules))]


def test_the_grafana_container_turns_on_the_toggle_that_applies_inhibition_rules_where_the_stack_says_so():
    for stack in ("dev", "staging", "prod"):  # each stack file chooses it (grafana.alertingMultiplePolicies)
        assert "GF_FEATURE_TOGGLES_ENABLE=alertingMultiplePolicies" in containers(shipped(stack))["grafana"]["envs"]
    without = run(grafana={"alertingMultiplePolicies": False})
    assert not [e for e in containers(without)["grafana"]["envs"] if e.startswith("GF_FEATURE_TOGGLES_ENABLE=")]
    assert without.recorder.by_type(INHIBITION_RULE) == []


def test_without_group_by_both_trees_group_by_alertname():
    values, secret_keys = configured_stack("dev")
    del values["monitoring:alerting"]["route"]["groupBy"]
    program = run_program("dev", values, secret_keys)
    policy = unwrap(
        program.recorder.one(
            "grafana:alerting/notificationPolicy:NotificationPolicy", f"{CONTENT}-notification-policy"
        ).inputs
    )
    am = yaml.safe_load(uploaded(containers(program)["alertmanager"], "/etc/alertmanager/alertmanager.yml"))
    assert policy["groupBies"] == am["route"]["group_by"] == ["alertname"]


def test_alerting_content_is_provisioned_locked_against_edits_in_the_ui():
    rec = shipped("prod").recorder
    kinds = (
        "contactPoint:ContactPoint",
        "notificationPolicy:NotificationPolicy",
        "ruleGroup:RuleGroup",
        "messageTemplate:MessageTemplate",
    )
    resources = [r for kind in kinds for r in rec.by_type(f"grafana:alerting/{kind}")]
    assert {r.type.rsplit(":", 1)[1] for r in resources} == {kind.split(":")[1] for kind in kinds}  # one of each
    assert {unwrap(r.inputs).get("disableProvenance") for r in resources} == {False}


def test_pagerduty_gets_the_events_api_v2_key_in_both_trees():
    program = shipped("prod")
    am = yaml.safe_load(uploaded(containers(program)["alertmanager"], "/etc/alertmanager/alertmanager.yml"))
    critical = next(r for r in am["receivers"] if r["name"] == "kerp-critical")
    contact = next(
        unwrap(r.inputs)
        for r in program.recorder.by_type("grafana:alerting/contactPoint:ContactPoint")
        if unwrap(r.inputs)["name"] == "kerp-critical"
    )
    key = critical["pagerduty_configs"][0]["routing_key"]
    assert len(key) == 32 and "service_key" not in critical["pagerduty_configs"][0]
    assert contact["pagerduties"][0]["integrationKey"] == key
