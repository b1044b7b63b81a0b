"""`python -m stacks new-system <name> --job <job>=<host:port>`: a declared system in one step, whose content passes
every check and test of the repository as written.

It writes systems/<name>.yml (its jobs, and the one metric every official client library exposes), rules/<name>.yml
(an alert for a target down and one for a target missing), their promtool tests, a starter dashboard, a case in
rules/tests/systems_test.yml (its target down fires its alert and no other system's), and the rows of
tests/routing_table.yaml for every stack that deploys all systems. It prints the scrape target and the receiver to
add to a stack file: stack files are the user's, and are not edited.

The renderers below are pure: `new_system_files` returns what to write, from the new system and what it is added to
(a `Repository`, which stacks/__main__.py reads), and `write_files` writes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from stacks.config.scraping import HOST_PORT
from stacks.config.settings import Route
from stacks.content._names import ROOT, system_of
from stacks.content.model import RuleFile, System
from stacks.content.systems import load_systems
from stacks.errors import Problems
from stacks.layout import JOB_NAME
from stacks.syntax.promql import expression_facts

_NAME = re.compile(r"[a-z][a-z0-9]*")
_SEVERITIES = ("critical", "warning", "info")
_DATASOURCE = {"type": "prometheus", "uid": "prometheus"}


@dataclass(frozen=True)
class NewSystem:
    name: str
    """The system's key: systems/<name>.yml, rules/<name>.yml, the `system` label, the `systems` setting."""
    title: str
    """The Grafana folder (dashboards/<title>/), which must name the same system."""
    jobs: Mapping[str, str]
    """Scrape job -> the host:port it scrapes."""

    @property
    def alert_prefix(self) -> str:
        return re.sub(r"[^A-Za-z0-9]", "", self.title.title() if self.title.islower() else self.title)

    @property
    def job_matcher(self) -> str:
        return System(self.name, tuple(self.jobs)).job_matcher


@dataclass(frozen=True)
class Repository:
    """What a new system is added to: the shared test files' texts, the rule files of the declared systems, and the
    route tree of each stack that deploys all systems and has rows in the routing table."""

    systems_test: str
    """rules/tests/systems_test.yml"""
    declared_rule_files: tuple[RuleFile, ...]
    routing_table: str
    """tests/routing_table.yaml"""
    routes: Mapping[str, Route]
    """Stack name -> its route tree."""


def parse_new_system(name: str, jobs: list[str], title: str | None, root: Path = ROOT) -> NewSystem:
    """The arguments checked against what exists: the name free, each job `name=host:port` and nobody's yet."""
    problems = Problems()
    title = title or name.capitalize()
    if not _NAME.fullmatch(name) or name == "platform":
        problems.add(
            "name", f"must be lower-case letters and digits, starting with a letter (not platform), got {name!r}"
        )
    elif (root / "systems" / f"{name}.yml").exists() or (root / "rules" / f"{name}.yml").exists():
        problems.add("name", f"{name!r} exists already (systems/{name}.yml or rules/{name}.yml)")
    if system_of(title) != name:
        problems.add("--title", f"{title!r} would be the folder of system {system_of(title)!r}, not {name!r}")
    elif (root / "dashboards" / title).exists():
        problems.add("--title", f"dashboards/{title}/ exists already")
    owners = {
        job: system.name for system in load_systems(root / "systems", Problems(), root).values() for job in system.jobs
    }
    parsed: dict[str, str] = {}
    for i, spec in enumerate(jobs or []):
        job, _, target = spec.partition("=")
        if not JOB_NAME.match(job) or not HOST_PORT.fullmatch(target):
            problems.add(
                f"--job[{i}]", f"must look like <job>=<host:port> (myapp-api=host.docker.internal:8080), got {spec!r}"
            )
        elif job in owners or job in parsed:
            problems.add(
                f"--job[{i}]", f"job {job!r} is already a job of {owners.get(job, name)}: a job belongs to one system"
            )
        else:
            parsed[job] = target
    if not jobs:
        problems.add("--job", "give at least one: <job>=<host:port>, the scrape job and where its /metrics answers")
    problems.raise_if_any()
    return NewSystem(name, title, parsed)


def new_system_files(system: NewSystem, repository: Repository) -> dict[str, str]:
    """Path (relative to the root) -> the text to write: new files, and the two shared files with their additions."""
    return {
        f"systems/{system.name}.yml": _systems_file(system),
        f"rules/{system.name}.yml": _rules_file(system),
        f"rules/tests/{system.name}_test.yml": _rule_tests(system),
        f"dashboards/{system.title}/overview.json": json.dumps(_dashboard(system), indent=2) + "\n",
        "rules/tests/systems_test.yml": _systems_test(system, repository),
        "tests/routing_table.yaml": _routing_table(system, repository),
    }


