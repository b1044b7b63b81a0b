"""MonitoringStack: the one place where the components are wired to each other."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from stacks.alertmanager import Alertmanager, AlertmanagerArgs
from stacks.content import Content
from stacks.contract import network_name, stack_outputs
from stacks.grafana import Grafana, GrafanaArgs
from stacks.grafana_content import GrafanaContent, GrafanaContentArgs
from stacks.layout import HOST_GATEWAY_SERVICES
from stacks.loki import Loki, LokiArgs
from stacks.prometheus import Prometheus, PrometheusArgs
from stacks.promtail import LogCollectorArgs, Promtail
from stacks.render.alertmanager import alertmanager_command, render_alertmanager_config
from stacks.render.grafana import grafana_environment
from stacks.render.loki import loki_command, render_loki_config
from stacks.render.prometheus import prometheus_command, render_prometheus_config
from stacks.render.promtail import promtail_command, render_promtail_config
from stacks.service import ServiceArgs
from stacks.settings import StackSettings


class MonitoringStack(pulumi.ComponentResource):
    """The whole stack for one environment.

    Attributes: `network`, `prometheus`, `alertmanager`, `loki`, `promtail`, `grafana` (service
    components; None for a service the stack does not run), `content` (GrafanaContent, None when the
    stack leaves Grafana's content alone), `urls` (service -> published URL, for the services it runs),
    `exports` (the stack outputs by name, stacks/contract.py).
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
        if settings.app_discovery.enabled and not docker_socket_group:
            raise ValueError(
                "app discovery needs the Docker socket's group id (stacks.environment.docker_socket_group)"
            )
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
            labels=[docker.NetworkLabelArgs(label="com.docker.compose.project", value=prefix)],
            opts=child,
        )

        def service(name: str) -> ServiceArgs:
            return ServiceArgs(
                image=settings.images[name],
                network_name=self.network.name,
                name_prefix=prefix,
                host_port=settings.ports[name],
                bind_address=settings.bind_address,
                protect_volume=settings.protect_volumes,
                host_gateway=name in HOST_GATEWAY_SERVICES,
            )

        rule_files = {f.name: f.text for f in content.rule_files}
        self.prometheus = Prometheus(
            f"{name}-prometheus",
            PrometheusArgs(
                service=service("prometheus"),
                config=render_prometheus_config(settings, sorted(rule_files)),
                command=prometheus_command(settings),
                rule_files=rule_files,
                docker_socket_group=docker_socket_group,
            ),
            child,
        )
        self.alertmanager = Alertmanager(
            f"{name}-alertmanager",
            AlertmanagerArgs(
                service=service("alertmanager"),
                config=render_alertmanager_config(settings.alerting),
                command=alertmanager_command(settings),
            ),
            child,
        )
        self.loki = self.promtail = self.grafana = None
        if settings.runs("loki"):
            self.loki = Loki(
                f"{name}-loki",
                LokiArgs(service=service("loki"), config=render_loki_config(settings), command=loki_command()),
                child,
            )
        if settings.runs("promtail"):
            self.promtail = Promtail(
                f"{name}-promtail",
                LogCollectorArgs(
                    service=service("promtail"), config=render_promtail_config(settings), command=promtail_command()
                ),
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.loki])),
            )
        if settings.runs("grafana"):
            self.grafana = Grafana(
                f"{name}-grafana",
                GrafanaArgs(service=service("grafana"), environment=grafana_environment(settings)),
                child,
            )
        if settings.external_grafana:
            auth = pulumi.Output.secret(settings.grafana_token)
        else:
            auth = pulumi.Output.secret(f"{settings.grafana_admin_user}:{settings.grafana_admin_password}")
        self.content = (
            None
            if not settings.grafana_content
            else GrafanaContent(
                f"{name}-grafana-content",
                GrafanaContentArgs(
                    url=settings.grafana_url,
                    auth=auth,
                    datasource_urls=settings.datasource_urls,
                    dashboards=content.dashboards,
                    rule_groups=content.grafana_rule_groups,
                    folders=content.folders,
                    alerting=settings.alerting,
                    grafana_container=self.grafana.container if self.grafana else None,
                ),
                child,
            )
        )
        components = {
            "prometheus": self.prometheus,
            "alertmanager": self.alertmanager,
            "loki": self.loki,
            "promtail": self.promtail,
            "grafana": self.grafana,
        }
        self.urls = {key: component.url for key, component in components.items() if component is not None}
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
