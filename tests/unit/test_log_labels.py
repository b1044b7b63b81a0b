"""Logs that queries can find: the Promtail pipeline writes one documented label set, with levels in lower
case and the application's own timestamps; every LogQL stream selector of the dashboards and the
Grafana-managed rules selects on those labels and levels, and preview stops on one that does not.

Promtail itself is AGPL and does not run here: the pipeline is checked as rendered (its stages and the
labels they write), not executed."""

from __future__ import annotations

import json

import pytest
import yaml
from rendering import rendered_files

from stacks.content import load_content
from stacks.content.log_labels import log_selector_problems, stream_selectors
from stacks.errors import InputError

LABELS = {"job", "container", "service", "stream", "level", "environment", "host"}


def pipeline() -> dict:
    return yaml.safe_load(rendered_files("dev")["promtail.yaml"])


def test_the_pipeline_writes_the_documented_labels_and_no_others():
    config = pipeline()
    (scrape,) = config["scrape_configs"]
    written = {r["target_label"] for r in scrape["relabel_configs"]}
    written |= {key for stage in scrape["pipeline_stages"] if "labels" in stage for key in stage["labels"]}
    written |= set(config["clients"][0]["external_labels"])
    assert written == LABELS


def test_levels_are_lower_cased_before_they_become_a_label_and_times_come_from_the_line():
    stages = pipeline()["scrape_configs"][0]["pipeline_stages"]
    kinds = [next(iter(stage)) for stage in stages]
    assert kinds == ["json", "template", "labels", "timestamp", "timestamp"]
    assert stages[0]["json"]["expressions"] == {"level": "level", "time": "time", "timestamp": "timestamp"}
    assert stages[1]["template"] == {
        "source": "level",
        "template": '{{ Replace (ToLower .Value) "warning" "warn" -1 }}',
    }
    assert [s["timestamp"] for s in stages[3:]] == [
        {"source": "time", "format": "RFC3339Nano", "action_on_failure": "skip"},  # slog (MindHit)
        {"source": "timestamp", "format": "2006-01-02T15:04:05.000Z0700", "action_on_failure": "skip"},  # zap (K-ERP)
    ]


def test_stream_selectors_are_found_outside_strings():
    query = (
        'sum(count_over_time({job="docker", service=~"a|b"} | line_format "{{.msg}}" [5m]))'
        ' / count_over_time({job="docker"}[5m])'
    )
    assert stream_selectors(query) == ['{job="docker", service=~"a|b"}', '{job="docker"}']


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('{job="docker", service="user-service", level="error"}', []),
        ('{job="docker", level=~"warn|error"}', []),
        ('{job="docker", level!="debug"}', []),
        (
            '{compose_service="user-service"}',
            [
                "{compose_service=\"user-service\"} selects on 'compose_service', which no log stream has: the labels "
                "are job, container, service, stream, level, environment, host (stacks/layout.py)"
            ],
        ),
        (
            '{job="containerlogs"} |= "mindhit"',
            [
                "{job=\"containerlogs\"} compares job with 'containerlogs', which no stream has: every log stream is "
                'job="docker"'
            ],
        ),
        ('{job=~"container.*"}', ["compares job with 'container.*', which no stream has"]),
        ('{job="docker", stream="stderr"}', []),
        ('{job="docker", stream=~"std(out|err)", stream!="stdin"}', []),
        (
            '{job="docker", stream="error"}',
            [
                '{job="docker", stream="error"} compares stream with \'error\', which no stream has: streams are '
                "stdout and stderr"
            ],
        ),
        ('{job="docker", stream=~"STDERR"}', ["compares stream with 'STDERR'"]),
        (
            '{job="docker", level="ERROR"}',
            [
                '{job="docker", level="ERROR"} compares level with \'ERROR\', which no stream has: levels are lower '
                "case (debug, info, warn, error, fatal, panic, trace)"
            ],
        ),
        ('{job="docker", level=~"WARN|WARNING"}', ["compares level with 'WARN|WARNING'"]),
    ],
)
def test_a_stream_selector_against_the_pipelines_labels(query, expected):
    found = log_selector_problems(query)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message


