"""An application that registers its own scrape target with the monitoring stack, without editing it.

It reads the monitoring stack's outputs through a StackReference (stacks/outputs.py), joins its
Docker network and sets the scrape labels on its container; Prometheus's Docker discovery finds it.
"""

import sys
from pathlib import Path

import pulumi
import pulumi_docker as docker

# The contract module ships with the monitoring repository, two directories up.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from stacks.outputs import MonitoringOutputs  # noqa: E402
from stacks.versions import IMAGES  # noqa: E402

# Any image that serves Prometheus metrics will do; the pinned Alertmanager serves /metrics on 9093 with
# the configuration it ships. `image` names another (a mirror, or the local build on a machine without a
# registry).
METRICS_PORT = 9093

config = pulumi.Config()
IMAGE = config.get("image") or IMAGES["alertmanager"]
monitoring = MonitoringOutputs.from_stack_reference(pulumi.StackReference(config.require("monitoringStack")))
name = config.get("name") or "example-app"

app = docker.Container(
    "app",
    name=name,
    image=IMAGE,
    # Its own cluster port is of no use to a single demo instance.
    command=["--config.file=/etc/alertmanager/alertmanager.yml", "--cluster.listen-address="],
    restart="unless-stopped",
    networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=monitoring.network)],
    labels=monitoring.container_labels(port=METRICS_PORT, job=config.get("job") or None).apply(
        lambda labels: [docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(labels.items())]
    ),
)

pulumi.export("container", app.name)
pulumi.export("prometheusUrl", monitoring.urls["prometheus"])
pulumi.export("grafanaUrl", monitoring.grafana["url"])
