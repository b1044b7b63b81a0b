"""A stack file with some config values replaced, for `pulumi up --config-file` (used by scripts/up).

    python scripts/stack_overrides.py Pulumi.dev.yaml 'services=["prometheus", "alertmanager"]' grafanaContent=false

Each KEY=VALUE sets `monitoring:KEY`; VALUE is JSON where it parses as JSON, else a string. Everything
else in the file (other keys, secrets, the encryption salt) is kept as it is. Prints the result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml


def with_overrides(stack_file: str, overrides: list[str], project: str = "monitoring") -> dict:
    data = yaml.safe_load(Path(stack_file).read_text()) if Path(stack_file).exists() else None
    data = data or {}
    config = data.setdefault("config", {})
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"stack_overrides: expected KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        config[f"{project}:{key}"] = value
    return data


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    sys.stdout.write(yaml.safe_dump(with_overrides(sys.argv[1], sys.argv[2:]), sort_keys=False))
