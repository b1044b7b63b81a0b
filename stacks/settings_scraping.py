"""What Prometheus scrapes besides the stack itself: the static `scrapeTargets` jobs and the discovery of
application containers (`appDiscovery`), validated."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from stacks.errors import Problems
from stacks.layout import JOB_NAME
from stacks.settings_schema import object_with_defaults

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# The scrape job that discovers application containers; a static scrapeTargets job may not take its name.
APP_DISCOVERY_JOB = "docker-apps"


@dataclass(frozen=True)
class ScrapeTarget:
    """One application scrape job of prometheus.yml."""

    job: str
    targets: tuple[str, ...]
    metrics_path: str = "/metrics"
    scheme: str = "http"
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AppDiscoverySettings:
    """Prometheus finding application containers through the Docker socket (the `appDiscovery` key)."""

    enabled: bool
    docker_socket_group: str
    """Numeric group id of the Docker socket on the Docker host; empty: the local socket's, read at run time."""


def parse_app_discovery(value: dict, schema: Mapping, problems: Problems) -> AppDiscoverySettings:
    merged = object_with_defaults("appDiscovery", value, schema, problems)
    enabled = merged["enabled"]
    if not isinstance(enabled, bool):
        problems.add("appDiscovery.enabled", f"must be true or false, got {enabled!r}")
        enabled = False
    group = merged["dockerSocketGroup"]
    group = str(group) if isinstance(group, int) and not isinstance(group, bool) and group >= 0 else group
    if not isinstance(group, str) or not re.match(r"^\d*$", group):
        problems.add("appDiscovery.dockerSocketGroup", f"must be a numeric group id such as '999', got {group!r}")
        group = ""
    return AppDiscoverySettings(enabled=enabled, docker_socket_group=group)


def parse_scrape_targets(value: list, reserved_jobs: tuple[str, ...], problems: Problems) -> tuple[ScrapeTarget, ...]:
    targets = []
    jobs: set[str] = {*reserved_jobs, APP_DISCOVERY_JOB}
    known = {"job", "targets", "metricsPath", "scheme", "labels"}
    for i, item in enumerate(value):
        where = f"scrapeTargets[{i}]"
        if not isinstance(item, dict):
            problems.add(where, f"must be an object with job and targets, got {item!r}")
            continue
        problems.unknown_keys(where, item, sorted(known))
        job = item.get("job")
        if not isinstance(job, str) or not JOB_NAME.match(job):
            problems.add(f"{where}.job", f"must be a job name such as 'mindhit-api', got {job!r}")
        elif job in jobs:
            problems.add(f"{where}.job", f"job {job!r} is already scraped; job names must be unique")
        else:
            jobs.add(job)
        hosts = item.get("targets")
        if not isinstance(hosts, list) or not hosts:
            problems.add(f"{where}.targets", f"must be a non-empty list of host:port, got {hosts!r}")
            hosts = []
        for j, host in enumerate(hosts):
            if not isinstance(host, str) or not re.match(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$", host):
                problems.add(f"{where}.targets[{j}]", f"must look like host:port, got {host!r}")
        path = item.get("metricsPath", "/metrics")
        if not isinstance(path, str) or not path.startswith("/"):
            problems.add(f"{where}.metricsPath", f"must start with '/', got {path!r}")
        scheme = item.get("scheme", "http")
        if scheme not in ("http", "https"):
            problems.add(f"{where}.scheme", f"must be http or https, got {scheme!r}")
        labels = item.get("labels", {})
        if not isinstance(labels, dict):
            problems.add(f"{where}.labels", f"must be a map of label names to values, got {labels!r}")
            labels = {}
        for name in labels:
            if not _LABEL.match(str(name)) or str(name).startswith("__"):
                problems.add(f"{where}.labels.{name}", "is not a valid Prometheus label name")
        targets.append(
            ScrapeTarget(
                job=str(job),
                targets=tuple(str(h) for h in hosts),
                metrics_path=str(path),
                scheme=str(scheme),
                labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
            )
        )
    return tuple(targets)
