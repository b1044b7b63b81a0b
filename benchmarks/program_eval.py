"""How the program's evaluation time under Pulumi mocks grows with content.

Runs the whole program (__main__.py: settings, content loading and linting, every resource
registration) for the dev stack with the shipped content, then with generated dashboards and rules
added, each in a fresh process, and prints the time of each against the shipped-content run.

    .venv/bin/python benchmarks/program_eval.py [--repeat 3] [--baseline <git revision>]

With --baseline, the program of that revision (a git worktree of it) runs on the same generated content, each
scenario alternating with the current program's runs, and both times are printed side by side.

Goal (issue 2): 1,000 dashboards + 5,000 rules evaluated in at most 5 s on the CI machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = [  # (label, dashboards, rules) added to the shipped content
    ("shipped content (dev)", 0, 0),
    ("+100 dashboards", 100, 0),
    ("+1,000 dashboards", 1000, 0),
    ("+1,000 rules", 0, 1000),
    ("+5,000 rules", 0, 5000),
    ("+1,000 dashboards +5,000 rules", 1000, 5000),
]
RULES_PER_FILE = 500
FOLDERS = 10

# Runs inside the child process: times the program from the first line of __main__.py to the last output.
CHILD = """
import sys, time, json
sys.path[:0] = [{root!r}, {tests!r}, {support!r}]  # the helpers: tests/support/, or tests/ before it
import stacks.content, pulumi  # imports are a constant, paid before the clock starts
stacks.content.ROOT = __import__("pathlib").Path({content!r})
from conftest import configured_stack
from mockstack import run_program, Recorder
config, secrets = configured_stack("dev")
recorder = Recorder()
start = time.perf_counter()
run_program("dev", config, secrets, recorder)
print(json.dumps({{"seconds": time.perf_counter() - start, "resources": len(recorder.registrations)}}))
"""


def generate(content: Path, dashboards: int, rules: int) -> None:
    for name in ("dashboards", "rules", "systems", "templates"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, content / name)
    template = (ROOT / "dashboards/MindHit/api-overview.json").read_text()
    for k in range(FOLDERS if dashboards else 0):
        # Each generated folder is a system (board<k>) of its own, as MindHit's dashboard is MindHit's.
        (content / "systems" / f"board{k}.yml").write_text(f"jobs:\n  board{k}-api: generated\n")
        (content / "rules" / f"board{k}.yml").write_text(_target_alerts(f"board{k}", f"board{k}-api"))
        (content / "dashboards" / f"Board{k}").mkdir()
    for i in range(dashboards):
        k = i % FOLDERS
        model = json.loads(template.replace("mindhit-.+", f"board{k}-.+"))
        model.update(uid=f"generated-{i}", title=f"Generated dashboard {i}")
        (content / "dashboards" / f"Board{k}" / f"generated-{i}.json").write_text(json.dumps(model))
    for start in range(0, rules, RULES_PER_FILE):
        # Each generated rule file is a system (generated<start>) with one job, generated<start>-api, and the
        # alerts every system has for its target down and missing.
        system = f"generated{start}"
        (content / "systems" / f"{system}.yml").write_text(f"jobs:\n  {system}-api: generated\n")
        count = min(RULES_PER_FILE, rules - start)
        groups = []
        for g in range(start, start + count, 10):
            group_rules = "".join(
                f"      - alert: Generated{n}\n"
                f'        expr: sum(rate(http_requests_total{{job="{system}-api",status=~"5.."}}[5m])) > {n}\n'
                f"        for: 5m\n"
                f"        labels: {{severity: warning}}\n"
                f"        annotations: {{summary: generated {n}, description: generated rule {n}}}\n"
                for n in range(g, min(g + 10, start + count))
            )
            groups.append(f"  - name: generated-{g}\n    rules:\n{group_rules}")
        targets = _target_alerts(system, f"{system}-api").removeprefix("groups:\n")
        (content / "rules" / f"generated-{start}.yml").write_text("groups:\n" + "".join(groups) + targets)


def _target_alerts(system: str, job: str) -> str:
    """The down and missing alerts of a generated system's job (stacks/content/silence.py)."""
    return (
        f"groups:\n  - name: {system}-targets\n    rules:\n"
        f"      - {{alert: {system}Down, expr: 'up{{job=\"{job}\"}} == 0', labels: {{severity: critical}}}}\n"
        f"      - {{alert: {system}Missing, expr: 'absent(up{{job=\"{job}\"}})', labels: {{severity: warning}}}}\n"
    )


def measure(dashboards: int, rules: int, repeat: int, programs: list[Path]) -> list[tuple[float, int]]:
    """(median seconds, resources) of each program (a project root) on the same generated content, their runs
    alternating so that a busy moment of the machine weighs on both."""
    with tempfile.TemporaryDirectory() as scratch:
        content = Path(scratch)
        generate(content, dashboards, rules)
        codes = [
            CHILD.format(
                root=str(p), tests=str(p / "tests"), support=str(p / "tests" / "support"), content=str(content)
            )
            for p in programs
        ]
        runs: list[list[dict]] = [[] for _ in programs]
        for _ in range(repeat):
            for code, program_runs in zip(codes, runs, strict=True):
                out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                program_runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        return [(statistics.median(r["seconds"] for r in rs), rs[0]["resources"]) for rs in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario; the median is printed")
    parser.add_argument("--baseline", help="a git revision whose program runs beside this one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        programs = [ROOT]
        if args.baseline:
            worktree = Path(scratch) / "baseline"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "-q", str(worktree), args.baseline], cwd=ROOT, check=True
            )
            programs.append(worktree)
        try:
            header = f"{'scenario':34} {'resources':>9} {'seconds':>8} {'x shipped':>9}"
            print(header + (f" {args.baseline[:12]:>12} {'change':>7}" if args.baseline else ""))
            shipped = None
            for label, dashboards, rules in SCENARIOS:
                results = measure(dashboards, rules, args.repeat, programs)
                (seconds, resources), *before = results
                shipped = shipped or seconds
                line = f"{label:34} {resources:9d} {seconds:8.2f} {seconds / shipped:9.1f}"
                if before:
                    line += f" {before[0][0]:12.2f} {100 * (seconds / before[0][0] - 1):+6.1f}%"
                print(line, flush=True)
        finally:
            if args.baseline:
                subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=True)
    print("goal: '+1,000 dashboards +5,000 rules' <= 5.00 s")


if __name__ == "__main__":
    main()
