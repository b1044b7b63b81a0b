"""Entry point of `pulumi up`: settings and content are checked first; only then are resources declared."""

import pulumi

from stacks.alerting import route_warnings
from stacks.content import check_exporters, load_content, select_datasources, select_systems, unscraped_jobs
from stacks.environment import docker_socket_group, read_settings
from stacks.monitoring import MonitoringStack

settings = read_settings()
content = select_systems(load_content(), settings.systems)
if settings.grafana_content:
    content = select_datasources(content, set(settings.datasource_urls))
check_exporters(content, settings.exporters)
warnings = route_warnings(settings.alerting.route, content, external_labels={"environment"})
scraped = {t.job for t in settings.scrape_targets} | {e.job for e in settings.exporters}
warnings += unscraped_jobs(content, scraped, settings.app_discovery.enabled)
if settings.grafana_content:  # the dashboards' lint warnings, for the dashboards this stack deploys
    warnings += [warning for dashboard in content.dashboards for warning in dashboard.warnings]
for warning in warnings:
    pulumi.log.warn(warning)
# Read before anything is registered: a socket group that cannot be known is bad input.
socket_group = docker_socket_group(settings) if settings.app_discovery.enabled else None
stack = MonitoringStack("monitoring", settings, content, socket_group)

# The contract with application projects (stacks/contract.py): they read these through a StackReference.
for output_name, value in stack.exports.items():
    pulumi.export(output_name, value)