def test_a_panel_querying_a_label_no_stream_has_stops_preview_naming_its_path(content_copy):
    path = content_copy / "dashboards/weAlist/service-detail.json"
    model = json.loads(path.read_text())
    text = json.dumps(model).replace('{job=\\"docker\\", service=\\"$service\\"}', '{compose_service=\\"$service\\"}')
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert "dashboards/weAlist/service-detail.json: $.panels[" in str(raised.value)
    assert "selects on 'compose_service', which no log stream has" in str(raised.value)


def test_a_grafana_rule_on_an_upper_case_level_stops_preview_naming_the_rule(content_copy):
    path = content_copy / "rules/grafana/platform-logs.yml"
    path.write_text(path.read_text().replace('level="error"', 'level="ERROR"'))
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert "rules/grafana/platform-logs.yml: group " in str(raised.value)
    assert "compares level with 'ERROR', which no stream has" in str(raised.value)


# The stack's own compose services, and weAlist's (systems/wealist.yml), as the messages list them.
STACK_SERVICES = "prometheus, alertmanager, loki, promtail, grafana, node-exporter, cadvisor"
WEALIST_SERVICES = (
    "user-service, auth-service, board-service, chat-service, noti-service, storage-service, video-service, "
    "postgres-exporter, redis-exporter, wealist-postgres-exporter, wealist-redis-exporter"
)
KNOWN = f"wealist's are {WEALIST_SERVICES} (systems/wealist.yml services; the stack's own: {STACK_SERVICES})"
SILENCE = '(to turn the rule off for this file: dashboards/weAlist/.lint: exclusions: {log-services: {reason: "<why>", '


def log_panel_problems(content_copy, variables: list[dict], expr: str) -> list[str]:
    """Preview's problems for weAlist's developer dashboard with these variables and its log panel's query."""
    path = content_copy / "dashboards/weAlist/developer.json"
    model = json.loads(path.read_text())
    model["templating"]["list"] = variables
    for panel in model["panels"]:
        for target in panel.get("targets") or []:
            if target.get("datasource", {}).get("type") == "prometheus":
                target["expr"] = 'sum(up{job="wealist-user-service"})'  # the Prometheus panels out of the way
            else:
                target["expr"] = expr
    path.write_text(json.dumps(model))
    try:
        load_content(content_copy)
    except InputError as error:
        return error.problems
    return []


JOBS = {  # $service as the seed's dashboards had it: the scrape jobs
    "name": "service",
    "type": "query",
    "datasource": {"type": "prometheus", "uid": "prometheus"},
    "query": 'label_values(http_requests_total{job=~"wealist-.+"}, job)',
    "multi": True,
}


def test_weAlists_old_log_panels_on_job_names_stop_preview(content_copy):
    for name in ("developer.json", "service-detail.json"):
        path = content_copy / "dashboards/weAlist" / name
        text = (
            path.read_text()
            .replace('"regex": "/^wealist-(.+)$/"', '"regex": ""')
            .replace("wealist-$service", "$service")
        )
        path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    developer, detail = raised.value.problems[:2]
    assert developer == (
        'dashboards/weAlist/developer.json: [log-services] $.panels[11].targets[0].expr: {job="docker", '
        'service=~"$service", level="error"}: service=~"$service" finds no log stream with $service = '
        "'wealist-user-service', $service = 'wealist-board-service', $service = 'wealist-chat-service' and 3 more "
        '($service: from label_values(http_requests_total{job=~"wealist-.+"}, job)): '
        f"{KNOWN} {SILENCE}dashboards: [developer.json]}}}})"
    )
    assert detail.startswith(
        "dashboards/weAlist/service-detail.json: [log-services] 2 findings: $.panels[15].targets[0].expr: "
    )
    assert "$.panels[16].targets[0].expr: " in detail


@pytest.mark.parametrize(
    ("variables", "expr", "finding"),
    [
        (  # a literal value
            [],
            '{job="docker", service="wealist-user-service"}',
            '{job="docker", service="wealist-user-service"} compares service="wealist-user-service", and no log '
            f"stream has such a service: {KNOWN}",
        ),
        (  # a regex that matches none
            [],
            '{service=~"wealist-user.*"}',
            '{service=~"wealist-user.*"} compares service=~"wealist-user.*", and no log stream has such a service: '
            + KNOWN,
        ),
        (  # a custom variable's values; one of them is a service
            [{"name": "svc", "type": "custom", "query": "user-service,users"}],
            '{service="$svc"}',
            '{service="$svc"}: service="$svc" finds no log stream with $svc = \'users\' ($svc: its custom values): '
            + KNOWN,
        ),
        (  # the All value is put in as it is: in an equality it is no service
            [{**JOBS, "regex": "/^wealist-(.+)$/", "includeAll": True, "allValue": ".+"}],
            '{service="$service"}',
            '{service="$service"}: service="$service" finds no log stream with $service = \'.+\' ($service: from '
            'label_values(http_requests_total{job=~"wealist-.+"}, job) through its regex /^wealist-(.+)$/): ' + KNOWN,
        ),
    ],
)
def test_a_log_query_on_a_service_no_stream_has_stops_preview(content_copy, variables, expr, finding):
    (problem,) = log_panel_problems(content_copy, variables, expr)[:1]
    assert problem.startswith(
        f"dashboards/weAlist/developer.json: [log-services] $.panels[11].targets[0].expr: {finding}"
    )


