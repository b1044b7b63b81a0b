"""The Grafana server environment (GF_* variables) and the queries of Grafana-managed rules."""

from __future__ import annotations

from stacks.config.settings import StackSettings
from stacks.content.model import Content, GrafanaRule
from stacks.layout import GRAFANA
from stacks.render.spec import ContainerSpec, service_spec


def grafana_environment(settings: StackSettings) -> list[str]:
    """GF_* variables. The admin password is in the list: the component sends it as a secret."""
    env = {
        "GF_SECURITY_ADMIN_USER": settings.grafana_admin_user,
        "GF_SECURITY_ADMIN_PASSWORD": settings.grafana_admin_password,
        "GF_USERS_ALLOW_SIGN_UP": "false",
        "GF_AUTH_ANONYMOUS_ENABLED": "false",
        "GF_SERVER_HTTP_PORT": str(GRAFANA.port),
        "GF_SERVER_ROOT_URL": settings.public_url("grafana") + "/",
        "GF_PATHS_DATA": GRAFANA.data_path,
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
        "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES": "false",
        "GF_PLUGINS_PREINSTALL_DISABLED": "true",  # no registry to fetch plugins from; content needs none
    }
    if settings.grafana_multiple_policies:
        # Grafana 13 applies inhibition rules (the stack's inhibitRules) only with this experimental toggle, which
        # changes how all its notifications are routed: a stack's choice (grafana.alertingMultiplePolicies).
        env["GF_FEATURE_TOGGLES_ENABLE"] = "alertingMultiplePolicies"
    smtp = settings.alerting.smtp
    if smtp:
        env.update(
            {
                "GF_SMTP_ENABLED": "true",
                "GF_SMTP_HOST": smtp.smarthost,
                "GF_SMTP_FROM_ADDRESS": smtp.from_,
                "GF_SMTP_USER": smtp.username,
                "GF_SMTP_PASSWORD": smtp.password,
            }
        )
    return [f"{key}={value}" for key, value in env.items()]


def grafana_rule_queries(rule: GrafanaRule) -> list[dict]:
    """The query (A) and threshold (B) of a Grafana-managed rule, as the alerting API stores them.

    Keys and defaults follow what Grafana returns, so that a refresh reads back the same JSON.
    """
    query_model = {"refId": "A", "expr": rule.expr, "instant": True, "range": False}
    if rule.datasource == "loki":
        query_model["queryType"] = "instant"
    threshold_model = {
        "refId": "B",
        "type": "threshold",
        "expression": "A",
        "datasource": {"type": "__expr__", "uid": "__expr__"},
        "conditions": [{"evaluator": {"type": "gt" if rule.op == ">" else "lt", "params": [rule.threshold]}}],
    }
    return [
        {"ref_id": "A", "datasource_uid": rule.datasource, "model": query_model, "from": 600, "to": 0},
        {"ref_id": "B", "datasource_uid": "__expr__", "model": threshold_model, "from": 0, "to": 0},
    ]


def container_spec(settings: StackSettings, content: Content, docker_socket_group: str | None) -> ContainerSpec:
    return service_spec(GRAFANA, settings, envs=grafana_environment(settings), secret=True)  # the admin password


# The targets' template fields Grafana's integrations have (config key -> the provider's argument). The others
# (a Slack pretext, footer, fallback or title link; an email's html) exist in Alertmanager only.
GRAFANA_SLACK = {
    "channel": "recipient",
    "username": "username",
    "color": "color",
    "title": "title",
    "text": "text",
    "iconEmoji": "icon_emoji",
    "iconUrl": "icon_url",
}
GRAFANA_EMAIL = {"subject": "subject", "text": "message"}
GRAFANA_PAGERDUTY = {
    "description": "summary",
    "severity": "severity",
    "class": "class_",
    "component": "component",
    "group": "group",
    "client": "client",
    "clientUrl": "client_url",
}


def grafana_fields(fields: tuple[tuple[str, str], ...], arguments: dict[str, str]) -> dict:
    return {arguments[key]: text for key, text in fields if key in arguments}
