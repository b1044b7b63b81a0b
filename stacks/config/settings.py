"""Typed stack settings: what one stack deploys, validated (stacks/config/load.py reads them from the stack's
Pulumi config; Pulumi.yaml's schema holds every default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from stacks.config.alerting import Alerting
from stacks.config.hosts import HostSettings
from stacks.config.kubernetes import KubernetesSettings
from stacks.config.remote_write import RemoteWrite
from stacks.config.scraping import AppDiscoverySettings, ExporterSettings, ScrapeTarget
from stacks.layout import SERVICES as SERVICE_LAYOUT
from stacks.layout import published_url
from stacks.versions import AGENT_IMAGES, IMAGES

ENVIRONMENTS = ("dev", "staging", "prod")
SERVICES = tuple(service.name for service in SERVICE_LAYOUT)
# The first Grafana to serve the inhibition rule API (docs/configuration.md, "Bring your own Grafana").
INHIBITION_SINCE = (13, 1)


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
    def external_grafana(self) -> bool:
        """The content goes through the Grafana provider to a Grafana this stack does not run."""
        configmaps = self.kubernetes is not None and self.kubernetes.grafana == "configmaps"
        return self.grafana_content and not self.runs("grafana") and not configmaps

    def public_url(self, service: str) -> str:
        """Where a person on the Docker host reaches a service."""
        return published_url(self.bind_address, self.ports[service])
