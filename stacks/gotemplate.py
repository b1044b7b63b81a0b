"""Does a Go text/template parse? Prometheus (alert labels and annotations) and Alertmanager (receiver fields)
parse their templates with Go's text/template; this is its parser, text/template/parse of Go 1.26 (lex.go,
parse.go, and the literals of node.go's newNumber), ported function by function so that a template is refused
exactly when Go refuses it, in the words Go uses.

Only what decides whether a template parses is kept: no tree is built. One thing is not checked: the server names
the template it parses (Prometheus `__alert_<alert name>`, Alertmanager `""`), and a `{{define}}` of that very
name is refused by Go as a second definition of the template; here the top-level template has no name.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from enum import IntEnum
from typing import NamedTuple, NoReturn

# text/template's builtins (Go's src/text/template/funcs.go, builtins()): every template has them.
GO_BUILTINS = frozenset(
    {"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery"}
    | {"eq", "ge", "gt", "le", "lt", "ne"}
)

# What a Prometheus alert template may call: the builtins and the functions of NewTemplateExpander
# (github.com/prometheus/prometheus@v0.316.0, the stack's Prometheus 3.16: template/template.go), which
# ParseTest hands to the parser when a rule file is loaded (model/rulefmt/rulefmt.go, testTemplateParsing).
PROMETHEUS_FUNCTIONS = GO_BUILTINS | {
    "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title",
    "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "stripPort", "stripDomain", "humanize",
    "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "toDuration", "now",
    "pathPrefix", "externalURL", "parseDuration", "urlQueryEscape",
}  # fmt: skip
# The variables Prometheus declares before an alert's label or annotation template (the `defs` of
# testTemplateParsing, and of rules/alerting.go when it expands them).
PROMETHEUS_VARIABLES = frozenset({"$labels", "$externalLabels", "$externalURL", "$value"})

# What an Alertmanager template may call: the builtins and DefaultFuncs (github.com/prometheus/alertmanager@v0.35.0,
# the stack's Alertmanager: template/template.go). Alertmanager adds no others (no sprig); its notifiers parse a
# receiver's templated fields with these when they send, and a config's webhook URL with the builtins alone when
# they load it (config/common/url.go, containsTemplating).
ALERTMANAGER_FUNCTIONS = GO_BUILTINS | {
    "toUpper", "toLower", "title", "trimSpace", "join", "match", "safeHtml", "safeUrl", "urlUnescape",
    "reReplaceAll", "stringSlice", "routeLabels", "date", "tz", "now", "since", "humanizeDuration", "toDate",
    "mustToDate", "addDuration", "toJson", "base64encode", "base64decode", "list", "append", "dict",
}  # fmt: skip


def template_error(text: str, functions: frozenset[str], variables: frozenset[str] = frozenset()) -> str | None:
    """None if Go's text/template parses `text` with these functions (and these variables declared before it, as
    Prometheus declares $labels and $value); else Go's message, after `line N: ` when the text has several."""
    try:
        _Tree(_Lexer(text, functions), functions, {}, variables).parse()
    except _SyntaxError as error:
        return f"line {error.line}: {error}" if "\n" in text else str(error)
    except RecursionError:  # Go nests parentheses 10000 deep, and controls without limit: Python's stack is shorter
        return "nested too deeply to check"
    return None


class _SyntaxError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


# ---------------------------------------------------------------- lex.go


class _T(IntEnum):
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


_KEYWORDS = {
    "block": _T.BLOCK,
    "break": _T.BREAK,
    "continue": _T.CONTINUE,
    "define": _T.DEFINE,
    "else": _T.ELSE,
    "end": _T.END,
    "if": _T.IF,
    "range": _T.RANGE,
    "nil": _T.NIL,
    "template": _T.TEMPLATE,
    "with": _T.WITH,
}


