"""Typed stack settings, read from the stack's Pulumi config and validated before anything is created.

`load_settings` is a pure function of the raw config values, the set of keys that were given as
secrets and the schema in Pulumi.yaml (which is also where every default lives).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stacks.alerting import Alerting, parse_alerting
from stacks.durations import is_size, parse_duration
from stacks.errors import Problems, Reader
from stacks.grafana_names import UID_CHARACTERS as GRAFANA_UID_CHARACTERS
from stacks.layout import DATASOURCE_SERVICES, name_prefix, published_url
from stacks.layout import SERVICES as SERVICE_LAYOUT
from stacks.settings_hosts import HostSettings, parse_hosts, port_clashes
from stacks.settings_kubernetes import KubernetesSettings, alertmanager_config_problems, parse_kubernetes
from stacks.settings_remote_write import RemoteWrite, parse_remote_write
from stacks.settings_schema import PROJECT, PROJECT_FILE, checked_image, load_schema, object_reader, short_key
from stacks.settings_schema import with_defaults as with_schema_defaults
from stacks.settings_scraping import (
    APP_DISCOVERY_JOB,
    AppDiscoverySettings,
    ExporterSettings,
    ScrapeTarget,
    parse_app_discovery,
    parse_exporters,
    parse_scrape_targets,
)
from stacks.versions import AGENT_IMAGES, IMAGES

__all__ = [
    "APP_DISCOVERY_JOB",
    "PROJECT",
    "PROJECT_FILE",
    "SERVICES",
    "AppDiscoverySettings",
    "HostSettings",
    "KubernetesSettings",
    "PrometheusSettings",
    "ScrapeTarget",
    "StackSettings",
    "load_schema",
    "load_settings",
]

ENVIRONMENTS = ("dev", "staging", "prod")
SERVICES = tuple(service.name for service in SERVICE_LAYOUT)
ALWAYS_RUN = ("prometheus", "alertmanager")  # the stack is its alerting: without these there is nothing to deploy
DEV_ADMIN_PASSWORD = "admin"  # the seed's dev default; refused outside dev
# The first Grafana to serve the inhibition rule API (docs/configuration.md, "Bring your own Grafana").
INHIBITION_SINCE = (13, 1)
_GRAFANA_VERSION = re.compile(r"v?(\d+)\.(\d+)(\.\d+)?([-+][0-9A-Za-z.+-]*)?")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SYSTEM = re.compile(r"[a-z0-9]+")
_HTTP_URL = re.compile(r"https?://[^/\s]+.*")
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


@dataclass(frozen=True)
class PrometheusSettings:
    retention_time: str
    retention_size: str
    scrape_interval: str
    evaluation_interval: str
    remote_write: tuple[RemoteWrite, ...] = ()
    """Long-term stores it sends its samples to (stacks/settings_remote_write.py)."""


@dataclass(frozen=True)
class StackSettings:
    """Everything one stack deploys, validated."""

    environment: str
    name_prefix: str
    bind_address: str
    docker_host: str
    protect_volumes: bool
    ports: Mapping[str, int]
    prometheus: PrometheusSettings
    scrape_targets: tuple[ScrapeTarget, ...]
    systems: tuple[str, ...]
    loki_retention_period: str
    grafana_admin_user: str
    grafana_admin_password: str = field(repr=False)
    grafana_url: str
    """Where the Grafana provider reaches Grafana: the configured URL, else the container's published port."""
    grafana_content: bool
    alerting: Alerting
    app_discovery: AppDiscoverySettings
    services: tuple[str, ...] = SERVICES
    """The services run as containers, in the order of stacks/layout.py."""
    images: Mapping[str, str] = field(default_factory=lambda: dict(IMAGES) | dict(AGENT_IMAGES))
    """Service or agent -> image reference, for every service that runs and every agent."""
    hosts: tuple[HostSettings, ...] = ()
    """The Docker hosts whose agents Prometheus scrapes (stacks/settings_hosts.py)."""
    loki_push_url: str = ""
    """Where the other hosts' log collectors reach the stack's Loki (loki.pushUrl)."""
    kubernetes: KubernetesSettings | None = None
    """The Prometheus Operator target (stacks/settings_kubernetes.py); None: Docker."""
    grafana_token: str = field(default="", repr=False)
    """An existing Grafana's service account token (only when grafana is not in `services`)."""
    grafana_stack_id: int = 0
    """A Grafana Cloud stack's id (grafana.stackId), for the provider; 0 for any other Grafana."""
    grafana_owns_policy: bool = True
    """Whether the stack's route replaces the org's notification policy tree: always in its own Grafana, on
    request (grafana.ownNotificationPolicy) in an existing one."""
    grafana_name_prefix: str = ""
    """What every uid and name the stack gives a Grafana object begins with (grafana.namePrefix); empty: none."""
    grafana_version: tuple[int, int] | None = None
    """(major, minor) of the Grafana the content goes to: grafana.version, else the own image's tag; None: unknown."""
    grafana_multiple_policies: bool = False
    """grafana.alertingMultiplePolicies: the own Grafana turns the feature toggle on; an existing one has it on."""
    grafana_org_id: int = 1
    """The org of an existing Grafana's token (grafana.orgId): the provider reaches the inhibition rule API of
    org 1 only, as it takes no org_id with a token (configure_clients.go)."""
    datasource_urls: Mapping[str, str] = field(default_factory=dict)
    """prometheus/alertmanager/loki -> the URL Grafana reaches it at (services that run only)."""
    exporters: tuple[ExporterSettings, ...] = ()
    """Exporters of the systems' datastores, each scraped as its system's job."""

    def runs(self, service: str) -> bool:
        return service in self.services

    @property
    def grafana_inhibition(self) -> bool:
        """Whether the inhibit rules go to Grafana as well: with the policy tree, to a Grafana that applies them
        (13.1 serves the inhibition rule API; alertingMultiplePolicies applies them)."""
        version = self.grafana_version or (0, 0)
        reachable = self.grafana_org_id == 1 or self.grafana_stack_id > 0
        return self.grafana_owns_policy and version >= INHIBITION_SINCE and self.grafana_multiple_policies and reachable

    @property
    def external_grafana(self) -> bool:
        """The content goes through the Grafana provider to a Grafana this stack does not run."""
        configmaps = self.kubernetes is not None and self.kubernetes.grafana == "configmaps"
        return self.grafana_content and not self.runs("grafana") and not configmaps

    def public_url(self, service: str) -> str:
        """Where a person on the Docker host reaches a service."""
        return published_url(self.bind_address, self.ports[service])


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
    secrets = {short_key(k) for k in secret_keys}

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
            if values[key] != schema[key].get("default"):
                problems.add(
                    key,
                    "is a Docker target's setting, and this stack targets Kubernetes (kubernetes): a stack deploys "
                    "to one target, so remove one of them",
                )
    # On Kubernetes, the cluster's Prometheus and Alertmanager (the operator's) are the stack's services.
    services = ALWAYS_RUN if kubernetes else _services(values["services"] or list(SERVICES), problems)
    ports = _ports(values["ports"], services, problems)
    images = _images(values["images"], services, problems)
    runs_loki = "loki" in services
    prometheus = _prometheus(
        values["prometheus"], schema, problems, require_secrets=environment != "dev", is_secret="prometheus" in secrets
    )
    scrape_targets = parse_scrape_targets(values["scrapeTargets"], SERVICES, problems)
    systems = tuple(values["systems"])
    for i, system in enumerate(systems):
        if not isinstance(system, str) or not _SYSTEM.fullmatch(system):
            problems.add(f"systems[{i}]", f"must be a system name such as 'mindhit', got {system!r}")

    loki = object_reader("loki", values["loki"], schema, problems)
    loki_retention = loki.duration("retentionPeriod", "", canonical=False) or ""
    loki_push_url = loki.str("pushUrl", pattern=_HTTP_URL, expected="an http(s) URL")
    hosts = (
        ()
        if kubernetes
        else parse_hosts(
            values["hosts"], problems, stack_docker_host=docker_host, runs_loki=runs_loki, service_ports=ports
        )
    )
    remote_shippers = [h.name for h in hosts if "promtail" in h.agents]
    if remote_shippers and not loki_push_url:
        loki.add(
            "pushUrl",
            f"is required: where the log collectors of {', '.join(remote_shippers)} reach this stack's Loki, such "
            "as http://10.0.0.2:3100 (bindAddress must publish Loki there); or leave promtail out of their agents",
        )
    elif loki_push_url and not remote_shippers:
        loki.add("pushUrl", "is for the log collectors of other hosts (hosts[].agents), and none runs promtail")
    if loki_retention and parse_duration(loki_retention) < parse_duration("24h"):
        loki.add("retentionPeriod", f"must be at least 24h (Loki's minimum), got {loki_retention!r}")

    grafana = object_reader("grafana", values["grafana"], schema, problems)
    admin_user = grafana.str("adminUser", required=True, expected="a non-empty string")
    grafana_url = grafana.str("url", pattern=_HTTP_URL, expected="an http(s) URL")
    grafana_content = values["grafanaContent"]
    runs_grafana = "grafana" in services
    configmaps = kubernetes is not None and kubernetes.grafana == "configmaps"
    external_grafana = grafana_content and not runs_grafana and not configmaps
    if external_grafana and not grafana_url:
        grafana.add(
            "url",
            "is required when grafana is not in services and grafanaContent is true: the URL of the existing "
            "Grafana the content goes to (or grafanaContent false for no Grafana at all)",
        )
    datasource_urls = _datasource_urls(grafana, services, external_grafana)
    stack_id = grafana.number("stackId", valid=lambda n: n == int(n) >= 0, expected="a Grafana Cloud stack id") or 0
    if stack_id and not external_grafana:
        grafana.add("stackId", "is for an existing Grafana Cloud stack (grafana not in services, grafanaContent true)")
    grafana_prefix, grafana_version, multiple_policies = _grafana_target(
        grafana, runs_grafana, grafana_content and not configmaps, images.get("grafana", "")
    )
    org_id = grafana.number("orgId", valid=lambda n: n == int(n) >= 1, expected="a Grafana org id (1 or more)") or 1
    if org_id != 1 and not external_grafana:
        grafana.add("orgId", "is for an existing Grafana's token (grafana not in services, grafanaContent true)")
    own_policy = grafana.bool("ownNotificationPolicy", False)
    if own_policy and not external_grafana:
        grafana.add(
            "ownNotificationPolicy",
            "is for an existing Grafana (grafana not in services, grafanaContent true): the stack's own Grafana's "
            "notification policy tree is always the stack's",
        )
    token = values["grafanaToken"]
    if external_grafana and not token:
        problems.add(
            "grafanaToken",
            "is required for an existing Grafana: pulumi config set --secret grafanaToken <service account token>",
        )
    elif token and not external_grafana:
        problems.add(
            "grafanaToken", "is used only for an existing Grafana (grafana not in services, grafanaContent true)"
        )
    elif token and "grafanaToken" not in secrets:
        problems.add("grafanaToken", "must be a secret: pulumi config set --secret grafanaToken <token>")

    password = values["grafanaAdminPassword"]
    if not runs_grafana:
        if password:
            problems.add("grafanaAdminPassword", "is for the stack's own Grafana, and grafana is not in services")
        password = ""
    elif environment == "dev":
        password = password or DEV_ADMIN_PASSWORD
    elif not password:
        problems.add(
            "grafanaAdminPassword",
            f"is required in {environment}: pulumi config set --secret grafanaAdminPassword <password>",
        )
    elif "grafanaAdminPassword" not in secrets:
        problems.add(
            "grafanaAdminPassword",
            "must be a secret: pulumi config set --secret grafanaAdminPassword <password>",
        )
    elif password in ("admin", "password"):
        problems.add("grafanaAdminPassword", f"must not be a well-known default in {environment}")

    alerting = parse_alerting(
        values.get("alerting"), problems, require_secrets=environment != "dev", is_secret="alerting" in secrets
    )
    if grafana_content:
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
    app_discovery = parse_app_discovery(values["appDiscovery"], schema, problems)
    exporters = parse_exporters(values["exporters"], "exporters" in secrets, problems)
    if not problems:  # a skipped invalid item would shift the indexes the clashes are named by
        for key, message in port_clashes(hosts, scrape_targets, exporters, ports):
            problems.add(key, message)

    problems.raise_if_any()
    return StackSettings(
        environment=environment,
        name_prefix=prefix,
        bind_address=bind_address,
        docker_host=docker_host,
        protect_volumes=values["protectVolumes"],
        ports=ports,
        prometheus=prometheus,
        scrape_targets=scrape_targets,
        systems=systems,
        loki_retention_period=loki_retention,
        grafana_admin_user=admin_user,
        grafana_admin_password=password,
        grafana_url=grafana_url or (published_url(bind_address, ports["grafana"]) if "grafana" in ports else ""),
        grafana_content=grafana_content,
        alerting=alerting,
        app_discovery=app_discovery,
        services=services,
        images=images,
        grafana_token=token,
        grafana_stack_id=int(stack_id),
        grafana_owns_policy=not external_grafana or own_policy,
        grafana_name_prefix=grafana_prefix,
        grafana_version=grafana_version,
        grafana_multiple_policies=multiple_policies,
        grafana_org_id=int(org_id),
        datasource_urls=datasource_urls,
        exporters=exporters,
        hosts=hosts,
        loki_push_url=loki_push_url,
        kubernetes=kubernetes,
    )


