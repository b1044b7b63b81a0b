"""The whole program under Pulumi mocks, once per stack file: types, names, parents, inputs, secrets, dependencies."""

from __future__ import annotations

import dataclasses
import json
import re

import pulumi
import pytest
import yaml
from conftest import STACKS, TEST_SECRETS, configured_stack, fake_group
from mockstack import ProgramRun, Recorder, is_secret, mock_token, run_program, secret_on_path, shared_run, unwrap
from repo import ROOT

from stacks import outputs as contract
from stacks.config.load import load_settings
from stacks.content import load_content, select_systems, slug
from stacks.content.model import Content
from stacks.errors import InputError
from stacks.layout import APP_DISCOVERY_JOB, DOCKER_SOCKET, SERVICES
from stacks.versions import IMAGES

CONFIG_RELOAD = "pulumi-python:dynamic/monitoring:ConfigReload"
CONTAINER = "docker:index/container:Container"
INHIBITION_RULE = "grafana:alerting/v1beta1/notificationsInhibitionRule:NotificationsInhibitionRule"
VOLUME = "docker:index/volume:Volume"
COMPONENTS = {
    "prometheus": "monitoring:index:Prometheus",
    "alertmanager": "monitoring:index:Alertmanager",
    "loki": "monitoring:index:Loki",
    "promtail": "monitoring:index:Promtail",
    "grafana": "monitoring:index:Grafana",
}
HOST_PORTS = {
    "dev": {"prometheus": 9091, "alertmanager": 9093, "loki": 3100, "promtail": 9080, "grafana": 3010},
    "staging": {"prometheus": 19091, "alertmanager": 19093, "loki": 13100, "promtail": 19080, "grafana": 13010},
    "prod": {"prometheus": 29091, "alertmanager": 29093, "loki": 23100, "promtail": 29080, "grafana": 23010},
}


@shared_run
def deployed_content(stack: str) -> Content:
    """What the stack's `systems` setting selects from the repository's content."""
    config, secret_keys = configured_stack(stack)
    return select_systems(load_content(), load_settings(config, frozenset(secret_keys)).systems)


@shared_run
def program(stack: str) -> ProgramRun:
    config, secret_keys = configured_stack(stack)
    return run_program(stack, config, secret_keys)


@pytest.fixture(params=STACKS)
def stack(request) -> str:
    return request.param


def test_every_resource_type_and_name(stack):
    types = sorted((r.type, r.name) for r in program(stack).recorder.registrations)
    expected = [("monitoring:index:MonitoringStack", "monitoring"), ("pulumi:providers:docker", "monitoring-docker")]
    expected += [("docker:index/network:Network", "monitoring-network")]
    for service, type_ in COMPONENTS.items():
        expected += [
            (type_, f"monitoring-{service}"),
            (CONTAINER, f"monitoring-{service}-container"),
            (VOLUME, f"monitoring-{service}-data"),
        ]
    # The images' own checks of the files before a replace: promtool and amtool (Grafana, Loki and Promtail have none).
    expected += [(CONTAINER, "monitoring-prometheus-check"), (CONTAINER, "monitoring-alertmanager-check")]
    # Their new files delivered into the running servers, which reload them (Grafana, Loki and Promtail are replaced).
    expected += [(CONFIG_RELOAD, "monitoring-prometheus-config"), (CONFIG_RELOAD, "monitoring-alertmanager-config")]
    # The stack's own host (hosts left empty), its agents through a provider of its own.
    expected += [
        ("monitoring:index:HostAgents", "monitoring-host-local"),
        ("pulumi:providers:docker", "monitoring-host-local-docker"),
        (CONTAINER, "monitoring-host-local-node-exporter"),
        (CONTAINER, "monitoring-host-local-cadvisor"),
    ]
    # Prod watches K-ERP's datastores (seed 002's postgres and redis jobs): an exporter each.
    for job in ("kerp-postgres-exporter", "kerp-redis-exporter") if stack == "prod" else ():
        expected += [("monitoring:index:Exporter", f"monitoring-{job}"), (CONTAINER, f"monitoring-{job}-container")]
    content = "monitoring-grafana-content"
    expected += [("monitoring:index:GrafanaContent", content), ("pulumi:providers:grafana", f"{content}-provider")]
    expected += [("grafana:oss/dataSource:DataSource", f"{content}-datasource-{d}") for d in SERVICES_WITH_DATASOURCE]
    shipped = deployed_content(stack)
    expected += [("grafana:oss/folder:Folder", f"{content}-folder-{slug(f)}") for f in shipped.folders]
    # The applications' account edits each of the stack's folders.
    permission = "grafana:oss/folderPermissionItem:FolderPermissionItem"
    expected += [(permission, f"{content}-app-folder-permission-{slug(f)}") for f in shipped.folders]
    expected += [
        ("grafana:alerting/ruleGroup:RuleGroup", f"{content}-rule-group-{slug(g.folder)}-{slug(g.name)}")
        for g in shipped.grafana_rule_groups
    ]
    expected += [("grafana:oss/dashboard:Dashboard", f"{content}-dashboard-{d.uid}") for d in shipped.dashboards]
    receivers = {
        "dev": ["critical", "default", "kerp", "observer", "watchdog", "wealist"],
        "staging": ["default", "mindhit-critical", "observer", "watchdog"],
        "prod": ["kerp", "kerp-critical", "kerp-warning", "mindhit", "mindhit-critical", "observer"]
        + ["observer-critical", "platform", "platform-critical", "watchdog"],
    }[stack]
    expected += [("grafana:alerting/contactPoint:ContactPoint", f"{content}-contact-point-{r}") for r in receivers]
    expected += [("grafana:alerting/messageTemplate:MessageTemplate", f"{content}-message-template-slack")]
    expected += [("grafana:alerting/notificationPolicy:NotificationPolicy", f"{content}-notification-policy")]
    expected += [(INHIBITION_RULE, f"{content}-inhibition-rule-0")]  # every stack file has one inhibit rule
    expected += [
        ("grafana:oss/serviceAccount:ServiceAccount", f"{content}-app-service-account"),
        ("grafana:oss/serviceAccountToken:ServiceAccountToken", f"{content}-app-token"),
    ]
    assert types == sorted(expected)


