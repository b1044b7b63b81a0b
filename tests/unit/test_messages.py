"""Every validation message of the package is produced by a test: the cases below produce those no other test
file asserts, each from the bad input that earns it, and the last test lists the messages of stacks/ that no test
asserts (their literal text found in no test file) and wants that list empty. A message nobody can produce is
deleted, not listed."""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import configured_stack
from mockstack import run_expecting_error
from rendering import stack_settings
from repo import ROOT

from stacks.config.load import load_settings
from stacks.content import load_content
from stacks.errors import InputError
from stacks.outputs import scrape_labels
from stacks.render.containers import container_specs
from stacks.render.kubernetes import monitors
from stacks.scaffold import parse_new_system
from stacks.syntax.durations import parse_duration

Edit = Callable[[dict], None]


def settings_error(stack: str, edit: Edit, secret_keys: list[str] | None = None) -> str:
    """The InputError message of a stack file's config after `edit`."""
    config, secrets = configured_stack(stack)
    config = copy.deepcopy(config)
    edit(config)
    with pytest.raises(InputError) as raised:
        load_settings(config, frozenset(secrets if secret_keys is None else secret_keys))
    return str(raised.value)


def problem_lines(message: str) -> list[str]:
    """The problems an InputError lists, one per line, without their "- "."""
    return [line.removeprefix("- ") for line in message.splitlines() if line.startswith("- ")]


def key(name: str, value) -> Edit:
    def edit(config: dict) -> None:
        config[f"monitoring:{name}"] = value

    return edit


def alerting(change: Callable[[dict], None]) -> Edit:
    def edit(config: dict) -> None:
        change(config["monitoring:alerting"])

    return edit


def receiver(index: int, value: dict) -> Edit:
    return alerting(lambda a: a["receivers"].__setitem__(index, value))


def remote_write(**store) -> Edit:
    """prometheus.remoteWrite with one store, vm, of these fields besides its name and URL."""
    return key("prometheus", {"remoteWrite": [{"name": "vm", "url": "https://vm.example.com/api/v1/write", **store}]})


def with_kubernetes(**changes) -> Edit:
    base = {
        "context": "kind",
        "namespace": "monitoring",
        "ruleLabels": {"release": "kps"},
        "monitorLabels": {"release": "kps"},
        "alertmanagerConfigLabels": {"alertmanagerConfig": "monitoring"},
        "monitors": [{"job": "mindhit-api", "selector": {"app": "mindhit-api"}, "port": "http"}],
    }

    def edit(config: dict) -> None:
        for docker_key in ("scrapeTargets", "ports", "protectVolumes", "bindAddress", "services", "images"):
            config.pop(f"monitoring:{docker_key}", None)
        config.pop("monitoring:grafanaAdminPassword", None)
        config["monitoring:kubernetes"] = {**base, **changes}

    return edit