class _Item(NamedTuple):
    typ: _T
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ is _T.EOF:
            return "EOF"
        if self.typ is _T.ERROR:
            return self.val
        if self.typ > _T.KEYWORD:
            return f"<{self.val}>"
        if len(self.val.encode(errors="surrogatepass")) > 10:  # Go's %.10q: over 10 bytes, the first 10 characters
            return _go_quote(self.val[:10]) + "..."
        return _go_quote(self.val)


_LEFT, _RIGHT = "{{", "}}"
_SPACES = " \t\r\n"
_DECIMAL, _OCTAL, _BINARY, _HEX = "0123456789_", "01234567_", "01_", "0123456789abcdefABCDEF_"

_State = Callable[[], "_State | None"]


class _Lexer:
    """lex.go's lexer: states that return the next state, None when an item is ready."""

    def __init__(self, text: str, functions: frozenset[str]):
        self.input = text
        self.pos = self.start = 0
        self.at_eof = False
        self.paren_depth = 0
        self.line = self.start_line = 1
        self.inside_action = False
        self.functions = functions
        self.item = _Item(_T.EOF, "EOF", 1)

    def next_item(self) -> _Item:
        self.item = _Item(_T.EOF, "EOF", self.start_line)
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

    def this_item(self, typ: _T) -> _Item:
        item = _Item(typ, self.input[self.start : self.pos], self.start_line)
        self.start, self.start_line = self.pos, self.line
        return item

    def emit(self, typ: _T) -> None:
        self.item = self.this_item(typ)

    def emit_item(self, item: _Item) -> None:
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
        self.item = _Item(_T.ERROR, message, self.start_line)
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
                item = self.this_item(_T.TEXT)
                self.pos += trim
                self.ignore()
                if item.val:
                    return self.emit_item(item)
            return self.lex_left_delim
        self.pos = len(self.input)
        if self.pos > self.start:
            self.line += self.input.count("\n", self.start, self.pos)
            return self.emit(_T.TEXT)
        return self.emit(_T.EOF)

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
        item = self.this_item(_T.LEFT_DELIM)
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
        item = self.this_item(_T.RIGHT_DELIM)
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
            return self.emit(_T.ASSIGN)
        if r == ":":
            if self.next() != "=":
                return self.errorf("expected :=")
            return self.emit(_T.DECLARE)
        if r == "|":
            return self.emit(_T.PIPE)
        if r == '"':
            return self.lex_quote
        if r == "`":
            return self.lex_raw_quote
        if r == "$":
            return self.lex_field_or_variable(_T.VARIABLE)
        if r == "'":
            return self.lex_char
        if r == "." and self.pos < len(self.input) and not "0" <= self.input[self.pos] <= "9":
            return self.lex_field_or_variable(_T.FIELD)
        if r in "+-.0123456789":  # a "." before a digit or at the end starts a number
            self.backup()
            return self.lex_number
        if _is_alphanumeric(r):
            self.backup()
            return self.lex_identifier
        if r == "(":
            self.paren_depth += 1
            return self.emit(_T.LEFT_PAREN)
        if r == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                return self.errorf("unexpected right paren")
            return self.emit(_T.RIGHT_PAREN)
        if r <= "\x7f" and r.isprintable():
            return self.emit(_T.CHAR)
        return self.errorf(f"unrecognized character in action: {_go_unicode(r)}")

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
        return self.emit(_T.SPACE)

    def lex_identifier(self) -> _State | None:
        while (r := self.next()) is not None and _is_alphanumeric(r):
            pass
        self.backup()
        word = self.input[self.start : self.pos]
        if not self.at_terminator():
            return self.errorf(f"bad character {_go_unicode(r)}")
        keyword = _KEYWORDS.get(word)
        # break and continue are keywords unless the template has functions of those names
        if keyword is None or keyword in (_T.BREAK, _T.CONTINUE) and word in self.functions:
            return self.emit(_T.BOOL if word in ("true", "false") else _T.IDENTIFIER)
        return self.emit(keyword)

    def lex_field_or_variable(self, typ: _T) -> _State | None:
        """`.Field` or `$variable`; the `.` or `$` is scanned. Alone, `.` is the dot and `$` a variable."""
        if self.at_terminator():
            return self.emit(_T.DOT if typ is _T.FIELD else _T.VARIABLE)
        while (r := self.next()) is not None and _is_alphanumeric(r):
            pass
        self.backup()
        if not self.at_terminator():
            return self.errorf(f"bad character {_go_unicode(r)}")
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
        return self.emit(_T.CHAR_CONSTANT)

    def lex_number(self) -> _State | None:
        """A number is scanned loosely ("089", "0x0.2"); the parser refuses what Go's strconv does not read."""
        if not self.scan_number():
            return self.errorf(f"bad number syntax: {_go_quote(self.input[self.start : self.pos])}")
        if self.peek() in ("+", "-"):  # complex: 1+2i, no spaces, ends in i
            if not self.scan_number() or self.input[self.pos - 1] != "i":
                return self.errorf(f"bad number syntax: {_go_quote(self.input[self.start : self.pos])}")
            return self.emit(_T.COMPLEX)
        return self.emit(_T.NUMBER)

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
        return self.emit(_T.STRING)

    def lex_raw_quote(self) -> _State | None:
        while (r := self.next()) != "`":
            if r is None:
                return self.errorf("unterminated raw quoted string")
        return self.emit(_T.RAW_STRING)


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


