"""Notification templates (templates/*.tmpl) as the stack's own amtool (0.35) takes them: the shipped ones rendered
against sample alerts, a template file judged as preview judges it, the SMTP settings accepted."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from rendering import stack_settings
from repo import ROOT
from servers import stack_binary
from variants import smtp_run

from stacks.content import load_content
from stacks.errors import InputError
from stacks.render.alertmanager import render_alertmanager_config

SAMPLE = {
    "receiver": "default",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "APIDown", "severity": "critical", "system": "kerp", "instance": "api:8080"},
            "annotations": {"summary": "K-ERP API is down", "description": "No scrape for 2 minutes."},
        },
        {
            "status": "firing",
            "labels": {"alertname": "APIDown", "severity": "critical", "system": "kerp", "instance": "api-2:8080"},
            "annotations": {"summary": "K-ERP API is down"},
        },
    ],
    "groupLabels": {"alertname": "APIDown"},
    "commonLabels": {"alertname": "APIDown", "severity": "critical", "system": "kerp"},
    "commonAnnotations": {"summary": "K-ERP API is down"},
    "externalURL": "http://alertmanager:9093",
}


def _amtool() -> str:
    return str(Path(stack_binary("alertmanager")).with_name("amtool"))


@pytest.mark.tools
def test_amtool_renders_the_shipped_slack_templates_against_sample_alerts(tmp_path):
    (tmp_path / "data.json").write_text(json.dumps(SAMPLE))
    result = subprocess.run(
        [
            _amtool(),
            "template",
            "render",
            f"--template.glob={ROOT}/templates/*.tmpl",
            '--template.text={{ template "monitoring.slack.title" . }}\n{{ template "monitoring.slack.text" . }}',
            f"--template.data={tmp_path / 'data.json'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "[FIRING:2] APIDown",
        "*APIDown* (critical, kerp, api:8080): K-ERP API is down",
        "No scrape for 2 minutes.",
        "*APIDown* (critical, kerp, api-2:8080): K-ERP API is down",
    ]


@pytest.mark.tools
@pytest.mark.parametrize(
    "template",
    [
        '{{ define "a" }}{{ .Status | toUpper }}{{ end }}',
        '{{ define "a" }}{{ range .Alerts }}{{ .Labels.x }}{{ end }}{{ end }}',
        '{{ define "a" }}{{ .Status | toUpper }{{ end }}',
        '{{ define "a" }}{{ .Status | humanize }}{{ end }}',
        '{{ define "a" }}{{ if .Status }}x{{ end }}',
        '{{ define "a" }}x{{ end }}{{ define "a" }}y{{ end }}',
        '{{ define "a" }}{{ template "b" . }}{{ end }}',
    ],
)
def test_preview_parses_a_template_file_as_amtool_does(template, tmp_path):
    """The stack's amtool loads the config with the file beside it: preview gives the same verdict on the file's
    syntax (a template it runs but nobody defines is preview's own check: the next test)."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/t.tmpl").write_text(template)
    # staging's alertmanager.yml, loading this file (it names each template file it loads).
    (tmp_path / "alertmanager.yml").write_text(
        render_alertmanager_config(stack_settings("staging").alerting, ["t.tmpl"])
    )
    tool = subprocess.run(
        [_amtool(), "check-config", "alertmanager.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert "1 templates" in tool.stdout, tool.stdout + tool.stderr
    try:
        load_content(tmp_path)
        ours = True
    except InputError:
        ours = False
    assert ours == (tool.returncode == 0), tool.stdout + tool.stderr


@pytest.mark.tools
def test_amtool_takes_the_smtp_settings(tmp_path):
    _, _, uploads = smtp_run({"smarthost": "mail:587", "from": "am@example.com", "username": "am", "password": "pw"})
    for file, content in uploads.items():
        if file.startswith("/etc/alertmanager/"):
            (tmp_path / Path(file).name).write_text(content)
    result = subprocess.run(
        [_amtool(), "check-config", "alertmanager.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr
