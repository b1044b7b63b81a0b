"""scripts/recover.py, which scripts/up runs before an update: what it decides from a Pulumi lock and from what
Docker has (a lock whose owner is gone, containers the state does not hold, drift that asks for a refresh)."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from repo import ROOT


def _recover_module():
    spec = importlib.util.spec_from_file_location("recover", ROOT / "scripts/recover.py")
    module = sys.modules.setdefault("recover", importlib.util.module_from_spec(spec))  # dataclasses look it up
    spec.loader.exec_module(module)
    return module


def test_a_lock_is_stale_only_when_its_owner_on_this_host_is_gone(tmp_path):
    recover = _recover_module()
    lock_dir = tmp_path / ".pulumi/locks/organization/monitoring/dev"
    lock_dir.mkdir(parents=True)
    for name, pid, host in (("a", 101, "here"), ("b", 102, "here"), ("c", 103, "elsewhere")):
        (lock_dir / f"{name}.json").write_text(
            f'{{"pid": {pid}, "username": "u", "hostname": "{host}", "timestamp": "2026-11-30T15:00:00Z"}}'
        )
    locks = recover.stack_locks(tmp_path, "monitoring", "dev")
    assert [(lock.pid, lock.hostname) for lock in locks] == [(101, "here"), (102, "here"), (103, "elsewhere")]
    assert recover.stack_locks(tmp_path, "monitoring", "prod") == []
    owners = recover.lock_owners(locks, "here", running=lambda pid: pid == 102)
    assert ([lock.pid for lock in owners.gone], [lock.pid for lock in owners.running]) == ([101], [102])
    assert [lock.pid for lock in owners.elsewhere] == [103]


def _lock(backend: Path, pid: int, host: str) -> Path:
    lock_dir = backend / ".pulumi/locks/organization/monitoring/dev"
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{pid}.json"
    path.write_text(f'{{"pid": {pid}, "hostname": "{host}", "timestamp": "2026-12-06T18:00:00Z"}}')
    return path


def test_recovery_waits_for_a_running_update_and_touches_nothing_before_it_ends(tmp_path, monkeypatch, capsys):
    """A second scripts/up while a first runs: nothing is removed until the first's lock is gone."""
    recover = _recover_module()
    lock = _lock(tmp_path, 4242, socket.gethostname())
    polls = []

    def running(pid: int) -> bool:  # the first update ends (and removes its lock) after three polls
        polls.append(pid)
        if len(polls) == 3:
            lock.unlink()
        return True

    monkeypatch.setattr(recover, "pulumi_is_running", running)
    monkeypatch.setattr(recover, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(recover, "pulumi", lambda *args: pytest.fail(f"pulumi {args} while an update runs"))
    assert recover.no_update_running(f"file://{tmp_path}", "monitoring", "dev")
    assert polls == [4242, 4242, 4242]
    out = capsys.readouterr().err
    assert "[recover] an update is running (pid 4242, since 2026-12-06T18:00:00Z): waiting for it to finish" in out
    assert out.rstrip().endswith("[recover] the running update has finished")


def test_recovery_touches_nothing_with_an_owner_elsewhere_or_an_unreadable_lock(tmp_path, monkeypatch, capsys):
    recover = _recover_module()
    monkeypatch.setattr(recover, "pulumi", lambda *args: pytest.fail(f"pulumi {args}"))
    _lock(tmp_path, 77, "another-host")
    assert not recover.no_update_running(f"file://{tmp_path}", "monitoring", "dev")
    assert "pid 77 on host 'another-host', which cannot be checked from here, so nothing is touched" in (
        capsys.readouterr().err
    )
    assert not recover.no_update_running("s3://bucket/state", "monitoring", "dev")
    assert "the lock of a s3 backend cannot be read from here, so nothing is touched" in capsys.readouterr().err


def test_recovery_removes_a_lock_whose_owner_is_gone(tmp_path, monkeypatch, capsys):
    recover = _recover_module()
    lock = _lock(tmp_path, 99, socket.gethostname())
    called = []
    monkeypatch.setattr(recover, "pulumi_is_running", lambda pid: False)
    monkeypatch.setattr(recover, "pulumi", lambda *args: called.append(args) or lock.unlink())
    assert recover.no_update_running(f"file://{tmp_path}", "monitoring", "dev")
    assert called == [("cancel", "--yes", "--stack", "dev")]
    assert "removed the lock of update pid 99" in capsys.readouterr().err


def test_a_reused_pid_running_something_else_is_not_a_pulumi_update():
    recover = _recover_module()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        assert not recover.pulumi_is_running(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not recover.pulumi_is_running(sleeper.pid)  # gone


def test_only_docker_objects_the_state_does_not_hold_are_orphans():
    recover = _recover_module()
    found = {"id1": "monitoring-dev-prometheus", "id2": "monitoring-dev-alertmanager", "id3": "monitoring-dev-x"}
    assert recover.unknown_to_state(found, {"id1", "id2", "id-gone"}) == {"id3": "monitoring-dev-x"}


# What `docker inspect` answers for the dev stack's objects (the fields the comparison reads, as Docker 20.10 names
# them), and the state's record of the same objects, as `pulumi stack export` holds them.
PROVIDER = "urn:pulumi:dev::monitoring::monitoring:index:MonitoringStack$pulumi:providers:docker::monitoring-docker"
STATE = [
    {"urn": "urn:pulumi:dev::monitoring::pulumi:pulumi:Stack::monitoring-dev", "type": "pulumi:pulumi:Stack"},
    {"urn": PROVIDER, "type": "pulumi:providers:docker", "custom": True, "id": "p1", "inputs": {"version": "5.1.0"}},
    {
        "urn": "urn:pulumi:dev::monitoring::docker:index/network:Network::monitoring-network",
        "type": "docker:index/network:Network",
        "custom": True,
        "id": "n1",
        "provider": f"{PROVIDER}::p1",
        "outputs": {"name": "monitoring-dev-network"},
    },
    {
        "urn": "urn:pulumi:dev::monitoring::docker:index/volume:Volume::monitoring-prometheus-data",
        "type": "docker:index/volume:Volume",
        "custom": True,
        "id": "monitoring-dev-prometheus-data",
        "provider": f"{PROVIDER}::p1",
        "outputs": {"name": "monitoring-dev-prometheus-data"},
    },
    {
        "urn": "urn:pulumi:dev::monitoring::docker:index/container:Container::monitoring-prometheus-container",
        "type": "docker:index/container:Container",
        "custom": True,
        "id": "c1",
        "provider": f"{PROVIDER}::p1",
        "outputs": {
            "name": "monitoring-dev-prometheus",
            "image": "prom/prometheus:v3.16.0",
            "restart": "unless-stopped",
            "mustRun": True,
            "networksAdvanced": [{"name": "monitoring-dev-network", "aliases": ["prometheus"]}],
        },
    },
    {
        "urn": "urn:pulumi:dev::monitoring::docker:index/container:Container::monitoring-prometheus-check",
        "type": "docker:index/container:Container",
        "custom": True,
        "id": "c2",
        "provider": f"{PROVIDER}::p1",
        "outputs": {"name": "monitoring-dev-prometheus-check", "image": "prom/prometheus:v3.16.0", "restart": "no"},
    },
    {
        "urn": "urn:pulumi:dev::monitoring::pulumi-python:dynamic/monitoring:ConfigReload::prometheus-config",
        "type": "pulumi-python:dynamic/monitoring:ConfigReload",
        "custom": True,
        "id": "c1-config",
    },
]


def _docker_has() -> dict[str, dict]:
    def container(name: str, running: bool, restart: str, networks: list[str]) -> dict:
        return {
            "Name": f"/{name}",
            "Image": "sha256:5e1f",
            "Config": {"Image": "prom/prometheus:v3.16.0"},
            "State": {"Running": running},
            "HostConfig": {"RestartPolicy": {"Name": restart}},
            "NetworkSettings": {"Networks": {network: {} for network in networks}},
        }

    return {
        "n1": {"Name": "monitoring-dev-network"},
        "monitoring-dev-prometheus-data": {"Name": "monitoring-dev-prometheus-data"},
        "c1": container("monitoring-dev-prometheus", True, "unless-stopped", ["monitoring-dev-network"]),
        "c2": container("monitoring-dev-prometheus-check", False, "no", []),  # a check that ran: it exits
    }


def test_docker_as_the_state_holds_it_needs_no_refresh():
    recover = _recover_module()
    assert recover.unread_by_drift(STATE) == []
    assert recover.drift(STATE, _docker_has()) == []


@pytest.mark.parametrize(
    ("fault", "found"),
    [
        (lambda have: have.pop("c1"), "monitoring-prometheus-container is gone"),
        (lambda have: have.pop("c2"), "monitoring-prometheus-check is gone"),
        (lambda have: have.pop("n1"), "monitoring-network is gone"),
        (lambda have: have.pop("monitoring-dev-prometheus-data"), "monitoring-prometheus-data is gone"),
        (lambda have: have["c1"]["State"].update(Running=False), "monitoring-prometheus-container is not running"),
        (
            lambda have: have["c1"]["NetworkSettings"].update(Networks={}),
            "monitoring-prometheus-container is not on monitoring-dev-network",
        ),
        (
            lambda have: have["c1"]["Config"].update(Image="prom/prometheus:v3.15.0"),
            "monitoring-prometheus-container runs prom/prometheus:v3.15.0, not prom/prometheus:v3.16.0",
        ),
        (
            lambda have: have["c1"]["HostConfig"]["RestartPolicy"].update(Name="no"),
            "monitoring-prometheus-container has the restart policy 'no'",
        ),
        (
            lambda have: have["c1"].update(Name="/renamed"),
            "monitoring-prometheus-container is named 'renamed', not 'monitoring-dev-prometheus'",
        ),
    ],
)
def test_what_differs_in_docker_is_named_and_asks_for_a_refresh(fault, found):
    recover = _recover_module()
    have = _docker_has()
    fault(have)
    assert recover.drift(STATE, have) == [found]


def test_a_check_container_that_exited_is_not_drift_and_a_pinned_image_id_is_compared_as_an_id():
    recover = _recover_module()
    by_id = [dict(r, outputs=dict(r["outputs"], image="sha256:5e1f")) if r.get("id") == "c1" else r for r in STATE]
    assert recover.drift(by_id, _docker_has()) == []
    have = _docker_has()
    have["c1"]["Image"] = "sha256:0a0a"
    assert recover.drift(by_id, have) == ["monitoring-prometheus-container runs sha256:0a0a, not sha256:5e1f"]


def test_what_only_a_refresh_reads_always_refreshes():
    """Grafana's content (its dashboards edited in the UI) and a Docker host reached with options of the provider's
    own are not compared: the update refreshes."""
    recover = _recover_module()
    dashboard = {"urn": "urn:pulumi:dev::monitoring::grafana:index/dashboard:Dashboard::d", "custom": True}
    with_grafana = [*STATE, dict(dashboard, type="grafana:index/dashboard:Dashboard", id="d1")]
    assert recover.unread_by_drift(with_grafana) == ["grafana:index/dashboard:Dashboard"]
    over_ssh = [
        dict(r, inputs={"host": "ssh://ops@box", "sshOpts": ["-i", "key"]}) if r["urn"] == PROVIDER else r
        for r in STATE
    ]
    assert recover.unread_by_drift(over_ssh) == ["monitoring-docker (a Docker host reached with sshOpts)"]


def test_each_object_is_inspected_on_its_providers_docker_host(monkeypatch):
    recover = _recover_module()
    remote = "urn:pulumi:dev::monitoring::pulumi:providers:docker::monitoring-host-b-docker"
    resources = [
        *STATE,
        {
            "urn": remote,
            "type": "pulumi:providers:docker",
            "custom": True,
            "id": "p2",
            "inputs": {"host": "tcp://b:2375"},
        },
        {
            "urn": "urn:pulumi:dev::monitoring::docker:index/container:Container::monitoring-host-b-node-exporter",
            "type": "docker:index/container:Container",
            "custom": True,
            "id": "c9",
            "provider": f"{remote}::p2",
        },
    ]
    asked = []

    def run(command, env, **_):
        asked.append((env.get("DOCKER_HOST"), command[1], tuple(command[3:])))
        return subprocess.CompletedProcess(command, 1, stdout="[]", stderr="Error: No such object")

    monkeypatch.setattr(recover.subprocess, "run", run)
    assert recover.inspect_docker(resources, {"DOCKER_HOST": "unix:///local.sock"}) == {}
    assert sorted(asked, key=str) == sorted(
        [
            ("unix:///local.sock", "network", ("n1",)),
            ("unix:///local.sock", "volume", ("monitoring-dev-prometheus-data",)),
            ("unix:///local.sock", "container", ("c1", "c2")),
            ("tcp://b:2375", "container", ("c9",)),
        ],
        key=str,
    )
