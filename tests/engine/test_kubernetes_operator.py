"""The Kubernetes target on a real API server with the real Prometheus Operator (the Kubernetes engine tier).

A local control plane (offline/kubernetes/cluster.sh: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, kwok simulating one node, the operator's CRDs from its module) and the operator v0.85.0 as a
process, all built from Go modules by offline/kubernetes/build.sh. A `Prometheus` and an `Alertmanager`
resource select this stack's objects; the real Pulumi CLI and the pulumi-kubernetes plugin deploy a Kubernetes
stack of the project into the namespace.
What the operator then generates (the rule files it would mount into Prometheus, the Alertmanager configuration
it would hand to Alertmanager) passes promtool and amtool, and the Alertmanager configuration routes every row
of tests/routing_table.yaml's prod section but Observer's, the cluster stack's routing. The operator's
StatefulSets get their pods scheduled onto the simulated node, which reports them ready; no container runs, so
no Prometheus evaluates these rules (docs/kubernetes.md, "Proven on a real API server").
"""

from __future__ import annotations

import base64
import gzip
import json
import subprocess

import pytest
import yaml
from conftest import TEST_SECRETS
from engine_stack import ROOT, new_stack, project_copy
from kubernetes_cluster import api, get, start_cluster, start_operator, stop_cluster
from polling import wait_for
from routing import route_test, routing_rows

# The engine tier's, with a cluster of its own: `-m "not engine"` leaves it out as it does the others.
pytestmark = [pytest.mark.engine, pytest.mark.kubernetes]