# ---------------------------------------------------------------- parse.go


class _Node(NamedTuple):
    """What the parser reads of a node: its kind, and for a literal or {{end}}/{{else}} how Go prints it."""

    kind: str
    text: str = ""


_LITERALS = ("bool", "dot", "nil", "number", "string")  # operands that cannot start a later pipeline stage
_OPERAND_START = {
    _T.BOOL, _T.CHAR_CONSTANT, _T.COMPLEX, _T.DOT, _T.FIELD, _T.IDENTIFIER, _T.NUMBER, _T.NIL, _T.RAW_STRING,
    _T.STRING, _T.VARIABLE, _T.LEFT_PAREN,
}  # fmt: skip
# Unicode White_Space, which Go's bytes.TrimSpace trims when it tells an empty template from a defined one.
_WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


class _Tree:
    """One template being parsed: the top-level one, or one a {{define}} or {{block}} starts, on the same lexer."""

    def __init__(
        self,
        lexer: _Lexer,
        functions: frozenset[str],
        defined: dict[bytes, bool],
        variables: frozenset[str] = frozenset(),
    ):
        self.lex, self.functions = lexer, functions
        self.defined = defined  # name -> whether that template is empty (Go's treeSet)
        self.token: list[_Item] = [lexer.item] * 3  # three-token lookahead
        self.peek_count = 0
        self.vars = ["$", *sorted(variables)]
        self.action_line = 0
        self.range_depth = 0

    def next(self) -> _Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.lex.next_item()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: _Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: _Item, t1: _Item) -> None:
        self.token[1], self.token[2] = t1, t2
        self.peek_count = 3

    def peek(self) -> _Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.lex.next_item()
        return self.token[0]

    def next_non_space(self) -> _Item:
        while (token := self.next()).typ is _T.SPACE:
            pass
        return token

    def peek_non_space(self) -> _Item:
        token = self.next_non_space()
        self.backup()
        return token

    def errorf(self, message: str) -> NoReturn:
        raise _SyntaxError(self.token[0].line, message)

    def expect(self, expected: _T, context: str) -> _Item:
        token = self.next_non_space()
        if token.typ is not expected:
            self.unexpected(token, context)
        return token

    def unexpected(self, token: _Item, context: str) -> NoReturn:
        if token.typ is _T.ERROR:
            extra = ""
            if self.action_line not in (0, token.line):
                extra = f" in action started at line {self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra.removeprefix(" in action")
            self.errorf(f"{token}{extra}")
        self.errorf(f"unexpected {token} in {context}")

    def add(self, name: bytes, nodes: list[_Node]) -> None:
        """A template a {{define}} or {{block}} names: an empty one may be defined again, or define it again."""
        empty = all(node.kind == "text" and not node.text.strip(_WHITE_SPACE) for node in nodes)
        if self.defined.get(name, True):
            self.defined[name] = empty
        elif not empty:
            self.errorf(f"template: multiple definition of template {_go_quote(name.decode(errors='replace'))}")

    def parse(self) -> None:
        """The top-level template: textOrAction up to EOF, and {{define}}s."""
        while self.peek().typ is not _T.EOF:
            if self.peek().typ is _T.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ is _T.DEFINE:
                    _Tree(self.lex, self.functions, self.defined).parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if node.kind in ("end", "else"):
                self.errorf(f"unexpected {node.text}")

    def parse_definition(self) -> None:
        """{{define "name"}} ... {{end}}; "define" is scanned."""
        context = "define clause"
        token = self.next_non_space()
        if token.typ not in (_T.STRING, _T.RAW_STRING):
            self.unexpected(token, context)
        name = self.unquote(token)
        self.expect(_T.RIGHT_DELIM, context)
        nodes, end = self.item_list()
        if end.kind != "end":
            self.errorf(f"unexpected {end.text} in {context}")
        self.add(name, nodes)

    def item_list(self) -> tuple[list[_Node], _Node]:
        """textOrAction* up to {{end}} or {{else}}, which is returned apart."""
        nodes = []
        while self.peek_non_space().typ is not _T.EOF:
            node = self.text_or_action()
            if node.kind in ("end", "else"):
                return nodes, node
            nodes.append(node)
        self.errorf("unexpected EOF")

    def text_or_action(self) -> _Node:
        token = self.next_non_space()
        if token.typ is _T.TEXT:
            return _Node("text", token.val)
        if token.typ is not _T.LEFT_DELIM:
            self.unexpected(token, "input")
        self.action_line = token.line
        node = self.action()
        self.action_line = 0
        return node

    def action(self) -> _Node:
        """A control ({{if}}, {{range}}, ...) or a pipeline; the left delimiter is scanned."""
        token = self.next_non_space()
        match token.typ:
            case _T.BLOCK:
                return self.block_control()
            case _T.BREAK | _T.CONTINUE:
                return self.break_or_continue(token.val)
            case _T.ELSE:
                return self.else_control()
            case _T.END:
                self.expect(_T.RIGHT_DELIM, "end")
                return _Node("end", "{{end}}")
            case _T.IF | _T.RANGE | _T.WITH:
                return self.parse_control(token.val)
            case _T.TEMPLATE:
                return self.template_control()
        self.backup()
        self.pipeline("command", _T.RIGHT_DELIM)  # its variables persist until the enclosing {{end}}
        return _Node("action")

    def break_or_continue(self, keyword: str) -> _Node:
        action = "{{" + keyword + "}}"
        token = self.next_non_space()
        if token.typ is not _T.RIGHT_DELIM:
            self.unexpected(token, action)
        if self.range_depth == 0:
            self.errorf(action + " outside {{range}}")
        return _Node(keyword)

    def pipeline(self, context: str, end: _T) -> None:
        """Declarations (`$x :=`, `$x =`, `$i, $x :=` in range), then command ('|' command)*, then `end`."""
        declarations = 0
        while (v := self.peek_non_space()).typ is _T.VARIABLE:
            self.next()
            # Spaces are tokens: in "$x foo", reading "foo" (not ":=") says $x is an argument, not a declaration.
            token_after_variable = self.peek()
            following = self.peek_non_space()
            if following.typ in (_T.ASSIGN, _T.DECLARE):
                self.next_non_space()
                self.vars.append(v.val)
            elif following.typ is _T.CHAR and following.val == ",":
                self.next_non_space()
                self.vars.append(v.val)
                declarations += 1
                if context == "range" and declarations < 2:
                    if self.peek_non_space().typ in (_T.VARIABLE, _T.RIGHT_DELIM, _T.RIGHT_PAREN):
                        continue  # the second variable of a range
                    self.errorf("range can only initialize variables")
                self.errorf(f"too many declarations in {context}")
            elif token_after_variable.typ is _T.SPACE:
                self.backup3(v, token_after_variable)
            else:
                self.backup2(v)
            break
        commands: list[list[_Node]] = []
        while (token := self.next_non_space()).typ is not end:
            if token.typ not in _OPERAND_START:
                self.unexpected(token, context)
            self.backup()
            commands.append(self.command())
        if not commands:
            self.errorf(f"missing value for {context}")
        for stage, command in enumerate(commands[1:], start=2):
            if command[0].kind in _LITERALS:
                self.errorf(f"non executable command in pipeline stage {stage}")

    def parse_control(self, context: str) -> _Node:
        """{{if|range|with pipeline}} itemList ({{else}} itemList)? {{end}}, `{{else if}}`, `{{else with}}`;
        the keyword is scanned. The pipeline's variables end with the control."""
        outer_vars = len(self.vars)
        self.pipeline(context, _T.RIGHT_DELIM)
        if context == "range":
            self.range_depth += 1
        _, next_node = self.item_list()
        if context == "range":
            self.range_depth -= 1
        if next_node.kind == "else":
            # {{if a}}_{{else if b}}_{{end}} is {{if a}}_{{else}}{{if b}}_{{end}}{{end}}; so is {{else with}}.
            if context in ("if", "with") and self.peek().typ is _KEYWORDS[context]:
                self.next()
                self.parse_control(context)
            else:
                _, next_node = self.item_list()
                if next_node.kind != "end":
                    self.errorf(f"expected end; found {next_node.text}")
        del self.vars[outer_vars:]
        return _Node(context)

    def else_control(self) -> _Node:
        """{{else}}, or the {{else}} of {{else if ...}} or {{else with ...}}, leaving the if or with to come."""
        if self.peek_non_space().typ not in (_T.IF, _T.WITH):
            self.expect(_T.RIGHT_DELIM, "else")
        return _Node("else", "{{else}}")

    def block_control(self) -> _Node:
        """{{block "name" pipeline}} itemList {{end}}: defines the template and runs it; "block" is scanned."""
        context = "block clause"
        name = self.template_name(self.next_non_space(), context)
        self.pipeline(context, _T.RIGHT_DELIM)
        block = _Tree(self.lex, self.functions, self.defined)
        nodes, end = block.item_list()
        if end.kind != "end":
            self.errorf(f"unexpected {end.text} in {context}")
        block.add(name, nodes)
        return _Node("template")

    def template_control(self) -> _Node:
        """{{template "name" pipeline?}}; "template" is scanned."""
        context = "template clause"
        self.template_name(self.next_non_space(), context)
        if self.next_non_space().typ is not _T.RIGHT_DELIM:
            self.backup()
            self.pipeline(context, _T.RIGHT_DELIM)
        return _Node("template")

    def template_name(self, token: _Item, context: str) -> bytes:
        if token.typ not in (_T.STRING, _T.RAW_STRING):
            self.unexpected(token, context)
        return self.unquote(token)

    def command(self) -> list[_Node]:
        """operand (space operand)*, up to a '|' (consumed) or a right delimiter or paren (left)."""
        operands = []
        while True:
            self.peek_non_space()
            if (operand := self.operand()) is not None:
                operands.append(operand)
            token = self.next()
            if token.typ is _T.SPACE:
                continue
            if token.typ in (_T.RIGHT_DELIM, _T.RIGHT_PAREN):
                self.backup()
            elif token.typ is not _T.PIPE:
                self.unexpected(token, "operand")
            return operands

    def operand(self) -> _Node | None:
        """term .Field*; None when the next item is not a term."""
        node = self.term()
        if node is None or self.peek().typ is not _T.FIELD:
            return node
        while self.peek().typ is _T.FIELD:
            self.next()
        if node.kind in ("field", "variable"):
            return node
        if node.kind in _LITERALS:
            self.errorf(f"unexpected . after term {_go_quote(node.text)}")
        return _Node("chain")

    def term(self) -> _Node | None:
        """A literal, a function, `.`, `.Field`, `$x` or a parenthesized pipeline; None for anything else."""
        token = self.next_non_space()
        match token.typ:
            case _T.IDENTIFIER:
                if token.val not in self.functions:
                    self.errorf(f"function {_go_quote(token.val)} not defined")
                return _Node("function")
            case _T.DOT:
                return _Node("dot", ".")
            case _T.NIL:
                return _Node("nil", "nil")
            case _T.VARIABLE:
                if token.val not in self.vars:
                    self.errorf(f"undefined variable {_go_quote(token.val)}")
                return _Node("variable")
            case _T.FIELD:
                return _Node("field")
            case _T.BOOL:
                return _Node("bool", token.val)
            case _T.CHAR_CONSTANT | _T.COMPLEX | _T.NUMBER:
                if error := _number_error(token):
                    self.errorf(error)
                return _Node("number", token.val)
            case _T.LEFT_PAREN:
                self.pipeline("parenthesized pipeline", _T.RIGHT_PAREN)
                return _Node("pipeline")
            case _T.STRING | _T.RAW_STRING:
                self.unquote(token)
                return _Node("string", token.val)
        self.backup()
        return None

    def unquote(self, token: _Item) -> bytes:
        """strconv.Unquote of a string the lexer scanned (only an escape can be wrong): its bytes."""
        if token.typ is _T.RAW_STRING:
            return token.val[1:-1].replace("\r", "").encode(errors="surrogatepass")
        value, rest = b"", token.val[1:-1]
        while rest:
            if (char := _unquote_char(rest, '"')) is None:
                self.errorf("invalid syntax")
            value, rest = value + char[0], char[1]
        return value


