"""Where every key of a TOML document was written (tomllib keeps no positions).

`scan(text)` walks the text once and maps each JSON path to its 1-based `(line, col)`:
table headers (`[runtime.params]`), array-of-tables headers (`[[history]]`, indexed per
element), dotted keys (`a.b = 1`), inline tables and array items. It also notes the first key
defined twice, so that tomllib's "Cannot overwrite a value" can name the key and both lines.
The scanner is forgiving: on text tomllib rejects it records what it can and stops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

JsonPath = tuple[str | int, ...]
Position = tuple[int, int]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_LITERAL = re.compile(r"'([^'\n]*)'")
_ML_BASIC = re.compile(r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"{3,5}')
_ML_LITERAL = re.compile(r"'''(?:[^']|'{1,2}(?!'))*'{3,5}")
_SCALAR = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?"
    r"|[^\s,\]}#]+"
)
_SPACE = re.compile(r"[ \t]*")
_BLANK = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")


@dataclass
class TomlMap:
    """The result of `scan`: positions, and the first duplicate key if any."""

    positions: dict[JsonPath, Position] = field(default_factory=dict)
    # (dotted key, where it was defined again, where it was first defined)
    duplicate: tuple[str, Position, Position] | None = None


def scan(text: str) -> TomlMap:
    """Map every key and array item of `text` to its position (best effort on bad text)."""
    scanner = _Scanner(text)
    try:
        scanner.run()
    except (_Stop, IndexError, ValueError):
        pass
    return scanner.result


class _Stop(Exception):
    """The text is not TOML the scanner understands; keep what was found so far."""


def _unescape(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        return chr(int(code, 16)) if code else _ESCAPES.get(match.group(3), match.group(3))

    return _ESCAPE.sub(replace, body) if "\\" in body else body


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.result = TomlMap()
        self.kinds: dict[JsonPath, str] = {}  # path -> "value" | "table" | "implicit" | "array"
        self.arrays: dict[JsonPath, int] = {}  # array-of-tables path -> elements so far

    # ----- cursor -----

    def here(self) -> Position:
        return (self.line, self.i - self.line_start + 1)

    def advance(self, end: int) -> None:
        newlines = self.text.count("\n", self.i, end)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.i, end) + 1
        self.i = end

    def skip(self, pattern: re.Pattern[str]) -> None:
        self.advance(pattern.match(self.text, self.i).end())  # type: ignore[union-attr]

    def peek(self, token: str) -> bool:
        return self.text.startswith(token, self.i)

    def expect(self, token: str) -> None:
        if not self.peek(token):
            raise _Stop
        self.advance(self.i + len(token))

    # ----- statements -----

    def run(self) -> None:
        table: JsonPath = ()
        while True:
            self.skip(_BLANK)
            if self.i >= len(self.text):
                return
            if self.peek("[["):
                table = self.array_header()
            elif self.peek("["):
                table = self.table_header()
            else:
                self.key_value(table)
            self.skip(_BLANK)

    def table_header(self) -> JsonPath:
        self.expect("[")
        self.skip(_SPACE)
        keys = self.key()
        self.skip(_SPACE)
        self.expect("]")
        self.mark_header_prefixes(keys)
        path = self.resolve(keys)
        if (*self.resolve(keys[:-1]), keys[-1][0]) in self.arrays:
            self.clash((*self.resolve(keys[:-1]), keys[-1][0]), keys[-1][1])
        self.define(path, keys[-1][1], ("table", "value", "array", "dotted"), "table")
        return path

    def array_header(self) -> JsonPath:
        self.expect("[[")
        self.skip(_SPACE)
        keys = self.key()
        self.skip(_SPACE)
        self.expect("]]")
        self.mark_header_prefixes(keys)
        array = (*self.resolve(keys[:-1]), keys[-1][0])
        count = self.arrays.get(array, 0)
        if count == 0:
            self.define(array, keys[-1][1], ("table", "value", "dotted", "implicit"), "array")
        self.arrays[array] = count + 1
        self.result.positions[(*array, count)] = keys[-1][1]
        return (*array, count)

    def resolve(self, keys: list[tuple[str, Position]]) -> JsonPath:
        """A header's key path, with the current element index after each array of tables."""
        path: JsonPath = ()
        for name, _ in keys:
            path = (*path, name)
            if path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        return path

    def mark_header_prefixes(self, keys: list[tuple[str, Position]]) -> None:
        for end in range(1, len(keys)):
            self.touch(self.resolve(keys[:end]), keys[end - 1][1], "implicit")

    def key_value(self, table: JsonPath) -> None:
        keys = self.key()
        self.skip(_SPACE)
        self.expect("=")
        self.skip(_SPACE)
        path = (*table, *(name for name, _ in keys))
        for end in range(1, len(keys)):
            self.touch(path[: len(table) + end], keys[end - 1][1], "dotted")
        self.define(path, keys[-1][1], ("value", "table", "implicit", "dotted", "array"), "value")
        self.value(path)

    def touch(self, path: JsonPath, position: Position, kind: str) -> None:
        """A table named on the way to a key: created implicitly unless it exists."""
        previous = self.kinds.setdefault(path, kind)
        if previous == "value":
            self.clash(path, position)
        self.result.positions.setdefault(path, position)

    def define(self, path: JsonPath, position: Position, clashes: tuple[str, ...], kind: str) -> None:
        if self.kinds.get(path) in clashes:
            self.clash(path, position)
        self.kinds[path] = kind
        self.result.positions.setdefault(path, position)

    def clash(self, path: JsonPath, position: Position) -> None:
        if self.result.duplicate is None:
            first = self.result.positions.get(path, position)
            self.result.duplicate = (".".join(str(p) for p in path), position, first)

    # ----- keys and values -----

    def key(self) -> list[tuple[str, Position]]:
        keys = [self.key_part()]
        while True:
            self.skip(_SPACE)
            if not self.peek("."):
                return keys
            self.expect(".")
            self.skip(_SPACE)
            keys.append(self.key_part())

    def key_part(self) -> tuple[str, Position]:
        position = self.here()
        for pattern, decode in ((_BASIC, _unescape), (_LITERAL, str), (_BARE_KEY, None)):
            match = pattern.match(self.text, self.i)
            if match is not None:
                self.advance(match.end())
                return (decode(match.group(1)) if decode else match.group()), position
        raise _Stop

    def value(self, path: JsonPath) -> None:
        if self.peek("["):
            self.array(path)
        elif self.peek("{"):
            self.inline_table(path)
        else:
            for pattern in (_ML_BASIC, _ML_LITERAL, _BASIC, _LITERAL, _SCALAR):
                match = pattern.match(self.text, self.i)
                if match is not None:
                    self.advance(match.end())
                    return
            raise _Stop

    def array(self, path: JsonPath) -> None:
        self.expect("[")
        index = 0
        while True:
            self.skip(_BLANK)
            if self.peek("]"):
                break
            self.result.positions.setdefault((*path, index), self.here())
            self.value((*path, index))
            self.skip(_BLANK)
            if not self.peek(","):
                break
            self.expect(",")
            index += 1
        self.expect("]")

    def inline_table(self, path: JsonPath) -> None:
        self.expect("{")
        self.skip(_BLANK)
        while not self.peek("}"):
            self.key_value(path)
            self.skip(_BLANK)
            if not self.peek(","):
                break
            self.expect(",")
            self.skip(_BLANK)
        self.expect("}")
