"""Differential verdicts: what the stack's promtool and preview each say about the same input, an error or None
(accepted), and where the two disagree."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

import yaml

from stacks.config.load import load_settings
from stacks.errors import InputError


def promtool_verdict(config: dict, directory: Path) -> str | None:
    """`promtool check config` on this prometheus.yml (written by hand, not rendered): its error, or None."""
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    result = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    return None if result.returncode == 0 else (result.stdout + result.stderr).strip()


def preview_verdict(config: dict, secret_keys: list[str]) -> str | None:
    """The settings check preview runs on this stack config: its error, or None."""
    try:
        load_settings(config, frozenset(secret_keys))
    except InputError as error:
        return str(error)
    return None


def disagreements(verdicts: Iterable[tuple[str, str | None, str | None]]) -> list[str]:
    """(case, promtool's verdict, preview's verdict) -> one line per case where one accepts and the other refuses."""
    return [
        f"{case}: promtool {server or 'accepts'}; preview {preview or 'accepts'}"
        for case, server, preview in verdicts
        if (server is None) != (preview is None)
    ]
