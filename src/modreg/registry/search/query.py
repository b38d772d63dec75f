"""The `--where` expression language: one grammar for the CLI and the Python API.

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expr ")" | comparison
    comparison := FIELD OP value | FIELD ["not"] "in" list
    OP         := "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "~"
    value      := STRING | NUMBER | true | false | list | bare word
    list       := "[" [value ("," value)*] "]"

FIELD is a dotted path into a descriptor (`performance.mase`, `runtime.params.input_size`).
A list-valued field matches when any of its items does (`tags = 'energy'`, `tags in [...]`).
`~` is a shell-style glob (`name ~ 'N*'`). Versions compare as semantic versions when both
sides parse as one; dates compare by their ISO text. A missing field makes a comparison false.
A malformed expression raises UsageError naming the column, and so does one that nests
parentheses, `not`s and lists deeper than MAX_NESTING levels (the parser recurses per level).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from modreg.errors import UsageError

__all__ = ["MISSING", "Comparison", "Not", "BoolOp", "Expr", "parse_where", "evaluate", "fields_of", "lookup"]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op><=|>=|!=|==|=|<|>|~)
  | (?P<punct>[()\[\],])
  | (?P<number>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.-]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*|[0-9][A-Za-z0-9_.\-+]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}
MAX_NESTING = 64  # parentheses + `not`s + lists open at once
_MISSING = object()
MISSING = _MISSING  # what `lookup` returns for an absent field


@dataclass(frozen=True)
class Token:
    kind: str  # string | op | punct | number | word | end
    text: str
    col: int  # 1-based


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str  # = != < <= > >= ~ in notin
    value: Any
    col: int


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    operands: tuple[Expr, ...]


Expr = Union[Comparison, Not, BoolOp]


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _syntax_error(text, pos + 1, f"unexpected character {text[pos]!r}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _syntax_error(text: str, col: int, what: str) -> UsageError:
    start = max(0, min(col - 41, len(text) - 80))  # a long expression is shown around the column
    shown = ("…" if start else "") + text[start:start + 80] + ("…" if start + 80 < len(text) else "")
    caret = " " * (col - 1 - start + (1 if start else 0)) + "^"
    return UsageError(
        f"Bad --where expression at column {col}: {what}.",
        hint=f"\n  {shown}\n  {caret}\n  e.g. \"performance.mase < 0.9 and (tags in ['energy'] or category = 'advanced')\"",
        col=col,
    )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.pos]

    def _advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _is_word(self, word: str) -> bool:
        return self.current.kind == "word" and self.current.text.lower() == word

    def _expect(self, kind: str, text: str | None = None) -> Token:
        token = self.current
        if token.kind != kind or (text is not None and token.text != text):
            wanted = repr(text) if text else kind
            raise _syntax_error(self.text, token.col, f"expected {wanted}, found {_describe(token)}")
        return self._advance()

    def parse(self) -> Expr:
        if self.current.kind == "end":
            raise _syntax_error(self.text, 1, "the expression is empty")
        expr = self._or()
        if self.current.kind != "end":
            raise _syntax_error(
                self.text, self.current.col, f"expected `and`, `or` or the end, found {_describe(self.current)}"
            )
        return expr

    def _or(self) -> Expr:
        operands = [self._and()]
        while self._is_word("or"):
            self._advance()
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def _and(self) -> Expr:
        operands = [self._not()]
        while self._is_word("and"):
            self._advance()
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def _nest(self) -> None:
        """Enter one more level (a parenthesis, a `not`, a list); refuse past MAX_NESTING."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _syntax_error(self.text, self.current.col, f"the expression nests deeper than {MAX_NESTING} levels")

    def _not(self) -> Expr:
        if self._is_word("not"):
            self._nest()
            self._advance()
            negated = Not(self._not())
            self.depth -= 1
            return negated
        if self.current.kind == "punct" and self.current.text == "(":
            self._nest()
            self._advance()
            expr = self._or()
            self._expect("punct", ")")
            self.depth -= 1
            return expr
        return self._comparison()

    def _comparison(self) -> Comparison:
        token = self.current
        if token.kind != "word" or token.text.lower() in _KEYWORDS or token.text[0].isdigit():
            raise _syntax_error(self.text, token.col, f"expected a field name, found {_describe(token)}")
        self._advance()
        if self._is_word("in") or self._is_word("not"):
            negated = self._is_word("not")
            if negated:
                self._advance()
                if not self._is_word("in"):
                    raise _syntax_error(self.text, self.current.col, f"expected `in` after `not`, found {_describe(self.current)}")
            self._advance()
            values = self._list()
            return Comparison(token.text, "notin" if negated else "in", values, token.col)
        op = self._expect("op").text
        return Comparison(token.text, "=" if op == "==" else op, self._value(), token.col)

    def _list(self) -> tuple[Any, ...]:
        self._nest()
        self._expect("punct", "[")
        values: list[Any] = []
        if not (self.current.kind == "punct" and self.current.text == "]"):
            values.append(self._value())
            while self.current.kind == "punct" and self.current.text == ",":
                self._advance()
                values.append(self._value())
        self._expect("punct", "]")
        self.depth -= 1
        return tuple(values)

    def _value(self) -> Any:
        token = self.current
        if token.kind == "punct" and token.text == "[":
            return self._list()
        if token.kind == "string":
            self._advance()
            return _unquote(token.text)
        if token.kind == "number":
            if len(token.text) > 4300 and not any(c in token.text for c in ".eE"):
                raise _syntax_error(self.text, token.col, "the number is too long (integers have at most 4,300 digits)")
            self._advance()
            return float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
        if token.kind == "word" and token.text.lower() in ("true", "false"):
            self._advance()
            return token.text.lower() == "true"
        if token.kind == "word" and token.text.lower() not in _KEYWORDS:
            self._advance()
            return token.text
        raise _syntax_error(self.text, token.col, f"expected a value, found {_describe(token)}")


