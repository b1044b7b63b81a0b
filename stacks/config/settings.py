"""Typed stack settings: every type one stack's validated settings are made of, and nothing that parses them (the
section modules beside this one do, and stacks/config/load.py reads the stack's Pulumi config through them;
Pulumi.yaml's schema holds every default). Renderers and resources read these types alone."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stacks.layout import DOCKER_SOCKET, published_url
from stacks.layout import SERVICES as SERVICE_LAYOUT
from stacks.syntax.go_regexp import compile_go_regexp
from stacks.versions import AGENT_IMAGES, IMAGES

ENVIRONMENTS = ("dev", "staging", "prod")
SERVICES = tuple(service.name for service in SERVICE_LAYOUT)
# The first Grafana to serve the inhibition rule API (docs/configuration.md, "Bring your own Grafana").
INHIBITION_SINCE = (13, 1)


# Alerting: its routes, receivers and the whole (stacks/config/alerting.py and receivers.py parse them).


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # one of = != =~ !~, as in Alertmanager and Grafana
    value: str

    def alertmanager(self) -> str:
        return f"{self.label}{self.op}{json.dumps(self.value)}"

    def matches(self, labels: dict[str, str]) -> bool:
        """As Alertmanager matches: a missing label is the empty string, a regex is anchored (Go's RE2)."""
        value = labels.get(self.label, "")
        if self.op in ("=", "!="):
            return (value == self.value) == (self.op == "=")
        return bool(compile_go_regexp(self.value).fullmatch(value)) == (self.op == "=~")


@dataclass(frozen=True)
class Route:
    receiver: str | None  # None: inherited from the parent
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] | None = None
    group_wait: str | None = None
    group_interval: str | None = None
    repeat_interval: str | None = None
    continue_: bool = False
    routes: tuple[Route, ...] = ()

    def receivers_for(self, labels: dict[str, str]) -> list[str]:
        """The receivers an alert with these labels reaches, as Alertmanager walks the tree: depth first, the
        first matching child unless it says continue, the node's own receiver when no child matches."""

        def walk(node: Route, receiver: str | None) -> list[str]:
            found: list[str] = []
            for child in node.routes:
                if all(m.matches(labels) for m in child.matchers):
                    found += walk(child, child.receiver or receiver)
                    if not child.continue_:
                        break
            return found or [receiver]

        return list(dict.fromkeys(walk(self, self.receiver)))  # the root has one (parse_alerting)


@dataclass(frozen=True)
class InhibitRule:
    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


# The optional text fields of each kind of target, all Go templates: config key -> alertmanager.yml key
# (Alertmanager 0.35: notify/slack, notify/email and notify/pagerduty, config.go). An email's subject is its
# Subject header.
SLACK_FIELDS = {
    "channel": "channel",
    "username": "username",
    "color": "color",
    "title": "title",
    "titleLink": "title_link",
    "pretext": "pretext",
    "text": "text",
    "footer": "footer",
    "fallback": "fallback",
    "iconEmoji": "icon_emoji",
    "iconUrl": "icon_url",
}
EMAIL_FIELDS = {"subject": "subject", "html": "html", "text": "text"}
PAGERDUTY_FIELDS = {
    "description": "description",
    "severity": "severity",
    "class": "class",
    "component": "component",
    "group": "group",
    "client": "client",
    "clientUrl": "client_url",
}


@dataclass(frozen=True)
class Webhook:
    url: str = field(repr=False)
    send_resolved: bool = True
    max_alerts: int = 0
    """0: every alert of the group."""


@dataclass(frozen=True)
class Slack:
    url: str = field(repr=False)
    fields: tuple[tuple[str, str], ...] = ()
    """(config key, template) of the SLACK_FIELDS given."""
    send_resolved: bool = True


@dataclass(frozen=True)
class PagerDuty:
    """A PagerDuty target: an Events API v2 integration key (routingKey), or for alertmanager.yml only a v1
    service key (serviceKey): Grafana's PagerDuty integration takes v2 keys only."""

    routing_key: str = field(default="", repr=False)
    service_key: str = field(default="", repr=False)
    send_resolved: bool = True
    fields: tuple[tuple[str, str], ...] = ()
    """(config key, template) of the PAGERDUTY_FIELDS given."""

    @property
    def key(self) -> str:
        return self.routing_key or self.service_key


@dataclass(frozen=True)
class Email:
    to: str
    send_resolved: bool = False
    fields: tuple[tuple[str, str], ...] = ()
    """(config key, template) of the EMAIL_FIELDS given."""


@dataclass(frozen=True)
class Receiver:
    name: str
    webhooks: tuple[Webhook, ...] = ()
    slack: tuple[Slack, ...] = ()
    pagerduty: tuple[PagerDuty, ...] = ()
    email: tuple[Email, ...] = ()


@dataclass(frozen=True)
class Smtp:
    smarthost: str
    from_: str
    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class Alerting:
    receivers: tuple[Receiver, ...]
    route: Route
    inhibit_rules: tuple[InhibitRule, ...] = ()
    smtp: Smtp | None = None


# Scrape targets, application discovery and exporters (stacks/config/scraping.py).


@dataclass(frozen=True)
class ScrapeTarget:
    """One application scrape job of prometheus.yml."""

    job: str
    targets: tuple[str, ...]
    metrics_path: str = "/metrics"
    scheme: str = "http"
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AppDiscoverySettings:
    """Prometheus finding application containers through the Docker socket (the `appDiscovery` key)."""

    enabled: bool
    docker_socket_group: str
    """Numeric group id of the Docker socket on the Docker host; empty: the local socket's, read at run time."""


