"""A stack's Pulumi config read into StackSettings, section by section, before anything is created.

`load_settings` is a pure function of the raw config values, the set of keys that were given as secrets and the
schema in Pulumi.yaml (which is also where every default lives). Each section parser returns the StackSettings
fields it reads; every problem names its config key, and one run reports all of them.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from stacks.config.alerting import alertmanager_config_problems, parse_alerting
from stacks.config.grafana import parse_grafana
from stacks.config.hosts import parse_hosts, port_clashes
from stacks.config.kubernetes import parse_kubernetes
from stacks.config.remote_write import parse_remote_write
from stacks.config.schema import HTTP_URL, RawConfig, checked_image, load_schema, per_service, short_key
from stacks.config.schema import with_defaults as with_schema_defaults
from stacks.config.scraping import parse_app_discovery, parse_exporters, parse_scrape_targets
from stacks.config.settings import ENVIRONMENTS, SERVICES, KubernetesSettings, PrometheusSettings, StackSettings
from stacks.errors import Problems
from stacks.layout import SERVICES as SERVICE_LAYOUT
from stacks.layout import name_prefix
from stacks.reader import Reader
from stacks.syntax.durations import is_size, parse_duration
from stacks.versions import AGENT_IMAGES, IMAGES

ALWAYS_RUN = ("prometheus", "alertmanager")  # the stack is its alerting: without these there is nothing to deploy
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SYSTEM = re.compile(r"[a-z0-9]+")
# What only a Docker target reads: a stack with `kubernetes` may not set them (one stack, one target).
DOCKER_ONLY = (
    "bindAddress",
    "dockerHost",
    "exporters",
    "hosts",
    "images",
    "ports",
    "protectVolumes",
    "scrapeTargets",
    "services",
)


def load_settings(
    raw: Mapping[str, Any],
    secret_keys: frozenset[str] | set[str] = frozenset(),
    schema: Mapping[str, Mapping[str, Any]] | None = None,
) -> StackSettings:
    """Validate raw config (keys with or without the 'monitoring:' namespace) into StackSettings.

    Raises InputError listing every problem, each naming its config key.
    """
    schema = load_schema() if schema is None else schema
    problems = Problems()
    values = with_schema_defaults(raw, schema, problems)
    config = RawConfig(values, schema, problems, frozenset(short_key(k) for k in secret_keys))

    target = _target(config)
    environment, kubernetes = target["environment"], target["kubernetes"]
    run = _services(config, kubernetes)
    prometheus = _prometheus(config, require_secrets=environment != "dev")
    scraping = _scraping(config)
    logs = _logs(config, run["services"], run["ports"], target["docker_host"], kubernetes)
    grafana = parse_grafana(
        config,
        environment=environment,
        services=run["services"],
        images=run["images"],
        kubernetes=kubernetes,
        bind_address=target["bind_address"],
        ports=run["ports"],
    )
    alerting = _alerting(config, environment, kubernetes)
    applications = _applications(config)
    if not problems:  # a skipped invalid item would shift the indexes the clashes are named by
        for key, message in port_clashes(
            logs["hosts"], scraping["scrape_targets"], applications["exporters"], run["ports"]
        ):
            problems.add(key, message)

    problems.raise_if_any()
    return StackSettings(
        **target, **run, prometheus=prometheus, **scraping, **logs, **grafana, **alerting, **applications
    )


def _target(config: RawConfig) -> dict[str, Any]:
    """Which environment, where its containers run and under which names, or the Kubernetes cluster instead."""
    values, problems = config.values, config.problems
    environment = values.get("environment")
    if environment not in ENVIRONMENTS:
        problems.add("environment", f"must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
        environment = "prod"  # validate the rest with the strictest rules

    prefix = name_prefix(values["namePrefix"], environment)
    if not _NAME.match(prefix):
        problems.add("namePrefix", f"must be lowercase letters, digits, '-', '_' or '.', got {prefix!r}")

    bind_address = values["bindAddress"]
    try:
        ipaddress.ip_address(bind_address)
    except ValueError:
        problems.add("bindAddress", f"must be an IP address such as 127.0.0.1, got {bind_address!r}")

    docker_host = values["dockerHost"]
    if docker_host and not re.match(r"^(unix|tcp|ssh|npipe)://", docker_host):
        problems.add("dockerHost", f"must start with unix://, tcp://, ssh:// or npipe://, got {docker_host!r}")

    kubernetes = parse_kubernetes(values["kubernetes"], problems, scrape_jobs=set(SERVICES))
    if kubernetes:
        for key in DOCKER_ONLY:
            if config.changed(key):
                problems.add(
                    key,
                    "is a Docker target's setting, and this stack targets Kubernetes (kubernetes): a stack deploys "
                    "to one target, so remove one of them",
                )
    return {
        "environment": environment,
        "name_prefix": prefix,
        "bind_address": bind_address,
        "docker_host": docker_host,
        "protect_volumes": values["protectVolumes"],
        "kubernetes": kubernetes,
    }


def _services(config: RawConfig, kubernetes: KubernetesSettings | None) -> dict[str, Any]:
    """The services the stack runs, in layout order, with their host ports and images; the combinations that
    cannot work are reported. On Kubernetes, the cluster's Prometheus and Alertmanager (the operator's) are the
    stack's services."""
    problems = config.problems
    services = ALWAYS_RUN if kubernetes else _service_names(config.values["services"] or list(SERVICES), problems)
    return {
        "services": services,
        "ports": _ports(config.values["ports"], services, problems),
        "images": _images(config.values["images"], services, problems),
    }


