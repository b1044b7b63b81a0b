"""The Docker hosts a stack watches (the `hosts` key), validated.

Each host: {name, dockerHost, address, agents, ports}. The stack's own Docker daemon (its `dockerHost`, else
DOCKER_HOST or the local socket) is the host whose dockerHost is left out; with `hosts` empty it is the only
one, named `local`. Every host gets its own Docker provider and agents (stacks/resources/host_agents.py); Prometheus
scrapes each agent at the host's address with a `host` label.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from stacks.config.settings import ExporterSettings, HostSettings, ScrapeTarget
from stacks.errors import Problems
from stacks.layout import AGENT_NAMES, LOG_AGENT, METRIC_AGENTS, OWN_HOST_ADDRESS
from stacks.reader import Reader

_HOST_KEYS = ("address", "agents", "dockerHost", "name", "ports")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_DOCKER_HOST = re.compile(r"(unix|tcp|ssh)://\S+")
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
OWN_HOST_NAME = "local"


def parse_hosts(
    value: Any,
    problems: Problems,
    *,
    stack_docker_host: str,
    runs_loki: bool,
    service_ports: Mapping[str, int],
) -> tuple[HostSettings, ...]:
    """The hosts, each with its agents; `[]` is the stack's own host alone, with every agent.

    `stack_docker_host`: the stack's dockerHost (a host that names it is the own host); `runs_loki`: whether the
    log collector has somewhere to ship to; `service_ports`: the services' host ports, which an agent on the own
    host may not take.
    """
    items = value or [{"name": OWN_HOST_NAME}]  # a list: the schema's type check replaced anything else
    hosts: list[tuple[int, HostSettings]] = []
    for i, item in enumerate(items):
        r = Reader(item, f"hosts[{i}]", problems, _HOST_KEYS, expected="a host: {name, dockerHost, address}")
        if not r.valid:
            continue
        name = r.str("name", required=True, pattern=_NAME, expected="a name such as 'web-1' (a-z, 0-9, -)")
        docker_host = r.str("dockerHost", pattern=_DOCKER_HOST, expected="a Docker daemon as unix://, tcp:// or ssh://")
        own = not r.get("dockerHost") or docker_host == stack_docker_host
        address = _address(r, own)
        agents = _agents(r, own, runs_loki)
        ports = _ports(r, agents, service_ports if own else {})
        hosts.append(
            (
                i,
                HostSettings(
                    name=name,
                    docker_host=stack_docker_host if own else docker_host or str(r.get("dockerHost")),
                    address=address,
                    agents=agents,
                    ports=ports,
                    own=own,
                ),
            )
        )
    _unique(hosts, "name", lambda h: h.name, problems)
    _unique(hosts, "dockerHost", lambda h: h.docker_host or "(the stack's own daemon)", problems)
    return tuple(host for _, host in hosts)


def _address(r: Reader, own: bool) -> str:
    """The host's address: required off the own host (its agents are reached from another daemon)."""
    address = r.str("address", expected="an IP address or host name its agents listen on")
    if not address:
        if not own and r.get("address") in (None, ""):  # not when it was given, as something else than text
            r.add(
                "address",
                "is required for a host other than the stack's own: the address its agents listen on and "
                "Prometheus scrapes them at, such as its private IP",
            )
        return OWN_HOST_ADDRESS
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        if not _HOSTNAME.fullmatch(address):
            r.add("address", f"must be an IP address or a host name, got {address!r}")
        return address
    if ip.is_unspecified or ip.is_loopback:
        r.add(
            "address",
            f"{address} cannot be scraped: Prometheus runs in a container, where it is not the host; give the "
            "host's own address (left out on the stack's own host: host.docker.internal)",
        )
    return f"[{address}]" if ip.version == 6 else address


def _agents(r: Reader, own: bool, runs_loki: bool) -> tuple[str, ...]:
    """The agents that run on the host: given, or all of them (the log collector where there is a Loki)."""
    default = [a.name for a in METRIC_AGENTS] + ([LOG_AGENT] if runs_loki and not own else [])
    given = r.list("agents", expected=f"a list of agents: {', '.join(AGENT_NAMES)}") if r.has("agents") else default
    agents = []
    for j, agent in enumerate(given):
        if agent not in AGENT_NAMES:
            r.add(f"agents[{j}]", f"must be one of {', '.join(AGENT_NAMES)}, got {agent!r}")
        elif agent in agents:
            r.add(f"agents[{j}]", f"{agent} is listed more than once")
        elif agent == LOG_AGENT and own:
            r.add(f"agents[{j}]", "the stack's own host's logs are collected by the promtail service (services)")
        elif agent == LOG_AGENT and not runs_loki:
            r.add(f"agents[{j}]", "promtail ships to the stack's Loki, and loki is not in services")
        else:
            agents.append(agent)
    return tuple(a for a in AGENT_NAMES if a in agents)


