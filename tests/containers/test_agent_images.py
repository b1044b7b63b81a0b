"""The agents' local images on a real Docker engine: node-exporter and cAdvisor, each run as its README runs
it, and what their /metrics say about this host and a container this test starts.

The images are the local builds of the pinned releases (offline/images/local_builds.py `local_agent_images()`,
built by offline/images/build.sh, which scripts/setup.sh runs): a missing image fails, it is never skipped.

Found on this machine (Docker 20.10.24, cgroup v1, cgroupfs driver, overlay2) and asserted below:

- cAdvisor reads every container here, under cgroup v1 and Docker 20.10: `container_cpu_usage_seconds_total`
  (per cpu), `container_memory_working_set_bytes`, `container_spec_memory_limit_bytes` (the limit the
  container was given), `container_network_receive_bytes_total` (per interface) and
  `container_start_time_seconds`, labelled with the container's `name` and `image`, beside the host's (id="/")
  and the machine's (`machine_cpu_cores`, `machine_memory_bytes`).
- What does not work here is `--privileged`, which cAdvisor's README passes: this engine refuses it with
  "OCI runtime create failed: runc create failed: unable to start container process: unable to apply caps:
  operation not permitted: unknown" (dockerd's capability bounding set here, 000001fffeffffff, lacks
  CAP_SYS_RESOURCE, and --privileged grants every capability). The test tries the README's command first and,
  on that error alone, runs the same command without --privileged (same mounts, --device=/dev/kmsg), which
  reads all of the above. Its log's errors and warnings then are `Failed to get system UUID: open
  /etc/machine-id: no such file or directory` (the image has none) and, per cgroup, `Error getting perf_event
  cgroup path: "could not find path for resource \"perf_event\" for container \"/docker/<id>\""` (this
  host mounts no perf_event hierarchy); CRI-O, Podman and containerd are absent (info lines).
- node-exporter's README mount `/:/host:ro,rslave` is refused where the host's / is a private mount, as here:
  "path / is mounted on / but it is not a shared or slave mount"; the test then mounts `/:/host:ro`. It runs
  with --net=host and --pid=host as the README does: without them the network and filesystem metrics are the
  container's own (its eth0, its /etc/hosts), not the host's.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from polling import wait_for

from offline.images.local_builds import local_agent_images

pytestmark = pytest.mark.containers
PREFIX = "agents-ct"
# Below 32768: Linux gives ports 32768-60999 to outgoing connections, which can take a test's port first.
PORTS = {"node-exporter": 24100, "cadvisor": 24180}
TARGET = f"{PREFIX}-target"  # the container cAdvisor must report
TARGET_MEMORY = 64 * 1024 * 1024

NODE_EXPORTER_ROOTFS = ["-v", "/:/host:ro,rslave"]
NODE_EXPORTER_PRIVATE_ROOTFS = ["-v", "/:/host:ro"]
RSLAVE_REFUSED = "is not a shared or slave mount"
PRIVILEGED_REFUSED = "unable to apply caps: operation not permitted"

SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    assert not check or result.returncode == 0, f"docker {' '.join(args)}: {result.stderr}"
    return result


def remove(*names: str) -> None:
    docker("rm", "-f", "-v", *names, check=False)


def run(name: str, image: str, options: list[str], fallback: tuple[str, list[str], list[str]], *args: str) -> str:
    """`docker run -d` NAME with the README's OPTIONS; when the engine refuses them with fallback's error
    (and only then), again with fallback's old options replaced by its new ones. Returns the refusal ("")."""
    result = docker("run", "-d", "--name", name, *options, image, *args, check=False)
    if result.returncode == 0:
        return ""
    error, old, new = fallback
    assert error in result.stderr, result.stderr
    remove(name)  # created, not started
    at = next(i for i in range(len(options)) if options[i : i + len(old)] == old)
    docker("run", "-d", "--name", name, *options[:at], *new, *options[at + len(old) :], image, *args)
    return result.stderr.strip()


