"""Errors for bad input, raised before any resource is registered (stacks/reader.py reads input into them).

Every problem names where it is and says what was expected and what was found:
- in the stack config, by its key path: `alerting.receivers[0].slack[1].url: must be a string, got 3`;
- in a content file, by file, line and path: `rules/kerp.yml:12: groups[0].rules[3].for: ...`.
"""

from __future__ import annotations

import pulumi


class InputError(pulumi.RunError):
    """One or more problems in the stack configuration or the content files.

    Each problem names where it is (a config key, or a file with its line or JSON path)
    so that the user can go straight to it. A RunError: Pulumi prints the message, not a traceback.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        count = f"{len(self.problems)} error{'s' * (len(self.problems) != 1)}"
        super().__init__(
            "invalid stack configuration or content:\n" + "".join(f"- {p}\n" for p in self.problems) + count
        )


class Problems:
    """Collects problems so that one run reports all of them, not just the first."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def add_line(self, line: str) -> None:
        """A problem already written with where it is (a lint summary: stacks/content/findings.py)."""
        self.items.append(line)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)
