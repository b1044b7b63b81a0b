"""Remote write to a real store: Prometheus 3.16 (the local build) with a prometheus.yml the program renders
from `prometheus.remoteWrite`, sending to VictoriaMetrics single-node v1.151.0 (Apache-2.0, the local test
receiver) on a Docker network.

Two things are shown: a series Prometheus scrapes is queryable from the store; and with the store stopped for
a minute nothing is lost: once it is back, the samples of the outage arrive from Prometheus's WAL, as many as
Prometheus itself holds for that minute (the peer the count is compared with).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
from conftest import configured_stack
from polling import wait_for

from offline.images.local_builds import local_image, local_test_receiver_image
from stacks.config.load import load_settings
from stacks.render.prometheus import render_prometheus_config

pytestmark = pytest.mark.containers
PREFIX = "rw-store"
NETWORK, STORE, PROMETHEUS = f"{PREFIX}-net", f"{PREFIX}-vm", f"{PREFIX}-prometheus"
# Below 32768: Linux gives ports 32768-60999 to outgoing connections, which can take a test's port first.
STORE_PORT, PROMETHEUS_PORT = 24428, 24490
OUTAGE_SECONDS = 60
SERIES = 'up{job="prometheus"}'


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr}")
    return result


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def samples(base: str, start: float, end: float) -> int:
    """How many samples of SERIES a PromQL API holds in [start, end]: count_over_time at `end`."""
    query = f"count_over_time({SERIES}[{int(end - start)}s])"
    result = get_json(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query, "time": f"{end:.3f}"}))
    values = result["data"]["result"]
    return int(float(values[0]["value"][1])) if values else 0


@pytest.fixture
def store_and_prometheus(tmp_path):
    config, secret_keys = configured_stack("dev")
    config["monitoring:prometheus"] = {
        "scrapeInterval": "1s",
        "evaluationInterval": "5s",
        "remoteWrite": [
            {
                "name": "victoria-metrics",
                "url": f"http://{STORE}:8428/api/v1/write",
                "queue": {"batchSendDeadline": "1s", "minBackoff": "100ms", "maxBackoff": "2s"},
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(render_prometheus_config(load_settings(config, frozenset(secret_keys))))
    tmp_path.chmod(0o755)
    (tmp_path / "prometheus.yml").chmod(0o644)
    for name in (PROMETHEUS, STORE):
        docker("rm", "-f", name, check=False)
    docker("network", "rm", NETWORK, check=False)
    docker("network", "create", NETWORK)
    try:
        docker(
            "run", "-d", "--name", STORE, "--network", NETWORK, "-p", f"127.0.0.1:{STORE_PORT}:8428",
            local_test_receiver_image(),
            "-storageDataPath=/victoria-metrics-data", "-retentionPeriod=1d", "-httpListenAddr=:8428",
            "-search.latencyOffset=0s",  # answer for samples as soon as they are written
        )  # fmt: skip
        docker(
            "run", "-d", "--name", PROMETHEUS, "--network", NETWORK, "-p", f"127.0.0.1:{PROMETHEUS_PORT}:9090",
            "-v", f"{tmp_path / 'prometheus.yml'}:/etc/prometheus/prometheus.yml:ro",
            local_image("prometheus"),
            "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
        )  # fmt: skip
        yield f"http://127.0.0.1:{STORE_PORT}", f"http://127.0.0.1:{PROMETHEUS_PORT}"
    finally:
        for name in (PROMETHEUS, STORE):
            docker("rm", "-f", name, check=False)
        docker("network", "rm", NETWORK, check=False)


def test_the_store_gets_what_prometheus_scrapes_and_the_samples_of_an_outage_from_the_wal(store_and_prometheus):
    store, prometheus = store_and_prometheus
    query = urllib.parse.urlencode({"query": SERIES})
    wait_for(lambda: get_json(f"{store}/api/v1/query?{query}")["data"]["result"], 90, "the series in the store")
    series = get_json(f"{store}/api/v1/query?{query}")["data"]["result"][0]
    assert series["metric"]["instance"] == "localhost:9090" and series["value"][1] == "1"

    docker("stop", STORE)
    start = time.time()
    time.sleep(OUTAGE_SECONDS)
    end = time.time()
    docker("start", STORE)
    held = samples(prometheus, start, end)
    assert held >= OUTAGE_SECONDS * 0.8, f"Prometheus scraped only {held} samples in the outage"

    # The queue retries with backoff (2 s at most here) and reads the outage's samples back from the WAL.
    arrived = wait_for(
        lambda: (n := samples(store, start, end)) >= held and n, 120, f"the {held} samples of the outage in the store"
    )
    assert arrived == held
    print(
        f"\nremote write: {held} samples of a {OUTAGE_SECONDS} s outage arrived from the WAL after the store returned"
    )