def next_steps(system: NewSystem) -> str:
    """What the user adds to a stack file: the scrape targets, and a receiver of its own."""
    targets = "\n".join(
        f"  pulumi config set --path 'scrapeTargets[N].job' {job}\n"
        f"  pulumi config set --path 'scrapeTargets[N].targets[0]' {target}"
        for job, target in system.jobs.items()
    )
    return (
        f"Scrape its jobs in each stack that deploys it (N: the next index of scrapeTargets), or label its containers "
        f"monitoring.job=<job> where app discovery is on:\n{targets}\n\n"
        f"Its alerts carry system={system.name}; until a route names it they go by severity, as the routing-table rows "
        f"written say. A receiver of its own, in a stack file's monitoring:alerting (then update those rows):\n"
        f"  receivers:\n    - name: {system.name}\n      webhooks:\n        - url: <where {system.name}'s alerts go>\n"
        f"  route:\n    routes:\n      - matchers: ['system=\"{system.name}\"']\n        receiver: {system.name}\n"
    )


def write_files(files: Mapping[str, str], root: Path = ROOT) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- the renderers


def _systems_file(system: NewSystem) -> str:
    jobs = "".join(f"  {job}: scraped at {target}\n" for job, target in system.jobs.items())
    return (
        f"# {system.title}: declared by `python -m stacks new-system`. Its rules and dashboards get the strict checks\n"
        '# (docs/systems.md, "The metrics contract"): add each metric its rules and panels read to `metrics`, with a\n'
        "# histogram's buckets.\n"
        f"jobs:\n{jobs}"
        "metrics:\n"
        "  process_start_time_seconds:  # every official Prometheus client library exposes it\n"
        "    type: gauge\n"
        "    help: Start time of the process since unix epoch in seconds.\n"
        f"    jobs: [{', '.join(system.jobs)}]\n"
    )


def _alerts(system: NewSystem) -> list[dict]:
    missing = " or ".join(f'absent(up{{job="{job}"}})' for job in system.jobs)
    labels = lambda severity: {"severity": severity, "system": system.name}  # noqa: E731
    return [
        {
            "alert": f"{system.alert_prefix}TargetDown",
            "expr": f"up{{{system.job_matcher}}} == 0",
            "for": "2m",
            "labels": labels("critical"),
            "annotations": {
                "summary": "{{ $labels.job }} target {{ $labels.instance }} is down",
                "description": "Prometheus has not scraped {{ $labels.instance }} ({{ $labels.job }}) for 2 minutes.",
            },
        },
        {
            "alert": f"{system.alert_prefix}TargetMissing",
            "expr": missing,
            "for": "5m",
            "labels": labels("warning"),
            "annotations": {
                "summary": "{{ $labels.job }} has no target",
                "description": "No target of job {{ $labels.job }} was scraped for 5 minutes: is it in scrapeTargets?",
            },
        },
    ]


def _rules_file(system: NewSystem) -> str:
    header = (
        f'# {system.title}: silence is an alert (docs/systems.md, "Silence is an alert"): a target down, and a job\n'
        "# with no target.\n"
    )
    return header + _yaml({"groups": [{"name": f"{system.name}-targets", "rules": _alerts(system)}]})


def _rule_tests(system: NewSystem) -> str:
    down, missing = (alert["alert"] for alert in _alerts(system))
    series = [(job, target) for job, target in system.jobs.items()]
    tests = [
        {
            "name": f"{system.name}: a target down fires {down}",
            "interval": "1m",
            "input_series": [
                {"series": f'up{{job="{job}", instance="{target}"}}', "values": "0x10"} for job, target in series
            ],
            "alert_rule_test": [
                {
                    "eval_time": "5m",
                    "alertname": down,
                    "exp_alerts": [_down_alert(system, job, target) for job, target in series],
                },
                {"eval_time": "5m", "alertname": missing, "exp_alerts": []},
            ],
        },
        {
            "name": f"{system.name}: targets up fire nothing",
            "interval": "1m",
            "input_series": [
                {"series": f'up{{job="{job}", instance="{target}"}}', "values": "1x10"} for job, target in series
            ],
            "alert_rule_test": [
                {"eval_time": "10m", "alertname": down, "exp_alerts": []},
                {"eval_time": "10m", "alertname": missing, "exp_alerts": []},
            ],
        },
        {
            "name": f"{system.name}: a job without a target fires {missing}",
            "interval": "1m",
            "input_series": [],
            "alert_rule_test": [
                {
                    "eval_time": "10m",
                    "alertname": missing,
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "warning", "system": system.name, "job": job},
                            "exp_annotations": {
                                "summary": f"{job} has no target",
                                "description": f"No target of job {job} was scraped for 5 minutes: is it in "
                                "scrapeTargets?",
                            },
                        }
                        for job in system.jobs
                    ],
                },
            ],
        },
    ]
    return _yaml({"rule_files": [f"../{system.name}.yml"], "evaluation_interval": "1m", "tests": tests})


