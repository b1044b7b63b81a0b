"""The Grafana server environment (GF_* variables)."""

from __future__ import annotations

from stacks.layout import GRAFANA
from stacks.settings import StackSettings


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
