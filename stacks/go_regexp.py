"""Regular expressions as the servers compile them: Go's regexp (RE2 syntax), through Google's RE2 (google-re2).

Prometheus compiles a PromQL matcher's value as `^(?s:<value>)$` (model/labels/regexp.go, NewFastRegexMatcher),
Alertmanager a route's or an inhibit rule's as `^(?:<value>)$` (pkg/labels/matcher.go). Python's `re` accepts
what Go refuses (lookaround, a repeat count over 1000, `(a{30}){40}`), so preview checks them with RE2, which has
Go's syntax and limits. The one difference known between the two: C++ RE2 takes `\\C` (any byte), Go does not.
tests/test_rule_parity.py holds both to the real promtool.
"""

from __future__ import annotations

import functools

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr, in the middle of a preview
_OPTIONS.dot_nl = False


@functools.lru_cache(maxsize=4096)
def go_regexp_error(pattern: str, dot_matches_newline: bool = False) -> str | None:
    """Why Go's regexp refuses the pattern, or None. `dot_matches_newline`: Prometheus' `(?s:...)`."""
    if _has_any_byte(pattern):
        return r"invalid escape sequence: \C"
    wrapped = f"^(?s:{pattern})$" if dot_matches_newline else f"^(?:{pattern})$"
    try:
        re2.compile(wrapped, _OPTIONS)
    except re2.error as error:
        message = error.args[0] if error.args else str(error)
        return message.decode() if isinstance(message, bytes) else str(message)
    return None


def compile_go_regexp(pattern: str):
    """The pattern anchored as Alertmanager anchors a matcher, for matching label values at preview."""
    return re2.compile(f"^(?:{pattern})$", _OPTIONS)


def _has_any_byte(pattern: str) -> bool:
    r"""`\C` outside a character class, counting the backslashes before it."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            if pattern[i + 1] == "C":
                return True
            i += 2
            continue
        i += 1
    return False
