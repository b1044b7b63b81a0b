"""Settings validation and the routing model, as pure functions."""

from __future__ import annotations

import pytest
from conftest import TEST_SECRETS, configured_stack, fake_group
from rendering import stack_settings

from stacks.config.load import load_settings
from stacks.config.settings import AppDiscoverySettings, Matcher
from stacks.environment import docker_socket_group
from stacks.errors import InputError
from stacks.layout import APP_DISCOVERY_JOB
from stacks.syntax.durations import canonical_duration, parse_duration
from stacks.versions import IMAGES


def test_dev_defaults_come_from_the_pulumi_yaml_schema():
    settings = stack_settings("dev")
    assert settings.name_prefix == "monitoring-dev"
    assert settings.bind_address == "127.0.0.1"
    assert settings.ports == {"prometheus": 9091, "alertmanager": 9093, "loki": 3100, "promtail": 9080, "grafana": 3010}
    # Retention by time left out: derived from the content it deploys (stacks/preflight.py,
    # tests/program/test_retention.py).
    assert (settings.prometheus.retention_time, settings.prometheus.retention_size) == ("", "10GB")
    assert settings.loki_retention_period == "7d"
    assert settings.grafana_admin_password == "admin"  # the dev default, and only in dev
    assert settings.protect_volumes is False


def test_a_partial_object_keeps_the_other_defaults():
    config, secrets = configured_stack("dev")
    config["monitoring:prometheus"] = {"retentionTime": "30d"}
    settings = load_settings(config, frozenset(secrets))
    assert settings.prometheus.retention_time == "30d"
    assert settings.prometheus.retention_size == "10GB"


def test_an_empty_image_keeps_the_pinned_release_and_a_given_one_replaces_it():
    config, secrets = configured_stack("dev")
    config["monitoring:images"] = {
        "prometheus": "",
        "alertmanager": None,
        "grafana": "reg.example.com/g/grafana:13.0.1",
    }
    images = load_settings(config, frozenset(secrets)).images
    assert (images["prometheus"], images["alertmanager"]) == (IMAGES["prometheus"], IMAGES["alertmanager"])  # the pins
    assert images["grafana"] == "reg.example.com/g/grafana:13.0.1"


def test_values_arrive_from_the_engine_as_strings():
    config, secrets = configured_stack("dev")
    config = {k: (v if isinstance(v, str) else __import__("json").dumps(v)) for k, v in config.items()}
    config["monitoring:protectVolumes"] = "true"
    config["monitoring:ports"] = '{"grafana": 3011}'
    settings = load_settings(config, frozenset(secrets))
    assert settings.protect_volumes is True and settings.ports["grafana"] == 3011


def test_prod_protects_volumes_and_takes_its_secrets():
    settings = stack_settings("prod")
    assert settings.protect_volumes is True
    assert settings.grafana_admin_password == "prod-Secret-pw-1"
    assert settings.alerting.receivers[1].pagerduty[0].routing_key == "pdv2Prod0001IntegrationKey000001"


def test_secrets_do_not_show_in_reprs_or_tracebacks():
    text = repr(stack_settings("prod"))
    assert "grafana_admin_user='admin'" in text
    for secret in TEST_SECRETS["prod"].values():
        assert secret not in text


@pytest.mark.parametrize(
    ("environment", "message"),
    [("qa", "environment: must be one of dev, staging, prod, got 'qa'"), (None, "environment: is required")],
)
def test_an_unknown_or_missing_environment_is_named(environment, message):
    config, secrets = configured_stack("dev")
    config["monitoring:environment"] = environment
    if environment is None:
        del config["monitoring:environment"]
    with pytest.raises(InputError, match=message):
        load_settings(config, frozenset(secrets))


def test_provider_namespaces_are_not_ours_to_check():
    config, secrets = configured_stack("dev")
    config["docker:host"] = "unix:///var/run/docker.sock"
    assert load_settings(config, frozenset(secrets)).environment == "dev"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("60s", "1m"),
        ("90s", "1m30s"),
        ("4h", "4h"),
        ("168h", "1w"),
        ("14d", "2w"),
        ("15d", "15d"),  # weeks only when exact: Prometheus prints 90d, not 12w6d
        ("90d", "90d"),
        ("365d", "1y"),
        ("1y", "1y"),
        ("366d", "366d"),
        ("1y1d", "366d"),
        ("730d", "2y"),
        ("7d1h", "7d1h"),
        ("0s", "0s"),
        ("0", "0s"),
        ("1ms", "1ms"),
        ("999ms", "999ms"),
        ("1000ms", "1s"),
        ("1500ms", "1s500ms"),
        ("1h0m1ms", "1h1ms"),
    ],
)
def test_durations_are_written_as_grafana_reads_them_back(text, canonical):
    assert canonical_duration(text) == canonical