SERVICES_WITH_DATASOURCE = ("prometheus", "loki", "alertmanager")


def test_children_are_parented_to_their_component(stack):
    rec = program(stack).recorder
    top = rec.one("monitoring:index:MonitoringStack", "monitoring")
    for service, type_ in COMPONENTS.items():
        component = rec.one(type_, f"monitoring-{service}")
        assert component.parent == top.urn
        assert rec.one(CONTAINER, f"monitoring-{service}-container").parent == component.urn
        assert rec.one(VOLUME, f"monitoring-{service}-data").parent == component.urn
    content = rec.one("monitoring:index:GrafanaContent", "monitoring-grafana-content")
    assert content.parent == top.urn
    grafana_resources = [r for r in rec.registrations if r.type.startswith(("grafana:", "pulumi:providers:grafana"))]
    assert grafana_resources and all(r.parent == content.urn for r in grafana_resources)


def test_docker_resources_use_the_stack_docker_provider(stack):
    rec = program(stack).recorder
    provider = rec.one("pulumi:providers:docker", "monitoring-docker")
    agents = [
        r for r in rec.registrations if r.type.startswith("docker:") and r.parent.endswith("::monitoring-host-local")
    ]
    docker_resources = [r for r in rec.registrations if r.type.startswith("docker:") and r not in agents]
    # network, five volumes, five containers, two check containers; prod: K-ERP's two exporters
    assert len(docker_resources) == (15 if stack == "prod" else 13)
    assert all(r.provider.startswith(provider.urn + "::") for r in docker_resources)
    # The own host's agents go through the host's provider, which talks to the same daemon.
    host_provider = rec.one("pulumi:providers:docker", "monitoring-host-local-docker")
    assert sorted(r.name for r in agents) == ["monitoring-host-local-cadvisor", "monitoring-host-local-node-exporter"]
    assert all(r.provider.startswith(host_provider.urn + "::") for r in agents)
    assert unwrap(host_provider.inputs).get("host") == unwrap(provider.inputs).get("host")


def test_containers_publish_pinned_images_on_loopback_with_healthchecks(stack):
    rec = program(stack).recorder
    network = rec.one("docker:index/network:Network", "monitoring-network")
    for layout in SERVICES:
        container = rec.one(CONTAINER, f"monitoring-{layout.name}-container")
        inputs = unwrap(container.inputs)
        assert inputs["name"] == f"monitoring-{stack}-{layout.name}"
        assert inputs["image"] == IMAGES[layout.name] and not inputs["image"].endswith(":latest")
        assert re.search(r":v?\d+\.\d+\.\d+(-[0-9a-z.-]+)?$", inputs["image"])  # a version, maybe a pre-release
        assert inputs["ports"] == [
            {"internal": layout.port, "external": HOST_PORTS[stack][layout.name], "ip": "127.0.0.1"}
        ]
        assert inputs["healthcheck"]["tests"] == [
            "CMD",
            "wget",
            "-q",
            "--spider",
            f"http://127.0.0.1:{layout.port}{layout.health_path}",
        ]
        # As the Docker provider reads them back (no perpetual diff), and nothing Docker 20.10 rejects.
        assert (inputs["healthcheck"]["interval"], inputs["healthcheck"]["startPeriod"]) == ("2s", "1m0s")
        assert "startInterval" not in inputs["healthcheck"]
        assert inputs["restart"] == "unless-stopped" and inputs["wait"] is True
        assert inputs["networksAdvanced"] == [{"name": f"monitoring-{stack}-network", "aliases": [layout.name]}]
        assert network.urn in container.dependencies
        assert {"volumeName": f"monitoring-{stack}-{layout.name}-data", "containerPath": layout.data_path} in inputs[
            "volumes"
        ]
        assert container.delete_before_replace


