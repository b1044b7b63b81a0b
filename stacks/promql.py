"""PromQL syntax checks, in process (the Rust parser behind promql-parser), so preview stops on a bad query."""

from __future__ import annotations

import re

import promql_parser


def promql_error(expr: str) -> str | None:
    """The parser's message for an invalid PromQL expression, or None."""
    try:
        promql_parser.parse(expr)
    except (ValueError, TypeError) as error:
        return str(error)
    return None


def expression_labels(expr: str) -> set[str]:
    """Label names a PromQL expression mentions (matchers, by/without/on/ignoring): those it may keep."""
    names = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"", expr))
    for group in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        names |= {n.strip() for n in group.split(",") if n.strip()}
    return names
