"""PromQL syntax checks, in process (the Rust parser behind promql-parser), so preview stops on a bad query."""

from __future__ import annotations

import functools
import re

import promql_parser


@functools.lru_cache(maxsize=65536)
def parse_promql(expr: str) -> promql_parser.Expr:
    """The expression's syntax tree (ValueError or TypeError when it is not PromQL); parsed once for every
    check that reads it."""
    return promql_parser.parse(expr)


def promql_error(expr: str) -> str | None:
    """The parser's message for an invalid PromQL expression, or None."""
    try:
        parse_promql(expr)
    except (ValueError, TypeError) as error:
        return str(error)
    return None


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
