"""The routing table (tests/routing_table.yaml) and the real amtool that routes labels through a tree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def routing_rows() -> list[tuple[str, dict[str, str], list[str]]]:
    """(stack, alert labels, the receivers they must reach), one per row of the table."""
    table = yaml.safe_load((ROOT / "tests/routing_table.yaml").read_text())
    return [(stack, row["labels"], row["receivers"]) for stack, rows in table.items() for row in rows]


def route_test(config: Path, labels: dict[str, str], receivers: list[str]) -> subprocess.CompletedProcess:
    """`amtool config routes test`: passes when these labels reach exactly these receivers in this config."""
    return _routes_test(config, labels, f"--verify.receivers={','.join(receivers)}")


def receivers_reached(config: Path, labels: dict[str, str]) -> list[str]:
    """The receivers `amtool config routes test` routes these labels to in this config."""
    result = _routes_test(config, labels)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().split(",")


def _routes_test(config: Path, labels: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    label_args = [f"{label}={json.dumps(value, ensure_ascii=False)}" for label, value in labels.items()]
    return subprocess.run(
        ["amtool", "config", "routes", "test", f"--config.file={config}", *flags, *label_args],
        capture_output=True,
        text=True,
        timeout=60,
    )
