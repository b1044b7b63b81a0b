"""The repository's files as a commit would hold them (tracked, and new ones git does not ignore), and where the
tests' own data lives."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The tests' data, shared by their tiers: expected renderer output (UPDATE_GOLDEN=1 rewrites it) and inputs.
GOLDEN = ROOT / "tests" / "golden"
FIXTURES = ROOT / "tests" / "fixtures"
# The public rule files and dashboards beside the checkout (../shared/corpus, SOURCES.tsv), or where
# MONITORING_CORPUS says (a copy of the tree elsewhere, such as the mutation run's).
CORPUS = Path(os.environ.get("MONITORING_CORPUS", ROOT.parent / "shared" / "corpus"))


def declared_rule_files() -> list[Path]:
    """rules/<system>.yml of the declared systems (systems/<system>.yml, and the platform): the content the
    project's own checks hold to its truths. Imported rule files (docs/content.md, "Declared and imported content")
    are not."""
    declared = {path.stem for path in (ROOT / "systems").glob("*.yml")} | {"platform"}
    return [path for path in sorted((ROOT / "rules").glob("*.yml")) if path.stem in declared]


def project_files(*pathspecs: str) -> list[str]:
    """Paths relative to the repository root, optionally limited to some folders or files."""
    return subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *pathspecs],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
