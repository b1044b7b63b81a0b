"""secrets-are-secret: passwords, keys and webhook URLs reach the engine as Pulumi secrets, so the state holds
them encrypted. Secretness comes from the request itself (policy/secrets_on_wire.py): pulumi_policy unwraps
secrets before a policy sees them. Messages name the property, never the value."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from ._shared import CONTAINER, PolicySpec, Resource, as_list

CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
CONFIG_RELOAD = "pulumi-python:dynamic/monitoring:ConfigReload"  # a server's files, delivered in place
GRAFANA_PROVIDER = "pulumi:providers:grafana"

SECRET_ENV_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIAL|WEBHOOK")
# Keys of uploaded YAML configuration (alertmanager.yml's receivers and global, any basic_auth or
# authorization block) whose values are credentials or URLs with a credential in them.
SECRET_CONFIG_KEYS = frozenset(
    {
        "api_url",
        "slack_api_url",
        "webhook_url",
        "service_key",
        "routing_key",
        "api_key",
        "opsgenie_api_key",
        "victorops_api_key",
        "wechat_api_secret",
        "user_key",
        "token",
        "bot_token",
        "bearer_token",
        "password",
        "auth_password",
        "auth_secret",
        "smtp_auth_password",
        "smtp_auth_secret",
        "credentials",
        "secret_access_key",
        "client_secret",
    }
)
# Webhook receivers: the URL is the credential (a token in the path or query).
SECRET_URL_PARENTS = frozenset({"webhook_configs"})
# Grafana contact point integrations (webhooks, slacks, pagerduties, ...): fields holding credentials.
SECRET_CONTACT_FIELDS = frozenset(
    {
        "url",
        "token",
        "integrationKey",
        "apiKey",
        "apiToken",
        "botToken",
        "webhookUrl",
        "password",
        "basicAuthPassword",
        "authorizationCredentials",
        "secret",
        "routingKey",
        "userKey",
    }
)


def _secret_keys_in(value: Any, path: tuple, parent_key: str = "") -> Iterator[tuple]:
    """Paths inside parsed YAML whose key holds a credential and whose value is not empty."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            key = str(key)
            secret = key in SECRET_CONFIG_KEYS or (key == "url" and parent_key in SECRET_URL_PARENTS)
            if secret and item not in (None, "") and not isinstance(item, (Mapping, list)):
                yield path + (key,)
            else:
                yield from _secret_keys_in(item, path + (key,), key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secret_keys_in(item, path + (index,), parent_key)


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unsecret_container_values(resource: Resource) -> Iterator[str]:
    for index, entry in enumerate(as_list(resource.props.get("envs"))):
        name, _, value = str(entry).partition("=")
        if value and SECRET_ENV_NAME.search(name) and not resource.is_secret(("envs", index)):
            yield f"envs[{index}] ({name})"
    for index, upload in enumerate(as_list(resource.props.get("uploads"))):
        if isinstance(upload, Mapping) and not resource.is_secret(("uploads", index, "content")):
            yield from _unsecret_file(f"uploads[{index}].content", upload.get("file"), upload.get("content"))


def _unsecret_delivered_files(resource: Resource) -> Iterator[str]:
    files = resource.props.get("files")
    for path, content in files.items() if isinstance(files, Mapping) else ():
        if not resource.is_secret(("files", path)):
            yield from _unsecret_file(f"files[{path!r}]", path, content)


def _unsecret_file(where: str, path: Any, content: Any) -> Iterator[str]:
    """`where`, when the file is YAML with a key that holds a secret."""
    if not isinstance(content, str):
        return
    try:
        parsed = yaml.safe_load(content)
    except yaml.YAMLError:
        return  # not YAML: nothing this policy can read keys from
    keys = [_dotted(p) for p in _secret_keys_in(parsed, ())]
    if keys:
        shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
        yield f"{where} ({path}: {shown})"


def _unsecret_contact_values(resource: Resource) -> Iterator[str]:
    for kind, integrations in resource.props.items():
        for index, integration in enumerate(as_list(integrations)):
            if not isinstance(integration, Mapping):
                continue
            for key, value in integration.items():
                if key in SECRET_CONTACT_FIELDS and value and not resource.is_secret((kind, index, key)):
                    yield f"{kind}[{index}].{key}"


def secrets_are_secret(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if resource.type == CONTAINER:
        found = list(_unsecret_container_values(resource))
    elif resource.type == CONFIG_RELOAD:
        found = list(_unsecret_delivered_files(resource))
    elif resource.type == CONTACT_POINT:
        found = list(_unsecret_contact_values(resource))
    elif resource.type == GRAFANA_PROVIDER:
        found = ["auth"] if resource.props.get("auth") and not resource.is_secret(("auth",)) else []
    else:
        found = []
    return [
        f"{where} holds a password, key or webhook URL but is not a Pulumi secret, so it is stored in plain "
        "text: wrap it in pulumi.Output.secret() in the program and set its config key with "
        "`pulumi config set --secret`."
        for where in found
    ]


POLICY = PolicySpec(
    "secrets-are-secret", "Passwords, API keys and webhook URLs are Pulumi secrets.", secrets_are_secret
)
