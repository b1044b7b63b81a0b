"""A host's ports are one namespace (issue 25): a scrape target or an exporter's datastore on the port of an
agent, a published service, or a target or datastore of another kind stops preview, naming both."""

from __future__ import annotations

import pytest
from conftest import configured_stack

from stacks.config.load import load_settings
from stacks.errors import InputError

WEB_1 = {
    "name": "web-1",
    "dockerHost": "ssh://deploy@10.0.0.5",
    "address": "10.0.0.5",
    "agents": ["node-exporter", "cadvisor"],
}
MINDHIT = {"job": "mindhit-api", "targets": ["host.docker.internal:9000"]}


def dev_with(**values) -> tuple[dict, list[str]]:
    config, secrets = configured_stack("dev")
    config.update({f"monitoring:{key}": value for key, value in values.items()})
    return config, secrets


def problems(config: dict, secrets: list[str]) -> list[str]:
    with pytest.raises(InputError) as raised:
        load_settings(config, frozenset(secrets))
    return raised.value.problems


def test_prod_gives_kerp_and_cadvisor_a_port_each():
    config, secrets = configured_stack("prod")
    settings = load_settings(config, frozenset(secrets))
    assert [(t.job, t.targets) for t in settings.scrape_targets] == [
        ("mindhit-api", ("host.docker.internal:29000",)),
        ("kerp-api", ("host.docker.internal:8080",)),  # seed 002's port
        ("observer-collector", ("host.docker.internal:28000",)),
    ]
    assert dict(settings.hosts[0].ports) == {"node-exporter": 9100, "cadvisor": 9338}


