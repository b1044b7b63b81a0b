"""In dev, with every system deployed, one system's synthetic errors fire that system's alerts and no other's,
and they reach that system's receivers: the workload (tests/support/workload.py) gives one system half of its
traffic as failures and its latencies to the top bucket, the Prometheus and Alertmanager the stack deploys run
every rule file and dev's rendered alertmanager.yml, and each alert that fires beyond those of a run without
errors is checked for its system and the webhook it reached.

The rules run without their `for` (an alert fires at its first evaluation): what is under test is which
alerts fire and where they go, not how long they wait.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest
import yaml
from polling import http_json, wait_for
from rendering import dev_settings
from stack_run import running_stack
from webhooks import WebhookReceiver

from stacks.content import load_content
from stacks.render.alertmanager import render_alertmanager_config

pytestmark = pytest.mark.live
# What fires without errors, from the workload's latencies and rates alone (tests/support/workload.py is deterministic).
BASELINE = {
    ("APILatencyHigh", "observer"), ("APIUnresponsive", "observer"), ("ContainerOomKilled", "platform"),
    ("DatabaseConnectionPoolExhausted", "kerp"), ("ExternalAPITimeout", "kerp"), ("GapDetectionLatency", "observer"),
    ("HighLatency", "mindhit"), ("HostCpuSaturated", "platform"), ("KerpApiLatencyErrorBudgetFastBurn", "kerp"),
    ("KerpApiLatencyErrorBudgetSlowBurn", "kerp"), ("MindhitApiLatencyErrorBudgetFastBurn", "mindhit"),
    ("MindhitApiLatencyErrorBudgetSlowBurn", "mindhit"), ("PromtailDroppedEntries", "platform"),
    ("RateLimitHighDelay", "observer"), ("SlowAIProcessing", "mindhit"), ("SlowDBQueries", "mindhit"),
    ("SlowDatabaseQueries", "kerp"), ("SlowResponseTime", "kerp"), ("TokenValidityLow", "observer"),
    ("TrackACollectionDelayed", "observer"), ("TrackBCollectionSlow", "observer"),
    ("TrackBSlotStarvation", "observer"), ("Watchdog", ""), ("WealistSlowResponses", "wealist"),
}  # fmt: skip
# What a system's errors add, each alert with the receivers dev routes it to (Pulumi.dev.yaml): MindHit's
# criticals go to the seed's critical webhook, its warnings to the default one.
DELIVERED = {
    "kerp": {
        "HighErrorRate": {"kerp"}, "KerpApiErrorsErrorBudgetFastBurn": {"kerp"},
        "KerpApiErrorsErrorBudgetSlowBurn": {"kerp"}, "KerpCacheHitRateErrorBudgetSlowBurn": {"kerp"},
        "LowCacheHitRatio": {"kerp"}, "TaxInvoiceFailureSpike": {"kerp"},
    },
    "mindhit": {
        "HighErrorRate": {"critical"}, "MindhitApiAvailabilityErrorBudgetFastBurn": {"critical"},
        "HighWorkerFailureRate": {"default"}, "MindhitApiAvailabilityErrorBudgetSlowBurn": {"default"},
    },
    "observer": {"HighAPIErrorRate": {"observer"}},
    "wealist": {"WealistHighErrorRate": {"wealist"}},
}  # fmt: skip


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


@pytest.mark.parametrize("system", sorted(DELIVERED))
def test_a_systems_errors_fire_only_its_alerts_and_reach_its_receivers(system, tmp_path):
    expected = BASELINE | {(name, system) for name in DELIVERED[system]}
    hooks = WebhookReceiver()
    try:
        with running_stack(tmp_path, rules_firing_at_once(), alertmanager_yml(hooks), errors={system: 0.5}) as url:
            # Every rule has been evaluated over a few scrapes well within the minute (1 s intervals).
            seen: set[tuple[str, str]] = set()

            def exactly_expected() -> bool:
                seen.clear()
                seen.update(firing(url))
                return seen == expected

            try:
                wait_for(exactly_expected, 60, f"exactly {system}'s alerts beside the baseline", 0.5)
            except AssertionError as error:
                raise AssertionError(
                    f"{error}: extra {sorted(seen - expected)}, missing {sorted(expected - seen)}"
                ) from None

            def delivered() -> dict[str, set[str]]:
                reached: dict[str, set[str]] = {}
                for path, name, _ in hooks.firing():
                    if name in DELIVERED[system]:
                        reached.setdefault(name, set()).add(path.strip("/"))
                return reached

            wait_for(lambda: delivered() == DELIVERED[system], 30, f"{system}'s alerts at {DELIVERED[system]}", 0.5)
    finally:
        hooks.close()


def test_at_rest_no_systems_rule_fires(tmp_path):
    """Every system healthy and at rest (the workload's quiet mode: no failure, every latency in the lowest bucket,
    each gauge at its contract's `idle` value), with ten minutes of that past backfilled so that every rate window
    is full: none of the systems' rules fires, even without its `for`. The platform's rules watch the stack's
    own services and agents, which run here only as fixtures: the engine tier measures them
    (tests/engine/test_idle_dev.py)."""
    hooks = WebhookReceiver()
    systems_rules = {name: text for name, text in rules_firing_at_once().items() if name != "platform.yml"}
    try:
        with running_stack(
            tmp_path, systems_rules, alertmanager_yml(hooks), history=600, history_step=5, history_gap=5, quiet=True
        ) as url:
            evaluated = f"{url}/api/v1/rules"
            # Each group evaluated at least twice after every target was up (1 s intervals).
            wait_for(lambda: _evaluated_since(evaluated, time.time() - 1), 30, "the rules evaluated", 0.5)
            time.sleep(3)
            alerts = http_json(f"{url}/api/v1/alerts")["data"]["alerts"]
            assert sorted({(a["labels"]["alertname"], a["labels"].get("system", "")) for a in alerts}) == []
    finally:
        hooks.close()


def _evaluated_since(rules_url: str, moment: float) -> bool:
    groups = http_json(rules_url)["data"]["groups"]
    return bool(groups) and all(
        datetime.fromisoformat(group["lastEvaluation"]).timestamp() >= moment for group in groups
    )
