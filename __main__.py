"""Entry point of `pulumi up`: settings and content are checked first; only then are resources declared."""

import pulumi

from stacks.config.grafana import grafana_warnings
from stacks.config.scraping import label_warnings
from stacks.content import for_kubernetes, load_content, select_datasources, select_systems
from stacks.content.findings import total_line
from stacks.environment import check_policy_owner, docker_socket_group, read_settings
from stacks.errors import InputError
from stacks.preflight import (
    check_exporters,
    check_grafana_names,
    check_templates,
    log_source_warnings,
    retention_findings,
    route_warnings,
    shared_target_warnings,
    unrouted_severities,
    unscraped_jobs,
)
from stacks.render.kubernetes import CONFIGMAP_LIMIT, oversized_dashboards
from stacks.resources.docker_stack import MonitoringStack
from stacks.resources.kubernetes_stack import KubernetesStack

settings = read_settings()
content = select_systems(load_content(), settings.systems)
if settings.kubernetes:  # the platform's content watches the Docker stack's own containers
    content = for_kubernetes(content)
short_retention, retention_warnings = retention_findings(settings, content)
if short_retention:
    raise InputError(short_retention)
# The datasources this stack provides. Dashboards sent as ConfigMaps read the cluster Grafana's own, by uid
# (docs/kubernetes.md, "Pointing it at kube-prometheus-stack").
sidecar_dashboards = settings.kubernetes is not None and settings.kubernetes.grafana == "configmaps"
if settings.grafana_content and not sidecar_dashboards:
    content = select_datasources(content, set(settings.datasource_urls))
check_exporters(content, settings.exporters)
check_templates(content, settings.alerting, carried=settings.kubernetes is None)
unrouted = unrouted_severities(settings.alerting.route, content)
if unrouted:
    raise InputError(unrouted)
warnings = route_warnings(settings.alerting.route, content, external_labels={"environment"})
scraped = {t.job for t in settings.scrape_targets} | {e.job for e in settings.exporters}
if settings.kubernetes:
    scraped |= {monitor.job for monitor in settings.kubernetes.monitors}
    if settings.grafana_content and sidecar_dashboards:
        too_large = oversized_dashboards(content)
        if too_large:
            raise InputError(
                [f"{source}: {size} bytes, over a ConfigMap's {CONFIGMAP_LIMIT}" for source, size in too_large]
            )
warnings += unscraped_jobs(content, scraped, settings.app_discovery.enabled)
warnings += label_warnings(settings.scrape_targets)
warnings += log_source_warnings(settings, content)
warnings += retention_warnings
warnings += shared_target_warnings(settings, pulumi.get_stack())
check_policy_owner(settings, pulumi.get_stack())
check_grafana_names(settings, content)
warnings += grafana_warnings(settings, grafana_rules=bool(content.grafana_rule_groups))
warnings += content.warnings
if settings.grafana_content:  # the dashboards' lint warnings, for the dashboards this stack deploys
    warnings += [warning for dashboard in content.dashboards for warning in dashboard.warnings]
for warning in warnings:
    pulumi.log.warn(warning)
pulumi.log.info(total_line(0, len(warnings)))  # errors stop the program before this line (InputError)
if settings.kubernetes:
    stack = KubernetesStack("monitoring", settings, content)
else:
    # Read before anything is registered: a socket group that cannot be known is bad input.
    socket_group = docker_socket_group(settings) if settings.app_discovery.enabled else None
    stack = MonitoringStack("monitoring", settings, content, socket_group)

# The contract with application projects (stacks/outputs.py): they read these through a StackReference. A
# Kubernetes stack exports what it registered in its namespace.
for output_name, value in stack.exports.items():
    pulumi.export(output_name, value)
