"""The real Prometheus and Alertmanager binaries as test processes on loopback ports."""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path

from polling import wait_for

from offline.images.local_builds import LOCAL_BUILDS

IMAGES_CACHE = Path(os.environ.get("MONITORING_IMAGES_CACHE", Path.home() / ".cache/monitoring-images"))


def stack_release(service: str) -> str:
    """The release of the server the stack deploys, such as 3.16.0 for prometheus."""
    return LOCAL_BUILDS[service].version(service).removeprefix("v")


def stack_build_dir(service: str) -> Path:
    """Where offline/images/build.sh puts the server of the release the stack deploys (Prometheus 3.16,
    Alertmanager 0.35) and its command-line tool (promtool, amtool)."""
    return IMAGES_CACHE / "bin" / f"{service}-{stack_release(service)}"


def stack_binary(service: str) -> str:
    """The server of the release the stack deploys, as offline/images/build.sh builds it for the local images."""
    path = stack_build_dir(service) / service
    assert path.is_file(), f"{path} is missing: run scripts/setup.sh (it builds the local images and their servers)"
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def start_alertmanager(processes: Callable, workdir: Path, config_yaml: str) -> int:
    """The stack's Alertmanager release on a free loopback port with this config, once it is ready."""
    port = free_port()
    workdir.mkdir(exist_ok=True)
    (workdir / "alertmanager.yml").write_text(config_yaml)
    processes(
        stack_binary("alertmanager"),
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        log=workdir / "alertmanager.log",
    )
    wait_for(lambda: ready(f"http://127.0.0.1:{port}/-/ready"), 30, "Alertmanager to be ready", interval=0.25)
    return port
