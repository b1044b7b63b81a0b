"""Watched Docker hosts under mocks: what the program registers for `hosts` (a provider and a HostAgents component
per host, the agents' containers as their READMEs run them, Promtail off the own host) and what Prometheus
scrapes. The real daemons are tests/engine/test_two_hosts.py's."""

from __future__ import annotations

import yaml
from conftest import configured_stack
from mockstack import ProgramRun, run_program, unwrap

from stacks.versions import AGENT_IMAGES, IMAGES

CONTAINER = "docker:index/container:Container"
PROVIDER = "pulumi:providers:docker"
AGENTS = ["node-exporter", "cadvisor"]  # no promtail: it needs loki.pushUrl
HOSTS = [
    {"name": "local"},
    {"name": "web-1", "dockerHost": "ssh://deploy@10.0.0.5", "address": "10.0.0.5", "ports": {"cadvisor": 8081}},
    {"name": "db-1", "dockerHost": "unix:///run/db/docker.sock", "address": "10.0.0.6", "agents": ["node-exporter"]},
]
PUSH_URL = "http://10.0.0.2:3100"


def run(hosts: list[dict], **config) -> ProgramRun:
    values, secret_keys = configured_stack("dev")
    values["monitoring:hosts"] = hosts
    values.update({f"monitoring:{key}": value for key, value in config.items()})
    return run_program("dev", values, secret_keys)


def agents(program: ProgramRun, host: str) -> dict[str, dict]:
    """Agent -> its container's inputs, for one host."""
    prefix = f"monitoring-host-{host}-"
    return {
        r.name.removeprefix(prefix): unwrap(r.inputs)
        for r in program.recorder.by_type(CONTAINER)
        if r.name.startswith(prefix)
    }


def scrape_jobs(program: ProgramRun) -> dict[str, dict]:
    prometheus = unwrap(program.recorder.one(CONTAINER, "monitoring-prometheus-container").inputs)
    text = next(u["content"] for u in prometheus["uploads"] if u["file"] == "/etc/prometheus/prometheus.yml")
    return {job["job_name"]: job for job in yaml.safe_load(text)["scrape_configs"]}


def test_each_host_has_a_provider_of_its_daemon_and_its_own_agents():
    program = run(HOSTS, loki={"pushUrl": PUSH_URL})
    rec = program.recorder
    hosts = {r.name: r for r in rec.by_type("monitoring:index:HostAgents")}
    assert sorted(hosts) == ["monitoring-host-db-1", "monitoring-host-local", "monitoring-host-web-1"]
    daemons = {name: unwrap(rec.one(PROVIDER, f"{name}-docker").inputs).get("host") for name in hosts}
    assert daemons == {
        "monitoring-host-local": None,  # the stack's own: DOCKER_HOST or the local socket, as the stack's provider
        "monitoring-host-web-1": "ssh://deploy@10.0.0.5",
        "monitoring-host-db-1": "unix:///run/db/docker.sock",
    }
    for name, component in hosts.items():
        provider = rec.one(PROVIDER, f"{name}-docker")
        children = [r for r in rec.registrations if r.parent == component.urn and r.type != PROVIDER]
        assert children and all(r.provider.startswith(provider.urn + "::") for r in children), name
    assert sorted(agents(program, "local")) == ["cadvisor", "node-exporter"]
    assert sorted(agents(program, "web-1")) == ["cadvisor", "node-exporter", "promtail"]
    assert sorted(agents(program, "db-1")) == ["node-exporter"]