def _down_alert(system: NewSystem, job: str, target: str) -> dict:
    """The TargetDown alert promtool must see for one target, written out (not rendered by Prometheus' code)."""
    return {
        "exp_labels": {"severity": "critical", "system": system.name, "job": job, "instance": target},
        "exp_annotations": {
            "summary": f"{job} target {target} is down",
            "description": f"Prometheus has not scraped {target} ({job}) for 2 minutes.",
        },
    }


def _dashboard(system: NewSystem) -> dict:
    matcher = system.job_matcher

    def panel(id_: int, kind: str, title: str, expr: str, unit: str, x: int, y: int, w: int, legend: str) -> dict:
        return {
            "id": id_,
            "gridPos": {"h": 8, "w": w, "x": x, "y": y},
            "type": kind,
            "title": title,
            "datasource": _DATASOURCE,
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"datasource": _DATASOURCE, "refId": "A", "expr": expr, "legendFormat": legend, "range": True}],
        }

    return {
        "title": f"{system.title} / Overview",
        "uid": f"{system.name}-overview",
        "description": f"{system.title}'s scrape targets: a starter, from `python -m stacks new-system`.",
        "tags": [system.name],
        "editable": True,
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "panels": [
            panel(1, "stat", "Targets up", f"sum(up{{{matcher}}})", "none", 0, 0, 8, "up"),
            panel(
                2,
                "timeseries",
                "Scrape duration",
                f"scrape_duration_seconds{{{matcher}}}",
                "s",
                8,
                0,
                16,
                "{{instance}}",
            ),
            panel(
                3,
                "timeseries",
                "Uptime",
                f"time() - process_start_time_seconds{{{matcher}}}",
                "s",
                0,
                8,
                24,
                "{{instance}}",
            ),
        ],
    }


def _systems_test(system: NewSystem, repository: Repository) -> str:
    """rules/tests/systems_test.yml with the new rule file and one case: its target down fires its alert, and none
    of the alerts of the other systems that read `up` (tests/unit/test_ownership.py wants a case per such pair)."""
    others: dict[str, set[str]] = {}  # declared system whose rules read `up` -> its alerts that read it outside absent
    for rule_file in repository.declared_rule_files:
        if any("up" in {s.name for s in expression_facts(expr).selectors} for _, expr in rule_file.expressions):
            others.setdefault(rule_file.system, set())
        for alert, expr in zip(rule_file.alerts, rule_file.alert_expressions, strict=True):
            facts = expression_facts(expr)
            if any(s.name == "up" and s not in facts.absent for s in facts.selectors):
                others[rule_file.system].add(alert)
    down = _alerts(system)[0]["alert"]
    job, target = next(iter(system.jobs.items()))
    case = {
        "name": f"{system.name} vs {', '.join(sorted(others))}: a {system.title} target down fires {down}, no other "
        "system's",
        "interval": "1m",
        "input_series": [{"series": f'up{{job="{job}", instance="{target}"}}', "values": "0x10"}],
        "alert_rule_test": [
            {
                "eval_time": "5m",
                "alertname": down,
                "exp_alerts": [_down_alert(system, job, target)],
            },
            *(
                {"eval_time": "5m", "alertname": alert, "exp_alerts": []}
                for alert in sorted(set().union(*others.values()))
            ),
        ],
    }
    rule_file_line = f"  - ../{system.name}.yml\n"
    lines = repository.systems_test.splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith("  - ../"))
    lines.insert(last + 1, rule_file_line)
    block = "".join(f"  {line}" for line in _yaml([case]).splitlines(keepends=True))  # under `tests:`
    return "".join(lines).rstrip("\n") + "\n\n" + block


def _routing_table(system: NewSystem, repository: Repository) -> str:
    """tests/routing_table.yaml with rows for the new system in each stack of `repository.routes`, each row's
    receivers as that stack's route tree sends it."""
    text = repository.routing_table
    for stack, route in repository.routes.items():
        alerts = {alert["labels"]["severity"]: alert["alert"] for alert in _alerts(system)}
        rows = ""
        for severity in _SEVERITIES:
            labels = {
                "alertname": alerts.get(severity, f"{system.alert_prefix}Notice"),
                "severity": severity,
                "system": system.name,
            }
            receivers = route.receivers_for(labels)
            rows += f"  - labels: {{alertname: {labels['alertname']}, severity: {severity}, system: {system.name}}}\n"
            rows += f"    receivers: [{', '.join(receivers)}]\n"
        text = _append_to_list(text, stack, rows)
    return text


def _append_to_list(text: str, key: str, rows: str) -> str:
    """The YAML text with rows added at the end of the top-level list `key:` (comments and order kept)."""
    lines = text.splitlines(keepends=True)
    start = lines.index(f"{key}:\n")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1].strip() and not lines[i].startswith("#")), len(lines)
    )
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "".join(lines[:end]) + rows + "".join(lines[end:])


def _yaml(data: object) -> str:
    return yaml.dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)
