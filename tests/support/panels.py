"""Running a dashboard's Prometheus queries the way Grafana does: variables resolved to the value a person
sees by default (All, when the variable offers it), Grafana's own variables replaced, then an instant query."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator

# What Grafana puts in for its own variables, for a dashboard over the last hour on a 1-second scrape.
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}
_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]")


def query(prometheus: str, expr: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    data = body["data"]
    return data["result"] if data["resultType"] in ("vector", "matrix") else [{"value": data["result"]}]


def _label_values(prometheus: str, selector: str, label: str) -> list[str]:
    url = f"{prometheus}/api/v1/series?" + urllib.parse.urlencode({"match[]": selector})
    with urllib.request.urlopen(url, timeout=10) as response:
        series = json.load(response)["data"]
    return sorted({s[label] for s in series if label in s})


def variable_values(model: dict, prometheus: str) -> dict[str, str]:
    """Each template variable's default value as Grafana interpolates it into a Prometheus query."""
    values: dict[str, str] = {}
    for variable in (model.get("templating") or {}).get("list") or []:
        name, kind = variable.get("name"), variable.get("type")
        options: list[str] = []
        if kind == "custom":
            options = [v.strip() for v in str(variable.get("query", "")).split(",") if v.strip()]
        elif kind == "query":
            text = variable.get("query")
            text = text.get("query") if isinstance(text, dict) else text
            match = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", text or "")
            if match:
                selector = interpolate(match[1], values)
                options = _label_values(prometheus, selector, match[2])
        elif kind in ("textbox", "constant"):
            options = [str(variable.get("query", ""))]
        options = _through_regex(options, variable.get("regex"))
        if variable.get("includeAll"):
            values[name] = variable.get("allValue") or "(" + "|".join(_regex_literal(o) for o in options) + ")"
        else:
            values[name] = options[0] if options else ""
    return values


def _through_regex(options: list[str], regex: str | None) -> list[str]:
    """Grafana's `regex` option of a variable (/pattern/): the options it matches, each as its first capture
    group when it has one."""
    if not regex:
        return options
    pattern = re.compile(regex[1 : regex.rindex("/")])
    matched = [(option, pattern.search(option)) for option in options]
    return [match[1] if pattern.groups else option for option, match in matched if match]


def interpolate(expr: str, values: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return BUILTINS.get(name, values.get(name, match[0]))

    return _VARIABLE.sub(value, expr)


def prometheus_targets(model: dict) -> Iterator[tuple[str, dict, dict]]:
    """(JSON path, panel, target) of every Prometheus query of a dashboard."""
    from stacks.content.queries import datasource_of, panels

    for where, panel in panels(model):
        for j, target in enumerate(panel.get("targets") or []):
            if isinstance(target, dict) and target.get("expr") and datasource_of(panel, target) == "prometheus":
                yield f"{where}.targets[{j}]", panel, target


def has_data(result: list[dict]) -> bool:
    """At least one series with a number (NaN is what 0/0 gives: no events, so no data)."""
    return any(r.get("value") and r["value"][1] not in ("NaN", "+Inf", "-Inf") for r in result)


def empty_by_design(panel: dict) -> bool:
    """A panel that shows only failures says what it shows when there are none (Grafana's noValue)."""
    return bool(((panel.get("fieldConfig") or {}).get("defaults") or {}).get("noValue"))


def _regex_literal(value: str) -> str:
    """As Grafana escapes a value for a Prometheus regex: metacharacters behind a backslash the string escapes."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\\\1", value)
