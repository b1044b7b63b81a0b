"""prometheus.yml and the Prometheus command line."""

from __future__ import annotations

import re
from collections.abc import Sequence

from stacks.config.settings import ExporterSettings, HostSettings, StackSettings
from stacks.content.model import Content
from stacks.content.retention import content_retention
from stacks.layout import (
    ALERTMANAGER,
    APP_DISCOVERY_JOB,
    DOCKER_SOCKET,
    EXPORTER_PORTS,
    METRIC_AGENTS,
    PROMETHEUS,
    RULES_DIR,
    SERVICES,
)
from stacks.outputs import LABELS, network_name
from stacks.render.spec import ContainerSpec, ReloadSpec, service_spec
from stacks.syntax.yaml_io import to_yaml


def render_prometheus_config(settings: StackSettings, rule_files: Sequence[str] = ()) -> str:
    """Self-scrape, every component the stack runs, the hosts' agents, the application targets, rules and
    Alertmanager. `rule_files`: the names of the rule files (in the rules directory), each listed by name: a file
    delivered earlier and since deleted stays in the running container (stacks/reload.py), and must not be
    loaded."""
    own_jobs = [
        {"job_name": "prometheus", "static_configs": [{"targets": [f"localhost:{PROMETHEUS.port}"]}]},
        *(
            {"job_name": s.name, "static_configs": [{"targets": [f"{s.name}:{s.port}"]}]}
            for s in SERVICES
            if s is not PROMETHEUS and settings.runs(s.name)
        ),
        *agent_scrape_jobs(settings.hosts),
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
    app_jobs += exporter_scrape_jobs(settings.exporters)
    config = {
        "global": {
            "scrape_interval": settings.prometheus.scrape_interval,
            "evaluation_interval": settings.prometheus.evaluation_interval,
            "external_labels": {"environment": settings.environment},
        },
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"{ALERTMANAGER.name}:{ALERTMANAGER.port}"]}]}]
        },
        "rule_files": [f"{RULES_DIR}/{name}" for name in sorted(rule_files)],
        "scrape_configs": own_jobs + app_jobs,
    }
    if settings.app_discovery.enabled:
        own = [job["job_name"] for job in own_jobs + app_jobs]
        config["scrape_configs"].append(app_discovery_job(settings, own))
    if settings.prometheus.remote_write:
        config["remote_write"] = [store.config() for store in settings.prometheus.remote_write]
    return to_yaml(config)


def app_discovery_job(settings: StackSettings, reserved_jobs: list[str]) -> dict:
    """Containers that opt in with labels (stacks/outputs.py) and join the stack network, found through the
    Docker socket: address = the container's IP on our network and its `port` label, path and job from labels."""
    network = network_name(settings.name_prefix)

    def label(name: str) -> str:  # how Docker discovery names a container label
        return "__meta_docker_container_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", name)

    return {
        "job_name": APP_DISCOVERY_JOB,
        "docker_sd_configs": [
            {
                "host": f"unix://{DOCKER_SOCKET}",
                "refresh_interval": settings.prometheus.scrape_interval,
                # Every network of a container, not only the first by name (Prometheus 3.16's default,
                # discovery/moby/docker.go): an application also on a network named before ours is scraped.
                "match_first_network": False,
                # Asked of the daemon: only opted-in containers attached to our network.
                "filters": [
                    {"name": "label", "values": [f"{LABELS.scrape}=true"]},
                    {"name": "network", "values": [network]},
                ],
            }
        ],
        "relabel_configs": [
            # A container yields one target per network and exposed port: keep those on our network, where
            # Prometheus reaches it (the rewritten address makes its ports' targets one).
            {"source_labels": ["__meta_docker_network_name"], "regex": _literal(network), "action": "keep"},
            {"source_labels": [label(LABELS.port)], "regex": r"\d+", "action": "keep"},
            {
                "source_labels": ["__meta_docker_network_ip", label(LABELS.port)],
                "regex": r"(.+);(\d+)",
                "replacement": "$1:$2",
                "target_label": "__address__",
            },
            {"source_labels": [label(LABELS.path)], "regex": "(/.*)", "target_label": "__metrics_path__"},
            {"source_labels": ["__meta_docker_container_name"], "regex": "/?(.*)", "target_label": "container"},
            {"source_labels": ["container", label(LABELS.port)], "separator": ":", "target_label": "instance"},
            {"source_labels": ["container"], "target_label": "job"},
            {"source_labels": [label(LABELS.job)], "regex": "(.+)", "target_label": "job"},
            # An app may not pass for one of the stack's own jobs: alerts and dashboards read up{job=...}.
            {"source_labels": ["job"], "regex": "|".join(map(_literal, reserved_jobs)), "action": "drop"},
        ],
    }


