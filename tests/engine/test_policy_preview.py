"""The policy pack run for real: `pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json`.

The CLI starts the pack through the Python language host (offline/toolchain/build.sh patches the fallback host for
it) in policy/.venv, and runs it on what the program registers: every stack as shipped passes its own config; a
stack file or a program change that breaks a policy fails preview with the policy's message and the resource's name.
`grafanaContent: false`: there is no Grafana provider plugin here (docs/building-without-registries.md, "Never built
or downloaded"); the program tier (tests/program/test_policy.py) covers its resources.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import TEST_SECRETS
from engine_stack import ROOT, Stack, new_stack, project_copy

from stacks.versions import IMAGES

pytestmark = pytest.mark.engine


def policy_stack(tmp_path: Path, name: str, **config) -> Stack:
    """A project copy with the policy pack, its stack `name` with its test secrets, Grafana content off."""
    project = project_copy(tmp_path / "project")
    shutil.copytree(
        ROOT / "policy", project / "policy", dirs_exist_ok=True, ignore=shutil.ignore_patterns(".venv", "__pycache__")
    )
    stack = new_stack(project, name, tmp_path / "state")
    stack.edit_config(
        lambda values: values.update(
            {"monitoring:grafanaContent": False, **{f"monitoring:{k}": v for k, v in config.items()}}
        )
    )
    stack.set_test_values(name)
    return stack


def preview(stack: Stack, config_file: str | None = None) -> tuple[int, str]:
    config_file = config_file or f"policy/config/{stack.name}.json"
    result = stack.pulumi(
        "preview", "--policy-pack", "policy", "--policy-pack-config", config_file, check=False, timeout=300
    )
    return result.returncode, result.stdout + result.stderr


def violation(level: str, policy: str, resource_type: str, name: str) -> str:
    """How the CLI lists one violation: level, policy and the resource it is about."""
    return f"[{level}]  {policy}  ({resource_type}: {name})"


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_staging_and_prod_as_shipped_pass_their_mandatory_policies(tmp_path, name):
    code, output = preview(policy_stack(tmp_path, name))
    assert code == 0, output
    assert "monitoring-policies@v0.1.0" in output and "[mandatory]" not in output and "[advisory]" not in output


def test_dev_passes_with_its_advisories(tmp_path):
    code, output = preview(policy_stack(tmp_path, "dev"))
    assert code == 0, output
    # dev keeps the seed's admin/admin: reported, not enforced.
    assert (
        violation("advisory", "grafana-admin-password", "docker:index:Container", "monitoring-grafana-container")
        in output
    )
    assert "GF_SECURITY_ADMIN_PASSWORD is a known default" in output
    assert "[mandatory]" not in output


def test_a_staging_stack_binding_all_interfaces_fails_with_the_message_and_resource(tmp_path):
    code, output = preview(policy_stack(tmp_path, "staging", bindAddress="0.0.0.0"))
    assert code != 0
    assert (
        violation("mandatory", "ports-bind-loopback", "docker:index:Container", "monitoring-grafana-container")
        in output
    )
    assert "port 13010 (container port 3000) is published on 0.0.0.0, not on loopback" in output


def test_a_stack_allows_another_bind_address_in_its_policy_config(tmp_path):
    stack = policy_stack(tmp_path, "staging", bindAddress="0.0.0.0")
    config = json.loads((ROOT / "policy" / "config" / "staging.json").read_text())
    config["ports-bind-loopback"] = {"allowedBindAddresses": ["0.0.0.0"]}
    (stack.workdir / "policy" / "config" / "staging.json").write_text(json.dumps(config))
    code, output = preview(stack)
    assert code == 0, output
    assert "ports-bind-loopback" not in output


def test_a_latest_image_fails_staging_naming_the_container(tmp_path):
    stack = policy_stack(tmp_path, "staging")
    versions = stack.workdir / "stacks" / "versions.py"
    pinned = f'"prometheus": "{IMAGES["prometheus"]}"'
    assert pinned in versions.read_text()
    versions.write_text(versions.read_text().replace(pinned, '"prometheus": "prom/prometheus:latest"'))
    code, output = preview(stack)
    assert code != 0
    assert (
        violation("mandatory", "images-pinned", "docker:index:Container", "monitoring-prometheus-container") in output
    )
    assert "image 'prom/prometheus:latest' uses the tag 'latest'" in output


def test_prod_without_retained_volumes_fails_naming_each_volume(tmp_path):
    code, output = preview(policy_stack(tmp_path, "prod", protectVolumes=False))
    assert code != 0
    for service in ("prometheus", "alertmanager", "loki", "promtail", "grafana"):
        assert (
            violation("mandatory", "data-volumes-retained", "docker:index:Volume", f"monitoring-{service}-data")
            in output
        )
    assert "data volume monitoring-prod-grafana-data is not retained" in output


def test_a_renderer_that_stops_declaring_the_admin_password_secret_still_sends_it_as_one(tmp_path):
    """No policy can see secretness (pulumi/pulumi-policy#241), so the program decides it: Grafana's environment
    holds GF_SECURITY_ADMIN_PASSWORD, a credential (stacks/render/credentials.py), and the engine plans it masked."""
    stack = policy_stack(tmp_path, "staging")
    renderer = stack.workdir / "stacks" / "render" / "grafana.py"
    wrapped = "return service_spec(GRAFANA, settings, envs=grafana_environment(settings), secret=True)"
    assert wrapped in renderer.read_text()
    renderer.write_text(renderer.read_text().replace(wrapped, wrapped.replace("secret=True", "secret=False")))
    steps = {step["urn"].rsplit("::", 1)[1]: step for step in stack.preview_steps()}
    assert steps["monitoring-grafana-container"]["newState"]["inputs"]["envs"] == "[secret]"
    prometheus_upload = steps["monitoring-prometheus-container"]["newState"]["inputs"]["uploads"][0]
    assert prometheus_upload["content"].startswith("global:")  # plain configuration stays readable
    assert TEST_SECRETS["staging"]["grafanaAdminPassword"] not in json.dumps(steps)
