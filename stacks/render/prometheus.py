"""prometheus.yml and the Prometheus command line."""

from __future__ import annotations

from stacks.layout import ALERTMANAGER, GRAFANA, LOKI, PROMETHEUS, PROMTAIL, RULES_DIR
from stacks.render import to_yaml
from stacks.settings import StackSettings


def render_prometheus_config(settings: StackSettings, rule_file_names: list[str]) -> str:
    """Self-scrape, every stack component, the application targets, rules and Alertmanager."""
    own_jobs = [
        {"job_name": "prometheus", "static_configs": [{"targets": [f"localhost:{PROMETHEUS.port}"]}]},
        *(
            {"job_name": s.name, "static_configs": [{"targets": [f"{s.name}:{s.port}"]}]}
            for s in (ALERTMANAGER, LOKI, PROMTAIL, GRAFANA)
        ),
    ]
    app_jobs = []
    for target in settings.scrape_targets:
        static = {"targets": list(target.targets)}
        if target.labels:
            static["labels"] = dict(target.labels)
        app_jobs.append(
            {
                "job_name": target.job,
                "metrics_path": target.metrics_path,
                "scheme": target.scheme,
                "static_configs": [static],
            }
        )
    config = {
        "global": {
            "scrape_interval": settings.prometheus.scrape_interval,
            "evaluation_interval": settings.prometheus.evaluation_interval,
            "external_labels": {"environment": settings.environment},
        },
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"{ALERTMANAGER.name}:{ALERTMANAGER.port}"]}]}]
        },
        "rule_files": [f"{RULES_DIR}/{name}" for name in rule_file_names],
        "scrape_configs": own_jobs + app_jobs,
    }
    return to_yaml(config)


def prometheus_command(settings: StackSettings) -> list[str]:
    return [
        f"--config.file={PROMETHEUS.config_path}",
        f"--storage.tsdb.path={PROMETHEUS.data_path}",
        f"--storage.tsdb.retention.time={settings.prometheus.retention_time}",
        f"--storage.tsdb.retention.size={settings.prometheus.retention_size}",
        "--web.enable-lifecycle",
        f"--web.external-url={settings.public_url('prometheus')}",
        "--web.route-prefix=/",
    ]
