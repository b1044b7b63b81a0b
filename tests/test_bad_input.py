"""Bad input: the whole program under mocks stops with an error naming the key or file, and registers nothing."""

from __future__ import annotations

import copy
import json
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from conftest import configured_stack
from mockstack import run_expecting_error, run_program
from rendering import with_remote_write

from stacks.environment import check_policy_owner
from stacks.errors import InputError
from stacks.settings import load_settings

FIXTURES = Path(__file__).resolve().parent / "fixtures/dashboards"


def dev() -> tuple[dict, list[str]]:
    return configured_stack("dev")


def test_unknown_config_key_is_named_with_a_suggestion():
    config, secrets = dev()
    config["monitoring:bindAdress"] = "127.0.0.1"
    message = run_expecting_error("dev", config, secrets)
    assert "monitoring:bindAdress: unknown config key (did you mean 'bindAddress'?)" in message


def test_wrong_type_is_named():
    config, secrets = dev()
    config["monitoring:protectVolumes"] = "sometimes"
    message = run_expecting_error("dev", config, secrets)
    assert "protectVolumes: must be of type boolean" in message


def test_port_out_of_range():
    config, secrets = dev()
    config["monitoring:ports"] = {"grafana": 70000}
    message = run_expecting_error("dev", config, secrets)
    assert "ports.grafana: must be a port number from 1 to 65535, got 70000" in message


def test_two_services_on_one_host_port():
    config, secrets = dev()
    config["monitoring:ports"] = {"loki": 9091}
    message = run_expecting_error("dev", config, secrets)
    assert "ports.loki: host port 9091 is already used by ports.prometheus" in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("monitoring:prometheus", {"retentionTime": "15 days"}, "prometheus.retentionTime: must look like '15d'"),
        ("monitoring:loki", {"retentionPeriod": "a week"}, "loki.retentionPeriod: must look like '15d'"),
        ("monitoring:loki", {"retentionPeriod": "12h"}, "loki.retentionPeriod: must be at least 24h"),
    ],
)
def test_retention_not_a_duration(key, value, expected):
    config, secrets = dev()
    config[key] = value
    assert expected in run_expecting_error("dev", config, secrets)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_missing_admin_password_outside_dev(stack):
    config, secrets = configured_stack(stack)
    del config["monitoring:grafanaAdminPassword"]
    message = run_expecting_error(stack, config, secrets)
    assert f"grafanaAdminPassword: is required in {stack}: pulumi config set --secret grafanaAdminPassword" in message


def test_admin_password_in_plaintext_outside_dev():
    config, secrets = configured_stack("prod")
    secrets.remove("monitoring:grafanaAdminPassword")
    message = run_expecting_error("prod", config, secrets)
    assert "grafanaAdminPassword: must be a secret" in message


def test_route_to_an_undefined_receiver():
    config, secrets = dev()
    config["monitoring:alerting"]["route"]["routes"][1]["receiver"] = "oncall"
    message = run_expecting_error("dev", config, secrets)
    assert (
        "alerting.route.routes[1].receiver: undefined receiver 'oncall'; "
        "defined: critical, default, kerp, observer, watchdog, wealist" in message
    )


@pytest.mark.parametrize("key", ["groupInterval", "repeatInterval"])
def test_a_zero_group_or_repeat_interval_which_alertmanager_refuses(key):
    config, secrets = dev()
    config["monitoring:alerting"]["route"]["routes"][0][key] = "0s"
    message = run_expecting_error("dev", config, secrets)
    assert f"alerting.route.routes[0].{key}: cannot be zero: Alertmanager refuses the config" in message


def test_receiver_with_no_target():
    config, secrets = dev()
    config["monitoring:alerting"]["receivers"].append({"name": "silent"})
    message = run_expecting_error("dev", config, secrets)
    assert "alerting.receivers[6]: receiver 'silent' has no target" in message


def test_non_http_webhook_url_is_refused_without_echoing_it():
    config, secrets = dev()
    config["monitoring:alerting"]["receivers"][0]["webhooks"][0]["url"] = "ftp://hooks.example/secret-token"
    message = run_expecting_error("dev", config, secrets)
    assert "alerting.receivers[0].webhooks[0].url: must be an http:// or https:// URL" in message
    assert "secret-token" not in message


def test_receiver_template_that_does_not_parse():
    """Alertmanager would load it, then fail every notification it renders."""
    config, secrets = configured_stack("prod")
    config["monitoring:alerting"]["receivers"][1]["slack"][0]["title"] = "CRITICAL: {{ .CommonAnnotations.summary }"
    message = run_expecting_error("prod", config, secrets)
    assert 'alerting.receivers[1].slack[0].title: template does not parse: unexpected "}" in operand' in message


def test_webhook_url_template_that_does_not_parse_is_refused_without_echoing_it():
    config, secrets = dev()
    config["monitoring:alerting"]["receivers"][0]["webhooks"][0]["url"] = "https://hooks.example/{{ secret-token }}"
    message = run_expecting_error("dev", config, secrets)
    assert "alerting.receivers[0].webhooks[0].url: template does not parse" in message
    assert "secret-token" not in message


def test_missing_receiver_secret_outside_dev():
    config, secrets = configured_stack("prod")
    config["monitoring:alerting"]["receivers"][1]["pagerduty"][0]["routingKey"] = ""
    message = run_expecting_error("prod", config, secrets)
    assert (
        "alerting.receivers[1].pagerduty[0].routingKey: missing secret: "
        "pulumi config set --secret --path 'alerting.receivers[1].pagerduty[0].routingKey'" in message
    )


