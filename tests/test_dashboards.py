"""Dashboards as people export or download them deploy with no hand edits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import configured_stack
from mockstack import run_program, unwrap

FIXTURES = Path(__file__).resolve().parent / "fixtures/dashboards"


def test_real_world_dashboards_deploy_unchanged(content_copy):
    shutil.copytree(FIXTURES, content_copy / "dashboards/Imported")
    run = run_program("dev", *configured_stack("dev"))
    sent = {
        json.loads(unwrap(r.inputs)["configJson"])["title"]: json.loads(unwrap(r.inputs)["configJson"])
        for r in run.recorder.by_type("grafana:oss/dashboard:Dashboard")
    }
    exported = sent["Exported for sharing externally"]
    assert "${DS_PROMETHEUS}" not in json.dumps(exported) and "__inputs" not in exported
    assert exported["panels"][0]["datasource"] == {"type": "prometheus", "uid": "prometheus"}
    assert exported["templating"]["list"][0]["datasource"]["uid"] == "prometheus"
    assert "id" not in exported and "version" not in exported and exported["uid"] == "node-exported"
    # A datasource variable, names instead of uids and the old schema go to Grafana as they are.
    variable = sent["Datasource chosen by a variable"]
    assert variable["uid"] == "datasource-variable"  # derived from the file name
    assert variable["panels"] == json.loads((FIXTURES / "datasource-variable.json").read_text())["panels"]
    assert sent["Datasource by name"]["panels"][1]["datasource"] == "Loki"
    old = sent["Old schema with rows, graph and singlestat"]
    assert [p["type"] for p in old["rows"][0]["panels"]] == ["singlestat", "graph"]


def test_shipped_dashboards_use_modern_panels_with_units_and_datasources_by_uid():
    from stacks.content import load_content

    legacy, without_unit, by_name = [], [], []
    for dashboard in load_content().dashboards:
        stack = list(dashboard.model.get("panels") or [])
        while stack:
            panel = stack.pop()
            stack.extend(panel.get("panels") or [])
            where = f"{dashboard.path.name}: {panel.get('title')}"
            if panel.get("type") in ("graph", "singlestat"):
                legacy.append(where)
            if panel.get("type") not in ("row", "logs", "text") and not (
                (panel.get("fieldConfig") or {}).get("defaults") or {}
            ).get("unit"):
                without_unit.append(where)
            if panel.get("type") != "row" and not isinstance(panel.get("datasource"), dict):
                by_name.append(where)
    assert (legacy, without_unit, by_name) == ([], [], [])
