"""Errors for bad input, raised before any resource is registered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi


class InputError(pulumi.RunError):
    """One or more problems in the stack configuration or the content files.

    Each problem names where it is (a config key, or a file with its line or JSON path)
    so that the user can go straight to it. A RunError: Pulumi prints the message, not a traceback.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid stack configuration or content:\n" + "\n".join(f"- {p}" for p in self.problems))


class Problems:
    """Collects problems so that one run reports all of them, not just the first."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def unknown_keys(self, where: str, value: Mapping[str, Any], known: Sequence[str]) -> None:
        """One problem per key of `value` that is not in `known`, named `where.key`; known keys in the given order."""
        for key in sorted(set(value) - set(known)):
            self.add(f"{where}.{key}", f"unknown key; known keys: {', '.join(known)}")

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)
