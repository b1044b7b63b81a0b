"""`python -m stacks new-system <name> --job <job>=<host:port> [--job ...] [--title <Folder>]`: declare a system.

The command reads what the new system is added to (the repository's content and stack files), and writes the files
stacks/scaffold.py renders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stacks.config.alerting import parse_alerting
from stacks.config.settings import Route
from stacks.content import ROOT, load_content
from stacks.errors import InputError, Problems
from stacks.scaffold import Repository, new_system_files, next_steps, parse_new_system, write_files
from stacks.syntax.yaml_io import parse_yaml


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    """The command; `root`: the repository it writes into."""
    parser = argparse.ArgumentParser(prog="python -m stacks")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new-system", help="declare a system: its jobs, alerts, their tests, a dashboard")
    new.add_argument("name", help="the system's key, lower-case letters and digits: systems/<name>.yml")
    new.add_argument("--job", action="append", default=[], help="<job>=<host:port>, once per scrape job")
    new.add_argument("--title", help="its Grafana folder (default: the name capitalised)")
    args = parser.parse_args(argv)
    try:
        system = parse_new_system(args.name, args.job, args.title, root)
        files = new_system_files(system, read_repository(root))
    except InputError as error:
        print(error, file=sys.stderr)
        return 2
    write_files(files, root)
    print("wrote " + ", ".join(files))
    print()
    print(next_steps(system))
    return 0


def read_repository(root: Path = ROOT) -> Repository:
    """What a new system is added to, read from the repository at `root`."""
    content = load_content(root)
    routing_table = (root / "tests/routing_table.yaml").read_text(encoding="utf-8")
    return Repository(
        systems_test=(root / "rules/tests/systems_test.yml").read_text(encoding="utf-8"),
        declared_rule_files=tuple(f for f in content.rule_files if not content.imported(f.system)),
        routing_table=routing_table,
        routes=_routes_of_all_systems_stacks(root, routing_table),
    )


def _routes_of_all_systems_stacks(root: Path, routing_table: str) -> dict[str, Route]:
    """Stack -> its route tree, for each stack that deploys all systems (no `systems` setting) and has rows in the
    routing table."""
    routes = {}
    for stack_file in sorted(root.glob("Pulumi.*.yaml")):
        stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
        config = (parse_yaml(stack_file.read_text()) or {}).get("config") or {}
        if stack == "yaml" or config.get("monitoring:systems") or f"\n{stack}:\n" not in f"\n{routing_table}":
            continue
        problems = Problems()
        alerting = parse_alerting(config.get("monitoring:alerting"), problems, require_secrets=False, is_secret=True)
        if problems.items:
            raise InputError([f"{stack_file.name}: {p}" for p in problems.items])
        routes[stack] = alerting.route
    return routes


if __name__ == "__main__":
    sys.exit(main())
