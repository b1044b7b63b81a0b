"""Regular expressions as the servers compile them: Go's regexp (RE2 syntax), through Google's RE2 (google-re2).

Prometheus compiles a PromQL matcher's value as `^(?s:<value>)$` (model/labels/regexp.go, NewFastRegexMatcher),
Alertmanager a route's or an inhibit rule's as `^(?:<value>)$` (pkg/labels/matcher.go). Python's `re` accepts
what Go refuses (lookaround, a repeat count over 1000, `(a{30}){40}`), so preview checks them with RE2, which has
Go's syntax and limits. The one difference known between the two: C++ RE2 takes `\\C` (any byte), Go does not.
tests/tools/test_rule_parity.py holds both to the real promtool.
"""

from __future__ import annotations

import functools

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr, in the middle of a preview
_DOT_NL = re2.Options()
_DOT_NL.log_errors, _DOT_NL.dot_nl = False, True

# How each server compiles a value: a format the value is put in, or None for a PromQL matcher, whose value
# Prometheus parses alone (syntax.Perl|DotNL) and compiles as the tree it gets, anchored (model/labels/regexp.go).
PROMQL_MATCHER = None
RELABEL = "^(?s:{})$"  # Prometheus' relabel configs (model/relabel/relabel.go, NewRegexp)
ALERTMANAGER = "^(?:{})$"  # Alertmanager's matchers (pkg/labels/matcher.go)


@functools.lru_cache(maxsize=4096)
def go_regexp_error(pattern: str, wrapping: str | None = ALERTMANAGER) -> str | None:
    """Why Go's regexp refuses the pattern as the server compiles it (`wrapping`), or None. Wrapped, an
    unterminated `\\Q` swallows the closing parenthesis; alone, it does not."""
    if _has_any_byte(pattern):
        return r"error parsing regexp: invalid escape sequence: `\C`"
    try:
        if wrapping is None:
            re2.compile(pattern, _DOT_NL)
        else:
            re2.compile(wrapping.format(pattern), _OPTIONS)
    except re2.error as error:
        message = error.args[0] if error.args else str(error)
        return _in_gos_words(message.decode() if isinstance(message, bytes) else str(message))
    return None


# RE2's error strings (re2/regexp.cc, kErrorStrings) and Go's for the same error (regexp/syntax/parse.go, ErrorCode).
_GO_ERRORS = {
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class range": "invalid character class range",
    "invalid character class": "invalid character class",
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "unexpected )": "unexpected )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid UTF-8": "invalid UTF-8",
    "invalid named capture group": "invalid named capture",
    "pattern too large": "expression too large",
}


def _in_gos_words(message: str) -> str:
    """RE2's message as Go's regexp words it: `error parsing regexp: <code>: `<fragment>``."""
    for ours, gos in _GO_ERRORS.items():
        if message.startswith(ours):
            fragment = message[len(ours) :].removeprefix(":").strip()
            if gos == "expression too large" or not fragment:
                return f"error parsing regexp: {gos}"
            return f"error parsing regexp: {gos}: `{fragment}`"
    return f"error parsing regexp: {message}"


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