SETTINGS_CASES = [
    # alerting
    ("dev", lambda c: c.pop("monitoring:alerting"), "alerting: is required: receivers and a route"),
    ("dev", alerting(lambda a: a.__setitem__("receivers", [])), "alerting.receivers: must name at least one receiver"),
    (
        "dev",
        alerting(lambda a: a["receivers"].append(copy.deepcopy(a["receivers"][0]))),
        "alerting.receivers: receiver name 'default' is used more than once",
    ),
    (
        "dev",
        receiver(0, {"name": "default"}),
        "alerting.receivers[0]: receiver 'default' has no target: give it webhooks, slack, pagerduty or email",
    ),
    (
        "dev",
        alerting(lambda a: a.__setitem__("inhibitRules", [{"sourceMatchers": 'severity="critical"'}])),
        "alerting.inhibitRules[0].sourceMatchers: must be a list of matchers such as 'severity=\"critical\"', got",
    ),
    ("dev", alerting(lambda a: a.pop("route")), "alerting.route: is required: at least a default receiver"),
    (
        "dev",
        alerting(lambda a: a["route"].__setitem__("groupBy", "alertname")),
        "alerting.route.groupBy: must be a list of label names, got 'alertname'",
    ),
    (
        "dev",
        alerting(lambda a: a.__setitem__("inhibitRules", [{"sourceMatchers": ['severity="critical"']}])),
        "alerting.inhibitRules[0]: needs both sourceMatchers and targetMatchers",
    ),
    (
        "dev",
        alerting(lambda a: a.__setitem__("smtp", {"smarthost": "mail.example.com", "from": "am@example.com"})),
        "alerting.smtp.smarthost: must look like host:port, got 'mail.example.com'",
    ),
    (
        "dev",
        receiver(0, {"name": "default", "webhooks": [{"url": ""}]}),
        "alerting.receivers[0].webhooks[0].url: missing secret: pulumi config set --secret --path "
        "'alerting.receivers[0].webhooks[0].url' <value>",
    ),
    (
        "prod",
        receiver(1, {"name": "kerp-critical", "pagerduty": [{"routingKey": "a" * 32, "serviceKey": "b" * 32}]}),
        "alerting.receivers[1].pagerduty[0]: give routingKey (Events API v2) or serviceKey (v1), not both",
    ),
    (
        "dev",
        receiver(0, {"name": "default", "email": [{"to": "ops at example.com"}]}),
        "alerting.receivers[0].email[0].to: must be an email address, got 'ops at example.com'",
    ),
    (
        "dev",
        alerting(lambda a: a["route"]["routes"][0].__setitem__("matchers", ["severity:critical"])),
        "alerting.route.routes[0].matchers[0]: must look like 'label=\"value\"' (=, !=, =~, !~), got "
        "'severity:critical'",
    ),
    # the stack's own keys
    ("dev", key("namePrefix", "Monitoring Dev"), "namePrefix: must be lowercase letters, digits, '-', '_' or '.', got"),
    (
        "dev",
        key("dockerHost", "docker.example.com:2376"),
        "dockerHost: must start with unix://, tcp://, ssh:// or npipe://, got 'docker.example.com:2376'",
    ),
    (
        "dev",
        key("loki", {"retentionPeriod": "12h"}),
        "loki.retentionPeriod: must be at least 24h (Loki's minimum), got",
    ),
    (
        "dev",
        key("prometheus", {"retentionSize": "10 gigabytes"}),
        "prometheus.retentionSize: must look like '10GB' (B, KB, MB, GB, TB), got '10 gigabytes'",
    ),
    ("dev", key("bindAddress", "localhost"), "bindAddress: must be an IP address such as 127.0.0.1, got 'localhost'"),
    ("dev", key("systems", ["MindHit"]), "systems[0]: must be a system name such as 'mindhit', got 'MindHit'"),
    (
        "dev",
        key("loki", {"pushUrl": "http://10.0.0.2:3100"}),
        "loki.pushUrl: is for the log collectors of other hosts (hosts[].agents), and none runs promtail",
    ),
    # hosts
    (
        "dev",
        key("hosts", [{"name": "db-1", "dockerHost": "ssh://deploy@db-1", "address": "db 1"}]),
        "hosts[0].address: must be an IP address or a host name, got 'db 1'",
    ),
    # remote write
    (
        "dev",
        key("prometheus", {"remoteWrite": {"name": "vm"}}),
        "prometheus.remoteWrite: must be a list of stores ({name, url}), got",
    ),
    (
        "dev",
        remote_write(basicAuth={"password": "p"}),
        "prometheus.remoteWrite[0].basicAuth.username: is required with a password",
    ),
    (
        "dev",
        remote_write(basicAuth={"username": "u", "password": "p"}, bearerToken="t"),
        "prometheus.remoteWrite[0].bearerToken: give basicAuth or bearerToken, not both",
    ),
    (
        "dev",
        remote_write(
            writeRelabel=[
                {"action": "drop", "sourceLabels": ["__name__", ""], "regex": "go_(.*"},
                {"action": "lowercase", "sourceLabels": ["a"], "targetLabel": "t", "replacement": "x"},
                {"action": "labeldrop", "regex": "tmp_.*", "targetLabel": "x"},
            ]
        ),
        [
            "prometheus.remoteWrite[0].writeRelabel[0].sourceLabels[1]: must be a label name (a non-empty string), "
            "got ''",
            "prometheus.remoteWrite[0].writeRelabel[0].regex: does not compile (Prometheus compiles it with Go's RE2):",
            "prometheus.remoteWrite[0].writeRelabel[1].replacement: action lowercase takes no replacement",
            "prometheus.remoteWrite[0].writeRelabel[2].targetLabel: action labeldrop takes only regex",
        ],
    ),
    # scraping
    (
        "dev",
        key("scrapeTargets", [{"job": "a", "targets": ["a:1"]}, {"job": "a", "targets": ["b:1"]}]),
        "scrapeTargets[1].job: job 'a' is already scraped; job names must be unique",
    ),
    (
        "dev",
        key("scrapeTargets", [{"job": "a", "targets": ["http://a:1"], "labels": {"": "x"}}]),
        [
            "scrapeTargets[0].targets[0]: must look like host:port, got 'http://a:1'",
            "scrapeTargets[0].labels: has an empty label name, which Prometheus refuses",
        ],
    ),
    # Kubernetes
    ("dev", with_kubernetes(namespace="n" * 64), "kubernetes.namespace: must be at most 63 characters, got 64"),
    (
        "dev",
        with_kubernetes(
            monitors=[
                {"job": "mindhit-api", "selector": {"app": "a"}, "port": "http"},
                {"job": "mindhit-api", "selector": {"app": "b"}, "port": "http", "kind": "deployment"},
                {"job": "kerp-api", "selector": {"app": "c"}, "port": "http", "namespaces": ["Prod_NS"]},
                {"job": "wealist-api", "selector": {"app": "d"}, "port": "http", "path": "metrics", "namespaces": "p"},
            ]
        ),
        [
            "kubernetes.monitors[1].job: job 'mindhit-api' is already scraped; job names must be unique",
            "kubernetes.monitors[1].kind: must be service (a ServiceMonitor) or pod (a PodMonitor), got 'deployment'",
            "kubernetes.monitors[2].namespaces[0]: must be a namespace name, got 'Prod_NS'",
            "kubernetes.monitors[3].path: must be a path starting with '/', got 'metrics'",
            "kubernetes.monitors[3].namespaces: must be a list of namespaces, got 'p'",
        ],
    ),
]