def _services(value: list, problems: Problems) -> tuple[str, ...]:
    """The services the stack runs, in layout order; the combinations that cannot work are reported."""
    for i, name in enumerate(value):
        if name not in SERVICES:
            problems.add(f"services[{i}]", f"must be one of {', '.join(SERVICES)}, got {name!r}")
    for name in {n for n in value if value.count(n) > 1}:
        problems.add("services", f"{name!r} is listed more than once")
    for name in ALWAYS_RUN:
        if name not in value:
            problems.add("services", f"must include {name}: every stack runs {' and '.join(ALWAYS_RUN)}")
    if "promtail" in value and "loki" not in value:
        problems.add("services", "promtail ships logs to the stack's loki: add loki, or leave promtail out too")
    return tuple(name for name in SERVICES if name in value)


def _per_service(r: Reader, services: tuple[str, ...]) -> list[str]:
    """The keys of a per-service map (`images`, `ports`, ...) that name a service the stack runs; a known
    service the stack does not run is reported (its setting would do nothing), unknown keys by the reader."""
    for name in sorted(set(r.value) & set(r.known) & set(SERVICES) - set(services)):
        r.add(name, f"{name} is not in services, so this setting would do nothing")
    return [name for name in services if name in r.value]


def _images(value: dict, services: tuple[str, ...], problems: Problems) -> dict[str, str]:
    """The image of every service that runs and of every agent: the pinned release unless `images` names
    another. Promtail is also the other hosts' log collector, so its image is always there."""
    r = Reader(value, "images", problems, (*SERVICES, *AGENT_IMAGES))
    images = {service: IMAGES[service] for service in services} | dict(AGENT_IMAGES)
    images.setdefault("promtail", IMAGES["promtail"])
    for name in [*_per_service(r, services), *(a for a in AGENT_IMAGES if a in r.value)]:
        reference = checked_image(r, name)
        if reference:
            images[name] = reference
    return images


