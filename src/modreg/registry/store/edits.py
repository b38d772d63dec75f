"""Comment-preserving edits: change a descriptor file so its diff shows only the changed lines.

A command never edits text by hand. It computes the new descriptor as plain data, and
`apply_changes(text, fmt, old, new)` turns the difference between `old` (the data read from
`text`) into the smallest set of operations (`diff_data`), then applies them:

- inside existing top-level entries, with a round-trip library (tomlkit for TOML, ruamel.yaml
  for YAML), which keeps comments, key order, quoting and layout;
- for whole top-level entries that appear or disappear, at the level of lines: a new entry is
  placed at its canonical position (`descriptor.CANONICAL_ORDER`), a removed one takes its own
  comment block with it and leaves the comments of its neighbours alone.

Only `old`'s differences are applied, so values the reader and the round-trip library see
differently (YAML 1.1 vs 1.2) are never touched unless the command changed them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modreg.errors import UsageError
from modreg.registry.store._statement import Statement

__all__ = ["Op", "apply_changes", "delete_path", "diff_data", "same", "set_path", "split_key"]

OpKind = Literal["set", "delete", "append", "remove"]
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Op:
    """One change at `path`: set a value, delete a key, append items, remove list indices."""

    kind: OpKind
    path: KeyPath
    value: Any = None


# ----- Comparing plain data -----


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (so `1`, `1.0` and `True` differ, as they do in a file)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return _kind(a) == _kind(b) and a == b


def _kind(value: Any) -> type:
    for kind in (bool, int, float, str, dt.datetime, dt.date):
        if isinstance(value, kind):
            return kind
    return type(value)


def diff_data(old: Mapping[str, Any], new: Mapping[str, Any], path: KeyPath = ()) -> list[Op]:
    """The operations that turn `old` into `new`, as local as possible."""
    ops: list[Op] = [Op("delete", (*path, key)) for key in old if key not in new]
    for key, after in new.items():
        here = (*path, key)
        if key not in old:
            ops.append(Op("set", here, after))
            continue
        before = old[key]
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            ops.extend(diff_data(before, after, here))
        elif isinstance(before, list) and isinstance(after, list):
            ops.extend(_diff_list(before, after, here))
        elif not same(before, after):
            ops.append(Op("set", here, after))
    return ops


def _diff_list(old: list[Any], new: list[Any], path: KeyPath) -> list[Op]:
    if same(old, new):
        return []
    if same(new[: len(old)], old):
        return [Op("append", path, new[len(old) :])]
    removed = _removed_indices(old, new)
    if removed is not None:
        return [Op("remove", path, removed)]
    if len(old) == len(new) and all(isinstance(x, Mapping) and isinstance(y, Mapping) for x, y in zip(old, new)):
        return [op for i, (x, y) in enumerate(zip(old, new)) for op in diff_data(x, y, (*path, i))]
    for dropped in range(1, len(old)):
        kept = old[dropped:]
        if same(new[: len(kept)], kept):
            return [Op("remove", path, tuple(range(dropped))), Op("append", path, new[len(kept) :])]
    return [Op("set", path, new)]


def _removed_indices(old: list[Any], new: list[Any]) -> tuple[int, ...] | None:
    """Indices of `old` whose removal gives `new`, when `new` is a subsequence of `old`."""
    removed, j = [], 0
    for i, item in enumerate(old):
        if j < len(new) and same(item, new[j]):
            j += 1
        else:
            removed.append(i)
    return tuple(removed) if j == len(new) else None


# ----- Building new data -----


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `data[a][b][c] = value` for `dotted` = "a.b.c", creating tables on the way."""
    *parents, last = split_key(dotted)
    node = data
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"`{dotted}` goes through `{part}`, which is a value, not a table.")
        node = child
    node[last] = value


def delete_path(data: dict[str, Any], dotted: str) -> bool:
    """Remove `dotted` from `data` (and tables it leaves empty); False when it was absent."""
    *parents, last = split_key(dotted)
    chain = [data]
    for part in parents:
        child = chain[-1].get(part)
        if not isinstance(child, dict):
            return False
        chain.append(child)
    if last not in chain[-1]:
        return False
    del chain[-1][last]
    for parent, part in zip(reversed(chain[:-1]), reversed(parents)):
        if parent[part]:
            break
        del parent[part]
    return True


_KEY_PART = re.compile(r"""("(?:[^"\\]|\\.)*"|'[^']*'|[^."']+)(\.|$)""")


def split_key(dotted: str) -> list[str]:
    """`a."b.c".d` -> ["a", "b.c", "d"]: quoted parts (as in TOML) may hold dots and spaces."""
    parts: list[str] = []
    at = 0
    while at < len(dotted) or not parts:
        match = _KEY_PART.match(dotted, at)
        if match is None or (match.group(2) == "." and match.end() == len(dotted)):
            raise UsageError(
                f"`{dotted}` is not a dotted key.",
                hint="write keys like `metadata.paper` or `runtime.params.h`; quote a key holding a dot: `dependencies.\"my.model\"`.",
            )
        parts.append(_unquote(match.group(1)))
        at = match.end()
    return parts