def test_receiver_url_in_plaintext_outside_dev():
    config, secrets = configured_stack("staging")
    secrets.remove("monitoring:alerting")
    message = run_expecting_error("staging", config, secrets)
    assert "alerting.receivers[0].slack[0].url: must be a secret outside dev" in message


def test_every_problem_is_reported_at_once():
    config, secrets = dev()
    config["monitoring:ports"] = {"grafana": 0}
    config["monitoring:prometheus"] = {"retentionSize": "lots"}
    message = run_expecting_error("dev", config, secrets)
    assert "ports.grafana" in message and "prometheus.retentionSize" in message


# ---------------------------------------------------------------- content files


@contextmanager
def edited_dashboard(path):
    """A dashboard's model to change in place; written back when the block ends."""
    model = json.loads(path.read_text())
    yield model
    path.write_text(json.dumps(model))


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_malformed_dashboard_json_names_file_and_line(content_copy):
    write(content_copy / "dashboards/MindHit/broken.json", '{\n  "title": "Broken",\n  "panels": [,]\n}\n')
    message = run_expecting_error("dev", *dev())
    assert "dashboards/MindHit/broken.json:3:14: malformed JSON: Expecting value" in message


def test_dashboard_without_a_title(content_copy):
    write(content_copy / "dashboards/MindHit/untitled.json", json.dumps({"panels": []}))
    message = run_expecting_error("dev", *dev())
    assert "dashboards/MindHit/untitled.json: $.title: a dashboard needs a non-empty title" in message


def test_two_dashboards_with_one_uid(content_copy):
    original = json.loads((content_copy / "dashboards/MindHit/api-overview.json").read_text())
    copied = copy.deepcopy(original)
    copied["title"] = "A copy in another folder"
    write(content_copy / "dashboards/Platform/copy.json", json.dumps(copied))
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/Platform/copy.json: uid 'mindhit-api-overview' is already used by "
        "dashboards/MindHit/api-overview.json" in message
    )


def test_dashboard_referencing_an_unknown_datasource_uid(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/infrastructure.json") as model:
        model["panels"][2]["datasource"] = {"type": "prometheus", "uid": "thanos"}
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/infrastructure.json: [panel-datasource] $.panels[2].datasource: unknown datasource uid "
        "'thanos'" in message
    )


def test_malformed_rule_yaml_names_file_and_line(content_copy):
    write(content_copy / "rules/broken.yml", "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: [\n")
    message = run_expecting_error("dev", *dev())
    assert "rules/broken.yml:6: malformed YAML" in message


def test_rule_group_without_a_name(content_copy):
    write(content_copy / "rules/nameless.yml", "groups:\n  - rules: []\n")
    message = run_expecting_error("dev", *dev())
    assert "rules/nameless.yml:2: name: is required: the rule group's name" in message


def test_invalid_promql_in_a_rule(content_copy):
    write(
        content_copy / "rules/bad.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: rate(x[5m]\n"
        "        labels: {severity: warning}\n",
    )
    message = run_expecting_error("dev", *dev())
    assert "rules/bad.yml:4: expr: invalid PromQL in 'Broken': unclosed left parenthesis" in message


def test_grafana_rule_with_unknown_datasource_and_bad_condition(content_copy):
    write(
        content_copy / "rules/grafana/bad.yml",
        "groups:\n  - name: g\n    folder: Platform\n    rules:\n      - alert: A\n        datasource: elastic\n"
        '        expr: count_over_time({job="x"}[5m])\n        condition: more than 10\n'
        "        labels: {severity: warning}\n",
    )
    message = run_expecting_error("dev", *dev())
    assert "rules/grafana/bad.yml:5: unknown datasource uid 'elastic'" in message
    assert "rules/grafana/bad.yml:5: condition: must look like '> 10' or '< 1', got 'more than 10'" in message


def test_grafana_rule_without_severity(content_copy):
    write(
        content_copy / "rules/grafana/bad.yml",
        "groups:\n  - name: g\n    folder: Platform\n    rules:\n      - alert: Quiet\n        datasource: loki\n"
        "        expr: count_over_time({job=\"x\"}[5m])\n        condition: '> 1'\n",
    )
    message = run_expecting_error("dev", *dev())
    assert "rules/grafana/bad.yml:5: alert 'Quiet' needs a severity label" in message


@pytest.mark.parametrize(
    ("labels", "given"),
    [
        ("        labels: {severity: warning}\n", "is missing"),
        ("        labels: {severity: warning, system: kerp}\n", "is 'kerp'"),
    ],
)
def test_a_grafana_rule_in_a_declared_systems_folder_without_its_system(content_copy, labels, given):
    """The platform's log alerts had no system, and fell to prod's default receiver: K-ERP's channel."""
    write(
        content_copy / "rules/grafana/bad.yml",
        "groups:\n  - name: g\n    folder: Platform\n    rules:\n      - alert: Quiet\n        datasource: loki\n"
        "        expr: count_over_time({job=\"docker\"}[5m])\n        condition: '> 1'\n" + labels,
    )
    message = run_expecting_error("dev", *dev())
    assert (
        f"rules/grafana/bad.yml:5: labels.system: {given} in alert 'Quiet': folder 'Platform' is system platform"
        "'s, and the notification policy routes an alert to its team by `system`; set system: platform"
    ) in message


def test_a_grafana_rule_in_an_imported_folder_needs_no_system(content_copy):
    write(
        content_copy / "rules/grafana/vendor.yml",
        "groups:\n  - name: g\n    folder: Vendor\n    rules:\n      - alert: Quiet\n        datasource: loki\n"
        "        expr: count_over_time({job=\"docker\"}[5m])\n        condition: '> 1'\n"
        "        labels: {severity: warning}\n",
    )
    assert run_program("dev", *dev()).recorder.registrations