@pytest.mark.parametrize(
    ("variables", "expr"),
    [
        ([], '{service="user-service"}'),
        ([], '{service="wealist-postgres-exporter"}'),  # the stack's exporter, under its job
        ([], '{service="grafana"}'),  # the stack's own
        ([], '{service=~".+-service"}'),
        ([], '{job="docker", service!="wealist-user-service", service!~"x.+"}'),  # they select the others
        (
            [{**JOBS, "regex": "/^wealist-(.+)$/", "includeAll": True, "allValue": ".+"}],
            '{job="docker", service=~"$service"}',
        ),
        ([{**JOBS, "regex": "/^wealist-(?<value>.+)-service$/"}], '{service="${service}-service"}'),
        (
            [{"name": "svc", "type": "custom", "query": "user-service,users", "regex": "/-service$/"}],
            '{service="$svc"}',
        ),
        # values not known here: a Loki label_values query, a textbox
        (
            [
                {
                    "name": "service",
                    "type": "query",
                    "datasource": {"type": "loki", "uid": "loki"},
                    "query": "label_values(service)",
                }
            ],
            '{service="$service"}',
        ),
        ([{"name": "service", "type": "textbox", "query": ""}], '{service="$service"}'),
    ],
)
def test_a_log_query_on_the_services_of_its_system_or_the_stack_passes(content_copy, variables, expr):
    assert log_panel_problems(content_copy, variables, expr) == []


def test_log_services_is_turned_off_per_dashboard_by_its_lint_file(content_copy):
    lint = content_copy / "dashboards/weAlist/.lint"
    reason = {"reason": "logs of another project", "dashboards": ["developer.json"]}
    lint.write_text(yaml.safe_dump({"exclusions": {"log-services": reason}}))
    assert log_panel_problems(content_copy, [], '{service="orders"}') == []


def test_a_systems_services_are_compose_service_names(content_copy):
    path = content_copy / "systems/wealist.yml"
    path.write_text(path.read_text().replace("  redis-exporter: redis_exporter", "  redis exporter: redis_exporter"))
    (content_copy / "systems/platform.yml").write_text("services: {web: nginx}\n")
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert raised.value.problems[:2] == [
        "systems/platform.yml:1: services: the platform's services are the stack's own services and agents: give only "
        "its metrics",
        "systems/wealist.yml:17: services.redis exporter: must be a compose service name: letters, digits, '.', '_' "
        "and '-'",
    ]


def custom(name: str, values: str, **fields) -> dict:
    return {"name": name, "type": "custom", "query": values, **fields}


