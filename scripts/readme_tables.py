"""Prints the documentation's generated tables: the config keys (from the Pulumi.yaml schema) and the services (from
stacks/layout.py and stacks/versions.py). `--write` updates them where they are, between their
`<!-- <name>:start -->` and `<!-- <name>:end -->` lines in the files of TABLE_FILES (docs/configuration.md)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stacks.layout import SERVICES  # noqa: E402 - after the repository is on the path
from stacks.versions import IMAGES  # noqa: E402


def config_table() -> str:
    schema = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, spec in schema.items():
        default = "(required)" if "default" not in spec else f"`{json.dumps(spec['default'])}`"
        rows.append(f"| `{key}` | {spec['type']} | {default} | {spec.get('description', '')} |")
    return "\n".join(rows)


def services_table() -> str:
    rows = [
        "| service | image | port (container) | default host port | health | Grafana datasource |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for service in SERVICES:
        rows.append(
            f"| `{service.name}` | `{IMAGES[service.name]}` | {service.port} | {service.host_port} "
            f"| `{service.health_path}` | {'yes' if service.datasource is not None else 'no'} |"
        )
    return "\n".join(rows)


TABLES = {"config-table": config_table, "services-table": services_table}
TABLE_FILES = (ROOT / "docs" / "configuration.md",)
"""The files that hold the tables' blocks."""


def with_tables(text: str) -> str:
    """`text` with each table's block, where it has one, holding the table as it is generated now."""
    for name, render in TABLES.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
        block = f"{start}\n{render()}\n{end}"
        text = pattern.sub(lambda _, block=block: block, text)  # a function: the table's text is not a template
    return text


if __name__ == "__main__":
    if "--write" in sys.argv:
        for path in TABLE_FILES:
            path.write_text(with_tables(path.read_text()))
    else:
        print(config_table(), services_table(), sep="\n\n")