@pytest.mark.parametrize(
    ("stack", "edit", "expected"), SETTINGS_CASES, ids=[str(i) for i in range(len(SETTINGS_CASES))]
)
def test_each_bad_setting_is_named(stack, edit, expected):
    message = settings_error(stack, edit)
    for line in [expected] if isinstance(expected, str) else expected:
        assert line in message, message


def test_a_grafana_admin_password_given_in_plain_text_is_named():
    config, secrets = configured_stack("prod")
    plain = [k for k in secrets if k != "monitoring:grafanaAdminPassword"]
    with pytest.raises(InputError) as raised:
        load_settings(config, frozenset(plain))
    message = str(raised.value)
    assert (
        "grafanaAdminPassword: must be a secret: pulumi config set --secret grafanaAdminPassword <password>" in message
    )
    assert "prod-Secret-pw-1" not in message


def test_a_grafana_token_given_in_plain_text_is_named():
    config, secrets = configured_stack("dev")
    config["monitoring:services"] = ["prometheus", "alertmanager", "loki", "promtail"]
    config["monitoring:grafana"] = {
        "url": "https://grafana.example.com",
        "datasourceUrls": {s: f"http://metrics.example.com/{s}" for s in ("prometheus", "alertmanager", "loki")},
    }
    config["monitoring:grafanaToken"] = "glsa_token"
    with pytest.raises(InputError) as raised:
        load_settings(config, frozenset(secrets))
    assert "grafanaToken: must be a secret: pulumi config set --secret grafanaToken <token>" in str(raised.value)


# ---------------------------------------------------------------- content files