NAMESPACE = "monitoring-e2e"
STACK = "k8s"
SELECTOR = {"release": "e2e"}
AMC_SELECTOR = {"alertmanagerConfig": "e2e"}
# Pulumi.cluster.yaml, pointed at this cluster: prod's systems and routing (tests/routing_table.yaml, prod).
SHIPPED = "cluster"
PREFIX = "monitoring-cluster"
MANAGED = "app.kubernetes.io/managed-by=pulumi"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    kubeconfig = start_cluster()
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    operator = None
    try:
        api("POST", "/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
        operator = start_operator(kubeconfig, NAMESPACE, log)
        monitoring = f"/apis/monitoring.coreos.com/v1/namespaces/{NAMESPACE}"
        api(
            "POST",
            f"{monitoring}/prometheuses",
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "Prometheus",
                "metadata": {"name": "e2e"},
                "spec": {
                    "replicas": 1,
                    "ruleSelector": {"matchLabels": SELECTOR},
                    "serviceMonitorSelector": {"matchLabels": SELECTOR},
                    "podMonitorSelector": {"matchLabels": SELECTOR},
                },
            },
        )
        api(
            "POST",
            f"{monitoring}/alertmanagers",
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "Alertmanager",
                "metadata": {"name": "e2e"},
                "spec": {
                    "replicas": 1,
                    "alertmanagerConfigSelector": {"matchLabels": AMC_SELECTOR},
                    # The routing table's alerts carry no namespace label: no namespace matcher
                    # (docs/kubernetes.md, "Pointing it at kube-prometheus-stack").
                    "alertmanagerConfigMatcherStrategy": {"type": "None"},
                },
            },
        )
        yield kubeconfig, log
    finally:
        if operator:
            operator.terminate()
            operator.wait(30)
        print(f"--- operator log (tail)\n{log.read_text()[-4000:] if log.exists() else ''}")
        stop_cluster()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, cluster):
    kubeconfig, _ = cluster
    workdir = project_copy(tmp_path_factory.mktemp("project"))
    config = yaml.safe_load((ROOT / f"Pulumi.{SHIPPED}.yaml").read_text())["config"]
    config["monitoring:kubernetes"].update(
        context="monitoring-local",
        namespace=NAMESPACE,
        ruleLabels=SELECTOR,
        monitorLabels=SELECTOR,
        alertmanagerConfigLabels=AMC_SELECTOR,
    )
    (workdir / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    stack = new_stack(workdir, STACK, tmp_path_factory.mktemp("state"))
    stack.set_test_values(SHIPPED)
    stack.env["KUBECONFIG"] = str(kubeconfig)
    try:
        yield stack
    finally:
        stack.pulumi("destroy", "--yes", "--skip-preview", check=False)


def managed(kind: str) -> list[dict]:
    """This stack's objects of a kind (plural resource path) in the namespace."""
    group = (
        "api/v1"
        if kind in ("configmaps", "secrets")
        else "apis/monitoring.coreos.com/" + ("v1alpha1" if kind == "alertmanagerconfigs" else "v1")
    )
    return api("GET", f"/{group}/namespaces/{NAMESPACE}/{kind}?labelSelector={MANAGED}")["items"]


def generated_rule_files() -> dict[str, str]:
    """The rule files the operator generated for the Prometheus: file name -> text."""
    files = {}
    for index in range(10):
        found = get(f"/api/v1/namespaces/{NAMESPACE}/configmaps/prometheus-e2e-rulefiles-{index}")
        if not found:
            break
        files.update(found.get("data") or {})
    return files


def generated_alertmanager_config() -> str | None:
    found = get(f"/api/v1/namespaces/{NAMESPACE}/secrets/alertmanager-e2e-generated")
    if not found or "alertmanager.yaml.gz" not in (found.get("data") or {}):
        return None
    return gzip.decompress(base64.b64decode(found["data"]["alertmanager.yaml.gz"])).decode()


def test_preview_lists_the_operators_objects(stack):
    steps = stack.preview_steps()
    kinds = sorted({s["newState"]["type"] for s in steps if s["op"] == "create"})
    assert "kubernetes:monitoring.coreos.com/v1:PrometheusRule" in kinds
    assert "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig" in kinds
    assert not [k for k in kinds if k.startswith("docker:")]


def test_up_creates_them_and_the_operator_generates_rules_promtool_accepts(stack, tmp_path):
    stack.up()
    rules = managed("prometheusrules")
    assert sorted(r["metadata"]["name"] for r in rules) == [
        f"{PREFIX}-kerp",
        f"{PREFIX}-mindhit",
        f"{PREFIX}-slo-kerp",
        f"{PREFIX}-slo-mindhit",
    ]
    assert all(r["metadata"]["labels"]["release"] == "e2e" for r in rules)
    expected = {f"{NAMESPACE}-{r['metadata']['name']}-{r['metadata']['uid']}.yaml" for r in rules}
    files = wait_for(lambda: (f := generated_rule_files()) and set(f) >= expected and f, 120, "the rule files")
    for name in expected:
        (tmp_path / name).write_text(files[name])
    check = subprocess.run(
        ["promtool", "check", "rules", *sorted(str(tmp_path / n) for n in expected)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    print(f"\nthe operator's rule files: {len(expected)}, promtool: {check.stdout.strip().splitlines()[-1]}")


def test_the_generated_alertmanager_config_passes_amtool_and_routes_the_table(stack, tmp_path):
    config_text = wait_for(
        lambda: (c := generated_alertmanager_config()) and f"{NAMESPACE}/" in c and c, 120, "the generated config"
    )
    path = tmp_path / "alertmanager.yaml"
    path.write_text(config_text)
    check = subprocess.run(["amtool", "check-config", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # The operator names each receiver <namespace>/<AlertmanagerConfig>/<receiver>.
    prefix = f"{NAMESPACE}/{managed('alertmanagerconfigs')[0]['metadata']['name']}/"
    failures = []
    for stack_name, labels, receivers in routing_rows():
        if stack_name != "prod" or labels.get("system") == "observer":  # the cluster runs no Observer
            continue
        result = route_test(path, labels, [prefix + r for r in receivers])
        if result.returncode != 0:
            failures.append(f"{labels} -> {receivers}: {result.stdout.strip()}")
    assert failures == [], "\n".join(failures)
    # The URLs came from the Secret the AlertmanagerConfig references, not from the object.
    webhook = yaml.safe_load(config_text)["receivers"]
    urls = [c["url"] for r in webhook for c in r.get("webhook_configs", [])]
    assert TEST_SECRETS[SHIPPED]["alerting.receivers[4].webhooks[0].url"] in urls


def test_the_operators_prometheus_and_alertmanager_become_available_on_the_simulated_node(stack):
    """The operator's whole reconcile: its StatefulSets, their pods bound by the scheduler to the kwok node and
    reported ready there, and the resources' Available condition."""
    for kind in ("prometheuses", "alertmanagers"):

        def available(kind=kind):
            found = get(f"/apis/monitoring.coreos.com/v1/namespaces/{NAMESPACE}/{kind}/e2e") or {}
            conditions = (found.get("status") or {}).get("conditions") or []
            return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)

        wait_for(available, 180, f"the {kind} to be Available")
    pods = api("GET", f"/api/v1/namespaces/{NAMESPACE}/pods")["items"]
    assert {p["metadata"]["name"] for p in pods} >= {"prometheus-e2e-0", "alertmanager-e2e-0"}
    assert {p["spec"].get("nodeName") for p in pods} == {"kwok-node-0"}


def test_a_second_up_changes_nothing(stack):
    stack.pulumi("up", "--yes", "--expect-no-changes")


def test_editing_a_rule_file_changes_exactly_one_prometheus_rule(stack):
    path = stack.workdir / "rules/mindhit.yml"
    path.write_text(path.read_text().replace("> 100\n", "> 200\n"))
    steps = stack.preview_steps()
    changed = sorted((s["op"], s["urn"].split("::")[-1]) for s in steps if s["op"] not in ("same", "refresh"))
    assert changed == [("update", f"monitoring-prometheusrule-{PREFIX}-mindhit")], changed
    stack.up()
    mindhit = get(f"/apis/monitoring.coreos.com/v1/namespaces/{NAMESPACE}/prometheusrules/{PREFIX}-mindhit")
    assert "> 200" in json.dumps(mindhit["spec"])


def test_destroy_leaves_nothing_behind(stack):
    stack.pulumi("destroy", "--yes", "--skip-preview")
    for kind in ("prometheusrules", "servicemonitors", "podmonitors", "alertmanagerconfigs", "configmaps", "secrets"):
        assert managed(kind) == [], kind
    # And the operator takes our rules out of what it generates.
    wait_for(lambda: not any(f"{PREFIX}-" in name for name in generated_rule_files()), 60, "no rule files")
