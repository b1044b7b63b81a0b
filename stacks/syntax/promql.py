"""PromQL syntax checks, in process (the Rust parser behind promql-parser), so preview stops on a bad query."""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal

import promql_parser

from stacks.syntax.go_regexp import PROMQL_MATCHER, go_regexp_error


@functools.lru_cache(maxsize=65536)
def parse_promql(expr: str) -> promql_parser.Expr:
    """The expression's syntax tree (ValueError or TypeError when it is not PromQL); parsed once for every
    check that reads it.

    The Rust parser checks a regex matcher with Rust's regex engine, which refuses some that Go's takes
    (`(?P<a>x)(?P<a>y)`, `\\p{^Greek}`, `\\x{D800}`). Such a matcher is parsed with a placeholder in its place, and
    Selector reads the original back; regex_error judges every regex with RE2, as Prometheus does."""
    for _ in range(_MAX_PLACEHOLDERS):
        try:
            return promql_parser.parse(expr)
        except ValueError as error:
            regex = str(error).removeprefix("illegal regex for ")
            if regex == str(error):
                raise
            if refused := go_regexp_error(regex, PROMQL_MATCHER):  # in the words of Go, the server's engine
                raise ValueError(f"invalid regular expression {regex!r}: {refused}") from error
            replaced = _with_placeholder(expr, regex)
            if replaced == expr:
                raise
            expr = replaced
    return promql_parser.parse(expr)


_MAX_PLACEHOLDERS = 16
_REGEX_LITERAL = re.compile(r"""(=~|!~)(\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)""")
_PLACEHOLDERS: dict[str, str] = {}  # placeholder -> the regex it stands for
_ORIGINALS: dict[str, str] = {}


def _with_placeholder(expr: str, regex: str) -> str:
    """The expression with each string literal of a regex matcher whose value is `regex` replaced by a placeholder
    the Rust engine takes."""
    if regex not in _ORIGINALS:
        placeholder = f"__go_regexp_{len(_ORIGINALS)}__"
        _ORIGINALS[regex], _PLACEHOLDERS[placeholder] = placeholder, regex

    def replace(match: re.Match) -> str:
        literal = match[3]
        value = literal[1:-1] if literal[0] == "`" else _unquoted(literal)
        return f'{match[1]}{match[2]}"{_ORIGINALS[regex]}"' if value == regex else match[0]

    return _REGEX_LITERAL.sub(replace, expr)


def _text_regex_valid(match: re.Match) -> bool:
    """Whether a regex matcher's string found in the text compiles as Go compiles it; False when unsure (a
    string it cannot unquote), for the tree to decide."""
    literal = match[3]
    value = literal[1:-1] if literal[0] == "`" else _unquoted(literal)
    return value is not None and go_regexp_error(value, PROMQL_MATCHER) is None


def _unquoted(literal: str) -> str | None:
    if "\\" not in literal and "\n" not in literal:  # no escape: the text between the quotes, in Go as in Python
        return literal[1:-1]
    try:
        return ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return None


def promql_error(expr: str) -> str | None:
    """The parser's message for an invalid PromQL expression, or what the stack's Prometheus refuses in it
    although the parser accepts it (a feature it does not enable, disabled_feature; a regex Go's RE2 refuses,
    regex_error); None if none of these."""
    try:
        parse_promql(expr)
    except (ValueError, TypeError) as error:
        return str(error)
    return disabled_feature(expr) or regex_error(expr)


@functools.lru_cache(maxsize=65536)
def regex_error(expr: str) -> str | None:
    """Prometheus' complaint about the first regex matcher it cannot compile (Go's RE2: no lookaround, repeat
    counts up to 1000), which the Rust parser's regex engine may accept."""
    if all(_text_regex_valid(m) for m in _REGEX_LITERAL.finditer(expr)):  # the usual case, without a walk
        return None
    for selector in expression_facts(expr).selectors:  # the tree says which are matchers, and of what label
        for label, op, value in selector.matchers:
            if op in ("Re", "NotRe") and (error := go_regexp_error(value, PROMQL_MATCHER)):
                return f"invalid regular expression in {label}{'=~' if op == 'Re' else '!~'}{value!r}: {error}"
    return None