def replace_in(path: str, old: str, new: str, count: int = 1) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        text = (root / path).read_text()
        assert old in text, f"{old!r} is not in {path}"
        (root / path).write_text(text.replace(old, new, count))

    return edit


def write(path: str, text: str | bytes) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            (root / path).write_bytes(text)
        else:
            (root / path).write_text(text)

    return edit


GRAFANA_RULES = "rules/grafana/platform-logs.yml"
SLO = "rules/slos/mindhit.yml"
AVAILABILITY_BAD = 'bad: sum(rate(mindhit_http_requests_total{job="mindhit-api", status=~"5.."}[{{window}}]))'

CONTENT_CASES = [
    (replace_in("rules/kerp.yml", "groups:", "groups: [\n"), "rules/kerp.yml:"),
    (write("rules/oops.yml", "groups:\n  - name: a\n    rules: [\n"), "rules/oops.yml:4: malformed YAML:"),
    (write("dashboards/stray.json", "{}"), "dashboards/stray.json: dashboards must be in a folder directory"),
    (write("dashboards/MindHit/list.json", "[]"), "dashboards/MindHit/list.json: a dashboard must be a JSON object"),
    (
        write("dashboards/MindHit/export.json", '{"dashboard": {"title": "x"}}'),
        "dashboards/MindHit/export.json: $.dashboard: unwrap the export: the file must hold the dashboard model itself",
    ),
    (write("dashboards/MindHit/latin1.json", b'{"title": "caf\xe9"}'), "dashboards/MindHit/latin1.json: not UTF-8:"),
    (
        replace_in(GRAFANA_RULES, "interval: 1m", "interval: 45s"),
        f"{GRAFANA_RULES}:5: interval: must be a multiple of 10s (Grafana's evaluation tick)",
    ),
    (
        replace_in(GRAFANA_RULES, "- alert: ContainerLogsMissing", "- alert: ErrorLogSurge"),
        "alert 'ErrorLogSurge' is defined twice in group 'platform-logs'",
    ),
    (
        replace_in(GRAFANA_RULES, "severity: critical", "team: platform"),
        "alert 'ContainerLogsMissing' needs a severity label: the notification policy routes on it",
    ),
    (
        replace_in("rules/kerp.yml", "- alert: HighErrorRate", "- alert: HighErrorRate\n        record: kerp:errors"),
        "only one of 'record' and 'alert' must be set",
    ),
    (
        replace_in("rules/kerp.yml", "- alert: HighErrorRate", "- labels_only: x"),
        "one of 'record' or 'alert' must be set",
    ),
    (
        replace_in("rules/kerp.yml", 'expr: up{job="kerp-api"} == 0', "expr: ''"),
        "expr: is required: a PromQL expression (Prometheus: field 'expr' must be set in rule)",
    ),
    (
        replace_in("rules/kerp.yml", "- alert: HighErrorRate", "- alert: [HighErrorRate]"),
        "alert: must be a string, got ['HighErrorRate']",
    ),
    (
        replace_in("rules/kerp.yml", "severity: critical", "severity: [critical]"),
        "labels.severity: must be a string, got ['critical']",
    ),
    (
        write("systems/billing.yml", "jobs: {}\n"),
        "systems/billing.yml:1: jobs: is required: the scrape jobs this system",
    ),
    (
        write("systems/billing.yml", "jobs:\n  9billing: the API\n"),
        "systems/billing.yml:1: jobs.9billing: must be a job name: letters, digits, '_' and '-', not starting with a "
        "digit",
    ),
    (
        write(
            "systems/billing.yml",
            "jobs:\n  billing-api: the API\nmetrics:\n  billing_requests_total:\n    type: counter\n"
            "    help: requests\n    jobs: [billing-web]\n    labels:\n      code: 200\n"
            "  billing_seconds:\n    type: histogram\n    help: latency\n    jobs: [billing-api]\n"
            "    buckets: [1, 0.5]\n    idle: 0.1\n  billing_queue:\n    type: gauge\n    help: queued\n"
            "    jobs: [billing-api]\n    idle: low\n",
        ),
        [
            "metrics.billing_requests_total.jobs: names 'billing-web', which is not one of the system's jobs "
            "(billing-api)",
            "metrics.billing_requests_total.labels.code: must be a list of example values, got 200",
            "metrics.billing_seconds.buckets: must be ascending bucket boundaries (numbers), got [1, 0.5]",
            "metrics.billing_seconds.idle: is a gauge's value or a counter's rate at rest; a histogram's observations "
            "are the workload's",
            "metrics.billing_queue.idle: must be a gauge's value or a counter's rate at rest (a number), got 'low'",
        ],
    ),
    (
        replace_in(SLO, AVAILABILITY_BAD, "availability: true", 1),
        "slos[0].sli: needs exactly one of: {bad, total}, {good, total} or {latency}, got ['availability', 'total']",
    ),
    (
        replace_in(SLO, AVAILABILITY_BAD, "bad: ''"),
        "slos[0].sli.bad: needs a PromQL query",
    ),
    (
        replace_in(SLO, AVAILABILITY_BAD, "bad: sum(rate(x[{{window}}])"),
        "slos[0].sli.bad: invalid PromQL:",
    ),
    (
        replace_in(SLO, 'selector: job="mindhit-api"', 'selector: job="mindhit-api'),
        "slos[1].sli.latency.selector: invalid PromQL:",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), CONTENT_CASES, ids=[str(i) for i in range(len(CONTENT_CASES))])