def samples(url: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample of a Prometheus text exposition."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    found = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        found.append((name, dict(LABEL.findall(labels or "")), float(value)))
    return found


def of(found, metric: str, /, **labels: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of METRIC's samples that carry LABELS."""
    return [(ls, v) for n, ls, v in found if n == metric and all(ls.get(k) == want for k, want in labels.items())]


@pytest.fixture(scope="module")
def agents():
    """node-exporter and cAdvisor as their READMEs run them, and a container (TARGET) for cAdvisor to report.
    Yields the errors the engine gave for the README's options it refused, by agent."""
    images = local_agent_images()
    for image in images.values():
        assert docker("image", "inspect", image, check=False).returncode == 0, (
            f"{image} is missing: run scripts/setup.sh (offline/images/build.sh node-exporter cadvisor)"
        )
    names = [f"{PREFIX}-node-exporter", f"{PREFIX}-cadvisor", TARGET]
    remove(*names)  # leftovers of an interrupted run
    refused = {}
    try:
        refused["node-exporter"] = run(
            names[0],
            images["node-exporter"],
            ["--net=host", "--pid=host", *NODE_EXPORTER_ROOTFS, "-v", "/proc:/host/proc:ro", "-v", "/sys:/host/sys:ro"],
            (RSLAVE_REFUSED, NODE_EXPORTER_ROOTFS, NODE_EXPORTER_PRIVATE_ROOTFS),
            "--path.rootfs=/host",
            f"--web.listen-address=127.0.0.1:{PORTS['node-exporter']}",
        )
        refused["cadvisor"] = run(
            names[1],
            images["cadvisor"],
            [
                *("-v", "/:/rootfs:ro", "-v", "/var/run:/var/run:ro", "-v", "/sys:/sys:ro"),
                *("-v", "/var/lib/docker/:/var/lib/docker:ro", "-v", "/dev/disk/:/dev/disk:ro"),
                *("-p", f"127.0.0.1:{PORTS['cadvisor']}:8080", "--privileged", "--device=/dev/kmsg"),
            ],
            (PRIVILEGED_REFUSED, ["--privileged"], []),
        )
        # A container of our own on the default bridge, with a memory limit for cAdvisor to report.
        docker("run", "-d", "--name", TARGET, f"--memory={TARGET_MEMORY}", images["node-exporter"])
        yield refused
    finally:
        for name in names:
            logs = docker("logs", name, check=False)
            print(f"--- {name}\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")
        remove(*names)


def healthy(agent: str, health_url: str) -> bool:
    """What a healthcheck runs in the agent's container: our wget (the image has no busybox)."""
    return docker("exec", f"{PREFIX}-{agent}", "wget", "-q", "--spider", health_url, check=False).returncode == 0


def url(agent: str) -> str:
    return f"http://127.0.0.1:{PORTS[agent]}/metrics"


def test_the_agents_run_their_local_images_as_upstream_does(agents):
    for agent, image in local_agent_images().items():
        assert image.startswith("monitoring.local/"), image
        config = docker("inspect", "-f", "{{.Config.Image}} {{json .Config.Entrypoint}}", f"{PREFIX}-{agent}")
        binary = {"node-exporter": "node_exporter", "cadvisor": "cadvisor"}[agent]
        assert config.stdout.split() == [image, f'["/bin/{binary}"]']
        # Upstream's users: node-exporter's Dockerfile says nobody, cAdvisor's image runs as root.
        user = docker("image", "inspect", "-f", "{{.Config.User}}", image).stdout.strip()
        assert user == {"node-exporter": "nobody", "cadvisor": "root"}[agent]
        assert docker("inspect", "-f", "{{.State.Running}}", f"{PREFIX}-{agent}").stdout.strip() == "true"
    # The healthchecks' wget in each image, on each agent's health path.
    health = {
        "node-exporter": f"http://127.0.0.1:{PORTS['node-exporter']}/",
        "cadvisor": "http://127.0.0.1:8080/healthz",
    }
    for agent, health_url in health.items():
        wait_for(lambda a=agent, u=health_url: healthy(a, u), 30, f"{agent}'s health from its own wget")
    # Any option the engine refused is one the docstring names, with the error it quotes.
    print("refused by this engine:", agents)
    assert agents["node-exporter"] == "" or RSLAVE_REFUSED in agents["node-exporter"]
    assert agents["cadvisor"] == "" or PRIVILEGED_REFUSED in agents["cadvisor"]


def test_node_exporter_reports_the_hosts_cpus_memory_filesystems_and_network(agents):
    found = wait_for(lambda: samples(url("node-exporter")), 30, "node-exporter's /metrics")
    cpus = {labels["cpu"] for labels, _ in of(found, "node_cpu_seconds_total", mode="user")}
    assert len(cpus) == os.cpu_count()
    assert sum(v for _, v in of(found, "node_cpu_seconds_total")) > 0

    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    total = int(meminfo["MemTotal"].split()[0]) * 1024
    [(_, available)] = of(found, "node_memory_MemAvailable_bytes")
    assert 0 < available <= total

    # The host's filesystems through --path.rootfs: its / among them, with space left.
    avail = {labels["mountpoint"]: v for labels, v in of(found, "node_filesystem_avail_bytes")}
    assert avail.get("/", 0) > 0, avail
    # The host's interfaces (--net=host): the engine's bridge is one, and loopback has traffic.
    received = {labels["device"]: v for labels, v in of(found, "node_network_receive_bytes_total")}
    assert {"lo", "docker0"} <= set(received), received
    assert received["lo"] > 0


def test_cadvisor_reports_the_container_this_test_started_by_name(agents):
    image = local_agent_images()["node-exporter"]

    def target_samples():
        found = samples(url("cadvisor"))
        return found if of(found, "container_memory_working_set_bytes", name=TARGET) else None

    found = wait_for(target_samples, 90, f"cAdvisor to report {TARGET}")
    cpu = of(found, "container_cpu_usage_seconds_total", name=TARGET)
    assert cpu and {labels["image"] for labels, _ in cpu} == {image}
    assert sum(v for _, v in cpu) > 0
    [(_, working_set)] = of(found, "container_memory_working_set_bytes", name=TARGET)
    assert 0 < working_set <= TARGET_MEMORY
    [(_, limit)] = of(found, "container_spec_memory_limit_bytes", name=TARGET)
    assert limit == TARGET_MEMORY
    network = {labels["interface"]: v for labels, v in of(found, "container_network_receive_bytes_total", name=TARGET)}
    assert "eth0" in network, network
    [(_, started)] = of(found, "container_start_time_seconds", name=TARGET)
    assert abs(started - time.time()) < 600
    # The host itself (the root cgroup) and the machine.
    assert of(found, "container_cpu_usage_seconds_total", id="/")
    [(_, cores)] = of(found, "machine_cpu_cores")
    assert cores == os.cpu_count()
    [(_, memory)] = of(found, "machine_memory_bytes")
    assert memory > TARGET_MEMORY
    assert of(found, "container_scrape_error") == [({}, 0.0)]
