"""Whether a container's files or environment hold a credential: a password, key or token, or a webhook URL (the
URL is the credential). Such a spec's files and environment go to the engine as Pulumi secrets, so the state holds
them encrypted, whatever its renderer declared (ContainerSpec.sends_secrets).

The program makes this check itself because a policy pack cannot: pulumi-policy unwraps secrets before a policy
sees a value (pulumi/pulumi-policy#241)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

SECRET_ENV_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIAL|WEBHOOK")
# Keys of the servers' YAML configuration (alertmanager.yml's receivers and global, any basic_auth or authorization
# block, a remote write's or Loki client's credentials) whose values are credentials or URLs with one in them.
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
SECRET_URL_PARENTS = frozenset({"webhook_configs"})  # a webhook receiver's `url` carries its token


# libyaml's parser when PyYAML has it, as stacks/syntax/yaml_io.py reads YAML: this reads every file the program
# renders, on every run (not yaml_io itself, which would make the layers one deeper).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def holds_credentials(files: Mapping[str, str], envs: Iterable[str]) -> bool:
    """Any environment variable named like a credential with a value, or any YAML file with a credential's key."""
    for entry in envs:
        name, _, value = entry.partition("=")
        if value and SECRET_ENV_NAME.search(name):
            return True
    return any(_yaml_holds_credentials(text) for text in files.values())


def _yaml_holds_credentials(text: str) -> bool:
    try:
        parsed = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError:
        return False  # not YAML (a template, a script): no keys to read
    return _has_secret_key(parsed)


def _has_secret_key(value: Any, parent_key: str = "") -> bool:
    if isinstance(value, Mapping):
        for key, item in value.items():
            key = str(key)
            secret = key in SECRET_CONFIG_KEYS or (key == "url" and parent_key in SECRET_URL_PARENTS)
            if secret and item not in (None, "") and not isinstance(item, (Mapping, list)):
                return True
            if _has_secret_key(item, key):
                return True
    elif isinstance(value, list):
        return any(_has_secret_key(item, parent_key) for item in value)
    return False
