"""scrapeTargets[].labels: preview takes the label names Prometheus 3.16 takes (any UTF-8 name but the empty
one), and warns on the ones Prometheus takes but drops from the series (those starting with __)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import configured_stack
from mockstack import run_program
from verdicts import disagreements, preview_verdict, promtool_verdict

from stacks.config.load import load_settings
from stacks.errors import InputError
from stacks.render.prometheus import render_prometheus_config

LABEL_NAMES = ["team", "team-name", "équipe", "1x", "a.b/c", "__team", "__param_module", "__scheme__", ""]


def with_labels(labels: dict) -> tuple[dict, list[str]]:
    config, secret_keys = configured_stack("dev")
    targets = config.get("monitoring:scrapeTargets") or []
    config["monitoring:scrapeTargets"] = [{"job": "app", "targets": ["app:8080"], "labels": labels}, *targets]
    return config, secret_keys


def label_verdicts(name: str, directory: Path) -> tuple[str, str | None, str | None]:
    """(the name, promtool's verdict on a static config with this target label, preview's on scrapeTargets)."""
    config = {
        "scrape_configs": [{"job_name": "app", "static_configs": [{"targets": ["app:8080"], "labels": {name: "x"}}]}]
    }
    return repr(name), promtool_verdict(config, directory), preview_verdict(*with_labels({name: "x"}))


@pytest.mark.tools
def test_preview_refuses_the_target_label_names_prometheus_refuses_and_no_other(tmp_path):
    verdicts = [label_verdicts(name, tmp_path) for name in LABEL_NAMES]
    assert disagreements(verdicts) == []
    assert [name for name, server, _ in verdicts if server is not None] == ["''"]  # both verdicts occur


@pytest.mark.tools
def test_the_rendered_config_carries_every_name_preview_takes_and_promtool_accepts_it(tmp_path):
    taken = {name: f"v{i}" for i, name in enumerate(LABEL_NAMES) if name}
    config, secret_keys = with_labels(taken)
    path = tmp_path / "prometheus.yml"
    path.write_text(render_prometheus_config(load_settings(config, frozenset(secret_keys))))
    (job,) = [job for job in yaml.safe_load(path.read_text())["scrape_configs"] if job["job_name"] == "app"]
    assert job["static_configs"] == [{"targets": ["app:8080"], "labels": taken}]
    result = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_empty_label_name_is_refused_naming_the_target():
    config, secret_keys = with_labels({"": "x", "team": "a"})
    with pytest.raises(InputError) as error:
        load_settings(config, frozenset(secret_keys))
    assert str(error.value).splitlines()[1:] == [
        "- scrapeTargets[0].labels: has an empty label name, which Prometheus refuses",
        "1 error",
    ]


def test_a_label_prometheus_drops_from_the_series_is_a_warning_naming_the_fix(logged_warnings):
    labels = {"__squad": "a", "__param_module": "http_2xx", "__metrics_path__": "/m", "team-name": "b", "__": "c"}
    run = run_program("dev", *with_labels(labels))
    assert run.recorder.registrations  # a warning: the stack still deploys
    assert logged_warnings == [
        "scrapeTargets[0].labels.__: Prometheus drops target labels starting with __ before storing the series, "
        "so no series of job app carries it; rename it (such as team) to keep it on the series",
        "scrapeTargets[0].labels.__squad: Prometheus drops target labels starting with __ before storing the series, "
        "so no series of job app carries it; rename it (such as squad) to keep it on the series",
    ]
