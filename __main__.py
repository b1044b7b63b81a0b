"""Entry point of `pulumi up`: settings and content are checked first; only then are resources declared."""

import pulumi

from stacks.config import read_settings
from stacks.content import load_content, route_warnings, select_systems
from stacks.monitoring import MonitoringStack

settings = read_settings()
content = select_systems(load_content(), settings.systems)
for warning in route_warnings(settings.alerting.route, content, external_labels={"environment"}):
    pulumi.log.warn(warning)
stack = MonitoringStack("monitoring", settings, content)

pulumi.export("environment", settings.environment)
pulumi.export("urls", stack.urls)
if stack.content:
    pulumi.export("dashboardUrls", {uid: d.url for uid, d in stack.content.dashboards.items()})
