"""The receivers of the `alerting` config (stacks/config/alerting.py): webhooks, Slack, PagerDuty and email targets,
and the SMTP relay email needs. Their URLs, keys and the SMTP password are secrets; their text fields are Go
templates Alertmanager executes when it sends, each checked to parse."""

from __future__ import annotations

import re
from typing import Any

from stacks.config.schema import HTTP_URL
from stacks.config.settings import (
    EMAIL_FIELDS,
    PAGERDUTY_FIELDS,
    SLACK_FIELDS,
    Email,
    PagerDuty,
    Receiver,
    Slack,
    Smtp,
    Webhook,
)
from stacks.errors import Problems
from stacks.reader import Reader
from stacks.syntax.gotemplate import ALERTMANAGER_FUNCTIONS, GO_BUILTINS
from stacks.syntax.gotemplate.parse import template_error

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PAGERDUTY_KEY = re.compile(r"^[A-Za-z0-9]{32}$")  # an Events API v2 integration (routing) key


class SecretCheck:
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
    if url and not HTTP_URL.match(url):  # the beginning only: a template may follow
        problems.add(where, "must be an http:// or https:// URL")  # the URL itself may be a secret: not echoed


def parse_receiver(item: Any, where: str, problems: Problems, secret: SecretCheck, smtp: Smtp | None) -> Receiver:
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


def parse_smtp(item: Any, problems: Problems, secret: SecretCheck) -> Smtp:
    r = Reader(item, "alerting.smtp", problems, {"smarthost", "from", "username", "password"})
    smarthost = r.str("smarthost", required=True, expected="the SMTP relay as host:port, such as smtp.example.com:587")
    if smarthost and not re.match(r"^[^\s:]+:\d+$", smarthost):
        problems.add("alerting.smtp.smarthost", f"must look like host:port, got {smarthost!r}")
    username = r.str("username")
    password = secret("alerting.smtp.password", r.str("password")) if username else ""
    from_ = r.str("from", required=True, expected="the sender address, such as alerts@example.com")
    return Smtp(smarthost=smarthost, from_=from_, username=username, password=password)
