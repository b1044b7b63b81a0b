"""Loading and checking the content files: dashboards/<Folder>/*.json and rules/*.yml.

Everything here is pure Python and runs before any resource is registered, so a bad file stops
`pulumi preview` with the file name and the line or JSON path of the problem.

Two kinds of content. A declared system's (a `systems/<system>.yml` beside `rules/<system>.yml` and
`dashboards/<System>/`, and the platform's) gets the project's own checks: job ownership, silence alerts, the
metrics contract, a severity on every alert, and the dashboard lint's errors. Any other rule file or dashboard
folder is imported: it deploys as published, checked exactly as strictly as the server that loads it (Prometheus
for rules, Grafana's API for dashboards); what the project's checks find in it are warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from stacks import slo
from stacks.content._names import ALWAYS_DEPLOYED, ROOT, relative, system_of
from stacks.content.contract import check_contract
from stacks.content.dashboards import (
    build_dashboard,
    check_unique_titles,
    check_unique_uids,
    datasource_uids,
    lint_exclusions,
    load_dashboards,
)
from stacks.content.findings import ERROR, Finding, LintFile, summarise
from stacks.content.grafana_rules import load_grafana_rules
from stacks.content.log_labels import check_log_labels, check_log_services
from stacks.content.model import RULES_LINT_FILE, Content, Dashboard, RuleFile
from stacks.content.ownership import check_ownership
from stacks.content.prometheus_rules import check_rule_tests, load_rules, parse_rule_file, severity_findings
from stacks.content.queries import prometheus_queries
from stacks.content.rule_names import RULE_LINT_RULES
from stacks.content.silence import check_silence
from stacks.content.systems import load_systems
from stacks.content.templates import load_templates
from stacks.errors import Problems
from stacks.slo_dashboard import slo_dashboard
from stacks.slugs import slug, slug_collisions
from stacks.syntax.yaml_io import load_yaml, to_yaml

__all__ = [
    "ALWAYS_DEPLOYED",
    "ROOT",
    "for_kubernetes",
    "load_content",
    "load_slos",
    "prometheus_queries",
    "select_datasources",
    "select_systems",
    "slug",
    "system_of",
]


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

    return _keeping(content, lambda system: system in wanted or content.imported(system))


def for_kubernetes(content: Content) -> Content:
    """The content of a Kubernetes stack: without the platform's. Its rules, dashboards and log alerts watch the
    Docker stack's own services, agents and host by their job names (prometheus, cadvisor, node-exporter...),
    which a cluster does not have; kube-prometheus-stack ships its own for what it runs (its values'
    defaultRules.rules: alertmanager, general (Watchdog), prometheus, nodeExporterAlerting, kubernetesResources...,
    and grafana.defaultDashboardsEnabled: true)."""
    return _keeping(content, lambda system: system != ALWAYS_DEPLOYED)


def _keeping(content: Content, keep: Callable[[str], bool]) -> Content:
    """The dashboards, rule files and Grafana rule groups of the systems `keep` says yes to."""
    return replace(
        content,
        dashboards=tuple(d for d in content.dashboards if keep(d.system)),
        rule_files=tuple(f for f in content.rule_files if keep(f.system)),
        grafana_rule_groups=tuple(g for g in content.grafana_rule_groups if keep(system_of(g.folder))),
    )


def select_datasources(content: Content, available: set[str]) -> Content:
    """The Grafana content for a stack whose Grafana has only these datasource uids.

    The platform's own dashboards and rules that read a missing datasource are left out: a stack without
    Loki has no logs to show. So are imported ones, with a warning. Any other system's are an error naming the
    file: its content needs a service this stack does not run.
    """
    problems = Problems()
    left_out = []

    def fits(system: str, path: Path, uses: set[str]) -> bool:
        missing = uses - available
        if not missing or system == ALWAYS_DEPLOYED:
            return not missing
        reads = f"reads the {', '.join(sorted(missing))} datasource, which this stack does not run"
        if content.imported(system):
            left_out.append(f"{relative(path, ROOT)}: {reads}: left out of this stack (add it to services)")
        else:
            problems.add(relative(path, ROOT), f"{reads}: add it to services, or leave the system out of systems")
        return False

    dashboards = tuple(d for d in content.dashboards if fits(d.system, d.path, datasource_uids(d.model)))
    groups = tuple(
        g
        for g in content.grafana_rule_groups
        if fits(system_of(g.folder), g.path, {rule.datasource for rule in g.rules})
    )
    problems.raise_if_any()
    return replace(content, dashboards=dashboards, grafana_rule_groups=groups, warnings=(*content.warnings, *left_out))


def load_content(root: Path | None = None) -> Content:
    """Load and check every dashboard and rule file; raise InputError listing every problem."""
    root = root or ROOT
    problems = Problems()
    systems = load_systems(root / "systems", problems, root)
    dashboards = load_dashboards(root / "dashboards", problems, frozenset(systems), root)
    rule_files = load_rules(root / "rules", problems, root)
    slo_rule_files, slo_dashboards = load_slos(root / "rules" / "slos", problems, root)
    grafana_rule_groups = load_grafana_rules(root / "rules" / "grafana", problems, root, frozenset(systems))
    check_rule_tests(root / "rules" / "tests", problems, root)
    templates = load_templates(root / "templates", problems, root)
    check_unique_uids(dashboards + slo_dashboards, problems, root)
    rule_files += slo_rule_files
    dashboards += slo_dashboards
    excluded = lint_exclusions(root / "rules", problems, root, tuple(RULE_LINT_RULES), "files", "rule")
    warnings = report(
        [
            *severity_findings(rule_files, systems),
            *check_ownership(dashboards, rule_files, systems),
            *check_log_services(dashboards, systems),
            *check_silence(rule_files, systems),
            *check_contract(rule_files, systems),
        ],
        excluded,
        problems,
    )
    check_log_labels([d for d in dashboards if d.system in systems], grafana_rule_groups, problems, root)
    content = Content(
        dashboards=dashboards,
        rule_files=rule_files,
        grafana_rule_groups=grafana_rule_groups,
        templates=templates,
        jobs={name: system.jobs for name, system in systems.items() if name != ALWAYS_DEPLOYED},
        warnings=(*report(check_unique_titles(dashboards), {}, problems), *warnings),
    )
    for first, second, uid in slug_collisions(content.folders):
        problems.add(f"folder {second!r}", f"its uid {uid!r} is already the uid of folder {first!r}: rename one")
    problems.raise_if_any()
    return content


def report(findings: list[tuple[LintFile, Finding]], excluded: Mapping[str, set[str]], problems: Problems) -> list[str]:
    """Findings summed per file and rule, but those rules/.lint turns off (a dashboard's .lint applies as it is
    loaded): errors become problems, and the warnings are returned."""
    by_file: dict[LintFile, list[Finding]] = {}
    for lint_file, finding in findings:
        if lint_file.lint_file != RULES_LINT_FILE or lint_file.file_name not in excluded.get(finding.rule, ()):
            by_file.setdefault(lint_file, []).append(finding)
    warnings = []
    for lint_file, found in by_file.items():
        for severity, line in summarise(found, lint_file):
            if severity == ERROR:
                problems.add_line(line)
            else:
                warnings.append(line)
    return warnings


def load_slos(
    directory: Path, problems: Problems, root: Path = ROOT
) -> tuple[tuple[RuleFile, ...], tuple[Dashboard, ...]]:
    """rules/slos/<system>.yml: each spec becomes recording rules and burn-rate alerts (one generated rule
    file per spec file, `slo-<system>.yml` in Prometheus) and a dashboard in the SLOs folder."""
    rule_files: list[RuleFile] = []
    dashboards: list[Dashboard] = []
    seen: dict[str, str] = {}
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        name, system = relative(path, root), system_of(path.stem)
        data = load_yaml(path.read_text(encoding="utf-8"), name, problems)
        if data is None:
            continue
        specs = []
        for spec in slo.parse_slo_file(data, name, system, problems):
            if spec.name in seen:
                problems.add(name, f"SLO {spec.name!r} is already defined in {seen[spec.name]}")
                continue
            seen[spec.name] = name
            specs.append(spec)
        if not specs:
            continue
        text = f"# Generated from {name} by stacks/slo.py: edit the spec, not this file.\n" + to_yaml(
            {"groups": slo.slo_rule_groups(specs)}
        )
        rule_file = parse_rule_file(text, path, f"{name} (generated rules)", f"slo-{system}.yml", system, problems)
        if rule_file:
            rule_files.append(rule_file)
        for spec in specs:
            dashboard = build_dashboard(
                slo_dashboard(spec), path, f"{name} (dashboard of {spec.name})", slo.SLO_FOLDER, system, problems
            )
            if dashboard:
                dashboards.append(dashboard)
    return tuple(rule_files), tuple(dashboards)
