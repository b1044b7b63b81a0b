"""Service level objectives as code: specs in rules/slos/*.yml become recording rules, multi-window
multi-burn-rate alerts and a dashboard per SLO.

The alerting follows the Google SRE workbook (chapter "Alerting on SLOs", table 5-8): page when the
error budget burns 14.4x too fast over 1h (and still over the last 5m), or 6x over 6h (and 30m);
open a ticket at 3x over 1d (and 2h), or 1x over 3d (and 6h). The short window makes an alert
stop soon after the burn stops; the long window keeps a short blip from firing.

Pure functions only: parsing reports problems with the file and field, rendering returns plain data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from stacks.errors import Problems
from stacks.reader import Reader
from stacks.syntax.durations import parse_duration
from stacks.syntax.promql import LABEL_NAME, bucket_label, promql_error

WINDOW_PLACEHOLDER = "{{window}}"
SLO_WINDOWS = ("28d", "30d")
# The error-ratio windows every SLO records; the SLO window itself is recorded from the 5m ratio.
RATE_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
SLO_FOLDER = "SLOs"


@dataclass(frozen=True)
class BurnRateAlert:
    """One multi-window condition: the burn rate over both windows above `factor`."""

    factor: float
    long_window: str
    short_window: str


@dataclass(frozen=True)
class AlertClass:
    name: str  # the alert name's suffix
    severity: str  # a severity the alert routes already know
    conditions: tuple[BurnRateAlert, ...]
    for_: str
    meaning: str


ALERT_CLASSES = (
    AlertClass(
        name="ErrorBudgetFastBurn",
        severity="critical",
        conditions=(BurnRateAlert(14.4, "1h", "5m"), BurnRateAlert(6, "6h", "30m")),
        for_="2m",
        meaning="page: at this rate the budget is gone in under {days} days",
    ),
    AlertClass(
        name="ErrorBudgetSlowBurn",
        severity="warning",
        conditions=(BurnRateAlert(3, "1d", "2h"), BurnRateAlert(1, "3d", "6h")),
        for_="15m",
        meaning="ticket: the budget will not last the {window} window",
    ),
)

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,33}$")  # the dashboard uid is "slo-<name>": at most 40 characters
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_SPEC_KEYS = ("description", "labels", "name", "objective", "service", "sli", "window")
_LATENCY_KEYS = ("histogram", "selector", "threshold")
_LATENCY_EXPECTED = "a mapping of histogram, threshold (seconds) and optionally selector"
_RESERVED_LABELS = {"slo", "service", "severity", "system", "alertname"}


@dataclass(frozen=True)
class SloSpec:
    name: str
    service: str
    description: str
    objective: float  # percent, 0 < objective < 100
    window: str  # one of SLO_WINDOWS
    error_ratio: str  # PromQL for the ratio of bad events, with WINDOW_PLACEHOLDER for the range
    labels: tuple[tuple[str, str], ...]  # slo, service and system first, then the spec's own

    @property
    def error_budget(self) -> float:
        return round((100 - self.objective) / 100, 10)

    def error_ratio_over(self, window: str) -> str:
        return self.error_ratio.replace(WINDOW_PLACEHOLDER, window)

    @property
    def camel_name(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-"))


# ---------------------------------------------------------------- parsing


def parse_slo_file(data: Any, file: str, system: str, problems: Problems) -> list[SloSpec]:
    """The SLOs of one file. `file` names it; every problem names the file, line and field."""
    top = Reader(data, "", problems, ("slos",), file=file, expected="a mapping with a non-empty 'slos' list")
    specs = []
    for i, entry in enumerate(top.list("slos", required=True, expected="a non-empty list of SLOs")):
        count = len(problems)
        spec = _parse_spec(top.child(f"slos[{i}]", entry, _SPEC_KEYS), system)
        if spec and len(problems) == count:  # a spec with any problem generates nothing
            specs.append(spec)
    return specs


def _parse_spec(r: Reader, system: str) -> SloSpec | None:
    if not r.valid:
        return None
    name = r.str(
        "name", required=True, pattern=_NAME, expected="1-34 lowercase letters, digits or '-', starting with a letter"
    )
    service = r.str("service", required=True, expected="the name of the service the objective is about")
    objective = r.number(
        "objective", valid=lambda n: 0 < n < 100, expected="a percentage above 0 and below 100 (e.g. 99.9)"
    )
    window = r.str("window", "30d", expected=f"one of {', '.join(SLO_WINDOWS)}")
    if window not in SLO_WINDOWS:
        r.add("window", f"unknown window {window!r}; use one of {', '.join(SLO_WINDOWS)}")
    labels = r.mapping("labels", expected="a mapping of label names to values")
    for key in labels:
        if not LABEL_NAME.fullmatch(str(key)) or key in _RESERVED_LABELS:
            r.add(f"labels.{key}", f"not a label an SLO may set (reserved: {', '.join(sorted(_RESERVED_LABELS))})")
    error_ratio = _error_ratio(r, r.get("sli"))
    if not (name and service and objective and window in SLO_WINDOWS and error_ratio):
        return None
    return SloSpec(
        name=name,
        service=service,
        description=str(r.get("description") or f"{service} {name}"),
        objective=float(objective),
        window=window,
        error_ratio=error_ratio,
        labels=(("slo", name), ("service", service), ("system", system))
        + tuple(sorted((str(k), str(v)) for k, v in labels.items())),
    )


def _error_ratio(spec: Reader, sli: Any) -> str:
    """PromQL for the ratio of bad events from one of the SLI forms: bad/total, good/total or latency."""
    if not isinstance(sli, dict):
        spec.add("sli", "needs one of: {bad, total}, {good, total} or {latency: {histogram, threshold, selector}}")
        return ""
    forms = [form for form in (("bad", "total"), ("good", "total"), ("latency",)) if all(k in sli for k in form)]
    if len(forms) != 1 or set(sli) != set(forms[0]):
        spec.add("sli", f"needs exactly one of: {{bad, total}}, {{good, total}} or {{latency}}, got {sorted(sli)}")
        return ""
    r = spec.child("sli", sli)
    if forms[0] == ("latency",):
        return _latency_error_ratio(r.child("latency", sli["latency"], _LATENCY_KEYS, expected=_LATENCY_EXPECTED))
    queries = {key: _windowed_query(sli[key], r.at(key), r.problems) for key in forms[0]}
    if forms[0] == ("bad", "total"):
        return f"({queries['bad']})\n/\n({queries['total']})"
    return f"1 - (\n  ({queries['good']})\n  /\n  ({queries['total']})\n)"


def _windowed_query(query: Any, where: str, problems: Problems) -> str:
    if not isinstance(query, str) or not query.strip():
        problems.add(where, "needs a PromQL query")
        return ""
    query = query.strip()
    if WINDOW_PLACEHOLDER not in query:
        problems.add(
            where,
            f"the query needs the window placeholder {WINDOW_PLACEHOLDER} in its range, e.g. [{WINDOW_PLACEHOLDER}]",
        )
        return query
    error = promql_error(query.replace(WINDOW_PLACEHOLDER, "5m"))
    if error:
        problems.add(where, f"invalid PromQL: {error}")
    return query


def _latency_error_ratio(r: Reader) -> str:
    """Requests slower than the threshold: 1 - (requests in the threshold's bucket / all requests).

    The threshold must be one of the histogram's bucket boundaries (`le`); Prometheus cannot count
    requests under a value between two buckets.
    """
    if not r.valid:
        return ""
    histogram = r.str(
        "histogram", required=True, pattern=_METRIC, expected="the histogram's base name (without _bucket)"
    )
    if histogram and histogram.endswith(("_bucket", "_count")):
        r.add("histogram", f"needs the histogram's base name (without _bucket), got {histogram!r}")
        histogram = None
    threshold = r.number("threshold", valid=lambda n: n > 0, expected="a bucket boundary in seconds above 0")
    selector = r.str("selector", "", expected='label matchers such as job="api"')
    matchers, le = (f"{selector}, " if selector.strip() else ""), bucket_label(threshold or 0)
    ratio = (
        f'1 - (\n  sum(rate({histogram}_bucket{{{matchers}le="{le}"}}[{WINDOW_PLACEHOLDER}]))\n'
        f"  /\n  sum(rate({histogram}_count{{{selector}}}[{WINDOW_PLACEHOLDER}]))\n)"
    )
    if histogram and threshold:
        error = promql_error(ratio.replace(WINDOW_PLACEHOLDER, "5m"))
        if error:
            r.add("selector", f"invalid PromQL: {error}")
    return ratio


def format_number(value: float) -> str:
    """A float as a threshold in PromQL and in words: 0.25, 1, 0.0144."""
    return f"{value:.10g}"


# ---------------------------------------------------------------- rules


def error_ratio_record(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


BUDGET_REMAINING_RECORD = "slo:error_budget_remaining:ratio"
OBJECTIVE_RECORD = "slo:objective:ratio"


def slo_rule_groups(specs: list[SloSpec]) -> list[dict]:
    """One rule group per SLO: the error ratios, the budget left, then the burn-rate alerts."""
    return [_rule_group(spec) for spec in specs]


def _rule_group(spec: SloSpec) -> dict:
    labels = dict(spec.labels)
    selector = f'{{slo="{spec.name}"}}'
    rules: list[dict] = [
        {"record": error_ratio_record(window), "expr": spec.error_ratio_over(window), "labels": labels}
        for window in RATE_WINDOWS
    ]
    alerts = [alert for alert in (_alert(spec, alert_class) for alert_class in ALERT_CLASSES) if alert]
    # The SLO window from the 5m ratio: a rate over 30d of raw counters would be slow and is lost on restarts.
    rules.append(
        {
            "record": error_ratio_record(spec.window),
            "expr": f"avg_over_time({error_ratio_record('5m')}{selector}[{spec.window}])",
            "labels": labels,
        }
    )
    rules.append(
        {"record": OBJECTIVE_RECORD, "expr": f"vector({format_number(spec.objective / 100)})", "labels": labels}
    )
    rules.append(
        {
            "record": BUDGET_REMAINING_RECORD,
            "expr": f"1 - {error_ratio_record(spec.window)}{selector} / {format_number(spec.error_budget)}",
            "labels": labels,
        }
    )
    return {"name": f"slo-{spec.name}", "rules": rules + alerts + [_no_data_alert(spec)]}


def no_data_expr(spec: SloSpec) -> str:
    """True while the SLI has no value: no series at all (no target, no traffic) or NaN (0 of 0 events)."""
    ratio = f'{error_ratio_record("5m")}{{slo="{spec.name}"}}'
    return f"absent({ratio})\nor\n{ratio} != {ratio}"


def _no_data_alert(spec: SloSpec) -> dict:
    """Silence is not health: an SLO without data neither burns nor meets its budget, and says so."""
    return {
        "alert": f"{spec.camel_name}NoData",
        "expr": no_data_expr(spec),
        "for": NO_DATA_FOR,
        "labels": {**dict(spec.labels), "severity": "warning"},
        "annotations": {
            "summary": f"{spec.service}: {spec.description} has no data",
            "description": (
                f"The SLI of {spec.name} has had no value for {NO_DATA_FOR}: no series (a scrape target missing or "
                "down, a renamed metric) or no events to count. Its error budget and burn-rate alerts are blind."
            ),
        },
    }


NO_DATA_FOR = "15m"


def possible_conditions(spec: SloSpec, alert_class: AlertClass) -> tuple[BurnRateAlert, ...]:
    """The conditions an error ratio can reach: with a 90% objective, 14.4x the budget is 144% errors."""
    return tuple(c for c in alert_class.conditions if c.factor * spec.error_budget < 1)


def _alert(spec: SloSpec, alert_class: AlertClass) -> dict | None:
    conditions = possible_conditions(spec, alert_class)
    if not conditions:
        return None
    budget = format_number(spec.error_budget)
    selector = f'{{slo="{spec.name}"}}'

    def burn_over(window: str) -> str:
        return f"{error_ratio_record(window)}{selector} / {budget}"

    # Each side of `and` yields the burn rate, so $value is the long window's burn rate.
    expr = "\nor\n".join(
        f"(\n  {burn_over(c.long_window)} > {format_number(c.factor)}\n  and\n"
        f"  {burn_over(c.short_window)} > {format_number(c.factor)}\n)"
        for c in conditions
    )
    windows = " or ".join(f"{format_number(c.factor)}x over {c.long_window} and {c.short_window}" for c in conditions)
    days = format_number(round(parse_duration(spec.window) / 86_400_000 / conditions[-1].factor, 1))
    remaining = (
        f'{{{{ with printf "{BUDGET_REMAINING_RECORD}{{slo=%q}}" "{spec.name}" | query }}}}'
        "{{ . | first | value | humanizePercentage }}{{ else }}unknown{{ end }}"
    )
    return {
        "alert": f"{spec.camel_name}{alert_class.name}",
        "expr": expr,
        "for": alert_class.for_,
        "labels": {**dict(spec.labels), "severity": alert_class.severity},
        "annotations": {
            "summary": f"{spec.service}: {spec.description} is burning its error budget "
            + ("fast" if alert_class.severity == "critical" else "slowly"),
            "description": (
                f'Burn rate {{{{ $value | printf "%.1f" }}}}x ({windows}) against a {format_number(spec.objective)}% '
                f"objective over {spec.window}; {alert_class.meaning.format(days=days, window=spec.window)}. "
                f"Error budget remaining: {remaining}."
            ),
        },
    }
