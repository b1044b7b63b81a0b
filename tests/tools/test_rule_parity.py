"""Preview is exactly as strict as Prometheus on rule files: the program's verdict on a rule file (does preview stop
on it?) equals the stack's own promtool's (Prometheus 3.16, `promtool check rules`), for every public rule file of
../shared/corpus and for single-token mutations of two of them. The expected verdicts are promtool's, never the
program's own; a file is loaded as imported content (no systems/ file), which gets exactly the server's checks."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from repo import CORPUS
from servers import stack_binary

from stacks.content import load_content
from stacks.errors import InputError

pytestmark = pytest.mark.tools

CORPUS_RULES = CORPUS / "rules"
ALERTS = "mixin_kube-state-metrics_alerts.yaml"  # alerting rules with for, labels, annotations
RECORDS = "mixin_cortex_rules.yaml"  # recording rules in many groups

# (base file, text replaced (its first occurrence), replacement): each one token or one line changed.
MUTATIONS = [
    # Unclosed and stray brackets.
    (ALERTS, "[5m]))", "[5m))"),
    (ALERTS, "[5m]))", "[5m])))"),
    (ALERTS, "[5m]", "[5m"),
    (ALERTS, "{job=", "{{job="),
    (ALERTS, 'result="error"}', 'result="error"'),
    (RECORDS, "by (le, cluster, job))", "by (le, cluster, job)"),
    (RECORDS, "by (cluster, job)", "by (cluster, job"),
    # Durations: in a range, in for, in a group interval.
    (ALERTS, "[5m]", "[5mm]"),
    (ALERTS, "[5m]", "[5]"),
    (ALERTS, "[5m]", "[1h5m]"),
    (ALERTS, "[5m]", "[5m1h]"),
    (ALERTS, "for: 15m", "for: 15mm"),
    (ALERTS, "for: 15m", "for: 15"),
    (ALERTS, "for: 15m", "for: 0"),
    (ALERTS, "for: 15m", "for: 1h15m"),
    (ALERTS, "for: 15m", "for: 15m1h"),
    (ALERTS, "for: 15m", "for: 15 minutes"),
    (ALERTS, "for: 15m", "for: 1000y"),
    (ALERTS, "for: 15m", "for: 15M"),
    (ALERTS, "for: 15m", "keep_firing_for: 5x"),
    (ALERTS, "- name: kube-state-metrics", "- name: kube-state-metrics\n  interval: 30s"),
    (ALERTS, "- name: kube-state-metrics", "- name: kube-state-metrics\n  interval: half a minute"),
    (ALERTS, "- name: kube-state-metrics", "- name: kube-state-metrics\n  query_offset: 1m"),
    (ALERTS, "- name: kube-state-metrics", "- name: kube-state-metrics\n  limit: 10"),
    # Functions and aggregations: unknown, misspelt, experimental.
    (ALERTS, "rate(", "rte("),
    (ALERTS, "sum(", "summ("),
    (ALERTS, "stdvar (", "stdvariance ("),
    (ALERTS, "rate(", "irate("),
    (ALERTS, "sum(", "limitk(2, "),
    (RECORDS, "histogram_quantile(", "histogram_quantiles("),
    (RECORDS, "histogram_quantile(0.99,", "mad_over_time(0.99,"),
    (RECORDS, "sum(rate(", "sum(sort_by_label("),
    # Label names (Prometheus 3 validates them as UTF-8) and label values.
    (ALERTS, "      severity: critical", "      severity: critical\n      team.name: platform"),
    (ALERTS, "      severity: critical", "      severity: critical\n      0team: platform"),
    (ALERTS, "      severity: critical", "      severity: critical\n      __shard: a"),
    (ALERTS, "      severity: critical", "      severity: critical\n      __name__: a"),
    (ALERTS, "      severity: critical", "      severity: critical\n      '': a"),
    (ALERTS, "      severity: critical", "      severity: critical\n      team: [a, b]"),
    (ALERTS, "      severity: critical", "      severity: critical\n      team: 3"),
    (ALERTS, "      summary:", "      summary-text: s\n      summary:"),
    (ALERTS, "      summary:", "      __name__: s\n      summary:"),
    (ALERTS, "by (cluster)", 'by ("team.name")'),
    (ALERTS, '{job="kube-state-metrics",', '{"team.name"="x", job="kube-state-metrics",'),
    (ALERTS, "sum(rate(kube_state_metrics_list_total{", 'sum(rate({"kube_state_metrics_list_total", '),
    # Regex matchers: what Go's RE2 refuses and takes.
    (ALERTS, 'job="kube-state-metrics"', 'job=~"(?=kube).*"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"(a{30}){40}"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"a{1001}"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"a{1000}"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"kube-.*|[[:alpha:]]+"'),
    (ALERTS, 'job="kube-state-metrics"', 'job!~"(?i)KUBE.+"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"a**"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"(?P<name>kube).*"'),
    # Where Rust's regex engine (the PromQL parser's) refuses what Go takes, and how an unterminated \\Q reads.
    (ALERTS, 'job="kube-state-metrics"', 'job=~"(?P<a>x)(?P<a>y)"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"\\\\p{^Greek}"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"\\\\x{D800}"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"kube\\\\Q"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"\\\\p{Garay}"'),
    (ALERTS, 'job="kube-state-metrics"', 'job=~"\\\\C"'),
    # Record names.
    (RECORDS, "record: cluster_job:cortex_request_duration_seconds:99quantile", "record: cluster job p99"),
    (RECORDS, "record: cluster_job:cortex_request_duration_seconds:99quantile", "record: 'job:p99{x=\"y\"}'"),
    (RECORDS, "record: cluster_job:cortex_request_duration_seconds:99quantile", "record: 9lives"),
    (RECORDS, "record: cluster_job:cortex_request_duration_seconds:99quantile", "record: ''"),
    (RECORDS, "record: cluster_job:cortex_request_duration_seconds:99quantile", "alert: Both\n    record: x"),
    (RECORDS, "    record: cluster_job:cortex_request_duration_seconds:99quantile", "    for: 5m\n    record: x:y"),
    # Templates in labels and annotations.
    (ALERTS, "summary: kube-state-metrics is experiencing errors in list", "summary: '{{ $labels.cluster }' errors in"),
    (ALERTS, "summary: kube-state-metrics is experiencing errors in list", "summary: '{{ $value | humanise }}'"),
    (ALERTS, "summary: kube-state-metrics is experiencing errors in list", "summary: '{{ $value | humanize }}'"),
    (ALERTS, "summary: kube-state-metrics is experiencing errors in list", "summary: '{{ end }}'"),
    (ALERTS, "summary: kube-state-metrics is experiencing errors in list", "summary: '{{ range . }}'"),
    (ALERTS, "summary: kube-state-metrics is experiencing errors in list", "summary: '{{ $nope }}'"),
    (ALERTS, "summary: kube-state-metrics is experiencing errors in list", "summary: '{{ .Labels.cluster }}'"),
    (ALERTS, "      severity: critical", "      severity: '{{ if gt $value 1.0 }}critical{{ end }}'"),
    (ALERTS, "      severity: critical", "      severity: '{{ if }}critical{{ end }}'"),
    # Duplicate names, in a group and across groups; keys Prometheus does not know.
    (ALERTS, "alert: KubeStateMetricsWatchErrors", "alert: KubeStateMetricsListErrors"),
    (RECORDS, "- name: cortex_api_2", "- name: cortex_api_1"),
    (RECORDS, "- name: cortex_api_2", "- name: ''"),
    (
        RECORDS,
        "record: cluster_job_route:cortex_request_duration_seconds:99quantile",
        "record: cluster_job:cortex_request_duration_seconds:99quantile",
    ),
    (ALERTS, "    expr: |", "    exp: |"),
    (ALERTS, "  rules:", "  rule:"),
    (ALERTS, "groups:", "grups:"),
    (ALERTS, "    for: 15m", "    for: 15m\n    description: x"),
    # YAML as Go's yaml.v3 reads it: a key twice, a second document, numbers for strings and durations.
    (ALERTS, "    for: 15m", "    for: 15m\n    for: 5m"),
    (ALERTS, "      severity: critical", "      severity: critical\n      severity: warning"),
    (ALERTS, "groups:", "groups: []\n---\ngroups:"),
    (ALERTS, "groups:", "---\ngroups:"),
    (ALERTS, "- name: kube-state-metrics", "- name: kube-state-metrics\n  limit: 99999999999999999999"),
    (ALERTS, "- name: kube-state-metrics", "- name: kube-state-metrics\n  limit: 1.0"),
    (ALERTS, "- name: kube-state-metrics", "- name: kube-state-metrics\n  limit: 1.5"),
    (ALERTS, "- name: kube-state-metrics", "- name: kube-state-metrics\n  limit: -3"),
    (ALERTS, "- alert: KubeStateMetricsListErrors", "- alert: 42"),
    (ALERTS, "- alert: KubeStateMetricsListErrors", "- alert: yes"),
]


def promtool_accepts(path: Path) -> tuple[bool, str]:
    promtool = str(Path(stack_binary("prometheus")).with_name("promtool"))
    result = subprocess.run([promtool, "check", "rules", path.name], cwd=path.parent, capture_output=True, text=True)
    return result.returncode == 0, result.stdout + result.stderr


def program_accepts(path: Path, root: Path) -> tuple[bool, str]:
    """Preview's verdict: the file alone as imported content (rules/<name>) of an otherwise empty tree."""
    (root / "rules").mkdir(parents=True)
    (root / "rules" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    try:
        load_content(root)
    except InputError as error:
        return False, str(error)
    return True, ""


def verdicts(files: list[Path], tmp_path: Path) -> list[tuple[str, bool, bool, str]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        tool = list(pool.map(promtool_accepts, files))
    return [
        (path.name, tool_ok, program_ok, tool_out + program_out)
        for i, (path, (tool_ok, tool_out)) in enumerate(zip(files, tool, strict=True))
        for program_ok, program_out in [program_accepts(path, tmp_path / f"tree-{i}")]
    ]


def test_every_corpus_rule_file_gets_promtools_verdict(tmp_path):
    files = sorted(CORPUS_RULES.glob("*.y*ml"))
    assert len(files) == 126
    results = verdicts(files, tmp_path)
    assert [r for r in results if r[1] != r[2]] == []
    assert all(tool_ok for _, tool_ok, _, _ in results)  # the corpus is what Prometheus takes


def test_every_mutation_gets_promtools_verdict(tmp_path):
    files = []
    for i, (base, old, new) in enumerate(MUTATIONS):
        text = (CORPUS_RULES / base).read_text(encoding="utf-8")
        assert old in text, (base, old)
        path = tmp_path / "mutations" / f"m{i:03d}.yml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        files.append(path)
    results = verdicts(files, tmp_path)
    disagreements = [(MUTATIONS[int(name[1:4])], tool, program, out[-600:]) for name, tool, program, out in results]
    assert [d for d in disagreements if d[1] != d[2]] == []
    refused = sum(1 for _, tool_ok, _, _ in results if not tool_ok)
    print(f"\n{len(results)} mutations: promtool refuses {refused}, takes {len(results) - refused}; all agree")
    assert len(results) >= 60 and 20 <= refused <= len(results) - 20  # both verdicts well represented
