"""Logs that queries can find: the Promtail pipeline writes one documented label set, with levels in lower
case and the application's own timestamps; every LogQL stream selector of the dashboards and the
Grafana-managed rules selects on those labels and levels, and preview stops on one that does not.

Promtail itself is AGPL and does not run here: the pipeline is checked as rendered (its stages and the
labels they write), not executed."""

from __future__ import annotations

import json

import pytest
import yaml
from rendering import rendered_files

from stacks.content import load_content
from stacks.content.log_labels import log_selector_problems, stream_selectors
from stacks.errors import InputError

LABELS = {"job", "container", "service", "stream", "level", "environment", "host"}


def pipeline() -> dict:
    return yaml.safe_load(rendered_files("dev")["promtail.yaml"])


def test_the_pipeline_writes_the_documented_labels_and_no_others():
    config = pipeline()
    (scrape,) = config["scrape_configs"]
    written = {r["target_label"] for r in scrape["relabel_configs"]}
    written |= {key for stage in scrape["pipeline_stages"] if "labels" in stage for key in stage["labels"]}
    written |= set(config["clients"][0]["external_labels"])
    assert written == LABELS


def test_levels_are_lower_cased_before_they_become_a_label_and_times_come_from_the_line():
    stages = pipeline()["scrape_configs"][0]["pipeline_stages"]
    kinds = [next(iter(stage)) for stage in stages]
    assert kinds == ["json", "template", "labels", "timestamp", "timestamp"]
    assert stages[0]["json"]["expressions"] == {"level": "level", "time": "time", "timestamp": "timestamp"}
    assert stages[1]["template"] == {
        "source": "level",
        "template": '{{ Replace (ToLower .Value) "warning" "warn" -1 }}',
    }
    assert [s["timestamp"] for s in stages[3:]] == [
        {"source": "time", "format": "RFC3339Nano", "action_on_failure": "skip"},  # slog (MindHit)
        {"source": "timestamp", "format": "2006-01-02T15:04:05.000Z0700", "action_on_failure": "skip"},  # zap (K-ERP)
    ]


def test_stream_selectors_are_found_outside_strings():
    query = (
        'sum(count_over_time({job="docker", service=~"a|b"} | line_format "{{.msg}}" [5m]))'
        ' / count_over_time({job="docker"}[5m])'
    )
    assert stream_selectors(query) == ['{job="docker", service=~"a|b"}', '{job="docker"}']


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('{job="docker", service="user-service", level="error"}', []),
        ('{job="docker", level=~"warn|error"}', []),
        ('{job="docker", level!="debug"}', []),
        (
            '{compose_service="user-service"}',
            [
                "{compose_service=\"user-service\"} selects on 'compose_service', which no log stream has: the labels "
                "are job, container, service, stream, level, environment, host (stacks/layout.py)"
            ],
        ),
        (
            '{job="containerlogs"} |= "mindhit"',
            ['{job="containerlogs"} selects job="containerlogs": every log stream is job="docker"'],
        ),
        (
            '{job="docker", level="ERROR"}',
            [
                '{job="docker", level="ERROR"} compares level with \'ERROR\', which no stream has: levels are lower '
                "case (debug, info, warn, error, fatal, panic, trace)"
            ],
        ),
        ('{job="docker", level=~"WARN|WARNING"}', ["compares level with 'WARN|WARNING'"]),
    ],
)
def test_a_stream_selector_against_the_pipelines_labels(query, expected):
    found = log_selector_problems(query)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message


def test_a_panel_querying_a_label_no_stream_has_stops_preview_naming_its_path(content_copy):
    path = content_copy / "dashboards/weAlist/service-detail.json"
    model = json.loads(path.read_text())
    text = json.dumps(model).replace('{job=\\"docker\\", service=\\"$service\\"}', '{compose_service=\\"$service\\"}')
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert "dashboards/weAlist/service-detail.json: $.panels[" in str(raised.value)
    assert "selects on 'compose_service', which no log stream has" in str(raised.value)


def test_a_grafana_rule_on_an_upper_case_level_stops_preview_naming_the_rule(content_copy):
    path = content_copy / "rules/grafana/platform-logs.yml"
    path.write_text(path.read_text().replace('level="error"', 'level="ERROR"'))
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert "rules/grafana/platform-logs.yml: group " in str(raised.value)
    assert "compares level with 'ERROR', which no stream has" in str(raised.value)
