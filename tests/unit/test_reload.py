"""stacks/reload.py's pure parts: what it sends into a container and how it reads the server's answers. The
delivery itself (copy, POST /-/reload, confirmation, the files put back on refusal) runs against the real
Prometheus and Alertmanager in tests/engine/test_e2e_containers.py."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime

import pytest

from stacks import reload
from stacks.reload import _daemon_time, _holds, _metrics, _tar


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


def _archive(files: dict[str, bytes]) -> bytes:
    """A tar archive as the Docker API's get_archive of /etc/prometheus gives it: names start at `prometheus/`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in ("prometheus", "prometheus/rules"):
            directory = tarfile.TarInfo(name)
            directory.type = tarfile.DIRTYPE
            archive.addfile(directory)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


HELD = _archive({"prometheus/prometheus.yml": b"global: {}\n", "prometheus/rules/a.yml": b"groups: []\n"})
WANTED = {"/etc/prometheus/prometheus.yml": "global: {}\n", "/etc/prometheus/rules/a.yml": "groups: []\n"}


def test_a_container_holds_the_files_only_when_each_is_there_with_the_same_content():
    assert _holds(HELD, "/etc", WANTED)
    assert _holds(HELD, "/etc", {"/etc/prometheus/rules/a.yml": "groups: []\n"})  # others may be there too
    assert not _holds(HELD, "/etc", {**WANTED, "/etc/prometheus/rules/a.yml": "groups: [x]\n"})
    assert not _holds(HELD, "/etc", {**WANTED, "/etc/prometheus/rules/b.yml": "groups: []\n"})
    assert not _holds(HELD, "/etc", {"/etc/prometheus/rules": ""})  # a directory is not the file


class _Server:
    """A container as the Docker SDK shows it, holding HELD, recording what is put into it."""

    def __init__(self):
        self.put = []

    def get_archive(self, path):
        assert path == "/etc/prometheus"
        return iter([HELD[:100], HELD[100:]]), {}

    def put_archive(self, at, archive):
        self.put.append(at)
        raise AssertionError("delivered")


class _Docker:
    def __init__(self, server):
        self.containers = type("Containers", (), {"get": staticmethod(lambda _id: server)})()


def test_create_delivers_nothing_into_a_container_that_holds_the_files_and_anything_else_is_delivered(monkeypatch):
    import docker

    server = _Server()
    monkeypatch.setattr(docker, "from_env", lambda: _Docker(server))
    monkeypatch.setattr(reload, "_daemon_time", lambda _client: 0.0)
    props = {"dockerHost": "", "container": "c1", "files": WANTED, "service": "prometheus"}
    reload.deliver(props, unless_held=True)
    assert server.put == []
    with pytest.raises(AssertionError, match="delivered"):
        reload.deliver(dict(props, files={**WANTED, "/etc/prometheus/rules/a.yml": "groups: [x]\n"}), unless_held=True)
    with pytest.raises(AssertionError, match="delivered"):
        reload.deliver(props)  # an update: the files changed in the state, so they go in whatever the container has
    assert server.put == ["/", "/"]


def test_the_dynamic_providers_module_is_the_one_every_deployed_stacks_state_names():
    """Pulumi keeps a dynamic resource's provider in its state, pickled by reference: moving stacks/reload.py would
    change every deployed ConfigReload's inputs (an update on the next `up`), and an old state would name a module
    that is gone. It stays where deployed stacks have it."""
    import base64

    from pulumi.dynamic.dynamic import serialize_provider

    pickled = base64.b64decode(serialize_provider(reload.ConfigReloadProvider()))
    assert b"\x8c\rstacks.reload\x94\x8c\x14ConfigReloadProvider" in pickled
