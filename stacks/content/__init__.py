"""Loading and checking the content files: dashboards/<Folder>/*.json and rules/*.yml.

Everything here is pure Python and runs before any resource is registered, so a bad file stops
`pulumi preview` with the file name and the line or JSON path of the problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from stacks.content._names import ALWAYS_DEPLOYED, ROOT, relative, system_of
from stacks.content.contract import check_contract
from stacks.content.dashboard_lint import prometheus_queries
from stacks.content.dashboards import (
    DATASOURCE_NAMES,
    DATASOURCE_UIDS,
    Dashboard,
    check_unique_titles,
    check_unique_uids,
    datasource_uids,
    load_dashboards,
)
from stacks.content.grafana_rules import GrafanaRule, GrafanaRuleGroup, load_grafana_rules
from stacks.content.log_labels import check_log_labels
from stacks.content.ownership import check_ownership
from stacks.content.prometheus_rules import RuleFile, check_rule_tests, load_rules, load_slos
from stacks.content.silence import check_silence
from stacks.content.systems import load_systems
from stacks.errors import Problems
from stacks.slugs import slug, slug_collisions

__all__ = [
    "ALWAYS_DEPLOYED",
    "DATASOURCE_NAMES",
    "DATASOURCE_UIDS",
    "ROOT",
    "Content",
    "Dashboard",
    "GrafanaRule",
    "GrafanaRuleGroup",
    "RuleFile",
    "load_content",
    "load_slos",
    "prometheus_queries",
    "select_datasources",
    "select_systems",
    "check_exporters",
    "slug",
    "system_of",
    "unscraped_jobs",
]


@dataclass(frozen=True)
class Content:
    dashboards: tuple[Dashboard, ...]
    rule_files: tuple[RuleFile, ...]
    grafana_rule_groups: tuple[GrafanaRuleGroup, ...] = ()
    jobs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """System -> the scrape jobs its series come from (systems/<system>.yml), for every system declared."""

    @property
    def systems(self) -> tuple[str, ...]:
        """The systems the content covers: dashboard folders, rule files and Grafana rule folders."""
        return tuple(
            sorted(
                {d.system for d in self.dashboards}
                | {f.system for f in self.rule_files}
                | {system_of(g.folder) for g in self.grafana_rule_groups}
            )
        )

    @property
    def folders(self) -> tuple[str, ...]:
        """Grafana folders: one per dashboard directory, and those Grafana-managed rules live in."""
        return tuple(sorted({d.folder for d in self.dashboards} | {g.folder for g in self.grafana_rule_groups}))


def select_systems(content: Content, systems: tuple[str, ...]) -> Content:
    """Only the named systems' dashboards and rules (all of them when none is named), plus the platform's."""
    if not systems:
        return content
    problems = Problems()
    for i, system in enumerate(systems):
        if system not in content.systems:
            problems.add(f"systems[{i}]", f"no content for system {system!r}; known: {', '.join(content.systems)}")
    problems.raise_if_any()
    wanted = {*systems, ALWAYS_DEPLOYED}
    return replace(
        content,
        dashboards=tuple(d for d in content.dashboards if d.system in wanted),
        rule_files=tuple(f for f in content.rule_files if f.system in wanted),
        grafana_rule_groups=tuple(g for g in content.grafana_rule_groups if system_of(g.folder) in wanted),
    )


def select_datasources(content: Content, available: set[str]) -> Content:
    """The Grafana content for a stack whose Grafana has only these datasource uids.

    The platform's own dashboards and rules that read a missing datasource are left out: a stack without
    Loki has no logs to show. Any other system's are an error naming the file: its content needs a
    service this stack does not run.
    """
    problems = Problems()

    def fits(system: str, path: Path, uses: set[str]) -> bool:
        missing = uses - available
        if missing and system != ALWAYS_DEPLOYED:
            problems.add(
                relative(path, ROOT),
                f"reads the {', '.join(sorted(missing))} datasource, which this stack does not run: "
                "add it to services, or leave the system out of systems",
            )
        return not missing

    dashboards = tuple(d for d in content.dashboards if fits(d.system, d.path, datasource_uids(d.model)))
    groups = tuple(
        g
        for g in content.grafana_rule_groups
        if fits(system_of(g.folder), g.path, {rule.datasource for rule in g.rules})
    )
    problems.raise_if_any()
    return replace(content, dashboards=dashboards, grafana_rule_groups=groups)


def check_exporters(content: Content, exporters: Iterable) -> None:
    """Each exporter is scraped as a job its system declares, of a system the stack deploys."""
    problems = Problems()
    for i, exporter in enumerate(exporters):
        declared = content.jobs.get(exporter.system)
        if exporter.system not in content.systems or declared is None:
            problems.add(f"exporters[{i}].system", f"{exporter.system!r} is not a system this stack deploys")
        elif exporter.job not in declared:
            problems.add(
                f"exporters[{i}]",
                f"is scraped as job {exporter.job}, which systems/{exporter.system}.yml does not declare "
                f"({', '.join(declared)})",
            )
    problems.raise_if_any()


def unscraped_jobs(content: Content, scrape_jobs: set[str], app_discovery: bool) -> list[str]:
    """Warnings for the deployed systems' jobs that no scrapeTargets job scrapes, when app discovery (the
    other way a job is scraped: a container labelled monitoring.job) is off: their TargetMissing alerts will
    fire and their panels stay empty."""
    if app_discovery:
        return []
    warnings = []
    for system in content.systems:
        missing = [job for job in content.jobs.get(system, ()) if job not in scrape_jobs]
        if missing:
            warnings.append(
                f"scrapeTargets: no job {', '.join(missing)} of system {system}, which this stack deploys, and app "
                "discovery is off: its panels will have no data and its TargetMissing alert will fire"
            )
    return warnings


def load_content(root: Path | None = None) -> Content:
    """Load and check every dashboard and rule file; raise InputError listing every problem."""
    root = root or ROOT
    problems = Problems()
    dashboards = load_dashboards(root / "dashboards", problems, root)
    rule_files = load_rules(root / "rules", problems, root)
    slo_rule_files, slo_dashboards = load_slos(root / "rules" / "slos", problems, root)
    grafana_rule_groups = load_grafana_rules(root / "rules" / "grafana", problems, root)
    check_rule_tests(root / "rules" / "tests", problems, root)
    check_unique_uids(dashboards + slo_dashboards, problems, root)
    check_unique_titles(dashboards + slo_dashboards, problems)
    systems = load_systems(root / "systems", problems, root)
    check_ownership(dashboards + slo_dashboards, rule_files + slo_rule_files, systems, problems)
    check_silence(rule_files, systems, problems)
    check_contract(rule_files + slo_rule_files, systems, problems)
    check_log_labels(dashboards, grafana_rule_groups, problems, root)
    content = Content(
        dashboards=dashboards + slo_dashboards,
        rule_files=rule_files + slo_rule_files,
        grafana_rule_groups=grafana_rule_groups,
        jobs={name: system.jobs for name, system in systems.items() if name != ALWAYS_DEPLOYED},
    )
    for first, second, uid in slug_collisions(content.folders):
        problems.add(f"folder {second!r}", f"its uid {uid!r} is already the uid of folder {first!r}: rename one")
    problems.raise_if_any()
    return content
