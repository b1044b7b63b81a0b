"""How long validating all content takes, for the shipped content and for ten times as much.

Validation = what `pulumi preview` runs (stacks.content.load_content: JSON/YAML parsing, dashboard
lint, in-process PromQL parsing) plus the real tools the tests run (promtool check rules on every
rule file, promtool test rules on every unit test file, promtool check of every dashboard query).

    .venv/bin/python benchmarks/content_validation.py [--repeat 3]

Goal (issue 4): all shipped content validated in at most 10 s on the CI machine.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

from servers import stack_build_dir  # noqa: E402

from stacks.content import load_content, prometheus_queries, system_of  # noqa: E402

# The stack's own promtool, which scripts/setup.sh builds beside Prometheus.
PROMTOOL = str(stack_build_dir("prometheus") / "promtool")


def multiply(destination: Path, times: int) -> None:
    """`times` copies of the shipped content, with uids, alert names and groups made unique. Each copy of a
    system is a system of its own (kerp1, kerp2, ...) with its own jobs (kerp1-api); the platform, the stack
    itself, is not copied."""
    for name in ("rules", "dashboards", "systems"):
        shutil.copytree(ROOT / name, destination / name)
    for copy in range(1, times):
        for path in sorted((ROOT / "dashboards").glob("*/*.json")):
            system = system_of(path.parent.name)
            if system == "platform":
                continue
            model = json.loads(path.read_text().replace(f"{system}-", f"{system}{copy}-"))
            model["uid"] = f"{model.get('uid', path.stem)}"[:34] + f"-x{copy}"
            target = destination / "dashboards" / f"{path.parent.name}{copy}" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(model))
        for path in sorted((ROOT / "systems").glob("*.yml")):
            text = path.read_text().replace(f"{path.stem}-", f"{path.stem}{copy}-")
            (destination / "systems" / f"{path.stem}{copy}.yml").write_text(text)
        for path in sorted((ROOT / "rules").glob("*.yml")):
            if path.stem == "platform":
                continue
            text = re.sub(r"(- name: )(\S+)", rf"\1\2-x{copy}", path.read_text())
            (destination / "rules" / f"{path.stem}{copy}.yml").write_text(
                text.replace(f"{path.stem}-", f"{path.stem}{copy}-")
            )
        for path in sorted((ROOT / "rules/tests").glob("*_test.yml")):
            stem = path.stem.removesuffix("_test")
            if stem in ("platform", "systems"):
                continue
            text = path.read_text().replace(f"../{stem}.yml", f"../{stem}{copy}.yml")
            (destination / "rules/tests" / f"{stem}{copy}_test.yml").write_text(
                text.replace(f"{stem}-", f"{stem}{copy}-")
            )


def validate(root: Path) -> dict[str, float]:
    times = {}
    start = time.perf_counter()
    content = load_content(root)
    times["preview checks (in process)"] = time.perf_counter() - start

    start = time.perf_counter()
    subprocess.run(
        [PROMTOOL, "check", "rules", *map(str, sorted((root / "rules").glob("*.yml")))],
        check=True,
        capture_output=True,
    )
    times["promtool check rules"] = time.perf_counter() - start

    start = time.perf_counter()
    tests = sorted(p.name for p in (root / "rules/tests").glob("*_test.yml"))
    subprocess.run([PROMTOOL, "test", "rules", *tests], cwd=root / "rules/tests", check=True, capture_output=True)
    times["promtool test rules"] = time.perf_counter() - start

    start = time.perf_counter()
    rules = [
        {"record": f"q:{i}", "expr": expr}
        for i, (_, expr) in enumerate(q for d in content.dashboards for q in prometheus_queries(d.model))
    ]
    queries = root / "dashboard-queries.yml"
    queries.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    subprocess.run([PROMTOOL, "check", "rules", str(queries)], check=True, capture_output=True)
    times["promtool dashboard queries"] = time.perf_counter() - start
    times["total"] = sum(times.values())
    times["_counts"] = (len(content.dashboards), sum(len(f.alerts) for f in content.rule_files), len(rules))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median is printed")
    args = parser.parse_args()
    results = {}
    for label, times in (("shipped", 1), ("10x", 10)):
        with tempfile.TemporaryDirectory() as scratch:
            multiply(Path(scratch), times)
            runs = [validate(Path(scratch)) for _ in range(args.repeat)]
        results[label] = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "_counts"}
        dashboards, alerts, queries = runs[0]["_counts"]
        print(f"{label}: {dashboards} dashboards, {alerts} alerts, {queries} dashboard queries")
    print(f"{'step':30} {'shipped s':>10} {'10x s':>10} {'ratio':>6}")
    for step in results["shipped"]:
        shipped, tenfold = results["shipped"][step], results["10x"][step]
        print(f"{step:30} {shipped:10.2f} {tenfold:10.2f} {tenfold / shipped:6.1f}")
    print("goal: shipped total <= 10.00 s")


if __name__ == "__main__":
    main()
