"""Content users bring: the public rule files and dashboards of ../shared/corpus deploy unchanged as imported
content (no systems/ file), with their lint findings as warnings that name their rule and the .lint entry that
turns it off; every selector form PromQL allows is read without a crash; the declared systems stay strict."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import configured_stack
from mockstack import run_expecting_error, run_program, unwrap
from repo import CORPUS

from stacks.content import load_content
from stacks.content.contract import contract_problems
from stacks.content.model import PLATFORM, System
from stacks.content.ownership import JobIndex, selector_problems
from stacks.errors import InputError
from stacks.syntax.promql import expression_facts, promql_error

KERP = System("kerp", ("kerp-api",))
DASHBOARD = "grafana:oss/dashboard:Dashboard"


@pytest.fixture(scope="module")
def corpus_tree(tmp_path_factory) -> Path:
    """A content tree of the corpus alone: its rule files in rules/, its dashboards in dashboards/Imported/."""
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(CORPUS / "rules", root / "rules")
    shutil.copytree(CORPUS / "dashboards", root / "dashboards" / "Imported")
    return root


def test_every_corpus_rule_file_and_dashboard_deploys_unchanged(corpus_tree):
    content = load_content(corpus_tree)
    assert len(content.rule_files) == 126 and len(content.dashboards) == 53
    for rule_file in content.rule_files:  # sent to Prometheus byte for byte
        assert rule_file.text == (CORPUS / "rules" / rule_file.name).read_text(encoding="utf-8")
    for dashboard in content.dashboards:  # sent to Grafana as the file is, but what the loader always drops
        original = json.loads((CORPUS / "dashboards" / dashboard.path.name).read_text(encoding="utf-8"))
        kept = {k: v for k, v in original.items() if k not in ("id", "version", "__inputs")}
        assert dashboard.model == {**kept, "uid": kept.get("uid") or dashboard.uid}
    assert content.systems == ()  # none of it is a declared system's
    assert all(content.imported(f.system) for f in content.rule_files)


def test_corpus_findings_are_warnings_summed_per_file_and_rule(corpus_tree):
    content = load_content(corpus_tree)
    lines = [*content.warnings, *(w for d in content.dashboards for w in d.warnings)]
    assert lines, "the corpus dashboards break some lint rules: their findings must be shown"
    for line in lines:
        source, _, rest = line.partition(": [")
        rule = rest.partition("]")[0]
        folder, _, name = source.rpartition("/")
        assert f"(to turn the rule off for this file: {folder}/.lint: exclusions: {{{rule}: " in line
        assert f"[{name}]}}}})" in line
    # One line per file and rule, however many findings: the schema's are summed with a count.
    keys = [(line.partition(": [")[0], line.partition(": [")[2].partition("]")[0]) for line in lines]
    assert len(keys) == len(set(keys))
    assert any(" findings: " in line and "; and " in line for line in lines)
    worst = max(lines, key=len)
    print(f"\n{len(lines)} warning lines for 53 dashboards and 126 rule files; the longest is {len(worst)} characters")


def test_a_lint_file_silences_what_the_warning_names(corpus_tree, tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(corpus_tree, root)
    before = [w for d in load_content(root).dashboards for w in d.warnings]
    entry = before[0].rpartition("(to turn the rule off for this file: ")[2].removesuffix(")")
    lint_file, _, yaml_line = entry.partition(": ")
    (root / lint_file).write_text(yaml_line.replace("<why>", "as published"))
    after = [w for d in load_content(root).dashboards for w in d.warnings]
    assert before[0] not in after and len(after) == len(before) - 1


def test_an_imported_alert_without_severity_is_a_warning(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules/vendor.yml").write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: Quiet\n        expr: up == 0\n"
    )
    content = load_content(tmp_path)
    assert content.warnings == (
        "rules/vendor.yml: [alert-severity] line 4: alert 'Quiet' has no severity label: the routes are keyed on it "
        '(to turn the rule off for this file: rules/.lint: exclusions: {alert-severity: {reason: "<why>", '
        "files: [vendor.yml]}})",
    )
    (tmp_path / "rules/.lint").write_text("exclusions:\n  alert-severity:\n    reason: x\n    files: [vendor.yml]\n")
    assert load_content(tmp_path).warnings == ()


@pytest.mark.parametrize(
    ("lint_file", "expected"),
    [
        (
            "exclusions:\n  alert-sevrity:\n    reason: x\n    files: [vendor.yml]\n",
            "rules/.lint:1: exclusions.alert-sevrity: unknown key; known keys: alert-severity, job-ownership",
        ),
        (
            "exclusions:\n  alert-severity:\n    reason: x\n    files: [gone.yml]\n",
            "rules/.lint:1: exclusions.alert-severity.files: no rule file 'gone.yml' in rules",
        ),
    ],
)
def test_a_rules_lint_file_naming_no_rule_or_file_stops_preview(tmp_path, lint_file, expected):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules/vendor.yml").write_text("groups: []\n")
    (tmp_path / "rules/.lint").write_text(lint_file)
    with pytest.raises(InputError) as raised:
        load_content(tmp_path)
    assert expected in str(raised.value)


SELECTORS = {
    # expression: the metric name each selector reads ("" for none)
    '{__name__=~"pg_settings_.*"}': [""],
    'count({job="kerp-api"})': [""],
    'absent({job=~"kerp-.+"})': [""],
    '{"http_requests_total", job="kerp-api"}': ["http_requests_total"],
    '{__name__="http_requests_total", job="kerp-api"}': ["http_requests_total"],
    'rate({"http_request_duration_seconds_bucket", job="kerp-api", le="0.5"}[5m])': [
        "http_request_duration_seconds_bucket"
    ],
    'histogram_quantile(0.9, rate({__name__="x_bucket", job="kerp-api"}[5m])) > 100': ["x_bucket"],
    'sum by ("team.name") ({"team.name"="a", job="kerp-api"})': [""],
}


@pytest.mark.parametrize("expr", SELECTORS)
def test_every_selector_form_is_read_without_a_crash(expr):
    assert promql_error(expr) is None
    assert [s.name for s in expression_facts(expr).selectors] == SELECTORS[expr]
    assert isinstance(contract_problems(expr, KERP), list)
    assert isinstance(selector_problems(expr, KERP, JobIndex({"kerp": KERP, "platform": PLATFORM}), set()), list)


def test_a_declared_systems_rule_without_a_job_matcher_stays_an_error(tmp_path):
    """The selector forms without a metric name in a declared system's rules: job-ownership still applies."""
    for directory in ("rules", "systems"):
        (tmp_path / directory).mkdir()
    (tmp_path / "systems/kerp.yml").write_text("jobs:\n  kerp-api: the API\n")
    (tmp_path / "rules/kerp.yml").write_text(
        "groups:\n  - name: g\n    rules:\n"
        "      - {alert: Down, expr: 'up{job=\"kerp-api\"} == 0', labels: {severity: critical}}\n"
        "      - {alert: Missing, expr: 'absent(up{job=\"kerp-api\"})', labels: {severity: warning}}\n"
        "      - {alert: Settings, expr: 'count({__name__=~\"pg_settings_.*\"}) > 0', labels: {severity: info}}\n"
    )
    with pytest.raises(InputError) as raised:
        load_content(tmp_path)
    assert (
        'rules/kerp.yml: [job-ownership] line 6: {__name__=~"pg_settings_.*"} selects no job: add job="kerp-api"'
        in str(raised.value)
    )