# What Prometheus 3.16 (module github.com/prometheus/prometheus v0.316.0) refuses when it parses a query unless a
# feature flag enables it, which the stack's command line (stacks/render/prometheus.py, prometheus_command) sets
# none of, and which the Rust parser accepts. From the Go module's promql/parser sources:
# - functions.go, the functions marked `Experimental: true`: generated_parser.y (function_call) refuses them with
#   `function "NAME" is not enabled` unless --enable-feature=promql-experimental-functions;
EXPERIMENTAL_FUNCTIONS = frozenset(
    {
        "double_exponential_smoothing",
        "end",
        "histogram_quantiles",
        "info",
        "integral",
        "mad_over_time",
        "max_of",
        "min_of",
        "range",
        "sort_by_label",
        "sort_by_label_desc",
        "start",
        "start_timestamp",
        "step",
        "ts_of_first_over_time",
        "ts_of_last_over_time",
        "ts_of_max_over_time",
        "ts_of_min_over_time",
    }
)
# - lex.go, IsExperimentalAggregator: the aggregations parse.go (newAggregateExpr) refuses under the same flag;
EXPERIMENTAL_AGGREGATIONS = frozenset({"limitk", "limit_ratio"})
# - parse.go (newBinaryExpression): the fill, fill_left and fill_right modifiers of a binary operator, unless
#   --enable-feature=promql-binop-fill-modifiers.
# Not refused, so not here: duration expressions (`up[step()]`, `[5m+1m]`) and the anchored / smoothed modifiers
# are permanently enabled in 3.16 (their flags are no-ops in cmd/prometheus/main.go), and the @ modifier and
# negative offsets need no flag. The Rust parser refuses duration expressions and anchored / smoothed (a false
# alarm at preview, never a miss) and, like Prometheus, unquoted UTF-8 names (promql-unquoted-utf8-names).
# A regex Go's RE2 refuses and the Rust parser accepts (a repeat count over 1000, nested repeats such as
# `(a{30}){40}`) is refused by regex_error, with RE2 itself (stacks/syntax/go_regexp.py).
# A token that may name one of them, anywhere in the text (a string too): where there is none, the tree has none.
_FEATURE_WORD = re.compile(
    r"(?<![A-Za-z0-9_:])(?:"
    + "|".join(sorted(EXPERIMENTAL_FUNCTIONS | EXPERIMENTAL_AGGREGATIONS | {"fill", "fill_left", "fill_right"}))
    + r")(?![A-Za-z0-9_:])",
    re.IGNORECASE,
)
EXPERIMENTAL_FUNCTIONS_FLAG = "--enable-feature=promql-experimental-functions"
FILL_MODIFIERS_FLAG = "--enable-feature=promql-binop-fill-modifiers"


@functools.lru_cache(maxsize=65536)
def disabled_feature(expr: str) -> str | None:
    """Prometheus' message for the first feature of a parsed expression that the stack's Prometheus does not
    enable (in the order Go's parser meets them: a node's arguments before the node), or None. Read from the
    syntax tree, so a name in a string or a label value is never taken for a call."""
    if not _FEATURE_WORD.search(expr):  # the usual case: no token that could name one, so no walk
        return None
    problems: list[str] = []

    def visit(node):
        if isinstance(node, promql_parser.Call) and node.func.name in EXPERIMENTAL_FUNCTIONS:
            problems.append(
                f'function "{node.func.name}" is not enabled '
                f"(experimental: Prometheus needs {EXPERIMENTAL_FUNCTIONS_FLAG}, which the stack does not set)"
            )
        elif isinstance(node, promql_parser.AggregateExpr) and str(node.op) in EXPERIMENTAL_AGGREGATIONS:
            problems.append(f"{node.op}() is experimental and must be enabled with {EXPERIMENTAL_FUNCTIONS_FLAG}")
        elif isinstance(node, promql_parser.BinaryExpr) and node.modifier is not None:
            fill = node.modifier.fill_values
            if fill is not None and (fill.lhs is not None or fill.rhs is not None):
                problems.append(
                    "binop fill modifiers are experimental and not enabled "
                    f"(Prometheus needs {FILL_MODIFIERS_FLAG}, which the stack does not set)"
                )
        return len(problems) == 0  # False stops the walk at the first

    promql_parser.walk(parse_promql(expr), None, visit)
    return problems[0] if problems else None


# A label name as Prometheus accepts it (a full match); names starting with __ are Prometheus' own.
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class Selector:
    """A series selector, its matchers decoded once (reading them from the parser's tree is not free)."""

    name: str
    """The metric name: written before the braces, or as `{"name", ...}` or `{__name__="name"}`; "" when the
    selector names none (`{__name__=~"pg_.*"}`, `count({job="x"})`)."""
    matchers: tuple[tuple[str, str, str], ...]
    """(label, operator, value); the operator as promql_parser names it: Equal, NotEqual, Re or NotRe."""
    node: promql_parser.VectorSelector = field(compare=False)

    @classmethod
    def of(cls, node: promql_parser.VectorSelector) -> Selector:
        matchers = tuple((m.name, str(m.op).rpartition(".")[2], m.value) for m in node.matchers.matchers)
        if _PLACEHOLDERS:  # a regex only Go takes was parsed in disguise (parse_promql): read the original
            matchers = tuple((name, op, _PLACEHOLDERS.get(value, value)) for name, op, value in matchers)
        name = node.name or next((v for label, op, v in matchers if label == "__name__" and op == "Equal"), "")
        return cls(name, matchers, node)

    def on(self, label: str) -> tuple[tuple[str, str], ...]:
        """(operator, value) of its matchers on one label."""
        return tuple((op, value) for name, op, value in self.matchers if name == label)

    def __str__(self) -> str:
        return str(self.node.prettify())