def test_a_declared_systems_alert_with_a_severity_no_route_names(content_copy):
    """`crit` where the routes say critical: in prod it stopped at K-ERP's route, whose own receiver is the
    warning channel, and paged no one."""
    rules = content_copy / "rules/kerp.yml"
    text = rules.read_text()
    rules.write_text(text.replace("severity: critical", "severity: crit", 1))
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == "severity: critical")
    alert = next(row for row in reversed(text.splitlines()[:line]) if "- alert:" in row).split(": ")[1]
    config, secrets = configured_stack("prod")
    message = run_expecting_error("prod", config, secrets)
    rule_line = text.splitlines().index(f"      - alert: {alert}") + 1
    assert (
        f"rules/kerp.yml:{rule_line}: alert '{alert}' has severity 'crit', which no route compares with (they split "
        "on critical, warning, info): it stops at alerting.route.routes[1], whose own receiver kerp gets it; "
        'give it one of those severities, or route severity="crit" there'
    ) in message


def test_a_severity_no_route_names_passes_where_no_route_splits_on_severity(content_copy):
    """An alert stopping at a route without severity children (dev's K-ERP route takes every severity) or named
    by a route passes: only a severity named nowhere that stops at a split is an error."""
    rules = content_copy / "rules/kerp.yml"
    rules.write_text(rules.read_text().replace("severity: critical", "severity: crit", 1))
    assert run_program("dev", *dev()).recorder.registrations


def test_a_declared_systems_alert_without_severity(content_copy):
    """Lint rule alert-severity: an error for a declared system (imported rules: tests/test_imported_content.py)."""
    rules = content_copy / "rules/kerp.yml"
    rules.write_text(rules.read_text().replace("severity: warning", "team: erp", 1))
    message = run_expecting_error("dev", *dev())
    assert "rules/kerp.yml: [alert-severity] line " in message
    assert (
        "has no severity label: the routes are keyed on it (to turn the rule off for this file: rules/.lint: "
        'exclusions: {alert-severity: {reason: "<why>", files: [kerp.yml]}})' in message
    )


def test_a_group_name_twice_in_a_file(content_copy):
    group = "  - name: g\n    rules:\n      - record: x:up\n        expr: up\n"
    write(content_copy / "rules/twice.yml", "groups:\n" + group + group)
    message = run_expecting_error("dev", *dev())
    assert 'rules/twice.yml:6: name: groupname "g" is repeated in the same file' in message


def test_for_that_is_not_a_duration(content_copy):
    write(
        content_copy / "rules/slow.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: up == 0\n        for: five minutes\n"
        "        labels: {severity: warning}\n",
    )
    message = run_expecting_error("dev", *dev())
    assert "rules/slow.yml:4: for: must look like '15d', '5m' or '1h30m', got 'five minutes'" in message


def test_rule_test_naming_a_missing_rule_file(content_copy):
    write(content_copy / "rules/tests/ghost_test.yml", "rule_files:\n  - ../ghost.yml\ntests: []\n")
    message = run_expecting_error("dev", *dev())
    assert "rules/tests/ghost_test.yml:1: rule_files names '../ghost.yml', which does not exist" in message


def test_invalid_promql_in_a_dashboard_panel(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/api-overview.json") as model:
        model["panels"][1]["targets"][0]["expr"] = "histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le)"
    message = run_expecting_error("dev", *dev())
    assert "dashboards/MindHit/api-overview.json: [promql] $.panels[1].targets[0].expr: invalid PromQL" in message


def test_template_variable_with_an_unknown_datasource(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/api-overview.json") as model:
        model["templating"] = {
            "list": [
                {"name": "job", "type": "query", "datasource": {"uid": "influx"}, "query": "label_values(up, job)"}
            ]
        }
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/api-overview.json: [template-datasource] $.templating.list[0].datasource: unknown "
        "datasource uid 'influx'" in message
    )


def test_overlapping_panels(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/api-overview.json") as model:
        model["panels"][1]["gridPos"] = {"h": 8, "w": 12, "x": 6, "y": 4}
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/api-overview.json: [panel-overlap] 3 findings: $.panels[1].gridPos: overlaps "
        "$.panels[0].gridPos" in message
    )


def test_panel_without_a_query(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/api-overview.json") as model:
        model["panels"][3]["targets"] = []
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/api-overview.json: [panel-query] $.panels[3].targets: panel 'Active Requests' has no "
        "query" in message
    )


def test_unknown_system_in_the_stack_settings():
    config, secrets = dev()
    config["monitoring:systems"] = ["mindhit", "billing"]
    message = run_expecting_error("dev", config, secrets)
    assert "systems[1]: no content for system 'billing'; known: " in message


def test_an_export_for_an_unprovisioned_datasource_names_the_input(content_copy):
    model = json.loads((FIXTURES / "exported-with-inputs.json").read_text())
    model["__inputs"][0]["pluginId"] = "influxdb"
    write(content_copy / "dashboards/Imported/influx.json", json.dumps(model))
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/Imported/influx.json: $.__inputs[0].pluginId: no provisioned datasource of type 'influxdb'"
        in message
    )


def test_a_route_on_a_label_no_rule_sets_is_a_warning_naming_the_route(logged_warnings):
    config, secrets = dev()
    config["monitoring:alerting"]["route"]["routes"].append({"matchers": ['team="payments"'], "receiver": "critical"})
    run = run_program("dev", config, secrets)  # a warning: the stack still deploys
    assert run.recorder.registrations
    assert logged_warnings == [
        "alerting.route.routes[6]: matcher team=\"payments\" names label 'team', which no alert rule sets; "
        "this route can never match"
    ]


