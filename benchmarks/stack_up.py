"""How `pulumi up` takes changes, this design beside a previous one and beside `docker-compose up`.

The stack is what this machine may run (tests/support/engine_stack.py PERMITTED_SERVICES): Prometheus and
Alertmanager from their local builds; Grafana, Loki and Promtail are AGPL and not built here
(docs/building-without-registries.md, "Never built or downloaded"). For this design and for the program of
--baseline (a git revision, by default the last one that replaced Prometheus on a rule edit), on the same images,
each run in a fresh project copy with a `for: 5m` alert of its own:
- a cold `pulumi up` until every container is healthy, against `docker-compose up` of the same containers
  (stacks/render/compose.py; compose v1 has no --wait, so its time includes polling health);
- a no-op once the containers have settled (their CPU use below 5% of a core): `scripts/up`, the command users
  run (its toolchain, image and recovery checks included), then a bare `pulumi up`, with the refresh Pulumi.yaml
  asks for and without it;
- a rule edit's `scripts/up`; the largest interval between consecutive raw samples of `up{job="prometheus"}` from
  1 minute before the edit to 1 minute after it; whether the pending alert kept its `activeAt`;
- a routing edit's `scripts/up` and the same largest interval around it.
Medians of --repeat runs, the designs' runs alternating. Also the toolchain build: warm (all cached), and with
--cold-toolchain from nothing into a scratch directory (module downloads and every Go build). Needs what
scripts/setup.sh installs.

    .venv/bin/python benchmarks/stack_up.py [--repeat 3] [--baseline b7ad59b] [--cold-toolchain]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "support")]

from conftest import configured_stack  # noqa: E402
from engine_stack import (  # noqa: E402
    PERMITTED_SERVICES,
    Stack,
    alert_active_at,
    docker,
    largest_scrape_gap,
    new_stack,
    pending_alert_rules,
    project_copy,
)
from polling import wait_for  # noqa: E402

from stacks.config.load import load_settings  # noqa: E402
from stacks.content import load_content, select_systems  # noqa: E402
from stacks.environment import docker_socket_group  # noqa: E402
from stacks.render.compose import render_compose  # noqa: E402

SERVICES = tuple(PERMITTED_SERVICES["services"])
# Below 32768: Linux gives ports 32768-60999 to outgoing connections, which can take a test's port first.
PORTS = {"prometheus": 27291, "alertmanager": 27293}
STACK_CONFIG = {f"monitoring:{key}": value for key, value in PERMITTED_SERVICES.items()}
BASELINE = "b7ad59b"  # the last revision whose rule edit replaced the Prometheus container
WINDOW = 60  # seconds of samples kept before and after an edit
FIGURES = [  # key, label, goal
    ("cold_x_compose", "pulumi up (cold) / docker-compose up", "<= 1.50"),
    ("noop", "scripts/up (no changes), settled, s", "<= 3"),
    ("noop_pulumi", "  bare pulumi up (no changes, refresh), s", ""),
    ("noop_pulumi_no_refresh", "  bare pulumi up --refresh=false (no changes), s", ""),
    ("rule_edit", "scripts/up (one rule edited), s", "<= 5"),
    ("rule_gap", "largest interval between samples, rule edit, s", "<= 1 scrape"),
    ("pending_kept", "pending alert's activeAt kept across the rule edit", "yes"),
    ("routing_edit", "scripts/up (one route edited), s", ""),
    ("routing_gap", "largest interval between samples, routing edit, s", "<= 1 scrape"),
]


def all_healthy(prefix: str) -> bool:
    states = docker("inspect", "-f", "{{.State.Health.Status}}", *(f"{prefix}-{s}" for s in SERVICES), check=False)
    return states.returncode == 0 and states.stdout.split() == ["healthy"] * len(SERVICES)


def settle(prefix: str, timeout: float = 180) -> None:
    """Wait until the stack's containers together use under 5% of a core."""

    def cpu_percent() -> float:
        out = docker("stats", "--no-stream", "--format", "{{.CPUPerc}}", *(f"{prefix}-{s}" for s in SERVICES)).stdout
        return sum(float(p.rstrip("%")) for p in out.split())

    wait_for(lambda: cpu_percent() < 5, timeout, "the containers to settle", interval=2)


