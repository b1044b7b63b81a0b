"""What the agents on each Docker host run with (the `hosts` key), and how Prometheus scrapes them.

node-exporter and cAdvisor run in the host's network namespace, listening on the host's address only (the
own host's default, host.docker.internal, resolves to the daemon's gateway through --add-host host-gateway);
each is scraped at that address with a `host` label. node-exporter also shares the host's PID namespace and
reads its /proc, /sys and / read-only, as its README runs it. Two departures from the upstream READMEs, for
Docker engines that refuse them (tests/containers/test_agent_images.py quotes the errors): / is mounted without
`rslave` propagation (refused where the host's / is a private mount), so a filesystem mounted on the host
after the agent started is seen once the agent is recreated; cAdvisor runs without --privileged (refused
where the daemon lacks CAP_SYS_RESOURCE), which its metrics here do not need.
"""

from __future__ import annotations

from stacks.config.settings import HostSettings, StackSettings
from stacks.layout import (
    CADVISOR,
    DOCKER_SOCKET,
    HOST_LABEL,
    LOG_AGENT,
    NODE_EXPORTER,
    OWN_HOST_ADDRESS,
)
from stacks.render.promtail import PROMTAIL_CONFIG, render_promtail_config
from stacks.render.spec import ContainerSpec


def _wget(url: str) -> list[str]:
    return ["CMD", "wget", "-q", "--spider", url]


def _docker_socket(host: HostSettings) -> list[tuple[str, str]]:
    """The host's daemon where the agents look for it, when its socket is elsewhere (a second daemon)."""
    return [(host.docker_socket, DOCKER_SOCKET)] if host.docker_socket != DOCKER_SOCKET else []


def agent_specs(host: HostSettings, settings: StackSettings) -> list[ContainerSpec]:
    """The host's agents, in stacks/layout.py order."""
    gateway = host.address == OWN_HOST_ADDRESS

    def agent(name: str, **specific) -> ContainerSpec:
        return ContainerSpec(
            name=name,
            container_name=f"{settings.name_prefix}-{host.name}-{name}",
            image=settings.images[name],
            labels={HOST_LABEL: host.name},
            wait_timeout=120,
            **specific,
        )

    specs = []
    if NODE_EXPORTER.name in host.agents:
        listen = host.target(NODE_EXPORTER.name)
        specs.append(
            agent(
                NODE_EXPORTER.name,
                command=["--path.rootfs=/host", f"--web.listen-address={listen}"],
                healthcheck=_wget(f"http://{listen}{NODE_EXPORTER.health_path}"),
                host_binds=[("/", "/host")],
                host_network=True,
                host_pid=True,
                add_host_gateway=gateway,
            )
        )
    if CADVISOR.name in host.agents:
        listen = host.target(CADVISOR.name)
        specs.append(
            agent(
                CADVISOR.name,
                command=[
                    # An IPv6 address without the brackets a URL needs (HostSettings.address has them).
                    f"--listen_ip={host.address.removeprefix('[').removesuffix(']')}",
                    f"--port={host.ports[CADVISOR.name]}",
                    # Only the Docker containers (and the host's root cgroup), without their labels as metric
                    # labels: both bound the series per container (docs/hosts.md, "Sizing").
                    "--docker_only=true",
                    "--store_container_labels=false",
                    "--housekeeping_interval=10s",
                ],
                healthcheck=_wget(f"http://{listen}{CADVISOR.health_path}"),
                host_binds=[
                    ("/", "/rootfs"),
                    ("/var/run", "/var/run"),
                    ("/sys", "/sys"),
                    ("/var/lib/docker", "/var/lib/docker"),
                    ("/dev/disk", "/dev/disk"),
                    *_docker_socket(host),
                ],
                host_network=True,
                devices=["/dev/kmsg"],
                add_host_gateway=gateway,
            )
        )
    if LOG_AGENT in host.agents:
        specs.append(
            agent(
                LOG_AGENT,
                command=[f"-config.file={PROMTAIL_CONFIG}"],
                healthcheck=_wget("http://127.0.0.1:9080/ready"),
                host_binds=[(host.docker_socket, DOCKER_SOCKET)],  # container discovery and their logs
                files={PROMTAIL_CONFIG: render_promtail_config(settings, host)},
                data_path="/var/lib/promtail",
                user="root",  # reading the Docker socket needs root or the host's docker group
            )
        )
    return specs
