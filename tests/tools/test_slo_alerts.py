"""SLOs as code: the generated burn-rate and no-data alerts, run by the real promtool.

The scenarios run against a fixture spec (tests/fixtures/slo/checkout.yml, 99.9% over 30d) with
10,000 requests a minute. Expected times and annotation values come from a small model of the
windows below (`Traffic`), so a change in the thresholds, windows or `for` shows up as a failure.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from pathlib import Path

import pytest
import yaml
from slos import FIXTURE, LABELS, PAGE, SHIPPED, TICKET, generate

REQUESTS_PER_MINUTE = 10_000
DAY = 24 * 60


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


# ---------------------------------------------------------------- no data


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
