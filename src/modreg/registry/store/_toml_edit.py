"""TOML side of `edits`: tomlkit for changes inside tables, a line scanner for top-level entries.

tomlkit re-renders an untouched document byte for byte, so changes made through it show up
as exactly the changed lines. New values keep the style of the ones they replace (a
multi-line string stays multi-line); new tables get a blank line on either side, and tables
nested in a new `[[array]]` entry are written as sub-tables (`[history.snapshot.runtime]`), one
key per line, so that a later change to them diffs as the lines that changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from modreg.registry.store._statement import Statement

if TYPE_CHECKING:
    from modreg.registry.store.edits import Op

_HEADER = re.compile(r"\[\[?\s*([A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')\s*[.\]]")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KEY = re.compile(r"([A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')\s*[.=]")


# ----- Changes inside top-level entries (tomlkit) -----


def apply_ops(text: str, ops: list[Op]) -> str:
    """`text` with `ops` applied through tomlkit (comments and layout kept)."""
    import tomlkit

    doc = tomlkit.parse(text)
    for op in ops:
        grandparent, parent = None, doc
        for part in op.path[:-1]:
            grandparent, parent = parent, parent[part]
        if op.kind == "set" and _is_inline(parent) and op.path[-1] not in parent and grandparent is not None:
            grandparent[op.path[-2]] = _inline_with(parent, op.path[-1], op.value)
        else:
            _apply(parent, op)
    return tomlkit.dumps(doc)


def _inline_with(table: Any, key: str, value: Any) -> Any:
    """`table` (an inline table) with `key = value` added in its own spacing: `{ a = 1, b = 2 }`
    (tomlkit writes `{ a = 1, b = 2}`, and `{a=1,b = 2}` when the table has no spaces)."""
    import tomlkit

    text = table.as_string().rstrip()
    inside = text[1:-1]
    pad = inside[len(inside.rstrip()) :] if inside.strip() else " "
    entry = f"{_key_text(key)} = {_inline_text(value)}"
    inside = f"{inside.rstrip()}, {entry}" if inside.strip() else f"{pad}{entry}"
    return tomlkit.parse(f"v = {{{inside}{pad}}}")["v"]


def _apply(parent: Any, op: Op) -> None:
    key = op.path[-1]
    inline = _is_inline(parent) or any(isinstance(part, int) for part in op.path)
    if op.kind == "delete":
        del parent[key]
    elif op.kind == "remove":
        for index in sorted(op.value, reverse=True):
            del parent[key][index]
    elif op.kind == "append":
        _append(parent[key], op.value)
    elif isinstance(key, int) or key in parent:
        old = parent[key]
        parent[key] = _styled_like(old, to_item(op.value, inline=inline or _is_inline(old)))
    elif isinstance(op.value, Mapping) and not inline:
        _add_table(parent, key, op.value)
    elif inline:
        parent[key] = to_item(op.value, inline=True)
    else:
        _add_value(parent, key, to_item(op.value, inline=False))


def _add_value(parent: Any, key: str, item: Any) -> None:
    """A new `key = value` right after the table's last value: the comments and blank lines
    that end the table (often the comment leading the next table) stay below it."""
    if not isinstance(getattr(getattr(parent, "value", None), "body", None), list):
        parent[key] = item  # a document, or a table split in parts (tomlkit's proxy)
        return
    values = [value for name, value in parent.value.body if name is not None and hasattr(value, "trivia")]
    if values and hasattr(item, "trivia"):  # indented as its neighbours (a tab, two spaces)
        item.trivia.indent = values[-1].trivia.indent
    tables = [(value, value.trivia.indent) for name, value in parent.value.body if name is not None and _is_table(value)]
    trailing = _detach_trailing(parent)
    parent[key] = item
    parent.value.body.extend(trailing)
    for table, indent in tables:  # tomlkit puts a blank line above a sub-table that had none
        table.trivia.indent = indent


def _is_table(item: Any) -> bool:
    from tomlkit.items import Table

    return isinstance(item, Table)


def _detach_trailing(table: Any) -> list[tuple[Any, Any]]:
    """Cut the comment and blank lines that end `table`'s own lines, and return them."""
    body = table.value.body
    trailing: list[tuple[Any, Any]] = []
    while body and body[-1][0] is None and _is_whitespace(body[-1][1]):
        trailing.insert(0, body.pop())
    return trailing


