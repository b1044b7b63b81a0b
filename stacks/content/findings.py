"""Lint findings told to the user: summed per file and rule, each naming its rule and the `.lint` entry that
turns it off.

A dashboard with 1,400 findings of one rule is one line with the count and the first three places, not 1,400
lines. Errors stop preview (declared systems' content); warnings are printed by preview (imported content, and the
warning-severity rules everywhere).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ERROR, WARNING = "error", "warning"
_SHOWN = 3  # places shown per file and rule


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    where: str
    """The JSON path or `line N` in its file."""
    message: str


@dataclass(frozen=True)
class LintFile:
    """Where a file's lint exclusions live: its `.lint` file, and the list key its entries name files under."""

    source: str
    """The file, as problems name it: dashboards/Vendor/node.json, rules/kerp.yml."""
    lint_file: str
    """Its `.lint` file: dashboards/Vendor/.lint, rules/.lint."""
    list_key: str
    """`dashboards` or `files`."""
    file_name: str
    """The name an exclusion lists: node.json, kerp.yml."""

    def silencing_entry(self, rule: str) -> str:
        """The `.lint` entry, as one line of YAML, that turns the rule off for this file."""
        return f'{self.lint_file}: exclusions: {{{rule}: {{reason: "<why>", {self.list_key}: [{self.file_name}]}}}}'


def summarise(findings: Iterable[Finding], file: LintFile) -> list[tuple[str, str]]:
    """(severity, line) per rule of one file's findings, in the order the rules first appear."""
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    lines = []
    for rule, found in by_rule.items():
        places = "; ".join(f"{f.where}: {f.message}" if f.where else f.message for f in found[:_SHOWN])
        more = f"; and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
        count = f"{len(found)} findings: " if len(found) > 1 else ""
        lines.append(
            (
                found[0].severity,
                f"{file.source}: [{rule}] {count}{places}{more} (to turn the rule off for this file: "
                f"{file.silencing_entry(rule)})",
            )
        )
    return lines


def total_line(errors: int, warnings: int) -> str:
    """The one line preview ends its content report with."""
    return f"content: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