def _describe(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else f"`{token.text}`"


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse_where(text: str) -> Expr:
    """Parse a `--where` expression; raises UsageError pointing at the column."""
    return _Parser(text).parse()


def fields_of(expr: Expr) -> list[tuple[str, int]]:
    """Every (field, column) the expression reads, in order."""
    if isinstance(expr, Comparison):
        return [(expr.field, expr.col)]
    if isinstance(expr, Not):
        return fields_of(expr.operand)
    return [pair for operand in expr.operands for pair in fields_of(operand)]


def lookup(data: Mapping[str, Any], field: str) -> Any:
    """The value at a dotted path, or a sentinel when absent."""
    value: Any = data
    for part in field.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def evaluate(expr: Expr, data: Mapping[str, Any], *, parse_version: Callable[[str], Any] | None = None) -> bool:
    """Whether a descriptor (`data`) satisfies the expression.

    `parse_version` turns strings into comparable versions; when both sides of an ordering
    comparison parse, they are compared as versions.
    """
    if isinstance(expr, BoolOp):
        results = (evaluate(operand, data, parse_version=parse_version) for operand in expr.operands)
        return all(results) if expr.op == "and" else any(results)
    if isinstance(expr, Not):
        return not evaluate(expr.operand, data, parse_version=parse_version)
    value = lookup(data, expr.field)
    if value is _MISSING:
        return False
    items = value if isinstance(value, list) else [value]
    if expr.op == "notin":
        return not any(_compare(item, "in", expr.value, parse_version) for item in items)
    return any(_compare(item, expr.op, expr.value, parse_version) for item in items)


def _compare(left: Any, op: str, right: Any, parse_version: Callable[[str], Any] | None) -> bool:
    if op == "in":
        return any(_compare(left, "=", option, parse_version) for option in right)
    left, right = _coerce(left, right, parse_version)
    if op == "~":
        return fnmatch.fnmatchcase(str(left), str(right))
    try:
        return _ORDER[op](left, right)
    except TypeError:
        return False


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _coerce(left: Any, right: Any, parse_version: Callable[[str], Any] | None) -> tuple[Any, Any]:
    """Bring both sides to one comparable kind: dates to ISO text, versions to versions."""
    if isinstance(left, (dt.date, dt.datetime)):
        left = left.isoformat()
    if isinstance(left, bool) or isinstance(right, bool):
        return left, right
    if isinstance(left, (int, float)) and isinstance(right, str):
        try:
            return left, float(right)
        except ValueError:
            return str(left), right
    if isinstance(left, str) and isinstance(right, (int, float)):
        right = str(right)
    if parse_version is not None and isinstance(left, str) and isinstance(right, str):
        try:
            return parse_version(left), parse_version(right)
        except Exception:  # noqa: BLE001 - not versions: compare as text
            return left, right
    return left, right
