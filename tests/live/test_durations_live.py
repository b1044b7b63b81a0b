"""Durations as the servers write them back: the stack's Alertmanager 0.35 loads a route per duration and its
API prints the loaded config, each duration in the form Prometheus' model.Duration gives it (the form Grafana
stores, too). canonical_duration must write the same, or every `up` after the first shows a change."""

from __future__ import annotations

import pytest
import yaml
from polling import http_json
from servers import start_alertmanager

from stacks.syntax.durations import canonical_duration

pytestmark = pytest.mark.live

DURATIONS = [
    "0s", "1ms", "999ms", "1000ms", "1500ms", "60s", "90s", "4h", "168h", "14d", "15d", "90d",
    "365d", "1y", "366d", "1y1d", "730d", "7d1h", "1h0m1ms", "2w", "52w", "53w",
]  # fmt: skip


def test_durations_are_written_as_alertmanager_writes_them(tmp_path, processes):
    routes = [{"receiver": "r", "matchers": [f'i="{i}"'], "group_wait": d} for i, d in enumerate(DURATIONS)]
    config = {"route": {"receiver": "r", "routes": routes}, "receivers": [{"name": "r"}]}
    port = start_alertmanager(processes, tmp_path, yaml.safe_dump(config))
    loaded = yaml.safe_load(http_json(f"http://127.0.0.1:{port}/api/v2/status")["config"]["original"])
    written = {text: route["group_wait"] for text, route in zip(DURATIONS, loaded["route"]["routes"], strict=True)}
    assert {text: canonical_duration(text) for text in DURATIONS} == written
