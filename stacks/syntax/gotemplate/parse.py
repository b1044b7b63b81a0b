"""parse.go of Go 1.26's text/template/parse: the parser, which reads the lexer's items and refuses a template
exactly when Go does, in Go's words. Only what decides that is kept: no tree is built."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, NoReturn

from stacks.syntax.gotemplate.lex import KEYWORDS, Item, ItemType, Lexer
from stacks.syntax.gotemplate.literals import char_constant_error, complex_error, go_quote, number_error, unquote_char


class TemplateSyntaxError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


class _Node(NamedTuple):
    """What the parser reads of a node: its kind, and for a literal or {{end}}/{{else}} how Go prints it."""

    kind: str
    text: str = ""


_LITERALS = ("bool", "dot", "nil", "number", "string")  # operands that cannot start a later pipeline stage
_OPERAND_START = {
    ItemType.BOOL, ItemType.CHAR_CONSTANT, ItemType.COMPLEX, ItemType.DOT, ItemType.FIELD, ItemType.IDENTIFIER,
    ItemType.NUMBER, ItemType.NIL, ItemType.RAW_STRING, ItemType.STRING, ItemType.VARIABLE, ItemType.LEFT_PAREN,
}  # fmt: skip
# How newNumber (node.go) reads each kind of constant the lexer scans: what it says of one Go cannot read.
_CONSTANT_ERROR = {
    ItemType.CHAR_CONSTANT: char_constant_error,
    ItemType.COMPLEX: complex_error,
    ItemType.NUMBER: number_error,
}
# Unicode White_Space, which Go's bytes.TrimSpace trims when it tells an empty template from a defined one.
_WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


class Tree:
    """One template being parsed: the top-level one, or one a {{define}} or {{block}} starts, on the same lexer."""

    def __init__(
        self,
        lexer: Lexer,
        functions: frozenset[str],
        defined: dict[bytes, bool],
        variables: frozenset[str] = frozenset(),
        used: set[bytes] | None = None,
    ):
        self.lex, self.functions = lexer, functions
        self.defined = defined  # name -> whether that template is empty (Go's treeSet)
        self.used = set() if used is None else used  # the names {{template}} runs, for the caller to resolve
        self.token: list[Item] = [lexer.item] * 3  # three-token lookahead
        self.peek_count = 0
        self.vars = ["$", *sorted(variables)]
        self.action_line = 0
        self.range_depth = 0

    def next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.lex.next_item()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Item, t1: Item) -> None:
        self.token[1], self.token[2] = t1, t2
        self.peek_count = 3

    def peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.lex.next_item()
        return self.token[0]

    def next_non_space(self) -> Item:
        while (token := self.next()).typ is ItemType.SPACE:
            pass
        return token

    def peek_non_space(self) -> Item:
        token = self.next_non_space()
        self.backup()
        return token

    def errorf(self, message: str) -> NoReturn:
        raise TemplateSyntaxError(self.token[0].line, message)

    def expect(self, expected: ItemType, context: str) -> Item:
        token = self.next_non_space()
        if token.typ is not expected:
            self.unexpected(token, context)
        return token

    def unexpected(self, token: Item, context: str) -> NoReturn:
        if token.typ is ItemType.ERROR:
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
            self.errorf(f"template: multiple definition of template {go_quote(name.decode(errors='replace'))}")

    def parse(self) -> None:
        """The top-level template: textOrAction up to EOF, and {{define}}s."""
        while self.peek().typ is not ItemType.EOF:
            if self.peek().typ is ItemType.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ is ItemType.DEFINE:
                    Tree(self.lex, self.functions, self.defined, used=self.used).parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if node.kind in ("end", "else"):
                self.errorf(f"unexpected {node.text}")

    def parse_definition(self) -> None:
        """{{define "name"}} ... {{end}}; "define" is scanned."""
        context = "define clause"
        token = self.next_non_space()
        if token.typ not in (ItemType.STRING, ItemType.RAW_STRING):
            self.unexpected(token, context)
        name = self.unquote(token)
        self.expect(ItemType.RIGHT_DELIM, context)
        nodes, end = self.item_list()
        if end.kind != "end":
            self.errorf(f"unexpected {end.text} in {context}")
        self.add(name, nodes)

    def item_list(self) -> tuple[list[_Node], _Node]:
        """textOrAction* up to {{end}} or {{else}}, which is returned apart."""
        nodes = []
        while self.peek_non_space().typ is not ItemType.EOF:
            node = self.text_or_action()
            if node.kind in ("end", "else"):
                return nodes, node
            nodes.append(node)
        self.errorf("unexpected EOF")

    def text_or_action(self) -> _Node:
        token = self.next_non_space()
        if token.typ is ItemType.TEXT:
            return _Node("text", token.val)
        if token.typ is not ItemType.LEFT_DELIM:
            self.unexpected(token, "input")
        self.action_line = token.line
        node = self.action()
        self.action_line = 0
        return node

    def action(self) -> _Node:
        """A control ({{if}}, {{range}}, ...) or a pipeline; the left delimiter is scanned."""
        token = self.next_non_space()
        match token.typ:
            case ItemType.BLOCK:
                return self.block_control()
            case ItemType.BREAK | ItemType.CONTINUE:
                return self.break_or_continue(token.val)
            case ItemType.ELSE:
                return self.else_control()
            case ItemType.END:
                self.expect(ItemType.RIGHT_DELIM, "end")
                return _Node("end", "{{end}}")
            case ItemType.IF | ItemType.RANGE | ItemType.WITH:
                return self.parse_control(token.val)
            case ItemType.TEMPLATE:
                return self.template_control()
        self.backup()
        self.pipeline("command", ItemType.RIGHT_DELIM)  # its variables persist until the enclosing {{end}}
        return _Node("action")

    def break_or_continue(self, keyword: str) -> _Node:
        action = "{{" + keyword + "}}"
        token = self.next_non_space()
        if token.typ is not ItemType.RIGHT_DELIM:
            self.unexpected(token, action)
        if self.range_depth == 0:
            self.errorf(action + " outside {{range}}")
        return _Node(keyword)

    def pipeline(self, context: str, end: ItemType) -> None:
        """Declarations (`$x :=`, `$x =`, `$i, $x :=` in range), then command ('|' command)*, then `end`."""
        declarations = 0
        while (v := self.peek_non_space()).typ is ItemType.VARIABLE:
            self.next()
            # Spaces are tokens: in "$x foo", reading "foo" (not ":=") says $x is an argument, not a declaration.
            token_after_variable = self.peek()
            following = self.peek_non_space()
            if following.typ in (ItemType.ASSIGN, ItemType.DECLARE):
                self.next_non_space()
                self.vars.append(v.val)
            elif following.typ is ItemType.CHAR and following.val == ",":
                self.next_non_space()
                self.vars.append(v.val)
                declarations += 1
                if context == "range" and declarations < 2:
                    if self.peek_non_space().typ in (ItemType.VARIABLE, ItemType.RIGHT_DELIM, ItemType.RIGHT_PAREN):
                        continue  # the second variable of a range
                    self.errorf("range can only initialize variables")
                self.errorf(f"too many declarations in {context}")
            elif token_after_variable.typ is ItemType.SPACE:
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
        self.pipeline(context, ItemType.RIGHT_DELIM)
        if context == "range":
            self.range_depth += 1
        _, next_node = self.item_list()
        if context == "range":
            self.range_depth -= 1
        if next_node.kind == "else":
            # {{if a}}_{{else if b}}_{{end}} is {{if a}}_{{else}}{{if b}}_{{end}}{{end}}; so is {{else with}}.
            if context in ("if", "with") and self.peek().typ is KEYWORDS[context]:
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
        if self.peek_non_space().typ not in (ItemType.IF, ItemType.WITH):
            self.expect(ItemType.RIGHT_DELIM, "else")
        return _Node("else", "{{else}}")

    def block_control(self) -> _Node:
        """{{block "name" pipeline}} itemList {{end}}: defines the template and runs it; "block" is scanned."""
        context = "block clause"
        name = self.template_name(self.next_non_space(), context)
        self.pipeline(context, ItemType.RIGHT_DELIM)
        block = Tree(self.lex, self.functions, self.defined, used=self.used)
        nodes, end = block.item_list()
        if end.kind != "end":
            self.errorf(f"unexpected {end.text} in {context}")
        block.add(name, nodes)
        return _Node("template")

    def template_control(self) -> _Node:
        """{{template "name" pipeline?}}; "template" is scanned."""
        context = "template clause"
        self.used.add(self.template_name(self.next_non_space(), context))
        if self.next_non_space().typ is not ItemType.RIGHT_DELIM:
            self.backup()
            self.pipeline(context, ItemType.RIGHT_DELIM)
        return _Node("template")

    def template_name(self, token: Item, context: str) -> bytes:
        if token.typ not in (ItemType.STRING, ItemType.RAW_STRING):
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
            if token.typ is ItemType.SPACE:
                continue
            if token.typ in (ItemType.RIGHT_DELIM, ItemType.RIGHT_PAREN):
                self.backup()
            elif token.typ is not ItemType.PIPE:
                self.unexpected(token, "operand")
            return operands

    def operand(self) -> _Node | None:
        """term .Field*; None when the next item is not a term."""
        node = self.term()
        if node is None or self.peek().typ is not ItemType.FIELD:
            return node
        while self.peek().typ is ItemType.FIELD:
            self.next()
        if node.kind in ("field", "variable"):
            return node
        if node.kind in _LITERALS:
            self.errorf(f"unexpected . after term {go_quote(node.text)}")
        return _Node("chain")

    def term(self) -> _Node | None:
        """A literal, a function, `.`, `.Field`, `$x` or a parenthesized pipeline; None for anything else."""
        token = self.next_non_space()
        match token.typ:
            case ItemType.IDENTIFIER:
                if token.val not in self.functions:
                    self.errorf(f"function {go_quote(token.val)} not defined")
                return _Node("function")
            case ItemType.DOT:
                return _Node("dot", ".")
            case ItemType.NIL:
                return _Node("nil", "nil")
            case ItemType.VARIABLE:
                if token.val not in self.vars:
                    self.errorf(f"undefined variable {go_quote(token.val)}")
                return _Node("variable")
            case ItemType.FIELD:
                return _Node("field")
            case ItemType.BOOL:
                return _Node("bool", token.val)
            case ItemType.CHAR_CONSTANT | ItemType.COMPLEX | ItemType.NUMBER:
                if error := _CONSTANT_ERROR[token.typ](token.val):
                    self.errorf(error)
                return _Node("number", token.val)
            case ItemType.LEFT_PAREN:
                self.pipeline("parenthesized pipeline", ItemType.RIGHT_PAREN)
                return _Node("pipeline")
            case ItemType.STRING | ItemType.RAW_STRING:
                self.unquote(token)
                return _Node("string", token.val)
        self.backup()
        return None

    def unquote(self, token: Item) -> bytes:
        """strconv.Unquote of a string the lexer scanned (only an escape can be wrong): its bytes."""
        if token.typ is ItemType.RAW_STRING:
            return token.val[1:-1].replace("\r", "").encode(errors="surrogatepass")
        value, rest = b"", token.val[1:-1]
        while rest:
            if (char := unquote_char(rest, '"')) is None:
                self.errorf("invalid syntax")
            value, rest = value + char[0], char[1]
        return value


def template_names(text: str, functions: frozenset[str]) -> tuple[frozenset[str], frozenset[str]] | None:
    """The names a template text defines ({{define}}, {{block}}) and runs ({{template}}); None if it does not parse
    (template_error says why)."""
    tree = Tree(Lexer(text, functions), functions, {})
    try:
        tree.parse()
    except (TemplateSyntaxError, RecursionError):
        return None
    return _decoded(tree.defined), _decoded(tree.used)


def _decoded(names: Iterable[bytes]) -> frozenset[str]:
    return frozenset(name.decode(errors="replace") for name in names)


def template_error(text: str, functions: frozenset[str], variables: frozenset[str] = frozenset()) -> str | None:
    """None if Go's text/template parses `text` with these functions (and these variables declared before it, as
    Prometheus declares $labels and $value); else Go's message, after `line N: ` when the text has several."""
    if "{{" not in text:  # no action: Go's lexer reads it as one text item, which always parses
        return None
    try:
        Tree(Lexer(text, functions), functions, {}, variables).parse()
    except TemplateSyntaxError as error:
        return f"line {error.line}: {error}" if "\n" in text else str(error)
    except RecursionError:  # Go nests parentheses 10000 deep, and controls without limit: Python's stack is shorter
        return "nested too deeply to check"
    return None