def _append(target: Any, items: list[Any]) -> None:
    """Append to an array, or new `[[entries]]` right after the last one's values: the
    comments and blank lines that ended it (a comment leading the next table) move below."""
    from tomlkit.items import AoT

    if not isinstance(target, AoT):
        for item in items:
            target.append(to_item(item, inline=True))
        return
    for item in items:
        table = to_item(item, inline=False)
        trailing: list[tuple[Any, Any]] = []
        if len(target):
            trailing = _detach_trailing(_innermost(target[-1]))
            _end_with_blank_line(_innermost(target[-1]))
        target.append(table)
        _innermost(table).value.body.extend(trailing)


def _innermost(table: Any) -> Any:
    """The table whose lines come last in `table`'s text: its last sub-table, recursively."""
    from tomlkit.items import Table

    while True:
        values = list(table.value.body)
        last = next((item for _, item in reversed(values) if item is not None and not _is_whitespace(item)), None)
        if not isinstance(last, Table):
            return table
        table = last


def _is_whitespace(item: Any) -> bool:
    from tomlkit.items import Comment, Whitespace

    return isinstance(item, (Whitespace, Comment))


def _end_with_blank_line(table: Any) -> None:
    """Add line breaks until `table` ends in a blank line (a trailing inline table swallows one)."""
    import tomlkit

    for _ in range(2):
        if table.as_string().endswith("\n\n"):
            return
        table.add(tomlkit.nl())


def _add_table(parent: Any, key: str, value: Mapping[str, Any]) -> None:
    """A new sub-table (`[runtime.params]`), separated from its neighbours by blank lines."""
    import tomlkit

    table = to_item(value, inline=False)
    if parent.as_string().endswith("\n\n"):
        table.add(tomlkit.nl())
    else:
        parent.add(tomlkit.nl())
    parent[key] = table


def _is_inline(item: Any) -> bool:
    from tomlkit.items import InlineTable

    return isinstance(item, InlineTable)


def _styled_like(old: Any, new: Any) -> Any:
    """A new string in the style (multi-line, literal) of the one it replaces."""
    import tomlkit
    from tomlkit.items import String, StringType

    if isinstance(old, String) and isinstance(new, String) and is_plain_text(str(new)):
        kind = old.type
        multiline = kind in (StringType.MLB, StringType.MLL) and "\n" in str(new)
        literal = kind in (StringType.SLL, StringType.MLL) and "'" not in str(new)
        if multiline:
            return _multiline(str(new), literal=literal and "'''" not in str(new))
        if literal and "\n" not in str(new):
            return tomlkit.string(str(new), literal=True)
    return new


def is_plain_text(text: str) -> bool:
    """Text without control characters but line breaks and tabs: a multi-line or literal string
    holds it as it is (a CR in one would read back as a bare line break, or not at all)."""
    import unicodedata

    return all(char in "\n\t" or unicodedata.category(char) != "Cc" for char in text)


def _multiline(text: str, *, literal: bool = False) -> Any:
    """A multi-line string that opens with a line break, as people write them."""
    import tomlkit

    raw = tomlkit.string(text, literal=literal, multiline=True).as_string()
    return tomlkit.parse(f"v = {raw[:3]}\n{raw[3:]}")["v"]


def to_item(value: Any, *, inline: bool) -> Any:
    """A tomlkit item for a plain value: tables (sub-tables unless `inline`), arrays, scalars."""
    import tomlkit

    if isinstance(value, Mapping) and inline:
        return tomlkit.parse(f"v = {_inline_text(value)}")["v"]
    if isinstance(value, Mapping):
        table = tomlkit.table()
        for key, child in value.items():
            table[key] = to_item(child, inline=False)
        return table
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value) and not inline:
        return _aot(value)
    if isinstance(value, list):
        array = tomlkit.array()
        array.extend(to_item(v, inline=True) for v in value)
        return array
    if isinstance(value, str) and "\n" in value and is_plain_text(value) and not inline:
        return _multiline(value)
    return tomlkit.item(value)


def _inline_text(value: Any) -> str:
    """Inline TOML in the spacing people write (and tomli-w emits): `{ a = 1, b = [2] }`."""
    import tomlkit

    if isinstance(value, Mapping):
        pairs = ", ".join(f"{_key_text(k)} = {_inline_text(v)}" for k, v in value.items())
        return f"{{ {pairs} }}" if pairs else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline_text(v) for v in value) + "]"
    return tomlkit.item(value).as_string()