def test_each_bad_content_file_is_named(content_copy, edit, expected):
    edit(content_copy)
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    message = str(raised.value)
    for line in [expected] if isinstance(expected, str) else expected:
        assert line in message, message


def test_an_sli_that_is_not_a_mapping_is_named(content_copy):
    sli = (
        "    sli:\n      " + AVAILABILITY_BAD + "\n"
        '      total: sum(rate(mindhit_http_requests_total{job="mindhit-api"}[{{window}}]))\n'
    )
    replace_in(SLO, sli, "    sli: availability\n")(content_copy)
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert (
        "slos[0].sli: needs one of: {bad, total}, {good, total} or {latency: {histogram, threshold, selector}}"
        in str(raised.value)
    )


def test_a_declared_systems_log_panels_without_loki_are_named():
    """weAlist is declared (systems/wealist.yml): its Loki panels cannot be left out silently, as an imported
    system's are."""
    config, secrets = configured_stack("dev")
    config["monitoring:services"] = ["prometheus", "alertmanager", "grafana"]
    message = run_expecting_error("dev", config, secrets)
    assert (
        "dashboards/weAlist/log-analysis.json: reads the loki datasource, which this stack does not run"
        ": add it to services, or leave the system out of systems"
    ) in message


def test_a_pagerduty_v1_key_with_grafana_content_is_named():
    config, secrets = configured_stack("prod")
    config["monitoring:alerting"]["receivers"][1]["pagerduty"] = [{"serviceKey": "v1-service-key"}]
    with pytest.raises(InputError) as raised:
        load_settings(config, frozenset(secrets))
    assert (
        "alerting.receivers[1].pagerduty[0].serviceKey: is an Events API v1 key, which Grafana's PagerDuty "
        "integration does not take: use routingKey, an Events API v2 integration key (or grafanaContent false)"
    ) in str(raised.value)


def test_a_postgres_exporter_password_belongs_in_its_address():
    config, secrets = configured_stack("dev")
    config["monitoring:exporters"] = [
        {"system": "wealist", "kind": "postgres", "address": "postgresql://wealist@db:5432/wealist", "password": "p"}
    ]
    with pytest.raises(InputError) as raised:
        load_settings(config, frozenset([*secrets, "monitoring:exporters"]))
    assert "exporters[0].password: is part of a postgres exporter's address (its connection URI)" in str(raised.value)