def test_a_route_on_a_system_the_stack_does_not_deploy_is_a_warning_naming_the_route(logged_warnings):
    config, secrets = configured_stack("staging")  # deploys mindhit and observer (and the platform)
    routes = config["monitoring:alerting"]["route"]["routes"]
    routes.append({"matchers": ['system="kerp"'], "receiver": "default"})
    routes.append({"matchers": ['system=~"kerp|wealist"'], "receiver": "default"})
    routes.append({"matchers": ['system=~"mind.*"'], "receiver": "default"})  # matches mindhit: no warning
    run = run_program("staging", config, secrets)  # a warning: the stack still deploys
    assert run.recorder.registrations
    assert logged_warnings == [
        'alerting.route.routes[4]: matcher system="kerp" names no system this stack deploys (mindhit, observer, '
        "platform); this route can never match",
        'alerting.route.routes[5]: matcher system=~"kerp|wealist" names no system this stack deploys '
        "(mindhit, observer, platform); this route can never match",
    ]


def test_a_bad_slo_spec_stops_preview_naming_its_file_and_line(content_copy):
    """Each field's message is tested on the spec loader (tests/test_slo.py); here, that the program stops."""
    spec = content_copy / "rules/slos/mindhit.yml"
    write(spec, spec.read_text().replace("objective: 99.9", "objective: 100", 1))
    message = run_expecting_error("dev", *dev())
    assert "rules/slos/mindhit.yml:6: slos[0].objective: must be a percentage above 0 and below 100" in message


def test_a_dashboard_taking_the_uid_of_a_generated_slo_dashboard(content_copy):
    original = json.loads((content_copy / "dashboards/MindHit/api-overview.json").read_text())
    original["uid"] = "slo-mindhit-api-latency"
    write(content_copy / "dashboards/MindHit/api-overview.json", json.dumps(original))
    message = run_expecting_error("dev", *dev())
    assert (
        "rules/slos/mindhit.yml: uid 'slo-mindhit-api-latency' is already used by dashboards/MindHit/api-overview.json"
        in message
    )


# ---------------------------------------------------------------- images, services and an existing Grafana


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        ({"grafana": "grafana/grafana"}, "images.grafana: must name a tag or a digest"),
        ({"prometheus": "prom/prometheus:latest"}, "images.prometheus: must pin a version, not latest"),
        ({"prometheus": "Prom/Prometheus v3"}, "images.prometheus: must be an image reference"),
        ({"alertmanagr": "prom/alertmanager:v0.35.0"}, "images.alertmanagr: unknown key; known keys: prometheus"),
    ],
)
def test_an_image_without_a_pinned_version_is_refused(images, expected):
    config, secrets = dev()
    config["monitoring:images"] = images
    assert expected in run_expecting_error("dev", config, secrets)


def test_an_image_for_a_service_the_stack_does_not_run():
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "alertmanager", "grafana"]
    config["monitoring:images"] = {"loki": "registry.example.com/grafana/loki:3.7.8"}
    assert "images.loki: loki is not in services, so this setting would do nothing" in run_expecting_error(
        "dev", config, secrets
    )


def test_services_the_stack_cannot_do_without_or_that_need_another():
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "promtail", "grafana", "grafana"]
    message = run_expecting_error("dev", config, secrets)
    assert "services: must include alertmanager" in message
    assert "services: promtail ships logs to the stack's loki" in message
    assert "services: 'grafana' is listed more than once" in message


def external_grafana() -> tuple[dict, list[str]]:
    """The dev stack pushing its content into an existing Grafana, with everything that needs."""
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "alertmanager", "loki", "promtail"]
    config["monitoring:grafana"] = {
        "url": "https://grafana.example.com",
        "datasourceUrls": {
            "prometheus": "http://metrics.example.com:9091",
            "alertmanager": "http://metrics.example.com:9093",
            "loki": "http://metrics.example.com:3100",
        },
    }
    config["monitoring:grafanaToken"] = "glsa_external_token_0001"
    return config, [*secrets, "monitoring:grafanaToken"]


def test_an_external_grafana_url_that_is_not_http():
    config, secrets = external_grafana()
    config["monitoring:grafana"]["url"] = "grafana.example.com:3000"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.url: must be an http(s) URL, got 'grafana.example.com:3000'" in message


def test_an_external_grafana_without_its_url_or_token():
    config, secrets = external_grafana()
    del config["monitoring:grafana"]["url"]
    del config["monitoring:grafanaToken"]
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.url: is required when grafana is not in services" in message
    assert "grafanaToken: is required for an existing Grafana: pulumi config set --secret grafanaToken" in message


def test_an_external_grafana_token_in_plaintext():
    config, secrets = external_grafana()
    message = run_expecting_error("dev", config, [s for s in secrets if s != "monitoring:grafanaToken"])
    assert "grafanaToken: must be a secret" in message and "glsa_external_token_0001" not in message


def test_an_external_grafana_without_the_urls_it_reaches_the_datasources_at():
    config, secrets = external_grafana()
    del config["monitoring:grafana"]["datasourceUrls"]["loki"]
    config["monitoring:grafana"]["datasourceUrls"]["alertmanager"] = "alertmanager:9093"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.datasourceUrls.loki: is required for an existing Grafana" in message
    assert "grafana.datasourceUrls.alertmanager: must be an http(s) URL" in message


