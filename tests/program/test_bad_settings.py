"""Bad stack settings (Pulumi.<stack>.yaml): unknown keys and wrong types, ports, retention, the admin password,
systems, images and services. The whole program under mocks stops with an error naming the key, and registers
nothing."""

from __future__ import annotations

import pytest
from bad_input import dev
from conftest import configured_stack
from mockstack import run_expecting_error


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


@pytest.mark.parametrize("stack", ["staging", "prod"])
@pytest.mark.parametrize("password", ["admin", "password"])
def test_a_well_known_grafana_password_outside_dev(stack, password):
    config, secrets = configured_stack(stack)
    config["monitoring:grafanaAdminPassword"] = password
    message = run_expecting_error(stack, config, secrets)
    assert f"grafanaAdminPassword: must not be a well-known default in {stack}" in message
    assert password not in message.replace("well-known", "").replace("grafanaAdminPassword", "")


def test_every_problem_is_reported_at_once():
    config, secrets = dev()
    config["monitoring:ports"] = {"grafana": 0}
    config["monitoring:prometheus"] = {"retentionSize": "lots"}
    message = run_expecting_error("dev", config, secrets)
    assert "ports.grafana" in message and "prometheus.retentionSize" in message


def test_unknown_system_in_the_stack_settings():
    config, secrets = dev()
    config["monitoring:systems"] = ["mindhit", "billing"]
    message = run_expecting_error("dev", config, secrets)
    assert "systems[1]: no content for system 'billing'; known: " in message


# ---------------------------------------------------------------- images and services


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


def test_a_misspelt_service_is_named_with_the_one_it_resembles():
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "alertmanager", "grafna", "tempo"]
    message = run_expecting_error("dev", config, secrets)
    assert (
        "- services[2]: must be one of prometheus, alertmanager, loki, promtail, grafana, got 'grafna' (did you mean "
        "'grafana'?)\n- services[3]: must be one of prometheus, alertmanager, loki, promtail, grafana, got 'tempo'\n"
    ) in message


def test_a_scrape_target_that_is_no_object_is_named():
    config, secrets = dev()
    config["monitoring:scrapeTargets"] = ["mindhit-api:8080"]
    assert run_expecting_error("dev", config, secrets).splitlines()[1:] == [
        "- scrapeTargets[0]: must be an object with job and targets, got 'mindhit-api:8080'",
        "1 error",
    ]


def test_a_scrape_target_s_and_an_exporter_s_fields_are_each_named_with_what_they_take():
    config, secrets = dev()
    target = {"job": "shop-api", "targets": "shop:8080", "metricsPath": "metrics", "scheme": "ftp"}
    config["monitoring:scrapeTargets"] = [target]
    config["monitoring:exporters"] = [{"kind": "redis", "address": "redis://redis:6379"}]
    assert run_expecting_error("dev", config, secrets).splitlines()[1:] == [
        "- scrapeTargets[0].targets: must be a non-empty list of host:port, got 'shop:8080'",
        "- scrapeTargets[0].metricsPath: must be a path starting with '/', got 'metrics'",
        "- scrapeTargets[0].scheme: must be http or https, got 'ftp'",
        "- exporters[0].system: is required: a system name such as wealist",
        "4 errors",
    ]


def test_services_the_stack_cannot_do_without_or_that_need_another():
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "promtail", "grafana", "grafana"]
    message = run_expecting_error("dev", config, secrets)
    assert "services: must include alertmanager" in message
    assert "services: promtail ships logs to the stack's loki" in message
    assert "services: 'grafana' is listed more than once" in message
