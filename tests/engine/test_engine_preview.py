"""The real Pulumi CLI and language host run the program: bad input stops `pulumi preview` with our message.

This tier needs only the CLI built by offline/toolchain/build.sh --cli-only (the provider plugins cannot be built
here yet, see docs/building-without-registries.md, "Never built or downloaded"), so it checks everything that
happens before a provider is asked for anything: the engine's own config schema checks, config decoding (objects,
--path, secrets), our validation, and that a valid stack gets as far as registering its resources.
"""

from __future__ import annotations

import json

import pytest
from engine_stack import Stack, new_stack, project_copy

pytestmark = pytest.mark.engine


@pytest.fixture
def project(tmp_path):
    return project_copy(tmp_path / "project")


def stack_for(project, tmp_path, name: str = "dev") -> Stack:
    return new_stack(project, name, tmp_path / "state")


def preview_output(stack: Stack) -> tuple[int, str]:
    result = stack.pulumi("preview", check=False, timeout=300)
    return result.returncode, result.stdout + result.stderr


def test_valid_dev_stack_passes_validation_and_registers_resources(project, tmp_path):
    stack = stack_for(project, tmp_path)
    _, output = preview_output(stack)
    assert "invalid stack configuration or content" not in output
    assert "pulumi:providers:docker" in output and "monitoring-docker" in output


def test_two_services_on_one_port_set_with_path(project, tmp_path):
    stack = stack_for(project, tmp_path)
    stack.set_config("ports.grafana", "9091", path=True)
    code, output = preview_output(stack)
    assert code != 0
    assert "- ports.grafana: host port 9091 is already used by ports.prometheus" in output
    assert "Traceback" not in output


def test_a_secret_webhook_url_that_is_not_http_is_named_but_not_shown(project, tmp_path):
    stack = stack_for(project, tmp_path)
    stack.set_config("alerting.receivers[0].webhooks[0].url", "ftp://hooks.test/token-1234", secret=True, path=True)
    code, output = preview_output(stack)
    assert code != 0
    assert "- alerting.receivers[0].webhooks[0].url: must be an http:// or https:// URL" in output
    assert "token-1234" not in output


def test_staging_without_its_secrets_names_every_missing_one(project, tmp_path):
    stack = stack_for(project, tmp_path, "staging")
    code, output = preview_output(stack)
    assert code != 0
    assert "- grafanaAdminPassword: is required in staging" in output
    assert "- alerting.receivers[0].slack[0].url: missing secret" in output
    assert "- alerting.receivers[2].webhooks[0].url: missing secret" in output


def test_the_engine_checks_types_against_the_pulumi_yaml_schema(project, tmp_path):
    stack = stack_for(project, tmp_path)
    stack.set_config("protectVolumes", "sometimes")
    code, output = preview_output(stack)
    assert code != 0
    assert "configuration key 'protectVolumes' must be of type 'boolean'" in output


def test_a_malformed_dashboard_stops_up_before_anything_is_created(project, tmp_path):
    stack = stack_for(project, tmp_path)
    (project / "dashboards/MindHit/broken.json").write_text('{"title": "x",\n "panels": [}\n')
    result = stack.pulumi("up", "--yes", "--skip-preview", check=False, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "- dashboards/MindHit/broken.json:2:13: malformed JSON" in output
    resources = json.loads(stack.state())["deployment"].get("resources") or []
    assert {r["type"] for r in resources} <= {"pulumi:pulumi:Stack"}