def test_uploaded_configuration_files(stack):
    rec = program(stack).recorder
    uploads = {
        service: {
            u["file"]: u["content"]
            for u in unwrap(rec.one(CONTAINER, f"monitoring-{service}-container").inputs)["uploads"] or []
        }
        for service in COMPONENTS
    }
    rule_files = {f"/etc/prometheus/rules/{f.name}" for f in deployed_content(stack).rule_files}
    assert {"/etc/prometheus/rules/mindhit.yml", "/etc/prometheus/rules/platform.yml"} <= rule_files
    assert set(uploads["prometheus"]) == {"/etc/prometheus/prometheus.yml", *rule_files}
    assert uploads["prometheus"]["/etc/prometheus/rules/mindhit.yml"] == (ROOT / "rules/mindhit.yml").read_text()
    prometheus_yml = yaml.safe_load(uploads["prometheus"]["/etc/prometheus/prometheus.yml"])
    # It lists each uploaded rule file by name, no glob: a file delivered once and since deleted is not read.
    assert prometheus_yml["rule_files"] == sorted(rule_files)
    jobs = {job["job_name"]: job for job in prometheus_yml["scrape_configs"]}
    # Every stack scrapes the jobs of the systems it deploys (prod: K-ERP's API beside MindHit's).
    # Prod also K-ERP's datastores, through their exporters.
    kerp = {"kerp-api", "kerp-postgres-exporter", "kerp-redis-exporter"}
    observer = "observer-collector"
    app_jobs = {"dev": {"mindhit-api"}, "staging": {"mindhit-api", observer}, "prod": {"mindhit-api", observer, *kerp}}[
        stack
    ]
    platform = {"prometheus", "alertmanager", "loki", "promtail", "grafana", "node-exporter", "cadvisor"}
    assert set(jobs) == {*platform, *app_jobs, APP_DISCOVERY_JOB}
    # Staging's and prod's own MindHit beside dev's on one host (their ports are dev's plus 10000 and 20000).
    mindhit = {"dev": "host.docker.internal:9000", "staging": "host.docker.internal:19000"}.get(
        stack, "host.docker.internal:29000"
    )
    assert jobs["mindhit-api"]["static_configs"][0]["targets"] == [mindhit]
    # The own host's agents, on the Docker host's gateway address, with its name.
    assert jobs["node-exporter"]["static_configs"] == [
        {"targets": ["host.docker.internal:9100"], "labels": {"host": "local"}}
    ]
    assert jobs["cadvisor"]["static_configs"] == [
        {"targets": ["host.docker.internal:9338"], "labels": {"host": "local"}}
    ]
    templates = {f"/etc/alertmanager/templates/{path.name}" for path in (ROOT / "templates").glob("*.tmpl")}
    assert templates and set(uploads["alertmanager"]) == {"/etc/alertmanager/alertmanager.yml", *templates}
    assert set(uploads["loki"]) == {"/etc/loki/loki.yaml"}
    assert set(uploads["promtail"]) == {"/etc/promtail/promtail.yaml"}
    assert uploads["grafana"] == {}
    prometheus = unwrap(rec.one(CONTAINER, "monitoring-prometheus-container").inputs)
    assert {"host": "host.docker.internal", "ip": "host-gateway"} in prometheus["hosts"]
    assert "--web.enable-lifecycle" in prometheus["command"]
    # dev and staging leave it out: their longest window, the 30-day SLOs; prod gives seed 002's 30d.
    assert "--storage.tsdb.retention.time=30d" in prometheus["command"]


def test_promtail_reads_the_docker_socket_read_only(stack):
    inputs = unwrap(program(stack).recorder.one(CONTAINER, "monitoring-promtail-container").inputs)
    assert {
        "hostPath": "/var/run/docker.sock",
        "containerPath": "/var/run/docker.sock",
        "readOnly": True,
    } in inputs["volumes"]


