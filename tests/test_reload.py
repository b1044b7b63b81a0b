"""stacks/reload.py's pure parts: what it sends into a container and how it reads the server's answers. The
delivery itself (copy, SIGHUP, confirmation, the files put back on refusal) runs against the real Prometheus and
Alertmanager in tests/engine/test_e2e_containers.py."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime

from stacks.reload import _daemon_time, _metrics, _tar


def test_the_files_go_in_as_a_tar_rooted_at_slash_readable_by_the_server_user():
    archive = tarfile.open(fileobj=io.BytesIO(_tar({"/etc/a/b.yml": "bé", "/etc/a/rules/c.yml": "c: 1\n"})))
    members = {m.name: m for m in archive.getmembers()}
    assert sorted(members) == ["etc/a/b.yml", "etc/a/rules/c.yml"]
    assert {m.mode for m in members.values()} == {0o644}
    assert archive.extractfile(members["etc/a/b.yml"]).read() == "bé".encode()


class _Client:
    def __init__(self, system_time: str):
        self.system_time = system_time

    def info(self) -> dict:
        return {"SystemTime": self.system_time}


def test_the_docker_hosts_clock_is_read_to_the_nanosecond_in_any_zone():
    utc = datetime(2026, 12, 6, 18, 15, 31, tzinfo=UTC).timestamp()
    assert abs(_daemon_time(_Client("2026-12-06T18:15:31.123456789Z")) - (utc + 0.123456789)) < 1e-6
    assert abs(_daemon_time(_Client("2026-12-06T19:15:31.5+01:00")) - (utc + 0.5)) < 1e-6
    assert _daemon_time(_Client("2026-12-06T18:15:31Z")) == utc


class _Container:
    def __init__(self, code: int, output: bytes):
        self.code, self.output, self.commands = code, output, []

    def exec_run(self, command):
        self.commands.append(command)
        return self.code, self.output


METRICS = b"""# HELP prometheus_config_last_reload_successful Whether the last configuration reload attempt was ok.
# TYPE prometheus_config_last_reload_successful gauge
prometheus_config_last_reload_successful 1
prometheus_config_last_reload_success_timestamp_seconds 1.7965801113894901e+09
prometheus_config_last_reload_successful_total{x="y"} 7
"""


def test_the_reload_metrics_are_read_with_the_images_wget_on_the_port_the_engine_sends_as_a_float():
    names = ("prometheus_config_last_reload_successful", "prometheus_config_last_reload_success_timestamp_seconds")
    container = _Container(0, METRICS)
    assert _metrics(container, 9090.0, names) == {names[0]: 1.0, names[1]: 1796580111.3894901}
    assert container.commands == [["wget", "-q", "-O", "-", "http://127.0.0.1:9090/metrics"]]
    assert _metrics(_Container(1, b""), 9090, names) == {}  # not answering yet: nothing read, polled again
