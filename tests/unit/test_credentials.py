"""Which container files and environments hold a credential (stacks/render/credentials.py), and so go to the
engine as Pulumi secrets whatever their renderer declared (ContainerSpec.sends_secrets)."""

from __future__ import annotations

import pytest
from repo import GOLDEN

from stacks.render.credentials import holds_credentials
from stacks.render.spec import ContainerSpec

PASSWORD_FILE = "remote_write:\n  - url: https://metrics.example.com/push\n    basic_auth: {username: u, password: p}\n"


@pytest.mark.parametrize(
    "text",
    [
        "remote_write:\n  - url: https://metrics.example.com/push\n    authorization: {credentials: tok}\n",
        PASSWORD_FILE,
        "scrape_configs:\n  - job_name: app\n    bearer_token: tok\n",
        "receivers:\n  - name: team\n    webhook_configs:\n      - url: https://hooks.example.com/T0K3N\n",
        "receivers:\n  - name: team\n    slack_configs:\n      - api_url: https://hooks.slack.com/services/X\n",
        "global:\n  smtp_auth_password: pw\n",
        "clients:\n  - url: https://logs.example.com/loki/api/v1/push\n    basic_auth: {username: u, password: p}\n",
    ],
)
def test_a_yaml_file_with_a_credential_holds_one(text):
    assert holds_credentials({"/etc/server.yml": text}, [])


# Each key of the servers' configuration whose value is a credential (Alertmanager's receivers and global, an HTTP
# client's basic_auth, authorization and oauth2, a remote write's sigv4).
CREDENTIAL_KEYS = [
    "api_url", "slack_api_url", "webhook_url", "service_key", "routing_key", "api_key", "opsgenie_api_key",
    "victorops_api_key", "wechat_api_secret", "user_key", "token", "bot_token", "bearer_token", "password",
    "auth_password", "auth_secret", "smtp_auth_password", "smtp_auth_secret", "credentials", "secret_access_key",
    "client_secret",
]  # fmt: skip


@pytest.mark.parametrize("key", CREDENTIAL_KEYS)
def test_each_credential_key_alone_makes_a_file_hold_a_credential(key):
    assert holds_credentials({"/etc/server.yml": f"receivers:\n  - name: team\n    config:\n      {key}: v\n"}, [])


@pytest.mark.parametrize(
    "text",
    [
        "remote_write:\n  - url: https://metrics.example.com/push\n",  # a URL outside a webhook receiver
        "remote_write:\n  - url: https://metrics.example.com/push\n    basic_auth: {username: u, password: null}\n",
        "remote_write:\n  - url: https://metrics.example.com/push\n    basic_auth: {username: u, password: ''}\n",
        "clients:\n  - url: http://loki:3100/loki/api/v1/push\n",
        '{{ define "slack.title" }}{{ .Status }} password: {{ .CommonLabels.x }}{{ end }}\n',  # a template
        "key: [unclosed\n",  # not YAML
    ],
)
def test_a_file_without_a_credential_holds_none(text):
    assert not holds_credentials({"/etc/server.yml": text}, [])


def test_the_shipped_configurations_hold_credentials_where_they_have_receivers_only():
    assert holds_credentials({"alertmanager.yml": (GOLDEN / "prod" / "alertmanager.yml").read_text()}, [])
    for name in ("prometheus.yml", "loki.yaml", "promtail.yaml"):
        assert not holds_credentials({name: (GOLDEN / "prod" / name).read_text()}, []), name
    assert holds_credentials({}, (GOLDEN / "prod" / "grafana.env").read_text().splitlines())


@pytest.mark.parametrize(
    "envs, holds",
    [
        (["GF_SECURITY_ADMIN_PASSWORD=s3cret"], True),
        (["LOKI_API_KEY=k"], True),
        (["SLACK_WEBHOOK=https://hooks.slack.com/services/X"], True),
        (["GF_SECURITY_ADMIN_PASSWORD="], False),  # nothing to keep secret
        # The name is what precedes the first '=': a value may hold more, as base64 does at its end.
        (["REMOTE_WRITE_TOKEN=c2VjcmV0IHRva2Vu=="], True),
        (["GF_USERS_ALLOW_SIGN_UP=false", "TZ=UTC"], False),
    ],
)
def test_an_environment_holds_a_credential_in_a_variable_named_like_one(envs, holds):
    assert holds_credentials({}, envs) is holds


def test_a_spec_sends_its_files_and_environment_as_secrets_when_declared_so_or_holding_a_credential():
    plain = ContainerSpec(name="s", container_name="c", image="i", files={"/etc/s.yml": "a: 1\n"})
    assert not plain.sends_secrets
    assert ContainerSpec(name="s", container_name="c", image="i", secret=True).sends_secrets
    undeclared = ContainerSpec(name="s", container_name="c", image="i", files={"/etc/s.yml": PASSWORD_FILE})
    assert undeclared.sends_secrets
    assert ContainerSpec(name="s", container_name="c", image="i", envs=("DB_PASSWORD=x",)).sends_secrets
