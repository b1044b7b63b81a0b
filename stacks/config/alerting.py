"""Alert routing, declared once in the stack config and rendered to both Alertmanager and Grafana.

Config shape (camelCase, like every Pulumi config key):

    alerting:
      receivers:   [{name, webhooks: [{url, sendResolved, maxAlerts}],
                     slack: [{url, channel, username, color, title, titleLink, pretext, text, footer, fallback,
                              iconEmoji, iconUrl}],
                     pagerduty: [{routingKey (Events API v2) | serviceKey (v1, not for Grafana), description,
                                  severity, class, component, group, client, clientUrl}],
                     email: [{to, subject, html, text}]}]
      route:       {receiver, groupBy, groupWait, groupInterval, repeatInterval,
                    routes: [{matchers: ['severity="critical"'], receiver, continue, routes, ...}]}
      inhibitRules: [{sourceMatchers, targetMatchers, equal}]
      smtp:        {smarthost, from, username, password}     (needed by email receivers)

Webhook and Slack URLs, PagerDuty keys and the SMTP password are secrets: outside dev the whole
`alerting` key must be a Pulumi secret (set them with `pulumi config set --secret --path ...`).

Alertmanager reads every text field of a target (a Slack title, an email's html, a PagerDuty description...), an
email address, a v1 PagerDuty service key and a webhook URL as Go templates (`{{ .CommonAnnotations.summary }}`):
each must parse (stacks/syntax/gotemplate/), and each `{{ template "name" }}` must be defined (templates/*.tmpl or
Alertmanager's own: stacks/content/templates.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from stacks.config.receivers import SecretCheck, parse_receiver, parse_smtp
from stacks.config.settings import Alerting, InhibitRule, Matcher, Route
from stacks.errors import Problems
from stacks.reader import Reader
from stacks.slugs import slug_collisions
from stacks.syntax.durations import parse_duration
from stacks.syntax.go_regexp import go_regexp_error

_MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
# The root route's grouping when the stack names none, written into both trees: Alertmanager alone would
# put every alert into one group, Grafana alone would group by alertname and folder.
DEFAULT_GROUP_BY = ("alertname",)


def parse_alerting(value: Any, problems: Problems, *, require_secrets: bool, is_secret: bool) -> Alerting:
    """Validate the `alerting` config object; every problem names its path under `alerting`."""
    if value is None:
        problems.add("alerting", "is required: receivers and a route (see docs/content.md, 'Alert routes')")
        return Alerting(receivers=(), route=Route(receiver=None))
    top = Reader(value, "alerting", problems, {"receivers", "route", "inhibitRules", "smtp"})
    secrets = SecretCheck(problems, require_secrets and not is_secret)
    smtp = parse_smtp(top.get("smtp"), problems, secrets) if "smtp" in top.value else None
    receivers = tuple(
        parse_receiver(item, f"alerting.receivers[{i}]", problems, secrets, smtp)
        for i, item in enumerate(top.list("receivers"))
    )
    names = [r.name for r in receivers]
    if not receivers:
        problems.add("alerting.receivers", "must name at least one receiver")
    for name in {n for n in names if names.count(n) > 1}:
        problems.add("alerting.receivers", f"receiver name {name!r} is used more than once")
    for first, second, uid in slug_collisions(names):
        problems.add(
            "alerting.receivers",
            f"receivers {first!r} and {second!r} would both be Grafana contact point {uid!r}: rename one",
        )
    route = _route(top.get("route"), "alerting.route", problems, set(names), root=True)
    inhibit_rules = tuple(
        _inhibit_rule(item, f"alerting.inhibitRules[{i}]", problems) for i, item in enumerate(top.list("inhibitRules"))
    )
    return Alerting(receivers=receivers, route=route, inhibit_rules=inhibit_rules, smtp=smtp)


def _matchers(values: Any, where: str, problems: Problems) -> tuple[Matcher, ...]:
    if not isinstance(values, list):
        problems.add(where, f"must be a list of matchers such as 'severity=\"critical\"', got {values!r}")
        return ()
    out = []
    for i, text in enumerate(values):
        match = _MATCHER.match(text) if isinstance(text, str) else None
        if not match:
            problems.add(f"{where}[{i}]", f"must look like 'label=\"value\"' (=, !=, =~, !~), got {text!r}")
            continue
        label, op, raw = match.groups()
        value = json.loads(raw) if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2 else raw
        if op in ("=~", "!~") and (error := go_regexp_error(value)):
            problems.add(
                f"{where}[{i}]", f"invalid regular expression (Alertmanager compiles it with Go's RE2): {error}"
            )
        out.append(Matcher(label, op, value))
    return tuple(out)


_ROUTE_KEYS = {"receiver", "matchers", "groupBy", "groupWait", "groupInterval", "repeatInterval", "continue", "routes"}


def _route(item: Any, where: str, problems: Problems, receivers: set[str], root: bool = False) -> Route:
    if item is None and root:
        problems.add(where, "is required: at least a default receiver")
        return Route(receiver=None)
    r = Reader(item, where, problems, _ROUTE_KEYS)
    receiver = r.str("receiver", default=None, required=root)
    if receiver and receiver not in receivers:
        r.add("receiver", f"undefined receiver {receiver!r}; defined: {', '.join(sorted(receivers)) or 'none'}")
    if root and "matchers" in r.value:
        r.add("matchers", "the root route matches every alert and takes no matchers")
    if not root and not r.get("matchers"):
        r.add("matchers", "a child route needs at least one matcher")
    group_by = r.get("groupBy")
    if group_by is not None and not (isinstance(group_by, list) and all(isinstance(g, str) for g in group_by)):
        r.add("groupBy", f"must be a list of label names, got {group_by!r}")
        group_by = None
    children = tuple(
        _route(child, r.at(f"routes[{i}]"), problems, receivers) for i, child in enumerate(r.list("routes"))
    )
    timings = {key: r.duration(key) for key in ("groupWait", "groupInterval", "repeatInterval")}
    for key in ("groupInterval", "repeatInterval"):  # Alertmanager's config.go: "group_interval cannot be zero"
        if timings[key] and parse_duration(timings[key]) == 0:
            r.add(key, "cannot be zero: Alertmanager refuses the config")
    return Route(
        receiver=receiver,
        matchers=_matchers(r.get("matchers", []), r.at("matchers"), problems),
        group_by=tuple(group_by) if group_by is not None else (DEFAULT_GROUP_BY if root else None),
        group_wait=timings["groupWait"],
        group_interval=timings["groupInterval"],
        repeat_interval=timings["repeatInterval"],
        continue_=r.bool("continue", False),
        routes=children,
    )


def _inhibit_rule(item: Any, where: str, problems: Problems) -> InhibitRule:
    r = Reader(item, where, problems, {"sourceMatchers", "targetMatchers", "equal"})
    rule = InhibitRule(
        source_matchers=_matchers(r.get("sourceMatchers", []), r.at("sourceMatchers"), problems),
        target_matchers=_matchers(r.get("targetMatchers", []), r.at("targetMatchers"), problems),
        equal=tuple(r.list("equal")),
    )
    if not rule.source_matchers or not rule.target_matchers:
        problems.add(where, "needs both sourceMatchers and targetMatchers")
    return rule


def template_fields(alerting: Alerting) -> list[tuple[str, str]]:
    """(config key, template) of every receiver field Alertmanager executes as a template when it sends."""
    found = []
    for i, receiver in enumerate(alerting.receivers):
        where = f"alerting.receivers[{i}]"
        for kind, targets in (("slack", receiver.slack), ("pagerduty", receiver.pagerduty), ("email", receiver.email)):
            for j, target in enumerate(targets):
                found += [(f"{where}.{kind}[{j}].{key}", text) for key, text in target.fields]
        found += [(f"{where}.email[{j}].to", e.to) for j, e in enumerate(receiver.email)]
    return found


def alertmanager_config_problems(alerting: Alerting) -> list[tuple[str, str]]:
    """(config key, why) for what an AlertmanagerConfig cannot express."""
    problems = []

    def walk(route: Route, where: str) -> None:
        for i, matcher in enumerate(route.matchers):
            if matcher.label == "namespace":
                problems.append((f"{where}.matchers[{i}]", _NAMESPACE_SCOPED))
        for i, child in enumerate(route.routes):
            walk(child, f"{where}.routes[{i}]")

    walk(alerting.route, "alerting.route")
    for i, rule in enumerate(alerting.inhibit_rules):
        for side, matchers in (("sourceMatchers", rule.source_matchers), ("targetMatchers", rule.target_matchers)):
            for j, matcher in enumerate(matchers):
                if matcher.label == "namespace":
                    problems.append((f"alerting.inhibitRules[{i}].{side}[{j}]", _NAMESPACE_SCOPED))
    return problems


_NAMESPACE_SCOPED = (
    'an AlertmanagerConfig is namespace-scoped: the operator adds namespace="<its namespace>" to its top route '
    "and its inhibit rules, so a matcher on namespace cannot select another one (route on system or severity)"
)