@dataclass(frozen=True)
class ExporterSettings:
    """An exporter for one of a system's datastores (the `exporters` key): Prometheus scrapes it as
    `<system>-<kind>-exporter`, a job the system declares (systems/<system>.yml)."""

    system: str
    kind: str
    """postgres or redis."""
    address: str = field(repr=False)
    """postgres: the connection URI (with its password); redis: the server's address (redis://host:6379)."""
    password: str = field(default="", repr=False)
    """redis only: the server's password."""
    image: str = ""
    """Replaces the pinned release (stacks/versions.py EXPORTER_IMAGES)."""

    @property
    def job(self) -> str:
        return f"{self.system}-{self.kind}-exporter"


# Watched Docker hosts (stacks/config/hosts.py).


@dataclass(frozen=True)
class HostSettings:
    """One Docker host and the agents the stack runs on it."""

    name: str
    """Its `host` label on every agent's series."""
    docker_host: str
    """The daemon its Docker provider talks to; for the stack's own host, the stack's dockerHost ("" = default)."""
    address: str
    """Where its agents listen and Prometheus scrapes them."""
    agents: tuple[str, ...]
    """Which of stacks/layout.py AGENT_NAMES run there (the own host's log collector is the promtail service)."""
    ports: Mapping[str, int]
    """Metric agent -> its listening port."""
    own: bool = False
    """The stack's own Docker daemon, where Prometheus runs."""

    def target(self, agent: str) -> str:
        return f"{self.address}:{self.ports[agent]}"

    @property
    def docker_socket(self) -> str:
        """The daemon's socket on the host, which its agents read: a unix:// dockerHost's path (that daemon is on
        this machine), else the default."""
        return self.docker_host.removeprefix("unix://") if self.docker_host.startswith("unix://") else DOCKER_SOCKET


# The Prometheus Operator target (stacks/config/kubernetes.py).


@dataclass(frozen=True)
class Monitor:
    """A ServiceMonitor (kind service) or PodMonitor (kind pod): the Kubernetes form of a scrape target."""

    job: str
    kind: str
    selector: Mapping[str, str]
    port: str
    path: str = "/metrics"
    namespaces: tuple[str, ...] = ()
    """Where the selected Services or Pods are; empty: the target's namespace."""


@dataclass(frozen=True)
class KubernetesSettings:
    context: str
    namespace: str
    rule_labels: Mapping[str, str]
    monitor_labels: Mapping[str, str]
    alertmanager_config_labels: Mapping[str, str]
    grafana: str
    """configmaps (dashboards for the Grafana sidecar) or provider (the Grafana provider, grafana.url)."""
    dashboard_labels: Mapping[str, str]
    monitors: tuple[Monitor, ...] = ()


# Long-term stores (stacks/config/remote_write.py).


@dataclass(frozen=True)
class RemoteWrite:
    """One store Prometheus writes to, as prometheus.yml's remote_write entry says it."""

    name: str
    url: str
    query_url: str = ""
    """Where the store answers PromQL (a Grafana datasource is added for it); empty: none."""
    username: str = ""
    password: str = field(default="", repr=False)
    bearer_token: str = field(default="", repr=False)
    write_relabel: tuple[dict[str, Any], ...] = ()
    """write_relabel_configs entries, in Prometheus's snake_case."""
    queue: tuple[tuple[str, Any], ...] = ()
    """queue_config settings, in Prometheus's snake_case."""

    @property
    def has_credentials(self) -> bool:
        return bool(self.password or self.bearer_token)

    def config(self) -> dict[str, Any]:
        """The remote_write entry of prometheus.yml."""
        entry: dict[str, Any] = {"name": self.name, "url": self.url}
        if self.username or self.password:
            entry["basic_auth"] = {"username": self.username, "password": self.password}
        if self.bearer_token:
            entry["authorization"] = {"type": "Bearer", "credentials": self.bearer_token}
        if self.write_relabel:
            entry["write_relabel_configs"] = [dict(rule) for rule in self.write_relabel]
        if self.queue:
            entry["queue_config"] = dict(self.queue)
        return entry


# The stack (stacks/config/load.py).


@dataclass(frozen=True)
class PrometheusSettings:
    retention_time: str
    retention_size: str
    scrape_interval: str
    evaluation_interval: str
    remote_write: tuple[RemoteWrite, ...] = ()
    """Long-term stores it sends its samples to (stacks/config/remote_write.py)."""


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
    """The Docker hosts whose agents Prometheus scrapes (stacks/config/hosts.py)."""
    loki_push_url: str = ""
    """Where the other hosts' log collectors reach the stack's Loki (loki.pushUrl)."""
    kubernetes: KubernetesSettings | None = None
    """The Prometheus Operator target (stacks/config/kubernetes.py); None: Docker."""
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
    def sidecar_dashboards(self) -> bool:
        """Dashboards go as ConfigMaps to the cluster Grafana's sidecar (kubernetes.grafana: configmaps)."""
        return self.kubernetes is not None and self.kubernetes.grafana == "configmaps"

    @property
    def external_grafana(self) -> bool:
        """The content goes through the Grafana provider to a Grafana this stack does not run."""
        return self.grafana_content and not self.runs("grafana") and not self.sidecar_dashboards

    def public_url(self, service: str) -> str:
        """Where a person on the Docker host reaches a service."""
        return published_url(self.bind_address, self.ports[service])
