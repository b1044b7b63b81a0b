"""MonitoringStack: the one place where the components are wired to each other."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from stacks.config.settings import StackSettings
from stacks.content.model import Content
from stacks.layout import COMPOSE_PROJECT_LABEL
from stacks.outputs import network_name, stack_outputs
from stacks.render.agents import agent_specs
from stacks.render.containers import container_specs
from stacks.render.exporters import exporter_spec
from stacks.resources.exporter import Exporter
from stacks.resources.grafana_content import GrafanaContent, grafana_content_args
from stacks.resources.host_agents import HostAgents
from stacks.resources.service import ServiceArgs, ServiceComponent


class MonitoringStack(pulumi.ComponentResource):
    """The whole stack for one environment.

    Attributes: `network`, `prometheus`, `alertmanager`, `loki`, `promtail`, `grafana` (service
    components; None for a service the stack does not run), `exporters` (job -> Exporter), `hosts` (host name
    -> HostAgents, for the hosts that run agents), `content`
    (GrafanaContent, None when the stack leaves Grafana's content alone), `urls` (service -> published URL,
    for the services it runs), `exports` (the stack outputs by name, stacks/outputs.py).
    """

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        content: Content,
        docker_socket_group: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        """`docker_socket_group`: the Docker socket's group id on the Docker host (stacks.environment), which
        Prometheus joins to discover application containers; needed when settings.app_discovery is enabled."""
        super().__init__("monitoring:index:MonitoringStack", name, None, opts)
        prefix = settings.name_prefix
        # An explicit provider, so a stack can target a remote daemon (dockerHost) without touching DOCKER_HOST.
        self.docker_provider = docker.Provider(
            f"{name}-docker", host=settings.docker_host or None, opts=pulumi.ResourceOptions(parent=self)
        )
        child = pulumi.ResourceOptions(parent=self, providers={"docker": self.docker_provider})
        self.network = docker.Network(
            f"{name}-network",
            name=network_name(prefix),
            driver="bridge",
            labels=[docker.NetworkLabelArgs(label=COMPOSE_PROJECT_LABEL, value=prefix)],
            opts=child,
        )

        service = ServiceArgs(
            network_name=self.network.name,
            name_prefix=prefix,
            protect_volume=settings.protect_volumes,
            docker_host=settings.docker_host or "",
        )

        components: dict[str, ServiceComponent] = {}
        for service_name, spec in container_specs(settings, content, docker_socket_group).items():
            after = [components[other] for other in spec.after]
            components[service_name] = ServiceComponent(
                f"{name}-{service_name}",
                service,
                spec,
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=after)) if after else child,
            )
        self.exporters = {
            exporter.job: Exporter(
                f"{name}-{exporter.job}", exporter_spec(exporter, prefix), prefix, self.network.name, child
            )
            for exporter in settings.exporters
        }
        self.hosts = {
            host.name: HostAgents(
                f"{name}-host-{host.name}",
                host,
                agent_specs(host, settings),
                prefix,
                settings.protect_volumes,
                pulumi.ResourceOptions(parent=self),
            )
            for host in settings.hosts
            if host.agents
        }
        self.prometheus = components["prometheus"]
        self.alertmanager = components["alertmanager"]
        self.loki = components.get("loki")
        self.promtail = components.get("promtail")
        self.grafana = components.get("grafana")
        if settings.external_grafana:
            auth = pulumi.Output.secret(settings.grafana_token)
        else:
            auth = pulumi.Output.secret(f"{settings.grafana_admin_user}:{settings.grafana_admin_password}")
        self.content = (
            None
            if not settings.grafana_content
            else GrafanaContent(
                f"{name}-grafana-content",
                grafana_content_args(settings, content, auth, self.grafana.container if self.grafana else None),
                child,
            )
        )
        self.urls = {key: component.url for key, component in components.items()}
        content_outputs = {}
        if self.content:
            content_outputs = dict(
                folder_uids={title: folder.uid for title, folder in self.content.folders.items()},
                datasource_uids={role: source.uid for role, source in self.content.datasources.items()},
                grafana_token=pulumi.Output.secret(self.content.app_token.key),
                dashboard_urls={uid: d.url for uid, d in self.content.dashboards.items()},
            )
        self.exports = stack_outputs(
            environment=settings.environment,
            urls=self.urls,
            network=self.network.name,
            grafana_url=settings.grafana_url,
            **content_outputs,
        )
        self.register_outputs({"urls": self.urls})
