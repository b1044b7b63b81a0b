"""Rendering every configuration file of a stack, as the program does, for golden and tool tests."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import configured_stack
from webhooks import WebhookReceiver

from stacks.config.load import load_settings
from stacks.config.settings import StackSettings
from stacks.content import load_content, select_systems
from stacks.render.alertmanager import render_alertmanager_config
from stacks.render.grafana import grafana_environment
from stacks.render.loki import render_loki_config
from stacks.render.prometheus import render_prometheus_config
from stacks.render.promtail import render_promtail_config


def stack_settings(stack: str) -> StackSettings:
    config, secret_keys = configured_stack(stack)
    return load_settings(config, frozenset(secret_keys))


def rendered_files(stack: str) -> dict[str, str]:
    settings = stack_settings(stack)
    content = select_systems(load_content(), settings.systems)
    return {
        "prometheus.yml": render_prometheus_config(settings, [f.name for f in content.rule_files]),
        "alertmanager.yml": render_alertmanager_config(settings.alerting, [t.file_name for t in content.templates]),
        "loki.yaml": render_loki_config(settings),
        "promtail.yaml": render_promtail_config(settings),
        "grafana.env": "\n".join(grafana_environment(settings)) + "\n",
    }


def dev_settings(webhooks: WebhookReceiver, prefix: str, inhibit: bool = True) -> StackSettings:
    """The dev stack's settings, every receiver posting to `webhooks` under `prefix`, alert timings fast.
    Without `inhibit`, the stack's inhibit rules are left out."""
    config, secret_keys = configured_stack("dev")
    alerting = config["monitoring:alerting"]
    for receiver in alerting["receivers"]:
        receiver["webhooks"][0]["url"] = webhooks.url(f"{prefix}/{receiver['name']}")
    alerting["route"].update(groupWait="1s", groupInterval="1s")  # the seed's 30s would only slow the test
    if not inhibit:
        del alerting["inhibitRules"]
    config["monitoring:prometheus"] = {"evaluationInterval": "5s", "scrapeInterval": "5s"}
    return load_settings(config, frozenset(secret_keys))


# A remote-write store with every setting.
STORE = {
    "name": "long-term",
    "url": "https://vm.example.com/api/v1/write",
    "queryUrl": "https://vm.example.com",
    "basicAuth": {"username": "prometheus", "password": "s3cret-pass"},
    "writeRelabel": [
        {"sourceLabels": ["__name__"], "regex": "go_.*", "action": "drop"},
        {"action": "labeldrop", "regex": "pod_template_hash"},
    ],
    "queue": {"capacity": 20000, "maxShards": 8, "maxSamplesPerSend": 4000, "batchSendDeadline": "10s"},
}


def with_remote_write(stack: str, *stores: dict, secret: bool = True) -> tuple[dict, list[str]]:
    """A stack's config and secret keys with these prometheus.remoteWrite stores; `secret`: the prometheus key
    is a Pulumi secret, as `pulumi config set --secret --path` makes it."""
    config, secret_keys = configured_stack(stack)
    config["monitoring:prometheus"] = {**(config.get("monitoring:prometheus") or {}), "remoteWrite": list(stores)}
    return config, [*secret_keys, "monitoring:prometheus"] if secret else secret_keys


def assert_matches_golden(golden: Path, text: str) -> None:
    """`text` byte for byte as the golden file has it; UPDATE_GOLDEN=1 rewrites the file after a reviewed change."""
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"missing golden file {golden}; run with UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text(), f"{golden} differs from its golden file"
