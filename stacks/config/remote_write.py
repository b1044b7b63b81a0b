"""Prometheus sending its samples on to long-term stores (`prometheus.remoteWrite`), validated.

Each store: {name, url, queryUrl, basicAuth: {username, password}, bearerToken, writeRelabel, queue}. This is
how a stack outgrows one Prometheus on one disk onto a distributed engine that already exists (Thanos Receive,
a VictoriaMetrics cluster, Mimir): Prometheus keeps its own short retention and its WAL, and a store that is
down gets the samples it missed from the WAL when it returns. With `queryUrl` (where the store answers
PromQL), Grafana gets a datasource for it.
"""

from __future__ import annotations

import re
from typing import Any

from stacks.config.schema import HTTP_URL
from stacks.config.settings import RemoteWrite
from stacks.errors import Problems
from stacks.reader import Reader
from stacks.syntax.go_regexp import RELABEL, go_regexp_error

_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_STORE_KEYS = ("basicAuth", "bearerToken", "name", "queryUrl", "queue", "url", "writeRelabel")
# Prometheus's write_relabel_configs actions (model/relabel): any other stops it loading the config.
_ACTIONS = (
    "replace",
    "keep",
    "drop",
    "keepequal",
    "dropequal",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
)
_RELABEL_KEYS = {
    "action": "action",
    "modulus": "modulus",
    "regex": "regex",
    "replacement": "replacement",
    "separator": "separator",
    "sourceLabels": "source_labels",
    "targetLabel": "target_label",
}
_NEEDS_TARGET = ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal")
# relabel.go Validate: actions that take only these fields. Another may be given at its default value, except
# regex and sourceLabels (their check is a pointer compare and a nil check: any value is one).
_ONLY = {
    "labeldrop": {"regex"},
    "labelkeep": {"regex"},
    "keepequal": {"sourceLabels", "targetLabel"},
    "dropequal": {"sourceLabels", "targetLabel"},
}
_DEFAULTS = {"modulus": 0, "replacement": "$1", "separator": ";", "targetLabel": ""}
_NO_REPLACEMENT = ("lowercase", "uppercase")  # their other fields are free
# queue_config: counts and durations, as Prometheus names them.
_QUEUE_COUNTS = {
    "capacity": "capacity",
    "maxShards": "max_shards",
    "minShards": "min_shards",
    "maxSamplesPerSend": "max_samples_per_send",
}
_QUEUE_DURATIONS = {
    "batchSendDeadline": "batch_send_deadline",
    "minBackoff": "min_backoff",
    "maxBackoff": "max_backoff",
}


def parse_remote_write(
    value: Any, problems: Problems, *, is_secret: bool, require_secrets: bool
) -> tuple[RemoteWrite, ...]:
    """The stores; outside dev their credentials only as secrets (`is_secret`: the `prometheus` key is one)."""
    where = "prometheus.remoteWrite"
    if not isinstance(value, list):
        problems.add(where, f"must be a list of stores ({{name, url}}), got {value!r}")
        return ()
    stores = []
    for i, item in enumerate(value):
        r = Reader(item, f"{where}[{i}]", problems, _STORE_KEYS, expected="a store: {name, url}")
        if not r.valid:
            continue
        name = r.str("name", required=True, pattern=_NAME, expected="a name such as 'long-term' (a-z, 0-9, -)")
        url = r.str("url", required=True, pattern=HTTP_URL, expected="an http(s) URL of the store's write API")
        query_url = r.str("queryUrl", pattern=HTTP_URL, expected="an http(s) URL where the store answers PromQL")
        auth = r.child("basicAuth", r.mapping("basicAuth"), ("password", "username"))
        username = auth.str("username", expected="the user name")
        password = auth.str("password", expected="the password")
        if password and not username:
            auth.add("username", "is required with a password")
        token = r.str("bearerToken", expected="the token")
        if token and (username or password):
            r.add("bearerToken", "give basicAuth or bearerToken, not both")
        if require_secrets and not is_secret:
            for key, secret in (("basicAuth.password", password), ("bearerToken", token)):
                if secret:  # the value itself is never echoed
                    r.add(key, f"holds credentials: pulumi config set --secret --path '{where}[{i}].{key}' <value>")
        stores.append(
            RemoteWrite(
                name=name,
                url=url,
                query_url=query_url or "",
                username=username,
                password=password,
                bearer_token=token,
                write_relabel=tuple(_relabel(r, j, rule) for j, rule in enumerate(r.list("writeRelabel"))),
                queue=_queue(r.child("queue", r.mapping("queue"), [*_QUEUE_COUNTS, *_QUEUE_DURATIONS])),
            )
        )
    names = [store.name for store in stores]
    for name in sorted({n for n in names if n and names.count(n) > 1}):
        problems.add(where, f"two stores are named {name!r}: Prometheus tells their queues apart by name")
    return tuple(stores)