SOCKET_MOUNT = {"hostPath": DOCKER_SOCKET, "containerPath": DOCKER_SOCKET, "readOnly": True}


def test_prometheus_reads_the_docker_socket_read_only_in_the_socket_group(stack, monkeypatch):
    """App discovery: the socket, read-only, and its group (the local socket's by default); never root."""
    fake_group(monkeypatch, DOCKER_SOCKET, 4242)
    inputs = unwrap(
        run_program(stack, *configured_stack(stack)).recorder.one(CONTAINER, "monitoring-prometheus-container").inputs
    )
    assert SOCKET_MOUNT in inputs["volumes"]
    assert inputs["groupAdds"] == ["4242"]
    assert not inputs.get("privileged") and not inputs.get("user")  # the image's user: nobody
    jobs = yaml.safe_load(next(u["content"] for u in inputs["uploads"] if u["file"].endswith("prometheus.yml")))
    discovery = next(job for job in jobs["scrape_configs"] if job["job_name"] == APP_DISCOVERY_JOB)
    network_filter = discovery["docker_sd_configs"][0]["filters"][1]
    assert network_filter == {"name": "network", "values": [f"monitoring-{stack}-network"]}


def prometheus_inputs(**app_discovery) -> dict:
    config, secret_keys = configured_stack("dev")
    config["monitoring:appDiscovery"] = app_discovery
    recorder = run_program("dev", config, secret_keys).recorder
    return unwrap(recorder.one(CONTAINER, "monitoring-prometheus-container").inputs)


def test_a_configured_socket_group_is_used_as_it_is():
    assert prometheus_inputs(dockerSocketGroup="999")["groupAdds"] == ["999"]


def test_without_app_discovery_prometheus_has_no_socket_and_runs_as_the_image_user():
    inputs = prometheus_inputs(enabled=False)
    assert SOCKET_MOUNT not in (inputs.get("volumes") or []) and not inputs.get("groupAdds")
    config = yaml.safe_load(next(u["content"] for u in inputs["uploads"] if u["file"].endswith("prometheus.yml")))
    assert APP_DISCOVERY_JOB not in {job["job_name"] for job in config["scrape_configs"]}


def test_a_remote_docker_host_needs_the_socket_group_before_anything_is_registered():
    config, secret_keys = configured_stack("dev")
    config["monitoring:dockerHost"] = "ssh://deploy@metrics.example.com"
    recorder = Recorder()
    with pytest.raises(InputError, match=r"appDiscovery.dockerSocketGroup: is required when the Docker daemon is not"):
        run_program("dev", config, secret_keys, recorder)
    assert recorder.registrations == []
    config["monitoring:appDiscovery"] = {"dockerSocketGroup": "998"}
    run = run_program("dev", config, secret_keys)
    assert unwrap(run.recorder.one(CONTAINER, "monitoring-prometheus-container").inputs)["groupAdds"] == ["998"]


def test_outputs_follow_the_contract(stack):
    run = program(stack)
    exports = run.exports
    assert list(exports) == [*contract.REQUIRED_OUTPUTS, *contract.GRAFANA_CONTENT_OUTPUTS]
    assert exports["environment"] == stack
    network = unwrap(run.recorder.one("docker:index/network:Network", "monitoring-network").inputs)["name"]
    assert exports["network"] == network == f"monitoring-{stack}-network"
    assert exports["scrapeLabels"] == {
        "scrape": "monitoring.scrape",
        "port": "monitoring.port",
        "path": "monitoring.path",
        "job": "monitoring.job",
    }
    assert exports["grafana"] == {
        "url": f"http://127.0.0.1:{HOST_PORTS[stack]['grafana']}",
        "folderUids": {title: slug(title) for title in deployed_content(stack).folders},
        "datasourceUids": {"prometheus": "prometheus", "loki": "loki", "alertmanager": "alertmanager"},
    }
    assert exports["grafanaToken"] == mock_token("monitoring-grafana-content-app-token")
    assert run.secret_exports == {"grafanaToken"}


def test_applications_get_a_viewer_service_account_token(stack):
    """Edit on the stack's folders comes on top (tests/program/test_grafana_names.py)."""
    rec = program(stack).recorder
    account = rec.one("grafana:oss/serviceAccount:ServiceAccount", "monitoring-grafana-content-app-service-account")
    token = rec.one("grafana:oss/serviceAccountToken:ServiceAccountToken", "monitoring-grafana-content-app-token")
    assert unwrap(account.inputs) == {"name": "applications", "role": "Viewer"}
    assert unwrap(token.inputs) == {"name": "applications", "serviceAccountId": f"{account.name}-id"}
    assert account.urn in token.dependencies


