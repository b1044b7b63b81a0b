"""Checks of a stack's settings against the content it deploys and the project's other stack files, before anything
is registered: the one module that reads both (stacks/config/settings.py and stacks/content/ never import each other).
`checked_content` runs them all, in the order preview reports them.

Routes: a route no alert can reach (a warning), and a declared alert whose severity no route compares with, which
falls to a route's own receiver (an error). Templates every receiver field runs, exporters of deployed systems'
declared jobs (errors), and declared jobs nothing scrapes (a warning).

Logs on Kubernetes: the stack runs no log collector there, so its log panels and log rules read what the cluster's
own Loki holds, if anything (a warning).

Shared targets: a scrape target another stack file of the repo also scrapes, on the same Docker host when the
address is the host's own (host.docker.internal), is one deployment watched by two stacks: staging's MindHit
alerts read dev's MindHit (a warning, naming the other file).

Retention: Prometheus keeps `prometheus.retentionTime` of samples, and a rule, an SLO window or a panel that reads
further back answers from what is kept, silently: a 30-day SLO on 15 days of data is a 15-day SLO. Left out, the
retention is the content's own (stacks/content/retention.py); given, it must cover the longest window a declared
system's content reads (an error), and is warned of when imported content reads further back.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from stacks.config.alerting import template_fields
from stacks.config.grafana import grafana_warnings
from stacks.config.scraping import label_warnings
from stacks.config.settings import Alerting, Matcher, Route, StackSettings
from stacks.content import for_kubernetes, select_datasources, select_systems
from stacks.content._names import ROOT
from stacks.content.log_labels import loki_queries
from stacks.content.model import Content
from stacks.content.retention import LookBack, days, needed_retention, readers
from stacks.content.templates import undefined_templates
from stacks.errors import InputError, Problems
from stacks.grafana_names import GrafanaNames, inhibition_uid, store_uid, uid_problems
from stacks.layout import OWN_HOST_ADDRESS
from stacks.render.kubernetes import CONFIGMAP_LIMIT, oversized_dashboards
from stacks.slugs import slug
from stacks.syntax.durations import parse_duration
from stacks.syntax.go_regexp import compile_go_regexp
from stacks.syntax.promql import expression_labels
from stacks.syntax.yaml_io import parse_yaml


def checked_content(settings: StackSettings, content: Content, stack: str) -> tuple[Content, list[str]]:
    """The content this stack deploys (its systems', its datasources'), checked against its settings: raises
    InputError on what the servers or the project's own checks refuse, else returns it with the warnings preview
    prints."""
    content = select_systems(content, settings.systems)
    if settings.kubernetes:  # the platform's content watches the Docker stack's own containers
        content = for_kubernetes(content)
    short_retention, retention_warnings = retention_findings(settings, content)
    if short_retention:
        raise InputError(short_retention)
    # The datasources this stack provides. Dashboards sent as ConfigMaps read the cluster Grafana's own, by uid
    # (docs/kubernetes.md, "Pointing it at kube-prometheus-stack").
    if settings.grafana_content and not settings.sidecar_dashboards:
        content = select_datasources(content, set(settings.datasource_urls))
    check_exporters(content, settings.exporters)
    check_templates(content, settings.alerting, carried=settings.kubernetes is None)
    unrouted = unrouted_severities(settings.alerting.route, content)
    if unrouted:
        raise InputError(unrouted)
    warnings = route_warnings(settings.alerting.route, content, external_labels={"environment"})
    scraped = {t.job for t in settings.scrape_targets} | {e.job for e in settings.exporters}
    if settings.kubernetes:
        scraped |= {monitor.job for monitor in settings.kubernetes.monitors}
        if settings.grafana_content and settings.sidecar_dashboards:
            too_large = oversized_dashboards(content)
            if too_large:
                raise InputError(
                    [f"{source}: {size} bytes, over a ConfigMap's {CONFIGMAP_LIMIT}" for source, size in too_large]
                )
    warnings += unscraped_jobs(content, scraped, settings.app_discovery.enabled)
    warnings += label_warnings(settings.scrape_targets)
    warnings += log_source_warnings(settings, content)
    warnings += retention_warnings
    warnings += shared_target_warnings(settings, stack)
    check_grafana_names(settings, content)
    warnings += grafana_warnings(settings, grafana_rules=bool(content.grafana_rule_groups))
    warnings += content.warnings
    if settings.grafana_content:  # the dashboards' lint warnings, for the dashboards this stack deploys
        warnings += [warning for dashboard in content.dashboards for warning in dashboard.warnings]
    return content, warnings


def retention_findings(settings: StackSettings, content: Content) -> tuple[list[str], list[str]]:
    """(problems, warnings): a given prometheus.retentionTime shorter than a window the content reads, one line per
    file; a problem for a declared system's file, a warning for an imported one, which Prometheus and Grafana load
    all the same. A Kubernetes stack's Prometheus is the operator's, whose retention is the cluster's."""
    given = settings.prometheus.retention_time
    if settings.kubernetes or not given:
        return [], []
    kept = parse_duration(given) / 1000
    look_backs = sorted(readers(content), key=lambda look_back: -look_back.seconds)
    by_file: dict[tuple[bool, str], list[LookBack]] = {}
    for look_back in look_backs:
        if look_back.seconds > kept:
            by_file.setdefault((look_back.declared, look_back.where.split(":")[0]), []).append(look_back)
    problems, warnings = [], []
    for (declared, _), found in by_file.items():
        more = f" (and {len(found) - 1} more in this file)" if len(found) > 1 else ""
        line = (
            f"{found[0].where}: reads {days(found[0].seconds)} back ({found[0].what}){more}, and "
            f"prometheus.retentionTime keeps {given}: it would answer from {given} of samples; set "
            f"prometheus.retentionTime to at least {needed_retention(look_backs)}, or leave it out for the longest "
            "window the deployed content reads"
        )
        if declared:
            problems.append(line)
        else:
            warnings.append(f"[retention] {line}")
    return problems, warnings


