"""stacks/syntax/promql.py's promql_error against the real one: the stack's own promtool (Prometheus 3.16, which
parses a rule's expression as the server does, with the same default feature flags) judges a corpus of expressions, one
recording rule a file, and preview must give the same verdict for each: what the server would refuse stops
preview, what it accepts does not.

The corpus is about what the Rust parser accepts and the server refuses unless a feature flag is on: every
experimental function and aggregation, the fill modifiers, those names nested in ordinary queries, and the same
names where they are no call (strings, label values, metric and label names), which must stay accepted; and regex
matchers, which Prometheus compiles with Go's RE2 while the Rust parser uses Rust's engine (each refuses some the
other takes). tests/tools/test_rule_parity.py does the same for whole rule files."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import STACKS
from rendering import stack_settings
from servers import stack_binary

from stacks.content import load_content
from stacks.render.prometheus import prometheus_command
from stacks.syntax.promql import EXPERIMENTAL_AGGREGATIONS, EXPERIMENTAL_FUNCTIONS, promql_error

pytestmark = pytest.mark.tools

REFUSED = [
    # Every function marked `Experimental: true` in promql/parser/functions.go (v0.316.0).
    'sort_by_label(up, "job")',
    'sort_by_label_desc(up, "job", "instance")',
    "double_exponential_smoothing(up[5m], 0.5, 0.5)",
    "info(up)",
    'info(up, {__name__="target_info"})',
    "ts_of_first_over_time(up[5m])",
    "ts_of_last_over_time(up[5m])",
    "ts_of_max_over_time(up[5m])",
    "ts_of_min_over_time(up[5m])",
    "mad_over_time(up[5m])",
    'histogram_quantiles(sum by (le) (rate(http_request_duration_seconds_bucket[5m])), "q", 0.5, 0.9)',
    "integral(up[5m])",
    "max_of(1, 2)",
    "min_of(1, 2)",
    "start()",
    "end()",
    "step()",
    "range()",
    "start_timestamp(up)",
    # The experimental aggregations (lex.go, IsExperimentalAggregator).
    "limitk(2, up)",
    'limit_ratio(0.5, up{job="node"})',
    # The fill modifiers of binary operators (promql-binop-fill-modifiers).
    "up + fill(0) up",
    "up + on(job) fill_left(0) up",
    "up - ignoring(instance) fill_right(1) up",
    # Nested in ordinary queries: an argument, a subquery, one side of an operator, an aggregation's body.
    'sum by (job) (sort_by_label(up, "job"))',
    "max_over_time(ts_of_max_over_time(up[5m])[30m:1m])",
    "rate(up[5m]) > 0 and limitk(1, up)",
    'limitk(2, sort_by_label(up, "job"))',
    "clamp_min(up, min_of(0, 1))",
    # Spelt otherwise: keywords in any case, a space before the parenthesis, an aggregation's clause first (preview
    # looks for the names in the text before it walks the tree).
    "LIMITK(2, up)",
    "Limit_Ratio(0.5, up)",
    "limitk by (job) (2, up)",
    "info (up)",
    "up + FILL(0) up",
    "up + on(job) Fill_Left(0) up",
    # Regexes Go's RE2 refuses and Rust's engine takes.
    'up{instance=~"(a{30}){40}"}',
    'up{instance=~"a{1001}"}',
    'up{job=~"\\\\C"}',
]

ACCEPTED = [
    # Ordinary queries of the kinds the shipped rules and panels use.
    "up",
    "sum by (job) (rate(up[5m]))",
    "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    "topk(2, up) + bottomk(1, up)",
    "quantile(0.5, up)",
    'count_values("version", up)',
    "sort_desc(up)",
    'label_join(up, "x", ",", "job", "instance")',
    "up + on(job) group_left up",
    "up offset -5m",
    "up @ start()",
    "max_over_time(up[10m:1m] @ end())",
    "time() - vector(1)",
    "absent_over_time(up[5m])",
    # The experimental names where they are no call: strings, label values, metric and label names.
    'label_replace(up, "dst", "limitk(2, up)", "job", "sort_by_label(.*)")',
    'up{job="info(up)"}',
    'up{job=~"step|range|limit_ratio"}',
    'absent(up{job="ts_of_max_over_time(up[5m])"})',
    "info",
    "step + range",
    "sum by (step, range, info) (up)",
    "up + ignoring(fill) up",
    "foo:info",
    "kube_pod_info",
    "sum(job:sort_by_label:rate5m)",
    # Regexes Go's RE2 takes and Rust's engine refuses.
    'up{job=~"(?P<a>x)(?P<a>y)"}',
    'up{job=~"\\\\p{^Greek}"}',
    'sum(rate(http_requests_total{job=~"\\\\x{D800}", code=~"5.."}[5m]))',
]


def promtool_refuses(expr: str, directory: Path) -> str | None:
    """promtool check rules on one recording rule of the expression: None, or Prometheus' message."""
    directory.mkdir()
    rule = {"record": "case:parity", "expr": expr}
    (directory / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    promtool = str(Path(stack_binary("prometheus")).with_name("promtool"))
    result = subprocess.run(
        [promtool, "check", "rules", "rules.yml"], cwd=directory, capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    if result.returncode == 0:
        assert "SUCCESS: 1 rules found" in output, output
        return None
    match = re.search(r"could not parse expression: \d+:\d+: parse error: (.*)", output)
    assert match, output  # refused for the expression, nothing else
    return match.group(1)


def test_the_corpus_covers_every_feature_the_check_knows():
    calls = " ".join(REFUSED)
    assert all(f"{name}(" in calls for name in EXPERIMENTAL_FUNCTIONS | EXPERIMENTAL_AGGREGATIONS)
    assert all(f"{fill}(" in calls for fill in ("fill", "fill_left", "fill_right"))
    assert len(REFUSED) + len(ACCEPTED) >= 30


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_enables_no_feature_of_the_parser(stack):
    """The check refuses what Prometheus refuses without --enable-feature: right only while the stack sets none."""
    command = prometheus_command(stack_settings(stack), load_content())
    assert not [arg for arg in command if arg.startswith("--enable-feature")]


@pytest.mark.parametrize("stack", STACKS)
def test_the_stacks_prometheus_takes_every_flag_the_stack_gives_it(stack):
    """The stack's Prometheus 3.16 parses the rendered command (`--version` then stops it): a flag misspelled,
    or gone from the release, fails here rather than when the container starts."""
    command = prometheus_command(stack_settings(stack), load_content())
    parsed = subprocess.run([stack_binary("prometheus"), *command, "--version"], capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stderr
    assert parsed.stdout.startswith("prometheus, version 3.16.")
    misspelled = [arg.replace("--web.route-prefix", "--web.route-prefx") for arg in command]
    refused = subprocess.run([stack_binary("prometheus"), *misspelled, "--version"], capture_output=True, text=True)
    assert "unknown long flag '--web.route-prefx'" in refused.stderr


def test_preview_refuses_what_promtool_refuses(tmp_path):
    cases = REFUSED + ACCEPTED
    with ThreadPoolExecutor(max_workers=8) as pool:
        theirs = list(pool.map(promtool_refuses, cases, [tmp_path / str(i) for i in range(len(cases))]))
    # The corpus says what the server does; should a release change that, this says which case moved.
    assert [case for case, their in zip(cases, theirs, strict=True) if their is None] == ACCEPTED
    disagreements = []
    for case, their in zip(cases, theirs, strict=True):
        ours = promql_error(case)
        # The same verdict; where the server refuses, ours in its words (what preview adds follows them).
        agree = ours is None if their is None else ours is not None and their in ours
        if not agree:
            disagreements.append((case, their, ours))
    assert disagreements == []
