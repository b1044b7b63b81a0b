"""stacks/syntax/gotemplate/, Go's text/template parser in Python, against the real one: the stack's own promtool and
amtool (built with the Go the servers are built with) judge a corpus of templates, and the checker must say what
they say, template by template: the same verdict, in the same words."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from repo import ROOT
from servers import stack_binary

from stacks.content import load_content
from stacks.syntax.gotemplate import (
    ALERTMANAGER_FUNCTIONS,
    GO_BUILTINS,
    PROMETHEUS_FUNCTIONS,
    PROMETHEUS_VARIABLES,
)
from stacks.syntax.gotemplate.parse import template_error

# Each construct of the lexer and parser, valid and not (what Go says of those that do not parse is the tools').
SYNTAX = [
    "plain text, no action",
    "{{ .Labels.job }} and {{ .Labels.instance }}",
    "{{- /* a comment */ -}}  trimmed  {{- 1 -}}  text",
    "{{-3}}",  # a number, not a trim marker
    "{{ -}}",
    '{{ printf "%q" "a \\"quoted\\" \\u00e9 \\x41 \\101" }}',
    "{{ print `raw \"string\"` 'c' '\\n' 0x1F 1e3 -1.5 1_000 0b101 0o17 1+2i 2i nil true }}",
    '{{ (len (print 1)) | printf "%d" }}',
    "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
    "{{ range $i, $v := . }}{{ if eq $i 0 }}{{ continue }}{{ end }}{{ $v }}{{ break }}{{ else }}none{{ end }}",
    "{{ if . }}a{{ else if not . }}b{{ else }}c{{ end }}",
    "{{ with .X }}{{ . }}{{ else with .Y }}{{ . }}{{ end }}",
    '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .X }}{{ block "b" . }}default{{ end }}',
    "\nfirst line\n{{ .X }}\n",
    "{{ .X }",
    "{{ nosuch .X }}",
    "{{ $undefined }}",
    "{{ if .X }}open",
    '{{ "unterminated }}',
    "{{ `unterminated }}",
    "{{ 'unterminated }}",
    "{{ end }}",
    "{{ else }}",
    "{{ if }}{{ end }}",
    "{{ break }}",
    "{{ range . }}{{ end }}{{ continue }}",
    '{{ .X | "literal" }}',
    "{{ with $a, $b := . }}{{ end }}",
    "{{ range $a, $b, $c := . }}{{ end }}",
    "{{ (1 }}",
    "{{ 1) }}",
    "{{/* unclosed }}",
    "{{/* comment */ .X }}",
    "{{ 'ab' }}",
    "{{ 99999999999999999999 }}",
    "{{ 1e400 }}",
    "{{ 3x }}",
    '{{ "a".X }}',
    "{{ .X-1 }}",
    "an action across lines {{ .X\n",
    "line one\n{{ if .X }}\nline three",
    '{{ define "t" }}a{{ end }}{{ define "t" }}b{{ end }}',
    "{{ if . }}{{ else }}{{ else }}{{ end }}",
    '{{ "\\q" }}',
    "{{ template .X }}",
    "{{ with . }}{{ else with }}{{ end }}",
    "{{ .X := 1 }}",
    "{{ @ }}",
]
# What Prometheus declares before an alert's templates, and its functions.
PROMETHEUS_CASES = [
    "{{ $labels.job }} answers {{ $value | humanizePercentage }} ({{ $externalLabels.cluster }}, {{ $externalURL }})",
    '{{ with printf "slo:budget{slo=%q}" "api" | query }}{{ . | first | value | humanize }}{{ else }}?{{ end }}',
    "{{ $value | humanize1024 }}B, {{ $labels.instance | stripPort | toUpper }}",
    '{{ define "d" }}{{ $labels.job }}{{ end }}',  # the declared variables are the top-level template's
    "{{ humanise $value }}",
    "{{ toJson $labels }}",  # Alertmanager's, not Prometheus's
]
ALERTMANAGER_CASES = [
    '{{ template "slack.default.title" . }}',
    "{{ range .Alerts.Firing }}{{ .Labels.alertname | title }}: {{ .Annotations.summary }}\n{{ end }}",
    '{{ join ", " .GroupLabels.Values }} {{ toJson .CommonLabels }} {{ dict "a" 1 | len }} {{ routeLabels "x" }}',
    '{{ (tz "UTC" now).Format "15:04" }} {{ reReplaceAll "a" "b" .Status | trimSpace }}',
    "{{ humanize 1 }}",  # Prometheus's, not Alertmanager's
    "{{ $labels.job }}",
]


def shipped_rule_templates() -> list[str]:
    """The label and annotation templates of every alert the stack ships: rules/*.yml and the SLOs' generated ones."""
    templates = []
    for rule_file in load_content().rule_files:
        for group in yaml.safe_load(rule_file.text)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    values = [*(rule.get("labels") or {}).values(), *(rule.get("annotations") or {}).values()]
                    templates += [v for v in values if isinstance(v, str) and "{{" in v]
    return sorted(set(templates))


def shipped_receiver_templates() -> list[str]:
    templates = []
    for path in ROOT.glob("Pulumi.*.yaml"):
        config = yaml.safe_load(path.read_text())["config"]
        for receiver in (config.get("monitoring:alerting") or {}).get("receivers", []):
            templates += [
                slack[key] for slack in receiver.get("slack", []) for key in ("title", "text") if key in slack
            ]
    return sorted(set(templates))


def go_message(output: str, name: str, template: str) -> str | None:
    """Go's message in a tool's output (`template: NAME:LINE: MESSAGE`), written as the checker writes it; None if
    the output has none."""
    match = re.search(rf"template: {re.escape(name)}:(\d+): (.*)", output)
    if not match:
        return None
    line, message = match.groups()
    message = re.sub(rf"started at {re.escape(name)}:(\d+)", r"started at line \1", message)
    return f"line {line}: {message}" if "\n" in template else message


def stack_tool(service: str, name: str) -> str:
    """promtool or amtool of the release the stack deploys, built beside its server."""
    return str(Path(stack_binary(service)).with_name(name))


def tool(binary: str, *args: str, cwd: Path) -> tuple[bool, str]:
    result = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    return result.returncode == 0, result.stdout + result.stderr


def promtool_says(template: str, directory: Path) -> str | None:
    """promtool check rules on one alert whose description is the template: None, or Go's message."""
    directory.mkdir()
    rule = {"alert": "T", "expr": "vector(1)", "labels": {"severity": "info"}, "annotations": {"description": template}}
    (directory / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    ok, output = tool(stack_tool("prometheus", "promtool"), "check", "rules", "rules.yml", cwd=directory)
    message = go_message(output, "__alert_T", template)
    assert ok == (message is None), output  # refused for the template, or accepted
    return message


def amtool_says(config: dict, files: dict[str, str], directory: Path) -> tuple[bool, str]:
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    (directory / "alertmanager.yml").write_text(yaml.safe_dump({"route": {"receiver": "r"}, **config}))
    return tool(stack_tool("alertmanager", "amtool"), "check-config", "alertmanager.yml", cwd=directory)


def amtool_template_says(template: str, directory: Path) -> str | None:
    """amtool check-config on a config whose template file is the template: Alertmanager parses it with the
    functions it gives a receiver's fields when it sends (it does not parse those fields when it loads)."""
    ok, output = amtool_says({"receivers": [{"name": "r"}], "templates": ["t.tmpl"]}, {"t.tmpl": template}, directory)
    message = go_message(output, "t.tmpl", template)
    assert ok == (message is None), output
    return message


def amtool_webhook_says(url: str, directory: Path) -> str | None:
    """amtool check-config on a webhook URL with {{: Alertmanager parses it, with Go's builtins alone, on loading."""
    ok, output = amtool_says({"receivers": [{"name": "r", "webhook_configs": [{"url": url}]}]}, {}, directory)
    message = go_message(output, "", url)
    assert ok == (message is None), output
    return message


def disagreements(
    judge: Callable[[str, Path], str | None], cases: list[str], ours: Callable[[str], str | None], directory: Path
) -> list[tuple[str, str | None, str | None]]:
    """(case, the tool's message, ours) wherever they differ; the tool judges case by case, in parallel."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        theirs = list(pool.map(judge, cases, [directory / str(i) for i in range(len(cases))]))
    verdicts = [(case, their, ours(case)) for case, their in zip(cases, theirs, strict=True)]
    assert any(their is None for _, their, _ in verdicts) and any(their for _, their, _ in verdicts)
    return [verdict for verdict in verdicts if verdict[1] != verdict[2]]


@pytest.mark.tools
def test_the_checker_refuses_what_promtool_refuses_in_the_same_words(tmp_path):
    cases = [*SYNTAX, *PROMETHEUS_CASES, *shipped_rule_templates()]
    assert len(cases) >= 80

    def ours(case: str) -> str | None:
        return template_error(case, PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES)

    assert disagreements(promtool_says, cases, ours, tmp_path) == []


@pytest.mark.tools
def test_the_checker_refuses_what_alertmanager_refuses_in_the_same_words(tmp_path):
    cases = [*SYNTAX, *ALERTMANAGER_CASES, *shipped_receiver_templates()]

    def ours(case: str) -> str | None:
        return template_error(case, ALERTMANAGER_FUNCTIONS)

    assert disagreements(amtool_template_says, cases, ours, tmp_path) == []


@pytest.mark.tools
def test_the_checker_refuses_the_webhook_urls_alertmanager_refuses_on_loading(tmp_path):
    cases = [f"https://hooks.example/{case}" for case in [*SYNTAX, *ALERTMANAGER_CASES] if "{{" in case]

    def ours(case: str) -> str | None:
        return template_error(case, GO_BUILTINS)

    assert disagreements(amtool_webhook_says, cases, ours, tmp_path) == []


@pytest.mark.tools
def test_alertmanager_loads_a_slack_title_that_does_not_parse(tmp_path):
    """Why preview checks receiver templates: Alertmanager takes a broken one, and fails each notification it sends."""
    receiver = {"name": "r", "slack_configs": [{"api_url": "https://hooks.example/x", "title": "{{ .X }"}]}
    ok, output = amtool_says({"receivers": [receiver]}, {}, tmp_path / "slack")
    assert ok, output


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ $labels.job }", 'unexpected "}" in operand'),
        ("{{ humanise $value }}", 'function "humanise" not defined'),
        ("{{ $label.job }}", 'undefined variable "$label"'),
        ("{{ if gt $value 1.0 }}high", "unexpected EOF"),
        ('{{ "high }}', "unterminated quoted string"),
        ("{{ $value }}{{ end }}", "unexpected {{end}}"),
        ("{{ if }}high{{ end }}", "missing value for if"),
        ("{{ $value | humanize\n}} and {{ $value", "line 2: unclosed action"),
        ("{{ $value\n| humanize", "line 2: unclosed action started at line 1"),
    ],
)
def test_what_the_checker_says_of_common_mistakes(template, message):
    assert template_error(template, PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES) == message


def test_the_functions_are_each_servers():
    assert template_error("{{ $value | humanize }}", PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES) is None
    assert template_error("{{ .Value | humanize }}", ALERTMANAGER_FUNCTIONS) == 'function "humanize" not defined'
    assert template_error("{{ .Status | toUpper }}", ALERTMANAGER_FUNCTIONS) is None
    assert template_error("{{ .Status | toUpper }}", GO_BUILTINS) == 'function "toUpper" not defined'


def test_the_declared_variables_are_the_top_level_templates():
    assert template_error("{{ $value }}", PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES) is None
    assert template_error("{{ $value }}", PROMETHEUS_FUNCTIONS) == 'undefined variable "$value"'
    nested = '{{ define "d" }}{{ $value }}{{ end }}'
    assert template_error(nested, PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES) == 'undefined variable "$value"'


def test_the_shipped_templates_parse():
    for template in shipped_rule_templates():
        assert template_error(template, PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES) is None, template
    for template in shipped_receiver_templates():
        assert template_error(template, ALERTMANAGER_FUNCTIONS) is None, template
