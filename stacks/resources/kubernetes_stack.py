"""KubernetesStack: the content on an existing Prometheus Operator (a stack with `kubernetes`), through a Kubernetes
provider of the stack's kubeconfig context. It installs no operator, Prometheus or Grafana: it registers the
objects stacks/render/kubernetes.py describes, in the stack's namespace.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes

from stacks.config.settings import StackSettings
from stacks.content.model import Content
from stacks.render.kubernetes import (
    KubeObject,
    alertmanager_config,
    dashboard_configmaps,
    manifest,
    monitors,
    prometheus_rules,
)
from stacks.resources.grafana_content import GrafanaContent, grafana_content_args

MANAGED_BY = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "monitoring"}


class KubernetesStack(pulumi.ComponentResource):
    """Attributes: `provider`, `rules` (rule file -> PrometheusRule), `monitors` (name -> ServiceMonitor or
    PodMonitor), `alertmanager_config`, `receiver_secret`, `dashboards` (uid -> ConfigMap; empty when the content
    goes through the Grafana provider), `content` (GrafanaContent or None), `exports`."""

    def __init__(
        self, name: str, settings: StackSettings, content: Content, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("monitoring:index:KubernetesStack", name, None, opts)
        k8s = settings.kubernetes
        assert k8s is not None, "a Kubernetes stack needs settings.kubernetes"
        self.provider = kubernetes.Provider(
            f"{name}-kubernetes",
            context=k8s.context or None,
            namespace=k8s.namespace,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)

        def register(obj: KubeObject, secret: bool = False) -> pulumi.CustomResource:
            body = manifest(obj, k8s.namespace)
            metadata = kubernetes.meta.v1.ObjectMetaArgs(
                name=obj.name,
                namespace=k8s.namespace,
                labels={**MANAGED_BY, **obj.labels},
                annotations=dict(obj.annotations) if obj.annotations else None,
            )
            resource_name = f"{name}-{obj.kind.lower()}-{obj.name}"
            if obj.kind == "ConfigMap":
                return kubernetes.core.v1.ConfigMap(resource_name, metadata=metadata, data=dict(obj.body), opts=child)
            if obj.kind == "Secret":
                data = {k: pulumi.Output.secret(v) for k, v in obj.body.items()} if secret else dict(obj.body)
                return kubernetes.core.v1.Secret(resource_name, metadata=metadata, string_data=data, opts=child)
            return kubernetes.apiextensions.CustomResource(
                resource_name,
                api_version=body["apiVersion"],
                kind=obj.kind,
                metadata=metadata,
                spec=body["spec"],
                opts=child,
            )

        self.rules = {obj.name: register(obj) for obj in prometheus_rules(settings, content)}
        self.monitors = {obj.name: register(obj) for obj in monitors(settings)}
        config, secret = alertmanager_config(settings)
        self.receiver_secret = register(secret, secret=True)
        # The operator reads the Secret when it reconciles the AlertmanagerConfig: the Secret first.
        self.alertmanager_config = kubernetes.apiextensions.CustomResource(
            f"{name}-alertmanagerconfig-{config.name}",
            api_version=manifest(config, k8s.namespace)["apiVersion"],
            kind=config.kind,
            metadata=kubernetes.meta.v1.ObjectMetaArgs(
                name=config.name, namespace=k8s.namespace, labels={**MANAGED_BY, **config.labels}
            ),
            spec=config.body,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.receiver_secret])),
        )
        self.dashboards = {}
        self.content = None
        if settings.grafana_content and settings.sidecar_dashboards:
            self.dashboards = {obj.name: register(obj) for obj in dashboard_configmaps(settings, content)}
        elif settings.external_grafana:
            self.content = GrafanaContent(
                f"{name}-grafana-content",
                grafana_content_args(settings, content, pulumi.Output.secret(settings.grafana_token)),
                pulumi.ResourceOptions(parent=self),
            )
        self.exports = {
            "environment": settings.environment,
            "kubernetes": {
                "namespace": k8s.namespace,
                "prometheusRules": sorted(self.rules),
                "monitors": sorted(self.monitors),
                "alertmanagerConfig": config.name,
            },
        }
        self.register_outputs({"namespace": k8s.namespace})
