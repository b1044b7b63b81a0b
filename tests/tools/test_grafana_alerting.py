"""The Grafana half of alert routing, proven by means independent of the program's own code.

1. The notification policy tree the program registers is translated back into an alertmanager.yml by a
   converter written here (not stacks/render/alertmanager.py nor stacks/config/alerting.py), and the real amtool
   routes every row of tests/routing_table.yaml through it. Grafana routes with Alertmanager's own code,
   so amtool is the reference implementation of what the registered tree does.
2. Every registered contact point is checked against the pulumiverse_grafana SDK's generated input types:
   only keys the SDK knows (by their wire names), all the keys it requires, values of the annotated types.

Only the notification policy and the contact points are read: rule groups, and any inhibition resource
that may be registered beside them, are left to other tests.
"""

from __future__ import annotations

import collections.abc
import inspect
import json
import subprocess
import typing
from pathlib import Path

import pytest
import yaml
from conftest import STACKS, configured_stack
from mockstack import Recorder, run_program, shared_run, unwrap
from pulumi import _types as pulumi_types
from pulumiverse_grafana.alerting import (
    ContactPointArgs,
    ContactPointEmailArgs,
    ContactPointPagerdutyArgs,
    ContactPointSlackArgs,
    ContactPointWebhookArgs,
)
from routing import route_test, routing_rows

POLICY = ("grafana:alerting/notificationPolicy:NotificationPolicy", "monitoring-grafana-content-notification-policy")
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"


@shared_run
def registered(stack: str) -> Recorder:
    """What the program registers for a stack, run under mocks with the stack's config and test secrets."""
    config, secret_keys = configured_stack(stack)
    # App discovery stats the local Docker socket when no group is configured; nothing here depends on it,
    # so name a group and need no Docker daemon on the test machine.
    discovery = dict(config.get("monitoring:appDiscovery") or {})
    discovery["dockerSocketGroup"] = discovery.get("dockerSocketGroup") or "0"
    config["monitoring:appDiscovery"] = discovery
    return run_program(stack, config, secret_keys).recorder


def registered_policy(stack: str) -> dict:
    """The notification policy's inputs as the provider would receive them (a fresh copy: tests may edit it)."""
    return unwrap(registered(stack).one(*POLICY).inputs)


def registered_contact_points(stack: str) -> list[dict]:
    return [unwrap(r.inputs) for r in registered(stack).by_type(CONTACT_POINT)]


# ---------------------------------------------------------------- 1. the notification policy, routed by amtool

# Grafana policy field (wire name) -> Alertmanager route field; the values mean the same in both.
ROUTE_FIELDS = {
    "contactPoint": "receiver",
    "groupBies": "group_by",
    "groupWait": "group_wait",
    "groupInterval": "group_interval",
    "repeatInterval": "repeat_interval",
    "continue": "continue",
}
NOT_ROUTING = {"orgId", "disableProvenance"}  # the resource's own settings, nothing Alertmanager routes by


def to_route(policy: dict) -> dict:
    """One Grafana policy (the root or a nested one) as an Alertmanager route, nested policies as routes.

    Translates what is there and nothing more: no defaults are filled in. A field it does not know
    (mute or active timings, say) fails the test rather than being dropped."""
    unknown = set(policy) - set(ROUTE_FIELDS) - {"matchers", "policies"} - NOT_ROUTING
    assert not unknown, f"the converter does not know how to translate {sorted(unknown)}"
    route = {am: policy[grafana] for grafana, am in ROUTE_FIELDS.items() if policy.get(grafana) is not None}
    if policy.get("matchers"):
        # Grafana's match operators (=, !=, =~, !~) are Alertmanager's; a JSON string is a quoted matcher value.
        route["matchers"] = [
            f"{m['label']}{m['match']}{json.dumps(m['value'], ensure_ascii=False)}" for m in policy["matchers"]
        ]
    if policy.get("policies"):
        route["routes"] = [to_route(child) for child in policy["policies"]]
    return route


def write_alertmanager_config(directory: Path, policy: dict, contact_point_names: list[str]) -> Path:
    """An alertmanager.yml routing like the policy, with one (empty) receiver per contact point."""
    config = {"route": to_route(policy), "receivers": [{"name": name} for name in contact_point_names]}
    path = directory / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def grafana_as_alertmanager(stack: str, directory: Path) -> Path:
    names = [contact_point["name"] for contact_point in registered_contact_points(stack)]
    return write_alertmanager_config(directory, registered_policy(stack), names)


def amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["amtool", *args], capture_output=True, text=True, timeout=60)


def test_the_converter_translates_fields_and_quotes_matcher_values():
    policy = {
        "contactPoint": "default",
        "groupBies": ["..."],
        "groupWait": "10s",
        "policies": [
            {
                "contactPoint": "db",
                "continue": True,
                "matchers": [{"label": "team", "match": "=~", "value": 'db|"ops" \\ x'}],
                "policies": [{"contactPoint": "pager", "matchers": [{"label": "sev", "match": "!=", "value": "info"}]}],
            }
        ],
    }
    assert to_route(policy) == {
        "receiver": "default",
        "group_by": ["..."],
        "group_wait": "10s",
        "routes": [
            {
                "receiver": "db",
                "continue": True,
                "matchers": ['team=~"db|\\"ops\\" \\\\ x"'],
                "routes": [{"receiver": "pager", "matchers": ['sev!="info"']}],
            }
        ],
    }
    with pytest.raises(AssertionError, match="muteTimings"):
        to_route({"contactPoint": "default", "muteTimings": ["weekends"]})


@pytest.mark.parametrize("stack", STACKS)
def test_grafana_policy_root_groups_and_timings(stack):
    """The root of each stack file's route (Pulumi.<stack>.yaml, alerting.route), as registered."""
    policy = registered_policy(stack)
    # Prod's alerts of no system go to the platform's team, not to a system's channel.
    assert policy["contactPoint"] == {"dev": "default", "staging": "default", "prod": "platform"}[stack]
    assert policy["groupBies"] == ["alertname", "severity"]
    assert (policy["groupWait"], policy["groupInterval"], policy["repeatInterval"]) == ("30s", "5m", "4h")


def test_a_child_policy_keeps_its_own_timings_and_inherits_the_rest():
    """Each timing a route sets is its own, and one it leaves out is left out: Grafana inherits it from the
    parent, as Alertmanager does."""
    config, secret_keys = configured_stack("staging")
    watchdog = config["monitoring:alerting"]["route"]["routes"][0]
    watchdog.update(
        groupWait="10s", groupInterval="2m", repeatInterval="1h", groupBy=["alertname"], **{"continue": True}
    )
    mindhit = config["monitoring:alerting"]["route"]["routes"][1]
    mindhit["routes"][0]["repeatInterval"] = "45m"
    policy = unwrap(run_program("staging", config, secret_keys).recorder.one(*POLICY).inputs)
    first, second = policy["policies"][0], policy["policies"][1]
    assert (first["groupWait"], first["groupInterval"], first["repeatInterval"]) == ("10s", "2m", "1h")
    assert (first["groupBies"], first["continue"]) == (["alertname"], True)
    keys = ("groupWait", "groupInterval", "repeatInterval", "groupBies", "continue")
    assert [second.get(key) for key in keys] == [None, None, None, None, None]
    critical = second["policies"][0]
    assert [critical.get(key) for key in ("groupWait", "groupInterval", "repeatInterval")] == [None, None, "45m"]


def test_a_slack_contact_point_carries_each_field_under_its_own_name():
    config, secret_keys = configured_stack("staging")
    slack = config["monitoring:alerting"]["receivers"][0]["slack"][0]
    slack.update(title="the title", text="the text", username="the user", channel="#the-channel")
    recorder = run_program("staging", config, secret_keys).recorder
    point = unwrap(recorder.one(CONTACT_POINT, "monitoring-grafana-content-contact-point-default").inputs)
    (sent,) = point["slacks"]
    assert (sent["title"], sent["text"], sent["username"], sent["recipient"]) == (
        "the title",
        "the text",
        "the user",
        "#the-channel",
    )


