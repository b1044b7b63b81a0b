"""Puts a stack back in a state `pulumi up` can work from after an update was killed, and says whether that
update needs its refresh (used by scripts/up).

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
It says what it did on stderr, and nothing when there was nothing to do.

Then it compares what Docker has with what the state holds, as a refresh would read it: every container (there,
same name, image and restart policy, running if it must run, on its networks), the network and the volumes, on the
Docker host of each. When they match, nothing was recovered, and the state holds nothing else a refresh reads
(Grafana's content, say), it prints `--refresh=false` on stdout, which scripts/up passes to `pulumi up`: a refresh
then finds nothing, and costs seconds (the docker plugin waits 2 s before it reads a network). Anything else, and
it prints nothing, so the update refreshes (Pulumi.yaml options.refresh). What `docker update` changes in place
(memory, CPU) is outside the comparison: `scripts/up STACK --refresh` refreshes anyway.

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
from stacks.layout import COMPOSE_PROJECT_LABEL, name_prefix  # noqa: E402 - after the repository is on the path

PROJECT_LABEL = COMPOSE_PROJECT_LABEL  # on every container, volume and network of a stack (stacks/layout.py)


@dataclass(frozen=True)
class Lock:
    path: Path
    pid: int
    hostname: str
    timestamp: str


def say(message: str) -> None:
    print(f"[recover] {message}", file=sys.stderr, flush=True)


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


def no_update_running(backend: str, project: str, stack: str) -> Owners | None:
    """The stack's lock owners once no update of it can be running, after removing the locks of those gone (still
    listed); None (having said why) when that cannot be known or the owner does not finish in WAIT_SECONDS."""
    if not backend.startswith("file://"):
        kind = backend.partition("://")[0] or "Pulumi Cloud"
        say(
            f"the lock of a {kind} backend cannot be read from here, so nothing is touched: after a killed update, "
            "see docs/operations.md, 'When things go wrong'"
        )
        return None
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
            return None
        if not owners.running:
            break
        if not waited:
            for lock in owners.running:
                say(f"an update is running (pid {lock.pid}, since {lock.timestamp}): waiting for it to finish")
            waited = True
        if time.monotonic() > deadline:
            say(f"the update still runs after {WAIT_SECONDS} s: nothing is touched")
            return None
        time.sleep(POLL_SECONDS)
    if waited:
        say("the running update has finished")
    if owners.gone:
        pulumi("cancel", "--yes", "--stack", stack)
        for lock in owners.gone:
            say(f"removed the lock of update pid {lock.pid} (since {lock.timestamp}), which is no longer running")
    return owners


CONTAINER, NETWORK, VOLUME = (f"docker:index/{kind}:{kind.capitalize()}" for kind in ("container", "network", "volume"))
DOCKER_KIND = {CONTAINER: "container", NETWORK: "network", VOLUME: "volume"}  # the docker CLI's word for each
# Custom resources whose refresh reads nothing: the providers, and the delivery of config files (stacks/reload.py,
# which has no read).
UNREAD = ("pulumi:providers:docker", "pulumi:providers:pulumi-python", "pulumi-python:dynamic/monitoring:ConfigReload")
PROVIDER_KEYS = {"host", "version", "__internal"}  # a provider with more (ssh options, certificates) is not compared


def _name(urn: str) -> str:
    """A resource's name, as `pulumi up` shows it: the last part of its URN."""
    return urn.split("::")[-1]


def drift(resources: list[dict], inspected: dict[str, dict]) -> list[str]:
    """What a refresh would find changed in Docker, one sentence each; nothing when Docker has what the state holds.
    `inspected` is Docker's inspect of each container and network by id, and of each volume by name; an object
    missing from it is gone. The comparison is the docker plugin's read of what this stack sets (a container's
    name, image, restart policy, whether it runs when it must, its networks)."""
    found = []
    for resource in resources:
        kind, state = resource.get("type"), resource.get("outputs") or {}
        if kind not in DOCKER_KIND:
            continue
        name = _name(resource["urn"])
        have = inspected.get(resource.get("id", ""))
        if have is None:
            found.append(f"{name} is gone")
        elif kind == CONTAINER:
            image = have["Image"] if state.get("image", "").startswith("sha256:") else have["Config"]["Image"]
            networks = {n["name"] for n in state.get("networksAdvanced") or []} - set(
                have["NetworkSettings"]["Networks"]
            )
            if have["Name"].lstrip("/") != state.get("name"):
                found.append(f"{name} is named {have['Name'].lstrip('/')!r}, not {state.get('name')!r}")
            if image != state.get("image"):
                found.append(f"{name} runs {image}, not {state.get('image')}")
            if have["HostConfig"]["RestartPolicy"]["Name"] != state.get("restart"):
                found.append(f"{name} has the restart policy {have['HostConfig']['RestartPolicy']['Name']!r}")
            if state.get("mustRun") and not have["State"]["Running"]:
                found.append(f"{name} is not running")
            if networks:
                found.append(f"{name} is not on {', '.join(sorted(networks))}")
        elif kind == NETWORK and have["Name"] != state.get("name"):
            found.append(f"{name} is named {have['Name']!r}, not {state.get('name')!r}")
    return found