def test_node_exporter_and_cadvisor_listen_on_the_hosts_address_in_its_network():
    program = run(HOSTS, loki={"pushUrl": PUSH_URL})
    node, cadvisor = agents(program, "web-1")["node-exporter"], agents(program, "web-1")["cadvisor"]
    assert node["image"] == AGENT_IMAGES["node-exporter"] and cadvisor["image"] == AGENT_IMAGES["cadvisor"]
    assert (node["networkMode"], node["pidMode"]) == ("host", "host")
    assert node["command"] == ["--path.rootfs=/host", "--web.listen-address=10.0.0.5:9100"]
    assert node["volumes"] == [{"hostPath": "/", "containerPath": "/host", "readOnly": True}]
    assert node["healthcheck"]["tests"] == ["CMD", "wget", "-q", "--spider", "http://10.0.0.5:9100/"]
    assert cadvisor["healthcheck"]["tests"] == ["CMD", "wget", "-q", "--spider", "http://10.0.0.5:8081/healthz"]
    assert not node.get("ports") and not cadvisor.get("ports")
    assert cadvisor["networkMode"] == "host" and "privileged" not in cadvisor
    # Docker's containers only, and no container label as a metric label: both bound the series per container.
    assert cadvisor["command"] == [
        "--listen_ip=10.0.0.5",
        "--port=8081",
        "--docker_only=true",
        "--store_container_labels=false",
        "--housekeeping_interval=10s",
    ]
    assert cadvisor["devices"] == [{"hostPath": "/dev/kmsg", "containerPath": "/dev/kmsg"}]
    # The default socket is under /var/run already: no mount of its own.
    assert cadvisor["volumes"] == [
        {"hostPath": host, "containerPath": container, "readOnly": True}
        for host, container in [
            ("/", "/rootfs"),
            ("/var/run", "/var/run"),
            ("/sys", "/sys"),
            ("/var/lib/docker", "/var/lib/docker"),
            ("/dev/disk", "/dev/disk"),
        ]
    ]
    assert agents(program, "db-1")["node-exporter"]["command"][1] == "--web.listen-address=10.0.0.6:9100"


def test_every_agent_is_labelled_with_its_host_and_waited_for_two_minutes_until_healthy():
    """The host label is how a host's agents are found (`docker ps --filter label=monitoring.host=<host>`, as
    tests/engine/test_two_hosts.py does); an agent that never gets healthy fails `pulumi up` after 120 s (the
    services' containers wait 180)."""
    program = run(HOSTS, loki={"pushUrl": PUSH_URL})
    for host, expected in [("local", AGENTS), ("web-1", [*AGENTS, "promtail"]), ("db-1", ["node-exporter"])]:
        containers = agents(program, host)
        assert sorted(containers) == sorted(expected)
        for name, container in containers.items():
            labels = {label["label"]: label["value"] for label in container["labels"]}
            assert labels["monitoring.host"] == host, name
            assert (container["wait"], container["waitTimeout"]) == (True, 120), name


def test_agents_on_an_ipv6_host_listen_where_each_takes_the_address():
    """node-exporter takes host:port ([fd00::5]:9100), cAdvisor a bare IP; their health URLs are bracketed."""
    program = run([{"name": "v6", "dockerHost": "ssh://deploy@fd00::5", "address": "fd00::5", "agents": AGENTS}])
    node, cadvisor = agents(program, "v6")["node-exporter"], agents(program, "v6")["cadvisor"]
    assert node["command"] == ["--path.rootfs=/host", "--web.listen-address=[fd00::5]:9100"]
    assert node["healthcheck"]["tests"] == ["CMD", "wget", "-q", "--spider", "http://[fd00::5]:9100/"]
    assert cadvisor["command"][:2] == ["--listen_ip=fd00::5", "--port=9338"]
    assert cadvisor["healthcheck"]["tests"] == ["CMD", "wget", "-q", "--spider", "http://[fd00::5]:9338/healthz"]


def test_the_own_hosts_agents_listen_on_the_docker_gateway_which_they_resolve_through_host_gateway():
    program = run([{"name": "local"}])
    for agent in ("node-exporter", "cadvisor"):
        inputs = agents(program, "local")[agent]
        assert inputs["hosts"] == [{"host": "host.docker.internal", "ip": "host-gateway"}]
    assert agents(program, "local")["node-exporter"]["command"][1] == "--web.listen-address=host.docker.internal:9100"


def test_a_second_daemons_socket_is_what_cadvisor_and_promtail_read_as_dockers():
    hosts = [{"name": "local"}, {**HOSTS[2], "agents": ["cadvisor", "promtail"]}]
    program = run(hosts, loki={"pushUrl": PUSH_URL})
    for agent in ("cadvisor", "promtail"):
        mounts = {v["containerPath"]: v.get("hostPath") for v in agents(program, "db-1")[agent]["volumes"]}
        assert mounts["/var/run/docker.sock"] == "/run/db/docker.sock", agent