# ---------------------------------------------------------------- literals (node.go newNumber, strconv, fmt)


def _number_error(token: _Item) -> str | None:
    """What newNumber says of a number, character or complex constant Go's strconv (or fmt) cannot read."""
    text = token.val
    if token.typ is _T.CHAR_CONSTANT:
        if (char := _unquote_char(text[1:], "'")) is None:
            return "invalid syntax"
        return None if char[1] == "'" else f"malformed character constant: {text}"
    if token.typ is _T.COMPLEX:
        return _complex_error(text)
    if text.endswith("i") and _float_error(text[:-1]) is None:  # imaginary
        return None
    if _int_ok(text):
        return None
    if _float_error(text) is None:
        return None if any(c in text for c in ".eEpP") else f"integer overflow: {_go_quote(text)}"
    return f"illegal number syntax: {_go_quote(text)}"


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


def _complex_error(text: str) -> str | None:
    """fmt.Sscan of a complex constant the lexer scanned (1+2i): a real part, a sign, an imaginary part, i."""
    real = _FLOAT_TOKEN.match(text)
    imaginary = _FLOAT_TOKEN.match(text, real.end() + 1)
    if text[real.end() : real.end() + 1] not in ("+", "-") or text[imaginary.end() :][:1] != "i":
        return "syntax error scanning complex number"
    for part in (real[0], text[real.end()] + imaginary[0]):
        if error := _float_error(part):
            return f"strconv.ParseFloat: parsing {_go_quote(part)}: {error}"
    return None


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _unquote_char(s: str, quote: str) -> tuple[bytes, str] | None:
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


def _go_quote(s: str) -> str:
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


def _go_unicode(r: str) -> str:
    """Go's %#U: U+0041 'A'."""
    return f"U+{ord(r):04X}" + (f" '{r}'" if r.isprintable() else "")
