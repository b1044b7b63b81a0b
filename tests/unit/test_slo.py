"""SLOs as code: the generator's output against golden files (tests/golden/slos/), and each bad spec named by file,
line and field. The generated alerts run by the real promtool: tests/tools/test_slo_alerts.py."""

from __future__ import annotations

import shutil

import pytest
import yaml
from rendering import assert_matches_golden
from repo import GOLDEN
from slos import FIXTURE, LABELS, PAGE, SHIPPED, TICKET, generate

from stacks import slo
from stacks.content import load_slos
from stacks.errors import Problems
from stacks.syntax.durations import parse_duration

SLO_GOLDEN = GOLDEN / "slos"


@pytest.mark.parametrize("spec_path", SHIPPED, ids=lambda p: p.name)
def test_generated_rules_and_dashboards_match_golden(spec_path, tmp_path):
    rule_file, dashboards = generate(spec_path, tmp_path)
    outputs = {rule_file.name: rule_file.text}
    outputs.update({f"{d.uid}.json": d.config_json + "\n" for d in dashboards})
    for name, text in outputs.items():
        assert_matches_golden(SLO_GOLDEN / name, text)


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


# ---------------------------------------------------------------- the workbook


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
