"""SLOs as code: the generator's output (golden files), and its burn-rate alerts run by the real promtool.

The scenarios run against a fixture spec (tests/fixtures/slo/checkout.yml, 99.9% over 30d) with
10,000 requests a minute. Expected times and annotation values come from a small model of the
windows below (`Traffic`), so a change in the thresholds, windows or `for` shows up as a failure.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from pathlib import Path

import pytest
import yaml
from rendering import assert_matches_golden

from stacks import slo
from stacks.content import load_slos
from stacks.durations import parse_duration
from stacks.errors import Problems

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "slos"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "slo" / "checkout.yml"
SHIPPED = sorted((ROOT / "rules" / "slos").glob("*.yml"))
REQUESTS_PER_MINUTE = 10_000
DAY = 24 * 60
PAGE, TICKET = "CheckoutAvailabilityErrorBudgetFastBurn", "CheckoutAvailabilityErrorBudgetSlowBurn"
LABELS = {"slo": "checkout-availability", "service": "checkout", "system": "checkout", "team": "payments"}


def generate(spec_path: Path, tmp_path: Path, objective: float | None = None):
    """The generated rule file and dashboards of one spec file, as the program produces them."""
    directory = tmp_path / "rules" / "slos"
    directory.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(spec_path.read_text())
    if objective is not None:
        for spec in data["slos"]:
            spec["objective"] = objective
    (directory / spec_path.name).write_text(yaml.safe_dump(data, sort_keys=False))
    problems = Problems()
    rule_files, dashboards = load_slos(directory, problems, tmp_path)
    problems.raise_if_any()
    return rule_files[0], dashboards


# ---------------------------------------------------------------- golden files


@pytest.mark.parametrize("spec_path", SHIPPED, ids=lambda p: p.name)
def test_generated_rules_and_dashboards_match_golden(spec_path, tmp_path):
    rule_file, dashboards = generate(spec_path, tmp_path)
    outputs = {rule_file.name: rule_file.text}
    outputs.update({f"{d.uid}.json": d.config_json + "\n" for d in dashboards})
    for name, text in outputs.items():
        assert_matches_golden(GOLDEN / name, text)


def test_every_spec_records_every_window_and_has_both_alert_classes(tmp_path):
    rule_file, dashboards = generate(FIXTURE, tmp_path)
    (group,) = yaml.safe_load(rule_file.text)["groups"]
    records = [r["record"] for r in group["rules"] if "record" in r]
    windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
    assert records[: len(windows)] == [f"slo:sli_error:ratio_rate{w}" for w in windows]
    alerts = {r["alert"]: r for r in group["rules"] if "alert" in r}
    assert {name: a["labels"]["severity"] for name, a in alerts.items()} == {
        PAGE: "critical",
        TICKET: "warning",
        "CheckoutAvailabilityNoData": "warning",
    }
    assert all(a["labels"].items() >= LABELS.items() for a in alerts.values())
    assert "slo:error_budget_remaining:ratio" in alerts[PAGE]["annotations"]["description"]
    assert [d.folder for d in dashboards] == ["SLOs"] and dashboards[0].system == "checkout"


def test_a_burn_rate_the_error_ratio_cannot_reach_is_left_out(tmp_path):
    """At 90%, paging at 14.4x would need 144% errors: only the 6x condition is generated."""
    rule_file, _ = generate(FIXTURE, tmp_path, objective=90)
    page = next(r for g in yaml.safe_load(rule_file.text)["groups"] for r in g["rules"] if r.get("alert") == PAGE)
    assert "> 14.4" not in page["expr"] and "ratio_rate6h" in page["expr"]
    rule_file, _ = generate(FIXTURE, tmp_path / "low", objective=80)
    assert PAGE not in rule_file.alerts and TICKET in rule_file.alerts


@pytest.mark.tools
@pytest.mark.parametrize("spec_path", [*SHIPPED, FIXTURE], ids=lambda p: p.name)
def test_promtool_accepts_the_generated_rules(spec_path, tmp_path):
    rule_file, _ = generate(spec_path, tmp_path)
    path = tmp_path / rule_file.name
    path.write_text(rule_file.text)
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"SUCCESS: {sum(len(g['rules']) for g in yaml.safe_load(rule_file.text)['groups'])} rules found"
        in result.stdout
    )


# ---------------------------------------------------------------- burn-rate scenarios


@dataclass
class Traffic:
    """Requests a minute at an error ratio, minute by minute, and the windows Prometheus computes on them."""

    error_ratios: list[float]  # error_ratios[i]: the ratio of the requests counted between minute i and i+1

    @classmethod
    def of(cls, *segments: tuple[float, int]) -> Traffic:
        return cls([ratio for ratio, minutes in segments for _ in range(minutes)])

    @property
    def minutes(self) -> int:
        return len(self.error_ratios)

    def counter(self, bad: bool) -> str:
        """promtool's expanding notation for the counter of bad (or good) requests, one sample a minute."""
        per_minute = self.per_minute(bad)
        parts, value, i = [], 0.0, 0
        while i < len(per_minute):
            j = i
            while j < len(per_minute) and per_minute[j] == per_minute[i]:
                j += 1
            start = value if not parts else value + per_minute[i]
            parts.append(f"{start:g}+{per_minute[i]:g}x{j - i if not parts else j - i - 1}")
            value += per_minute[i] * (j - i)
            i = j
        return " ".join(parts)

    def ratio(self, minute: int, window: int) -> float | None:
        """The error ratio the fixture's SLI gives at `minute` over `window`, as Prometheus 3 computes it
        (promql/functions.go, extrapolatedRate): bad is the code="500" series, total the sum of it and the
        code="200" one, each series' increase over (minute - window, minute] extrapolated on its own."""
        bad = self.extrapolated_increase(self.counters[True], minute, window)
        good = self.extrapolated_increase(self.counters[False], minute, window)
        return None if bad is None or good is None or not bad + good else bad / (bad + good)

    def per_minute(self, bad: bool) -> list[float]:
        """The bad (or good) requests counted in each minute."""
        return [REQUESTS_PER_MINUTE * (r if bad else 1 - r) for r in self.error_ratios]

    @cached_property
    def counters(self) -> dict[bool, list[float]]:
        """The bad (True) and good (False) counters at minutes 0..minutes, as counter() writes them: built once,
        since every window of every minute reads them."""
        return {bad: list(accumulate(self.per_minute(bad), initial=0.0)) for bad in (True, False)}

    @staticmethod
    def extrapolated_increase(counts: list[float], minute: int, window: int) -> float | None:
        """Prometheus 3: a range is open on the left; with one sample a minute, the first sample in it is a minute
        after its start (the start itself, minute - window, is left out), or minute 0 when the range reaches back
        before it. The increase is stretched over that gap (below 1.1 intervals, else half an interval), except
        as far as the counter would go below zero."""
        first = max(0, minute - window + 1)
        if minute - first < 1:
            return None  # fewer than two samples: no rate
        sampled = minute - first
        increase = counts[minute] - counts[first]
        to_start = first - (minute - window)
        if to_start >= 1.1:
            to_start = 0.5
        if increase > 0:
            to_start = min(to_start, sampled * counts[first] / increase)
        return increase * (sampled + to_start) / sampled

    def budget_remaining(self, minute: int, evaluation: int, budget: float) -> float:
        """1 - (the 5m ratio recorded at every evaluation, averaged) / budget."""
        recorded = [self.ratio(m, 5) for m in range(0, minute + 1, evaluation)]
        recorded = [r for r in recorded if r is not None]
        return 1 - sum(recorded) / len(recorded) / budget

    def first_minute(self, condition) -> int:
        return next(m for m in range(self.minutes + 1) if condition(m))