def test_a_grafana_cloud_stack_id_that_is_not_one_or_for_the_stacks_own_grafana():
    config, secrets = external_grafana()
    config["monitoring:grafana"]["stackId"] = "my-stack"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.stackId: must be a Grafana Cloud stack id, got 'my-stack'" in message
    config, secrets = dev()
    config["monitoring:grafana"] = {"stackId": 123456}
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.stackId: is for an existing Grafana Cloud stack (grafana not in services" in message


def test_owning_the_policy_tree_of_the_stacks_own_grafana_or_of_one_another_stack_owns(tmp_path):
    config, secrets = dev()
    config["monitoring:grafana"] = {"ownNotificationPolicy": True}
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.ownNotificationPolicy: is for an existing Grafana (grafana not in services" in message
    config, secrets = external_grafana()
    config["monitoring:grafana"]["ownNotificationPolicy"] = "yes"
    assert "grafana.ownNotificationPolicy: must be true or false, got 'yes'" in run_expecting_error(
        "dev", config, secrets
    )
    # Another stack file of the project owns the same Grafana's tree (its URL with a trailing slash).
    config["monitoring:grafana"]["ownNotificationPolicy"] = True
    settings = load_settings(config, frozenset(secrets))
    other = {"config": {"monitoring:grafana": {"url": "https://grafana.example.com/", "ownNotificationPolicy": True}}}
    (tmp_path / "Pulumi.ops.yaml").write_text(yaml.safe_dump(other))
    # This stack's own file, owning it too, is not a rival.
    (tmp_path / "Pulumi.dev.yaml").write_text(
        yaml.safe_dump({"config": {k: config[k] for k in ["monitoring:grafana"]}})
    )
    with pytest.raises(InputError) as raised:
        check_policy_owner(settings, "dev", tmp_path)
    assert str(raised.value).count("grafana.ownNotificationPolicy: Pulumi.ops.yaml owns the notification policy") == 1
    other["config"]["monitoring:grafana"]["url"] = "https://another-grafana.example.com"
    (tmp_path / "Pulumi.ops.yaml").write_text(yaml.safe_dump(other))
    check_policy_owner(settings, "dev", tmp_path)


def test_an_admin_password_or_token_that_no_grafana_would_use():
    config, secrets = external_grafana()
    config["monitoring:grafanaAdminPassword"] = "unused-Secret-1"
    assert "grafanaAdminPassword: is for the stack's own Grafana" in run_expecting_error("dev", config, secrets)
    config, secrets = dev()
    config["monitoring:grafanaToken"] = "glsa_unused"
    assert "grafanaToken: is used only for an existing Grafana" in run_expecting_error("dev", config, secrets)


def test_grafana_managed_loki_rules_in_a_stack_without_loki(content_copy):
    """Another system's Loki content (a rule group in its own folder) needs the stack's Loki."""
    source = content_copy / "rules/grafana/platform-logs.yml"
    write(
        content_copy / "rules/grafana/wealist-logs.yml",
        source.read_text()
        .replace("folder: Platform", "folder: weAlist")
        .replace("system: platform", "system: wealist"),
    )
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "alertmanager", "grafana"]
    config["monitoring:systems"] = ["mindhit", "wealist"]
    message = run_expecting_error("dev", config, secrets)
    assert "rules/grafana/wealist-logs.yml: reads the loki datasource, which this stack does not run" in message
    assert "dashboards/weAlist/log-analysis.json: reads the loki datasource" in message
    assert "platform-logs.yml" not in message  # the stack's own log rules just go with its Loki


def test_two_receivers_that_would_be_one_contact_point():
    config, secrets = dev()
    receivers = config["monitoring:alerting"]["receivers"]
    receivers.append({**copy.deepcopy(receivers[0]), "name": "On-Call"})
    receivers.append({**copy.deepcopy(receivers[0]), "name": "on call"})
    message = run_expecting_error("dev", config, secrets)
    assert "receivers 'On-Call' and 'on call' would both be Grafana contact point 'on-call'" in message


def test_two_folders_that_would_be_one_folder_uid(content_copy):
    (content_copy / "dashboards/k erp").mkdir()
    write(
        content_copy / "dashboards/k erp/extra.json", json.dumps({"title": "Extra", "uid": "kerp-extra", "panels": []})
    )
    message = run_expecting_error("dev", *dev())
    assert "folder 'k erp': its uid 'k-erp' is already the uid of folder 'K-ERP'" in message


def test_a_pagerduty_v1_service_key_with_grafana_content():
    config, secrets = configured_stack("prod")
    target = config["monitoring:alerting"]["receivers"][1]["pagerduty"][0]
    target["serviceKey"] = target.pop("routingKey")
    message = run_expecting_error("prod", config, secrets)
    assert "alerting.receivers[1].pagerduty[0].serviceKey: is an Events API v1 key" in message


def test_a_pagerduty_routing_key_that_is_not_an_integration_key():
    config, secrets = configured_stack("prod")
    config["monitoring:alerting"]["receivers"][1]["pagerduty"][0]["routingKey"] = "pd-key-0001"
    message = run_expecting_error("prod", config, secrets)
    assert "alerting.receivers[1].pagerduty[0].routingKey: must be a PagerDuty Events API v2 integration key" in message
    assert "pd-key-0001" not in message


def test_a_deployed_systems_job_without_a_scrape_target_is_a_warning_when_discovery_is_off(logged_warnings):
    config, secrets = configured_stack("prod")  # deploys mindhit and kerp, and scrapes both APIs
    config["monitoring:appDiscovery"] = {"enabled": False}
    run_program("prod", config, secrets)
    assert logged_warnings == []
    config["monitoring:scrapeTargets"] = [t for t in config["monitoring:scrapeTargets"] if t["job"] != "kerp-api"]
    run = run_program("prod", config, secrets)
    assert run.recorder.registrations  # a warning: the stack still deploys
    assert logged_warnings == [
        "scrapeTargets: no job kerp-api of system kerp, which this stack deploys, and app discovery is off: its "
        "panels will have no data and its TargetMissing alert will fire"
    ]


RULE = "  - name: g\n    rules:\n      - alert: Bad\n        expr: up == 0\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # What Prometheus refuses when it loads a rule file (so a replaced container would not start).
        # Prometheus 3 validates names as UTF-8: any name but an empty one, and for a label __name__.
        (
            "groups:\n" + RULE + "        labels: {severity: warning, __name__: x}\n",
            "rules/bad.yml:4: labels.__name__: invalid label name '__name__'",
        ),
        (
            "groups:\n" + RULE + "        labels: {severity: warning}\n        annotations: {'': s}\n",
            "rules/bad.yml:4: annotations.: invalid annotation name ''",
        ),
        (
            "groups:\n  - name: g\n    rules:\n      - record: 'job:up{x}'\n        expr: up\n",
            "rules/bad.yml:4: record: braces in the recording rule name 'job:up{x}': should they be in expr?",
        ),
        (
            "groups:\n  - name: g\n    rules:\n      - record: job:up\n        expr: up\n        for: 5m\n",
            "rules/bad.yml:4: for: a recording rule takes no 'for'",
        ),
        (
            "groups:\n" + RULE + "        labels: {severity: warning}\n        anotations: {summary: s}\n",
            "rules/bad.yml:4: anotations: unknown key; known keys: alert, annotations, expr, for, keep_firing_for",
        ),
        (
            "groups:\n  - name: g\n    intervl: 1m\n    rules:\n      - alert: Bad\n        expr: up == 0\n"
            "        labels: {severity: warning}\n",
            "rules/bad.yml:2: intervl: unknown key; known keys: interval, labels, limit, name, query_offset, rules",
        ),
        (
            "groups:\n  - name: g\n    interval: 1 minute\n    rules:\n      - alert: Bad\n        expr: up == 0\n"
            "        labels: {severity: warning}\n",
            "rules/bad.yml:2: interval: must look like '15d', '5m' or '1h30m', got '1 minute'",
        ),
        (
            "groups:\n" + RULE + "        keep_firing_for: soon\n        labels: {severity: warning}\n",
            "rules/bad.yml:4: keep_firing_for: must look like '15d', '5m' or '1h30m', got 'soon'",
        ),
        (
            "groups:\n" + RULE + "        labels: {severity: warning}\n"
            "        annotations: {description: '{{ $labels.job } is down'}\n",
            'rules/bad.yml:4: annotations.description: template does not parse: unexpected "}" in operand',
        ),
        (
            "groups:\n" + RULE + "        labels: {severity: warning, load: '{{ $value | humanise }}'}\n",
            'rules/bad.yml:4: labels.load: template does not parse: function "humanise" not defined',
        ),
        # Experimental PromQL, which the Rust parser accepts and Prometheus refuses without --enable-feature.
        (
            "groups:\n  - name: g\n    rules:\n      - alert: Bad\n"
            '        expr: sort_by_label(up, "job") == 0\n        labels: {severity: warning}\n',
            "rules/bad.yml:4: expr: invalid PromQL in 'Bad': function \"sort_by_label\" is not enabled",
        ),
        (
            "groups:\n  - name: g\n    rules:\n      - record: job:up:limited\n        expr: limitk(2, up)\n",
            "rules/bad.yml:4: expr: invalid PromQL in 'job:up:limited': limitk() is experimental and must be enabled "
            "with --enable-feature=promql-experimental-functions",
        ),
    ],
)
def test_what_prometheus_refuses_in_a_rule_file_stops_preview(content_copy, text, expected):
    write(content_copy / "rules/bad.yml", text)
    assert expected in run_expecting_error("dev", *dev())


