"""A synthetic workload: every metric of every system's contract (systems/<system>.yml, written from the seeds'
metric definitions and the exporters' documented names), served in the Prometheus text format on one HTTP
port, one path per scrape job (/metrics/<job>), for a real Prometheus to scrape.

Nothing here reads the dashboards or the rules: the series exist because the contract says the applications
expose them. Counters grow with time, histograms observe a spread of values across their buckets, gauges
hold steady values. A system can be given errors: its status-like labels' failure values then take that
share of the traffic (`errors={"kerp": 0.3}`), and its latencies move to the top buckets. Quiet, every system
is at rest and healthy, as its contract's `idle` values say.
"""

from __future__ import annotations

import http.server
import itertools
import math
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import yaml

from stacks.content.model import Metric
from stacks.content.systems import load_systems, parse_metrics
from stacks.errors import Problems
from stacks.reader import Reader
from stacks.syntax.promql import bucket_label, go_float

# Label values that mean a failed event, whatever the label (status="500", result="miss", outcome="SERVER_ERROR"),
# and words of counters that count failures (external_api_errors_total, cache_misses_total).
_FAILURES = ("5", "error", "failed", "failure", "miss", "timeout", "server_error", "rejected")
_FAILURE_COUNTERS = ("error", "fail", "miss", "dropped", "reject", "timeout")
_EVENTS_PER_SECOND = 5.0
# Without errors, a trickle of failures (0.01%): error panels have data, and no objective burns (a 99.9%
# objective allows 0.1%).
_TRICKLE = 0.0001


def load_metrics(directory: Path) -> dict[str, tuple[Metric, ...]]:
    """System -> its contract's metrics, as the program reads them (systems/), or, for a fixture of services
    that cannot run here, any file of the same `metrics:` shape."""
    problems = Problems()
    if directory.name == "systems":
        systems = load_systems(directory, problems, directory.parent)
        problems.raise_if_any()
        return {name: system.metrics for name, system in systems.items() if system.metrics}
    catalogue = {}
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        jobs = tuple(sorted({job for spec in data["metrics"].values() for job in spec["jobs"]}))
        catalogue[path.stem] = parse_metrics(Reader(data, "", problems, file=path.name), jobs)
    problems.raise_if_any()
    return catalogue


_ALL_COMBINATIONS = 100  # label sets of a metric; past it, each value once with the others' first values


def _label_sets(metric: Metric) -> list[dict[str, str]]:
    """Every combination of the example values, or for a metric with many labels (Micrometer's six), each
    value of each label once beside the other labels' first values and a diagonal: every value appears."""
    keys = sorted(metric.labels)
    combinations = math.prod(len(metric.labels[k]) for k in keys) if keys else 1
    if combinations <= _ALL_COMBINATIONS:
        return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(metric.labels[k] for k in keys))]
    first = {k: metric.labels[k][0] for k in keys}
    sets = [{**first, key: value} for key in keys for value in metric.labels[key]]
    longest = max(len(metric.labels[k]) for k in keys)
    sets += [{k: metric.labels[k][i % len(metric.labels[k])] for k in keys} for i in range(longest)]
    unique = {tuple(sorted(labels.items())): labels for labels in sets}
    return list(unique.values())


def _stored_le(text: str) -> str:
    return text if text == "+Inf" else bucket_label(float(text))


def _failing(labels: Mapping[str, str]) -> bool:
    return any(value.lower().startswith(_FAILURES) for value in labels.values())


def _format(value: float) -> str:
    return "+Inf" if math.isinf(value) else repr(float(value))


def _series(name: str, labels: Mapping[str, str], value: float) -> str:
    inside = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{inside}}} {_format(value)}" if inside else f"{name} {_format(value)}"


