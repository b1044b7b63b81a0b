"""Rules that can fire, against each system's metrics contract (the histogram buckets in systems/<system>.yml).

- A histogram_quantile() compared with a threshold at or above the histogram's top finite bucket can never
  be true: when the quantile falls in the +Inf bucket, Prometheus answers with the top finite boundary.
- A selector of `<histogram>_bucket{le="x"}` reads nothing unless x is one of the histogram's boundaries,
  written as Prometheus 3 stores it (le="1.0", not le="1").
- Both need the histogram's buckets: a histogram a rule reads must be in its system's contract.
"""

from __future__ import annotations

from collections.abc import Iterable

import promql_parser

from stacks.content.findings import ERROR, Finding, LintFile
from stacks.content.model import RuleFile, System
from stacks.content.rule_names import METRICS_CONTRACT
from stacks.syntax.promql import bucket_label, expression_facts, metric_name, vector_selectors


def check_contract(rule_files: Iterable[RuleFile], systems: dict[str, System]) -> list[tuple[LintFile, Finding]]:
    """The rules of declared systems against their contracts (imported rule files have none)."""
    found = []
    for rule_file in (f for f in rule_files if f.system in systems):
        for line, expr in rule_file.expressions:
            for message in contract_problems(expr, systems[rule_file.system]):
                found.append((rule_file.lint_file, Finding(METRICS_CONTRACT, ERROR, f"line {line}", message)))
    return found


def contract_problems(expr: str, system: System) -> list[str]:
    """Why the expression reads a histogram its system does not declare, a bucket it does not have, or compares
    a quantile with a threshold no quantile can cross."""
    try:
        facts = expression_facts(expr)
    except (ValueError, TypeError):
        return []  # reported by the PromQL check
    found = []
    for selector in facts.selectors:
        if not selector.name.endswith("_bucket"):
            continue
        histogram = selector.name.removesuffix("_bucket")
        buckets = system.histograms.get(histogram)
        if buckets is None:
            found.append(
                f"histogram {histogram} is not in the metrics contract: add its buckets to {system.declared_in}"
            )
            continue
        for value in (value for op, value in selector.on("le") if op == "Equal"):
            if not _is_boundary(value, buckets):
                found.append(
                    f'{selector.name}{{le="{value}"}} reads no series: {histogram}\'s buckets are '
                    f"{_listed(buckets)} ({system.declared_in})"
                )
            elif value != "+Inf" and value != bucket_label(float(value)):
                found.append(
                    f'{selector.name}{{le="{value}"}} reads no series on Prometheus 3, which stores a '
                    f'scraped bucket as le="{bucket_label(float(value))}"'
                )
    for op, quantile, threshold in facts.quantile_comparisons:
        histogram = _histogram_of(quantile)
        buckets = system.histograms.get(histogram or "")
        if not buckets:
            continue
        top = buckets[-1]
        if (op == ">" and threshold >= top) or (op == ">=" and threshold > top) or (op == "==" and threshold > top):
            found.append(
                f"histogram_quantile over {histogram} {op} {threshold:g} can never be true: its top finite bucket "
                f"is {top:g}, the highest value a quantile can take ({system.declared_in}): add a bucket above "
                f"{threshold:g} or lower the threshold"
            )
    return found


def _is_boundary(value: str, buckets: tuple[float, ...]) -> bool:
    if value == "+Inf":
        return True
    try:
        return float(value) in buckets
    except ValueError:
        return False


def _listed(buckets: tuple[float, ...]) -> str:
    return ", ".join(f"{b:g}" for b in buckets) + ", +Inf"


def _histogram_of(quantile: promql_parser.Call) -> str | None:
    names = {name for name in map(metric_name, vector_selectors(quantile.args[1])) if name.endswith("_bucket")}
    return names.pop().removesuffix("_bucket") if len(names) == 1 else None