def test_two_dashboards_of_one_title_in_a_folder_are_a_warning(content_copy, logged_warnings):
    """Grafana 13 takes the second (docs/content.md, "Dashboards"): a warning naming lint rule title-unique."""
    title = json.loads((content_copy / "dashboards/MindHit/api-overview.json").read_text())["title"]
    model = json.loads((content_copy / "dashboards/MindHit/business-metrics.json").read_text())
    write(content_copy / "dashboards/MindHit/copy.json", json.dumps({**model, "uid": "mindhit-copy", "title": title}))
    assert run_program("dev", *dev()).recorder.registrations
    assert (
        f"dashboards/MindHit/copy.json: [title-unique] $.title: {title!r} is already the title of "
        "dashboards/MindHit/api-overview.json in folder 'MindHit' (to turn the rule off for this file: "
        'dashboards/MindHit/.lint: exclusions: {title-unique: {reason: "<why>", dashboards: [copy.json]}})'
    ) in logged_warnings


def test_a_dashboard_of_the_wrong_structure_stops_preview_by_file_and_json_path(content_copy):
    """Lint rule `schema` (stacks/content/dashboard_schema.py): Grafana's dashboard schema, checked at preview."""
    with edited_dashboard(content_copy / "dashboards/MindHit/infrastructure.json") as model:
        model["panels"][2]["gridPos"] = "x=0 y=8 w=12 h=8"
        model["panels"][3]["targets"] = {"A": model["panels"][3]["targets"][0]}
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/infrastructure.json: [schema] 2 findings: $.panels[2].gridPos: expected an object "
        '(dashboard.GridPos), got a string "x=0 y=8 w=12 h=8"; $.panels[3].targets: expected an array, got an object'
        in message
    )


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        (
            {"name": "lts", "url": "ftp://store:21/write"},
            "prometheus.remoteWrite[0].url: must be an http(s) URL of the store's write API, got 'ftp://store:21/write'",
        ),
        (
            {"name": "lts", "url": "http://vm:8428/api/v1/write", "writeRelabel": [{"action": "erase"}]},
            "prometheus.remoteWrite[0].writeRelabel[0].action: must be one of replace, keep, drop",
        ),
        (
            {"name": "lts", "url": "http://vm:8428/api/v1/write", "writeRelabel": [{"action": "hashmod"}]},
            "prometheus.remoteWrite[0].writeRelabel[0].targetLabel: is required for action hashmod",
        ),
        (
            {"name": "lts", "url": "http://vm:8428/api/v1/write", "queue": {"maxShards": 0}},
            "prometheus.remoteWrite[0].queue.maxShards: must be a positive whole number, got 0",
        ),
    ],
)
def test_a_remote_write_store_prometheus_would_refuse(store, expected):
    assert expected in run_expecting_error("dev", *with_remote_write("dev", store))


