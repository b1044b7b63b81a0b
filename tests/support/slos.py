"""The SLO specs the SLO tests generate from (rules/slos/, and the fixture spec tests/fixtures/slo/checkout.yml,
99.9% over 30d), and the generator run on one of them as the program runs it."""

from __future__ import annotations

from pathlib import Path

import yaml
from repo import FIXTURES, ROOT

from stacks.content import load_slos
from stacks.errors import Problems

FIXTURE = FIXTURES / "slo" / "checkout.yml"
SHIPPED = sorted((ROOT / "rules" / "slos").glob("*.yml"))
PAGE, TICKET = "CheckoutAvailabilityErrorBudgetFastBurn", "CheckoutAvailabilityErrorBudgetSlowBurn"
LABELS = {"slo": "checkout-availability", "service": "checkout", "system": "checkout", "team": "payments"}


def generate(spec_path: Path, tmp_path: Path, objective: float | None = None):
    """The generated rule file and dashboards of one spec file, as the program produces them."""
    directory = tmp_path / "rules" / "slos"
    directory.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(spec_path.read_text())
    if objective is not None:
        for spec in data["slos"]:
            spec["objective"] = objective
    (directory / spec_path.name).write_text(yaml.safe_dump(data, sort_keys=False))
    problems = Problems()
    rule_files, dashboards = load_slos(directory, problems, tmp_path)
    problems.raise_if_any()
    return rule_files[0], dashboards