def _key_text(key: str) -> str:
    import tomlkit

    return key if _BARE_KEY.fullmatch(key) else tomlkit.item(key).as_string()


def _aot(value: list[Mapping[str, Any]]) -> Any:
    import tomlkit

    aot = tomlkit.aot()
    for index, entry in enumerate(value):
        table = to_item(entry, inline=False)
        if index < len(value) - 1:
            _innermost(table).add(tomlkit.nl())
        aot.append(table)
    return aot


# ----- Whole top-level entries (lines) -----


def split_lines(text: str) -> list[str]:
    """`text`'s lines, split at `\\n` only: `str.splitlines` also splits inside values that
    hold U+2028, U+0085 or a form feed, which would corrupt them."""
    lines = text.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def render(key: str, value: Any, lines: list[str]) -> tuple[list[str], bool]:
    """The lines of a new top-level entry, and whether it is a table (goes after the values).

    `lines` (the file being edited) is not needed: TOML's layout does not vary per file.
    """
    import tomlkit

    doc = tomlkit.document()
    doc[key] = to_item(value, inline=False)
    lines = split_lines(tomlkit.dumps(doc).rstrip("\n"))
    return lines, bool(lines) and lines[0].lstrip().startswith("[")


def scan(lines: list[str]) -> list[Statement]:
    """The top-level entries of a TOML file: `key = value` lines and `[table]` sections."""
    found: list[Statement] = []
    ml: str | None = None
    depth = 0
    comments_from: int | None = None
    in_table = False
    for number, line in enumerate(lines):
        stripped = line.strip()
        at_top = ml is None and depth == 0
        if at_top and stripped.startswith("#"):
            comments_from = number if comments_from is None else comments_from
        elif at_top:
            statement = _statement_at(stripped, number, comments_from, in_table)
            if statement is not None:
                found.append(statement)
                in_table = in_table or statement.is_table
            comments_from = None
        if stripped and found:
            found[-1] = replace(found[-1], end=number + 1)
        ml, depth = _advance(line, ml, depth)
    return _merge_same_key(clamp_ends(found))


def _statement_at(stripped: str, number: int, comments_from: int | None, in_table: bool) -> Statement | None:
    header = _HEADER.match(stripped) if stripped.startswith("[") else None
    key = None if header or in_table else _KEY.match(stripped)
    match = header or key
    if match is None:
        return None
    lead = comments_from if comments_from is not None else number
    return Statement(_unquote(match.group(1)), lead, number, number + 1, header is not None)


def clamp_ends(statements: list[Statement]) -> list[Statement]:
    """End each entry before the comment block that leads the next one."""
    return [
        replace(s, end=min(s.end, nxt.lead)) if nxt is not None else s
        for s, nxt in zip(statements, [*statements[1:], None])
    ]


def _merge_same_key(statements: list[Statement]) -> list[Statement]:
    """`[runtime]` + `[runtime.params]`, or several `[[history]]`, form one entry."""
    merged: list[Statement] = []
    for statement in statements:
        if merged and merged[-1].key == statement.key and merged[-1].is_table and statement.is_table:
            merged[-1] = replace(merged[-1], end=statement.end)
        else:
            merged.append(statement)
    return merged


def _unquote(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


def _advance(line: str, ml: str | None, depth: int) -> tuple[str | None, int]:
    """Scanner state after `line`: an open multi-line string delimiter, bracket depth."""
    i = 0
    while i < len(line):
        if ml is not None:
            close = _find_close(line, i, ml)
            if close < 0:
                return ml, depth
            i, ml = close + 3, None
            continue
        char = line[i]
        if char == "#":
            break
        if line.startswith('"""', i) or line.startswith("'''", i):
            ml, i = line[i : i + 3], i + 3
        elif char in "\"'":
            i = _end_of_string(line, i)
        else:
            depth += (char in "[{") - (char in "]}")
            i += 1
    return ml, depth


def _find_close(line: str, start: int, delimiter: str) -> int:
    at = line.find(delimiter, start)
    while at >= 0 and delimiter == '"""' and _escaped(line, at):
        at = line.find(delimiter, at + 1)
    return at


def _escaped(line: str, at: int) -> bool:
    backslashes = len(line[:at]) - len(line[:at].rstrip("\\"))
    return backslashes % 2 == 1


def _end_of_string(line: str, start: int) -> int:
    quote = line[start]
    i = start + 1
    while i < len(line):
        if line[i] == quote and (quote == "'" or not _escaped(line, i)):
            return i + 1
        i += 1
    return i
