"""What Prometheus scrapes besides the stack itself: the static `scrapeTargets` jobs and the discovery of
application containers (`appDiscovery`), validated."""

from __future__ import annotations

import re
from collections.abc import Mapping

from stacks.config.schema import checked_image, object_reader
from stacks.config.settings import AppDiscoverySettings, ExporterSettings, ScrapeTarget
from stacks.errors import Problems
from stacks.layout import APP_DISCOVERY_JOB, JOB_NAME
from stacks.reader import Reader

HOST_PORT = re.compile(r"[A-Za-z0-9_.\-\[\]:]+:\d{1,5}")
_PATH = re.compile(r"/.*")
_SCHEME = re.compile(r"https?")
_GROUP_ID = re.compile(r"\d*")
_TARGET_KEYS = ("job", "labels", "metricsPath", "scheme", "targets")


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
            if not isinstance(host, str) or not HOST_PORT.fullmatch(host):
                r.add(f"targets[{j}]", f"must look like host:port, got {host!r}")
        path = r.str("metricsPath", "/metrics", pattern=_PATH, expected="a path starting with '/'")
        scheme = r.str("scheme", "http", pattern=_SCHEME, expected="http or https")
        labels = r.mapping("labels", expected="a map of label names to values")
        if any(name is None or str(name) == "" for name in labels):
            r.add("labels", "has an empty label name, which Prometheus refuses")
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


# Target labels starting with __ that Prometheus reads for the scrape itself (scrape/target.go PopulateLabels);
# any other such label is dropped before the series are stored.
_SCRAPE_LABELS = re.compile(r"__(address|scheme|metrics_path|scrape_interval|scrape_timeout)__|__param_.+")


def label_warnings(targets: tuple[ScrapeTarget, ...]) -> list[str]:
    """Target labels Prometheus takes but drops from the series: names starting with __ (a warning, as Prometheus
    accepts them). Prometheus 3 takes any other UTF-8 name, such as team-name."""
    return [
        f"scrapeTargets[{i}].labels.{name}: Prometheus drops target labels starting with __ before storing the "
        f"series, so no series of job {target.job} carries it; rename it (such as {name.lstrip('_') or 'team'}) "
        "to keep it on the series"
        for i, target in enumerate(targets)
        for name, _ in target.labels
        if name.startswith("__") and not _SCRAPE_LABELS.fullmatch(name)
    ]


_EXPORTER_KEYS = ("address", "image", "kind", "password", "system")
_EXPORTER_ADDRESS = {
    "postgres": (re.compile(r"postgres(ql)?://\S+"), "a connection URI such as postgresql://user:pass@db:5432/app"),
    "redis": (re.compile(r"(redis|rediss|unix)://\S+"), "an address such as redis://redis:6379"),
}


def parse_exporters(value: list, is_secret: bool, problems: Problems) -> tuple[ExporterSettings, ...]:
    """Each exporter with its address; its credentials (a postgres URI, a redis password) only as secrets."""
    exporters = []
    for i, item in enumerate(value):
        r = Reader(item, f"exporters[{i}]", problems, _EXPORTER_KEYS, expected="an object with system, kind, address")
        if not r.valid:
            continue
        system = r.str(
            "system", required=True, pattern=re.compile(r"[a-z0-9]+"), expected="a system name such as wealist"
        )
        kind = r.str("kind", required=True, expected=" or ".join(_EXPORTER_ADDRESS))
        if kind and kind not in _EXPORTER_ADDRESS:
            r.add("kind", f"must be one of {', '.join(_EXPORTER_ADDRESS)}, got {kind!r}")
            continue
        pattern, expected = _EXPORTER_ADDRESS.get(kind or "", (None, "its address"))
        address = r.str("address", required=True, pattern=pattern, expected=expected)
        password = r.str("password", expected="the server's password")
        if kind == "postgres" and password:
            r.add("password", "is part of a postgres exporter's address (its connection URI)")
        holds_credentials = password or (kind == "postgres" and "@" in address)
        if holds_credentials and not is_secret:
            path = "password" if password else "address"
            r.add(path, f"holds credentials: pulumi config set --secret --path 'exporters[{i}].{path}' <value>")
        image = (checked_image(r, "image") or "") if r.get("image") else ""
        exporters.append(ExporterSettings(system or "", kind or "", address, password, image))
    jobs = [e.job for e in exporters]
    for job in sorted({j for j in jobs if jobs.count(j) > 1}):
        problems.add("exporters", f"two exporters would both be scraped as job {job}")
    return tuple(exporters)
