"""Checks of a stack's settings against the content it deploys, before anything is registered.

Logs on Kubernetes: the stack runs no log collector there, so its log panels and log rules read what the cluster's
own Loki holds, if anything (a warning).

Retention: Prometheus keeps `prometheus.retentionTime` of samples, and a rule, an SLO window or a panel that reads
further back answers from what is kept, silently: a 30-day SLO on 15 days of data is a 15-day SLO. Left out, the
retention is the content's own (stacks/content/retention.py); given, it must cover the longest window a declared
system's content reads (an error), and is warned of when imported content reads further back.
"""

from __future__ import annotations

from stacks.content import Content
from stacks.content.log_labels import loki_queries
from stacks.content.retention import Reader, content_retention, days, readers
from stacks.durations import parse_duration
from stacks.settings import StackSettings


def retention_problems(settings: StackSettings, content: Content) -> list[str]:
    """A given prometheus.retentionTime shorter than a window a declared system's content reads, one line per
    file. A Kubernetes stack's Prometheus is the operator's, whose retention is the cluster's."""
    return _short_retention(settings, content, declared=True)


def retention_warnings(settings: StackSettings, content: Content) -> list[str]:
    """The same for imported content: Prometheus and Grafana load it all the same, so it is a warning."""
    return [f"[retention] {line}" for line in _short_retention(settings, content, declared=False)]


def _short_retention(settings: StackSettings, content: Content, declared: bool) -> list[str]:
    given = settings.prometheus.retention_time
    if settings.kubernetes or not given:
        return []
    kept = parse_duration(given) / 1000
    by_file: dict[str, list[Reader]] = {}
    for reader in sorted(readers(content), key=lambda reader: -reader.seconds):
        if reader.seconds > kept and reader.declared == declared:
            by_file.setdefault(reader.where.split(":")[0], []).append(reader)
    needed = content_retention(content) if by_file else ""
    lines = []
    for found in by_file.values():
        more = f" (and {len(found) - 1} more in this file)" if len(found) > 1 else ""
        lines.append(
            f"{found[0].where}: reads {days(found[0].seconds)} back ({found[0].what}){more}, and "
            f"prometheus.retentionTime keeps {given}: it would answer from {given} of samples; set "
            f"prometheus.retentionTime to at least {needed}, or leave it out for the longest window the deployed "
            "content reads"
        )
    return lines


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
        'collector writes the labels stacks/layout.py LOG_LABELS names (README, "Kubernetes")'
        for source in dict.fromkeys(sources)
    ]
