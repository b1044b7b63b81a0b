"""The dashboard generated for each SLO spec (stacks/slo.py), in the SLOs folder."""

from __future__ import annotations

from stacks.layout import PROMETHEUS
from stacks.slo import (
    ALERT_CLASSES,
    BUDGET_REMAINING_RECORD,
    NO_DATA_FOR,
    OBJECTIVE_RECORD,
    SloSpec,
    error_ratio_record,
    format_number,
)

# The stack's Prometheus datasource: its uid and type are the service's name (stacks/layout.py).
_PROMETHEUS = {"type": PROMETHEUS.name, "uid": PROMETHEUS.name}


def slo_dashboard(spec: SloSpec) -> dict:
    """Budget remaining, the SLI against its objective, and the burn rates against the alert thresholds."""
    selector = f'{{slo="{spec.name}"}}'
    budget = format_number(spec.error_budget)
    thresholds = sorted({c.factor for a in ALERT_CLASSES for c in a.conditions})

    def target(expr: str, legend: str, ref: str = "A") -> dict:
        return {"datasource": _PROMETHEUS, "expr": expr, "legendFormat": legend, "refId": ref}

    def stat(panel_id: int, title: str, expr: str, x: int, unit: str, steps: list[dict]) -> dict:
        return {
            "id": panel_id,
            "type": "stat",
            "title": title,
            "datasource": _PROMETHEUS,
            "gridPos": {"h": 5, "w": 6, "x": x, "y": 3},
            "targets": [target(expr, title)],
            "fieldConfig": {
                "defaults": {"unit": unit, "decimals": 3, "thresholds": {"mode": "absolute", "steps": steps}},
                "overrides": [],
            },
            "options": {"colorMode": "background", "graphMode": "none", "reduceOptions": {"calcs": ["lastNotNull"]}},
        }

    red_to_green = [
        {"color": "red", "value": None},
        {"color": "yellow", "value": 0.25},
        {"color": "green", "value": 0.5},
    ]
    objective = spec.objective / 100
    ratio = f"{error_ratio_record('5m')}{selector}"
    panels = [
        {
            "id": 7,
            "type": "stat",
            "title": "Data",
            "description": (
                f"Whether the SLI has a value. NO DATA: no series (a scrape target missing or down, a renamed metric) "
                f"or no events to count; the numbers below are then blind, and after {NO_DATA_FOR} "
                "the NoData alert fires."
            ),
            "datasource": _PROMETHEUS,
            "gridPos": {"h": 3, "w": 24, "x": 0, "y": 0},
            "targets": [target(f"count({ratio} == {ratio}) or vector(0)", "series with a value")],
            "fieldConfig": {
                "defaults": {
                    "unit": "none",
                    "mappings": [
                        {"type": "value", "options": {"0": {"text": "NO DATA", "color": "red", "index": 0}}},
                        {
                            "type": "range",
                            "options": {
                                "from": 1,
                                "to": None,
                                "result": {"text": "reporting", "color": "green", "index": 1},
                            },
                        },
                    ],
                    "thresholds": {
                        "mode": "absolute",
                        "steps": [{"color": "red", "value": None}, {"color": "green", "value": 1}],
                    },
                },
                "overrides": [],
            },
            "options": {"colorMode": "background", "graphMode": "none", "reduceOptions": {"calcs": ["lastNotNull"]}},
        },
        stat(
            1,
            f"Error budget remaining ({spec.window})",
            f"{BUDGET_REMAINING_RECORD}{selector}",
            0,
            "percentunit",
            red_to_green,
        ),
        stat(
            2,
            f"SLI ({spec.window})",
            f"1 - {error_ratio_record(spec.window)}{selector}",
            6,
            "percentunit",
            [{"color": "red", "value": None}, {"color": "green", "value": objective}],
        ),
        stat(3, "Objective", f"{OBJECTIVE_RECORD}{selector}", 12, "percentunit", [{"color": "blue", "value": None}]),
        stat(
            4,
            "Burn rate (1h)",
            f"{error_ratio_record('1h')}{selector} / {budget}",
            18,
            "x",
            [{"color": "green", "value": None}, {"color": "yellow", "value": 1}, {"color": "red", "value": 14.4}],
        ),
        {
            "id": 5,
            "type": "timeseries",
            "title": "Burn rate by window",
            "description": "Error ratio / error budget. Page at 14.4x (1h) or 6x (6h), ticket at 3x (1d) or 1x (3d).",
            "datasource": _PROMETHEUS,
            "gridPos": {"h": 9, "w": 12, "x": 0, "y": 8},
            "targets": [
                target(f"{error_ratio_record(w)}{selector} / {budget}", w, chr(ord("A") + i))
                for i, w in enumerate(("1h", "6h", "1d", "3d"))
            ],
            "fieldConfig": {
                "defaults": {
                    "unit": "x",
                    "custom": {"thresholdsStyle": {"mode": "line"}},
                    "thresholds": {
                        "mode": "absolute",
                        "steps": [{"color": "green", "value": None}]
                        + [{"color": "red", "value": factor} for factor in thresholds],
                    },
                },
                "overrides": [],
            },
        },
        {
            "id": 6,
            "type": "timeseries",
            "title": "SLI over time",
            "description": f"Share of good events against the {format_number(spec.objective)}% objective.",
            "datasource": _PROMETHEUS,
            "gridPos": {"h": 9, "w": 12, "x": 12, "y": 8},
            "targets": [
                target(f"1 - {error_ratio_record('5m')}{selector}", "SLI (5m)", "A"),
                target(f"1 - {error_ratio_record('1h')}{selector}", "SLI (1h)", "B"),
                target(f"{OBJECTIVE_RECORD}{selector}", "objective", "C"),
            ],
            "fieldConfig": {"defaults": {"unit": "percentunit", "max": 1}, "overrides": []},
        },
    ]
    return {
        "uid": f"slo-{spec.name}",
        "title": f"SLO: {spec.service} {spec.name}",
        "description": f"{spec.description}: {format_number(spec.objective)}% over {spec.window}. "
        "Generated from the SLO spec; edit the spec, not this dashboard.",
        "tags": ["slo", dict(spec.labels)["system"]],
        "editable": False,
        "schemaVersion": 39,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "1m",
        "panels": panels,
    }
