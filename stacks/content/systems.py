"""The declared systems (systems/<system>.yml): the scrape jobs each one's series come from, and its metrics
contract (each metric's type, jobs, labels and histogram buckets). A declared system's rules and dashboards get the
project's own checks (job ownership, silence alerts, the contract); content of any other name is imported and
deploys as the servers take it. The platform's jobs are the stack's own services and the agents on its hosts
(stacks/layout.py); `systems/platform.yml` may add its contract (`metrics` only)."""

from __future__ import annotations

import re
from pathlib import Path

from stacks.content._names import ROOT, relative, system_of
from stacks.content.model import PLATFORM, Metric, System
from stacks.errors import Problems
from stacks.layout import JOB_NAME
from stacks.reader import Reader
from stacks.syntax.yaml_io import load_yaml

_KINDS = ("counter", "gauge", "histogram", "summary")
# The stack's exporters run as the compose service of their job, <system>-<kind>-exporter
# (stacks/resources/exporter.py).
_EXPORTER_SERVICE = re.compile(r"[a-z0-9]+-(postgres|redis)-exporter")
_METRIC_KEYS = ("buckets", "help", "idle", "jobs", "labels", "type")
_NUMBER = (int, float)
_COMPOSE_SERVICE = re.compile(r"[a-zA-Z0-9._-]+")  # the compose spec's rule for a service name


def load_systems(directory: Path, problems: Problems, root: Path = ROOT) -> dict[str, System]:
    """systems/<system>.yml, and the platform. A job belongs to one system."""
    systems = {PLATFORM.name: PLATFORM}
    owner = {job: PLATFORM.name for job in PLATFORM.jobs}
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        name, system = relative(path, root), system_of(path.stem)
        data = load_yaml(path.read_text(encoding="utf-8"), name, problems)
        top = Reader(
            data, "", problems, ("jobs", "metrics", "services"), file=name, expected="a mapping of jobs and metrics"
        )
        if system == PLATFORM.name:
            for key in ("jobs", "services"):
                if top.has(key):
                    top.add(key, f"the platform's {key} are the stack's own services and agents: give only its metrics")
            systems[system] = System(system, PLATFORM.jobs, parse_metrics(top, PLATFORM.jobs), PLATFORM.services)
            continue
        jobs = top.mapping("jobs", expected="a mapping of scrape job names to what they scrape")
        if not jobs:
            top.add("jobs", "is required: the scrape jobs this system's series come from")
        for job in jobs:
            if not isinstance(job, str) or not JOB_NAME.match(job):
                top.add(f"jobs.{job}", "must be a job name: letters, digits, '_' and '-', not starting with a digit")
            elif job in owner:
                top.add(f"jobs.{job}", f"is already a job of system {owner[job]}: a job belongs to one system")
            else:
                owner[job] = system
        declared = tuple(str(job) for job in jobs)
        systems[system] = System(system, declared, parse_metrics(top, declared), _services(top, declared))
    return systems


def _services(top: Reader, jobs: tuple[str, ...]) -> tuple[str, ...]:
    """`services`: the compose services of the system's containers (name -> what it runs); and the stack's
    exporters of its datastores, which run as the service of their job."""
    value = top.mapping("services", expected="a mapping of compose service names to what they run")
    services = Reader(value, "services", top.problems, file=top.file)  # named by its own line, not the file's
    for service in services.value:
        if not isinstance(service, str) or not _COMPOSE_SERVICE.fullmatch(service):
            services.add(str(service), "must be a compose service name: letters, digits, '.', '_' and '-'")
    exporters = tuple(job for job in jobs if _EXPORTER_SERVICE.fullmatch(job))
    return (*(str(service) for service in services.value), *exporters)


def parse_metrics(top: Reader, jobs: tuple[str, ...]) -> tuple[Metric, ...]:
    """The `metrics` of a contract file: each {type, help, jobs, labels, buckets, idle}; jobs among `jobs`."""
    metrics = top.child("metrics", top.get("metrics") or {}, expected="a mapping of metric names to their contract")
    parsed = []
    for name, spec in metrics.value.items():
        r = metrics.child(str(name), spec, _METRIC_KEYS, expected="a metric: {type, help, jobs, labels, buckets, idle}")
        kind = r.str("type", required=True, expected=", ".join(_KINDS))
        if kind and kind not in _KINDS:
            r.add("type", f"must be one of {', '.join(_KINDS)}, got {kind!r}")
        exposed_by = r.list("jobs", required=True, expected="the scrape jobs that expose it")
        for job in exposed_by:
            if job not in jobs:
                r.add("jobs", f"names {job!r}, which is not one of the system's jobs ({', '.join(jobs)})")
        labels = {}
        for label, values in r.mapping("labels", expected="a mapping of label names to example values").items():
            if not isinstance(values, list) or not values or any(isinstance(v, (dict, list)) for v in values):
                r.add(f"labels.{label}", f"must be a list of example values, got {values!r}")
                continue
            labels[str(label)] = tuple(str(v) for v in values)
        buckets = r.list("buckets", required=kind == "histogram", expected="ascending bucket boundaries (numbers)")
        if buckets and not (
            all(isinstance(b, _NUMBER) and not isinstance(b, bool) for b in buckets) and buckets == sorted(set(buckets))
        ):
            r.add("buckets", f"must be ascending bucket boundaries (numbers), got {buckets!r}")
            buckets = []
        idle = (
            r.number("idle", expected="a gauge's value or a counter's rate at rest (a number)")
            if r.has("idle")
            else None
        )
        if idle is not None and kind not in ("gauge", "counter"):
            r.add("idle", f"is a gauge's value or a counter's rate at rest; a {kind}'s observations are the workload's")
            idle = None
        parsed.append(
            Metric(
                str(name),
                kind or "",
                tuple(str(j) for j in exposed_by),
                labels,
                tuple(float(b) for b in buckets),
                None if idle is None else float(idle),
            )
        )
    return tuple(parsed)