def test_the_example_app_joins_the_network_with_the_scrape_labels_it_read_from_the_stack():
    """examples/app under mocks, its StackReference answered with the dev stack's exports."""
    recorder = Recorder(referenced_stacks={"organization/monitoring/dev": program("dev")})
    config = {"example-app:monitoringStack": "organization/monitoring/dev", "example-app:job": "orders"}
    app = run_program("dev", config, recorder=recorder, project_dir=ROOT / "examples/app", project="example-app")
    container = unwrap(recorder.one(CONTAINER, "app").inputs)
    assert container["networksAdvanced"] == [{"name": "monitoring-dev-network"}]
    assert container["labels"] == [
        {"label": "monitoring.job", "value": "orders"},
        {"label": "monitoring.port", "value": "9093"},
        {"label": "monitoring.scrape", "value": "true"},
    ]
    assert container["image"] == IMAGES["alertmanager"]
    assert app.exports == {
        "container": "example-app",
        "prometheusUrl": "http://127.0.0.1:9091",
        "grafanaUrl": "http://127.0.0.1:3010",
    }


def read_contract(referenced: ProgramRun) -> dict[str, tuple[object, bool]]:
    """Every MonitoringOutputs field read through a (mocked) StackReference: name -> (value, is secret)."""
    recorder = Recorder(referenced_stacks={"organization/monitoring/dev": referenced})
    pulumi.runtime.set_mocks(recorder, project="example-app", stack="dev", preview=False)
    seen = {}

    @pulumi.runtime.test
    def read():
        outputs = contract.MonitoringOutputs.from_stack_reference(pulumi.StackReference("organization/monitoring/dev"))

        async def resolve():
            for field in dataclasses.fields(outputs):
                output = getattr(outputs, field.name)
                seen[field.name] = (await output.future(), await output.is_secret())

        return resolve()

    read()
    return seen


def test_the_reader_reads_every_output_and_keeps_the_token_secret():
    exported = program("dev").exports
    seen = read_contract(program("dev"))
    assert seen == {
        "environment": ("dev", False),
        "urls": (exported["urls"], False),
        "network": ("monitoring-dev-network", False),
        "scrape_labels": (exported["scrapeLabels"], False),
        "grafana": (exported["grafana"], False),
        "grafana_token": (mock_token("monitoring-grafana-content-app-token"), True),
        "dashboard_urls": (exported["dashboardUrls"], False),
    }


# The failed read leaves the other outputs' coroutines unawaited; Pulumi's runtime says so, harmlessly.
@pytest.mark.filterwarnings("ignore:coroutine 'Output:RuntimeWarning")
def test_the_reader_names_a_missing_output():
    run = program("dev")
    without_network = ProgramRun(run.recorder, {k: v for k, v in run.exports.items() if k != "network"}, set())
    with pytest.raises(ValueError, match="the referenced stack has no output 'network': is it a monitoring stack"):
        read_contract(without_network)


def test_secrets_stay_secret(stack):
    rec = program(stack).recorder
    assert secret_on_path(rec.one(CONTAINER, "monitoring-alertmanager-container").inputs, "uploads", 0, "content")
    assert secret_on_path(rec.one(CONTAINER, "monitoring-grafana-container").inputs, "envs")
    assert secret_on_path(rec.one("pulumi:providers:grafana", "monitoring-grafana-content-provider").inputs, "auth")
    checked = 0
    for contact in rec.by_type("grafana:alerting/contactPoint:ContactPoint"):
        for kind, field in (("webhooks", "url"), ("slacks", "url"), ("pagerduties", "integrationKey")):
            for i in range(len(unwrap(contact.inputs.get(kind)) or [])):
                assert secret_on_path(contact.inputs, kind, i, field), (contact.name, kind)
                checked += 1
    # Every webhook, Slack and PagerDuty target the stack file declares, read from the file itself.
    receivers = configured_stack(stack)[0]["monitoring:alerting"]["receivers"]
    assert checked == sum(len(r.get(kind) or []) for r in receivers for kind in ("webhooks", "slack", "pagerduty"))
    # Not everything is a secret: plain configuration stays readable in previews.
    assert not secret_on_path(rec.one(CONTAINER, "monitoring-prometheus-container").inputs, "uploads", 0, "content")
    # And no secret value appears anywhere outside a secret wrapper.
    plain_dump = json.dumps(_without_secrets([r.inputs for r in rec.registrations]))
    for value in TEST_SECRETS.get(stack, {}).values():
        assert value not in plain_dump