def test_prods_kerp_target_on_upstreams_cadvisor_port_stops_preview():
    config, secrets = configured_stack("prod")
    config["monitoring:hosts"] = [{"name": "local", "ports": {"cadvisor": 8080}}]
    assert problems(config, secrets) == [
        "scrapeTargets[1].targets[0]: host.docker.internal:8080 is also cadvisor's port on host local, and only one "
        "process listens on a port: give this scrape target the port it really listens on, or move cadvisor: "
        "hosts: [{name: local, ports: {cadvisor: <a free port>}}]"
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (  # a published service; the host name in any case
            {"scrapeTargets": [MINDHIT, {"job": "app", "targets": ["db:5432", "HOST.Docker.Internal:3010"]}]},
            "scrapeTargets[1].targets[1]: HOST.Docker.Internal:3010 is also the port grafana is published on "
            "(ports.grafana), and only one process listens on a port: give this scrape target the port it really "
            "listens on, or move grafana: ports: {grafana: <a free port>}",
        ),
        (  # the own host under the address it is given
            {
                "hosts": [{"name": "local", "address": "172.17.0.1"}],
                "scrapeTargets": [MINDHIT, {"job": "app", "targets": ["172.17.0.1:9100"]}],
            },
            "scrapeTargets[1].targets[0]: 172.17.0.1:9100 is also node-exporter's port on host local, and only one "
            "process listens on a port: give this scrape target the port it really listens on, or move "
            "node-exporter: hosts: [{name: local, ports: {node-exporter: <a free port>}}]",
        ),
        (  # another host, at its address
            {
                "hosts": [{"name": "local"}, {**WEB_1, "ports": {"cadvisor": 8081}}],
                "scrapeTargets": [MINDHIT, {"job": "app", "targets": ["10.0.0.5:8081"]}],
            },
            "scrapeTargets[1].targets[0]: 10.0.0.5:8081 is also cadvisor's port on host web-1, and only one process "
            "listens on a port: give this scrape target the port it really listens on, or move cadvisor: hosts: "
            "[{name: web-1, ports: {cadvisor: <a free port>}}]",
        ),
        (  # an exporter's datastore on a scrape target's port
            {"exporters": [{"system": "mindhit", "kind": "redis", "address": "redis://host.docker.internal:9000"}]},
            "exporters[0].address: host.docker.internal:9000 is also the scrape target scrapeTargets[0].targets[0] "
            "(job mindhit-api), and only one process listens on a port: give this redis server the port it really "
            "listens on, or correct scrapeTargets[0].targets[0]",
        ),
        (  # a postgres URI without a port: the server's default, 5432
            {
                "scrapeTargets": [MINDHIT, {"job": "app", "targets": ["host.docker.internal:5432"]}],
                "exporters": [
                    {"system": "mindhit", "kind": "postgres", "address": "postgresql://host.docker.internal/app"}
                ],
            },
            "exporters[0].address: host.docker.internal:5432 is also the scrape target scrapeTargets[1].targets[0] "
            "(job app), and only one process listens on a port: give this postgres server the port it really listens "
            "on, or correct scrapeTargets[1].targets[0]",
        ),
        (  # the own host under its given address, and under host.docker.internal all the same
            {
                "hosts": [{"name": "local", "address": "Gateway.Local"}],
                "scrapeTargets": [
                    MINDHIT,
                    {"job": "app", "targets": ["gateway.local:9100"]},
                ],
            },
            "scrapeTargets[1].targets[0]: gateway.local:9100 is also node-exporter's port on host local",
        ),
        (
            {
                "hosts": [{"name": "local", "address": "Gateway.Local"}],
                "scrapeTargets": [MINDHIT, {"job": "app", "targets": ["host.docker.internal:9338"]}],
            },
            "scrapeTargets[1].targets[0]: host.docker.internal:9338 is also cadvisor's port on host local",
        ),
        (  # another host's name in any case; an IPv6 address
            {
                "hosts": [{"name": "local"}, {**WEB_1, "address": "web-1.internal"}],
                "scrapeTargets": [MINDHIT, {"job": "app", "targets": ["WEB-1.internal:9100"]}],
            },
            "scrapeTargets[1].targets[0]: WEB-1.internal:9100 is also node-exporter's port on host web-1",
        ),
        (
            {
                "hosts": [{"name": "local"}, {**WEB_1, "dockerHost": "ssh://deploy@fd00::5", "address": "fd00::5"}],
                "scrapeTargets": [MINDHIT, {"job": "app", "targets": ["[fd00::5]:9100"]}],
            },
            "scrapeTargets[1].targets[0]: [fd00::5]:9100 is also node-exporter's port on host web-1",
        ),
        (  # a datastore at an IPv6 address, on a scrape target's port
            {
                "scrapeTargets": [MINDHIT, {"job": "app", "targets": ["[fd00::7]:6379"]}],
                "exporters": [{"system": "mindhit", "kind": "redis", "address": "redis://[fd00::7]"}],
            },
            "exporters[0].address: [fd00::7]:6379 is also the scrape target scrapeTargets[1].targets[0] (job app)",
        ),
        (  # two datastores of different kinds on one port
            {
                "exporters": [
                    {"system": "mindhit", "kind": "postgres", "address": "postgresql://db.internal:5433/app"},
                    {"system": "kerp", "kind": "redis", "address": "redis://db.internal:5433"},
                ]
            },
            "exporters[1].address: db.internal:5433 is also the postgres server exporters[0] reads, and only one "
            "process listens on a port: give this redis server the port it really listens on, or correct "
            "exporters[0].address",
        ),
    ],
)
def test_two_processes_on_one_host_port_stop_preview_naming_both(values, expected):
    (problem,) = problems(*dev_with(**values))
    assert problem.startswith(expected)


@pytest.mark.parametrize(
    "values",
    [
        # one application scraped by two jobs is one process
        {"scrapeTargets": [MINDHIT, {"job": "mindhit-api-slow", "targets": ["host.docker.internal:9000"]}]},
        # an agent's port at an address no host has; another host's port at the own host
        {
            "hosts": [{"name": "local"}, WEB_1],
            "scrapeTargets": [MINDHIT, {"job": "app", "targets": ["10.0.0.7:9100", "host.docker.internal:9200"]}],
        },
        # another host's agent port at the own host's address, where nothing listens on it
        {
            "hosts": [{"name": "local"}, {**WEB_1, "ports": {"cadvisor": 8081}}],
            "scrapeTargets": [MINDHIT, {"job": "app", "targets": ["host.docker.internal:8081"]}],
        },
        # a service's port on another host: services are published on the stack's own host only
        {"hosts": [{"name": "local"}, WEB_1], "scrapeTargets": [{"job": "app", "targets": ["10.0.0.5:3010"]}]},
        # a datastore on a unix socket has no port
        {"exporters": [{"system": "mindhit", "kind": "redis", "address": "unix:///run/redis.sock"}]},
    ],
)
def test_processes_on_ports_of_their_own_pass(values):
    config, secrets = dev_with(**values)
    load_settings(config, frozenset(secrets))
