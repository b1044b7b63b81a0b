"""Driving the real Pulumi CLI against a local Docker engine, on a throwaway copy of the project."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import yaml
from polling import http_json, wait_for
from repo import project_files

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from offline.images.local_builds import local_agent_images, local_images  # noqa: E402

# What a stack can run on a machine without a registry: Prometheus and Alertmanager from their local builds
# (offline/images/), no Loki, Promtail or Grafana (their source is AGPL: docs/building-without-registries.md, "Never
# built or downloaded"). The host agents' local builds are selected too; a test that runs them gives `hosts` with
# ports of its own (the default, 9100 and 9338 on the Docker host's gateway, belongs to a developer's dev stack),
# the others run none.
PERMITTED_SERVICES = {
    "services": ["prometheus", "alertmanager"],
    "images": local_images() | local_agent_images(),
    "grafanaContent": False,
    "hosts": [{"name": "local", "agents": []}],
}


def toolchain_env() -> dict[str, str]:
    """The environment offline/toolchain/env.sh sets up: the built CLI on PATH, offline plugins."""
    out = subprocess.run(
        ["bash", "-c", "source offline/toolchain/env.sh >/dev/null && env -0"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    env = dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
    # The language host built here may be the fallback that ignores Pulumi.yaml's virtualenv
    # option (offline/toolchain/versions.env): run it with the project's venv active.
    venv = ROOT / ".venv"
    env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}:{env['PATH']}")
    return env


@dataclass
class Stack:
    """One stack of a project copy, with its own file backend."""

    workdir: Path
    name: str
    env: dict[str, str]

    def pulumi(self, *args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["pulumi", *args, "--stack", self.name, "--non-interactive"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def up(self, *args: str) -> float:
        start = time.monotonic()
        self.pulumi("up", "--yes", "--skip-preview", *args)
        return time.monotonic() - start

    def preview_steps(self, *args: str) -> list[dict]:
        """The steps a preview plans, from `pulumi preview --json`."""
        out = self.pulumi("preview", "--json", *args).stdout
        return json.loads(out).get("steps", [])

    def outputs(self) -> dict:
        return json.loads(self.pulumi("stack", "output", "--json", "--show-secrets").stdout)

    def state(self) -> str:
        return self.pulumi("stack", "export").stdout

    def set_config(self, key: str, value: str, secret: bool = False, path: bool = False) -> None:
        self.pulumi("config", "set", *(["--secret"] if secret else []), *(["--path"] if path else []), key, value)

    @property
    def stack_file(self) -> Path:
        return self.workdir / f"Pulumi.{self.name}.yaml"

    def set_test_values(self, shipped: str) -> None:
        """The values a shipped stack file leaves to its operator (tests/conftest.py TEST_SETTINGS and
        TEST_SECRETS), set as they would: with `pulumi config set --path`, the secrets with `--secret`."""
        from conftest import TEST_SECRETS, TEST_SETTINGS

        for path, value in TEST_SETTINGS.get(shipped, {}).items():
            self.set_config(path, value, path=True)
        for path, value in TEST_SECRETS.get(shipped, {}).items():
            self.set_config(path, value, secret=True, path=True)

    def edit_config(self, edit) -> None:
        """Change the stack file's config in place (plain values), as a person editing it would."""
        data = yaml.safe_load(self.stack_file.read_text())
        edit(data["config"])
        self.stack_file.write_text(yaml.safe_dump(data, sort_keys=False))


NOT_THE_PROJECT = ("tests/", "benchmarks/", ".ci/")  # what a project copy leaves out


def project_copy(destination: Path, commit: str | None = None) -> Path:
    """The project's files (tracked, and new ones not ignored: what a commit would hold), so a test may edit
    dashboards and rules without touching the repo; with `commit`, the files of that commit instead."""
    if commit:
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
        for name in NOT_THE_PROJECT:
            shutil.rmtree(destination / name, ignore_errors=True)
    else:
        for name in project_files():
            if name.startswith(NOT_THE_PROJECT) or not (ROOT / name).is_file():
                continue
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
    (destination / ".venv").symlink_to(ROOT / ".venv")
    # The policy pack's own virtualenv (offline/toolchain/build.sh), which scripts/up would otherwise install anew.
    if (ROOT / "policy/.venv").is_dir():
        (destination / "policy/.venv").symlink_to(ROOT / "policy/.venv")
    return destination


