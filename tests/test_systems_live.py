"""In dev, with every system deployed, one system's synthetic errors fire that system's alerts and no other's,
and they reach that system's receivers: the workload (tests/workload.py) gives one system half of its
traffic as failures and its latencies to the top bucket, the Prometheus and Alertmanager the stack deploys run
every rule file and dev's rendered alertmanager.yml, and each alert that fires beyond those of a run without
errors is checked for its system and the webhook it reached.

The rules run without their `for` (an alert fires at its first evaluation): what is under test is which
alerts fire and where they go, not how long they wait.
"""

from __future__ import annotations

import pytest
import yaml
from engine.stack import http_json, wait_for
from rendering import dev_settings
from stack_run import running_stack
from webhooks import WebhookReceiver

from stacks.content import load_content
from stacks.render.alertmanager import render_alertmanager_config

pytestmark = pytest.mark.live
# Dev's receivers of each system's alerts (Pulumi.dev.yaml): MindHit's are the seed's two webhooks.
RECEIVERS = {"kerp": {"kerp"}, "mindhit": {"default", "critical"}, "observer": {"observer"}, "wealist": {"wealist"}}


def rules_firing_at_once() -> dict[str, str]:
    files = {}
    for rule_file in load_content().rule_files:
        data = yaml.safe_load(rule_file.text)
        for group in data["groups"]:
            for rule in group["rules"]:
                rule.pop("for", None)
        files[rule_file.name] = yaml.safe_dump(data, sort_keys=False)
    return files


def alertmanager_yml(hooks: WebhookReceiver) -> str:
    """Dev's alert routing, every receiver posting to `hooks` at /<receiver>, without its waits."""
    return render_alertmanager_config(dev_settings(hooks, "").alerting)


def firing(url: str) -> set[tuple[str, str]]:
    """(alertname, system) of every alert Prometheus has firing."""
    alerts = http_json(f"{url}/api/v1/alerts")["data"]["alerts"]
    return {(a["labels"]["alertname"], a["labels"].get("system", "")) for a in alerts if a["state"] == "firing"}


def run(workdir, errors: dict[str, float]) -> tuple[set[tuple[str, str]], WebhookReceiver]:
    hooks = WebhookReceiver()
    with running_stack(workdir, rules_firing_at_once(), alertmanager_yml(hooks), errors=errors, live=10) as url:
        alerts = firing(url)
        return alerts, hooks


@pytest.fixture(scope="module")
def without_errors(tmp_path_factory) -> set[tuple[str, str]]:
    alerts, hooks = run(tmp_path_factory.mktemp("baseline"), {})
    hooks.close()
    return alerts


@pytest.mark.parametrize("system", sorted(RECEIVERS))
def test_a_systems_errors_fire_only_its_alerts_and_reach_its_receivers(system, without_errors, tmp_path):
    alerts, hooks = run(tmp_path, {system: 0.5})
    try:
        new = alerts - without_errors
        assert new, f"{system}'s errors fired no alert"
        assert {s for _, s in new} == {system}, f"other systems' alerts fired: {sorted(new)}"
        names = {name for name, _ in new}

        def delivered() -> bool:
            reached = {path.strip("/") for path, name, _ in hooks.firing() if name in names}
            return reached == RECEIVERS[system] or (reached and reached <= RECEIVERS[system] and len(names) == 1)

        wait_for(delivered, 30, f"{system}'s alerts at its receivers {sorted(RECEIVERS[system])}", interval=0.5)
        elsewhere = {(path, name) for path, name, _ in hooks.firing() if name in names}
        assert {path.strip("/") for path, _ in elsewhere} <= RECEIVERS[system], sorted(elsewhere)
    finally:
        hooks.close()
