"""A server's configuration delivered into its running container, which reloads it: a rule or route change keeps
the container, the state of unchanged alerting rules, the silences and the notification log.

ConfigReload is a Pulumi dynamic resource (pulumi.dynamic: Python the engine runs, no plugin to build), created
after the server's container and the image's own check of the files (stacks/resources/service.py). On every change
of the files or of the container (and on create, unless the container holds the files already), it
1. copies the files into the running container (the Docker API's archive upload, through the stack's Docker host);
2. asks the server to reload them (POST /-/reload, from inside the container);
3. reads the server's own metrics until its last reload is successful and newer than the delivery.
When the server refuses the files, it puts the previous ones back, reloads those, and fails the update with the
server's log line: the server runs on, on its old configuration. Deleting the resource changes nothing.
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ResourceProvider, UpdateResult

from stacks.render.spec import ReloadSpec

RELOAD_TIMEOUT = 120  # seconds for a reload to show in the metrics: thousands of rules load in a few
POLL_INTERVAL = 0.2


class ConfigReloadProvider(ResourceProvider):
    """Runs in the engine's dynamic provider process (it imports this module, with the project on its path)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        deliver(props, unless_held=True)
        return CreateResult(id_=f"{props['container']}-config", outs=props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        deliver(news)
        return UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """The files stay with the container, which its own resource removes."""


class ConfigReload(pulumi.dynamic.Resource, module="monitoring", name="ConfigReload"):
    """The files of a running server's container, delivered and reloaded in place (module docstring)."""

    def __init__(
        self,
        name: str,
        *,
        service: str,
        container_id: pulumi.Input[str],
        files: pulumi.Input[Mapping[str, str]],
        port: int,
        reload: ReloadSpec,
        docker_host: str,
        checked: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        """`checked`: the result of the image's own check of these files, which the delivery waits for."""
        props = {
            "service": service,
            "container": container_id,
            "files": files,
            "port": port,
            "successMetric": reload.success_metric,
            "timestampMetric": reload.timestamp_metric,
            "failureLog": reload.failure_log,
            "dockerHost": docker_host,
            "checked": checked,
        }
        # The files may hold secrets (receiver URLs): kept encrypted in the state, as the inputs are.
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["files"]))
        super().__init__(ConfigReloadProvider(), name, props, opts)


class ReloadRefused(Exception):
    pass


def deliver(props: Mapping[str, Any], *, unless_held: bool = False) -> None:
    """Copy the files into the container and reload the server; when it refuses them, the files it had back and
    ReloadRefused with the server's words. `unless_held` (on create): nothing to do when the container holds these
    files already, as one just created with them does; it loaded them at its start, or it would not be healthy."""
    import docker as docker_api  # the Docker SDK, in the provider process only

    host = props["dockerHost"]
    client = (
        docker_api.DockerClient(base_url=host, use_ssh_client=host.startswith("ssh://"))
        if host
        else docker_api.from_env()
    )
    container = client.containers.get(props["container"])
    directory = posixpath.commonpath(list(props["files"]))  # /etc/prometheus: the config and its rules
    backup, _ = container.get_archive(directory)
    backup = b"".join(backup)
    if unless_held and _holds(backup, posixpath.dirname(directory), props["files"]):
        return
    error = _deliver_and_reload(client, container, props, _tar(props["files"]))
    if error is None:
        return
    restored = _deliver_and_reload(client, container, props, backup, posixpath.dirname(directory))
    state = "runs on the files it had" if restored is None else f"did not reload the files it had either: {restored}"
    raise ReloadRefused(f"{props['service']} refused the new configuration on reload, and {state}:\n{error}")


def _deliver_and_reload(client, container, props: Mapping[str, Any], archive: bytes, at: str = "/") -> str | None:
    """None once the server has reloaded the files of this tar archive (extracted at `at`) successfully; else what
    it said."""
    delivered_at = _daemon_time(client)
    container.put_archive(at, archive)
    # POST /-/reload from inside the container, with the image's own wget. Not a SIGHUP through the Docker API: any
    # signal sent that way marks the container as stopped by hand, and `unless-stopped` then leaves it down after a
    # daemon restart or a reboot (moby/moby#41302, still open). The answer is read from the metrics below.
    container.exec_run(["wget", "-q", "-O", "-", "--post-data=", _in_container(props["port"], "/-/reload")])
    deadline = time.monotonic() + RELOAD_TIMEOUT
    while time.monotonic() < deadline:
        metrics = _metrics(container, props["port"], (props["successMetric"], props["timestampMetric"]))
        if metrics.get(props["successMetric"]) == 1 and metrics.get(props["timestampMetric"], 0) >= delivered_at:
            return None
        if metrics.get(props["successMetric"]) == 0 and _server_log(container, delivered_at, props["failureLog"]):
            # The reload's own line names the config file; the lines before it say what is wrong in it.
            return _server_log(container, delivered_at, "level=error")
        time.sleep(POLL_INTERVAL)
    return f"no successful reload within {RELOAD_TIMEOUT} s; its log since the delivery:\n" + (
        _server_log(container, delivered_at) or "(nothing)"
    )


def _tar(files: Mapping[str, str]) -> bytes:
    """The files as a tar archive rooted at /, readable by the server's user (as the container's own uploads)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _holds(archive: bytes, at: str, files: Mapping[str, str]) -> bool:
    """Whether a tar archive of the container's files (as the Docker API gives it, its names relative to `at`)
    holds each of `files` with the same content."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as held:
        names = set(held.getnames())
        for path, text in files.items():
            name = posixpath.relpath(path, at)
            member = held.extractfile(name) if name in names else None
            if member is None or member.read() != text.encode():
                return False
    return True


def _daemon_time(client) -> float:
    """Now on the Docker host's clock, which the server's metrics and logs use (a remote host's may differ)."""
    text = client.info()["SystemTime"]  # RFC 3339 with nanoseconds: 2026-12-06T18:15:31.123456789Z
    match = re.match(r"(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not match:
        return time.time()
    whole, fraction, zone = match.groups()
    moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    return moment.timestamp() + float(f"0.{fraction or 0}")


def _metrics(container, port: int, names: tuple[str, ...]) -> dict[str, float]:
    """These metrics (without labels) from the server's /metrics, read with the image's own wget."""
    code, output = container.exec_run(["wget", "-q", "-O", "-", _in_container(port, "/metrics")])
    if code != 0:
        return {}
    values = {}
    for line in output.decode(errors="replace").splitlines():
        name, _, value = line.partition(" ")
        if name in names:
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values


def _in_container(port: float, path: str) -> str:
    """The server's URL from inside its container. int(): the engine hands every number over as a float."""
    return f"http://127.0.0.1:{int(port)}{path}"


def _server_log(container, since: float, containing: str = "") -> str:
    """The server's last log lines since `since` (the Docker host's clock) that contain `containing` (any case)."""
    lines = container.logs(stdout=True, stderr=True, since=since).decode(errors="replace").splitlines()
    return "\n".join([line for line in lines if containing.lower() in line.lower()][-20:])