def _unquote(part: str) -> str:
    if part[:1] == "'":
        return part[1:-1]
    if part[:1] == '"':
        import tomllib

        try:
            return str(tomllib.loads(f"k = {part}")["k"])
        except tomllib.TOMLDecodeError:
            raise UsageError(f"`{part}` is not a valid quoted key.", hint="escape as in TOML: \\\" and \\\\.") from None
    return part


# ----- Applying to a file -----


def apply_changes(text: str, fmt: str, old: Mapping[str, Any], new: Mapping[str, Any], order: Sequence[str]) -> str:
    """`text` (a descriptor in `fmt`, read as `old`) edited to hold `new`, comments kept.

    `order` is the canonical order of top-level keys, used to place new ones. The text's
    byte-order mark, line endings (CRLF, LF, or a mix: each kept line keeps its own) and a
    missing final line break are kept; with nothing to change, `text` comes back as it was.
    """
    ops = diff_data(old, new)
    if not ops:
        return text
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    edited = _edit(body.replace("\r\n", "\n"), fmt, old, ops, order)
    if body and not body.endswith("\n") and edited.endswith("\n"):
        edited = edited[:-1]
    return bom + _line_ends_like(body, edited)


def _edit(text: str, fmt: str, old: Mapping[str, Any], ops: list[Op], order: Sequence[str]) -> str:
    from modreg.registry.store import _toml_edit, _yaml_edit
    from modreg.registry.store._toml_edit import split_lines

    editor = _toml_edit if fmt == "toml" else _yaml_edit
    lines = split_lines(text)
    if not {s.key for s in editor.scan(lines)} >= set(old):  # not one key per line (YAML in flow style)
        return editor.apply_ops(text, ops)
    added = {op.path[0]: op.value for op in ops if len(op.path) == 1 and op.kind == "set" and op.path[0] not in old}
    removed = {op.path[0] for op in ops if len(op.path) == 1 and op.kind == "delete"}
    inner = [op for op in ops if op.path[0] not in added and op.path[0] not in removed]
    if inner:
        lines = split_lines(editor.apply_ops(text, inner))
    for key in removed:
        lines = _delete_statement(lines, editor.scan(lines), key)
    rank = {key: i for i, key in enumerate(order)}
    for key in sorted(added, key=lambda k: rank.get(k, len(rank))):
        block, is_table = editor.render(key, added[key], lines)
        lines = _insert_statement(lines, editor.scan(lines), key, block, is_table, rank)
    return "\n".join(lines) + "\n"


def _line_ends_like(original: str, edited: str) -> str:
    """`edited` (LF line ends) with the line ends of `original`: all CRLF when it used CRLF
    throughout; in a mix, each unchanged line keeps its own and new lines take the commoner."""
    if "\r\n" not in original:
        return edited
    old_lines = original.split("\n")
    crlf = [line.endswith("\r") for line in old_lines[:-1]]
    if all(crlf):
        return edited.replace("\n", "\r\n")
    import difflib

    plain = [line.removesuffix("\r") for line in old_lines]
    new_lines = edited.split("\n")
    ends = ["\r\n" if 2 * sum(crlf) > len(crlf) else "\n"] * (len(new_lines) - 1)
    matcher = difflib.SequenceMatcher(None, plain, new_lines, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            if block.a + k < len(crlf) and block.b + k < len(ends):
                ends[block.b + k] = "\r\n" if crlf[block.a + k] else "\n"
    return "".join(line + end for line, end in zip(new_lines, ends)) + new_lines[-1]


def _delete_statement(lines: list[str], statements: list[Statement], key: str) -> list[str]:
    for stmt in sorted((s for s in statements if s.key == key), key=lambda s: -s.lead):
        lines = lines[: stmt.lead] + lines[stmt.end :]
        lines = _collapse_blank(lines, stmt.lead)
    return lines


def _collapse_blank(lines: list[str], at: int) -> list[str]:
    """Drop a doubled blank line (or a leading or trailing one) left where a block was cut out."""
    if at == len(lines):
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        return lines
    before_blank = at == 0 or not lines[at - 1].strip()
    if at < len(lines) and not lines[at].strip() and before_blank:
        return lines[:at] + lines[at + 1 :]
    return lines


def _insert_statement(
    lines: list[str],
    statements: list[Statement],
    key: str,
    block: list[str],
    is_table: bool,
    rank: Mapping[str, int],
) -> list[str]:
    me = rank.get(key, len(rank))
    values = [s for s in statements if not s.is_table]
    tables = [s for s in statements if s.is_table]
    if is_table:
        following = [s for s in tables if rank.get(s.key, len(rank)) > me]
        at = following[0].lead if following else len(lines)
        return _splice_block(lines, at, block)
    region = values if tables else statements
    preceding = [s for s in region if rank.get(s.key, len(rank)) < me]
    following = [s for s in region if rank.get(s.key, len(rank)) > me]
    if preceding:
        at = preceding[-1].end
    elif following:
        at = following[0].lead
    else:
        at = region[-1].end if region else (tables[0].lead if tables else len(lines))
    return lines[:at] + block + lines[at:]


def _splice_block(lines: list[str], at: int, block: list[str]) -> list[str]:
    """Insert a table block at `at`, with one blank line on either side."""
    head, tail = lines[:at], lines[at:]
    while head and not head[-1].strip():
        head.pop()
    gap_before = [""] if head else []
    gap_after = [""] if tail and tail[0].strip() else []
    return head + gap_before + block + gap_after + tail