def humanize_percentage(value: float) -> str:
    return f"{value * 100:.4g}%"


def burn_value(traffic: Traffic, minute: int, conditions: list[tuple[float, int, int]]) -> float:
    """The alert's $value: the long window's burn rate of the first `or` branch that holds."""
    for factor, long_window, short_window in conditions:
        long, short = traffic.ratio(minute, long_window) / 0.001, traffic.ratio(minute, short_window) / 0.001
        if long > factor and short > factor:
            return long
    raise AssertionError(f"no burn-rate condition holds at minute {minute}")


# What each alert says: its conditions (factor, long window, short window in minutes), then its words.
ALERT_WORDS = {
    PAGE: (
        [(14.4, 60, 5), (6, 360, 30)],
        "fast",
        "14.4x over 1h and 5m or 6x over 6h and 30m",
        "page: at this rate the budget is gone in under 5 days",
    ),
    TICKET: (
        [(3, DAY, 120), (1, 3 * DAY, 360)],
        "slowly",
        "3x over 1d and 2h or 1x over 3d and 6h",
        "ticket: the budget will not last the 30d window",
    ),
}


def expected_annotations(alertname: str, traffic: Traffic, minute: int, evaluation: int) -> dict:
    conditions, pace, windows, meaning = ALERT_WORDS[alertname]
    burn = burn_value(traffic, minute, conditions)
    remaining = humanize_percentage(traffic.budget_remaining(minute, evaluation, 0.001))
    return {
        "summary": f"checkout: checkout requests answered without a server error is burning its error budget {pace}",
        "description": (
            f"Burn rate {burn:.1f}x ({windows}) against a 99.9% objective over 30d; {meaning}. "
            f"Error budget remaining: {remaining}."
        ),
    }


