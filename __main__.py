"""Entry point of `pulumi up`: settings and content are checked first; only then are resources declared."""

import pulumi

from stacks.config.load import load_settings
from stacks.content import load_content
from stacks.content.findings import total_line
from stacks.environment import check_policy_owner, docker_socket_group, read_config
from stacks.preflight import checked_content
from stacks.resources.docker_stack import MonitoringStack
from stacks.resources.kubernetes_stack import KubernetesStack

settings = load_settings(*read_config())
content, warnings = checked_content(settings, load_content(), pulumi.get_stack())
check_policy_owner(settings, pulumi.get_stack())
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