@pytest.mark.parametrize(
    ("port", "path", "job", "message"),
    [
        (0, None, None, "port must be a port number from 1 to 65535, got 0"),
        (True, None, None, "port must be a port number from 1 to 65535, got True"),
        (8080, "metrics", None, "path must start with '/', got 'metrics'"),
        (8080, None, "orders api", "job must be a job name such as 'orders-api', got 'orders api'"),
    ],
)
def test_an_application_asking_for_impossible_scrape_labels_is_told(port, path, job, message):
    with pytest.raises(ValueError) as raised:
        scrape_labels({"scrape": "s", "port": "p", "path": "a", "job": "j"}, port, path, job)
    assert str(raised.value) == message


def test_a_duration_beyond_gos_range_is_named():
    with pytest.raises(ValueError) as raised:
        parse_duration("293y")
    assert str(raised.value) == "'293y' is out of range: durations end at about 292 years"
    assert parse_duration("292y") == 292 * 365 * 24 * 3600 * 1000


def test_the_renderers_refuse_what_the_program_never_asks():
    """Guards of the renderers' contracts with their callers (the program checks first)."""
    with pytest.raises(ValueError, match=r"app discovery needs the Docker socket's group id"):
        container_specs(stack_settings("dev"), load_content(), None)
    with pytest.raises(ValueError, match=r"^not a Kubernetes stack: settings.kubernetes is None$"):
        monitors(stack_settings("dev"))


@pytest.mark.parametrize(
    ("stack", "smtp", "secret", "expected"),
    [
        (
            "dev",
            {},
            True,
            [
                "alerting.smtp.smarthost: is required: the SMTP relay as host:port, such as smtp.example.com:587",
                "alerting.smtp.from: is required: the sender address, such as alerts@example.com",
            ],
        ),
        (
            "dev",
            {"smarthost": "mail:25", "from": "am@example.com", "port": 25},
            True,
            ["alerting.smtp.port: unknown key; known keys: from, password, smarthost, username"],
        ),
        (
            "dev",
            {"smarthost": "mail:25", "username": "am", "password": "pw"},
            True,
            ["alerting.smtp.from: is required: the sender address, such as alerts@example.com"],
        ),
        (
            "staging",
            {"smarthost": "mail:25", "from": "am@example.com", "username": "am", "password": "pw"},
            False,
            [
                "alerting.smtp.password: must be a secret outside dev: "
                "pulumi config set --secret --path 'alerting.smtp.password' <value>"
            ],
        ),
    ],
)
def test_each_smtp_problem_is_named_and_nothing_else(stack, smtp, secret, expected):
    """The whole message: the key, its words, and no problem of another key. `secret`: the alerting key is a
    Pulumi secret (staging's receivers are then secrets too; without it, only the SMTP lines are kept)."""
    secret_keys = configured_stack(stack)[1]
    if not secret:
        secret_keys = [k for k in secret_keys if k != "monitoring:alerting"]
    lines = problem_lines(settings_error(stack, alerting(lambda a: a.__setitem__("smtp", smtp)), secret_keys))
    assert [line for line in lines if line.startswith("alerting.smtp")] == expected
    if secret:
        assert lines == expected


LONG_NAME, LONG_VALUE = "b" * 64, "w" * 64
PREFIX_253 = ("a" * 63 + ".") * 3 + "a" * 61  # the longest DNS subdomain
NAME_RULE = "must be at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit"
SELECTOR_REQUIRED = "is required: the labels the operator's selector matches (an empty selector selects nothing here)"


