"""The program's own model of the route tree (stacks/config/alerting.py: Matcher.matches, Route.receivers_for, which
the system scaffold writes routing rows with) against the real amtool 0.35 on the same tree: the same receivers
for every label set, whatever the matchers' operators, a label's absence, `continue` and inheritance."""

from __future__ import annotations

import pytest
from conftest import configured_stack
from routing import receivers_reached

from stacks.config.load import load_settings
from stacks.render.alertmanager import render_alertmanager_config

pytestmark = pytest.mark.tools

RECEIVERS = ["root", "team", "team-critical", "regex", "not-ops", "literal", "no-env", "after"]
ROUTE = {
    "receiver": "root",
    "groupBy": ["alertname"],
    "routes": [
        {
            "matchers": ['team="payments"'],
            "receiver": "team",
            "continue": True,
            "routes": [
                {"matchers": ['severity=~"crit.*"'], "receiver": "team-critical"},
                {"matchers": ['severity="info"']},  # no receiver: the parent's
            ],
        },
        {"matchers": ['service=~"api|web"', 'env!~"dev|test"'], "receiver": "regex"},
        {"matchers": ['team!="ops"', 'region="eu"'], "receiver": "not-ops"},
        {"matchers": ['zone!="a.b"', 'tier="db"'], "receiver": "literal"},  # = and != compare text, not regexes
        {"matchers": ['env=""'], "receiver": "no-env", "continue": True},
        {"matchers": ['severity!=""'], "receiver": "after"},
    ],
}
LABEL_SETS = [
    {},
    {"team": "payments"},
    {"team": "payments", "severity": "critical"},
    {"team": "payments", "severity": "crit"},
    {"team": "payments", "severity": "xcritical"},  # regexes are anchored
    {"team": "payments", "severity": "info"},
    {"team": "payments", "severity": "info", "env": "prod"},
    {"service": "api", "env": "prod"},
    {"service": "api"},  # no env: "" matches neither dev nor test
    {"service": "api", "env": "dev"},
    {"service": "apiv2", "env": "prod"},
    {"region": "eu"},  # no team: "" is not "ops"
    {"region": "eu", "team": "ops", "env": "prod"},
    {"region": "eu", "team": "ops"},
    {"env": "", "severity": "warning"},
    {"env": "prod", "severity": "warning"},
    {"env": "prod"},
    {"tier": "db", "zone": "aXb"},
    {"tier": "db", "zone": "a.b"},
]


def test_the_programs_route_model_reaches_the_receivers_amtool_does(tmp_path):
    config, secret_keys = configured_stack("dev")
    config["monitoring:alerting"] = {
        "receivers": [{"name": name, "webhooks": [{"url": f"http://sink:9095/{name}"}]} for name in RECEIVERS],
        "route": ROUTE,
    }
    alerting = load_settings(config, frozenset(secret_keys)).alerting
    path = tmp_path / "alertmanager.yml"
    path.write_text(render_alertmanager_config(alerting))
    by_amtool = {str(labels): receivers_reached(path, labels) for labels in LABEL_SETS}
    by_program = {str(labels): alerting.route.receivers_for(labels) for labels in LABEL_SETS}
    assert by_program == by_amtool
    # Every receiver is reached by some label set, so each branch of the tree is exercised.
    assert {r for receivers in by_amtool.values() for r in receivers} == set(RECEIVERS)