class Workload:
    """The exposition text of each job at a moment, for given error shares per system."""

    def __init__(
        self,
        catalogue: Mapping[str, tuple[Metric, ...]],
        errors: Mapping[str, float] | None = None,
        history: float = 0,
        quiet: bool = False,
    ):
        """`history`: seconds the workload has already run (counters start that long ago, see `backfill`).
        `quiet`: systems at rest, healthy: no failure at all, every latency in the lowest bucket, each gauge at
        the value and each counter at the rate its contract gives it at rest (`idle`)."""
        self.catalogue = catalogue
        self.errors = dict(errors or {})
        self.quiet = quiet
        self.started = time.time() - history
        self.system_of_job = {job: system for system, metrics in catalogue.items() for m in metrics for job in m.jobs}
        self.label_sets = {(system, m.name): _label_sets(m) for system, metrics in catalogue.items() for m in metrics}

    def jobs(self) -> list[str]:
        return sorted(self.system_of_job)

    def exposition(self, job: str, now: float | None = None) -> str:
        now = now or time.time()
        elapsed = now - self.started + 60  # a minute of traffic at the first scrape
        system = self.system_of_job[job]
        error_share = self.errors.get(system, 0.0)
        lines = []
        for metric in self.catalogue[system]:
            if job not in metric.jobs:
                continue
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            label_sets = self.label_sets[(system, metric.name)]
            failing = [labels for labels in label_sets if _failing(labels)]
            counts_failures = metric.kind == "counter" and any(word in metric.name for word in _FAILURE_COUNTERS)
            trickle = 0.0 if self.quiet else _TRICKLE
            at_rest = self.quiet and metric.idle is not None
            for labels in label_sets:
                share = self._share(labels, label_sets, failing, error_share, trickle)
                if counts_failures:
                    share *= max(error_share, trickle)
                per_second = metric.idle if at_rest and metric.kind == "counter" else _EVENTS_PER_SECOND
                lines += self._samples(metric, labels, share * elapsed * per_second, error_share, now)
        return "\n".join(lines) + "\n"

    @staticmethod
    def _share(labels, label_sets, failing, error_share, trickle) -> float:
        """The share of the metric's events with these labels: failures get error_share (at least a trickle)."""
        if not failing or len(failing) == len(label_sets):
            return 1 / len(label_sets)
        failure_share = max(error_share, trickle)
        if labels in failing:
            return failure_share / len(failing)
        return (1 - failure_share) / (len(label_sets) - len(failing))

    def backfill(self, until: float, step: float, instance: str) -> str:
        """The workload's past, from its start until `until`, every `step` seconds, in the OpenMetrics text
        `promtool tsdb create-blocks-from openmetrics` reads: each series with the job and instance a scrape
        gives it, and `le` as Prometheus 3 stores it."""
        lines = []
        moment = self.started + step
        while moment < until:
            for job in self.jobs():
                for line in self.exposition(job, now=moment).splitlines():
                    if line.startswith("#"):
                        continue
                    series, value = line.rsplit(" ", 1)
                    name, _, inside = series.partition("{")
                    inside = inside.rstrip("}")
                    inside = re.sub(r'(?<![\w])le="([^"]+)"', lambda m: f'le="{_stored_le(m[1])}"', inside)
                    extra = f'job="{job}",instance="{instance}"'
                    lines.append(f"{name}{{{extra}{',' if inside else ''}{inside}}} {value} {moment:.3f}")
            moment += step
        return "\n".join(lines) + "\n# EOF\n"

    def _samples(self, metric: Metric, labels: dict, events: float, error_share: float, now: float) -> list[str]:
        if metric.kind == "counter":
            return [_series(metric.name, labels, events)]
        if metric.kind == "gauge":
            at_rest = self.quiet and metric.idle is not None
            return [_series(metric.name, labels, metric.idle if at_rest else self._gauge(metric.name, now))]
        count = events
        if metric.kind == "histogram":
            # A spread over the buckets (the median near the middle), pushed to the top buckets by errors.
            bounds = metric.buckets
            lines = []
            for i, bound in enumerate(bounds):
                below = 1.0 if self.quiet else (i + 1) / (len(bounds) + 1) * (1 - error_share)
                # `le` as client libraries write it (Go: 1, 0.005, 1e+06); Prometheus 3 normalises it on ingestion.
                lines.append(_series(f"{metric.name}_bucket", {**labels, "le": go_float(bound)}, count * below))
            lines.append(_series(f"{metric.name}_bucket", {**labels, "le": "+Inf"}, count))
            middle = (bounds[0] / 2 if self.quiet else bounds[len(bounds) // 2]) if bounds else 1.0
            return [
                *lines,
                _series(f"{metric.name}_sum", labels, count * middle),
                _series(f"{metric.name}_count", labels, count),
            ]
        # summary: count, sum (and no quantiles: client libraries may omit them)
        return [_series(f"{metric.name}_sum", labels, count * 0.1), _series(f"{metric.name}_count", labels, count)]

    def _gauge(self, name: str, now: float) -> float:
        elapsed = now - self.started
        if name.endswith(("_uptime_seconds", "uptime_in_seconds")):
            return 3600 + elapsed
        if name.endswith("start_time_seconds"):
            return self.started - 3600
        if name.endswith(("_up", "up")):
            return 1
        return 10 + 5 * math.sin(elapsed / 30)  # moving, never zero


class WorkloadServer:
    """Serves each job's exposition at /metrics/<job> on `host` (0.0.0.0 when containers scrape it over the
    Docker bridge)."""

    def __init__(self, workload: Workload, port: int, host: str = "127.0.0.1"):
        self.workload, self.port = workload, port
        handler = self._handler()
        self.server = http.server.ThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self):
        workload = self.workload

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                job = self.path.removeprefix("/metrics/")
                if job not in workload.system_of_job:
                    self.send_error(404)
                    return
                body = workload.exposition(job).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self) -> WorkloadServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def scrape_configs(self) -> list[dict]:
        return [
            {
                "job_name": job,
                "metrics_path": f"/metrics/{job}",
                "static_configs": [{"targets": [f"127.0.0.1:{self.port}"]}],
            }
            for job in self.workload.jobs()
        ]