def _grafana_target(
    grafana: Reader, runs_grafana: bool, through_provider: bool, image: str
) -> tuple[str, tuple[int, int] | None, bool]:
    """grafana.namePrefix, the Grafana's (major, minor) version and grafana.alertingMultiplePolicies."""
    prefix = grafana.str("namePrefix", pattern=GRAFANA_UID_CHARACTERS, expected="letters, digits, '-' or '_'")
    if prefix and not through_provider:
        grafana.add("namePrefix", "names what the stack pushes through the Grafana provider, and it pushes nothing")
    given = grafana.str("version", pattern=_GRAFANA_VERSION, expected="a Grafana version such as 13.1.0")
    tag = image.partition("@")[0].rpartition("/")[2].partition(":")[2] if runs_grafana else ""
    match = _GRAFANA_VERSION.fullmatch(given or tag)
    multiple_policies = grafana.bool("alertingMultiplePolicies", False)
    return prefix, (int(match[1]), int(match[2])) if match else None, multiple_policies


def _datasource_urls(grafana: Reader, services: tuple[str, ...], external: bool) -> dict[str, str]:
    """Where Grafana reaches each of the stack's datasources: configured, or on the stack network."""
    r = grafana.child("datasourceUrls", grafana.mapping("datasourceUrls"), DATASOURCE_SERVICES)
    urls = {}
    for name in _per_service(r, services):
        url = r.str(name, pattern=_HTTP_URL, expected="an http(s) URL")
        if url:
            urls[name] = url
    for service in SERVICE_LAYOUT:
        if service.name not in DATASOURCE_SERVICES or service.name not in services or service.name in r.value:
            continue
        if external:
            r.add(
                service.name,
                f"is required for an existing Grafana: where that Grafana reaches this stack's {service.name}",
            )
        else:
            urls[service.name] = service.internal_url
    return urls


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


