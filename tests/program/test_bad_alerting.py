"""Bad alerting settings (`alerting`): routes, receivers and their templates and secrets, PagerDuty keys, contact
points. The whole program under mocks stops with an error naming the key, and registers nothing; a route that
can never match is a warning."""

from __future__ import annotations

import copy

import pytest
from bad_input import dev
from conftest import configured_stack
from mockstack import run_expecting_error, run_program


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


def test_a_child_route_without_matchers_or_a_root_with_them():
    config, secrets = dev()
    route = config["monitoring:alerting"]["route"]
    route["routes"][0].pop("matchers")
    route["matchers"] = ['severity="critical"']
    message = run_expecting_error("dev", config, secrets)
    assert "alerting.route.routes[0].matchers: a child route needs at least one matcher" in message
    assert "alerting.route.matchers: the root route matches every alert and takes no matchers" in message


def test_a_route_on_a_label_no_rule_sets_is_a_warning_naming_the_route(logged_warnings):
    config, secrets = dev()
    routes = config["monitoring:alerting"]["route"]["routes"]
    routes.append({"matchers": ['team="payments"'], "receiver": "critical"})
    # Labels every alert has without a rule setting them: its name, and a Grafana-managed rule's folder.
    routes.append({"matchers": ['alertname="KerpApiDown"'], "receiver": "critical"})
    routes.append({"matchers": ['grafana_folder="K-ERP"'], "receiver": "critical"})
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


# ---------------------------------------------------------------- receivers


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


def test_two_receivers_that_would_be_one_contact_point():
    config, secrets = dev()
    receivers = config["monitoring:alerting"]["receivers"]
    receivers.append({**copy.deepcopy(receivers[0]), "name": "On-Call"})
    receivers.append({**copy.deepcopy(receivers[0]), "name": "on call"})
    message = run_expecting_error("dev", config, secrets)
    assert "receivers 'On-Call' and 'on call' would both be Grafana contact point 'on-call'" in message


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
