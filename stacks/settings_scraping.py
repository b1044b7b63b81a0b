"""What Prometheus scrapes besides the stack itself: the static `scrapeTargets` jobs and the discovery of
application containers (`appDiscovery`), validated."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from stacks.errors import Problems, Reader
from stacks.layout import JOB_NAME
from stacks.settings_schema import object_reader

_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_HOST_PORT = re.compile(r"[A-Za-z0-9_.\-\[\]:]+:\d{1,5}")
_PATH = re.compile(r"/.*")
_SCHEME = re.compile(r"https?")
_GROUP_ID = re.compile(r"\d*")
_TARGET_KEYS = ("job", "labels", "metricsPath", "scheme", "targets")
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
    r = object_reader("appDiscovery", value, schema, problems)
    group = r.get("dockerSocketGroup")
    if isinstance(group, int) and not isinstance(group, bool) and group >= 0:
        group = str(group)  # a YAML number is as good as the string
    if not isinstance(group, str) or not _GROUP_ID.fullmatch(group):
        r.add("dockerSocketGroup", f"must be a numeric group id such as '999', got {group!r}")
        group = ""
    return AppDiscoverySettings(enabled=r.bool("enabled", False), docker_socket_group=group)


def parse_scrape_targets(value: list, reserved_jobs: tuple[str, ...], problems: Problems) -> tuple[ScrapeTarget, ...]:
    targets = []
    jobs: set[str] = {*reserved_jobs, APP_DISCOVERY_JOB}
    for i, item in enumerate(value):
        r = Reader(item, f"scrapeTargets[{i}]", problems, _TARGET_KEYS, expected="an object with job and targets")
        if not r.valid:
            continue
        job = r.str("job", required=True, pattern=JOB_NAME, expected="a job name such as 'mindhit-api'")
        if job in jobs:
            r.add("job", f"job {job!r} is already scraped; job names must be unique")
        elif job:
            jobs.add(job)
        hosts = r.list("targets", required=True, expected="a non-empty list of host:port")
        for j, host in enumerate(hosts):
            if not isinstance(host, str) or not _HOST_PORT.fullmatch(host):
                r.add(f"targets[{j}]", f"must look like host:port, got {host!r}")
        path = r.str("metricsPath", "/metrics", pattern=_PATH, expected="a path starting with '/'")
        scheme = r.str("scheme", "http", pattern=_SCHEME, expected="http or https")
        labels = r.mapping("labels", expected="a map of label names to values")
        for name in labels:
            if not _LABEL.fullmatch(str(name)) or str(name).startswith("__"):
                r.add(f"labels.{name}", "must be a valid Prometheus label name (letters, digits, _; not __ first)")
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