@pytest.mark.parametrize("text", ["", "15 days", "5", "m5", "1.5h", "-1m"])
def test_durations_reject_what_prometheus_rejects(text):
    with pytest.raises(ValueError, match="must look like"):
        parse_duration(text)


def test_matchers_are_parsed_for_both_alertmanager_and_grafana():
    config, secrets = configured_stack("dev")
    config["monitoring:alerting"]["route"]["routes"][1]["matchers"] = ['service =~ "api|worker"', "team!=infra"]
    route = load_settings(config, frozenset(secrets)).alerting.route.routes[1]
    assert route.matchers == (Matcher("service", "=~", "api|worker"), Matcher("team", "!=", "infra"))
    assert [m.alertmanager() for m in route.matchers] == ['service=~"api|worker"', 'team!="infra"']


def test_a_bad_matcher_is_named():
    config, secrets = configured_stack("dev")
    config["monitoring:alerting"]["route"]["routes"][0]["matchers"] = ["severity is critical"]
    with pytest.raises(InputError, match=r"alerting.route.routes\[0\].matchers\[0\]: must look like"):
        load_settings(config, frozenset(secrets))


def test_email_receivers_need_smtp():
    config, secrets = configured_stack("dev")
    config["monitoring:alerting"]["receivers"].append({"name": "mail", "email": [{"to": "ops@example.com"}]})
    with pytest.raises(InputError, match=r"alerting.receivers\[6\].email\[0\]: email receivers need alerting.smtp"):
        load_settings(config, frozenset(secrets))


def test_every_url_setting_refuses_whitespace_and_a_missing_host():
    config, secrets = configured_stack("dev")
    config["monitoring:services"] = ["prometheus", "alertmanager", "loki", "promtail"]  # an existing Grafana
    config["monitoring:grafanaToken"] = "glsa_token"
    config["monitoring:grafana"] = {
        "url": "https://grafana.example.com/my grafana",
        "datasourceUrls": {"prometheus": "http:///api", "alertmanager": "http://am:9093", "loki": "http://loki:3100"},
    }
    config["monitoring:loki"] = {"pushUrl": "http://10.0.0.2:3100/ push"}
    config["monitoring:prometheus"] = {"remoteWrite": [{"name": "lts", "url": "https://store.example.com/api /write"}]}
    with pytest.raises(InputError) as error:
        load_settings(config, frozenset([*secrets, "monitoring:grafanaToken"]))
    problems = "\n".join(error.value.problems)
    assert "grafana.url: must be an http(s) URL, got 'https://grafana.example.com/my grafana'" in problems
    assert "grafana.datasourceUrls.prometheus: must be an http(s) URL, got 'http:///api'" in problems
    assert "loki.pushUrl: must be an http(s) URL, got 'http://10.0.0.2:3100/ push'" in problems
    assert "prometheus.remoteWrite[0].url: must be an http(s) URL of the store's write API" in problems


def test_a_webhook_url_is_a_template_so_only_its_scheme_and_host_are_checked():
    config, secrets = configured_stack("dev")
    url = "http://hooks.example.com/{{ .GroupLabels.alertname }}"  # Alertmanager executes it: spaces inside {{ }}
    config["monitoring:alerting"]["receivers"][0]["webhooks"] = [{"url": url}]
    receivers = load_settings(config, frozenset(secrets)).alerting.receivers
    assert receivers[0].webhooks[0].url == url
    config["monitoring:alerting"]["receivers"][0]["webhooks"][0]["url"] = "hooks.example.com/{{ .GroupLabels.x }}"
    with pytest.raises(InputError, match=r"webhooks\[0\].url: must be an http:// or https:// URL"):
        load_settings(config, frozenset(secrets))


def with_app_discovery(**config_values):
    config, secrets = configured_stack("dev")
    config.update({f"monitoring:{k}": v for k, v in config_values.items()})
    return load_settings(config, frozenset(secrets))


def test_app_discovery_is_on_by_default_with_the_local_socket_group():
    assert stack_settings("dev").app_discovery == AppDiscoverySettings(enabled=True, docker_socket_group="")


@pytest.mark.parametrize("group", ["999", 999])
def test_the_socket_group_is_a_numeric_group_id(group):
    assert with_app_discovery(appDiscovery={"dockerSocketGroup": group}).app_discovery.docker_socket_group == "999"


