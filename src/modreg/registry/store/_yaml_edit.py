"""YAML side of `edits`: ruamel.yaml round-trip for changes, original lines for the rest.

ruamel.yaml keeps comments, quoting and flow/block style, but it re-indents a whole document
with one style. So only the top-level entries a change touches are taken from its output, each
dumped with the indentation that entry had; every other line is the original's.

ruamel attaches the comment lines that follow a value to the last scalar before them. When a
change appends after (or removes) that scalar, those lines are moved along, so that a comment
meant for the next section stays above it.
"""

from __future__ import annotations

import copy
import io
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modreg.registry.store._statement import Statement
from modreg.registry.store._toml_edit import clamp_ends, is_plain_text, split_lines

if TYPE_CHECKING:
    from modreg.registry.store.edits import Op

# `%YAML 1.1` would make ruamel re-render untouched `yes`/`on` of an edited entry as `true`:
# it reads the text without directives (their lines are kept from the original).
_DIRECTIVE = re.compile(r"^%[^\n]*", re.MULTILINE)
_MARKER = re.compile(r"(?:---|\.\.\.)(?:\s|$)|%")
_TOP_KEY = re.compile(r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s#'"?:,\[\]{}&*!|>%@`-][^:#]*?))\s*:(?:\s|$)""")


@dataclass(frozen=True)
class Style:
    """Indentation of one block: mapping indent and the dash's offset in sequences."""

    mapping: int = 2
    offset: int = 0


# ----- Changes inside top-level entries (ruamel.yaml) -----


def apply_ops(text: str, ops: list[Op]) -> str:
    """`text` with `ops` applied; untouched top-level entries keep their original lines."""
    lines = split_lines(text)
    statements = {s.key: s for s in scan(lines)}
    doc = _loader(Style()).load(_DIRECTIVE.sub("", text))
    for op in ops:
        parent = doc
        for part in op.path[:-1]:
            parent = parent[part]
        _apply(parent, op)
    touched = {op.path[0] for op in ops}
    if not touched <= statements.keys():
        return _dump(doc, _file_style(lines))
    replaced = _rendered_spans(doc, touched, statements, lines)
    for key in sorted(touched, key=lambda k: -statements[k].start):
        statement = statements[key]
        lines[statement.start : statement.end] = replaced[key]
    return "\n".join(lines) + "\n"


def _rendered_spans(
    doc: Any, touched: set[str], statements: Mapping[str, Statement], lines: list[str]
) -> dict[str, list[str]]:
    """Each touched entry's lines, dumped in the indentation style it had."""
    fallback = _file_style(lines)
    groups: dict[Style, list[str]] = {}
    for key in touched:
        statement = statements[key]
        style = _guess_style(lines[statement.start : statement.end], fallback)
        groups.setdefault(style, []).append(key)
    spans: dict[str, list[str]] = {}
    for style, keys in groups.items():
        dumped = split_lines(_dump(doc, style))
        found = {s.key: s for s in scan(dumped)}
        for key in keys:
            spans[key] = dumped[found[key].start : found[key].end]
    return spans


def _apply(parent: Any, op: Op) -> None:
    key = op.path[-1]
    if op.kind == "delete":
        _delete_entries(parent, [key])
    elif op.kind == "remove":
        _delete_entries(parent[key], sorted(op.value))
    elif op.kind == "append":
        target = parent[key]
        tail = _detach_tail(_tail_slots(target))
        sibling = target[-1] if len(target) else None
        target.extend(to_node(item, like=sibling) for item in op.value)
        _attach_tail(_tail_slots(target), tail)
    elif key in parent:
        tail = _detach_tail(_tail_slots(parent[key]))
        parent[key] = to_node(op.value, like=parent[key])
        _attach_tail(_entry_slots(parent, key), tail)
    else:
        tail = _detach_tail(_tail_slots(parent))
        parent[key] = to_node(op.value)
        _attach_tail(_tail_slots(parent), tail)


def _delete_entries(container: Any, keys: list[Any]) -> None:
    """Delete keys (or indices), handing the lines that followed each to its predecessor."""
    for key in reversed(keys):
        order = list(_keys(container))
        position = order.index(key)
        tail = _detach_tail(_entry_slots(container, key))
        del container[key]
        if position > 0:
            _attach_tail(_entry_slots(container, order[position - 1]), tail)


def _keys(node: Any) -> list[Any]:
    return list(node.keys()) if isinstance(node, Mapping) else list(range(len(node)))


def to_node(value: Any, like: Any = None) -> Any:
    """A ruamel node for a plain value, in the style of `like` (the value it replaces)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString, ScalarString

    if isinstance(value, Mapping):
        node: Any = CommentedMap((k, to_node(v)) for k, v in value.items())
    elif isinstance(value, list):
        node = CommentedSeq(to_node(v) for v in value)
    elif isinstance(value, str) and isinstance(like, ScalarString) and (is_plain_text(value) or isinstance(like, DoubleQuotedScalarString)):
        return type(like)(value)
    elif isinstance(value, str) and (_reads_as_other_type(value) or not is_plain_text(value)):
        return DoubleQuotedScalarString(value)
    elif isinstance(value, str) and _is_block_text(value):
        return LiteralScalarString(value)
    else:
        return copy.deepcopy(value)
    if getattr(like, "fa", None) is not None and like.fa.flow_style():
        node.fa.set_flow_style()
    return node


def _is_block_text(text: str) -> bool:
    """Multi-line prose that a literal block (`|`) shows as written."""
    lines = text.rstrip("\n").split("\n")
    return (
        len(lines) > 1
        and not text[:1].isspace()
        and all(line == line.rstrip() and line.isprintable() for line in lines)
    )


def _reads_as_other_type(text: str) -> bool:
    """Whether PyYAML (YAML 1.1, modreg's reader) would read this plain scalar as a non-string."""
    import yaml

    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    return tag != "tag:yaml.org,2002:str"


# ----- Comments after the last value -----


def _tail_slots(node: Any) -> list[tuple[Any, Any, int]]:
    """(container, key, token index) that may hold the lines after `node`, deepest first."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if not isinstance(node, (CommentedMap, CommentedSeq)) or not len(node) or node.fa.flow_style():
        return []
    return _entry_slots(node, _keys(node)[-1])


def _entry_slots(container: Any, key: Any) -> list[tuple[Any, Any, int]]:
    """The slots that may hold the lines after the entry `container[key]`, deepest first."""
    from ruamel.yaml.comments import CommentedMap

    index = 2 if isinstance(container, CommentedMap) else 0
    return [*_tail_slots(container[key]), (container, key, index)]


def _detach_tail(slots: list[tuple[Any, Any, int]]) -> str | None:
    """Cut the comment/blank lines held after a value (its own end-of-line comment stays)."""
    for container, key, index in slots:
        slot = container.ca.items.get(key)
        token = slot[index] if slot and len(slot) > index else None
        if token is None:
            continue
        head, newline, tail = token.value.partition("\n")
        if not tail:
            return None
        token.value = head + newline
        if not head:
            slot[index] = None
        return tail
    return None


def _attach_tail(slots: list[tuple[Any, Any, int]], tail: str | None) -> None:
    """Put lines cut by `_detach_tail` after the deepest of `slots`."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    if not tail or not slots:
        return
    container, key, index = slots[0]
    slot = container.ca.items.setdefault(key, [None, None, None, None])
    if slot[index] is None:
        slot[index] = CommentToken("\n" + tail, CommentMark(0), None)
    else:
        slot[index].value += tail


# ----- Dumping and layout -----


def _loader(style: Style) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = sys.maxsize  # never fold a long line of an edited entry
    yaml.indent(mapping=style.mapping, sequence=style.offset + 2, offset=style.offset)
    yaml.representer.ignore_aliases = lambda data: True
    return yaml


def _dump(data: Any, style: Style) -> str:
    stream = io.StringIO()
    _loader(style).dump(data, stream)
    return stream.getvalue()


def render(key: str, value: Any, lines: list[str]) -> tuple[list[str], bool]:
    """The lines of a new top-level entry, in the file's indentation style."""
    return split_lines(_dump({key: to_node(value)}, _file_style(lines)).rstrip("\n")), False


def _file_style(lines: list[str]) -> Style:
    return _guess_style(lines, Style())


def _guess_style(lines: list[str], fallback: Style) -> Style:
    """The mapping indent and sequence dash offset used by `lines` (block style)."""
    mapping = offset = None
    parent: tuple[int, str] | None = None
    for line in lines:
        content = line.strip()
        if not content or content.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if parent is not None and indent >= parent[0] and parent[1].endswith(":"):
            if content.startswith("- ") and offset is None:
                offset = indent - parent[0]
            elif indent > parent[0] and not parent[1].startswith("- ") and mapping is None:
                mapping = indent - parent[0]
        parent = (indent, re.sub(r"\s+#.*$", "", content))
    return Style(mapping if mapping is not None else fallback.mapping, offset if offset is not None else fallback.offset)


def scan(lines: list[str]) -> list[Statement]:
    """The top-level keys of a block-mapping YAML document, with their comment blocks.

    A comment at column 0 leads the key below it; an indented one ends the entry above it
    (`  # after the last dependency`). Document markers (`---`, `...`) and directives belong
    to no entry, nor does anything after `...`.
    """
    found: list[Statement] = []
    comments_from: int | None = None
    closed = False
    for number, line in enumerate(lines):
        stripped = line.strip()
        if _MARKER.match(line):
            comments_from, closed = None, True
            continue
        if line.startswith("#"):
            comments_from = number if comments_from is None else comments_from
        elif not stripped:
            comments_from = None
        elif line[0] not in " \t-#":
            match = _TOP_KEY.match(line)
            if match is not None:
                key = next(group for group in match.groups() if group is not None)
                lead = comments_from if comments_from is not None else number
                found.append(Statement(key, lead, number, number + 1))
                closed = False
            comments_from = None
        else:
            comments_from = None
        if stripped and found and not closed:
            found[-1] = _with_end(found[-1], number + 1)
    return clamp_ends(found)


def _with_end(statement: Statement, end: int) -> Statement:
    from dataclasses import replace

    return replace(statement, end=end)
