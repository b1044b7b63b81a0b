"""The policy pack (policy/): every policy passes one resource and fails another.

Resources go to the real pack process over the Analyzer protocol (tests/support/policy_harness.py), as the engine
sends them during a preview: inputs, with Pulumi secrets wrapped. The pack's virtualenv
(policy/.venv) is built by offline/toolchain/build.sh. The engine itself runs the pack in
tests/engine/test_policy_preview.py.
"""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest
from conftest import KUBERNETES_STACKS, STACKS, configured_stack
from mockstack import run_program
from policy_harness import PolicyPackProcess, StackResource, secret, urn_of
from repo import GOLDEN, ROOT

from policy.policies import POLICIES
from policy.policies.retention_bounds import duration_seconds

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
MANDATORY = {"all": "mandatory"}


def stack_policy_config(stack: str) -> dict:
    return json.loads((ROOT / "policy" / "config" / f"{stack}.json").read_text())


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as process:
        yield process


@pytest.fixture
def violations(pack):
    """violations(policy, type, props, config) -> that policy's messages (without its description line)."""

    def run(policy: str, type_: str, props: dict, config: dict = MANDATORY, name: str = "resource") -> list[str]:
        pack.configure(config)
        found = pack.analyze(type_, name, props)
        assert all(v.urn == urn_of(type_, name) for v in found)
        return [v.message.split("\n", 1)[1] for v in found if v.policy == policy]

    return run


def container(**props) -> dict:
    """A container as the program declares it: pinned image, loopback port."""
    base = {"image": "prom/alertmanager:v0.31.1", "ports": [{"ip": "127.0.0.1", "external": 19093, "internal": 9093}]}
    return {**base, **props}


def grafana(envs: list[str] | None = None) -> dict:
    """Grafana's container as the program sends it: its environment a secret (stacks/render/credentials.py)."""
    envs = envs if envs is not None else (GOLDEN / "staging" / "grafana.env").read_text().splitlines()
    return container(image="grafana/grafana:10.0.0-preview-81d85ce8028d", envs=secret(envs))


def with_env(name: str, value: str | None) -> list[str]:
    """The staging Grafana environment with one variable changed (None: removed)."""
    envs = [e for e in (GOLDEN / "staging" / "grafana.env").read_text().splitlines() if not e.startswith(name + "=")]
    return envs + ([f"{name}={value}"] if value is not None else [])


# --- the pack itself ----------------------------------------------------------------------------------


def test_the_registry_holds_each_policy_modules_policy_exactly_once():
    """policy/policies/: each module but the _private ones declares one POLICY named after it, and
    policies.POLICIES lists each of those once and nothing else."""
    names = sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "policy" / "policies")]) if m.name[0] != "_")
    declared = [importlib.import_module(f"policy.policies.{name}").POLICY for name in names]
    assert [spec.name for spec in declared] == [name.replace("_", "-") for name in names]
    registered = [spec.name for spec in POLICIES]
    assert len(registered) == len(set(registered)), registered
    assert sorted(registered) == [spec.name for spec in declared]
    assert sorted(POLICIES, key=lambda spec: spec.name) == declared  # the modules' own specs, not copies


def test_the_pack_serves_every_policy_mandatory_by_default(pack):
    assert pack.info.name == "monitoring-policies"
    assert sorted(pack.policies) == sorted(spec.name for spec in POLICIES)
    pack.configure({})
    assert {v.level for v in pack.analyze(CONTAINER, "c", container(image="grafana/grafana"))} == {"mandatory"}


@pytest.mark.parametrize("stack, level", [("dev", "advisory"), ("staging", "mandatory"), ("prod", "mandatory")])
def test_each_stack_config_sets_the_enforcement_level(pack, stack, level):
    pack.configure(stack_policy_config(stack))
    found = pack.analyze(CONTAINER, "c", container(image="prom/alertmanager:latest"))
    assert [(v.policy, v.level) for v in found] == [("images-pinned", level)]


# --- images-pinned --------------------------------------------------------------------------------------


@pytest.mark.parametrize("image", ["prom/prometheus:v3.14.0", "registry.test:5000/grafana/loki@sha256:0123abcd"])
def test_images_pinned_passes_a_version_tag_or_digest(violations, image):
    assert violations("images-pinned", CONTAINER, container(image=image)) == []


@pytest.mark.parametrize(
    "image, problem",
    [
        ("grafana/grafana:latest", "uses the tag 'latest'"),
        ("registry.test:5000/prom/prometheus", "has no tag, so Docker uses 'latest'"),
    ],
)
def test_images_pinned_fails_latest_or_no_tag(violations, image, problem):
    assert violations("images-pinned", CONTAINER, container(image=image)) == [
        f"image '{image}' {problem}: pin a version tag or a digest (e.g. grafana/grafana:10.4.2) in stacks/versions.py."
    ]


