"""Puts a stack back in a state `pulumi up` can work from after an update was killed (used by scripts/up).

    python scripts/recover.py STACK [STACK_FILE]

A killed `pulumi up` (SIGKILL, a closed laptop, an OOM kill) leaves three things behind, each of which makes
the next update fail or lie:
1. the stack's lock in the file backend: every later update is refused. The lock is removed only when its
   owner, a pulumi process on this host, is gone;
2. containers Docker created that the state never heard of: the next create fails with "Conflict. The
   container name ... is already in use". Those carrying this stack's compose project label are removed
   (their data is in the named volumes, which are never touched), and so are its networks the state
   does not know;
3. pending operations in the state: they are cleared, and the refresh every update starts with
   (Pulumi.yaml options.refresh) reads what is really there.
Steps 2 and 3 run only once no update can be running: a container a running update has just created is not yet
in the state, and removing it would break that update. So while the lock's owner is alive on this host, it waits
for it to finish (saying so); with an owner on another host, or a backend whose lock it cannot read (not
file://), it touches nothing and says why.
It prints what it did, and nothing when there was nothing to do.

STACK_FILE is the stack's config file (default Pulumi.STACK.yaml), read for namePrefix, environment and
dockerHost. The backend is PULUMI_BACKEND_URL.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stacks.settings import name_prefix  # noqa: E402 - after the repository is on the path

PROJECT_LABEL = "com.docker.compose.project"  # what stacks/service.py and stacks/monitoring.py label with


@dataclass(frozen=True)
class Lock:
    path: Path
    pid: int
    hostname: str
    timestamp: str


def say(message: str) -> None:
    print(f"[recover] {message}", flush=True)


def stack_locks(backend_dir: Path, project: str, stack: str) -> list[Lock]:
    """The lock files of a stack in a file backend (project-scoped layout, and the older one without projects)."""
    locks = []
    for directory in (
        backend_dir / ".pulumi/locks/organization" / project / stack,
        backend_dir / ".pulumi/locks" / stack,
    ):
        for path in sorted(directory.glob("*.json")):
            content = json.loads(path.read_text())
            locks.append(Lock(path, int(content["pid"]), content["hostname"], content.get("timestamp", "")))
    return locks


def pulumi_is_running(pid: int) -> bool:
    """Whether `pid` is a live pulumi process on this host (a reused pid running something else is not)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(Path(part.decode(errors="replace")).name.startswith("pulumi") for part in command if part)


@dataclass(frozen=True)
class Owners:
    """The stack's locks, by what their owners are known to be doing."""

    gone: list[Lock]  # a pulumi process of this host that no longer runs
    running: list[Lock]  # a live pulumi process of this host
    elsewhere: list[Lock]  # a process of another host, which cannot be checked from here


def lock_owners(locks: Iterable[Lock], hostname: str, running: Callable[[int], bool]) -> Owners:
    owners = Owners([], [], [])
    for lock in locks:
        if lock.hostname != hostname:
            owners.elsewhere.append(lock)
        else:
            (owners.running if running(lock.pid) else owners.gone).append(lock)
    return owners


def unknown_to_state(found: dict[str, str], known_ids: set[str]) -> dict[str, str]:
    """Of the Docker objects found (id -> name), those the state does not hold."""
    return {object_id: name for object_id, name in found.items() if object_id not in known_ids}


