"""Notification templates (templates/*.tmpl): parsed at preview as Alertmanager parses them, every
`{{ template "name" }}` a receiver or a template runs defined, shipped to Alertmanager and to Grafana. Rendered
by the stack's own amtool (0.35) against sample alerts: tests/tools/test_templates_amtool.py."""

from __future__ import annotations

import pytest
import yaml
from conftest import configured_stack
from mockstack import run_expecting_error, run_program, unwrap
from repo import ROOT
from variants import smtp_run

from stacks.config.load import load_settings
from stacks.render.kubernetes import alertmanager_config

CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"


def test_a_template_file_that_does_not_parse_stops_preview(content_copy):
    (content_copy / "templates/broken.tmpl").write_text('{{ define "x" }}\n{{ .Status | toUpper }\n{{ end }}\n')
    message = run_expecting_error("staging", *configured_stack("staging"))
    assert 'templates/broken.tmpl: does not parse: line 2: unexpected "}" in operand' in message


def test_a_receiver_running_an_undefined_template_stops_preview(content_copy):
    (content_copy / "templates/slack.tmpl").unlink()
    message = run_expecting_error("staging", *configured_stack("staging"))
    assert (
        'alerting.receivers[0].slack[0].title: runs {{ template "monitoring.slack.title" }}, which no file of '
        'templates/ defines (nor Alertmanager itself): add {{ define "monitoring.slack.title" }} ... {{ end }} to a '
        "templates/*.tmpl file" in message
    )
    assert 'alerting.receivers[1].slack[0].text: runs {{ template "monitoring.slack.text" }}' in message


def test_a_pagerduty_or_email_field_running_an_undefined_template_is_named():
    config, secrets = configured_stack("prod")
    receivers = config["monitoring:alerting"]["receivers"]
    receivers[1]["pagerduty"][0]["description"] = '{{ template "monitoring.pagerduty.description" . }}'
    receivers[5]["email"][0]["subject"] = '{{ template "monitoring.email.subject" . }}'
    message = run_expecting_error("prod", config, secrets)
    assert 'alerting.receivers[1].pagerduty[0].description: runs {{ template "monitoring.pagerduty.description" }}' in (
        message
    )
    assert 'alerting.receivers[5].email[0].subject: runs {{ template "monitoring.email.subject" }}' in message


def test_alertmanagers_own_templates_need_no_file(content_copy):
    (content_copy / "templates/slack.tmpl").unlink()
    config, secrets = configured_stack("staging")
    for receiver in config["monitoring:alerting"]["receivers"]:
        for slack in receiver.get("slack", []):
            slack.update(title='{{ template "slack.default.title" . }}', text='{{ template "slack.default.text" . }}')
    assert run_program("staging", config, secrets).recorder.registrations


def test_a_template_file_running_an_undefined_template_stops_preview(content_copy):
    (content_copy / "templates/more.tmpl").write_text('{{ define "footer" }}{{ template "signature" . }}{{ end }}')
    message = run_expecting_error("staging", *configured_stack("staging"))
    assert 'templates/more.tmpl: runs {{ template "signature" }}, which no file of templates/ defines' in message


def test_templates_reach_alertmanager_and_grafana():
    run = run_program("staging", *configured_stack("staging"))
    container = run.recorder.one("docker:index/container:Container", "monitoring-alertmanager-container")
    uploads = {u["file"]: u.get("content") for u in unwrap(container.inputs)["uploads"]}
    config = yaml.safe_load(uploads["/etc/alertmanager/alertmanager.yml"])
    assert config["templates"] == ["templates/slack.tmpl"]  # each file by name
    assert uploads["/etc/alertmanager/templates/slack.tmpl"] == (ROOT / "templates/slack.tmpl").read_text()
    (template,) = run.recorder.by_type("grafana:alerting/messageTemplate:MessageTemplate")
    assert unwrap(template.inputs)["name"] == "slack"
    assert unwrap(template.inputs)["template"] == (ROOT / "templates/slack.tmpl").read_text()
    contact = run.recorder.one(CONTACT_POINT, "monitoring-grafana-content-contact-point-default")
    assert template.urn in contact.dependencies


def test_a_kubernetes_stack_cannot_run_templates_of_templates():
    """An AlertmanagerConfig carries no templates: a receiver of a Kubernetes stack may run Alertmanager's own."""
    config, secrets = configured_stack("cluster")
    receiver = config["monitoring:alerting"]["receivers"][0]
    receiver["slack"][0]["text"] = '{{ template "monitoring.slack.text" . }}'
    message = run_expecting_error("cluster", config, secrets)
    assert 'alerting.receivers[0].slack[0].text: runs {{ template "monitoring.slack.text" }}' in message


def test_every_field_of_a_target_reaches_both_trees():
    config, secrets = configured_stack("staging")
    receiver = config["monitoring:alerting"]["receivers"][0]
    receiver["slack"][0].update(iconEmoji=":fire:", color='{{ if eq .Status "firing" }}danger{{ end }}', footer="f")
    receiver["email"] = [{"to": "ops@example.com", "subject": "[{{ .Status }}]", "html": "<b>x</b>", "text": "t"}]
    config["monitoring:alerting"]["smtp"] = {"smarthost": "mail:587", "from": "am@example.com"}
    receiver["webhooks"] = [{"url": "https://hook.example/x", "maxAlerts": 5}]
    run = run_program("staging", config, secrets)
    container = run.recorder.one("docker:index/container:Container", "monitoring-alertmanager-container")
    uploads = {u["file"]: u.get("content") for u in unwrap(container.inputs)["uploads"]}
    rendered = yaml.safe_load(uploads["/etc/alertmanager/alertmanager.yml"])["receivers"][0]
    slack = rendered["slack_configs"][0]
    assert (slack["icon_emoji"], slack["footer"], slack["username"]) == (":fire:", "f", "monitoring-staging")
    email = rendered["email_configs"][0]
    assert (email["headers"], email["html"], email["text"]) == ({"Subject": "[{{ .Status }}]"}, "<b>x</b>", "t")
    assert rendered["webhook_configs"][0]["max_alerts"] == 5
    contact = unwrap(run.recorder.one(CONTACT_POINT, "monitoring-grafana-content-contact-point-default").inputs)
    assert contact["slacks"][0]["iconEmoji"] == ":fire:" and "footer" not in contact["slacks"][0]
    assert (contact["emails"][0]["subject"], contact["emails"][0]["message"]) == ("[{{ .Status }}]", "t")
    assert contact["webhooks"][0]["maxAlerts"] == 5