# --- grafana-admin-password -----------------------------------------------------------------------------


def test_grafana_admin_password_passes_a_secret_non_default_password(violations):
    assert violations("grafana-admin-password", CONTAINER, grafana()) == []


@pytest.mark.parametrize("password", ["admin", "Password", ""])
def test_grafana_admin_password_fails_a_known_default(violations, password):
    (message,) = violations(
        "grafana-admin-password", CONTAINER, grafana(with_env("GF_SECURITY_ADMIN_PASSWORD", password))
    )
    assert message.startswith("GF_SECURITY_ADMIN_PASSWORD is a known default")
    assert "pulumi config set --secret grafanaAdminPassword" in message


def test_grafana_admin_password_fails_when_unset(violations):
    (message,) = violations("grafana-admin-password", CONTAINER, grafana(with_env("GF_SECURITY_ADMIN_PASSWORD", None)))
    assert message.startswith("GF_SECURITY_ADMIN_PASSWORD is not set, so Grafana starts with admin/admin")


# --- ports-bind-loopback --------------------------------------------------------------------------------


def ports(*ips: str | None) -> dict:
    return container(
        ports=[{"external": 19000 + i, "internal": 9000, **({"ip": ip} if ip else {})} for i, ip in enumerate(ips)]
    )


def test_ports_bind_loopback_passes_loopback_addresses(violations):
    assert violations("ports-bind-loopback", CONTAINER, ports("127.0.0.1", "::1")) == []


def test_ports_bind_loopback_fails_all_interfaces_or_no_address(violations):
    assert violations("ports-bind-loopback", CONTAINER, ports("0.0.0.0", None)) == [
        f"port {port} (container port 9000) is published on 0.0.0.0, not on loopback: set bindAddress: 127.0.0.1 "
        "in Pulumi.<stack>.yaml, or allow 0.0.0.0 for this stack in policy/config/<stack>.json "
        '("ports-bind-loopback": {"allowedBindAddresses": ["0.0.0.0"]}).'
        for port in (19000, 19001)
    ]


def test_ports_bind_loopback_passes_what_the_stack_config_allows_and_only_that(violations):
    config = {"all": "mandatory", "ports-bind-loopback": {"allowedBindAddresses": ["10.0.0.5"]}}
    assert violations("ports-bind-loopback", CONTAINER, ports("10.0.0.5"), config) == []
    (message,) = violations("ports-bind-loopback", CONTAINER, ports("10.0.0.5", "10.0.0.6"), config)
    assert message.startswith("port 19001 (container port 9000) is published on 10.0.0.6, not on loopback")


def test_ports_bind_loopback_names_a_bad_allowance(violations):
    config = {"all": "mandatory", "ports-bind-loopback": {"allowedBindAddresses": ["public"]}}
    assert violations("ports-bind-loopback", CONTAINER, ports("127.0.0.1"), config) == [
        "allowedBindAddresses: 'public' is not an IP address: fix this stack's policy config."
    ]


# --- retention-bounds -----------------------------------------------------------------------------------


def prometheus(*flags: str) -> dict:
    return container(
        image="prom/prometheus:v3.14.0",
        command=["--config.file=/etc/prometheus/prometheus.yml", *flags, "--web.enable-lifecycle"],
    )


def loki(content: str) -> dict:
    return container(
        image="grafana/loki:3.7.8",
        command=["-config.file=/etc/loki/loki.yaml"],
        uploads=[{"file": "/etc/loki/loki.yaml", "content": content}],
    )


LOKI_YAML = (GOLDEN / "prod" / "loki.yaml").read_text()


def test_retention_bounds_passes_the_stacks_retention(violations):
    assert violations("retention-bounds", CONTAINER, prometheus("--storage.tsdb.retention.time=30d")) == []
    assert violations("retention-bounds", CONTAINER, loki(LOKI_YAML)) == []


def test_retention_bounds_fails_prometheus_retention_missing_or_out_of_bounds(violations):
    assert violations("retention-bounds", CONTAINER, prometheus()) == [
        "--storage.tsdb.retention.time is not set (Prometheus would keep 15d by default): "
        "set prometheus.retentionTime in Pulumi.<stack>.yaml."
    ]
    assert violations("retention-bounds", CONTAINER, prometheus("--storage.tsdb.retention.time=12h")) == [
        "--storage.tsdb.retention.time is 12h, outside 1d-400d: set prometheus.retentionTime in Pulumi.<stack>.yaml."
    ]


def test_retention_bounds_leaves_a_one_shot_check_of_the_prometheus_image_alone(violations):
    check = {**prometheus(), "entrypoints": ["/bin/promtool"], "command": ["check", "config", "/x.yml"]}
    assert violations("retention-bounds", CONTAINER, {**check, "attach": True, "mustRun": False}) == []
    assert violations("retention-bounds", CONTAINER, check) != []  # the same container as a server is checked