def _without_secrets(value):
    if is_secret(value):
        return None
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def test_grafana_admin_credentials_and_access(stack):
    rec = program(stack).recorder
    envs = unwrap(rec.one(CONTAINER, "monitoring-grafana-container").inputs)["envs"]
    env = dict(e.split("=", 1) for e in envs)
    password = TEST_SECRETS.get(stack, {}).get("grafanaAdminPassword", "admin")
    assert env["GF_SECURITY_ADMIN_USER"] == "admin" and env["GF_SECURITY_ADMIN_PASSWORD"] == password
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false" and env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    provider = unwrap(rec.one("pulumi:providers:grafana", "monitoring-grafana-content-provider").inputs)
    assert provider["auth"] == f"admin:{password}"
    assert provider["url"] == f"http://127.0.0.1:{HOST_PORTS[stack]['grafana']}"
    # Retries while Grafana starts (10, 2 s apart), on the provider's own default codes only: never on a 401.
    # Provider inputs reach the engine as strings.
    assert (provider["retries"], provider["retryWait"], provider["retryStatusCodes"]) == ("10", "2", '["429", "5xx"]')


def test_every_grafana_resource_waits_for_the_healthy_grafana_container(stack):
    rec = program(stack).recorder
    container = rec.one(CONTAINER, "monitoring-grafana-container")
    provider = rec.one("pulumi:providers:grafana", "monitoring-grafana-content-provider")
    assert container.urn in provider.dependencies
    grafana_resources = [r for r in rec.registrations if r.type.startswith("grafana:")]
    assert len(grafana_resources) >= 9
    for resource in grafana_resources:
        assert container.urn in resource.dependencies, resource.name
        assert resource.provider.startswith(provider.urn + "::"), resource.name
    policy = rec.one(
        "grafana:alerting/notificationPolicy:NotificationPolicy", "monitoring-grafana-content-notification-policy"
    )
    for contact in rec.by_type("grafana:alerting/contactPoint:ContactPoint"):
        assert contact.urn in policy.dependencies


def test_datasources_have_fixed_uids_and_prometheus_is_default(stack):
    rec = program(stack).recorder
    sources = {unwrap(r.inputs)["uid"]: unwrap(r.inputs) for r in rec.by_type("grafana:oss/dataSource:DataSource")}
    # Each whole: proxied by Grafana's backend, with its service's settings as canonical JSON (keys sorted: the
    # same settings are always the same text to the provider).
    assert sources == {
        "prometheus": {
            "name": "Prometheus",
            "uid": "prometheus",
            "type": "prometheus",
            "url": "http://prometheus:9090",
            "accessMode": "proxy",
            "isDefault": True,
            "jsonDataEncoded": '{"httpMethod": "POST"}',
        },
        "loki": {
            "name": "Loki",
            "uid": "loki",
            "type": "loki",
            "url": "http://loki:3100",
            "accessMode": "proxy",
            "isDefault": False,
            "jsonDataEncoded": '{"maxLines": 1000}',
        },
        "alertmanager": {
            "name": "Alertmanager",
            "uid": "alertmanager",
            "type": "alertmanager",
            "url": "http://alertmanager:9093",
            "accessMode": "proxy",
            "isDefault": False,
            "jsonDataEncoded": '{"handleGrafanaManagedAlerts": false, "implementation": "prometheus"}',
        },
    }


def test_dashboards_are_normalised_into_their_folder(stack):
    rec = program(stack).recorder
    folder = unwrap(rec.one("grafana:oss/folder:Folder", "monitoring-grafana-content-folder-mindhit").inputs)
    assert folder == {"title": "MindHit", "uid": "mindhit", "preventDestroyIfNotEmpty": True}
    folder_of = {d.uid: slug(d.folder) for d in deployed_content(stack).dashboards}
    dashboards = rec.by_type("grafana:oss/dashboard:Dashboard")
    assert len(dashboards) == len(folder_of)
    for dashboard in dashboards:
        inputs = unwrap(dashboard.inputs)
        model = json.loads(inputs["configJson"])
        assert "id" not in model and "version" not in model
        assert dashboard.name == f"monitoring-grafana-content-dashboard-{model['uid']}"
        assert inputs["folder"] == folder_of[model["uid"]] and inputs["overwrite"] is True