def _prometheus(
    value: dict, schema: Mapping, problems: Problems, *, require_secrets: bool, is_secret: bool
) -> PrometheusSettings:
    r = object_reader("prometheus", value, schema, problems, optional=("retentionTime",))
    size = r.get("retentionSize")
    if not is_size(size):
        r.add("retentionSize", f"must look like '10GB' (B, KB, MB, GB, TB), got {size!r}")
    return PrometheusSettings(
        retention_time=r.duration("retentionTime", None, canonical=False) or "",  # "": derived (stacks/preflight.py)
        retention_size=size,
        scrape_interval=r.duration("scrapeInterval", "", canonical=False) or "",
        evaluation_interval=r.duration("evaluationInterval", "", canonical=False) or "",
        remote_write=parse_remote_write(
            r.get("remoteWrite"), problems, is_secret=is_secret, require_secrets=require_secrets
        ),
    )


def grafana_warnings(settings: StackSettings, grafana_rules: bool) -> list[str]:
    """What a Grafana does not get from the stack, or may refuse: its policy tree kept, inhibition not applied
    (to Grafana-managed rules, `grafana_rules`), names that an existing Grafana may hold already."""
    if not settings.grafana_content or not (settings.external_grafana or settings.runs("grafana")):
        return []
    found = []
    where = f"the Grafana at {settings.grafana_url}"
    if settings.external_grafana and not settings.grafana_name_prefix:
        found.append(
            f"grafana.namePrefix: empty, so in {where} the stack's datasources are named Prometheus, Alertmanager and "
            "Loki (uids prometheus, alertmanager, loki), its service account applications, and its folders and "
            "dashboards keep their files' uids: Grafana refuses any of them it holds already and adopts nothing."
            " Give this stack's objects their own names: pulumi config set --path grafana.namePrefix <stack>"
        )
    if settings.external_grafana and not settings.grafana_owns_policy:
        found.append(
            f"grafana.ownNotificationPolicy: {where} keeps its own notification policy tree: the stack pushes its "
            "contact points, but not its route nor its inhibition rules (inhibition applies in Alertmanager only), "
            "so Grafana-managed alerts reach those contact points only through that Grafana's own policies. To have "
            "this stack replace the org's tree (and leave Grafana's default one on destroy): "
            "pulumi config set --path grafana.ownNotificationPolicy true"
        )
    if not (settings.grafana_owns_policy and settings.alerting.inhibit_rules and grafana_rules):
        return found
    not_inhibited = "its inhibit rules apply in Alertmanager only, and Grafana-managed alerts are not inhibited"
    version = settings.grafana_version
    if settings.grafana_org_id != 1 and not settings.grafana_stack_id:
        found.append(
            f"grafana.orgId: the token is of org {settings.grafana_org_id}, and the provider reaches the inhibition "
            f"rule API of org 1 only (it takes no org_id with a token), so {not_inhibited}"
        )
    elif version is None:
        found.append(
            f"grafana.version: the version of {where} is not known, so {not_inhibited}. Say which Grafana it is "
            "(13.1 is the first to serve inhibition rules): pulumi config set --path grafana.version <version>"
        )
    elif version < INHIBITION_SINCE:
        found.append(
            f"grafana.version: {where} is Grafana {version[0]}.{version[1]}, which has no inhibition rules (13.1 is "
            f"the first), so {not_inhibited}"
        )
    elif not settings.grafana_multiple_policies:
        how = (
            "turn it on in the stack's Grafana"
            if settings.runs("grafana")
            else "once that Grafana's [feature_toggles] enables it"
        )
        found.append(
            f"grafana.alertingMultiplePolicies: off, and Grafana applies inhibition rules only with that "
            f"experimental feature toggle, so {not_inhibited}. To {how}: "
            "pulumi config set --path grafana.alertingMultiplePolicies true"
        )
    return found