@dataclass(frozen=True)
class Facts:
    """What the content checks read from one expression, gathered in one walk of its tree."""

    selectors: tuple[Selector, ...]
    """Every series selector, those inside range vectors and subqueries included."""
    absent: tuple[Selector, ...]
    """The selectors absent() tests."""
    quantile_comparisons: tuple[tuple[str, promql_parser.Call, float], ...]
    """(operator, histogram_quantile call, number) of each comparison of a quantile with a number, written
    with the quantile on the left."""


@functools.lru_cache(maxsize=65536)
def expression_facts(expr: str) -> Facts:
    """The facts of an expression (ValueError or TypeError when it is not PromQL), once however many checks
    and rules read it."""
    selectors, absent, comparisons = [], [], []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            selectors.append(Selector.of(node))
        elif isinstance(node, promql_parser.Call) and node.func.name == "absent":
            absent.extend(Selector.of(a) for a in node.args if isinstance(a, promql_parser.VectorSelector))
        elif isinstance(node, promql_parser.BinaryExpr) and str(node.op) in _FLIPPED:
            lhs, rhs = _unwrapped(node.lhs), _unwrapped(node.rhs)
            if isinstance(rhs, promql_parser.NumberLiteral) and _is_quantile(lhs):
                comparisons.append((str(node.op), lhs, rhs.val))
            elif isinstance(lhs, promql_parser.NumberLiteral) and _is_quantile(rhs):
                comparisons.append((_FLIPPED[str(node.op)], rhs, lhs.val))

    promql_parser.walk(parse_promql(expr), visit)
    return Facts(tuple(selectors), tuple(absent), tuple(comparisons))


def _unwrapped(node):
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    return node


def _is_quantile(node) -> bool:
    return isinstance(node, promql_parser.Call) and node.func.name == "histogram_quantile"


def metric_name(node: promql_parser.VectorSelector) -> str:
    """A selector's metric name however it is written (see Selector.name), or ""."""
    return Selector.of(node).name


def vector_selectors(tree: promql_parser.Expr) -> list[promql_parser.VectorSelector]:
    """Every series selector of an expression, those inside range vectors and subqueries included."""
    selectors = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            selectors.append(node)

    promql_parser.walk(tree, visit)
    return selectors


def expression_labels(expr: str) -> set[str]:
    """Label names a PromQL expression mentions (matchers, by/without/on/ignoring): those it may keep."""
    names = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"", expr))
    for group in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        names |= {n.strip() for n in group.split(",") if n.strip()}
    return names


def go_float(value: float) -> str:
    """A float as Go's strconv.FormatFloat(value, 'g', -1, 64) writes it, as client libraries expose a bucket's
    `le`: 1, 0.005, 1e+06."""
    if value == 0:
        return "0"
    digits = Decimal(repr(float(value))).normalize()
    sign, numerals, exponent = digits.as_tuple()
    point = len(numerals) + exponent - 1  # the decimal exponent of the first digit
    if point < -4 or point >= 6:  # Go: with the shortest precision, %e from an exponent of 6
        mantissa = str(numerals[0]) + ("." + "".join(map(str, numerals[1:])) if len(numerals) > 1 else "")
        return f"{'-' if sign else ''}{mantissa}e{'-' if point < 0 else '+'}{abs(point):02d}"
    return f"{digits:f}"


def bucket_label(value: float) -> str:
    """A bucket boundary as Prometheus 3 stores the `le` label of a scraped classic histogram (it normalises
    them: le="1" is ingested as le="1.0"): what a selector must compare with."""
    text = go_float(value)
    return text if "." in text or "e" in text or "Inf" in text else f"{text}.0"


def lookback_seconds(expr: str) -> float:
    """How far back an expression reads, in seconds: its longest range plus offset, nested subqueries added up
    (ValueError or TypeError when it is not PromQL). An instant selector reads only its offset back here; the
    5-minute lookback delta of Prometheus is left out."""
    return _lookback(parse_promql(expr))


def _lookback(node) -> float:
    if isinstance(node, promql_parser.VectorSelector):
        return _seconds(node.offset)
    if isinstance(node, promql_parser.MatrixSelector):
        return _seconds(node.range) + _seconds(node.vector_selector.offset)
    if isinstance(node, promql_parser.SubqueryExpr):
        return _seconds(node.range) + _seconds(node.offset) + _lookback(node.expr)
    if isinstance(node, promql_parser.BinaryExpr):
        return max(_lookback(node.lhs), _lookback(node.rhs))
    if isinstance(node, promql_parser.Call):
        return max((_lookback(arg) for arg in node.args), default=0.0)
    if isinstance(node, promql_parser.AggregateExpr):
        return max(_lookback(node.expr), _lookback(node.param) if node.param is not None else 0.0)
    if isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return _lookback(node.expr)
    return 0.0  # a number or a string


def _seconds(delta) -> float:
    return abs(delta.total_seconds()) if delta is not None else 0.0