def pulumi(*args: str) -> str:
    result = subprocess.run(["pulumi", *args, "--non-interactive"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"scripts/recover.py: pulumi {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def docker_objects(kind: str, prefix: str, env: dict[str, str]) -> dict[str, str]:
    """id -> name of the containers or networks labelled with this stack's compose project."""
    command = ["docker", kind, "ls", "--no-trunc", "--filter", f"label={PROJECT_LABEL}={prefix}"]
    command += ["--all"] if kind == "container" else []
    command += ["--format", "{{.ID}} {{.Names}}" if kind == "container" else "{{.ID}} {{.Name}}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if line.strip())


WAIT_SECONDS = 3600  # for a running update on this host to finish
POLL_SECONDS = 1


def no_update_running(backend: str, project: str, stack: str) -> bool:
    """True once no update of the stack can be running, after removing a lock whose owner is gone; False (having
    said why) when that cannot be known or the owner does not finish in WAIT_SECONDS."""
    if not backend.startswith("file://"):
        kind = backend.partition("://")[0] or "Pulumi Cloud"
        say(
            f"the lock of a {kind} backend cannot be read from here, so nothing is touched: after a killed update, "
            "see README, 'When things go wrong'"
        )
        return False
    backend_dir = Path(backend.removeprefix("file://")).expanduser()
    deadline, waited = time.monotonic() + WAIT_SECONDS, False
    while True:
        owners = lock_owners(stack_locks(backend_dir, project, stack), socket.gethostname(), pulumi_is_running)
        for lock in owners.elsewhere:
            say(
                f"the lock {lock.path.name} belongs to pid {lock.pid} on host {lock.hostname!r}, which cannot be "
                "checked from here, so nothing is touched (what a running update creates is not yet in the state): "
                "if no update runs there, `pulumi cancel` removes the lock"
            )
        if owners.elsewhere:
            return False
        if not owners.running:
            break
        if not waited:
            for lock in owners.running:
                say(f"an update is running (pid {lock.pid}, since {lock.timestamp}): waiting for it to finish")
            waited = True
        if time.monotonic() > deadline:
            say(f"the update still runs after {WAIT_SECONDS} s: nothing is touched")
            return False
        time.sleep(POLL_SECONDS)
    if waited:
        say("the running update has finished")
    if owners.gone:
        pulumi("cancel", "--yes", "--stack", stack)
        for lock in owners.gone:
            say(f"removed the lock of update pid {lock.pid} (since {lock.timestamp}), which is no longer running")
    return True


def main(stack: str, stack_file: Path) -> None:
    project = yaml.safe_load(Path("Pulumi.yaml").read_text())["name"]
    if not no_update_running(os.environ.get("PULUMI_BACKEND_URL", ""), project, stack):
        return

    exported = json.loads(pulumi("stack", "export", "--stack", stack))
    deployment = exported.get("deployment") or {}
    config = (yaml.safe_load(stack_file.read_text()) if stack_file.exists() else None) or {}
    config = config.get("config") or {}
    prefix = name_prefix(config.get(f"{project}:namePrefix", ""), config.get(f"{project}:environment", stack))
    env = dict(os.environ)
    if config.get(f"{project}:dockerHost"):
        env["DOCKER_HOST"] = config[f"{project}:dockerHost"]
    resources = deployment.get("resources") or []
    for kind, type_ in (("container", "docker:index/container:Container"), ("network", "docker:index/network:Network")):
        known = {r["id"] for r in resources if r.get("type") == type_ and r.get("id")}
        for object_id, name in unknown_to_state(docker_objects(kind, prefix, env), known).items():
            command = ["docker", kind, "rm", *(["-f"] if kind == "container" else []), object_id]
            removed = subprocess.run(command, env=env, capture_output=True, text=True)
            if removed.returncode == 0:
                say(f"removed the {kind} {name}: it carries {PROJECT_LABEL}={prefix} and the state does not know it")
            else:  # a network still used by application containers: the update reports the conflict, if any
                say(f"left the {kind} {name}, unknown to the state: {removed.stderr.strip()}")

    pending = deployment.get("pending_operations") or []
    if pending:
        deployment["pending_operations"] = []
        with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
            json.dump(exported, file)
            file.flush()
            pulumi("stack", "import", "--stack", stack, "--file", file.name)
        for operation in pending:
            say(f"cleared the pending {operation.get('type')} of {operation['resource']['urn'].split('::')[-1]}")


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], Path(sys.argv[2] if len(sys.argv) == 3 else f"Pulumi.{sys.argv[1]}.yaml"))