@pytest.mark.parametrize("group", ["docker", "-1", -1, True])
def test_a_socket_group_that_is_no_group_id_is_named(group):
    with pytest.raises(InputError, match=r"appDiscovery.dockerSocketGroup: must be a numeric group id"):
        with_app_discovery(appDiscovery={"dockerSocketGroup": group})


def test_unknown_app_discovery_keys_are_named():
    with pytest.raises(InputError, match=r"appDiscovery.socketGroup: unknown key; known keys: enabled, dockerSocket"):
        with_app_discovery(appDiscovery={"socketGroup": "999"})


def test_a_static_job_may_not_take_the_discovery_job_name():
    targets = [{"job": APP_DISCOVERY_JOB, "targets": ["app:8080"]}]
    with pytest.raises(InputError, match=rf"scrapeTargets\[0\].job: job '{APP_DISCOVERY_JOB}' is already scraped"):
        with_app_discovery(scrapeTargets=targets)


def test_the_socket_group_is_read_from_the_local_socket(tmp_path, monkeypatch):
    socket = tmp_path / "docker.sock"
    socket.touch()
    fake_group(monkeypatch, socket, 4242)
    assert docker_socket_group(stack_settings("dev"), environ={}, socket=str(socket)) == "4242"
    local = {"DOCKER_HOST": f"unix://{socket}"}
    assert docker_socket_group(stack_settings("dev"), environ=local, socket=str(socket)) == "4242"


def test_a_configured_socket_group_is_not_read_from_anywhere(tmp_path):
    settings = with_app_discovery(appDiscovery={"dockerSocketGroup": "998"}, dockerHost="ssh://deploy@metrics.test")
    assert docker_socket_group(settings, environ={}, socket=str(tmp_path / "missing.sock")) == "998"


def test_a_remote_daemon_needs_the_socket_group():
    remote = with_app_discovery(dockerHost="tcp://metrics.example.com:2376")
    with pytest.raises(
        InputError,
        match=r"appDiscovery.dockerSocketGroup: is required when the Docker daemon is not "
        r"the local /var/run/docker.sock \(it is 'tcp://metrics.example.com:2376'\)",
    ):
        docker_socket_group(remote, environ={})
    with pytest.raises(InputError, match=r"\(it is 'ssh://deploy@host'\)"):
        docker_socket_group(stack_settings("dev"), environ={"DOCKER_HOST": "ssh://deploy@host"})


def test_a_missing_local_socket_is_named(tmp_path):
    with pytest.raises(
        InputError,
        match=r"appDiscovery.dockerSocketGroup: empty means the group of the local Docker "
        r"socket .*missing.sock, which cannot be read \(No such file or directory\)",
    ):
        docker_socket_group(stack_settings("dev"), environ={}, socket=str(tmp_path / "missing.sock"))


def test_layout_versions_renderers_and_components_name_the_same_services():
    """A service is declared in stacks/layout.py; its pin (stacks/versions.py), its renderer's container_spec
    (stacks/render/<name>.py, in RENDERERS) and its component type (stacks/resources/service.py COMPONENT_TYPES)
    must exist for it, and nothing else. The config schema keeps no per-service list of its own: `ports` and `services`
    default from the layout."""
    from stacks.config.schema import load_schema
    from stacks.layout import SERVICES as LAYOUT
    from stacks.render.containers import RENDERERS
    from stacks.resources.service import COMPONENT_TYPES
    from stacks.versions import IMAGES

    names = [service.name for service in LAYOUT]
    assert names == ["prometheus", "alertmanager", "loki", "promtail", "grafana"]
    assert list(IMAGES) == names
    for name in names:  # each renderer is its service's module's own
        assert RENDERERS[name].__module__ == f"stacks.render.{name}"
    assert list(RENDERERS) == names
    assert COMPONENT_TYPES == {
        "prometheus": "monitoring:index:Prometheus",  # the URNs of deployed stacks: never renamed
        "alertmanager": "monitoring:index:Alertmanager",
        "loki": "monitoring:index:Loki",
        "promtail": "monitoring:index:Promtail",
        "grafana": "monitoring:index:Grafana",
    }
    schema = load_schema()
    assert schema["ports"]["default"] == {}
    assert schema["services"]["default"] == []
    settings = stack_settings("dev")
    assert settings.services == tuple(names)
    assert settings.ports == {"prometheus": 9091, "alertmanager": 9093, "loki": 3100, "promtail": 9080, "grafana": 3010}
