"""promtail.yaml: Docker container logs to Loki.

Labels: container, service (compose-style), stream and level. request_id and user_id stay in the
log line: as labels they would create a stream per request (unbounded cardinality).
"""

from __future__ import annotations

from stacks.content import Content
from stacks.layout import DOCKER_SOCKET, LOKI, PROMTAIL
from stacks.render import to_yaml
from stacks.render.containers import ContainerSpec
from stacks.settings import StackSettings


def render_promtail_config(settings: StackSettings) -> str:
    config = {
        "server": {"http_listen_port": PROMTAIL.port, "grpc_listen_port": 0, "log_level": "info"},
        "positions": {"filename": f"{PROMTAIL.data_path}/positions.yaml"},
        "clients": [
            {"url": f"{LOKI.internal_url}/loki/api/v1/push", "external_labels": {"environment": settings.environment}}
        ],
        "scrape_configs": [
            {
                "job_name": "docker",
                "docker_sd_configs": [{"host": f"unix://{DOCKER_SOCKET}", "refresh_interval": "5s"}],
                "relabel_configs": [
                    {"source_labels": ["__meta_docker_container_name"], "regex": "/?(.*)", "target_label": "container"},
                    {
                        "source_labels": ["__meta_docker_container_label_com_docker_compose_service"],
                        "target_label": "service",
                    },
                    {"source_labels": ["__meta_docker_container_log_stream"], "target_label": "stream"},
                    {"target_label": "job", "replacement": "docker"},
                ],
                "pipeline_stages": [
                    # Structured (JSON) lines: lift only the bounded `level` field into a label.
                    {"json": {"expressions": {"level": "level"}}},
                    {"labels": {"level": None}},
                ],
            }
        ],
    }
    return to_yaml(config)


def promtail_command() -> list[str]:
    return [f"-config.file={PROMTAIL.config_path}"]


def container_spec(settings: StackSettings, content: Content, docker_socket_group: str | None) -> ContainerSpec:
    return ContainerSpec(
        service=PROMTAIL,
        command=promtail_command(),
        files={PROMTAIL.config_path: render_promtail_config(settings)},
        host_binds=[(DOCKER_SOCKET, DOCKER_SOCKET)],  # container discovery and their log files
        user="root",  # reading the Docker socket needs root or the docker group of the host
        after=[LOKI.name],
    )