@pytest.mark.parametrize(
    ("matcher", "refused"),
    [('up{job=~"(?=a)"}', True), ('up{job=~"(a{30}){40}"}', True), ('up{job=~"a{1000}"}', False)],
)
def test_a_regex_go_refuses_is_refused_at_preview(matcher, refused):
    """Python's re takes all three, Go's RE2 (Prometheus) only the last: tests/tools/test_rule_parity.py proves it."""
    assert (promql_error(matcher) is not None) == refused


def test_a_route_matcher_go_refuses_stops_preview():
    from stacks.config.alerting import _matchers
    from stacks.errors import Problems

    problems = Problems()
    _matchers(['team=~"(?!payments).*"', 'team=~"pay.*"'], "alerting.route.routes[0].matchers", problems)
    assert problems.items == [
        "alerting.route.routes[0].matchers[0]: invalid regular expression (Alertmanager compiles it with Go's RE2): "
        "error parsing regexp: invalid or unsupported Perl syntax: `(?!`"
    ]


def test_the_platforms_histograms_are_declared_in_systems_platform_yml(tmp_path):
    for directory in ("rules", "systems"):
        (tmp_path / directory).mkdir()
    (tmp_path / "rules/platform.yml").write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: SlowQueries\n        expr: histogram_quantile(0.9, sum by "
        '(le) (rate(prometheus_http_request_duration_seconds_bucket{job="prometheus"}[5m]))) > 1\n'
        "        labels: {severity: warning}\n"
    )
    (tmp_path / "rules/.lint").write_text(
        "exclusions:\n  silence-alerts:\n    reason: a test of the contract alone\n    files: [platform.yml]\n"
    )
    with pytest.raises(InputError) as raised:
        load_content(tmp_path)
    assert (
        "rules/platform.yml: [metrics-contract] line 4: histogram prometheus_http_request_duration_seconds is not in "
        "the metrics contract: add its buckets to systems/platform.yml" in str(raised.value)
    )
    (tmp_path / "systems/platform.yml").write_text(
        "metrics:\n  prometheus_http_request_duration_seconds:\n    type: histogram\n    help: h\n"
        "    jobs: [prometheus]\n    buckets: [0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120]\n"
    )
    assert load_content(tmp_path).jobs == {}  # the platform's jobs are not declared in systems/
    (tmp_path / "systems/platform.yml").write_text("jobs:\n  platform-api: x\n")
    with pytest.raises(InputError) as raised:
        load_content(tmp_path)
    assert "systems/platform.yml:1: jobs: the platform's jobs are the stack's own services and agents" in str(
        raised.value
    )