def log_source_warnings(settings: StackSettings, content: Content) -> list[str]:
    """A Kubernetes stack's dashboards and Grafana-managed rules that read the loki datasource: the stack runs no
    Loki and no collector there, so they show what the cluster's own do, with the Docker pipeline's labels only if
    that collector writes them."""
    if not settings.kubernetes:
        return []
    sources = [d.source for d in content.dashboards if any(loki_queries(d.model))]
    if not settings.sidecar_dashboards:  # ConfigMaps carry the dashboards only
        loki_rules = [g for g in content.grafana_rule_groups if any(r.datasource == "loki" for r in g.rules)]
        sources += [f"rules/grafana/{g.path.name}" for g in loki_rules]
    return [
        f"{source}: reads logs (the loki datasource), and a Kubernetes stack runs no log collector: it shows what "
        "the cluster's own Loki holds, and its selectors (job=\"docker\", service) match only if the cluster's "
        'collector writes the labels stacks/layout.py LOG_LABELS names (docs/kubernetes.md, "Logs on Kubernetes")'
        for source in dict.fromkeys(sources)
    ]


def shared_target_warnings(settings: StackSettings, stack: str, root: Path = ROOT) -> list[str]:
    """This stack's scrape targets that another Pulumi.<stack>.yaml of the project also scrapes. An address on
    the Docker host itself (host.docker.internal) is the same process only when both stacks deploy to the same
    Docker host (the same dockerHost, or both unset)."""
    if settings.kubernetes:
        return []
    warnings = []
    for path in sorted(root.glob("Pulumi.*.yaml")):
        other = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        config = (parse_yaml(path.read_text(encoding="utf-8")) or {}).get("config") or {}
        if other == stack or config.get("monitoring:kubernetes"):
            continue
        other_host = config.get("monitoring:dockerHost") or ""
        theirs = {
            str(address).lower(): str(target.get("job"))
            for target in config.get("monitoring:scrapeTargets") or []
            if isinstance(target, dict)
            for address in target.get("targets") or []
        }
        for i, target in enumerate(settings.scrape_targets):
            for j, address in enumerate(target.targets):
                job = theirs.get(address.lower())
                on_own_host = address.lower().startswith(f"{OWN_HOST_ADDRESS}:")
                if job is None or (on_own_host and other_host != settings.docker_host):
                    continue
                where = (
                    f" on the same Docker host (dockerHost {settings.docker_host or 'unset'} in both)"
                    if on_own_host
                    else ""
                )
                warnings.append(
                    f"scrapeTargets[{i}].targets[{j}]: {address} is also a target of {path.name} (job {job}){where}: "
                    f"both stacks watch one deployment, and this stack's alerts and panels read the other's; give "
                    f"this stack its own deployment's address"
                    + (", or set dockerHost where the two stacks run on different hosts" if on_own_host else "")
                )
    return warnings


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


def check_templates(content: Content, alerting: Alerting, *, carried: bool = True) -> None:
    """Every template a receiver field or a template file runs is defined. `carried`: whether templates/ reaches
    the stack's Alertmanager (a Kubernetes stack's AlertmanagerConfig cannot carry them)."""
    problems = Problems()
    undefined_templates(content.templates if carried else (), template_fields(alerting), problems)
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