def clean(prefix: str) -> None:
    for kind in ("container", "network", "volume"):
        names = docker(kind, "ls", "-q", "--filter", f"name={prefix}", check=False).stdout.split()
        if names:
            docker(kind, "rm", *(["-f"] if kind == "container" else []), *names, check=False)


def compose_cold_up(scratch: Path) -> float:
    prefix = "bench-compose"
    config, secret_keys = configured_stack("dev")
    config.update({"monitoring:namePrefix": prefix, "monitoring:ports": PORTS, **STACK_CONFIG})
    settings = load_settings(config, frozenset(secret_keys))
    content = select_systems(load_content(), settings.systems)
    compose_file, files = render_compose(settings, content, docker_socket_group(settings))
    (scratch / "docker-compose.yml").write_text(compose_file)
    for path, text in files.items():
        (scratch / path).parent.mkdir(parents=True, exist_ok=True)
        (scratch / path).write_text(text)
    clean(prefix)
    start = time.monotonic()
    subprocess.run(["docker-compose", "-p", prefix, "up", "-d"], cwd=scratch, check=True, capture_output=True)
    wait_for(lambda: all_healthy(prefix), 300, "compose containers healthy", interval=0.2)
    seconds = time.monotonic() - start
    subprocess.run(["docker-compose", "-p", prefix, "down", "-v"], cwd=scratch, check=True, capture_output=True)
    return seconds


PROMETHEUS_URL = f"http://127.0.0.1:{PORTS['prometheus']}"


def pending_since() -> str | None:
    return alert_active_at(PROMETHEUS_URL, "BenchPendingFiveMinutes")


def scripts_up(stack: Stack) -> float:
    """`scripts/up` of the project's own revision, as a user runs it."""
    start = time.monotonic()
    subprocess.run(["bash", "scripts/up", "dev"], cwd=stack.workdir, env=stack.env, check=True, capture_output=True)
    return time.monotonic() - start


def design_runs(project: Path, scratch: Path, compose_seconds: float) -> dict[str, float]:
    """One run of every figure for the program in `project` (a directory holding the project's files)."""
    prefix = "bench-pulumi"
    stack = new_stack(project, "dev", scratch / "state", passphrase="")  # dev's own, which scripts/up uses
    stack.edit_config(
        lambda config: config.update({"monitoring:namePrefix": prefix, "monitoring:ports": PORTS, **STACK_CONFIG})
    )
    (project / "rules/bench-pending.yml").write_text(pending_alert_rules("BenchPendingFiveMinutes"))
    clean(prefix)
    figures: dict[str, float] = {}
    try:
        figures["cold_x_compose"] = stack.up() / compose_seconds  # `wait` on every container: all healthy
        up_since = time.monotonic()
        assert all_healthy(prefix)
        settle(prefix)
        figures["noop"] = scripts_up(stack)
        figures["noop_pulumi"] = stack.up()
        figures["noop_pulumi_no_refresh"] = stack.up("--refresh=false")
        before = wait_for(pending_since, 60, "the pending alert")
        time.sleep(max(0.0, WINDOW - (time.monotonic() - up_since)))  # a minute of samples before the edit
        edited_at = time.time()
        rules = project / "rules/mindhit.yml"
        rules.write_text(rules.read_text().replace("> 100\n", "> 101\n"))
        figures["rule_edit"] = scripts_up(stack)
        time.sleep(WINDOW)
        figures["rule_gap"] = largest_scrape_gap(PROMETHEUS_URL, edited_at - WINDOW)
        figures["pending_kept"] = float(pending_since() == before)
        edited_at = time.time()
        stack.edit_config(lambda config: config["monitoring:alerting"]["route"].update(groupInterval="6m"))
        figures["routing_edit"] = scripts_up(stack)
        time.sleep(WINDOW)
        figures["routing_gap"] = largest_scrape_gap(PROMETHEUS_URL, edited_at - WINDOW)
    finally:
        stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
        clean(prefix)
    return figures


# The machine's set-up, taken from this checkout into the baseline's copy: both designs then run on the same CLI,
# plugins and images (the baseline's own image recipe would rebuild the images under the same names). What differs
# is the program, scripts/up and scripts/recover.py. A baseline from before offline/ runs these parts from scripts/:
# this checkout's go there too (its image recipes stay in offline/images/, where they read them).
MACHINE_SETUP = ("toolchain", "images", "docker", "lib.sh")


