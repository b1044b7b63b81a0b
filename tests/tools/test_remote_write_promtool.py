"""prometheus.remoteWrite as Prometheus reads it: the real promtool accepts the stores in prometheus.yml, and preview
refuses exactly the write relabel rules Prometheus refuses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from rendering import STORE, with_remote_write
from verdicts import disagreements, preview_verdict, promtool_verdict

from stacks.config.load import load_settings
from stacks.render.prometheus import render_prometheus_config


@pytest.mark.tools
def test_promtool_accepts_the_remote_write_config(tmp_path):
    token_store = {"name": "mimir", "url": "http://mimir:9009/api/v1/push", "bearerToken": "t0ken"}
    config, secret_keys = with_remote_write("dev", STORE, token_store)
    path = tmp_path / "prometheus.yml"
    path.write_text(render_prometheus_config(load_settings(config, frozenset(secret_keys))))
    result = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert yaml.safe_load(path.read_text())["remote_write"][1]["authorization"] == {
        "type": "Bearer",
        "credentials": "t0ken",
    }


# Relabel rules as a user writes them in Pulumi config, each at an edge of Prometheus's relabel.Config.Validate.
RELABEL_CASES = [
    {"action": "replace", "sourceLabels": ["a"], "targetLabel": "team"},
    {"sourceLabels": ["a"], "targetLabel": "team"},  # replace, the default action
    {"sourceLabels": ["a"]},  # replace with no target
    {"action": "replace", "sourceLabels": ["a"], "targetLabel": "team-name"},  # UTF-8 label names
    {"action": "drop", "sourceLabels": ["9job"], "regex": "x"},
    {"action": "drop", "sourceLabels": [""], "regex": "x"},
    {"action": "replace", "sourceLabels": ["a"], "targetLabel": "${1}_x", "regex": "(.*)"},
    {"action": "replace", "sourceLabels": ["a"], "targetLabel": "a b"},
    {"action": "keep", "sourceLabels": ["a"], "regex": "("},
    {"action": "keep", "sourceLabels": ["a"], "regex": "a{2,1}"},
    {"action": "keep", "sourceLabels": ["a"], "targetLabel": "t"},
    {"action": "erase", "sourceLabels": ["a"]},
    # The action in any case; empty or null is no default.
    {"action": "Keep", "sourceLabels": ["a"], "regex": "x"},
    {"action": "LabelDrop", "regex": "tmp_.*"},
    {"action": "HASHMOD", "sourceLabels": ["a"], "targetLabel": "t"},
    {"action": "LowerCase", "sourceLabels": ["a"], "targetLabel": "t", "replacement": "x"},
    {"action": "", "sourceLabels": ["a"], "targetLabel": "t"},
    {"action": None, "sourceLabels": ["a"], "targetLabel": "t"},
    # Other fields given as null.
    {"action": "replace", "sourceLabels": ["a"], "targetLabel": None},
    {"action": "keep", "sourceLabels": ["a"], "regex": None},
    {"action": "labeldrop", "regex": "tmp_.*", "separator": None},
    {"action": "hashmod", "sourceLabels": ["a"], "targetLabel": "t", "modulus": None},
    {"action": "labelmap", "regex": "k_(.*)"},  # replacement $1, the default
    {"action": "labelmap", "regex": "k_(.*)", "replacement": None},
    {"action": "labelmap", "regex": "k_(.*)", "replacement": ""},
    {"action": "keep", "sourceLabels": None, "regex": "x"},
    {"action": "hashmod", "sourceLabels": ["a"], "targetLabel": "t", "modulus": 4},
    {"action": "hashmod", "sourceLabels": ["a"], "targetLabel": "t", "modulus": 0},
    {"action": "hashmod", "sourceLabels": ["a"], "targetLabel": "t", "modulus": 1},
    {"action": "keep", "sourceLabels": ["a"], "regex": "a\\Qb"},  # \Q swallows the anchoring parenthesis
    {"action": "hashmod", "sourceLabels": ["a"], "targetLabel": "t"},
    {"action": "hashmod", "sourceLabels": ["a"], "modulus": 4},
    {"action": "hashmod", "sourceLabels": ["a"], "targetLabel": "t-x", "modulus": 4},
    {"action": "labelmap", "regex": "k_(.*)", "replacement": "${1}"},
    {"action": "labelmap", "regex": "k_(.*)", "replacement": "x-${1}"},
    {"action": "labeldrop", "regex": "tmp_.*"},
    {"action": "labeldrop", "regex": "tmp_.*", "targetLabel": "x"},
    {"action": "labeldrop", "regex": "tmp_.*", "sourceLabels": ["a"]},
    {"action": "labelkeep", "regex": "keep_.*", "separator": ","},
    {"action": "labelkeep", "regex": "keep_.*", "replacement": "x"},
    {"action": "lowercase", "sourceLabels": ["a"], "targetLabel": "t"},
    {"action": "lowercase", "sourceLabels": ["a"]},
    {"action": "lowercase", "sourceLabels": ["a"], "targetLabel": "t", "replacement": "x"},
    {"action": "uppercase", "sourceLabels": ["a"], "targetLabel": "t", "separator": ";", "regex": "(.*)"},
    {"action": "uppercase", "sourceLabels": ["a"], "targetLabel": "t", "modulus": 2},
    {"action": "keepequal", "sourceLabels": ["a"], "targetLabel": "t"},
    {"action": "keepequal", "sourceLabels": ["a"]},
    {"action": "keepequal", "sourceLabels": ["a"], "targetLabel": "t", "regex": "x"},
    {"action": "dropequal", "sourceLabels": ["a"], "targetLabel": "t", "separator": ","},
    {"action": "dropequal", "sourceLabels": ["a"], "targetLabel": "t-x"},
    # Another field at its default value is no field at all, except regex and sourceLabels.
    {"action": "labeldrop", "regex": "tmp_.*", "separator": ";", "targetLabel": "", "modulus": 0},
    {"action": "labelkeep", "regex": "keep_.*", "replacement": "$1"},
    {"action": "labeldrop", "regex": "tmp_.*", "sourceLabels": []},
    {"action": "keepequal", "sourceLabels": ["a"], "targetLabel": "t", "modulus": 0, "separator": ";"},
    {"action": "keepequal", "sourceLabels": ["a"], "targetLabel": "t", "regex": "(.*)"},
    {"action": "lowercase", "sourceLabels": ["a"], "targetLabel": "t", "replacement": "$1"},
]


SNAKE = {"sourceLabels": "source_labels", "targetLabel": "target_label"}  # the other keys are spelled alike


def relabel_verdicts(rule: dict, directory: Path) -> tuple[str, str | None, str | None]:
    """(the rule, promtool's verdict on a remote_write entry with it written by hand, preview's on writeRelabel)."""
    entry = {
        "url": "http://vm:8428/api/v1/write",
        "write_relabel_configs": [{SNAKE.get(key, key): value for key, value in rule.items()}],
    }
    config, secret_keys = with_remote_write("dev", {"name": "lts", "url": "http://vm:8428/api/v1/write"})
    config["monitoring:prometheus"]["remoteWrite"][0]["writeRelabel"] = [rule]
    return str(rule), promtool_verdict({"remote_write": [entry]}, directory), preview_verdict(config, secret_keys)


@pytest.mark.tools
def test_preview_refuses_the_relabel_rules_prometheus_refuses_and_no_other(tmp_path):
    """Preview is exactly as strict as Prometheus 3.16 on write_relabel_configs: the same verdict on each case."""
    verdicts = [relabel_verdicts(rule, tmp_path) for rule in RELABEL_CASES]
    assert disagreements(verdicts) == []
    # Both verdicts occur: the table is not all accepted or all refused.
    assert {server is None for _, server, _ in verdicts} == {True, False}