def test_retention_bounds_fails_loki_retention_too_long_or_not_enforced(violations):
    assert "retention_period: 30d" in LOKI_YAML and "retention_enabled: true" in LOKI_YAML
    assert violations(
        "retention-bounds", CONTAINER, loki(LOKI_YAML.replace("retention_period: 30d", "retention_period: 500d"))
    ) == [
        "/etc/loki/loki.yaml: limits_config.retention_period is 500d, outside 1d-400d: "
        "set loki.retentionPeriod in Pulumi.<stack>.yaml."
    ]
    assert violations(
        "retention-bounds", CONTAINER, loki(LOKI_YAML.replace("retention_enabled: true", "retention_enabled: false"))
    ) == [
        "/etc/loki/loki.yaml: compactor.retention_enabled is not true, so retention_period is never applied: "
        "enable it in stacks/render/loki.py."
    ]


def test_retention_bounds_takes_its_bounds_from_the_policy_config(violations):
    config = {"all": "mandatory", "retention-bounds": {"maxDays": 730}}
    assert violations("retention-bounds", CONTAINER, prometheus("--storage.tsdb.retention.time=2y"), config) == []
    assert violations("retention-bounds", CONTAINER, prometheus("--storage.tsdb.retention.time=3y"), config) == [
        "--storage.tsdb.retention.time is 3y, outside 1d-730d: set prometheus.retentionTime in Pulumi.<stack>.yaml."
    ]


# --- grafana-no-anonymous-or-signup ---------------------------------------------------------------------


def test_grafana_no_anonymous_or_signup_passes_the_program_environment(violations):
    assert violations("grafana-no-anonymous-or-signup", CONTAINER, grafana()) == []


def test_grafana_no_anonymous_or_signup_fails_anonymous_on_or_sign_up_unset(violations):
    assert violations(
        "grafana-no-anonymous-or-signup", CONTAINER, grafana(with_env("GF_AUTH_ANONYMOUS_ENABLED", "true"))
    ) == [
        "GF_AUTH_ANONYMOUS_ENABLED is 'true': set it to false (stacks/render/grafana.py); "
        "anonymous users could read every dashboard."
    ]
    (message,) = violations(
        "grafana-no-anonymous-or-signup", CONTAINER, grafana(with_env("GF_USERS_ALLOW_SIGN_UP", None))
    )
    assert message.startswith("GF_USERS_ALLOW_SIGN_UP is not set: set it to false explicitly")


# --- data-volumes-retained (a stack policy) -------------------------------------------------------------


def service_with_volume(retained: bool | None) -> list[StackResource]:
    outputs = {"url": "http://127.0.0.1:29093"} | ({"dataVolumeRetained": retained} if retained is not None else {})
    component = StackResource("monitoring:index:Alertmanager", "monitoring-alertmanager", outputs)
    volume = StackResource(
        VOLUME, "monitoring-alertmanager-data", {"name": "monitoring-prod-alertmanager-data"}, parent=component.urn
    )
    return [component, volume]


def stack_violations(pack, resources, config) -> list[tuple[str, str, str]]:
    pack.configure(config)
    return [(v.policy, v.urn, v.message.split("\n", 1)[1]) for v in pack.analyze_stack(resources)]


def test_data_volumes_retained_passes_a_volume_its_component_retains(pack):
    assert stack_violations(pack, service_with_volume(True), stack_policy_config("prod")) == []


def test_data_volumes_retained_fails_in_prod_a_volume_not_retained(pack):
    resources = service_with_volume(False)
    assert stack_violations(pack, resources, stack_policy_config("prod")) == [
        (
            "data-volumes-retained",
            resources[1].urn,
            "data volume monitoring-prod-alertmanager-data is not retained: `pulumi destroy` or a replacement would "
            "delete its data; set protectVolumes: true in Pulumi.<stack>.yaml.",
        )
    ]
    (found,) = stack_violations(pack, service_with_volume(None), stack_policy_config("prod"))
    assert found[2].startswith("data volume monitoring-prod-alertmanager-data does not say whether it is retained")


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_data_volumes_retained_is_required_in_prod_only(pack, stack):
    assert stack_violations(pack, service_with_volume(False), stack_policy_config(stack)) == []


