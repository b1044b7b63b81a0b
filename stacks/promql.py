"""PromQL syntax checks, in process (the Rust parser behind promql-parser), so preview stops on a bad query."""

from __future__ import annotations

import promql_parser


def promql_error(expr: str) -> str | None:
    """The parser's message for an invalid PromQL expression, or None."""
    try:
        promql_parser.parse(expr)
    except (ValueError, TypeError) as error:
        return str(error)
    return None