def test_two_remote_write_stores_of_one_name():
    store = {"name": "lts", "url": "http://vm:8428/api/v1/write"}
    message = run_expecting_error("dev", *with_remote_write("dev", store, store))
    assert "prometheus.remoteWrite: two stores are named 'lts'" in message


def test_remote_write_credentials_in_plain_text_outside_dev_are_refused_without_echoing_them():
    store = {"name": "lts", "url": "https://vm/api/v1/write", "basicAuth": {"username": "u", "password": "hunter22"}}
    message = run_expecting_error("staging", *with_remote_write("staging", store, secret=False))
    assert (
        "prometheus.remoteWrite[0].basicAuth.password: holds credentials: "
        "pulumi config set --secret --path 'prometheus.remoteWrite[0].basicAuth.password' <value>" in message
    )
    assert "hunter22" not in message


SECOND = {"name": "web-1", "dockerHost": "tcp://10.0.0.5:2376", "address": "10.0.0.5", "agents": ["node-exporter"]}


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        (
            [{"name": "local"}, {**SECOND, "name": "local"}],
            "hosts[1].name: 'local' is already hosts[0]'s: each host once",
        ),
        (
            [{"name": "local"}, SECOND, {**SECOND, "name": "web-2"}],
            "hosts[2].dockerHost: 'tcp://10.0.0.5:2376' is already hosts[1]'s: each host once",
        ),
        (
            [{"name": "local"}, {"name": "also-local"}],
            "hosts[1].dockerHost: \"(the stack's own daemon)\" is already hosts[0]'s: each host once",
        ),
        (
            [{**SECOND, "dockerHost": "http://10.0.0.5:2375"}],
            "hosts[0].dockerHost: must be a Docker daemon as unix://, tcp:// or ssh://, got 'http://10.0.0.5:2375'",
        ),
        (
            [{**SECOND, "agents": ["node-exporter", "cadvisor"], "ports": {"node-exporter": 9200, "cadvisor": 9200}}],
            "hosts[0].ports.cadvisor: port 9200 is already node-exporter's on this host",
        ),
        (
            [{"name": "local", "ports": {"cadvisor": 9091}}],
            "hosts[0].ports.cadvisor: port 9091 is already published on this host by ports.prometheus",
        ),
        (
            [{k: v for k, v in SECOND.items() if k != "address"}],
            "hosts[0].address: is required for a host other than the stack's own",
        ),
        (
            [{"name": "local", "address": "127.0.0.1"}],
            "hosts[0].address: 127.0.0.1 cannot be scraped: Prometheus runs in a container",
        ),
        (
            [{"name": "local", "agents": ["node-exporter", "promtail"]}],
            "hosts[0].agents[1]: the stack's own host's logs are collected by the promtail service (services)",
        ),
        ([{"name": "Web_1"}], "hosts[0].name: must be a name such as 'web-1' (a-z, 0-9, -), got 'Web_1'"),
        ([{"name": "local", "agents": ["collectd"]}], "hosts[0].agents[0]: must be one of node-exporter, cadvisor"),
        (
            [{"name": "local"}, {**SECOND, "agents": ["node-exporter", "promtail"]}],
            "loki.pushUrl: is required: where the log collectors of web-1 reach this stack's Loki",
        ),
    ],
)
def test_a_host_list_that_cannot_be_deployed(hosts, expected):
    config, secrets = dev()
    config["monitoring:hosts"] = hosts
    assert expected in run_expecting_error("dev", config, secrets)


def test_promtail_on_another_host_of_a_stack_without_loki():
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "alertmanager", "grafana"]
    config["monitoring:hosts"] = [{**SECOND, "agents": ["promtail"]}]
    message = run_expecting_error("dev", config, secrets)
    assert "hosts[0].agents[0]: promtail ships to the stack's Loki, and loki is not in services" in message


def kubernetes_stack(**kubernetes) -> tuple[dict, list[str]]:
    """dev's config as a Kubernetes stack (its static scrape targets are a Docker target's)."""
    config, secrets = dev()
    del config["monitoring:scrapeTargets"]
    config["monitoring:kubernetes"] = {
        "namespace": "monitoring",
        "alertmanagerConfigLabels": {"alertmanagerConfig": "monitoring"},
        **kubernetes,
    }
    return config, secrets


