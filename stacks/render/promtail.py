"""promtail.yaml: Docker container logs to Loki, with one documented label set (stacks/layout.py LOG_LABELS).

request_id and user_id stay in the log line: as labels they would create a stream per request
(unbounded cardinality). Levels are normalised (MindHit's slog writes "ERROR", K-ERP's zap "error") and
the entry's time is the application's, from its JSON line (slog's `time`, zap's `timestamp`).
"""

from __future__ import annotations

from stacks.config.settings import HostSettings, StackSettings
from stacks.content.model import Content
from stacks.layout import DOCKER_SOCKET, LOG_JOB, LOKI, PROMTAIL
from stacks.render.spec import ContainerSpec, service_spec
from stacks.syntax.yaml_io import to_yaml

PROMTAIL_CONFIG = PROMTAIL.config_path

# Time formats of the JSON lines' own timestamps, as Go layouts (Promtail parses with Go's time package).
_TIMESTAMPS = (
    ("time", "RFC3339Nano"),  # Go slog (MindHit, seeds 000 and 001)
    ("timestamp", "2006-01-02T15:04:05.000Z0700"),  # zap's ISO8601TimeEncoder (K-ERP, seed 002)
)


def render_promtail_config(settings: StackSettings, host: HostSettings | None = None) -> str:
    """The collector of `host` (default: the stack's own, the promtail service), shipping to the stack's Loki:
    on the stack network from the own host, at loki.pushUrl from another."""
    host = host or next((h for h in settings.hosts if h.own), None)
    push = f"{LOKI.internal_url}/loki/api/v1/push" if host is None or host.own else settings.loki_push_url
    labels = {"environment": settings.environment} | ({"host": host.name} if host else {})
    config = {
        "server": {"http_listen_port": PROMTAIL.port, "grpc_listen_port": 0, "log_level": "info"},
        "positions": {"filename": f"{PROMTAIL.data_path}/positions.yaml"},
        "clients": [{"url": push, "external_labels": labels}],
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
                    {"target_label": "job", "replacement": LOG_JOB},
                ],
                "pipeline_stages": [
                    # Structured (JSON) lines: lift only the bounded `level` field into a label, normalised,
                    # and take the entry's time from the line (a line that is not JSON keeps its read time).
                    {"json": {"expressions": {"level": "level", **{key: key for key, _ in _TIMESTAMPS}}}},
                    {"template": {"source": "level", "template": '{{ Replace (ToLower .Value) "warning" "warn" -1 }}'}},
                    {"labels": {"level": None}},
                    *(
                        {"timestamp": {"source": key, "format": layout, "action_on_failure": "skip"}}
                        for key, layout in _TIMESTAMPS
                    ),
                ],
            }
        ],
    }
    return to_yaml(config)


def promtail_command() -> list[str]:
    return [f"-config.file={PROMTAIL.config_path}"]


def container_spec(settings: StackSettings, content: Content, docker_socket_group: str | None) -> ContainerSpec:
    return service_spec(
        PROMTAIL,
        settings,
        command=promtail_command(),
        files={PROMTAIL.config_path: render_promtail_config(settings)},
        host_binds=[(DOCKER_SOCKET, DOCKER_SOCKET)],  # container discovery and their log files
        user="root",  # reading the Docker socket needs root or the docker group of the host
        after=[LOKI.name],
    )