@pytest.mark.parametrize(
    ("variables", "expr", "finding"),
    [
        (  # a value is escaped in a regex matcher, as Grafana does: user-servic. is no service then
            [custom("s", "user-servic.")],
            '{job="docker", service=~"$s"}',
            '{job="docker", service=~"$s"}: service=~"$s" finds no log stream with $s = \'user-servic.\' ($s: '
            "its custom values)",
        ),
        (  # two variables, in both of Grafana's other spellings
            [custom("a", "user"), custom("b", "service,svc")],
            '{service="${a}-[[b]]"}',
            "{service=\"${a}-[[b]]\"}: service=\"${a}-[[b]]\" finds no log stream with $a = 'user' and $b = 'svc' "
            "($a: its custom values; $b: its custom values)",
        ),
        (  # three values named, no more
            [custom("s", "a,b,c")],
            '{service="$s"}',
            "{service=\"$s\"}: service=\"$s\" finds no log stream with $s = 'a', $s = 'b', $s = 'c' ($s: its custom "
            "values)",
        ),
        (
            [custom("s", "a,b,c,d")],
            '{service="$s"}',
            "{service=\"$s\"}: service=\"$s\" finds no log stream with $s = 'a', $s = 'b', $s = 'c' and 1 more ($s: "
            "its custom values)",
        ),
        (  # a custom option written `text : value`, Grafana's value being the part after the colon
            [custom("s", "Users : user-service, Nope : nope")],
            '{service="$s"}',
            '{service="$s"}: service="$s" finds no log stream with $s = \'nope\' ($s: its custom values)',
        ),
        (  # the query as an object (Grafana 10 and later); a variable without a name and one of Loki come first
            [
                {"type": "custom", "query": "x"},
                {"name": "l", "type": "query", "datasource": {"type": "loki", "uid": "loki"}, "query": "x"},
                {**JOBS, "query": {"query": JOBS["query"], "refId": "A"}},
            ],
            '{service="$l", service="$service"}',
            '{service="$l", service="$service"}: service="$service" finds no log stream with $service = '
            "'wealist-user-service', $service = 'wealist-board-service', $service = 'wealist-chat-service' and 3 more",
        ),
        (  # Grafana's regex flags: i
            [{**JOBS, "regex": "/^WEALIST-(.+)-SERVICE$/i"}],
            '{service="$service"}',
            '{service="$service"}: service="$service" finds no log stream with $service = \'user\', $service = '
            "'board', $service = 'chat' and 3 more",
        ),
        (  # one selector that does not parse (a variable outside a string), then one on no service
            [],
            'sum(count_over_time({service=$s}[5m])) / sum(count_over_time({job="docker", service="nope"}[5m]))',
            '{job="docker", service="nope"} compares service="nope", and no log stream has such a service',
        ),
        (  # a service matcher that finds one, then one that finds none
            [],
            '{job="docker", service="user-service", service=~"nope.*"}',
            '{job="docker", service="user-service", service=~"nope.*"} compares service=~"nope.*", and no log stream',
        ),
        (  # a negative matcher selects the other services; the next one is still read
            [],
            '{job="docker", service!="user-service", service="nope"}',
            '{job="docker", service!="user-service", service="nope"} compares service="nope", and no log stream',
        ),
        (  # the group named text when there is no group named value, not the first group
            [{**JOBS, "regex": "/^(wealist)-(?<text>.+)-service$/"}],
            '{service="$service"}',
            '{service="$service"}: service="$service" finds no log stream with $service = \'user\', $service = '
            "'board', $service = 'chat' and 3 more",
        ),
        (  # a named group of any name is a group: the first one, here a capital's
            [{**JOBS, "regex": "/^(?<System>wealist)-(.+)$/"}],
            '{service="$service"}',
            '{service="$service"}: service="$service" finds no log stream with $service = \'wealist\'',
        ),
        (  # no group: the value itself; and the flag g, which changes nothing for one match
            [{**JOBS, "regex": "/^wealist-user-service$/g"}],
            '{service="$service"}',
            '{service="$service"}: service="$service" finds no log stream with $service = \'wealist-user-service\'',
        ),
        (  # a second variable in a regex matcher is escaped as the first is: serv.ce is no service then
            [custom("a", "user"), custom("b", "serv.ce")],
            '{service=~"$a-$b"}',
            "{service=~\"$a-$b\"}: service=~\"$a-$b\" finds no log stream with $a = 'user' and $b = 'serv.ce'",
        ),
        (  # a variable whose regex is not known is passed over, and the next one still read
            [{**JOBS, "regex": "/^wealist-(.+"}, custom("s", "nope")],
            '{service="$service", service="$s"}',
            '{service="$service", service="$s"}: service="$s" finds no log stream with $s = \'nope\'',
        ),
        (  # a custom option's value keeps its spaces
            [custom("s", "Mine : my service")],
            '{service="$s"}',
            '{service="$s"}: service="$s" finds no log stream with $s = \'my service\'',
        ),
    ],
)
def test_each_option_of_a_log_querys_variables_must_find_a_service(content_copy, variables, expr, finding):
    problems = [p for p in log_panel_problems(content_copy, variables, expr) if "[log-services]" in p]
    assert problems and problems[0].startswith(
        f"dashboards/weAlist/developer.json: [log-services] $.panels[11].targets[0].expr: {finding}"
    ), problems


