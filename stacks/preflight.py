"""Checks of a stack's settings against the content it deploys and the project's other stack files, before anything
is registered.

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

from pathlib import Path

import yaml

from stacks.content import ROOT, Content
from stacks.content.log_labels import loki_queries
from stacks.content.retention import LookBack, days, needed_retention, readers
from stacks.durations import parse_duration
from stacks.layout import OWN_HOST_ADDRESS
from stacks.settings import StackSettings


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
    if settings.kubernetes.grafana != "configmaps":  # ConfigMaps carry the dashboards only
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
        config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("config") or {}
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