# --- the program's own resources ------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_the_program_declares_passes_its_stacks_policies(pack, stack):
    """The whole program under mocks (with Grafana's content, which the engine tier cannot preview here)."""
    config, secret_keys = configured_stack(stack)
    registrations = run_program(stack, config, secret_keys).recorder.registrations
    assert {"grafana:alerting/contactPoint:ContactPoint", "pulumi:providers:grafana"} <= {r.type for r in registrations}
    pack.configure(stack_policy_config(stack))
    found = {(v.policy, v.level, r.name) for r in registrations for v in pack.analyze(r.type, r.name, r.inputs)}
    # dev keeps the seed's admin/admin (README, "What to open"): an advisory, and the only finding anywhere.
    expected = {("grafana-admin-password", "advisory", "monitoring-grafana-container")} if stack == "dev" else set()
    assert found == expected


# --- pure helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("15d", 15 * 86400),
        ("1d12h", 36 * 3600),
        ("720h", 30 * 86400),
        ("1y", 365 * 86400),
        ("90s", 90),
        ("15", None),
        ("d", None),
        ("", None),
    ],
)
def test_duration_seconds(text, seconds):
    assert duration_seconds(text) == seconds


# --- the Kubernetes target's objects ---------------------------------------------------------------------

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
SELECTED = {**MANDATORY, "operator-objects-selected": {"labels": {"PrometheusRule": {"release": "kps"}}}}


def rule(labels: dict) -> dict:
    return {"metadata": {"name": "monitoring-prod-kerp", "labels": labels}, "spec": {"groups": []}}


def test_operator_objects_selected_passes_a_rule_with_the_selectors_labels(violations):
    labels = {"app.kubernetes.io/managed-by": "pulumi", "release": "kps"}
    assert violations("operator-objects-selected", RULE, rule(labels), SELECTED) == []


def test_operator_objects_selected_fails_a_rule_the_operator_would_ignore(violations):
    (missing,) = violations("operator-objects-selected", RULE, rule({"release": "other"}), SELECTED)
    assert missing.startswith("PrometheusRule monitoring-prod-kerp lacks release=kps, which the operator's selector")
    (bare,) = violations("operator-objects-selected", RULE, rule({"app.kubernetes.io/managed-by": "pulumi"}))
    assert bare.startswith("PrometheusRule monitoring-prod-kerp carries no label an operator's selector could match")


def test_no_secrets_in_configmaps_passes_a_dashboard(violations):
    model = (ROOT / "dashboards/MindHit/api-overview.json").read_text()
    props = {"metadata": {"name": "monitoring-prod-dashboard-mindhit-api-overview"}, "data": {"x.json": model}}
    assert violations("no-secrets-in-configmaps", CONFIGMAP, props) == []


@pytest.mark.parametrize(
    "text",
    [
        "url: https://hooks.slack.com/services/T000/B000/XXXX",
        '{"url": "https://alert:Sup3rSecret@hooks.example.com/x"}',
        '{"password": "hunter2-but-longer"}',
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
    ],
)
def test_no_secrets_in_configmaps_fails_a_credential_without_showing_it(violations, text):
    props = {"metadata": {"name": "routes"}, "data": {"alertmanager.yaml": text}}
    (found,) = violations("no-secrets-in-configmaps", CONFIGMAP, props)
    assert found.startswith("ConfigMap routes: data.alertmanager.yaml holds what looks like a credential")
    assert "Sup3rSecret" not in found and "hunter2" not in found


def test_a_kubernetes_stacks_objects_pass_the_policies(pack):
    """dev's content and routing as a Kubernetes stack, under mocks, against prod's policy config with the
    operator's labels required."""
    config, secret_keys = configured_stack("dev")
    del config["monitoring:scrapeTargets"]
    config["monitoring:kubernetes"] = {
        "namespace": "monitoring",
        "ruleLabels": {"release": "kps"},
        "monitorLabels": {"release": "kps"},
        "alertmanagerConfigLabels": {"alertmanagerConfig": "monitoring"},
        "monitors": [{"job": "mindhit-api", "selector": {"app": "mindhit-api"}, "port": "http"}],
    }
    registrations = run_program("dev", config, secret_keys).recorder.registrations
    assert {RULE, CONFIGMAP} <= {r.type for r in registrations}
    required = {kind: {"release": "kps"} for kind in ("PrometheusRule", "ServiceMonitor", "PodMonitor")}
    required["AlertmanagerConfig"] = {"alertmanagerConfig": "monitoring"}
    pack.configure({**stack_policy_config("prod"), "operator-objects-selected": {"labels": required}})
    found = {(v.policy, r.name) for r in registrations for v in pack.analyze(r.type, r.name, r.inputs)}
    assert found == set()


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_every_object_a_kubernetes_stack_declares_passes_its_stacks_policies(pack, stack):
    config, secret_keys = configured_stack(stack)
    registrations = run_program(stack, config, secret_keys).recorder.registrations
    pack.configure(stack_policy_config(stack))
    assert {(v.policy, r.name) for r in registrations for v in pack.analyze(r.type, r.name, r.inputs)} == set()