def test_an_imported_dashboard_reading_a_service_the_stack_lacks_is_left_out_with_a_warning(
    content_copy, logged_warnings
):
    """The corpus' nginx logs dashboard reads Loki: a stack without Loki deploys the rest, and says what it left."""
    folder = content_copy / "dashboards/Vendor"
    folder.mkdir()
    shutil.copy(CORPUS / "dashboards/mixin_nginx_nginx-logs.json", folder)
    shutil.copy(CORPUS / "dashboards/mixin_nginx_nginx-metrics.json", folder)
    config, secrets = configured_stack("dev")
    config.update({"monitoring:services": ["prometheus", "alertmanager", "grafana"], "monitoring:systems": ["mindhit"]})
    run = run_program("dev", config, secrets)
    sent = {json.loads(unwrap(r.inputs)["configJson"])["title"] for r in run.recorder.by_type(DASHBOARD)}
    logs = json.loads((folder / "mixin_nginx_nginx-logs.json").read_text())["title"]
    metrics = json.loads((folder / "mixin_nginx_nginx-metrics.json").read_text())["title"]
    assert metrics in sent and logs not in sent
    assert (
        "dashboards/Vendor/mixin_nginx_nginx-logs.json: reads the loki datasource, which this stack does not run: "
        "left out of this stack (add it to services)" in logged_warnings
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # What Grafana's dashboard API refuses (pkg/services/dashboards/service/dashboard_service.go,
        # ValidateBasicDashboardProperties; pkg/util/shortid_generator.go): an error for an imported dashboard too.
        ({"title": "  "}, "$.title: a dashboard needs a non-empty title"),
        ({"title": "x" * 5001}, "$.title: is 5001 characters: Grafana takes at most 5000"),
        ({"uid": "a" * 41}, "$.uid: must be 1-40 letters, digits, '-' or '_'"),
        ({"uid": "has space"}, "$.uid: must be 1-40 letters, digits, '-' or '_'"),
    ],
)
def test_what_grafanas_api_refuses_stops_preview_for_imported_dashboards(tmp_path, changes, expected):
    folder = tmp_path / "dashboards/Vendor"
    folder.mkdir(parents=True)
    model = json.loads((CORPUS / "dashboards/mixin_nginx_nginx-metrics.json").read_text())
    (folder / "nginx.json").write_text(json.dumps({**model, **changes}))
    with pytest.raises(InputError) as raised:
        load_content(tmp_path)
    assert f"dashboards/Vendor/nginx.json: {expected}" in str(raised.value)


def test_what_grafana_trims_is_taken(tmp_path):
    folder = tmp_path / "dashboards/Vendor"
    folder.mkdir(parents=True)
    model = json.loads((CORPUS / "dashboards/mixin_nginx_nginx-metrics.json").read_text())
    (folder / "nginx.json").write_text(json.dumps({**model, "uid": " nginx-metrics ", "title": " Nginx "}))
    (dashboard,) = load_content(tmp_path).dashboards
    assert dashboard.uid == "nginx-metrics"


def test_preview_ends_with_a_total_per_severity(content_copy, monkeypatch, logged_warnings):
    import pulumi

    infos: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *args, **kwargs: infos.append(message))
    (content_copy / "dashboards/Vendor").mkdir()
    shutil.copy(CORPUS / "dashboards/mixin_nginx_nginx-metrics.json", content_copy / "dashboards/Vendor")
    run_program("dev", *configured_stack("dev"))
    assert len(logged_warnings) == 1 and infos[-1] == "content: 0 errors, 1 warning"  # the dashboard's schema findings
    config, secrets = configured_stack("dev")
    config["monitoring:bindAdress"] = "127.0.0.1"
    assert run_expecting_error("dev", config, secrets).endswith("\n1 error")