def _ports(r: Reader, agents: tuple[str, ...], taken: Mapping[str, int]) -> dict[str, int]:
    """Each metric agent's port on the host: given, or upstream's default; no two the same, and none a service's."""
    known = [a.name for a in METRIC_AGENTS]
    given = r.child("ports", r.mapping("ports", expected="a map of agent to port"), known)
    defaults = {a.name: a.port for a in METRIC_AGENTS}
    ports = {}
    for agent in (a for a in known if a in agents):
        port = given.value.get(agent, defaults[agent])
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            given.add(agent, f"must be a port number from 1 to 65535, got {port!r}")
            continue
        if port in ports.values():
            other = next(a for a, p in ports.items() if p == port)
            given.add(agent, f"port {port} is already {other}'s on this host")
            continue
        service = next((s for s, p in taken.items() if p == port), None)
        if service:
            given.add(agent, f"port {port} is already published on this host by ports.{service}")
            continue
        ports[agent] = port
    return ports


def _unique(hosts: list[tuple[int, HostSettings]], key: str, of, problems: Problems) -> None:
    seen: dict[str, int] = {}
    for i, host in hosts:
        value = of(host)
        if value in seen:
            problems.add(f"hosts[{i}].{key}", f"{value!r} is already hosts[{seen[value]}]'s: each host once")
        else:
            seen[value] = i


# What a datastore listens on when its exporter's address gives no port (the servers' defaults).
_DATASTORE_PORTS = {"postgres": 5432, "redis": 6379}


def port_clashes(
    hosts: Sequence[HostSettings],
    targets: Sequence[ScrapeTarget],
    exporters: Sequence[ExporterSettings],
    service_ports: Mapping[str, int],
) -> list[tuple[str, str]]:
    """(key, message) for each scrape target or exporter datastore at a host's address and port that another
    process listens on: an agent, a published service, or a target or datastore of another kind. One port is one
    process: a target sharing cAdvisor's port reads cAdvisor's health while the application is dead. Agents
    against agents and services are checked where their ports are read (_ports)."""
    # (address, port) -> who listens there: (process, what it is, how to move it)
    listeners: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
    for host in hosts:
        for address in {host.address.lower(), OWN_HOST_ADDRESS} if host.own else {host.address.lower()}:
            for agent, port in host.ports.items():
                listeners.setdefault((address, port), []).append(
                    (
                        agent,
                        f"{agent}'s port on host {host.name}",
                        f"or move {agent}: hosts: [{{name: {host.name}, ports: {{{agent}: <a free port>}}}}]",
                    )
                )
            for service, port in service_ports.items() if host.own else ():
                listeners.setdefault((address, port), []).append(
                    (
                        service,
                        f"the port {service} is published on (ports.{service})",
                        f"or move {service}: ports: {{{service}: <a free port>}}",
                    )
                )
    clashes = []

    def claim(address: str, port: int, process: str, key: str, what: str) -> None:
        users = listeners.setdefault((address.lower(), port), [])
        other = next((user for user in users if user[0] != process), None)
        if other is None:
            users.append((process, what, f"or correct {key}"))
            return
        clashes.append(
            (
                key,
                f"{address}:{port} is also {other[1]}, and only one process listens on a port: give this "
                f"{process} the port it really listens on, {other[2]}",
            )
        )

    for i, target in enumerate(targets):
        for j, address in enumerate(target.targets):
            host, _, port = address.rpartition(":")
            key = f"scrapeTargets[{i}].targets[{j}]"
            claim(host, int(port), "scrape target", key, f"the scrape target {key} (job {target.job})")
    for i, exporter in enumerate(exporters):
        location = _datastore(exporter)
        if location:
            kind = f"{exporter.kind} server"
            claim(*location, kind, f"exporters[{i}].address", f"the {kind} exporters[{i}] reads")
    return clashes


def _datastore(exporter: ExporterSettings) -> tuple[str, int] | None:
    """The host and port of the server an exporter reads, from its address (none for a unix socket)."""
    try:
        url = urlsplit(exporter.address)
        port = url.port or _DATASTORE_PORTS[exporter.kind]
    except ValueError:
        return None
    if not url.hostname:
        return None
    return (f"[{url.hostname}]" if ":" in url.hostname else url.hostname), port
