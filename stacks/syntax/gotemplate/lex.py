"""lex.go of Go 1.26's text/template/parse: the lexer that cuts a template into the items the parser reads."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from enum import IntEnum
from typing import NamedTuple

from stacks.syntax.gotemplate.literals import go_quote, go_unicode


class ItemType(IntEnum):
    """itemType, in Go's order: the keywords come after KEYWORD."""

    ERROR = 0
    BOOL = 1
    CHAR = 2
    CHAR_CONSTANT = 3
    COMPLEX = 4
    ASSIGN = 5
    DECLARE = 6
    EOF = 7
    FIELD = 8
    IDENTIFIER = 9
    LEFT_DELIM = 10
    LEFT_PAREN = 11
    NUMBER = 12
    PIPE = 13
    RAW_STRING = 14
    RIGHT_DELIM = 15
    RIGHT_PAREN = 16
    SPACE = 17
    STRING = 18
    TEXT = 19
    VARIABLE = 20
    KEYWORD = 21
    BLOCK = 22
    BREAK = 23
    CONTINUE = 24
    DOT = 25
    DEFINE = 26
    ELSE = 27
    END = 28
    IF = 29
    NIL = 30
    RANGE = 31
    TEMPLATE = 32
    WITH = 33


# lex.go's key map, its words only ("." is lexed on its own).
KEYWORDS = {item.name.lower(): item for item in ItemType if item > ItemType.KEYWORD and item is not ItemType.DOT}


class Item(NamedTuple):
    typ: ItemType
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ is ItemType.EOF:
            return "EOF"
        if self.typ is ItemType.ERROR:
            return self.val
        if self.typ > ItemType.KEYWORD:
            return f"<{self.val}>"
        if len(self.val.encode(errors="surrogatepass")) > 10:  # Go's %.10q: over 10 bytes, the first 10 characters
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


_LEFT, _RIGHT = "{{", "}}"
_SPACES = " \t\r\n"
_DECIMAL, _OCTAL, _BINARY, _HEX = "0123456789_", "01234567_", "01_", "0123456789abcdefABCDEF_"

_State = Callable[[], "_State | None"]