def test_smtp_credentials_go_to_both_servers_only_with_a_user():
    with_user, env, _ = smtp_run(
        {"smarthost": "mail:587", "from": "am@example.com", "username": "am", "password": "pw"}
    )
    assert with_user == {
        "smtp_smarthost": "mail:587",
        "smtp_from": "am@example.com",
        "smtp_require_tls": True,
        "smtp_auth_username": "am",
        "smtp_auth_password": "pw",
    }
    assert grafana_smtp(env) == {
        "GF_SMTP_ENABLED": "true",
        "GF_SMTP_HOST": "mail:587",
        "GF_SMTP_FROM_ADDRESS": "am@example.com",
        "GF_SMTP_USER": "am",
        "GF_SMTP_PASSWORD": "pw",
    }
    without, env, _ = smtp_run({"smarthost": "mail:25", "from": "am@example.com"})
    assert without == {"smtp_smarthost": "mail:25", "smtp_from": "am@example.com", "smtp_require_tls": True}
    assert grafana_smtp(env) == {
        "GF_SMTP_ENABLED": "true",
        "GF_SMTP_HOST": "mail:25",
        "GF_SMTP_FROM_ADDRESS": "am@example.com",
        "GF_SMTP_USER": "",
        "GF_SMTP_PASSWORD": "",
    }


def grafana_smtp(env: dict[str, str]) -> dict[str, str]:
    """Grafana's SMTP settings (its [smtp] section as GF_SMTP_* variables), whatever their case."""
    return {key: value for key, value in env.items() if key.upper().startswith("GF_SMTP")}


def test_an_alertmanager_config_carries_every_field_under_the_operators_names():
    """The AlertmanagerConfig CRD's names (prometheus-operator v0.85.0, pkg/apis/monitoring/v1alpha1,
    alertmanager_config_types.go: iconURL, clientURL, titleLink, maxAlerts, headers as {key, value})."""
    config, secrets = configured_stack("cluster")
    receiver = config["monitoring:alerting"]["receivers"][0]
    receiver["slack"][0].update(iconUrl="https://example.com/i.png", titleLink="https://example.com", color="good")
    receiver["pagerduty"] = [{"routingKey": "a" * 32, "clientUrl": "https://example.com", "severity": "error"}]
    receiver["email"] = [{"to": "ops@example.com", "subject": "s", "html": "<b>h</b>"}]
    config["monitoring:alerting"]["smtp"] = {"smarthost": "mail:587", "from": "am@example.com"}
    receiver["webhooks"] = [{"url": "https://hook.example/x", "maxAlerts": 3}]
    settings = load_settings(config, frozenset(secrets))
    spec = alertmanager_config(settings)[0].body["receivers"][0]
    slack = spec["slackConfigs"][0]
    assert (slack["iconURL"], slack["titleLink"], slack["color"]) == (
        "https://example.com/i.png",
        "https://example.com",
        "good",
    )
    pagerduty = spec["pagerdutyConfigs"][0]
    assert (pagerduty["clientURL"], pagerduty["severity"]) == ("https://example.com", "error")
    email = spec["emailConfigs"][0]
    assert (email["headers"], email["html"]) == ([{"key": "Subject", "value": "s"}], "<b>h</b>")
    assert spec["webhookConfigs"][0]["maxAlerts"] == 3


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            {"slack": [{"url": "https://hooks.slack.test/x", "footer": "{{ .Status "}]},
            "alerting.receivers[0].slack[0].footer: template does not parse",
        ),
        (
            {"email": [{"to": "ops@example.com", "html": "{{ end }}"}]},
            "alerting.receivers[0].email[0].html: template does not parse",
        ),
        (
            {"pagerduty": [{"routingKey": "a" * 32, "description": "{{ .Status | nope }}"}]},
            'alerting.receivers[0].pagerduty[0].description: template does not parse: function "nope" not defined',
        ),
        (
            {"webhooks": [{"url": "https://hook.example/x", "maxAlerts": -1}]},
            "alerting.receivers[0].webhooks[0].maxAlerts: must be a whole number, 0 or more, got -1",
        ),
        (
            {"slack": [{"url": "https://hooks.slack.test/x", "iconEmojii": ":x:"}]},
            "alerting.receivers[0].slack[0].iconEmojii: unknown key",
        ),
    ],
)
def test_a_targets_bad_field_stops_preview_naming_its_key(target, expected):
    config, secrets = configured_stack("staging")
    config["monitoring:alerting"]["smtp"] = {"smarthost": "mail:587", "from": "am@example.com"}
    receiver = config["monitoring:alerting"]["receivers"][0]
    receiver.pop("slack")
    receiver.update(target)
    assert expected in run_expecting_error("staging", config, secrets)