def _literal(text: str) -> str:
    """A regex matching exactly `text` (Prometheus anchors relabel regexes); '-' needs no escape outside []."""
    return re.escape(text).replace("\\-", "-")


def prometheus_command(settings: StackSettings, content: Content) -> list[str]:
    """Its flags; retention by time as the stack gives it, else as long as the content reads back."""
    retention = settings.prometheus.retention_time or content_retention(content)
    return [
        f"--config.file={PROMETHEUS.config_path}",
        f"--storage.tsdb.path={PROMETHEUS.data_path}",
        f"--storage.tsdb.retention.time={retention}",
        f"--storage.tsdb.retention.size={settings.prometheus.retention_size}",
        "--web.enable-lifecycle",
        f"--web.external-url={settings.public_url('prometheus')}",
        "--web.route-prefix=/",
    ]


def container_spec(settings: StackSettings, content: Content, docker_socket_group: str | None) -> ContainerSpec:
    """prometheus.yml and the rule files uploaded; for application discovery, the Docker socket read-only, and
    the image's user, nobody, in the socket's group (enough to read it; never root)."""
    rule_files = {f.name: f.text for f in content.rule_files}
    return service_spec(
        PROMETHEUS,
        settings,
        command=prometheus_command(settings, content),
        files={
            PROMETHEUS.config_path: render_prometheus_config(settings, list(rule_files)),
            **{f"{RULES_DIR}/{name}": text for name, text in rule_files.items()},
        },
        host_binds=[(DOCKER_SOCKET, DOCKER_SOCKET)] if docker_socket_group else (),
        group_adds=[docker_socket_group] if docker_socket_group else (),
        secret=any(store.has_credentials for store in settings.prometheus.remote_write),
        # Also loads every rule file the config names. /bin/promtool in prom/prometheus and the local build.
        check=["/bin/promtool", "check", "config", PROMETHEUS.config_path],
        # web/web.go and cmd/prometheus/main.go (v0.316.0): POST /-/reload, served with --web.enable-lifecycle
        # (prometheus_command), reloads the config and every rule file; the rules manager keeps the state of the
        # alerting rules that did not change.
        reload=ReloadSpec(
            success_metric="prometheus_config_last_reload_successful",
            timestamp_metric="prometheus_config_last_reload_success_timestamp_seconds",
            failure_log="Error reloading config",
        ),
    )


def agent_scrape_jobs(hosts: Sequence[HostSettings]) -> list[dict]:
    """One job per metric agent, a static target per host that runs it, labelled with the host's name."""
    jobs = []
    for agent in METRIC_AGENTS:
        targets = [
            {"targets": [host.target(agent.name)], "labels": {"host": host.name}}
            for host in hosts
            if agent.name in host.agents
        ]
        if targets:
            jobs.append({"job_name": agent.name, "static_configs": targets})
    return jobs


def exporter_scrape_jobs(exporters: tuple[ExporterSettings, ...]) -> list[dict]:
    """One scrape job per exporter, on the stack network under its job name."""
    return [
        {"job_name": exporter.job, "static_configs": [{"targets": [f"{exporter.job}:{EXPORTER_PORTS[exporter.kind]}"]}]}
        for exporter in exporters
    ]