@pytest.mark.parametrize(
    ("kubernetes", "expected"),
    [
        ({"namespace": ""}, "kubernetes.namespace: is required: the namespace every object goes to"),
        ({"namespace": "Monitoring"}, "kubernetes.namespace: must be the namespace every object goes to"),
        (
            {"ruleLabels": {"release name": "kps"}},
            "kubernetes.ruleLabels.release name: label key 'release name': its name must be",
        ),
        (
            {"monitorLabels": {"example.com/team": "a b"}},
            "kubernetes.monitorLabels.example.com/team: label example.com/team: its value 'a b' must be",
        ),
        ({"ruleLabels": {"release": True}}, "kubernetes.ruleLabels.release: label release: its value must be a string"),
        (
            {"alertmanagerConfigLabels": {}},
            "kubernetes.alertmanagerConfigLabels: is required: the labels the operator's selector matches",
        ),
        ({"grafana": "sidecar"}, "kubernetes.grafana: must be one of configmaps, provider, got 'sidecar'"),
        (
            {"monitors": [{"job": "mindhit-api", "selector": {"app": "api"}, "port": "8080x!"}]},
            "kubernetes.monitors[0].port: must be the name of the metrics port",
        ),
        (
            {"monitors": [{"job": "prometheus", "selector": {"app": "api"}, "port": "http"}]},
            "kubernetes.monitors[0].job: job 'prometheus' is already scraped",
        ),
    ],
)
def test_a_kubernetes_target_the_operator_cannot_take(kubernetes, expected):
    assert expected in run_expecting_error("dev", *kubernetes_stack(**kubernetes))


def test_a_stack_with_both_a_docker_and_a_kubernetes_target():
    config, secrets = kubernetes_stack()
    config["monitoring:dockerHost"] = "ssh://deploy@10.0.0.5"
    config["monitoring:hosts"] = [{"name": "local"}]
    message = run_expecting_error("dev", config, secrets)
    for key in ("dockerHost", "hosts"):
        assert f"- {key}: is a Docker target's setting, and this stack targets Kubernetes (kubernetes)" in message


def test_a_route_an_alertmanager_config_cannot_express():
    config, secrets = kubernetes_stack()
    alerting = config["monitoring:alerting"]
    alerting["route"]["routes"].insert(0, {"matchers": ['namespace="payments"'], "receiver": "critical"})
    alerting["inhibitRules"][0]["equal"] = ["alertname"]
    alerting["inhibitRules"][0]["sourceMatchers"].append('namespace=~"pay.*"')
    alerting["inhibitRules"][0]["targetMatchers"].insert(0, 'namespace!="ops"')
    message = run_expecting_error("dev", config, secrets)
    assert "alerting.route.routes[0].matchers[0]: an AlertmanagerConfig is namespace-scoped" in message
    assert "alerting.inhibitRules[0].sourceMatchers[1]: an AlertmanagerConfig is namespace-scoped" in message
    assert "alerting.inhibitRules[0].targetMatchers[0]: an AlertmanagerConfig is namespace-scoped" in message


def test_a_grafana_name_prefix_grafana_would_refuse():
    """Grafana takes uids of at most 40 letters, digits, '-' and '_' (util.ValidateUID)."""
    config, secrets = external_grafana()
    config["monitoring:grafana"]["namePrefix"] = "team a/"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.namePrefix: must be letters, digits, '-' or '_', got 'team a/'" in message
    config["monitoring:grafana"]["namePrefix"] = "t" * 30
    message = run_expecting_error("dev", config, secrets)
    assert f"grafana.namePrefix: '{'t' * 30}' makes the uid of " in message
    assert "characters, and Grafana takes at most 40: a prefix of at most " in message
    # The advice is exact: the longest prefix it names fits, one more character does not.
    fits = int(re.search(r"a prefix of at most (\d+) characters", message)[1])
    config["monitoring:grafana"]["namePrefix"] = "t" * (fits + 1)
    assert "grafana.namePrefix: " in run_expecting_error("dev", config, secrets)
    config["monitoring:grafana"]["namePrefix"] = "t" * fits
    run_program("dev", config, secrets)


def test_a_grafana_name_prefix_or_version_where_it_means_nothing():
    config, secrets = dev()
    config["monitoring:grafanaContent"] = False
    config["monitoring:grafana"] = {"namePrefix": "team-a"}
    message = run_expecting_error("dev", config, secrets)
    assert (
        "grafana.namePrefix: names what the stack pushes through the Grafana provider, and it pushes nothing" in message
    )
    config, secrets = external_grafana()
    config["monitoring:grafana"]["version"] = "thirteen"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.version: must be a Grafana version such as 13.1.0, got 'thirteen'" in message
    config, secrets = dev()
    config["monitoring:grafana"] = {"orgId": 2}
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.orgId: is for an existing Grafana's token (grafana not in services" in message


@pytest.mark.parametrize("stack", ["staging", "prod"])
@pytest.mark.parametrize("password", ["admin", "password"])
def test_a_well_known_grafana_password_outside_dev(stack, password):
    config, secrets = configured_stack(stack)
    config["monitoring:grafanaAdminPassword"] = password
    message = run_expecting_error(stack, config, secrets)
    assert f"grafanaAdminPassword: must not be a well-known default in {stack}" in message
    assert password not in message.replace("well-known", "").replace("grafanaAdminPassword", "")


def test_a_child_route_without_matchers_or_a_root_with_them():
    config, secrets = dev()
    route = config["monitoring:alerting"]["route"]
    route["routes"][0].pop("matchers")
    route["matchers"] = ['severity="critical"']
    message = run_expecting_error("dev", config, secrets)
    assert "alerting.route.routes[0].matchers: a child route needs at least one matcher" in message
    assert "alerting.route.matchers: the root route matches every alert and takes no matchers" in message
