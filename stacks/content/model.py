"""What the content files are read into, and nothing that reads them: the loaders and checks beside this module
make these, and the renderers and resources read them alone."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stacks.content._names import ALWAYS_DEPLOYED, system_of
from stacks.content.findings import LintFile
from stacks.layout import METRIC_AGENTS, SERVICES

LINT_FILE = ".lint"  # per folder: rules turned off for some of its dashboards (stacks/content/dashboard_lint.py)
RULES_LINT_FILE = "rules/.lint"  # rule-file lint rules turned off for some files, as a dashboard folder's .lint does


@dataclass(frozen=True)
class Dashboard:
    folder: str  # the directory under dashboards/, which is the Grafana folder title
    path: Path
    uid: str
    title: str
    model: dict  # normalised: no id or version, uid pinned
    system: str  # which system it belongs to (the `systems` stack key): the folder's, or the SLO spec's
    warnings: tuple[str, ...] = ()
    """Its lint warnings, one line per rule (stacks/content/findings.py), printed by preview."""
    source: str = ""
    """Where it comes from, for problems: dashboards/<Folder>/<file>.json, or the SLO spec that makes it."""
    excluded_rules: frozenset[str] = frozenset()
    """Lint rules its folder's .lint file turns off for it."""
    strict: bool = True
    """A declared system's (systems/): lint errors stop preview. An imported one's findings are all warnings."""

    @property
    def lint_file(self) -> LintFile:
        return dashboard_lint_file(self.source, self.path)

    @property
    def config_json(self) -> str:
        return config_json(self.model)


def config_json(model: dict) -> str:
    """A dashboard model as the provider sends it. Sorted keys and no whitespace: the same file always sends the
    same text."""
    return json.dumps(model, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dashboard_lint_file(source: str, path: Path) -> LintFile:
    return LintFile(source, f"{source.rpartition('/')[0]}/{LINT_FILE}", "dashboards", path.name)


@dataclass(frozen=True)
class RuleFile:
    path: Path
    """The file in rules/, or for generated rules the spec they come from (rules/slos/*.yml)."""
    name: str
    """The file name in the Prometheus container's rules directory."""
    system: str
    text: str
    groups: tuple[str, ...]
    alerts: tuple[str, ...]
    label_names: frozenset[str] = frozenset()
    """Labels its alerts may carry: set by the rule, or kept from the series the expression reads."""
    source: str = ""
    """Where its rules are, for problems: rules/x.yml, or the SLO spec with "(generated rules)"."""
    expressions: tuple[tuple[int, str], ...] = ()
    """(line, PromQL) of every rule."""
    records: tuple[str, ...] = ()
    """The series its recording rules write."""
    alert_expressions: tuple[str, ...] = ()
    """The PromQL of its alerting rules."""
    missing_severity: tuple[tuple[int, str], ...] = ()
    """(line, alert) of its alerts without a severity label (lint rule alert-severity)."""
    alert_labels: tuple[tuple[int, str, tuple[tuple[str, str], ...]], ...] = ()
    """(line, alert, the labels it sets: its group's and its own) of its alerting rules."""

    @property
    def lint_file(self) -> LintFile:
        return LintFile(self.source, RULES_LINT_FILE, "files", self.path.name)


@dataclass(frozen=True)
class GrafanaRule:
    """A Grafana-managed alert rule: one query and a threshold on it."""

    alert: str
    datasource: str  # uid
    expr: str
    op: str  # ">" or "<"
    threshold: float
    for_: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    no_data_state: str


@dataclass(frozen=True)
class GrafanaRuleGroup:
    path: Path
    name: str
    folder: str
    interval_seconds: int
    rules: tuple[GrafanaRule, ...]

    @property
    def system(self) -> str:
        """The system its folder is (Platform: platform), as a dashboard folder's."""
        return system_of(self.folder)


@dataclass(frozen=True)
class NotificationTemplate:
    path: Path
    source: str
    """templates/<file>.tmpl, for problems."""
    text: str
    defined: frozenset[str]
    used: frozenset[str]

    @property
    def file_name(self) -> str:
        return self.path.name

    @property
    def name(self) -> str:
        """Grafana's message template name: the file's stem."""
        return self.path.stem


@dataclass(frozen=True)
class Content:
    dashboards: tuple[Dashboard, ...]
    rule_files: tuple[RuleFile, ...]
    grafana_rule_groups: tuple[GrafanaRuleGroup, ...] = ()
    jobs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """System -> the scrape jobs its series come from (systems/<system>.yml), for every system declared."""
    templates: tuple[NotificationTemplate, ...] = ()
    """templates/*.tmpl: notification templates for Alertmanager and Grafana."""
    warnings: tuple[str, ...] = ()
    """The rule files' lint warnings and the imported dashboards' left out, one line each, for preview to print
    (the dashboards' own warnings go with each dashboard)."""

    @property
    def systems(self) -> tuple[str, ...]:
        """The declared systems the content covers: dashboard folders, rule files and Grafana rule folders.
        Imported content belongs to none: every stack deploys it."""
        return tuple(
            sorted(
                (
                    {d.system for d in self.dashboards}
                    | {f.system for f in self.rule_files}
                    | {system_of(g.folder) for g in self.grafana_rule_groups}
                )
                & {*self.jobs, ALWAYS_DEPLOYED}
            )
        )

    def imported(self, system: str) -> bool:
        return system not in self.jobs and system != ALWAYS_DEPLOYED

    @property
    def folders(self) -> tuple[str, ...]:
        """Grafana folders: one per dashboard directory, and those Grafana-managed rules live in."""
        return tuple(sorted({d.folder for d in self.dashboards} | {g.folder for g in self.grafana_rule_groups}))


@dataclass(frozen=True)
class Metric:
    """One metric of a system's contract: what its applications expose, as the seeds define it."""

    name: str
    """The base name (a histogram's without _bucket, _sum and _count)."""
    kind: str
    """counter, gauge, histogram or summary."""
    jobs: tuple[str, ...]
    """The scrape jobs that expose it."""
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each label with a few of the values the application gives it."""
    buckets: tuple[float, ...] = ()
    """A histogram's finite bucket boundaries, ascending."""
    idle: float | None = None
    """On a healthy system at rest, a gauge's value or a counter's rate per second (what the test workload's
    quiet mode serves): what the rules must not alert on."""


@dataclass(frozen=True)
class System:
    name: str
    jobs: tuple[str, ...]
    """The scrape jobs its series come from."""
    metrics: tuple[Metric, ...] = ()
    """Its metrics contract."""
    services: tuple[str, ...] = ()
    """The compose services its containers run as: the `service` label of its log streams."""

    @property
    def histograms(self) -> dict[str, tuple[float, ...]]:
        """Histogram -> its finite bucket boundaries."""
        return {m.name: m.buckets for m in self.metrics if m.kind == "histogram"}

    @property
    def declared_in(self) -> str:
        return f"systems/{self.name}.yml"

    @property
    def job_matcher(self) -> str:
        """A matcher that selects its jobs and no other."""
        return f'job="{self.jobs[0]}"' if len(self.jobs) == 1 else f'job=~"{"|".join(self.jobs)}"'


# The platform watches the stack itself and its hosts: Prometheus scrapes each service and each host agent under its
# name (stacks/render/prometheus.py), and each runs as the compose service of that name (stacks/resources/service.py,
# stacks/resources/host_agents.py).
_PLATFORM_JOBS = (*(service.name for service in SERVICES), *(agent.name for agent in METRIC_AGENTS))
PLATFORM = System(ALWAYS_DEPLOYED, _PLATFORM_JOBS, services=_PLATFORM_JOBS)
