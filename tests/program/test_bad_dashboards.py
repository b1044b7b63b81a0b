"""Bad dashboards (dashboards/<Folder>/*.json): malformed, untitled, a uid or folder uid taken twice, unknown
datasources, invalid PromQL, the lint rules and Grafana's schema. The whole program under mocks stops with an
error naming the file (and the JSON path), and registers nothing; a title taken twice is a warning."""

from __future__ import annotations

import copy
import json

from bad_input import dev, edited_dashboard, write
from mockstack import run_expecting_error, run_program
from repo import FIXTURES


def test_malformed_dashboard_json_names_file_and_line(content_copy):
    write(content_copy / "dashboards/MindHit/broken.json", '{\n  "title": "Broken",\n  "panels": [,]\n}\n')
    message = run_expecting_error("dev", *dev())
    assert "dashboards/MindHit/broken.json:3:14: malformed JSON: Expecting value" in message


def test_dashboard_without_a_title(content_copy):
    write(content_copy / "dashboards/MindHit/untitled.json", json.dumps({"panels": []}))
    message = run_expecting_error("dev", *dev())
    assert "dashboards/MindHit/untitled.json: $.title: a dashboard needs a non-empty title" in message


def test_two_dashboards_with_one_uid(content_copy):
    original = json.loads((content_copy / "dashboards/MindHit/api-overview.json").read_text())
    copied = copy.deepcopy(original)
    copied["title"] = "A copy in another folder"
    write(content_copy / "dashboards/Platform/copy.json", json.dumps(copied))
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/Platform/copy.json: uid 'mindhit-api-overview' is already used by "
        "dashboards/MindHit/api-overview.json" in message
    )


def test_a_dashboard_taking_the_uid_of_a_generated_slo_dashboard(content_copy):
    original = json.loads((content_copy / "dashboards/MindHit/api-overview.json").read_text())
    original["uid"] = "slo-mindhit-api-latency"
    write(content_copy / "dashboards/MindHit/api-overview.json", json.dumps(original))
    message = run_expecting_error("dev", *dev())
    assert (
        "rules/slos/mindhit.yml: uid 'slo-mindhit-api-latency' is already used by dashboards/MindHit/api-overview.json"
        in message
    )


def test_two_folders_that_would_be_one_folder_uid(content_copy):
    (content_copy / "dashboards/k erp").mkdir()
    write(
        content_copy / "dashboards/k erp/extra.json", json.dumps({"title": "Extra", "uid": "kerp-extra", "panels": []})
    )
    message = run_expecting_error("dev", *dev())
    assert "folder 'k erp': its uid 'k-erp' is already the uid of folder 'K-ERP'" in message


def test_two_dashboards_of_one_title_in_a_folder_are_a_warning(content_copy, logged_warnings):
    """Grafana 13 takes the second (docs/content.md, "Dashboards"): a warning naming lint rule title-unique."""
    title = json.loads((content_copy / "dashboards/MindHit/api-overview.json").read_text())["title"]
    model = json.loads((content_copy / "dashboards/MindHit/business-metrics.json").read_text())
    write(content_copy / "dashboards/MindHit/copy.json", json.dumps({**model, "uid": "mindhit-copy", "title": title}))
    assert run_program("dev", *dev()).recorder.registrations
    assert (
        f"dashboards/MindHit/copy.json: [title-unique] $.title: {title!r} is already the title of "
        "dashboards/MindHit/api-overview.json in folder 'MindHit' (to turn the rule off for this file: "
        'dashboards/MindHit/.lint: exclusions: {title-unique: {reason: "<why>", dashboards: [copy.json]}})'
    ) in logged_warnings


def test_dashboard_referencing_an_unknown_datasource_uid(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/infrastructure.json") as model:
        model["panels"][2]["datasource"] = {"type": "prometheus", "uid": "thanos"}
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/infrastructure.json: [panel-datasource] $.panels[2].datasource: unknown datasource uid "
        "'thanos'" in message
    )


def test_template_variable_with_an_unknown_datasource(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/api-overview.json") as model:
        model["templating"] = {
            "list": [
                {"name": "job", "type": "query", "datasource": {"uid": "influx"}, "query": "label_values(up, job)"}
            ]
        }
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/api-overview.json: [template-datasource] $.templating.list[0].datasource: unknown "
        "datasource uid 'influx'" in message
    )


def test_an_export_for_an_unprovisioned_datasource_names_the_input(content_copy):
    model = json.loads((FIXTURES / "dashboards/exported-with-inputs.json").read_text())
    model["__inputs"][0]["pluginId"] = "influxdb"
    write(content_copy / "dashboards/Imported/influx.json", json.dumps(model))
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/Imported/influx.json: $.__inputs[0].pluginId: no provisioned datasource of type 'influxdb'"
        in message
    )


def test_invalid_promql_in_a_dashboard_panel(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/api-overview.json") as model:
        model["panels"][1]["targets"][0]["expr"] = "histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le)"
    message = run_expecting_error("dev", *dev())
    assert "dashboards/MindHit/api-overview.json: [promql] $.panels[1].targets[0].expr: invalid PromQL" in message


def test_overlapping_panels(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/api-overview.json") as model:
        model["panels"][1]["gridPos"] = {"h": 8, "w": 12, "x": 6, "y": 4}
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/api-overview.json: [panel-overlap] 3 findings: $.panels[1].gridPos: overlaps "
        "$.panels[0].gridPos" in message
    )


def test_panel_without_a_query(content_copy):
    with edited_dashboard(content_copy / "dashboards/MindHit/api-overview.json") as model:
        model["panels"][3]["targets"] = []
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/api-overview.json: [panel-query] $.panels[3].targets: panel 'Active Requests' has no "
        "query" in message
    )


def test_a_dashboard_of_the_wrong_structure_stops_preview_by_file_and_json_path(content_copy):
    """Lint rule `schema` (stacks/content/dashboard_schema.py): Grafana's dashboard schema, checked at preview."""
    with edited_dashboard(content_copy / "dashboards/MindHit/infrastructure.json") as model:
        model["panels"][2]["gridPos"] = "x=0 y=8 w=12 h=8"
        model["panels"][3]["targets"] = {"A": model["panels"][3]["targets"][0]}
    message = run_expecting_error("dev", *dev())
    assert (
        "dashboards/MindHit/infrastructure.json: [schema] 2 findings: $.panels[2].gridPos: expected an object "
        '(dashboard.GridPos), got a string "x=0 y=8 w=12 h=8"; $.panels[3].targets: expected an array, got an object'
        in message
    )
