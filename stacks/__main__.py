"""`python -m stacks new-system <name> --job <job>=<host:port> [--job ...] [--title <Folder>]`: declare a system
(stacks/scaffold.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stacks.content import ROOT
from stacks.errors import InputError
from stacks.scaffold import new_system_files, next_steps, parse_new_system, write_files


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
        files = new_system_files(system, root)
    except InputError as error:
        print(error, file=sys.stderr)
        return 2
    write_files(files, root)
    print("wrote " + ", ".join(files))
    print()
    print(next_steps(system))
    return 0


if __name__ == "__main__":
    sys.exit(main())
