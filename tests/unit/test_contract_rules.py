"""Rules that can fire (stacks/content/contract.py): against each system's histogram buckets, a quantile
threshold no quantile can cross, a bucket the histogram does not have, and a histogram outside the contract
stop preview, naming the rule file and line."""

from __future__ import annotations

import re

import pytest
import yaml
from repo import ROOT

from stacks.content import load_content
from stacks.content.contract import contract_problems
from stacks.content.model import Metric, System
from stacks.errors import InputError
from stacks.syntax.promql import bucket_label, go_float

KERP = System(
    "kerp",
    ("kerp-api",),
    (Metric("external_api_request_duration_seconds", "histogram", ("kerp-api",), {}, (0.1, 1.0, 10.0)),),
)
QUANTILE = "histogram_quantile(0.99, sum(rate(external_api_request_duration_seconds_bucket[5m])) by (le))"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (f"{QUANTILE} > 9.5", []),
        (f"{QUANTILE} >= 10", []),  # the +Inf bucket answers 10: true
        (f"{QUANTILE} < 10", []),
        (
            f"{QUANTILE} > 10",
            [
                "histogram_quantile over external_api_request_duration_seconds > 10 can never be true: its top finite "
                "bucket is 10, the highest value a quantile can take (systems/kerp.yml): add a bucket above 10 or "
                "lower the threshold"
            ],
        ),
        (f"(({QUANTILE})) > 30", ["> 30 can never be true"]),
        (f"10.5 < {QUANTILE}", ["> 10.5 can never be true"]),  # written the other way round
        (f"{QUANTILE} >= 12", [">= 12 can never be true"]),
        (
            'sum(rate(external_api_request_duration_seconds_bucket{le="0.25"}[5m]))',
            [
                'external_api_request_duration_seconds_bucket{le="0.25"} reads no series: '
                "external_api_request_duration_seconds's buckets are 0.1, 1, 10, +Inf (systems/kerp.yml)"
            ],
        ),
        ('sum(rate(external_api_request_duration_seconds_bucket{le="+Inf"}[5m]))', []),
        ('sum(rate(external_api_request_duration_seconds_bucket{le="1.0"}[5m]))', []),
        (
            'sum(rate(external_api_request_duration_seconds_bucket{le="1"}[5m]))',
            [
                'external_api_request_duration_seconds_bucket{le="1"} reads no series on Prometheus 3, which stores '
                'a scraped bucket as le="1.0"'
            ],
        ),
        (
            "histogram_quantile(0.9, rate(db_query_duration_seconds_bucket[5m])) > 1",
            ["histogram db_query_duration_seconds is not in the metrics contract: add its buckets to systems/kerp.yml"],
        ),
    ],
)
def test_a_rule_against_the_systems_buckets(expr, expected):
    found = contract_problems(expr, KERP)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message


def test_the_seeds_external_api_timeout_could_never_fire_with_the_seeds_buckets(content_copy):
    """Seed 002's buckets end at 10 s and its ExternalAPITimeout asks for p99 > 10 s: a dead rule. The
    contract's 30 s bucket revives it; without the bucket, preview says so."""
    systems = content_copy / "systems/kerp.yml"
    systems.write_text(
        systems.read_text().replace("[0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]", "[0.1, 0.25, 0.5, 1, 2.5, 5, 10]")
    )
    text = (content_copy / "rules/kerp.yml").read_text()
    line = text.splitlines().index("      - alert: ExternalAPITimeout") + 1
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert (
        f"rules/kerp.yml: [metrics-contract] line {line}: histogram_quantile over "
        "external_api_request_duration_seconds > 10 can never be true" in str(raised.value)
    )


def test_an_slo_threshold_between_two_buckets_stops_preview(content_copy):
    """The K-ERP latency SLO counts requests under 200 ms: without the contract's 0.2 bucket, it counts none."""
    systems = content_copy / "systems/kerp.yml"
    systems.write_text(systems.read_text().replace("0.1, 0.2, 0.25", "0.1, 0.25"))
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert "rules/slos/kerp.yml (generated rules):" in str(
        raised.value
    ) and 'http_request_duration_seconds_bucket{le="0.2"} reads no series' in str(raised.value)


@pytest.mark.parametrize(
    ("value", "go", "stored"),
    # Go's strconv.FormatFloat(v, 'g', -1, 64), as `go run` printed it, and Prometheus 3's stored label.
    [
        (1, "1", "1.0"),
        (0.005, "0.005", "0.005"),
        (0.2, "0.2", "0.2"),
        (10, "10", "10.0"),
        (100000, "100000", "100000.0"),
        (1e6, "1e+06", "1e+06"),
        (1e9, "1e+09", "1e+09"),
        (0.0001, "0.0001", "0.0001"),
        (0.00001, "1e-05", "1e-05"),
        (15000000, "1.5e+07", "1.5e+07"),
        (123456789, "1.23456789e+08", "1.23456789e+08"),
    ],
)
def test_bucket_boundaries_as_clients_write_them_and_prometheus_3_stores_them(value, go, stored):
    assert go_float(value) == go
    assert bucket_label(value) == stored


def test_the_note_to_kerps_team_asks_for_the_contracts_buckets():
    """docs/kerp-bucket-boundaries.md gives K-ERP's team the Go lines: the contract's buckets, which are seed 002's
    plus 0.2 and 30 (systems/kerp.yml)."""
    note = (ROOT / "docs/kerp-bucket-boundaries.md").read_text()
    contract = yaml.safe_load((ROOT / "systems/kerp.yml").read_text())["metrics"]
    for name, added in (("http_request_duration_seconds", 0.2), ("external_api_request_duration_seconds", 30)):
        (line,) = [row for row in note.splitlines() if row.startswith("Buckets:") and row.endswith(f"// {name}")]
        asked = [float(b) for b in re.search(r"\{(.*)\}", line)[1].split(",")]
        assert asked == contract[name]["buckets"]
        assert added in asked
