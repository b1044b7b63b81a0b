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
from dataclasses import dataclass, field
from typing import Any

from stacks.durations import parse_duration
from stacks.errors import Problems, Reader
from stacks.slugs import slug_collisions
from stacks.syntax.go_regexp import compile_go_regexp, go_regexp_error
from stacks.syntax.gotemplate import ALERTMANAGER_FUNCTIONS, GO_BUILTINS, template_error

_MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
_URL = re.compile(r"^https?://[^\s/]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PAGERDUTY_KEY = re.compile(r"^[A-Za-z0-9]{32}$")  # an Events API v2 integration (routing) key
# The root route's grouping when the stack names none, written into both trees: Alertmanager alone would
# put every alert into one group, Grafana alone would group by alertname and folder.
DEFAULT_GROUP_BY = ("alertname",)


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # one of = != =~ !~, as in Alertmanager and Grafana
    value: str

    def alertmanager(self) -> str:
        return f"{self.label}{self.op}{json.dumps(self.value)}"

    def matches(self, labels: dict[str, str]) -> bool:
        """As Alertmanager matches: a missing label is the empty string, a regex is anchored (Go's RE2)."""
        value = labels.get(self.label, "")
        if self.op in ("=", "!="):
            return (value == self.value) == (self.op == "=")
        return bool(compile_go_regexp(self.value).fullmatch(value)) == (self.op == "=~")


# The optional text fields of each kind of target, all Go templates: config key -> alertmanager.yml key
# (Alertmanager 0.35: notify/slack, notify/email and notify/pagerduty, config.go). An email's subject is its
# Subject header.
SLACK_FIELDS = {
    "channel": "channel",
    "username": "username",
    "color": "color",
    "title": "title",
    "titleLink": "title_link",
    "pretext": "pretext",
    "text": "text",
    "footer": "footer",
    "fallback": "fallback",
    "iconEmoji": "icon_emoji",
    "iconUrl": "icon_url",
}
EMAIL_FIELDS = {"subject": "subject", "html": "html", "text": "text"}
PAGERDUTY_FIELDS = {
    "description": "description",
    "severity": "severity",
    "class": "class",
    "component": "component",
    "group": "group",
    "client": "client",
    "clientUrl": "client_url",
}


@dataclass(frozen=True)
class Webhook:
    url: str = field(repr=False)
    send_resolved: bool = True
    max_alerts: int = 0
    """0: every alert of the group."""


@dataclass(frozen=True)
class Slack:
    url: str = field(repr=False)
    fields: tuple[tuple[str, str], ...] = ()
    """(config key, template) of the SLACK_FIELDS given."""
    send_resolved: bool = True


@dataclass(frozen=True)
class PagerDuty:
    """A PagerDuty target: an Events API v2 integration key (routingKey), or for alertmanager.yml only a v1
    service key (serviceKey): Grafana's PagerDuty integration takes v2 keys only."""

    routing_key: str = field(default="", repr=False)
    service_key: str = field(default="", repr=False)
    send_resolved: bool = True
    fields: tuple[tuple[str, str], ...] = ()
    """(config key, template) of the PAGERDUTY_FIELDS given."""

    @property
    def key(self) -> str:
        return self.routing_key or self.service_key


@dataclass(frozen=True)
class Email:
    to: str
    send_resolved: bool = False
    fields: tuple[tuple[str, str], ...] = ()
    """(config key, template) of the EMAIL_FIELDS given."""


@dataclass(frozen=True)
class Receiver:
    name: str
    webhooks: tuple[Webhook, ...] = ()
    slack: tuple[Slack, ...] = ()
    pagerduty: tuple[PagerDuty, ...] = ()
    email: tuple[Email, ...] = ()


@dataclass(frozen=True)
class Route:
    receiver: str | None  # None: inherited from the parent
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] | None = None
    group_wait: str | None = None
    group_interval: str | None = None
    repeat_interval: str | None = None
    continue_: bool = False
    routes: tuple[Route, ...] = ()

    def receivers_for(self, labels: dict[str, str]) -> list[str]:
        """The receivers an alert with these labels reaches, as Alertmanager walks the tree: depth first, the
        first matching child unless it says continue, the node's own receiver when no child matches."""

        def walk(node: Route, receiver: str | None) -> list[str]:
            found: list[str] = []
            for child in node.routes:
                if all(m.matches(labels) for m in child.matchers):
                    found += walk(child, child.receiver or receiver)
                    if not child.continue_:
                        break
            return found or [receiver]

        return list(dict.fromkeys(walk(self, self.receiver)))  # the root has one (parse_alerting)