def baseline_copy(revision: str, destination: Path) -> Path:
    """The project's files at `revision`, with this checkout's machine set-up and virtualenv."""
    destination.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
    (destination / "offline").mkdir(exist_ok=True)
    for part in MACHINE_SETUP:
        source = ROOT / "offline" / part
        for target in (destination / "offline" / part, destination / "scripts" / part):
            if target.parent.name == "scripts" and not target.exists():
                continue
            if source.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
    # This checkout's packages, in a virtualenv of the copy's own where its scripts/up finds that they hold the
    # baseline's requirements, as it would after installing them.
    names = ("requirements.txt", "requirements-dev.txt")
    installed = {line for name in names for line in (ROOT / name).read_text().splitlines()}
    wanted_lines = [line for name in names for line in (destination / name).read_text().splitlines()]
    missing = [line for line in wanted_lines if line.strip() and not line.startswith("#") and line not in installed]
    if missing:
        raise SystemExit(f"the baseline's requirements differ from this checkout's: {missing}")
    venv = destination / ".venv"
    venv.mkdir()
    for entry in (ROOT / ".venv").iterdir():
        if entry.name != ".requirements.sha256":
            (venv / entry.name).symlink_to(entry)
    wanted = b"".join((destination / name).read_bytes() for name in names)
    (venv / ".requirements.sha256").write_text(hashlib.sha256(wanted).hexdigest() + "\n")
    if (destination / "policy/requirements.txt").read_text() != (ROOT / "policy/requirements.txt").read_text():
        raise SystemExit("the baseline's policy pack requirements differ from this checkout's")
    (destination / "policy/.venv").symlink_to(ROOT / "policy/.venv")  # as tests/support/engine_stack.py project_copy
    return destination


def toolchain_build_seconds(toolchain_dir: Path | None = None) -> float:
    """offline/toolchain/build.sh, into the usual cache or (cold) into an empty directory."""
    env = dict(os.environ, **({"MONITORING_TOOLCHAIN_DIR": str(toolchain_dir)} if toolchain_dir else {}))
    start = time.monotonic()
    subprocess.run(["bash", "offline/toolchain/build.sh"], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.monotonic() - start


def shown(key: str, values: list[float]) -> str:
    if key == "pending_kept":
        return f"{sum(values):.0f}/{len(values)} kept"
    return f"{statistics.median(values):.2f}" if key == "cold_x_compose" else f"{statistics.median(values):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median is printed")
    parser.add_argument("--baseline", default=BASELINE, help="the git revision of the previous design")
    parser.add_argument("--cold-toolchain", action="store_true", help="also time a toolchain build from nothing")
    args = parser.parse_args()
    compose: list[float] = []
    runs: dict[str, list[dict[str, float]]] = {"this": [], "baseline": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as scratch:
            compose.append(compose_cold_up(Path(scratch)))
        for design in runs:
            with tempfile.TemporaryDirectory() as scratch:
                root = Path(scratch)
                project = (
                    project_copy(root / "project")
                    if design == "this"
                    else baseline_copy(args.baseline, root / "project")
                )
                runs[design].append(design_runs(project, root, compose[-1]))
    config, secret_keys = configured_stack("dev")
    scrape = load_settings(config, frozenset(secret_keys)).prometheus.scrape_interval
    print(f"docker-compose up, to all healthy: {statistics.median(compose):.1f} s (median of {args.repeat})")
    print(f"scrape interval of the dev stack: {scrape}")
    print(f"{'figure (median of ' + str(args.repeat) + ')':52} {'this design':>12} {args.baseline[:12]:>12}  goal")
    for key, label, goal in FIGURES:
        print(
            f"{label:52} {shown(key, [r[key] for r in runs['this']]):>12} "
            f"{shown(key, [r[key] for r in runs['baseline']]):>12}  {goal}"
        )
    print(f"{'toolchain build, warm (all cached), s':52} {toolchain_build_seconds():12.1f}")
    if args.cold_toolchain:
        with tempfile.TemporaryDirectory() as scratch:
            cold_build = toolchain_build_seconds(Path(scratch))
            # The module cache is written read-only by Go; make it removable.
            subprocess.run(["chmod", "-R", "u+w", scratch], check=False)
        print(f"{'toolchain build, cold (from nothing), s':52} {cold_build:12.1f}")


if __name__ == "__main__":
    main()
