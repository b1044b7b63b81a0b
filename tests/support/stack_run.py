"""The Prometheus and Alertmanager the stack deploys (3.16 and 0.35, as offline/images/build.sh builds them),
run on loopback with the content's rule files, scraping the synthetic workload (tests/support/workload.py), a real
Alertmanager and themselves."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml
from panels import query
from polling import wait_for
from repo import ROOT
from servers import free_port, ready, stack_binary
from workload import Workload, WorkloadServer, load_metrics

# Loki, Promtail and Grafana expose their metrics as their documentation names them (tests/fixtures/workload/).
PLATFORM_WORKLOAD = ROOT / "tests/fixtures/workload"
SCRAPE = "1s"


def catalogue() -> dict:
    return {**load_metrics(ROOT / "systems"), **load_metrics(PLATFORM_WORKLOAD)}


@contextlib.contextmanager
def running_stack(
    workdir: Path,
    rule_files: Mapping[str, str],
    alertmanager_yml: str,
    errors: Mapping[str, float] | None = None,
    history: float = 0,
    history_step: float = 1800,
    quiet: bool = False,
    history_gap: float = 600,
) -> Iterator[str]:
    """Prometheus's URL, once every target is up: the caller polls for what it needs (rules evaluated, rates
    over a few scrapes), with a deadline. `history`: seconds of the workload's past backfilled (every
    `history_step`, until `history_gap` seconds ago) before Prometheus starts; `quiet`: the workload's."""
    prometheus_bin, alertmanager_bin = stack_binary("prometheus"), stack_binary("alertmanager")
    workload_port, am_port, prom_port = free_port(), free_port(), free_port()
    processes: list[subprocess.Popen] = []
    with WorkloadServer(Workload(catalogue(), errors, history, quiet), workload_port) as server:
        if history:
            past = workdir / "past.om"
            past.write_text(
                server.workload.backfill(time.time() - history_gap, history_step, f"127.0.0.1:{workload_port}")
            )
            promtool = str(Path(prometheus_bin).with_name("promtool"))
            command = [promtool, "tsdb", "create-blocks-from", "openmetrics", str(past), str(workdir / "prom-data")]
            subprocess.run(command, check=True, capture_output=True)
        (workdir / "alertmanager.yml").write_text(alertmanager_yml)
        rules = workdir / "rules"
        rules.mkdir()
        for name, text in rule_files.items():
            (rules / name).write_text(text)
        config = {
            "global": {"scrape_interval": SCRAPE, "evaluation_interval": SCRAPE},
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            "rule_files": [str(rules / "*.yml")],
            "scrape_configs": [
                {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{prom_port}"]}]},
                {"job_name": "alertmanager", "static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]},
                *server.scrape_configs(),
            ],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        commands = {
            "alertmanager": [
                alertmanager_bin,
                f"--config.file={workdir / 'alertmanager.yml'}",
                f"--storage.path={workdir / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            "prometheus": [
                prometheus_bin,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'prom-data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                "--rules.alert.resend-delay=1s",
            ],
        }
        for name, command in commands.items():
            processes.append(
                subprocess.Popen(command, stdout=(workdir / f"{name}.log").open("w"), stderr=subprocess.STDOUT)
            )
        url = f"http://127.0.0.1:{prom_port}"
        try:
            wait_for(lambda: ready(f"{url}/-/ready"), 30, "Prometheus to be ready", interval=0.25)
            jobs = {"prometheus", "alertmanager", *server.workload.jobs()}
            wait_for(lambda: jobs <= {r["metric"]["job"] for r in query(url, "up == 1")}, 60, "every target up", 0.5)
            yield url
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)