def route_warnings(route: Route, content: Content, external_labels: set[str]) -> list[str]:
    """Routes that can never match (a warning, not an error): a matcher on a label no alert rule sets, or on
    a `system` the stack does not deploy."""
    known = set(external_labels)
    for rule_file in content.rule_files:
        known |= rule_file.label_names
    for group in content.grafana_rule_groups:
        for rule in group.rules:
            known |= {"alertname", "grafana_folder"} | {k for k, _ in rule.labels} | expression_labels(rule.expr)
    warnings = []
    deployed = content.systems

    def walk(node: Route, where: str) -> None:
        for i, child in enumerate(node.routes):
            path = f"{where}.routes[{i}]"
            for matcher in child.matchers:
                if matcher.label not in known:
                    warnings.append(
                        f"{path}: matcher {matcher.alertmanager()} names label {matcher.label!r}, "
                        "which no alert rule sets; this route can never match"
                    )
                elif matcher.label == "system" and matcher.op in ("=", "=~") and not _any_matches(matcher, deployed):
                    warnings.append(
                        f"{path}: matcher {matcher.alertmanager()} names no system this stack deploys "
                        f"({', '.join(deployed)}); this route can never match"
                    )
            walk(child, path)

    walk(route, "alerting.route")
    return warnings


def _any_matches(matcher: Matcher, values: tuple[str, ...]) -> bool:
    if matcher.op == "=":
        return matcher.value in values
    pattern = compile_go_regexp(matcher.value)
    return any(pattern.fullmatch(value) for value in values)


def unrouted_severities(route: Route, content: Content) -> list[str]:
    """A declared system's alert whose severity no route of the tree compares with (`crit` where the routes say
    `critical`) and which stops at a route that splits on severity: it falls silently to that route's own
    receiver, a warning channel for what was meant to page. Alerts of imported content are not checked (their
    labels are the publisher's)."""
    splitting = [m for node in _routes(route) for m in node.matchers if m.label == "severity" and m.op in ("=", "=~")]
    named = ", ".join(dict.fromkeys(m.value for m in splitting))
    problems = []
    for where, alert, labels in _declared_alerts(content):
        severity = labels.get("severity")
        if not splitting or severity is None or any(m.matches({"severity": severity}) for m in splitting):
            continue
        for path, node, receiver in _stops(route, labels):
            if any(m.label == "severity" for child in node.routes for m in child.matchers):
                problems.append(
                    f"{where}: alert {alert!r} has severity {severity!r}, which no route compares with (they split "
                    f"on {named}): it stops at {path}, whose own receiver {receiver} gets it; give it one of those "
                    f'severities, or route severity="{severity}" there'
                )
                break
    return problems


def _routes(route: Route) -> list[Route]:
    return [route, *(node for child in route.routes for node in _routes(child))]


def _stops(route: Route, labels: dict[str, str]) -> list[tuple[str, Route, str | None]]:
    """(path, route, receiver) of each route an alert stops at, walking as Alertmanager does (receivers_for)."""

    def walk(node: Route, path: str, receiver: str | None) -> list[tuple[str, Route, str | None]]:
        found = []
        for i, child in enumerate(node.routes):
            if all(m.matches(labels) for m in child.matchers):
                found += walk(child, f"{path}.routes[{i}]", child.receiver or receiver)
                if not child.continue_:
                    break
        return found or [(path, node, receiver)]

    return walk(route, "alerting.route", route.receiver)


def _declared_alerts(content: Content):
    """(where, alert, labels) of every alert rule of the declared systems, Prometheus' and Grafana's."""
    for rule_file in content.rule_files:
        if not content.imported(rule_file.system):
            for line, alert, labels in rule_file.alert_labels:
                yield f"{rule_file.source}:{line}", alert, {"alertname": alert, **dict(labels)}
    for group in (g for g in content.grafana_rule_groups if not content.imported(g.system)):
        for rule in group.rules:
            labels = {"alertname": rule.alert, "grafana_folder": group.folder, **dict(rule.labels)}
            yield f"rules/grafana/{group.path.name}: group {group.name!r}", rule.alert, labels


def check_grafana_names(settings: StackSettings, content: Content) -> None:
    """Raises InputError when grafana.namePrefix makes a uid the stack gives longer than Grafana takes."""
    if not settings.grafana_name_prefix:
        return  # the files' own uids, each checked where it is read
    uids = {uid: f"datasource {uid}" for uid in settings.datasource_urls}
    uids |= {
        store_uid(s.name): f"prometheus.remoteWrite {s.name}" for s in settings.prometheus.remote_write if s.query_url
    }
    uids |= {slug(title): f"folder {title}" for title in content.folders}
    uids |= {d.uid: d.source for d in content.dashboards}
    uids |= {inhibition_uid(i): f"alerting.inhibitRules[{i}]" for i in range(len(settings.alerting.inhibit_rules))}
    problems = uid_problems(GrafanaNames(settings.grafana_name_prefix), uids)
    if problems:
        raise InputError(problems)
