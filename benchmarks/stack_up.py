"""`pulumi up` against `docker-compose up` of the same containers, side by side, on the same images.

The stack is what this machine may run (tests/engine/stack.py PERMITTED_SERVICES): Prometheus and
Alertmanager from their local builds; Grafana, Loki and Promtail are AGPL and not built here (README,
"Status"). Cold up until every container is healthy, a no-op up, and an up after one rule-file edit,
against docker-compose 1.29 with a compose file rendered from the same configuration
(stacks/render/compose.py; compose v1 has no --wait, so its time includes polling health).
The no-op up is timed twice: right after the cold up, while the new services still do their start-up
work on the same CPUs, and again once the containers have settled (their CPU use below 5% of a core).
Also the toolchain build: warm (all cached), and with --cold-toolchain from nothing into a scratch
directory (module downloads and every Go build; about 15 minutes on 2 cores). Needs what
scripts/setup.sh installs.

    .venv/bin/python benchmarks/stack_up.py [--repeat 3] [--cold-toolchain]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import configured_stack  # noqa: E402
from engine.stack import PERMITTED_SERVICES, docker, new_stack, project_copy, wait_for  # noqa: E402

from stacks.content import load_content, select_systems  # noqa: E402
from stacks.environment import docker_socket_group  # noqa: E402
from stacks.render.compose import render_compose  # noqa: E402
from stacks.settings import load_settings  # noqa: E402

SERVICES = tuple(PERMITTED_SERVICES["services"])
# Below 32768: Linux gives ports 32768-60999 to outgoing connections, which can take a test's port first.
PORTS = {"prometheus": 27291, "alertmanager": 27293}
STACK_CONFIG = {f"monitoring:{key}": value for key, value in PERMITTED_SERVICES.items()}


def all_healthy(prefix: str) -> bool:
    states = docker("inspect", "-f", "{{.State.Health.Status}}", *(f"{prefix}-{s}" for s in SERVICES), check=False)
    return states.returncode == 0 and states.stdout.split() == ["healthy"] * len(SERVICES)


def settle(prefix: str, timeout: float = 180) -> float:
    """Wait until the stack's containers together use under 5% of a core; the seconds it took."""
    start = time.monotonic()

    def cpu_percent() -> float:
        out = docker("stats", "--no-stream", "--format", "{{.CPUPerc}}", *(f"{prefix}-{s}" for s in SERVICES)).stdout
        return sum(float(p.rstrip("%")) for p in out.split())

    wait_for(lambda: cpu_percent() < 5, timeout, "the containers to settle", interval=2)
    return time.monotonic() - start


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


def pulumi_runs(scratch: Path) -> tuple[float, float, float, float]:
    prefix = "bench-pulumi"
    stack = new_stack(project_copy(scratch / "project"), "dev", scratch / "state")
    stack.edit_config(
        lambda config: config.update({"monitoring:namePrefix": prefix, "monitoring:ports": PORTS, **STACK_CONFIG})
    )
    clean(prefix)
    try:
        cold = stack.up()  # `wait` on every container: returns when all are healthy
        assert all_healthy(prefix)
        noop = stack.up()
        settle(prefix)
        noop_settled = stack.up()
        rules = stack.workdir / "rules/mindhit.yml"
        rules.write_text(rules.read_text().replace("> 100\n", "> 101\n"))
        edit = stack.up()
    finally:
        stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
        clean(prefix)
    return cold, noop, noop_settled, edit


def toolchain_build_seconds(toolchain_dir: Path | None = None) -> float:
    """scripts/toolchain/build.sh, into the usual cache or (cold) into an empty directory."""
    env = dict(os.environ, **({"MONITORING_TOOLCHAIN_DIR": str(toolchain_dir)} if toolchain_dir else {}))
    start = time.monotonic()
    subprocess.run(["bash", "scripts/toolchain/build.sh"], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median is printed")
    parser.add_argument("--cold-toolchain", action="store_true", help="also time a toolchain build from nothing")
    args = parser.parse_args()
    compose, pulumi = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as scratch:
            compose.append(compose_cold_up(Path(scratch)))
        with tempfile.TemporaryDirectory() as scratch:
            pulumi.append(pulumi_runs(Path(scratch)))
    compose_s = statistics.median(compose)
    cold, noop, noop_settled, edit = (statistics.median(run[i] for run in pulumi) for i in range(4))
    print(f"{'run (median of ' + str(args.repeat) + ')':46} {'seconds':>8} {'x compose':>9}")
    print(f"{'docker-compose up, to all healthy':46} {compose_s:8.1f} {1.0:9.2f}")
    print(f"{'pulumi up (cold), to all healthy':46} {cold:8.1f} {cold / compose_s:9.2f}   goal <= 1.30")
    print(f"{'pulumi up (no changes), right after':46} {noop:8.1f} {'':>9}   goal <= 5 s")
    print(f"{'pulumi up (no changes), containers settled':46} {noop_settled:8.1f} {'':>9}   goal <= 5 s")
    print(f"{'pulumi up (one rule file edited)':46} {edit:8.1f} {'':>9}   goal <= 5 s")
    print(f"{'toolchain build, warm (all cached)':46} {toolchain_build_seconds():8.1f}")
    if args.cold_toolchain:
        with tempfile.TemporaryDirectory() as scratch:
            cold_build = toolchain_build_seconds(Path(scratch))
            # The module cache is written read-only by Go; make it removable.
            subprocess.run(["chmod", "-R", "u+w", scratch], check=False)
        print(f"{'toolchain build, cold (from nothing)':46} {cold_build:8.1f}")


if __name__ == "__main__":
    main()