def new_stack(workdir: Path, name: str, backend: Path, passphrase: str = "e2e-passphrase") -> Stack:
    """`passphrase` "" is dev's own (its committed salt is for it), which scripts/up uses for dev."""
    env = toolchain_env()
    env.update(
        PULUMI_BACKEND_URL=f"file://{backend}",
        PULUMI_CONFIG_PASSPHRASE=passphrase,
        PULUMI_SKIP_CONFIRMATIONS="true",
    )
    backend.mkdir(parents=True, exist_ok=True)
    stack = Stack(workdir=workdir, name=name, env=env)
    if passphrase and stack.stack_file.exists():  # the committed dev salt is for the empty passphrase
        data = yaml.safe_load(stack.stack_file.read_text())
        if data.pop("encryptionsalt", None):
            stack.stack_file.write_text(yaml.safe_dump(data, sort_keys=False))
    subprocess.run(
        ["pulumi", "stack", "init", name, "--secrets-provider", "passphrase", "--non-interactive"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return stack


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=120)


def deployed_dev_stack(
    workdir: Path,
    backend: Path,
    prefix: str,
    ports: dict[str, int],
    webhook_url,
    passphrase="e2e-passphrase",
    commit: str | None = None,
    **config,
):
    """The dev stack of a project copy (of `commit`, if given) with the services this machine can run
    (PERMITTED_SERVICES), its own names and ports, receivers pointed at `webhook_url(path)`, fast alert timings and
    any extra config.

    A generator for module fixtures: yields the stack, then destroys everything it made.
    """
    remove_leftovers(prefix)  # of a run killed before its clean-up, whose names would collide with this run's
    stack = new_stack(project_copy(workdir, commit), "dev", backend, passphrase)
    config = {**PERMITTED_SERVICES, **config}

    def configure(values: dict) -> None:
        values.update({"monitoring:namePrefix": prefix, "monitoring:ports": ports})
        values.update({f"monitoring:{key}": value for key, value in config.items()})
        values["monitoring:prometheus"] = {"scrapeInterval": "5s", "evaluationInterval": "5s"}
        alerting = values["monitoring:alerting"]
        for receiver in alerting["receivers"]:
            receiver["webhooks"][0]["url"] = webhook_url(f"/{receiver['name']}")
        alerting["route"].update(groupWait="1s", groupInterval="5s")

    stack.edit_config(configure)
    try:
        yield stack
    finally:
        # Whatever happened, leave no container, network or volume of the test behind.
        stack.edit_config(lambda values: values.update({"monitoring:protectVolumes": False}))
        stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
        remove_leftovers(prefix)


def remove_leftovers(prefix: str) -> None:
    """Remove every container (stopped ones too), network and volume named with a test's prefix."""
    for kind, listing in (("container", ("ps", "-a")), ("network", ("network", "ls")), ("volume", ("volume", "ls"))):
        ids = docker(*listing, "-q", "--filter", f"name={prefix}", check=False).stdout.split()
        if ids:
            docker(kind, "rm", *(["-f"] if kind == "container" else []), *ids, check=False)


def pending_alert_rules(alert: str) -> str:
    """A rule file with one alert of a test's own, true from the start: pending for its first 5 minutes.
    Prometheus restores a pending alert after a restart only when its `for` is at least the 10-minute grace period:
    a restart starts this one over, a reload keeps it."""
    return (
        f"groups:\n  - name: {alert.lower()}\n    rules:\n      - alert: {alert}\n        expr: vector(1)\n"
        "        for: 5m\n        labels: {severity: info}\n"
    )


def alert_active_at(prometheus_url: str, alert: str) -> str | None:
    """When Prometheus' alert became active (pending, then firing), or None while it is not."""
    alerts = http_json(f"{prometheus_url}/api/v1/alerts")["data"]["alerts"]
    return next((a["activeAt"] for a in alerts if a["labels"]["alertname"] == alert), None)


def largest_scrape_gap(prometheus_url: str, since: float) -> float:
    """The longest interval between consecutive raw samples of Prometheus' own `up` since `since`."""
    window = max(1, int(time.time() - since) + 1)
    query = urllib.parse.urlencode({"query": f'up{{job="prometheus"}}[{window}s]'})
    samples = http_json(f"{prometheus_url}/api/v1/query?{query}")["data"]["result"][0]["values"]
    times = [float(t) for t, _ in samples]
    assert len(times) >= 3, times
    return max(later - earlier for earlier, later in itertools.pairwise(times))


def wait_for_component_targets(prometheus_url: str, jobs, timeout: float = 90) -> None:
    """Until Prometheus reports every one of these scrape jobs up."""

    def all_up():
        targets = http_json(f"{prometheus_url}/api/v1/targets")["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        return all(health.get(job) == "up" for job in jobs)

    wait_for(all_up, timeout, f"the scrape targets {', '.join(jobs)} to be up")
