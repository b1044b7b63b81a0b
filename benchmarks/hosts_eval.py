"""How the program's evaluation time under Pulumi mocks grows with the number of watched Docker hosts.

Runs the whole program (__main__.py) for the dev stack with `hosts` of 1, 10 and 100 entries (the stack's own
host and others at tcp:// daemons, each with node-exporter and cAdvisor, and Promtail off the own host), each in
a fresh process, alternating
the scenarios run by run, and prints the median of each against the one-host run.

    .venv/bin/python benchmarks/hosts_eval.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTS = (1, 10, 100)

# Runs inside the child process: times the program from the first line of __main__.py to the last output.
CHILD = """
import sys, time, json
sys.path[:0] = [{root!r}, {tests!r}, {support!r}]
import stacks.content, pulumi  # imports are a constant, paid before the clock starts
from conftest import configured_stack
from mockstack import run_program, Recorder
config, secrets = configured_stack("dev")
config["monitoring:hosts"] = {hosts!r}
if len(config["monitoring:hosts"]) > 1:  # the other hosts' log collectors ship to the stack's Loki there
    config["monitoring:loki"] = {{"pushUrl": "http://10.0.0.1:3100"}}
recorder = Recorder()
start = time.perf_counter()
run_program("dev", config, secrets, recorder)
agents = [r for r in recorder.registrations if r.type == "docker:index/container:Container" and "-host-" in r.name]
print(json.dumps({{"seconds": time.perf_counter() - start, "resources": len(recorder.registrations),
                  "agents": len(agents)}}))
"""


def hosts_config(count: int) -> list[dict]:
    """The own host and count - 1 others, as a fleet's config would list them."""
    return [{"name": "local"}] + [
        {
            "name": f"web-{i}",
            "dockerHost": f"tcp://10.0.{i // 250}.{i % 250 + 1}:2376",
            "address": f"10.0.{i // 250}.{i % 250 + 1}",
        }
        for i in range(1, count)
    ]


def run_once(count: int) -> dict:
    code = CHILD.format(
        root=str(ROOT), tests=str(ROOT / "tests"), support=str(ROOT / "tests" / "support"), hosts=hosts_config(count)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per scenario; the median is printed")
    args = parser.parse_args()
    runs: dict[int, list[dict]] = {count: [] for count in HOSTS}
    for _ in range(args.repeat):  # alternating, so a slow moment of the machine is shared by every scenario
        for count in HOSTS:
            runs[count].append(run_once(count))
    print(f"{'hosts':>5} {'resources':>9} {'agents':>6} {'seconds':>8} {'x 1 host':>8} {'ms per extra host':>17}")
    baseline = statistics.median(r["seconds"] for r in runs[HOSTS[0]])
    for count in HOSTS:
        seconds = statistics.median(r["seconds"] for r in runs[count])
        per_host = (seconds - baseline) / (count - 1) * 1000 if count > 1 else 0.0
        first = runs[count][0]
        ratio = seconds / baseline
        print(f"{count:5d} {first['resources']:9d} {first['agents']:6d} {seconds:8.2f} {ratio:8.2f} {per_host:17.1f}")


if __name__ == "__main__":
    main()
