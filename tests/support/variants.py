"""Stacks of other shapes under mocks: a stack file's config with keys replaced, one pushing its content into an
existing Grafana, one with an email receiver and SMTP settings; the resource types they are read by."""

from __future__ import annotations

import yaml
from conftest import configured_stack
from mockstack import ProgramRun, run_program, unwrap

CONTAINER = "docker:index/container:Container"
INHIBITION_RULE = "grafana:alerting/v1beta1/notificationsInhibitionRule:NotificationsInhibitionRule"
FOLDER, DASHBOARD, DATASOURCE = (
    "grafana:oss/folder:Folder",
    "grafana:oss/dashboard:Dashboard",
    "grafana:oss/dataSource:DataSource",
)
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
EXTERNAL = {
    "url": "https://grafana.example.com",
    "datasourceUrls": {
        "prometheus": "http://metrics.example.com:9091",
        "alertmanager": "http://metrics.example.com:9093",
        "loki": "http://metrics.example.com:3100",
    },
}
TOKEN = "glsa_external_token_0001"


def run(stack: str = "dev", **config) -> ProgramRun:
    values, secret_keys = configured_stack(stack)
    values.update({f"monitoring:{key}": value for key, value in config.items()})
    if "grafanaToken" in config:
        secret_keys = [*secret_keys, "monitoring:grafanaToken"]
    return run_program(stack, values, secret_keys)


def containers(program: ProgramRun) -> dict[str, dict]:
    """Container name suffix (the service) -> inputs."""
    return {
        r.name.removeprefix("monitoring-").removesuffix("-container"): unwrap(r.inputs)
        for r in program.recorder.by_type(CONTAINER)
        if r.name.endswith("-container")  # not the check containers
    }


def existing_grafana(**grafana) -> ProgramRun:
    return run(
        services=["prometheus", "alertmanager", "loki", "promtail"], grafana={**EXTERNAL, **grafana}, grafanaToken=TOKEN
    )


def smtp_run(smtp: dict):
    """Staging with an email receiver and this alerting.smtp (its password a secret)."""
    config, secrets = configured_stack("staging")
    config["monitoring:alerting"]["receivers"][0]["email"] = [{"to": "ops@example.com"}]
    config["monitoring:alerting"]["smtp"] = smtp
    run = run_program("staging", config, [*secrets, "monitoring:alerting"])
    inputs = containers(run)
    uploads = {u["file"]: u.get("content") for u in inputs["alertmanager"]["uploads"]}
    rendered = yaml.safe_load(uploads["/etc/alertmanager/alertmanager.yml"])
    grafana_env = dict(e.split("=", 1) for e in inputs["grafana"]["envs"])
    return {k: v for k, v in rendered["global"].items() if k.startswith("smtp_")}, grafana_env, uploads