def test_grafana_managed_rules_query_loki_in_the_platform_folder(stack):
    rec = program(stack).recorder
    group = rec.one(
        "grafana:alerting/ruleGroup:RuleGroup", "monitoring-grafana-content-rule-group-platform-platform-logs"
    )
    inputs = unwrap(group.inputs)
    assert (inputs["name"], inputs["folderUid"], inputs["intervalSeconds"]) == ("platform-logs", "platform", 60)
    rules = {r["name"]: r for r in inputs["rules"]}
    assert set(rules) == {"ErrorLogSurge", "ContainerLogsMissing"}
    surge = rules["ErrorLogSurge"]
    assert {key: value for key, value in surge.items() if key != "datas"} == {
        "name": "ErrorLogSurge",
        "condition": "B",
        "for": "5m",
        "noDataState": "OK",
        "execErrState": "Error",
        "labels": {"severity": "warning", "system": "platform"},
        "annotations": {
            "summary": "Error log surge in {{ $labels.service }}",
            "description": "{{ $labels.service }} wrote {{ $values.A }} error lines in 5 minutes (threshold: 10).",
        },
    }
    assert (rules["ContainerLogsMissing"]["noDataState"], rules["ContainerLogsMissing"]["execErrState"]) == (
        "Alerting",
        "Error",
    )
    # Its condition "< 1": a threshold below, not above.
    missing_threshold = json.loads(rules["ContainerLogsMissing"]["datas"][1]["model"])
    assert missing_threshold["conditions"] == [{"evaluator": {"type": "lt", "params": [1.0]}}]
    query, threshold = surge["datas"]
    assert (query["refId"], threshold["refId"]) == ("A", "B")
    assert (json.loads(query["model"])["refId"], json.loads(threshold["model"])["refId"]) == ("A", "B")
    # Each model is sent as canonical JSON (keys sorted): the same rule is always the same text to the provider.
    for data in (query, threshold):
        assert data["model"] == json.dumps(json.loads(data["model"]), sort_keys=True)
    # The query reads the last 10 minutes (stacks/render/grafana.py); the threshold, an expression, no range.
    assert (query["relativeTimeRange"], threshold["relativeTimeRange"]) == (
        {"from": 600, "to": 0},
        {"from": 0, "to": 0},
    )
    # The models as Grafana's alerting API returns them, so that a refresh reads back the same JSON: an instant
    # query (a Loki one says so in queryType too) and a threshold expression on it.
    assert query["datasourceUid"] == "loki"
    assert json.loads(query["model"]) == {
        "refId": "A",
        "expr": 'sum by (service) (count_over_time({job="docker", level="error"}[5m]))',
        "instant": True,
        "range": False,
        "queryType": "instant",
    }
    assert json.loads(threshold["model"]) == {
        "refId": "B",
        "type": "threshold",
        "expression": "A",
        "datasource": {"type": "__expr__", "uid": "__expr__"},
        "conditions": [{"evaluator": {"type": "gt", "params": [10.0]}}],
    }
    loki = rec.one("grafana:oss/dataSource:DataSource", "monitoring-grafana-content-datasource-loki")
    policy = rec.one(
        "grafana:alerting/notificationPolicy:NotificationPolicy", "monitoring-grafana-content-notification-policy"
    )
    assert loki.urn in group.dependencies and policy.urn in group.dependencies


def test_volumes_are_protected_in_prod_only(stack):
    for volume in program(stack).recorder.by_type(VOLUME):
        assert volume.retain_on_delete == (stack == "prod") and not volume.protect


def test_stack_outputs_name_every_service_and_dashboard(stack):
    outputs = program(stack).exports
    assert outputs["urls"] == {s: f"http://127.0.0.1:{p}" for s, p in HOST_PORTS[stack].items()}
    assert set(outputs["dashboardUrls"]) == {d.uid for d in deployed_content(stack).dashboards}


def test_without_grafana_content_only_the_containers_are_deployed():
    config, secret_keys = configured_stack("dev")
    config["monitoring:grafanaContent"] = False
    run = run_program("dev", config, secret_keys)
    types = {r.type for r in run.recorder.registrations}
    assert not {t for t in types if t.startswith(("grafana:", "pulumi:providers:grafana"))}
    servers = [r for r in run.recorder.by_type(CONTAINER) if r.name.endswith("-container")]
    assert len(servers) == 5 and "dashboardUrls" not in run.exports