def _service_names(value: list, problems: Problems) -> tuple[str, ...]:
    for i, name in enumerate(value):
        if name not in SERVICES:
            # A misspelt grafana also brings the existing-Grafana errors: the hint names the one fix.
            hint = difflib.get_close_matches(str(name), SERVICES, n=1)
            problems.add(
                f"services[{i}]",
                f"must be one of {', '.join(SERVICES)}, got {name!r}"
                + (f" (did you mean '{hint[0]}'?)" if hint else ""),
            )
    for name in {n for n in value if value.count(n) > 1}:
        problems.add("services", f"{name!r} is listed more than once")
    for name in ALWAYS_RUN:
        if name not in value:
            problems.add("services", f"must include {name}: every stack runs {' and '.join(ALWAYS_RUN)}")
    if "promtail" in value and "loki" not in value:
        problems.add("services", "promtail ships logs to the stack's loki: add loki, or leave promtail out too")
    return tuple(name for name in SERVICES if name in value)


def _images(value: dict, services: tuple[str, ...], problems: Problems) -> dict[str, str]:
    """The image of every service that runs and of every agent: the pinned release unless `images` names
    another. Promtail is also the other hosts' log collector, so its image is always there."""
    r = Reader(value, "images", problems, (*SERVICES, *AGENT_IMAGES))
    images = {service: IMAGES[service] for service in services} | dict(AGENT_IMAGES)
    images.setdefault("promtail", IMAGES["promtail"])
    for name in [*per_service(r, services), *(a for a in AGENT_IMAGES if a in r.value)]:
        reference = checked_image(r, name)
        if reference:
            images[name] = reference
    return images


def _ports(value: dict, services: tuple[str, ...], problems: Problems) -> dict[str, int]:
    """The host port of every service that runs (the others' are not published, so they cannot collide);
    the stack's `ports` over the layout's defaults."""
    defaults = {service.name: service.host_port for service in SERVICE_LAYOUT}
    r = Reader({**defaults, **value}, "ports", problems, SERVICES)
    ports = {}
    for service in services:
        port = r.number(
            service, valid=lambda n: isinstance(n, int) and 1 <= n <= 65535, expected="a port number from 1 to 65535"
        )
        if port is not None:
            ports[service] = int(port)
    by_port: dict[int, list[str]] = {}
    for service, port in ports.items():
        by_port.setdefault(port, []).append(service)
    for port, users in by_port.items():
        if len(users) > 1:
            r.add(users[1], f"host port {port} is already used by ports.{users[0]}")
    return ports


