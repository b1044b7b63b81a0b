"""loki.yaml: Loki 3.x single binary, tsdb and schema v13 on a filesystem volume, retention by the compactor."""

from __future__ import annotations

from stacks.config.settings import StackSettings
from stacks.content.model import Content
from stacks.layout import LOKI
from stacks.render.spec import ContainerSpec, service_spec
from stacks.syntax.yaml_io import to_yaml

# The schema applies from this date on; it must be in the past on a new install and never change after.
SCHEMA_FROM = "2024-04-01"


def render_loki_config(settings: StackSettings) -> str:
    data = LOKI.data_path
    config = {
        "auth_enabled": False,
        "server": {"http_listen_port": LOKI.port, "grpc_listen_port": 9096, "log_level": "info"},
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": data,
            "storage": {"filesystem": {"chunks_directory": f"{data}/chunks", "rules_directory": f"{data}/rules"}},
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
        },
        "schema_config": {
            "configs": [
                {
                    "from": SCHEMA_FROM,
                    "store": "tsdb",
                    "object_store": "filesystem",
                    "schema": "v13",
                    "index": {"prefix": "index_", "period": "24h"},
                }
            ]
        },
        # Retention happens only in the compactor and is off unless enabled (then it needs a delete store).
        "compactor": {
            "working_directory": f"{data}/compactor",
            "compaction_interval": "10m",
            "retention_enabled": True,
            "retention_delete_delay": "2h",
            "delete_request_store": "filesystem",
        },
        "limits_config": {"retention_period": settings.loki_retention_period},
        "analytics": {"reporting_enabled": False},
    }
    return to_yaml(config)


def loki_command() -> list[str]:
    return [f"-config.file={LOKI.config_path}"]


def container_spec(settings: StackSettings, content: Content, docker_socket_group: str | None) -> ContainerSpec:
    return service_spec(LOKI, settings, command=loki_command(), files={LOKI.config_path: render_loki_config(settings)})
