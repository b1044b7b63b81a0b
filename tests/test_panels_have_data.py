"""Every panel has data: the synthetic workload (tests/workload.py, from the systems' metrics contracts) feeds
the Prometheus the stack deploys (3.16, as scripts/images/build.sh builds it) running every rule file of the
content (SLO recordings included) and scraping the stack's Alertmanager (0.35) and itself; then every
Prometheus query of every shipped dashboard and SLO dashboard, with its
variables resolved the way Grafana does, returns a series with a value, unless its panel is empty by design
(it shows only failures, and says what it shows when there are none: Grafana's `noValue`).

Loki panels are not run: Loki is AGPL and does not run here (README, "Status").
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml
from engine.stack import wait_for
from panels import empty_by_design, has_data, interpolate, prometheus_targets, query, variable_values
from repo import ROOT
from servers import free_port, ready, stack_binary
from workload import Workload, WorkloadServer, load_metrics

from stacks.content import load_content

pytestmark = pytest.mark.live
# Loki, Promtail and Grafana expose their metrics as their documentation names them (tests/fixtures/workload/).
PLATFORM_WORKLOAD = ROOT / "tests/fixtures/workload"
SCRAPE = "1s"
LIVE = 20  # seconds of scrapes before the queries: rate() over any window needs two samples
# A day and more of past traffic, backfilled every half hour (panels compare with yesterday: offset 1d).
HISTORY, HISTORY_STEP = 26 * 3600, 1800


def start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    prometheus_bin, alertmanager_bin = stack_binary("prometheus"), stack_binary("alertmanager")
    promtool = str(Path(prometheus_bin).with_name("promtool"))
    workdir = tmp_path_factory.mktemp("panels")
    content = load_content()
    catalogue = {**load_metrics(ROOT / "systems"), **load_metrics(PLATFORM_WORKLOAD)}
    processes = []
    workload_port = free_port()
    with WorkloadServer(Workload(catalogue, history=HISTORY), workload_port) as workload:
        am_port, prom_port = free_port(), free_port()
        # The workload's past, in blocks the Prometheus below starts with; it ends before the live scrapes begin.
        past = workdir / "past.om"
        past.write_text(workload.workload.backfill(time.time() - 600, HISTORY_STEP, f"127.0.0.1:{workload_port}"))
        subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(past), str(workdir / "prom-data")],
            check=True,
            capture_output=True,
        )
        # Alertmanager notifies the workload's server, so that it has notifications to count.
        (workdir / "alertmanager.yml").write_text(
            yaml.safe_dump(
                {
                    "route": {"receiver": "sink", "group_wait": "1s", "group_interval": "1s"},
                    "receivers": [
                        {"name": "sink", "webhook_configs": [{"url": f"http://127.0.0.1:{workload_port}/alerts"}]}
                    ],
                }
            )
        )
        processes.append(
            start(
                [
                    alertmanager_bin,
                    f"--config.file={workdir / 'alertmanager.yml'}",
                    f"--storage.path={workdir / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                workdir / "alertmanager.log",
            )
        )
        rules = workdir / "rules"
        rules.mkdir()
        for rule_file in content.rule_files:
            (rules / rule_file.name).write_text(rule_file.text)
        config = {
            "global": {"scrape_interval": SCRAPE, "evaluation_interval": SCRAPE},
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            "rule_files": [str(rules / "*.yml")],
            "scrape_configs": [
                {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{prom_port}"]}]},
                {"job_name": "alertmanager", "static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]},
                *workload.scrape_configs(),
            ],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        processes.append(
            start(
                [
                    prometheus_bin,
                    f"--config.file={workdir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={workdir / 'prom-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                workdir / "prometheus.log",
            )
        )
        url = f"http://127.0.0.1:{prom_port}"
        try:
            wait_for(lambda: ready(f"{url}/-/ready"), 30, "Prometheus to be ready", interval=0.25)
            jobs = ["prometheus", "alertmanager", *workload.workload.jobs()]
            wait_for(lambda: _all_up(url, jobs), 60, "every target to be up", interval=0.5)
            time.sleep(LIVE)
            yield url, content
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)


def _all_up(url: str, jobs: list[str]) -> bool:
    up = {r["metric"]["job"] for r in query(url, "up == 1")}
    return set(jobs) <= up


def test_every_panel_has_data_or_is_empty_by_design(prometheus):
    url, content = prometheus
    empty, designed, with_data, panels = [], [], 0, set()
    for dashboard in content.dashboards:
        values = variable_values(dashboard.model, url)
        for where, panel, target in prometheus_targets(dashboard.model):
            panels.add((dashboard.source, where.rsplit(".targets", 1)[0]))
            expr = interpolate(target["expr"], values)
            if has_data(query(url, expr)):
                with_data += 1
            elif empty_by_design(panel):
                designed.append(f"{dashboard.source}: {panel.get('title')!r}")
            else:
                empty.append(f"{dashboard.source}: {where} {panel.get('title')!r}: {expr}")
    print(
        f"\n{len(panels)} Prometheus panels, {with_data + len(designed) + len(empty)} queries: with data {with_data}, "
        f"empty by design {len(designed)}, empty {len(empty)}"
    )
    assert empty == [], "panel queries without data:\n" + "\n".join(empty)