def check(minute: int, alertname: str, severity: str | None = None, annotations: dict | None = None) -> dict:
    expected = (
        [] if severity is None else [{"exp_labels": {**LABELS, "severity": severity}, "exp_annotations": annotations}]
    )
    return {"eval_time": f"{minute}m", "alertname": alertname, "exp_alerts": expected}


def run_scenario(
    tmp_path: Path, name: str, traffic: Traffic, checks: list[dict], evaluation: int = 1, objective: float | None = None
) -> subprocess.CompletedProcess:
    rule_file, _ = generate(FIXTURE, tmp_path, objective)
    (tmp_path / rule_file.name).write_text(rule_file.text)
    test = {
        "rule_files": [rule_file.name],
        "evaluation_interval": f"{evaluation}m",
        "tests": [
            {
                "name": name,
                "interval": "1m",
                "input_series": [
                    {"series": 'requests_total{job="checkout", code="500"}', "values": traffic.counter(bad=True)},
                    {"series": 'requests_total{job="checkout", code="200"}', "values": traffic.counter(bad=False)},
                ],
                "alert_rule_test": checks,
            }
        ],
    }
    (tmp_path / "scenario_test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    return subprocess.run(
        ["promtool", "test", "rules", "scenario_test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )


def fast_burn() -> tuple[Traffic, int]:
    """A day without errors, then 10% of requests fail (100x the budget): a page within minutes."""
    return Traffic.of((0.0, DAY), (0.10, 60)), DAY


@pytest.mark.tools
def test_a_fast_burn_pages_within_the_expected_time(tmp_path):
    traffic, start = fast_burn()
    # The page needs the 1h and the 5m ratio above 14.4 x 0.1%, then 2m pending (`for`).
    detected = traffic.first_minute(
        lambda m: m > start and traffic.ratio(m, 60) > 0.0144 and traffic.ratio(m, 5) > 0.0144
    )
    pages_at = detected + 2
    assert pages_at - start == 11  # 14.4 x 0.1% of an hour's requests fail after 8.5 minutes at 10% errors
    result = run_scenario(
        tmp_path,
        "fast burn",
        traffic,
        [
            check(pages_at - 1, PAGE),
            check(pages_at, PAGE, "critical", expected_annotations(PAGE, traffic, pages_at, 1)),
            check(start + 60, PAGE, "critical", expected_annotations(PAGE, traffic, start + 60, 1)),
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tools
def test_the_fast_burn_scenario_fails_when_the_objective_is_looser(tmp_path):
    """The scenario can fail: at 99% the same burn is under both page thresholds, so the expected page is missing."""
    traffic, start = fast_burn()
    result = run_scenario(
        tmp_path, "fast burn at 99%", traffic, [check(start + 60, PAGE, "critical", {})], objective=99
    )
    assert result.returncode != 0
    assert "got:[]" in (result.stdout + result.stderr).replace(" ", "").replace("\n", "")


@pytest.mark.tools
def test_a_slow_burn_opens_a_ticket_and_does_not_page(tmp_path):
    """Three healthy days at 0.05% errors, then 0.5% (5x the budget: gone in 6 days) for 14 hours."""
    start, evaluation = 3 * DAY, 5
    traffic = Traffic.of((0.0005, start), (0.005, 14 * 60))
    ticket = (
        traffic.first_minute(
            lambda m: (
                m > start
                and m % evaluation == 0
                and (
                    (traffic.ratio(m, DAY) > 0.003 and traffic.ratio(m, 120) > 0.003)
                    or (traffic.ratio(m, 3 * DAY) > 0.001 and traffic.ratio(m, 360) > 0.001)
                )
            )
        )
        + 15
    )  # `for: 15m`
    assert 8 * 60 < ticket - start < 9 * 60  # the 3d window crosses 1x after 8 hours
    result = run_scenario(
        tmp_path,
        "slow burn",
        traffic,
        [
            check(ticket - evaluation, TICKET),
            check(ticket, TICKET, "warning", expected_annotations(TICKET, traffic, ticket, evaluation)),
            *(check(start + hours * 60, PAGE) for hours in (1, 6, 10, 14)),
        ],
        evaluation=evaluation,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tools
def test_a_healthy_service_fires_nothing(tmp_path):
    """Three days at 0.05% errors: half the budget, every window under every threshold."""
    traffic = Traffic.of((0.0005, 3 * DAY))
    checks = [check(day * DAY, alert) for day in (1, 2, 3) for alert in (PAGE, TICKET)]
    result = run_scenario(tmp_path, "healthy", traffic, checks, evaluation=5)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tools
def test_a_short_blip_under_the_long_window_fires_nothing(tmp_path):
    """One minute at 50% errors: the 5m and 30m windows cross their thresholds, the 1h and 6h ones never do."""
    start = DAY
    traffic = Traffic.of((0.0005, start), (0.5, 1), (0.0005, 6 * 60))
    assert traffic.ratio(start + 2, 5) > 0.0144 and traffic.ratio(start + 2, 60) < 0.0144
    checks = [check(start + minutes, alert) for minutes in (1, 3, 5, 15, 30, 60, 180, 360) for alert in (PAGE, TICKET)]
    result = run_scenario(tmp_path, "blip", traffic, checks)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- bad specs


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"objective": 100}, "slos[0].objective: must be a percentage above 0 and below 100 (e.g. 99.9), got 100"),
        ({"objective": 0}, "slos[0].objective: must be a percentage above 0 and below 100 (e.g. 99.9), got 0"),
        (
            {"objective": "99.9%"},
            "slos[0].objective: must be a percentage above 0 and below 100 (e.g. 99.9), got '99.9%'",
        ),
        ({"window": "7d"}, "slos[0].window: unknown window '7d'; use one of 28d, 30d"),
        (
            {
                "sli": {
                    "bad": 'sum(rate(requests_total{code="500"}[5m]))',
                    "total": "sum(rate(requests_total[{{window}}]))",
                }
            },
            "slos[0].sli.bad: the query needs the window placeholder {{window}} in its range",
        ),
        (
            {"sli": {"bad": "sum(rate(requests_total[{{window}}])", "total": "sum(rate(requests_total[{{window}}]))"}},
            "slos[0].sli.bad: invalid PromQL",
        ),
        (
            {"sli": {"latency": {"histogram": "http_request_duration_seconds_bucket", "threshold": 0.25}}},
            "slos[0].sli.latency.histogram: needs the histogram's base name (without _bucket)",
        ),
        ({"sli": {"good": "x", "bad": "y", "total": "z"}}, "slos[0].sli: needs exactly one of"),
        ({"labels": {"severity": "critical"}}, "slos[0].labels.severity: not a label an SLO may set"),
        ({"objectve": 99}, "slos[0].objectve: unknown key"),
    ],
)
def test_a_bad_spec_is_named_by_file_line_and_field(edit, expected, tmp_path):
    data = yaml.safe_load(FIXTURE.read_text())
    data["slos"][0].update(edit)
    directory = tmp_path / "rules" / "slos"
    directory.mkdir(parents=True)
    (directory / "checkout.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    problems = Problems()
    rule_files, dashboards = load_slos(directory, problems, tmp_path)
    assert (rule_files, dashboards) == ((), ())
    assert any(p.startswith("rules/slos/checkout.yml:2: ") and expected in p for p in problems.items), problems.items


def test_two_specs_with_one_name_are_refused(tmp_path):
    directory = tmp_path / "rules" / "slos"
    directory.mkdir(parents=True)
    shutil.copy(FIXTURE, directory / "checkout.yml")
    shutil.copy(FIXTURE, directory / "payments.yml")
    problems = Problems()
    load_slos(directory, problems, tmp_path)
    assert problems.items == [
        "rules/slos/payments.yml: SLO 'checkout-availability' is already defined in rules/slos/checkout.yml"
    ]


def test_the_page_factor_and_the_budget_agree_with_the_workbook():
    """14.4x for 1h spends 2% of a 30d budget; 6x for 6h 5%; 3x for 1d 10%; 1x for 3d 10%."""
    spent = {
        (c.long_window, alert.severity): round(c.factor * slo_hours(c.long_window) / (30 * 24), 3)
        for alert in slo.ALERT_CLASSES
        for c in alert.conditions
    }
    assert spent == {("1h", "critical"): 0.02, ("6h", "critical"): 0.05, ("1d", "warning"): 0.1, ("3d", "warning"): 0.1}


def slo_hours(window: str) -> float:
    return parse_duration(window) / 3_600_000


NO_DATA = "CheckoutAvailabilityNoData"
NO_DATA_ANNOTATIONS = {
    "summary": "checkout: checkout requests answered without a server error has no data",
    "description": (
        "The SLI of checkout-availability has had no value for 15m: no series (a scrape target missing or down, a "
        "renamed metric) or no events to count. Its error budget and burn-rate alerts are blind."
    ),
}


@pytest.mark.tools
@pytest.mark.parametrize(
    ("case", "input_series", "checks"),
    [
        (
            "no series at all (no target)",
            [],
            [(14, False), (16, True)],
        ),
        (
            "counters that never move (no events: 0 of 0)",
            [
                {"series": 'requests_total{job="checkout", code="500"}', "values": "0x40"},
                {"series": 'requests_total{job="checkout", code="200"}', "values": "0x40"},
            ],
            [(14, False), (16, True)],
        ),
        (
            "traffic, even without errors",
            [
                {"series": 'requests_total{job="checkout", code="500"}', "values": "0x40"},
                {"series": 'requests_total{job="checkout", code="200"}', "values": "0+100x40"},
            ],
            [(20, False), (40, False)],
        ),
    ],
)
def test_an_slo_without_data_says_so(tmp_path, case, input_series, checks):
    """Silence is not health: the NoData alert fires 15m into no series or no events, and not while events flow."""
    rule_file, _ = generate(FIXTURE, tmp_path)
    (tmp_path / rule_file.name).write_text(rule_file.text)
    alert_rule_test = [
        {
            "eval_time": f"{minute}m",
            "alertname": NO_DATA,
            "exp_alerts": [{"exp_labels": {**LABELS, "severity": "warning"}, "exp_annotations": NO_DATA_ANNOTATIONS}]
            if fires
            else [],
        }
        for minute, fires in checks
    ]
    test = {
        "rule_files": [rule_file.name],
        "evaluation_interval": "1m",
        "tests": [{"name": case, "interval": "1m", "input_series": input_series, "alert_rule_test": alert_rule_test}],
    }
    (tmp_path / "no_data_test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    result = subprocess.run(
        ["promtool", "test", "rules", "no_data_test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_slo_dashboard_shows_no_data_as_a_state(tmp_path):
    """The top panel of every SLO dashboard maps 0 series with a value to NO DATA, in red."""
    _, dashboards = generate(FIXTURE, tmp_path)
    data = dashboards[0].model["panels"][0]
    assert data["title"] == "Data" and data["gridPos"] == {"h": 3, "w": 24, "x": 0, "y": 0}
    (target,) = data["targets"]
    assert target["expr"] == (
        'count(slo:sli_error:ratio_rate5m{slo="checkout-availability"} == '
        'slo:sli_error:ratio_rate5m{slo="checkout-availability"}) or vector(0)'
    )
    assert data["fieldConfig"]["defaults"]["mappings"][0] == {
        "type": "value",
        "options": {"0": {"text": "NO DATA", "color": "red", "index": 0}},
    }