def test_each_check_container_loads_the_files_its_service_will_run_with():
    registrations = program("dev").recorder
    for service, argv in {
        "prometheus": ["/bin/promtool", "check", "config", "/etc/prometheus/prometheus.yml"],
        "alertmanager": ["/bin/amtool", "check-config", "/etc/alertmanager/alertmanager.yml"],
    }.items():
        check = registrations.one(CONTAINER, f"monitoring-{service}-check").inputs
        server = registrations.one(CONTAINER, f"monitoring-{service}-container").inputs
        assert check["entrypoints"] + check["command"] == argv
        assert (check["image"], check["uploads"]) == (server["image"], server["uploads"])
        assert (check["attach"], check["mustRun"], check["networkMode"]) == (True, False, "none")
        assert "restart" not in check and "ports" not in check  # it serves nothing and runs once
        assert {"label": "monitoring.config-check", "value": "passed"} in unwrap(server["labels"])
        assert not any(label["label"] == "monitoring.config-check" for label in check["labels"])


def test_the_servers_that_reload_take_new_files_in_place_after_their_check(stack):
    """Prometheus and Alertmanager: their files reach the running container through `<service>-config` (a
    dynamic resource, stacks/reload.py), never by a replace; the others are replaced (docs/operations.md, "How a
    change reaches the servers")."""
    recorder = program(stack).recorder
    # What the delivery reads after its reload: the server's success gauge, the time of its last good reload, and
    # the line its log writes when it refuses the files.
    watched = {
        "prometheus": ("prometheus_config_last_reload_success_timestamp_seconds", "Error reloading config"),
        "alertmanager": (
            "alertmanager_config_last_reload_success_timestamp_seconds",
            "Loading configuration file failed",
        ),
    }
    for service, port, metric in (
        ("prometheus", 9090, "prometheus_config_last_reload_successful"),
        ("alertmanager", 9093, "alertmanager_config_last_reload_successful"),
    ):
        server = recorder.one(CONTAINER, f"monitoring-{service}-container")
        labels = unwrap(server.inputs["labels"])
        assert server.ignore_changes == ["uploads", f"labels[{len(labels) - 1}]"]
        assert labels[-1] == {"label": "monitoring.config-check", "value": "passed"}
        config = recorder.one(CONFIG_RELOAD, f"monitoring-{service}-config")
        inputs = unwrap(config.inputs)
        uploads = {u["file"]: u["content"] for u in unwrap(server.inputs["uploads"])}
        assert inputs["files"] == uploads
        assert (inputs["service"], inputs["port"], inputs["successMetric"]) == (service, port, metric)
        assert (inputs["timestampMetric"], inputs["failureLog"]) == watched[service]
        assert (inputs["container"], inputs["checked"]) == (f"monitoring-{service}-container-id", "passed")
        # After the container; the check is awaited, not a dependency (a delete-first replacement of the check,
        # on every change of the files, would delete its dependents first).
        assert server.urn in config.dependencies
        assert recorder.one(CONTAINER, f"monitoring-{service}-check").urn not in config.dependencies
    for service in ("loki", "promtail", "grafana"):
        assert recorder.one(CONTAINER, f"monitoring-{service}-container").ignore_changes == []


def test_every_long_running_container_is_given_time_to_shut_down_cleanly(stack):
    containers = [r for r in program(stack).recorder.by_type(CONTAINER) if not r.inputs.get("attach")]
    exporters = ["kerp-postgres-exporter", "kerp-redis-exporter"] if stack == "prod" else []
    assert sorted(c.name for c in containers) == sorted(  # five services, the own host's two agents, exporters
        [f"monitoring-{s}-container" for s in ("prometheus", "alertmanager", "loki", "promtail", "grafana", *exporters)]
        + ["monitoring-host-local-node-exporter", "monitoring-host-local-cadvisor"]
    )
    for container in containers:
        assert (container.inputs["destroyGraceSeconds"], container.inputs["stopTimeout"]) == (30, 30), container.name


class FailingPrometheusCheck(Recorder):
    """promtool refusing the new configuration, as the check container would report it."""

    def new_resource(self, args):
        resource_id, state = super().new_resource(args)
        if args.name == "monitoring-prometheus-check":
            state.update(exitCode=1, containerLogs='FAILED: group "x", rule 1: invalid label name "0team"')
        return resource_id, state


def test_a_failed_check_stops_the_update_before_the_service_container_is_registered():
    recorder = FailingPrometheusCheck()
    config, secret_keys = configured_stack("dev")
    with pytest.raises(
        Exception,
        match=r"(?s)prometheus: the new configuration fails `/bin/promtool check config.*"
        r"exit code 1.*invalid label name \"0team\"",
    ):
        run_program("dev", config, secret_keys, recorder)
    names = {r.name for r in recorder.registrations}
    assert "monitoring-prometheus-check" in names
    assert "monitoring-prometheus-container" not in names
    assert "monitoring-prometheus-config" not in names  # nothing is delivered
    assert "monitoring-alertmanager-container" in names  # its own check passed: only Prometheus is held back