@pytest.mark.parametrize(
    ("kubernetes", "expected"),
    [
        ({"monitors": "x"}, ["kubernetes.monitors: must be a list of monitors: {job, kind, selector, port}, got 'x'"]),
        (
            {"monitors": ["x", {"job": "Bad Job", "kind": 5, "selector": {}, "port": "metrics", "extra": 1}]},
            [
                "kubernetes.monitors[0]: must be a monitor: {job, kind, selector, port}, got 'x'",
                "kubernetes.monitors[1].extra: unknown key; known keys: job, kind, namespaces, path, port, selector",
                "kubernetes.monitors[1].job: must be a job name such as 'mindhit-api', got 'Bad Job'",
                "kubernetes.monitors[1].kind: must be service or pod, got 5",
                f"kubernetes.monitors[1].selector: {SELECTOR_REQUIRED}",
            ],
        ),
        (
            {"monitors": [{"kind": "pod"}]},
            [
                "kubernetes.monitors[0].job: is required: a job name such as 'mindhit-api'",
                f"kubernetes.monitors[0].selector: {SELECTOR_REQUIRED}",
                "kubernetes.monitors[0].port: is required: the name of the metrics port",
            ],
        ),
        (
            {"ruleLabels": "x"},
            [
                "kubernetes.ruleLabels: must be a map of label names to values, got 'x'",
                f"kubernetes.ruleLabels: {SELECTOR_REQUIRED}",
            ],
        ),
        # At the limits: a 63-character name and value, a 253-character prefix pass; one more does not.
        (
            {"ruleLabels": {"a" * 63: "v", LONG_NAME: "v"}},
            [f"kubernetes.ruleLabels.{LONG_NAME}: label key {LONG_NAME!r}: its name {NAME_RULE}"],
        ),
        (
            {"ruleLabels": {"a": "v" * 63, "b": LONG_VALUE}},
            [f"kubernetes.ruleLabels.b: label b: its value {LONG_VALUE!r} {NAME_RULE}"],
        ),
        (
            {"ruleLabels": {f"{PREFIX_253}/x": "v", f"{PREFIX_253}a/y": "v"}},
            [
                f"kubernetes.ruleLabels.{PREFIX_253}a/y: label key '{PREFIX_253}a/y': its prefix must be a DNS "
                "subdomain such as example.com"
            ],
        ),
        ({"ruleLabels": {"": "v"}}, ["kubernetes.ruleLabels.: label key '' must be a non-empty string"]),
    ],
)
def test_each_kubernetes_setting_problem_is_named_whole(kubernetes, expected):
    edit = key("kubernetes", {**configured_stack("cluster")[0]["monitoring:kubernetes"], **kubernetes})
    assert problem_lines(settings_error("cluster", edit)) == expected


def test_each_relabel_field_of_the_wrong_type_is_named_whole():
    edit = remote_write(
        writeRelabel=[
            5,
            {"action": 5, "sourceLabels": "x", "regex": 3, "targetLabel": 4},
            {"action": "hashmod", "sourceLabels": ["a"], "targetLabel": "t", "modulus": 0},
            {"action": "keepequal", "sourceLabels": ["a"], "targetLabel": "t", "regex": "x"},
            {"action": "drop", "sourceLabel": ["a"]},  # a key Prometheus does not know
            {"action": "", "sourceLabels": ["a"], "targetLabel": "t"},  # not the default
            {"action": "LabelMap", "regex": "k_(.*)", "replacement": ""},  # any case: still labelmap
            {"action": "Keep", "sourceLabels": ["a"], "regex": "x"},  # no problem
        ]
    )
    lines = problem_lines(settings_error("dev", edit))
    actions = "replace, keep, drop, keepequal, dropequal, hashmod, labelmap, labeldrop, labelkeep, lowercase, uppercase"
    rules = "prometheus.remoteWrite[0].writeRelabel"
    assert lines == [
        f"{rules}[0]: must be a relabel rule, got 5",
        f"{rules}[1].action: must be one of {actions}, got 5",
        f"{rules}[1].sourceLabels: must be a list of label names, got 'x'",
        f"{rules}[1].regex: must be a regular expression, got 3",
        f"{rules}[1].targetLabel: must be a label name, got 4",
        f"{rules}[2].modulus: must be a positive whole number, got 0",
        f"{rules}[3].regex: action keepequal takes only sourceLabels and targetLabel",
        f"{rules}[4].sourceLabel: unknown key; known keys: action, modulus, regex, replacement, separator, "
        "sourceLabels, targetLabel",
        f"{rules}[5].action: must be one of {actions}, got ''",
        f"{rules}[6].replacement: action labelmap needs a label name or a template such as ${{1}}",
    ]


