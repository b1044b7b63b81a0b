"""The layout's redesign changes no resource: the dev stack deployed by the program as it was before the redesign
began (BEFORE_REDESIGN), with its host agents, previews with no changes once the program is the one of this tree,
on the same content and the same stack file, through the real Pulumi engine and docker plugin. Every resource is
compared: URNs (a moved component type or name is a delete and a create), inputs (images, ports, labels,
healthchecks, uploaded files) and outputs.
"""

from __future__ import annotations

import json
import shutil

import pytest
from engine_stack import ROOT, deployed_dev_stack
from repo import project_files

pytestmark = pytest.mark.engine

BEFORE_REDESIGN = "9806159"  # main before the first commit of the layout's redesign (docs/testing.md)
PROGRAM = ("__main__.py", "Pulumi.yaml", "stacks")  # the content, rules, systems and stack file stay the old ones
PREFIX = "monitoring-redesign"
PORTS = {"prometheus": 25591, "alertmanager": 25593}
AGENT_PORTS = {"node-exporter": 25600, "cadvisor": 25680}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, webhooks):
    yield from deployed_dev_stack(
        tmp_path_factory.mktemp("project"),
        tmp_path_factory.mktemp("state"),
        PREFIX,
        PORTS,
        lambda path: webhooks.url(path, host="host.docker.internal"),
        commit=BEFORE_REDESIGN,
        hosts=[{"name": "local", "ports": AGENT_PORTS}],
    )


def test_the_program_of_this_tree_previews_no_change_to_what_the_old_one_deployed(stack):
    stack.up()
    deployed = [resource["urn"] for resource in json.loads(stack.state())["deployment"]["resources"]]
    for name in PROGRAM:
        path = stack.workdir / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in project_files(*PROGRAM):
        target = stack.workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    assert (stack.workdir / "stacks/syntax").is_dir()  # the program is this tree's now
    preview = stack.pulumi("preview", "--expect-no-changes", "--diff", check=False)
    assert preview.returncode == 0, preview.stdout[-8000:] + preview.stderr[-2000:]
    # Not a vacuous comparison: the old program deployed the services, their agents and their files.
    types = {urn.split("::")[2].split("$")[-1] for urn in deployed}
    assert {"docker:index/container:Container", "docker:index/volume:Volume", "docker:index/network:Network"} <= types
    containers = [urn for urn in deployed if urn.split("::")[2].endswith("docker:index/container:Container")]
    assert len(containers) >= 4, deployed  # Prometheus, Alertmanager, node-exporter, cAdvisor and the checks