def test_promtail_on_another_host_ships_to_the_push_url_with_its_host_label_and_keeps_its_positions():
    program = run(HOSTS, loki={"pushUrl": PUSH_URL})
    promtail = agents(program, "web-1")["promtail"]
    assert promtail["image"] == IMAGES["promtail"]
    # Root, to read that daemon's socket (no docker group of that host is known); healthy once ready.
    assert promtail["user"] == "root"
    assert promtail["healthcheck"]["tests"] == ["CMD", "wget", "-q", "--spider", "http://127.0.0.1:9080/ready"]
    assert promtail["command"] == ["-config.file=/etc/promtail/promtail.yaml"]
    config = yaml.safe_load(
        next(u["content"] for u in promtail["uploads"] if u["file"] == "/etc/promtail/promtail.yaml")
    )
    assert config["clients"] == [{"url": PUSH_URL, "external_labels": {"environment": "dev", "host": "web-1"}}]
    volume = program.recorder.one("docker:index/volume:Volume", "monitoring-host-web-1-promtail-data")
    assert unwrap(volume.inputs)["name"] == "monitoring-dev-web-1-promtail-data"
    # Its positions survive a new container: the volume is mounted where Promtail keeps them.
    assert {"volumeName": "monitoring-dev-web-1-promtail-data", "containerPath": "/var/lib/promtail"} in promtail[
        "volumes"
    ]
    # The stack's own Promtail (the service) labels its logs with the own host's name and stays on the network.
    own = unwrap(program.recorder.one(CONTAINER, "monitoring-promtail-container").inputs)
    own_config = yaml.safe_load(
        next(u["content"] for u in own["uploads"] if u["file"] == "/etc/promtail/promtail.yaml")
    )
    assert own_config["clients"][0]["url"] == "http://loki:3100/loki/api/v1/push"
    assert own_config["clients"][0]["external_labels"]["host"] == "local"


def test_prometheus_scrapes_every_hosts_agents_with_its_host_label():
    jobs = scrape_jobs(run(HOSTS, loki={"pushUrl": PUSH_URL}))
    assert jobs["node-exporter"]["static_configs"] == [
        {"targets": ["host.docker.internal:9100"], "labels": {"host": "local"}},
        {"targets": ["10.0.0.5:9100"], "labels": {"host": "web-1"}},
        {"targets": ["10.0.0.6:9100"], "labels": {"host": "db-1"}},
    ]
    assert jobs["cadvisor"]["static_configs"] == [
        {"targets": ["host.docker.internal:9338"], "labels": {"host": "local"}},
        {"targets": ["10.0.0.5:8081"], "labels": {"host": "web-1"}},
    ]


def test_a_host_without_agents_registers_nothing_and_no_job_is_left_empty():
    program = run([{"name": "local", "agents": []}])
    assert not program.recorder.by_type("monitoring:index:HostAgents")
    jobs = scrape_jobs(program)
    assert "node-exporter" not in jobs and "cadvisor" not in jobs


def test_removing_a_host_removes_only_its_resources():
    """What `pulumi up` deletes when a host leaves the list: the resources the program no longer registers."""
    names = {r.name for r in run(HOSTS, loki={"pushUrl": PUSH_URL}).recorder.registrations}
    fewer = {r.name for r in run(HOSTS[:2], loki={"pushUrl": PUSH_URL}).recorder.registrations}
    assert names - fewer == {
        "monitoring-host-db-1",
        "monitoring-host-db-1-docker",
        "monitoring-host-db-1-node-exporter",
    }
    assert fewer <= names


def test_agent_volumes_are_retained_where_the_stack_protects_its_volumes():
    program = run(HOSTS, loki={"pushUrl": PUSH_URL}, protectVolumes=True)
    volume = program.recorder.one("docker:index/volume:Volume", "monitoring-host-web-1-promtail-data")
    assert volume.retain_on_delete