def test_the_error_lists_every_problem_and_counts_them():
    assert str(InputError(["a: x"])) == "invalid stack configuration or content:\n- a: x\n1 error"
    assert (
        str(InputError(["a: x", "b[0]: y"])) == "invalid stack configuration or content:\n- a: x\n- b[0]: y\n2 errors"
    )


def test_a_new_system_that_exists_or_has_no_job_is_refused():
    with pytest.raises(InputError) as raised:
        parse_new_system("kerp", [], "Kerp")
    message = str(raised.value)
    assert "name: 'kerp' exists already (systems/kerp.yml or rules/kerp.yml)" in message
    assert "--job: give at least one: <job>=<host:port>, the scrape job and where its /metrics answers" in message


# ---------------------------------------------------------------- every message asserted somewhere


def _segments(node: ast.AST) -> list[str]:
    """The literal text of a message expression: a string, an f-string's constant parts, concatenations."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _segments(node.left) + _segments(node.right)
    return []


def _messages(path: Path) -> list[tuple[int, list[str]]]:
    """(line, literal parts) of each message a module writes: Problems/Reader.add(key, message), add_line(line),
    InputError([messages]), Finding(rule, severity, where, message), ValueError(message)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", "")
        if name == "add" and len(node.args) >= 2:
            messages = [node.args[1]]
        elif name == "add_line" and node.args:
            messages = [node.args[0]]
        elif name == "InputError" and node.args and isinstance(node.args[0], ast.List):
            messages = list(node.args[0].elts)
        elif name == "Finding" and len(node.args) >= 4:
            messages = [node.args[3]]
        elif name == "ValueError" and node.args:
            messages = [node.args[0]]
        else:
            continue
        for message in messages:
            parts = [s.strip() for s in _segments(message) if len(s.strip()) >= 3]
            if parts:
                found.append((node.lineno, parts))
    return found


def test_every_validation_message_is_asserted_by_a_test():
    """A message is asserted when the opening (24 characters) of one of its literal parts of 10 or more characters,
    or its one short part, is in a test file: regular-expression escapes are read both ways."""
    tests = "\n".join(p.read_text() for p in sorted((ROOT / "tests").rglob("*.py")) if p.name != Path(__file__).name)
    this_file = Path(__file__).read_text()
    tests += "\n" + this_file.split("# ---------------------------------------------------------------- every")[0]
    tests += "\n" + tests.replace("\\", "")
    untested = []
    for path in sorted((ROOT / "stacks").rglob("*.py")):
        for line, parts in _messages(path):
            probes = [part[:24] for part in parts if len(part) >= 10] or [max(parts, key=len)]
            if not any(probe in tests for probe in probes):
                untested.append(f"{path.relative_to(ROOT)}:{line}: {max(parts, key=len)}")
    assert untested == [], f"{len(untested)} messages no test asserts:\n" + "\n".join(untested)


def test_prod_before_its_values_are_set_names_each_one_and_how():
    """Pulumi.prod.yaml as committed: its secret keys set, none of their values (as on a new machine)."""
    from mockstack import stack_config

    secret_keys = ["monitoring:alerting", "monitoring:exporters", "monitoring:grafanaAdminPassword"]
    with pytest.raises(InputError) as raised:
        load_settings(stack_config("prod"), frozenset(secret_keys))
    lines = problem_lines(str(raised.value))
    assert {
        "alerting.smtp.smarthost: is required: the SMTP relay as host:port, such as smtp.example.com:587",
        "alerting.smtp.from: is required: the sender address, such as alerts@example.com",
        "alerting.receivers[5].email[0].to: is required: the address the alerts are sent to, such as "
        "oncall@example.com",
        "exporters[0].address: is required: a connection URI such as postgresql://user:pass@db:5432/app",
        "alerting.receivers[6].slack[0].url: missing secret: pulumi config set --secret --path "
        "'alerting.receivers[6].slack[0].url' <value>",
    } <= set(lines)
    assert len(lines) == 18  # and Observer's three (receivers[8] and [9])