def _prometheus(config: RawConfig, *, require_secrets: bool) -> PrometheusSettings:
    r = config.reader("prometheus", optional=("retentionTime",))
    size = r.get("retentionSize")
    if not is_size(size):
        r.add("retentionSize", f"must look like '10GB' (B, KB, MB, GB, TB), got {size!r}")
    return PrometheusSettings(
        retention_time=r.duration("retentionTime", None, canonical=False) or "",  # "": derived (stacks/preflight.py)
        retention_size=size,
        scrape_interval=r.duration("scrapeInterval", "", canonical=False) or "",
        evaluation_interval=r.duration("evaluationInterval", "", canonical=False) or "",
        remote_write=parse_remote_write(
            r.get("remoteWrite"),
            config.problems,
            is_secret="prometheus" in config.secrets,
            require_secrets=require_secrets,
        ),
    )


def _scraping(config: RawConfig) -> dict[str, Any]:
    """The targets scraped besides the stack's own services, and the systems whose content is deployed."""
    scrape_targets = parse_scrape_targets(config.values["scrapeTargets"], SERVICES, config.problems)
    systems = tuple(config.values["systems"])
    for i, system in enumerate(systems):
        if not isinstance(system, str) or not _SYSTEM.fullmatch(system):
            config.problems.add(f"systems[{i}]", f"must be a system name such as 'mindhit', got {system!r}")
    return {"scrape_targets": scrape_targets, "systems": systems}


def _logs(
    config: RawConfig,
    services: tuple[str, ...],
    ports: Mapping[str, int],
    docker_host: str,
    kubernetes: KubernetesSettings | None,
) -> dict[str, Any]:
    """Loki's retention, and the Docker hosts whose agents ship to it (and are scraped)."""
    loki = config.reader("loki")
    retention = loki.duration("retentionPeriod", "", canonical=False) or ""
    push_url = loki.str("pushUrl", pattern=HTTP_URL, expected="an http(s) URL")
    hosts = (
        ()
        if kubernetes
        else parse_hosts(
            config.values["hosts"],
            config.problems,
            stack_docker_host=docker_host,
            runs_loki="loki" in services,
            service_ports=ports,
        )
    )
    remote_shippers = [h.name for h in hosts if "promtail" in h.agents]
    if remote_shippers and not push_url:
        loki.add(
            "pushUrl",
            f"is required: where the log collectors of {', '.join(remote_shippers)} reach this stack's Loki, such "
            "as http://10.0.0.2:3100 (bindAddress must publish Loki there); or leave promtail out of their agents",
        )
    elif push_url and not remote_shippers:
        loki.add("pushUrl", "is for the log collectors of other hosts (hosts[].agents), and none runs promtail")
    if retention and parse_duration(retention) < parse_duration("24h"):
        loki.add("retentionPeriod", f"must be at least 24h (Loki's minimum), got {retention!r}")
    return {"loki_retention_period": retention, "loki_push_url": push_url, "hosts": hosts}


def _alerting(config: RawConfig, environment: str, kubernetes: KubernetesSettings | None) -> dict[str, Any]:
    """The receivers, route and inhibit rules, with what the stack's Grafana or cluster cannot take of them."""
    problems = config.problems
    alerting = parse_alerting(
        config.values.get("alerting"),
        problems,
        require_secrets=environment != "dev",
        is_secret="alerting" in config.secrets,
    )
    if config.values["grafanaContent"]:
        for i, receiver in enumerate(alerting.receivers):
            for j, target in enumerate(receiver.pagerduty):
                if target.service_key:
                    problems.add(
                        f"alerting.receivers[{i}].pagerduty[{j}].serviceKey",
                        "is an Events API v1 key, which Grafana's PagerDuty integration does not take: use "
                        "routingKey, an Events API v2 integration key (or grafanaContent false)",
                    )
    if kubernetes:
        for where, why in alertmanager_config_problems(alerting):
            problems.add(where, why)
    return {"alerting": alerting}


def _applications(config: RawConfig) -> dict[str, Any]:
    """How applications are found on the Docker host, and the exporters of the systems' datastores."""
    return {
        "app_discovery": parse_app_discovery(config.values["appDiscovery"], config.schema, config.problems),
        "exporters": parse_exporters(config.values["exporters"], "exporters" in config.secrets, config.problems),
    }