@pytest.mark.parametrize(
    ("variables", "expr"),
    [
        ([{**JOBS, "regex": "/^(wealist)-(?<value>.+)-service$/"}], '{service="${service}-service"}'),  # named
        ([{**JOBS, "regex": "/^wealist-(?<text>.+)$/"}], '{service="$service"}'),
        ([{**JOBS, "regex": "user.*"}], '{service="$service"}'),  # bare: anchored, so no job is an option
        ([{**JOBS, "regex": "/^wealist-(.+"}], '{service="$service"}'),  # not a regex: Grafana refuses it
        (  # no closing slash: Grafana refuses it, so not even the All value is known
            [{**JOBS, "regex": "/wealist", "includeAll": True, "allValue": "nope"}],
            '{service="$service"}',
        ),
        ([{**JOBS, "regex": "/wealist-/x"}], '{service="$service"}'),  # a flag JavaScript has not
        ([custom("s", "user-service", includeAll=False, allValue="nope")], '{service="$s"}'),  # no All option
        ([{**JOBS, "type": "textbox"}], '{service="$service"}'),  # typed in: not known here
        ([{**JOBS, "query": 'label_values(http_requests_total{job=~"wealist-.+"}, instance)'}], '{service="$service"}'),
        ([{**JOBS, "query": 'label_values(up{job=~"wealist-.+"} + up, job)'}], '{service="$service"}'),
    ],
)
def test_options_grafana_makes_services_of_or_that_are_not_known_pass(content_copy, variables, expr):
    assert [p for p in log_panel_problems(content_copy, variables, expr) if "[log-services]" in p] == []


def test_a_system_that_declares_no_services_has_the_stacks_own_only(content_copy):
    path = content_copy / "dashboards/MindHit/business-metrics.json"
    model = json.loads(path.read_text())
    model["panels"][0]["targets"].append(
        {"refId": "L", "datasource": {"type": "loki", "uid": "loki"}, "expr": '{job="docker", service="mindhit-api"}'}
    )
    path.write_text(json.dumps(model))
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert raised.value.problems[0].startswith(
        'dashboards/MindHit/business-metrics.json: [log-services] $.panels[0].targets[1].expr: {job="docker", '
        'service="mindhit-api"} compares service="mindhit-api", and no log stream has such a service: mindhit '
        "declares none (systems/mindhit.yml services; the stack's own: prometheus, alertmanager, loki, promtail, "
        "grafana, node-exporter, cadvisor)"
    )


def test_a_dashboard_the_lint_file_excludes_does_not_hide_the_next_one(content_copy):
    lint = content_copy / "dashboards/weAlist/.lint"
    lint.write_text(yaml.safe_dump({"exclusions": {"log-services": {"reason": "r", "dashboards": ["developer.json"]}}}))
    for name in ("developer.json", "service-detail.json"):
        path = content_copy / "dashboards/weAlist" / name
        path.write_text(path.read_text().replace('\\"docker\\", service=', '\\"docker\\", service=\\"nope\\", x='))
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    (problem,) = [p for p in raised.value.problems if "[log-services]" in p]
    assert problem.startswith("dashboards/weAlist/service-detail.json: [log-services] ")


def test_a_systems_services_are_a_mapping(content_copy):
    path = content_copy / "systems/observer.yml"
    path.write_text(path.read_text() + "services: [collector]\n")
    with pytest.raises(InputError) as raised:
        load_content(content_copy)
    assert (
        "systems/observer.yml:4: services: must be a mapping of compose service names to what they run, got "
        "['collector']"
    ) in raised.value.problems


def test_odd_targets_and_variables_are_passed_over(content_copy):
    """What Grafana would skip (a target or a variable that is not an object) is no crash at preview, with the
    schema rule that refuses them turned off, as for a dashboard imported as its vendor publishes it."""
    reason = {"reason": "exported as is", "dashboards": ["developer.json"]}
    (content_copy / "dashboards/weAlist/.lint").write_text(yaml.safe_dump({"exclusions": {"schema": reason}}))
    path = content_copy / "dashboards/weAlist/developer.json"
    model = json.loads(path.read_text())
    model["templating"]["list"].insert(0, "not a variable")
    (logs,) = [p for p in model["panels"] if p["id"] == 12]
    logs["targets"].append("not a target")
    path.write_text(json.dumps(model))
    assert load_content(content_copy).dashboards
