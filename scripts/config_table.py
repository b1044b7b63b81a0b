"""Prints the README's table of config keys from the Pulumi.yaml schema (`--write` updates README.md)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


def config_table() -> str:
    schema = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, spec in schema.items():
        default = "(required)" if "default" not in spec else f"`{json.dumps(spec['default'])}`"
        rows.append(f"| `{key}` | {spec['type']} | {default} | {spec.get('description', '')} |")
    return "\n".join(rows)


def readme_with_table(readme: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    return pattern.sub(f"{START}\n{config_table()}\n{END}", readme)


if __name__ == "__main__":
    if "--write" in sys.argv:
        path = ROOT / "README.md"
        path.write_text(readme_with_table(path.read_text()))
    else:
        print(config_table())
