"""Bad target settings: where the stack runs and what it scrapes and sends (`hosts`, `kubernetes`,
`prometheus.remoteWrite`, `scrapeTargets`). The whole program under mocks stops with an error naming the key,
and registers nothing; a deployed system's job with no scrape target is a warning."""

from __future__ import annotations

import pytest
from bad_input import dev
from conftest import configured_stack
from mockstack import run_expecting_error, run_program, unwrap
from rendering import with_remote_write


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
    logged_warnings.clear()
    del config["monitoring:exporters"]  # K-ERP's datastores' exporters, its other two jobs
    run_program("prod", config, secrets)
    assert logged_warnings == [
        "scrapeTargets: no job kerp-api, kerp-postgres-exporter, kerp-redis-exporter of system kerp, which this "
        "stack deploys, and app discovery is off: its panels will have no data and its TargetMissing alert will fire"
    ]


# ---------------------------------------------------------------- hosts


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
            "hosts[0].address: 127.0.0.1 cannot be scraped: Prometheus runs in a container, where it is not the host; "
            "give the host's own address (left out on the stack's own host: host.docker.internal)",
        ),
        (
            [{**SECOND, "address": 10}],
            "- hosts[0].address: must be an IP address or host name its agents listen on, got 10\n1 error",
        ),
        (
            [{"name": "local", "agents": ["node-exporter", "promtail"]}],
            "hosts[0].agents[1]: the stack's own host's logs are collected by the promtail service (services)",
        ),
        ([{"name": "Web_1"}], "hosts[0].name: must be a name such as 'web-1' (a-z, 0-9, -), got 'Web_1'"),
        (
            [{"name": "local"}, {**SECOND, "adress": "10.0.0.6"}],
            "hosts[1].adress: unknown key; known keys: address, agents, dockerHost, name, ports",
        ),
        ([{"name": "local", "agents": ["collectd"]}], "hosts[0].agents[0]: must be one of node-exporter, cadvisor"),
        (
            [{"name": "local", "agents": "node-exporter"}],
            "hosts[0].agents: must be a list of agents: node-exporter, cadvisor, promtail, got 'node-exporter'",
        ),
        (
            [{"name": "local", "agents": ["cadvisor", "cadvisor"]}],
            "hosts[0].agents[1]: cadvisor is listed more than once",
        ),
        ([{"name": "local", "ports": 9100}], "hosts[0].ports: must be a map of agent to port, got 9100"),
        (
            [{"name": "local", "ports": {"cadvisor": 65536}}],
            "hosts[0].ports.cadvisor: must be a port number from 1 to 65535, got 65536",
        ),
        (
            [{"name": "local", "ports": {"nodeexporter": 9100}}],
            "hosts[0].ports.nodeexporter: unknown key; known keys: node-exporter, cadvisor",
        ),
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


def test_the_highest_port_is_a_port():
    config, secrets = dev()
    config["monitoring:hosts"] = [{"name": "local", "ports": {"cadvisor": 65535}}]
    (cadvisor,) = [
        r
        for r in run_program("dev", config, secrets).recorder.registrations
        if "cadvisor" in r.name and r.type == "docker:index/container:Container"
    ]
    assert "--port=65535" in unwrap(cadvisor.inputs)["command"]  # on the host's network


def test_promtail_on_another_host_of_a_stack_without_loki():
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "alertmanager", "grafana"]
    config["monitoring:hosts"] = [{**SECOND, "agents": ["promtail"]}]
    message = run_expecting_error("dev", config, secrets)
    assert "hosts[0].agents[0]: promtail ships to the stack's Loki, and loki is not in services" in message


# ---------------------------------------------------------------- Kubernetes


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


# ---------------------------------------------------------------- remote write


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