class Lexer:
    """lex.go's lexer: states that return the next state, None when an item is ready."""

    def __init__(self, text: str, functions: frozenset[str]):
        self.input = text
        self.pos = self.start = 0
        self.at_eof = False
        self.paren_depth = 0
        self.line = self.start_line = 1
        self.inside_action = False
        self.functions = functions
        self.item = Item(ItemType.EOF, "EOF", 1)

    def next_item(self) -> Item:
        self.item = Item(ItemType.EOF, "EOF", self.start_line)
        state: _State | None = self.lex_inside_action if self.inside_action else self.lex_text
        while state is not None:
            state = state()
        return self.item

    def next(self) -> str | None:
        if self.pos >= len(self.input):
            self.at_eof = True
            return None
        r = self.input[self.pos]
        self.pos += 1
        if r == "\n":
            self.line += 1
        return r

    def peek(self) -> str | None:
        r = self.next()
        self.backup()
        return r

    def backup(self) -> None:
        if not self.at_eof and self.pos > 0:
            self.pos -= 1
            if self.input[self.pos] == "\n":
                self.line -= 1

    def this_item(self, typ: ItemType) -> Item:
        item = Item(typ, self.input[self.start : self.pos], self.start_line)
        self.start, self.start_line = self.pos, self.line
        return item

    def emit(self, typ: ItemType) -> None:
        self.item = self.this_item(typ)

    def emit_item(self, item: Item) -> None:
        self.item = item

    def ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start, self.start_line = self.pos, self.line

    def accept(self, valid: str) -> bool:
        r = self.next()
        if r is not None and r in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while self.accept(valid):
            pass

    def errorf(self, message: str) -> None:
        self.item = Item(ItemType.ERROR, message, self.start_line)
        self.start = self.pos = 0
        self.input = ""

    def lex_text(self) -> _State | None:
        x = self.input.find(_LEFT, self.pos)
        if x >= 0:
            if x > self.pos:
                self.pos = x
                trim = 0
                if _has_left_trim_marker(self.input[x + len(_LEFT) : x + len(_LEFT) + 2]):
                    trim = _right_trim_length(self.input[self.start : self.pos])
                self.pos -= trim
                self.line += self.input.count("\n", self.start, self.pos)
                item = self.this_item(ItemType.TEXT)
                self.pos += trim
                self.ignore()
                if item.val:
                    return self.emit_item(item)
            return self.lex_left_delim
        self.pos = len(self.input)
        if self.pos > self.start:
            self.line += self.input.count("\n", self.start, self.pos)
            return self.emit(ItemType.TEXT)
        return self.emit(ItemType.EOF)

    def at_right_delim(self) -> tuple[bool, bool]:
        """(at a right delimiter, it has a trim marker)"""
        if self.trim_marked_right_delim_at(self.pos):
            return True, True
        return self.input.startswith(_RIGHT, self.pos), False

    def trim_marked_right_delim_at(self, pos: int) -> bool:
        """Whether " -}}" (or another space before the -) starts at pos."""
        return _has_right_trim_marker(self.input[pos : pos + 2]) and self.input.startswith(_RIGHT, pos + 2)

    def lex_left_delim(self) -> _State | None:
        self.pos += len(_LEFT)
        after_marker = 2 if _has_left_trim_marker(self.input[self.pos : self.pos + 2]) else 0
        if self.input.startswith("/*", self.pos + after_marker):
            self.pos += after_marker
            self.ignore()
            return self.lex_comment
        item = self.this_item(ItemType.LEFT_DELIM)
        self.inside_action = True
        self.pos += after_marker
        self.ignore()
        self.paren_depth = 0
        return self.emit_item(item)

    def lex_comment(self) -> _State | None:
        """A comment is skipped: the parser never sees it."""
        self.pos += len("/*")
        x = self.input.find("*/", self.pos)
        if x < 0:
            return self.errorf("unclosed comment")
        self.pos = x + len("*/")
        delim, trim_space = self.at_right_delim()
        if not delim:
            return self.errorf("comment ends before closing delimiter")
        self.pos += len(_RIGHT) + (2 if trim_space else 0)
        if trim_space:
            self.pos += _left_trim_length(self.input[self.pos :])
        self.ignore()
        return self.lex_text

    def lex_right_delim(self) -> _State | None:
        _, trim_space = self.at_right_delim()
        if trim_space:
            self.pos += 2
            self.ignore()
        self.pos += len(_RIGHT)
        item = self.this_item(ItemType.RIGHT_DELIM)
        if trim_space:
            self.pos += _left_trim_length(self.input[self.pos :])
            self.ignore()
        self.inside_action = False
        return self.emit_item(item)

    def lex_inside_action(self) -> _State | None:
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            return self.errorf("unclosed left paren")
        r = self.next()
        if r is None:
            return self.errorf("unclosed action")
        if r in _SPACES:
            self.backup()  # put the space back in case we have " -}}"
            return self.lex_space
        if r == "=":
            return self.emit(ItemType.ASSIGN)
        if r == ":":
            if self.next() != "=":
                return self.errorf("expected :=")
            return self.emit(ItemType.DECLARE)
        if r == "|":
            return self.emit(ItemType.PIPE)
        if r == '"':
            return self.lex_quote
        if r == "`":
            return self.lex_raw_quote
        if r == "$":
            return self.lex_field_or_variable(ItemType.VARIABLE)
        if r == "'":
            return self.lex_char
        if r == "." and self.pos < len(self.input) and not "0" <= self.input[self.pos] <= "9":
            return self.lex_field_or_variable(ItemType.FIELD)
        if r in "+-.0123456789":  # a "." before a digit or at the end starts a number
            self.backup()
            return self.lex_number
        if _is_alphanumeric(r):
            self.backup()
            return self.lex_identifier
        if r == "(":
            self.paren_depth += 1
            return self.emit(ItemType.LEFT_PAREN)
        if r == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                return self.errorf("unexpected right paren")
            return self.emit(ItemType.RIGHT_PAREN)
        if r <= "\x7f" and r.isprintable():
            return self.emit(ItemType.CHAR)
        return self.errorf(f"unrecognized character in action: {go_unicode(r)}")

    def lex_space(self) -> _State | None:
        spaces = 0
        while (r := self.peek()) is not None and r in _SPACES:
            self.next()
            spaces += 1
        # A trim-marked right delimiter starts with a space: leave it to lex_right_delim.
        if self.trim_marked_right_delim_at(self.pos - 1):
            self.backup()
            if spaces == 1:
                return self.lex_right_delim
        return self.emit(ItemType.SPACE)

    def lex_identifier(self) -> _State | None:
        while (r := self.next()) is not None and _is_alphanumeric(r):
            pass
        self.backup()
        word = self.input[self.start : self.pos]
        if not self.at_terminator():
            return self.errorf(f"bad character {go_unicode(r)}")
        keyword = KEYWORDS.get(word)
        # break and continue are keywords unless the template has functions of those names
        if keyword is None or keyword in (ItemType.BREAK, ItemType.CONTINUE) and word in self.functions:
            return self.emit(ItemType.BOOL if word in ("true", "false") else ItemType.IDENTIFIER)
        return self.emit(keyword)

    def lex_field_or_variable(self, typ: ItemType) -> _State | None:
        """`.Field` or `$variable`; the `.` or `$` is scanned. Alone, `.` is the dot and `$` a variable."""
        if self.at_terminator():
            return self.emit(ItemType.DOT if typ is ItemType.FIELD else ItemType.VARIABLE)
        while (r := self.next()) is not None and _is_alphanumeric(r):
            pass
        self.backup()
        if not self.at_terminator():
            return self.errorf(f"bad character {go_unicode(r)}")
        return self.emit(typ)

    def at_terminator(self) -> bool:
        """What may follow an identifier: space, end, `.,|:()`, or the right delimiter."""
        r = self.peek()
        return r is None or r in _SPACES or r in ".,|:)(" or self.input.startswith(_RIGHT, self.pos)

    def lex_char(self) -> _State | None:
        """A character constant; the parser reads what it means. The opening quote is scanned."""
        while (r := self.next()) != "'":
            if r == "\\":
                r = self.next()
            if r is None or r == "\n":
                return self.errorf("unterminated character constant")
        return self.emit(ItemType.CHAR_CONSTANT)

    def lex_number(self) -> _State | None:
        """A number is scanned loosely ("089", "0x0.2"); the parser refuses what Go's strconv does not read."""
        if not self.scan_number():
            return self.errorf(f"bad number syntax: {go_quote(self.input[self.start : self.pos])}")
        if self.peek() in ("+", "-"):  # complex: 1+2i, no spaces, ends in i
            if not self.scan_number() or self.input[self.pos - 1] != "i":
                return self.errorf(f"bad number syntax: {go_quote(self.input[self.start : self.pos])}")
            return self.emit(ItemType.COMPLEX)
        return self.emit(ItemType.NUMBER)

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = _DECIMAL
        if self.accept("0"):
            if self.accept("xX"):
                digits = _HEX
            elif self.accept("oO"):
                digits = _OCTAL
            elif self.accept("bB"):
                digits = _BINARY
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if digits is _DECIMAL and self.accept("eE") or digits is _HEX and self.accept("pP"):
            self.accept("+-")
            self.accept_run(_DECIMAL)
        self.accept("i")
        if (r := self.peek()) is not None and _is_alphanumeric(r):
            self.next()
            return False
        return True

    def lex_quote(self) -> _State | None:
        while (r := self.next()) != '"':
            if r == "\\":
                r = self.next()
            if r is None or r == "\n":
                return self.errorf("unterminated quoted string")
        return self.emit(ItemType.STRING)

    def lex_raw_quote(self) -> _State | None:
        while (r := self.next()) != "`":
            if r is None:
                return self.errorf("unterminated raw quoted string")
        return self.emit(ItemType.RAW_STRING)


def _is_alphanumeric(r: str) -> bool:
    """Go's isAlphaNumeric: _, a Unicode letter or a decimal digit."""
    category = unicodedata.category(r)
    return r == "_" or category[0] == "L" or category == "Nd"


def _has_left_trim_marker(s: str) -> bool:
    return len(s) >= 2 and s[0] == "-" and s[1] in _SPACES


def _has_right_trim_marker(s: str) -> bool:
    return len(s) >= 2 and s[0] in _SPACES and s[1] == "-"


def _right_trim_length(s: str) -> int:
    return len(s) - len(s.rstrip(_SPACES))


def _left_trim_length(s: str) -> int:
    return len(s) - len(s.lstrip(_SPACES))
