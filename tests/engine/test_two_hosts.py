"""Two Docker hosts, for real: the stack's own daemon and a second one on this machine (offline/docker/second.sh:
its own socket, data-root and bridge), each with its agents (node-exporter, cAdvisor) from their local builds,
through the real Pulumi engine and docker plugin. Prometheus scrapes both hosts' agents with their `host` label.

The tests run in order on one deployment. The sizing figures of docs/hosts.md, "Sizing", are printed by
test_both_hosts_report_node_and_container_series (run with -s to see them).
"""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from engine_stack import Stack, deployed_dev_stack, docker
from polling import http_json, wait_for

from offline.images.local_builds import local_agent_images

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "monitoring-hosts"
PORTS = {"prometheus": 25291, "alertmanager": 25293}
SECOND_ADDRESS = "172.31.250.1"  # offline/docker/second.sh's bridge
AGENT_PORTS = {
    "local": {"node-exporter": 25300, "cadvisor": 25380},
    "second": {"node-exporter": 25301, "cadvisor": 25381},
}
AGENTS = ("node-exporter", "cadvisor")
UNREACHABLE = "unix:///run/monitoring-nowhere/docker.sock"


@pytest.fixture(scope="module")
def second_daemon():
    """The second host's DOCKER_HOST, with the agents' images in it (a host pulls them from a registry)."""
    socket = subprocess.run(
        ["bash", "offline/docker/second.sh", "start"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    remove_all_containers(socket)  # a killed run's, whose names would collide with this run's
    images = list(local_agent_images().values())
    save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
    subprocess.run(["docker", "-H", socket, "load", "-q"], stdin=save.stdout, check=True, capture_output=True)
    assert save.wait() == 0
    try:
        yield socket
    finally:
        remove_all_containers(socket)
        subprocess.run(["bash", "offline/docker/second.sh", "stop"], cwd=ROOT, check=False)


def on_second(socket: str, *args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", "-H", socket, *args], capture_output=True, text=True, timeout=120)
    assert not check or result.returncode == 0, result.stderr
    return result.stdout


def remove_all_containers(socket: str) -> None:
    ids = on_second(socket, "ps", "-aq").split()
    if ids:
        on_second(socket, "rm", "-f", *ids, check=False)


def hosts_config(socket: str, *, second: bool = True, unreachable: bool = False) -> list[dict]:
    hosts = [{"name": "local", "ports": AGENT_PORTS["local"]}]
    if second:
        hosts.append(
            {"name": "second", "dockerHost": socket, "address": SECOND_ADDRESS, "ports": AGENT_PORTS["second"]}
        )
    if unreachable:
        hosts.append(
            {
                "name": "gone",
                "dockerHost": UNREACHABLE,
                "address": SECOND_ADDRESS,
                "ports": {"node-exporter": 25302, "cadvisor": 25382},
            }
        )
    return hosts


@pytest.fixture(scope="module")
def stack(tmp_path_factory, webhooks, second_daemon):
    def webhook_url(path: str) -> str:
        return webhooks.url(path, host="host.docker.internal")

    yield from deployed_dev_stack(
        tmp_path_factory.mktemp("project"),
        tmp_path_factory.mktemp("state"),
        PREFIX,
        PORTS,
        webhook_url,
        hosts=hosts_config(second_daemon),
    )


def prometheus(path: str) -> dict:
    return http_json(f"http://127.0.0.1:{PORTS['prometheus']}{path}")


def query(expr: str) -> list[dict]:
    return prometheus("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["data"]["result"]


def agent_ids(socket: str | None, host: str) -> dict[str, str]:
    """Agent -> the id of its container on that host's daemon."""
    args = (
        "ps",
        "-a",
        "--no-trunc",
        "--filter",
        f"label=monitoring.host={host}",
        "--format",
        '{{.Label "com.docker.compose.service"}} {{.ID}}',
    )
    out = on_second(socket, *args) if socket else docker(*args).stdout
    return dict(line.split() for line in out.splitlines())


def set_hosts(stack: Stack, hosts: list[dict]) -> None:
    stack.edit_config(lambda values: values.update({"monitoring:hosts": hosts}))


def test_up_runs_the_agents_on_both_daemons_healthy(stack, second_daemon):
    stack.up()
    for socket, host in ((None, "local"), (second_daemon, "second")):
        ids = agent_ids(socket, host)
        assert sorted(ids) == sorted(AGENTS), (host, ids)
        for agent in AGENTS:
            name = f"{PREFIX}-{host}-{agent}"
            inspect_args = ("inspect", name)
            inspect = json.loads(on_second(socket, *inspect_args) if socket else docker(*inspect_args).stdout)[0]
            assert inspect["State"]["Health"]["Status"] == "healthy", name
            assert inspect["Config"]["Image"] == local_agent_images()[agent]
            assert inspect["HostConfig"]["NetworkMode"] == "host"
    # Each daemon runs only its own host's agents.
    assert not agent_ids(second_daemon, "local") and not agent_ids(None, "second")


def test_prometheus_reports_every_agent_up_with_its_host(stack):
    def targets():
        found = prometheus("/api/v1/targets")["data"]["activeTargets"]
        agents = {(t["labels"]["job"], t["labels"].get("host")): t for t in found if t["labels"]["job"] in AGENTS}
        return agents if len(agents) == 4 and all(t["health"] == "up" for t in agents.values()) else None

    agents = wait_for(targets, 120, "the four agent targets up")
    for (job, host), target in agents.items():
        address = "host.docker.internal" if host == "local" else SECOND_ADDRESS
        assert target["labels"]["instance"] == f"{address}:{AGENT_PORTS[host][job]}"


def test_both_hosts_report_node_and_container_series(stack):
    for host in ("local", "second"):
        wait_for(lambda h=host: query(f'node_memory_MemTotal_bytes{{host="{h}"}}'), 60, f"{host}'s memory")
    # cAdvisor on each host names that host's containers: the stack's own on the local one, the agents on both.
    own = f"{PREFIX}-prometheus"
    wait_for(lambda: query(f'container_memory_working_set_bytes{{host="local",name="{own}"}}'), 90, own)
    second_agent = f"{PREFIX}-second-node-exporter"
    wait_for(
        lambda: query(f'container_cpu_usage_seconds_total{{host="second",name="{second_agent}"}}'), 90, second_agent
    )
    assert not query(f'container_memory_working_set_bytes{{host="second",name="{own}"}}')
    # The figures of docs/hosts.md, "Sizing".
    per_host = {r["metric"]["host"]: int(r["value"][1]) for r in query('count by (host) ({job="node-exporter"})')}
    per_container = query('count by (host, name) ({job="cadvisor", name!=""})')
    root = query('count by (host) ({job="cadvisor", name=""})')
    counts = sorted(int(r["value"][1]) for r in per_container)
    print(
        f"\nnode-exporter series per host: {per_host}; cAdvisor series per container: min {counts[0]}, "
        f"max {counts[-1]} over {len(counts)} containers; cAdvisor series outside containers (host, machine, "
        f"its own process) per host: { {r['metric']['host']: int(r['value'][1]) for r in root} }"
    )
    assert set(per_host) == {"local", "second"}


def test_a_second_up_changes_nothing(stack):
    stack.pulumi("up", "--yes", "--expect-no-changes")


def test_removing_the_second_host_deletes_only_its_agents(stack, second_daemon):
    local_before = agent_ids(None, "local")
    set_hosts(stack, hosts_config(second_daemon, second=False))
    steps = stack.preview_steps()
    deleted = sorted(s["urn"].split("::")[-1] for s in steps if s["op"] == "delete")
    assert deleted == [
        "monitoring-host-second",
        "monitoring-host-second-cadvisor",
        "monitoring-host-second-docker",
        "monitoring-host-second-node-exporter",
    ]
    # Prometheus reloads a scrape configuration without the second host's targets, checked by promtool first.
    changed = {s["urn"].split("::")[-1] for s in steps if s["op"] not in ("same", "refresh", "delete")}
    assert changed == {"monitoring-prometheus-config", "monitoring-prometheus-check"}, changed
    stack.up()
    assert agent_ids(None, "local") == local_before
    assert not agent_ids(second_daemon, "second")


def test_an_unreachable_host_fails_up_naming_it_and_leaves_the_others_as_they_were(stack, second_daemon):
    set_hosts(stack, hosts_config(second_daemon))
    stack.up()
    local_before, second_before = agent_ids(None, "local"), agent_ids(second_daemon, "second")
    set_hosts(stack, hosts_config(second_daemon, unreachable=True))
    result = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "monitoring-host-gone" in output and UNREACHABLE.removeprefix("unix://") in output, output[-3000:]
    print("\nunreachable host:", next(line for line in output.splitlines() if "monitoring-nowhere" in line))
    assert agent_ids(None, "local") == local_before
    assert agent_ids(second_daemon, "second") == second_before
    # Back to the two hosts that answer: the next up converges.
    set_hosts(stack, hosts_config(second_daemon))
    stack.up()
    stack.pulumi("up", "--yes", "--expect-no-changes")