def unread_by_drift(resources: list[dict]) -> list[str]:
    """The state's resources a refresh reads and `drift` does not compare, by type."""
    compared = {*DOCKER_KIND, *UNREAD}
    types = {r["type"] for r in resources if r.get("custom") and r["type"] not in compared}
    types |= {
        f"{_name(r['urn'])} (a Docker host reached with {', '.join(sorted(set(r['inputs']) - PROVIDER_KEYS))})"
        for r in resources
        if r["type"] == "pulumi:providers:docker" and set(r.get("inputs") or {}) - PROVIDER_KEYS
    }
    return sorted(types)


def inspect_docker(resources: list[dict], env: dict[str, str]) -> dict[str, dict]:
    """Docker's inspect of the state's containers, networks and volumes, each asked of its provider's host."""
    hosts = {f"{r['urn']}::{r['id']}": (r.get("inputs") or {}).get("host") for r in resources if r.get("id")}
    asked: dict[tuple[str | None, str], list[str]] = {}
    for r in resources:
        if r["type"] in DOCKER_KIND and r.get("id"):
            asked.setdefault((hosts.get(r.get("provider", "")), DOCKER_KIND[r["type"]]), []).append(r["id"])
    inspected: dict[str, dict] = {}
    for (host, kind), ids in asked.items():
        host_env = dict(env, **({"DOCKER_HOST": host} if host else {}))
        # Exit status 1 when one is missing; those found are printed all the same.
        out = subprocess.run(["docker", kind, "inspect", *ids], env=host_env, capture_output=True, text=True).stdout
        for item in json.loads(out or "[]"):
            inspected[item["Name"] if kind == "volume" else item["Id"]] = item
    return inspected


def recover(stack: str, stack_file: Path) -> bool:
    """Steps 1-3 of the module's docstring; whether the state may be read without a refresh afterwards."""
    project = yaml.safe_load(Path("Pulumi.yaml").read_text())["name"]
    owners = no_update_running(os.environ.get("PULUMI_BACKEND_URL", ""), project, stack)
    if owners is None:
        return False
    clean = not owners.gone  # a killed update: what it did is known only to a refresh

    exported = json.loads(pulumi("stack", "export", "--stack", stack))
    deployment = exported.get("deployment") or {}
    config = (yaml.safe_load(stack_file.read_text()) if stack_file.exists() else None) or {}
    config = config.get("config") or {}
    prefix = name_prefix(config.get(f"{project}:namePrefix", ""), config.get(f"{project}:environment", stack))
    env = dict(os.environ)
    if config.get(f"{project}:dockerHost"):
        env["DOCKER_HOST"] = config[f"{project}:dockerHost"]
    resources = deployment.get("resources") or []
    for type_ in (CONTAINER, NETWORK):
        kind = DOCKER_KIND[type_]
        known = {r["id"] for r in resources if r.get("type") == type_ and r.get("id")}
        for object_id, name in unknown_to_state(docker_objects(kind, prefix, env), known).items():
            clean = False
            command = ["docker", kind, "rm", *(["-f"] if kind == "container" else []), object_id]
            removed = subprocess.run(command, env=env, capture_output=True, text=True)
            if removed.returncode == 0:
                say(f"removed the {kind} {name}: it carries {PROJECT_LABEL}={prefix} and the state does not know it")
            else:  # a network still used by application containers: the update reports the conflict, if any
                say(f"left the {kind} {name}, unknown to the state: {removed.stderr.strip()}")

    pending = deployment.get("pending_operations") or []
    if pending:
        clean = False
        deployment["pending_operations"] = []
        with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
            json.dump(exported, file)
            file.flush()
            pulumi("stack", "import", "--stack", stack, "--file", file.name)
        for operation in pending:
            say(f"cleared the pending {operation.get('type')} of {_name(operation['resource']['urn'])}")
    if not clean or not resources:
        return False

    unread = unread_by_drift(resources)
    changed = [] if unread else drift(resources, inspect_docker(resources, env))
    if unread:
        say(f"the update refreshes: the state holds what only a refresh reads ({', '.join(unread)})")
    elif changed:
        say(f"the update refreshes: {'; '.join(changed)}")
    else:
        counts = {kind: sum(r.get("type") == kind for r in resources) for kind in DOCKER_KIND}
        say(
            f"Docker has what the state holds ({counts[CONTAINER]} containers, {counts[NETWORK]} network, "
            f"{counts[VOLUME]} volumes): the update skips its refresh (`--refresh` asks for one)"
        )
    return not unread and not changed


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 3:
        raise SystemExit(__doc__)
    if recover(sys.argv[1], Path(sys.argv[2] if len(sys.argv) == 3 else f"Pulumi.{sys.argv[1]}.yaml")):
        print("--refresh=false")
