"""A declared system's alert whose severity no route compares with stops preview (stacks/config/alerting.py
`unrouted_severities`), walked as Alertmanager walks the tree: each case below is the tree and alerts written out,
and the message expected."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from stacks.config.alerting import parse_alerting
from stacks.errors import Problems
from stacks.preflight import unrouted_severities


def route(tree: dict):
    receivers = ["root", "crit", "warn", "other", "folder"]
    problems = Problems()
    alerting = parse_alerting(
        {
            "receivers": [{"name": n, "webhooks": [{"url": f"http://sink.test/{n}"}]} for n in receivers],
            "route": {"receiver": "root", **tree},
        },
        problems,
        require_secrets=False,
        is_secret=False,
    )
    problems.raise_if_any()
    return alerting.route


def content(*alerts: tuple[str, dict], grafana: tuple[str, dict] | None = None, imported: bool = False):
    """One declared rule file (rules/shop.yml) with these alerts, and a Grafana-managed rule in folder Shop."""
    system = "vendor" if imported else "shop"
    rule_file = SimpleNamespace(
        system=system,
        source=f"rules/{system}.yml",
        alert_labels=[(10 + i, name, labels) for i, (name, labels) in enumerate(alerts)],
    )
    groups = []
    if grafana:
        rule = SimpleNamespace(alert=grafana[0], labels=grafana[1])
        groups.append(SimpleNamespace(system=system, folder="Shop", path=Path("shop.yml"), name="logs", rules=[rule]))
    return SimpleNamespace(rule_files=[rule_file], grafana_rule_groups=groups, imported=lambda name: name != "shop")


SPLIT = {"routes": [{"matchers": ['severity="critical"'], "receiver": "crit"}]}


def test_an_alert_stopping_at_the_root_names_the_roots_receiver():
    problems = unrouted_severities(route(SPLIT), content(("ShopDown", {"severity": "crit"})))
    assert problems == [
        "rules/shop.yml:10: alert 'ShopDown' has severity 'crit', which no route compares with (they split on "
        "critical): it stops at alerting.route, whose own receiver root gets it; give it one of those severities, "
        'or route severity="crit" there'
    ]


def test_a_regex_on_severity_splits_too_and_every_alert_is_checked():
    tree = {"routes": [{"matchers": ['severity=~"critical|warning"'], "receiver": "crit"}]}
    alerts = content(("ShopSlow", {"severity": "warning"}), ("ShopDown", {"severity": "crit"}))
    (problem,) = unrouted_severities(route(tree), alerts)
    assert problem.startswith("rules/shop.yml:11: alert 'ShopDown' has severity 'crit'")


def test_an_alert_without_severity_is_not_this_checks_finding():
    assert unrouted_severities(route(SPLIT), content(("ShopDown", {}))) == []


def test_a_matching_child_with_its_own_receiver_is_where_it_stops():
    tree = {"routes": [{"matchers": ['system="shop"'], "receiver": "other", **SPLIT}]}
    (problem,) = unrouted_severities(route(tree), content(("ShopDown", {"severity": "crit", "system": "shop"})))
    assert "it stops at alerting.route.routes[0], whose own receiver other gets it" in problem


def test_the_first_matching_child_ends_the_walk_unless_it_continues():
    """Alertmanager stops at the first matching child: a later one that splits on severity never sees it."""
    tree = {
        "routes": [
            {"matchers": ['system="shop"'], "receiver": "other"},
            {"matchers": ['system="shop"'], "receiver": "warn", **SPLIT},
        ]
    }
    labels = {"severity": "crit", "system": "shop"}
    assert unrouted_severities(route(tree), content(("ShopDown", labels))) == []
    tree["routes"][0]["continue"] = True
    (problem,) = unrouted_severities(route(tree), content(("ShopDown", labels)))
    assert "it stops at alerting.route.routes[1], whose own receiver warn gets it" in problem


def test_every_stop_of_a_continuing_route_is_walked():
    tree = {
        "routes": [
            {"matchers": ['system="shop"'], "receiver": "other", "continue": True, **SPLIT},
            {"matchers": ['system="shop"'], "receiver": "warn"},
        ]
    }
    (problem,) = unrouted_severities(route(tree), content(("ShopDown", {"severity": "crit", "system": "shop"})))
    assert "it stops at alerting.route.routes[0], whose own receiver other gets it" in problem


def test_grafana_managed_rules_of_a_declared_folder_walk_with_their_alertname_and_folder():
    tree = {
        "routes": [
            {"matchers": ['grafana_folder="Shop"', 'alertname="LogSurge"'], "receiver": "folder", **SPLIT},
            {"matchers": ['severity="warning"'], "receiver": "warn"},
        ]
    }
    (problem,) = unrouted_severities(route(tree), content(grafana=("LogSurge", {"severity": "crit"})))
    assert problem == (
        "rules/grafana/shop.yml: group 'logs': alert 'LogSurge' has severity 'crit', which no route compares with "
        "(they split on critical, warning): it stops at alerting.route.routes[0], whose own receiver folder gets "
        'it; give it one of those severities, or route severity="crit" there'
    )


def test_imported_alerts_carry_their_publishers_labels_and_are_not_checked():
    alerts = content(("VendorDown", {"severity": "crit"}), grafana=("VendorLogs", {"severity": "crit"}), imported=True)
    assert unrouted_severities(route(SPLIT), alerts) == []
