"""Silence is an alert (stacks/content/silence.py): every scrape job a system declares has an alert for its
target down and one for its target missing; content without them stops preview, naming the system file and
the job. The alerts themselves are tested by promtool in rules/tests/, firing and silent."""

from __future__ import annotations

import pytest

from stacks.content import load_content
from stacks.errors import InputError


def _problems(root) -> str:
    with pytest.raises(InputError) as raised:
        load_content(root)
    return str(raised.value)


def test_every_declared_job_of_the_shipped_systems_has_its_down_and_missing_alerts():
    alerts = {alert for rule_file in load_content().rule_files for alert in rule_file.alerts}
    assert {"KerpTargetMissing", "MindhitTargetMissing", "WealistTargetMissing", "ObserverTargetMissing"} <= alerts
    assert {"APIDown", "WealistServiceDown", "ObserverTargetDown"} <= alerts


def test_a_job_without_a_missing_target_alert_stops_preview(content_copy):
    rules = content_copy / "rules/kerp.yml"
    rules.write_text(rules.read_text().replace('absent(up{job="kerp-api"})', 'absent(up{job="kerp-web"})'))
    assert (
        "systems/kerp.yml: [silence-alerts] jobs.kerp-api: no alert of kerp fires when it has no target: "
        'add one on absent(up{job="kerp-api"}) (to turn the rule off for this file: rules/.lint: exclusions: '
        '{silence-alerts: {reason: "<why>", files: [kerp.yml]}})' in _problems(content_copy)
    )


def test_a_job_without_a_down_alert_stops_preview(content_copy):
    rules = content_copy / "rules/observer.yml"
    rules.write_text(rules.read_text().replace('expr: up{job=~"observer-.+"} == 0', "expr: vector(0) > 1"))
    message = _problems(content_copy)
    assert (
        "systems/observer.yml: [silence-alerts] jobs.observer-collector: no alert of observer fires when its target "
        'is down: add one on up{job="observer-collector"} == 0' in message
    )
    assert "when it has no target" not in message


def test_a_new_job_needs_its_own_missing_target_alert(content_copy):
    """The down alert reads every weAlist job (job=~"wealist-.+"); absent() names one job at a time."""
    systems = content_copy / "systems/wealist.yml"
    systems.write_text(systems.read_text().replace("jobs:\n", "jobs:\n  wealist-search-service: Go, /metrics\n"))
    message = _problems(content_copy)
    assert (
        "systems/wealist.yml: [silence-alerts] jobs.wealist-search-service: no alert of wealist fires when it has no "
        "target" in message
    )
    assert "wealist-search-service: no alert of wealist fires when its target is down" not in message


@pytest.mark.parametrize(("alert", "agent"), [("CadvisorMissing", "cadvisor"), ("HostDown", "node-exporter")])
def test_a_host_agent_without_its_alerts_stops_preview(content_copy, alert, agent):
    """The stack's own services are scraped by the config that runs them; a host's agents can go missing."""
    rules = content_copy / "rules/platform.yml"
    text = rules.read_text()
    expr = f'absent(up{{job="{agent}"}})' if alert.endswith("Missing") else f'up{{job="{agent}"}} == 0'
    assert f"expr: {expr}\n" in text
    rules.write_text(text.replace(f"expr: {expr}\n", "expr: vector(0) > 1\n"))
    message = _problems(content_copy)
    kind = "when it has no target" if alert.endswith("Missing") else "when its target is down"
    assert f"[silence-alerts] jobs.{agent}: no alert of platform fires {kind}" in message
    assert "jobs.prometheus" not in message  # the stack's own services are not asked for