def _relabel(r: Reader, index: int, value: Any) -> dict[str, Any]:
    """One write_relabel_configs entry, with the checks of Prometheus's relabel.Config.Validate."""
    rule = r.child(f"writeRelabel[{index}]", value, _RELABEL_KEYS, expected="a relabel rule")
    if not rule.valid:
        return {}
    # relabel.go Action.UnmarshalYAML: the action in any case; an empty or null one is refused, not defaulted.
    action = rule.get("action", "replace")
    if isinstance(action, str) and action.lower() in _ACTIONS:
        action = action.lower()
    else:
        rule.add("action", f"must be one of {', '.join(_ACTIONS)}, got {action!r}")
        action = None  # the checks below depend on the action: none of them applies
    # Prometheus 3 validates label names as UTF-8 (metric_name_validation_scheme utf8, the default): any
    # non-empty string is one, `team-name` and `9job` included.
    for j, label in enumerate(rule.list("sourceLabels", expected="a list of label names")):
        if not isinstance(label, str) or not label:
            rule.add(f"sourceLabels[{j}]", f"must be a label name (a non-empty string), got {label!r}")
    regex = rule.str("regex", expected="a regular expression")
    if regex is not None and (error := go_regexp_error(regex, RELABEL)):
        rule.add("regex", f"does not compile (Prometheus compiles it with Go's RE2): {error}")
    target = rule.str("targetLabel", expected="a label name")
    if action in _NEEDS_TARGET and not target:
        rule.add("targetLabel", f"is required for action {action}")
    if action == "labelmap" and rule.has("replacement") and not rule.get("replacement"):  # null: Go's ""
        rule.add("replacement", "action labelmap needs a label name or a template such as ${1}")
    if action == "hashmod":
        rule.number("modulus", valid=lambda n: isinstance(n, int) and n > 0, expected="a positive whole number")
    allowed = _ONLY.get(action)
    if allowed is not None:
        for key in sorted(set(rule.value) - allowed - {"action"}):
            if key not in _DEFAULTS or rule.get(key) != _DEFAULTS[key]:
                rule.add(key, f"action {action} takes only {' and '.join(sorted(allowed))}")
    elif action in _NO_REPLACEMENT and rule.get("replacement", "$1") != "$1":
        rule.add("replacement", f"action {action} takes no replacement")
    return {snake: rule.get(camel) for camel, snake in _RELABEL_KEYS.items() if rule.has(camel)}


def _queue(q: Reader) -> tuple[tuple[str, Any], ...]:
    settings: list[tuple[str, Any]] = []
    for camel, snake in _QUEUE_COUNTS.items():
        if q.has(camel):
            count = q.number(camel, valid=lambda n: isinstance(n, int) and n > 0, expected="a positive whole number")
            if count is not None:
                settings.append((snake, int(count)))
    for camel, snake in _QUEUE_DURATIONS.items():
        if q.has(camel) and (duration := q.duration(camel)):
            settings.append((snake, duration))
    return tuple(settings)
