"""The literals of a template as Go reads them: numbers and character constants (node.go's newNumber, with
strconv and fmt), quoted strings (strconv.UnquoteChar), and Go's quoting of text in its messages (%q, %#U)."""

from __future__ import annotations

import math
import re


def char_constant_error(text: str) -> str | None:
    """What newNumber says of a character constant ('a', quotes included) Go's strconv cannot read."""
    if (char := unquote_char(text[1:], "'")) is None:
        return "invalid syntax"
    return None if char[1] == "'" else f"malformed character constant: {text}"


def number_error(text: str) -> str | None:
    """What newNumber says of an integer, float or imaginary number Go's strconv cannot read."""
    if text.endswith("i") and _float_error(text[:-1]) is None:  # imaginary
        return None
    if _int_ok(text):
        return None
    if _float_error(text) is None:
        return None if any(c in text for c in ".eEpP") else f"integer overflow: {go_quote(text)}"
    return f"illegal number syntax: {go_quote(text)}"


def _int_ok(text: str) -> bool:
    """Whether strconv.ParseInt(text, 0, 64) or, without a sign, ParseUint(text, 0, 64) reads it."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if len(digits) >= 3 and digits[0] == "0" and digits[1] in "bBoOxX":
        base, body = {"b": 2, "o": 8, "x": 16}[digits[1].lower()], digits[2:]
    elif digits.startswith("0"):
        base, body = 8, digits[1:]
    else:
        base, body = 10, digits
    if not digits or not all(c == "_" or c.isascii() and c.isalnum() and int(c, 36) < base for c in body):
        return False
    if "_" in body and not _underscores_ok(digits):
        return False
    value = int(body.replace("_", "") or "0", base)
    if text.startswith("-"):
        return value <= 1 << 63
    return value < (1 << 63 if text.startswith("+") else 1 << 64)


def _underscores_ok(s: str) -> bool:
    """strconv's underscoreOK: an underscore only between digits, or between a base prefix and a digit."""
    if s[:1] in ("+", "-"):
        s = s[1:]
    saw, i, hexadecimal = "^", 0, False  # ^ the start, 0 a digit or base prefix, _ an underscore, ! anything else
    if len(s) >= 2 and s[0] == "0" and s[1] in "bBoOxX":
        saw, i, hexadecimal = "0", 2, s[1] in "xX"
    for c in s[i:]:
        if "0" <= c <= "9" or hexadecimal and c in "abcdefABCDEF":
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
    return saw != "_"


# strconv.ParseFloat's syntax (readFloat) for what the lexer scans: a hexadecimal mantissa needs a p exponent.
_FLOAT = re.compile(
    r"[+-]?(?:0[xX](?P<hex>[0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?)[pP][+-]?[0-9][0-9_]*"
    r"|(?P<decimal>[0-9_]*(?:\.[0-9_]*)?)(?:[eE][+-]?[0-9][0-9_]*)?)"
)


def _float_error(text: str) -> str | None:
    """strconv.ParseFloat(text, 64)'s error, None when it reads the text."""
    match = _FLOAT.fullmatch(text)
    mantissa = match and (match["hex"] if match["hex"] is not None else match["decimal"])
    if not mantissa or not any(c not in "._" for c in mantissa) or "_" in text and not _underscores_ok(text):
        return "invalid syntax"
    digits = text.replace("_", "")
    try:
        value = float.fromhex(digits) if match["hex"] is not None else float(digits)
    except OverflowError:
        return "value out of range"
    return "value out of range" if math.isinf(value) else None


# fmt.Sscan's floatToken, which splits a complex constant into its parts; its look for "Inf" takes an i after
# the sign. The lexer never scans a decimal number with a p exponent, so fmt's own reading of one is left out.
_FLOAT_TOKEN = re.compile(
    r"[+-]?[iI]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]*)?"
    r"|[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]*)?)"
)


def complex_error(text: str) -> str | None:
    """What newNumber says of a complex constant the lexer scanned (1+2i) that fmt.Sscan cannot read: a real part,
    a sign, an imaginary part, i."""
    real = _FLOAT_TOKEN.match(text)
    imaginary = _FLOAT_TOKEN.match(text, real.end() + 1)
    if text[real.end() : real.end() + 1] not in ("+", "-") or text[imaginary.end() :][:1] != "i":
        return "syntax error scanning complex number"
    for part in (real[0], text[real.end()] + imaginary[0]):
        if error := _float_error(part):
            return f"strconv.ParseFloat: parsing {go_quote(part)}: {error}"
    return None


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def unquote_char(s: str, quote: str) -> tuple[bytes, str] | None:
    """strconv.UnquoteChar: the first character of s, written as itself or as an escape sequence, in UTF-8 (a \\x
    escape is one byte), and what follows it; None if s does not start with one."""
    if not s or s[0] == quote:
        return None
    if s[0] != "\\":
        return s[0].encode(errors="surrogatepass"), s[1:]
    c, s = s[1:2], s[2:]
    if c in _ESCAPES or c in ("'", '"') and c == quote:
        return _ESCAPES.get(c, c).encode(), s
    if c in ("x", "u", "U"):
        n = {"x": 2, "u": 4, "U": 8}[c]
        if len(s) < n or any(d not in "0123456789abcdefABCDEF" for d in s[:n]):
            return None
        value = int(s[:n], 16)
        if c == "x":
            return bytes([value]), s[n:]
        if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
            return None
        return chr(value).encode(), s[n:]
    if c and c in "01234567":
        if len(s) < 2 or any(d not in "01234567" for d in s[:2]) or int(c + s[:2], 8) > 255:
            return None
        return bytes([int(c + s[:2], 8)]), s[2:]
    return None


def go_quote(s: str) -> str:
    """Go's %q (strconv.Quote)."""
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        elif c in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(c)])
        elif c < " " or c == "\x7f":
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) < 0x10000:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


def go_unicode(r: str) -> str:
    """Go's %#U: U+0041 'A'."""
    return f"U+{ord(r):04X}" + (f" '{r}'" if r.isprintable() else "")