@dataclass(frozen=True)
class InhibitRule:
    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


@dataclass(frozen=True)
class Smtp:
    smarthost: str
    from_: str
    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class Alerting:
    receivers: tuple[Receiver, ...]
    route: Route
    inhibit_rules: tuple[InhibitRule, ...] = ()
    smtp: Smtp | None = None


def parse_alerting(value: Any, problems: Problems, *, require_secrets: bool, is_secret: bool) -> Alerting:
    """Validate the `alerting` config object; every problem names its path under `alerting`."""
    if value is None:
        problems.add("alerting", "is required: receivers and a route (see docs/content.md, 'Alert routes')")
        return Alerting(receivers=(), route=Route(receiver=None))
    top = Reader(value, "alerting", problems, {"receivers", "route", "inhibitRules", "smtp"})
    secrets = _SecretCheck(problems, require_secrets and not is_secret)
    smtp = _smtp(top.get("smtp"), problems, secrets) if "smtp" in top.value else None
    receivers = tuple(
        _receiver(item, f"alerting.receivers[{i}]", problems, secrets, smtp)
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


class _SecretCheck:
    """Secret-bearing fields: required to be present, and outside dev to come from a secret."""

    def __init__(self, problems: Problems, must_be_secret: bool):
        self.problems, self.must_be_secret = problems, must_be_secret

    def __call__(self, where: str, value: str | None) -> str:
        if not value:
            self.problems.add(where, f"missing secret: pulumi config set --secret --path '{where}' <value>")
            return ""
        if self.must_be_secret:
            self.problems.add(
                where, f"must be a secret outside dev: pulumi config set --secret --path '{where}' <value>"
            )
        return value


def _url(where: str, url: str, problems: Problems) -> None:
    if url and not _URL.match(url):
        problems.add(where, "must be an http:// or https:// URL")  # the URL itself may be a secret: not echoed


def _receiver(item: Any, where: str, problems: Problems, secret: _SecretCheck, smtp: Smtp | None) -> Receiver:
    r = Reader(item, where, problems, {"name", "webhooks", "slack", "pagerduty", "email"})
    name = r.str("name", required=True)
    webhooks, slacks, pagerduties, emails = [], [], [], []
    for i, w in enumerate(r.list("webhooks")):
        wr = r.child(f"webhooks[{i}]", w, {"url", "sendResolved", "maxAlerts"})
        url = secret(wr.at("url"), wr.str("url"))
        _url(wr.at("url"), url, problems)
        # Alertmanager parses a webhook URL with {{ when it loads the config, with Go's builtin functions only.
        _template(wr.at("url"), url, problems, GO_BUILTINS, secret=True)
        max_alerts = 0
        if wr.has("maxAlerts"):
            valid = lambda n: isinstance(n, int) and n >= 0  # noqa: E731
            max_alerts = int(wr.number("maxAlerts", valid=valid, expected="a whole number, 0 or more") or 0)
        webhooks.append(Webhook(url=url, send_resolved=wr.bool("sendResolved", True), max_alerts=max_alerts))
    for i, s in enumerate(r.list("slack")):
        sr = r.child(f"slack[{i}]", s, {"url", *SLACK_FIELDS, "sendResolved"})
        url = secret(sr.at("url"), sr.str("url"))
        _url(sr.at("url"), url, problems)
        slacks.append(
            Slack(url=url, fields=_templates(sr, SLACK_FIELDS, problems), send_resolved=sr.bool("sendResolved", True))
        )
    for i, p in enumerate(r.list("pagerduty")):
        pr = r.child(f"pagerduty[{i}]", p, {"routingKey", "serviceKey", *PAGERDUTY_FIELDS, "sendResolved"})
        key_name = "serviceKey" if "serviceKey" in pr.value else "routingKey"
        if {"routingKey", "serviceKey"} <= set(pr.value):
            pr.add("", "give routingKey (Events API v2) or serviceKey (v1), not both")
        key = secret(pr.at(key_name), pr.str(key_name))
        if key_name == "serviceKey":  # a routing key is letters and digits: no template
            _template(pr.at(key_name), key, problems, secret=True)
        if key_name == "routingKey" and key and not _PAGERDUTY_KEY.match(key):
            # The key is a secret: say what is wrong with it, never what it is.
            problems.add(
                pr.at("routingKey"), "must be a PagerDuty Events API v2 integration key: 32 letters and digits"
            )
        pagerduties.append(
            PagerDuty(
                routing_key=key if key_name == "routingKey" else "",
                service_key=key if key_name == "serviceKey" else "",
                send_resolved=pr.bool("sendResolved", True),
                fields=_templates(pr, PAGERDUTY_FIELDS, problems),
            )
        )
    for i, e in enumerate(r.list("email")):
        er = r.child(f"email[{i}]", e, {"to", *EMAIL_FIELDS, "sendResolved"})
        to = er.str("to", required=True, expected="the address the alerts are sent to, such as oncall@example.com")
        if to and not _EMAIL.match(to):
            problems.add(er.at("to"), f"must be an email address, got {to!r}")
        _template(er.at("to"), to, problems)
        if smtp is None:
            er.add("", "email receivers need alerting.smtp (smarthost, from)")
        emails.append(
            Email(to=to, send_resolved=er.bool("sendResolved", False), fields=_templates(er, EMAIL_FIELDS, problems))
        )
    if not (webhooks or slacks or pagerduties or emails):
        problems.add(where, f"receiver {name!r} has no target: give it webhooks, slack, pagerduty or email")
    return Receiver(name, tuple(webhooks), tuple(slacks), tuple(pagerduties), tuple(emails))


def _templates(r: Reader, keys: dict[str, str], problems: Problems) -> tuple[tuple[str, str], ...]:
    """(key, text) of each of these optional template fields that is given, each checked to parse."""
    fields = tuple((key, text) for key in keys if (text := r.str(key)))
    for key, text in fields:
        _template(r.at(key), text, problems)
    return fields


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


def _template(
    where: str,
    text: str,
    problems: Problems,
    functions: frozenset[str] = ALERTMANAGER_FUNCTIONS,
    *,
    secret: bool = False,
) -> None:
    """A receiver field Alertmanager executes as a Go template when it sends: one that does not parse loses every
    notification (a webhook URL's stops Alertmanager loading the config)."""
    if error := template_error(text, functions):
        # Go's message quotes the template: not shown for a secret.
        problems.add(
            where, "template does not parse" + (" (a secret: Go's message is not shown)" if secret else f": {error}")
        )


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


def _smtp(item: Any, problems: Problems, secret: _SecretCheck) -> Smtp:
    r = Reader(item, "alerting.smtp", problems, {"smarthost", "from", "username", "password"})
    smarthost = r.str("smarthost", required=True, expected="the SMTP relay as host:port, such as smtp.example.com:587")
    if smarthost and not re.match(r"^[^\s:]+:\d+$", smarthost):
        problems.add("alerting.smtp.smarthost", f"must look like host:port, got {smarthost!r}")
    username = r.str("username")
    password = secret("alerting.smtp.password", r.str("password")) if username else ""
    from_ = r.str("from", required=True, expected="the sender address, such as alerts@example.com")
    return Smtp(smarthost=smarthost, from_=from_, username=username, password=password)