@pytest.mark.tools
@pytest.mark.parametrize("stack", STACKS)
def test_amtool_accepts_the_grafana_policy_as_an_alertmanager_config(stack, tmp_path):
    config = grafana_as_alertmanager(stack, tmp_path)
    result = amtool("check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr + config.read_text()
    assert "SUCCESS" in result.stdout


@pytest.mark.tools
@pytest.mark.parametrize(("stack", "labels", "receivers"), routing_rows())
def test_amtool_routes_the_grafana_policy_like_the_table(stack, labels, receivers, tmp_path):
    config = grafana_as_alertmanager(stack, tmp_path)
    result = route_test(config, labels, receivers)
    assert result.returncode == 0, result.stdout + result.stderr + config.read_text()


@pytest.mark.tools
def test_amtool_on_the_grafana_policy_can_fail(tmp_path):
    """A wrong receiver fails; so does the right one once the registered tree's critical matcher is changed."""
    critical = {"alertname": "APIDown", "severity": "critical"}
    config = grafana_as_alertmanager("dev", tmp_path)
    assert route_test(config, critical, ["critical"]).returncode == 0
    assert route_test(config, critical, ["default"]).returncode != 0

    policy = registered_policy("dev")
    severity_critical = {"label": "severity", "match": "=", "value": "critical"}
    changed = [m for p in policy["policies"] for m in p.get("matchers") or [] if m == severity_critical]
    assert len(changed) == 1
    changed[0]["value"] = "crit"
    names = [contact_point["name"] for contact_point in registered_contact_points("dev")]
    config = write_alertmanager_config(tmp_path, policy, names)
    result = route_test(config, critical, ["critical"])
    assert result.returncode != 0 and "did not match" in result.stdout + result.stderr


@pytest.mark.tools
def test_amtool_matches_the_converted_quoting_exactly(tmp_path):
    """A value with quotes and a backslash reaches its policy in amtool, and a near miss does not."""
    value = 'say "hi" \\ ok'
    policy = {
        "contactPoint": "default",
        "policies": [{"contactPoint": "quoted", "matchers": [{"label": "msg", "match": "=", "value": value}]}],
    }
    config = write_alertmanager_config(tmp_path, policy, ["default", "quoted"])
    assert amtool("check-config", str(config)).returncode == 0
    assert route_test(config, {"msg": value}, ["quoted"]).returncode == 0
    assert route_test(config, {"msg": 'say "hi" ok'}, ["default"]).returncode == 0


# ---------------------------------------------------------------- 2. contact points against the SDK's input types


def sdk_fields(args_cls: type) -> dict[str, tuple[object, bool]]:
    """Wire name -> (annotated type, required) for one of the SDK's generated `...Args` input classes.

    Wire names are those its `@pulumi.getter(name=...)` properties declare (the table the Pulumi runtime
    serializes the class with); types are the property annotations with Input/Optional unwrapped; a field
    is required when its `__init__` parameter has no default (the generator makes Optional ones `= None`).
    """
    wire_names = pulumi_types.input_type_py_to_pulumi_names(args_cls)
    types = pulumi_types.input_type_types(args_cls)
    params = inspect.signature(args_cls.__init__).parameters
    return {wire: (types[wire], params[py].default is inspect.Parameter.empty) for py, wire in wire_names.items()}


def integrations() -> dict[str, type]:
    """A contact point's integration lists (webhooks, slacks, ...) -> the SDK's input class of one item."""
    found = {}
    for wire, (typ, _) in sdk_fields(ContactPointArgs).items():
        if typing.get_origin(typ) is collections.abc.Sequence:
            item = pulumi_types.unwrap_type(typing.get_args(typ)[0])
            if pulumi_types.is_input_type(item):
                found[wire] = item
    return found


def _is_int(value) -> bool:  # numbers cross the RPC boundary as doubles
    return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()


SCALARS = {
    str: lambda v: isinstance(v, str),
    bool: lambda v: isinstance(v, bool),
    int: _is_int,
    float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def sdk_problems(value, typ, where: str) -> list[str]:
    """What in a registered (unwrapped) input value the SDK's annotation `typ` does not allow."""
    typ = pulumi_types.unwrap_type(typ)
    if pulumi_types.is_input_type(typ):
        if not isinstance(value, dict):
            return [f"{where}: expected an object ({typ.__name__}), got {value!r}"]
        fields = sdk_fields(typ)
        found = [f"{where}: unknown key {k!r} for {typ.__name__}" for k in value if k not in fields]
        found += [
            f"{where}: missing required key {k!r} of {typ.__name__}"
            for k, (_, required) in fields.items()
            if required and k not in value
        ]
        for key, item in value.items():
            found += sdk_problems(item, fields[key][0], f"{where}.{key}") if key in fields else []
        return found
    origin = typing.get_origin(typ)
    if origin is collections.abc.Sequence:
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        return [p for i, v in enumerate(value) for p in sdk_problems(v, typing.get_args(typ)[0], f"{where}[{i}]")]
    if origin is collections.abc.Mapping:
        if not isinstance(value, dict):
            return [f"{where}: expected a map, got {value!r}"]
        return [p for k, v in value.items() for p in sdk_problems(v, typing.get_args(typ)[1], f"{where}.{k}")]
    if typ is typing.Any:
        return []
    if typ not in SCALARS:
        return [f"{where}: the checker cannot check type {typ!r}"]
    return [] if SCALARS[typ](value) else [f"{where}: expected {typ.__name__}, got {value!r}"]


def test_the_sdk_is_read_by_wire_name_with_its_required_fields():
    """The checker's view of the SDK, on facts visible in pulumiverse_grafana/alerting/_inputs.py."""
    assert {"webhooks": ContactPointWebhookArgs, "slacks": ContactPointSlackArgs}.items() <= integrations().items()
    assert integrations()["pagerduties"] is ContactPointPagerdutyArgs
    assert integrations()["emails"] is ContactPointEmailArgs
    assert len(integrations()) >= 20
    slack = sdk_fields(ContactPointSlackArgs)
    assert slack["disableResolveMessage"] == (bool, False) and "disable_resolve_message" not in slack
    assert slack["recipient"] == (str, False) and not any(required for _, required in slack.values())
    assert {k for k, (_, required) in sdk_fields(ContactPointWebhookArgs).items() if required} == {"url"}
    assert {k for k, (_, required) in sdk_fields(ContactPointPagerdutyArgs).items() if required} == {"integrationKey"}
    assert {k for k, (_, required) in sdk_fields(ContactPointEmailArgs).items() if required} == {"addresses"}
    assert sdk_fields(ContactPointPagerdutyArgs)["class"] == (str, False)  # `class_` in Python


@pytest.mark.parametrize("stack", STACKS)
def test_registered_contact_points_match_the_sdk_input_types(stack):
    contact_points = registered_contact_points(stack)
    assert contact_points
    for contact_point in contact_points:
        where = f"{stack} contact point {contact_point.get('name')!r}"
        assert sdk_problems(contact_point, ContactPointArgs, where) == []
        used = [kind for kind in integrations() if contact_point.get(kind)]
        assert used, f"{where}: no integration"  # Grafana refuses a contact point without one


@pytest.mark.parametrize(
    ("kind", "item", "problems"),
    [
        ("slacks", {"url": "x", "recipientt": "y"}, ["cp.slacks[0]: unknown key 'recipientt' for ContactPointSlack"]),
        ("slacks", {"url": "x", "disable_resolve_message": True}, ["unknown key 'disable_resolve_message'"]),
        ("webhooks", {"disableResolveMessage": True}, ["cp.webhooks[0]: missing required key 'url'"]),
        (
            "pagerduties",
            {"integration_key": "k"},
            ["unknown key 'integration_key'", "missing required key 'integrationKey'"],
        ),
        ("slacks", {"url": "x", "disableResolveMessage": "no"}, ["disableResolveMessage: expected bool, got 'no'"]),
        ("emails", {"addresses": "a@example.com"}, ["cp.emails[0].addresses: expected a list"]),
        ("webhooks", {"url": "x", "maxAlerts": 1.5}, ["maxAlerts: expected int, got 1.5"]),
        ("webhooks", {"url": "x", "headers": {"X-Token": 1}}, ["headers.X-Token: expected str, got 1"]),
    ],
)
def test_the_sdk_checker_reports_a_bad_item(kind, item, problems):
    found = sdk_problems({"name": "broken", kind: [item]}, ContactPointArgs, "cp")
    assert len(found) == len(problems) and all(
        expected in got for expected, got in zip(problems, found, strict=True)
    ), found


def test_the_sdk_checker_passes_good_items():
    contact_point = {
        "name": "fine",
        "slacks": [{"url": "x", "recipient": "#c", "disableResolveMessage": False}],
        "webhooks": [{"url": "x", "maxAlerts": 10.0, "headers": {"X-Token": "t"}}],
        "emails": [{"addresses": ["a@example.com"], "singleEmail": True}],
        "pagerduties": [{"integrationKey": "k", "class": "db"}],
    }
    assert sdk_problems(contact_point, ContactPointArgs, "cp") == []


def test_the_sdk_checker_reports_an_unknown_integration_list():
    assert sdk_problems({"name": "x", "slack": [{"url": "x"}]}, ContactPointArgs, "cp") == [
        "cp: unknown key 'slack' for ContactPointArgs"
    ]
