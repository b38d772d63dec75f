"""Safe YAML reading for `files.py`: one document, plain data, a position for every key.

PyYAML composes the node tree (C parser when available); this module walks it once to build
the data, record `(line, col)` of every key and sequence item, and refuse what a descriptor
must not hold: anchors and aliases (alias bombs), merge keys, explicit tags, non-string keys,
duplicate keys. Scalars are constructed by the safe constructor, so types are YAML 1.1's
(`no` -> False, `010` -> 8); such surprises are recorded for validation to warn about.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from modreg._numbers import too_long_integer
from modreg.errors import UsageError

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp"))
_SURPRISING_INT = re.compile(r"^[-+]?(?:0[0-9_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+)$")
_JsonPath = tuple[str | int, ...]
_Surprise = tuple[_JsonPath, str, Any]


def load(text: str, path: Path) -> tuple[dict[str, Any], dict[_JsonPath, tuple[int, int]], list[_Surprise]]:
    """Parse one YAML document into (data, positions, surprises); UsageError when unsafe."""
    if "&" in text or "*" in text:
        _refuse_anchors(text, path)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        walker = _Walker(loader, path)
        data = walker.build(node, ()) if node is not None else {}
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, path) from None
    except yaml.reader.ReaderError as error:
        raise _unreadable_character(error, text, path) from None
    except yaml.YAMLError as error:
        raise UsageError(f"YAML error: {error}.", path=path) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise UsageError(
            "the top level of a descriptor must be a mapping of keys to values.",
            hint="start the file with `name: ...`, one key per line.",
            path=path,
            line=1,
            col=1,
        )
    return data, walker.positions, walker.surprises


def _refuse_anchors(text: str, path: Path) -> None:
    """Refuse the first anchor (`&a`) or alias (`*a`): aliases can expand exponentially."""
    try:
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
                mark = event.start_mark
                raise UsageError(
                    f"YAML {kind}s are not allowed (`{'*' if kind == 'alias' else '&'}{event.anchor}`).",
                    hint="write the value out in full; descriptors refuse anchors and aliases.",
                    path=path,
                    line=mark.line + 1,
                    col=mark.column + 1,
                )
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, path) from None
    except yaml.reader.ReaderError as error:  # a character YAML cannot hold: no mark, a position
        raise _unreadable_character(error, text, path) from None


def _unreadable_character(error: yaml.reader.ReaderError, text: str, path: Path) -> UsageError:
    position = min(max(int(error.position), 0), len(text))
    code = error.character if isinstance(error.character, int) else ord(str(error.character)[:1] or "\0")
    return UsageError(
        f"YAML cannot hold the character U+{code:04X} here: control characters are not allowed.",
        hint='remove it, or write it as an escape inside a double-quoted string ("\\x1b").',
        path=path,
        line=text.count("\n", 0, position) + 1,
        col=position - (text.rfind("\n", 0, position) + 1) + 1,
    )


def _syntax_error(error: yaml.MarkedYAMLError, path: Path) -> UsageError:
    mark = error.problem_mark or error.context_mark
    reason = error.problem or error.context or "invalid YAML"
    if error.context and error.problem:
        reason = f"{error.problem} ({error.context})"
    return UsageError(
        f"YAML syntax error: {reason}.",
        hint="check the indentation and quoting on that line (tabs are not allowed).",
        path=path,
        line=mark.line + 1 if mark else None,
        col=mark.column + 1 if mark else None,
    )


class _Walker:
    """Builds plain data from a node tree, recording positions and refusing unsafe nodes."""

    def __init__(self, loader: Any, path: Path) -> None:
        self.loader = loader
        self.path = path
        self.positions: dict[_JsonPath, tuple[int, int]] = {}
        self.surprises: list[_Surprise] = []

    def build(self, node: Node, where: _JsonPath) -> Any:
        if isinstance(node, ScalarNode):
            return self._scalar(node, where)
        if isinstance(node, SequenceNode) and node.tag == _TAG + "seq":
            return self._sequence(node, where)
        if isinstance(node, MappingNode) and node.tag == _TAG + "map":
            return self._mapping(node, where)
        raise self._error(node, f"the YAML tag `{node.tag}` is not allowed", "remove the `!` tag.")

    def _scalar(self, node: ScalarNode, where: _JsonPath) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise self._error(node, f"the YAML tag `{node.tag}` is not allowed", "remove the `!` tag.")
        try:
            value = self.loader.yaml_constructors[node.tag](self.loader, node)
        except (ValueError, OverflowError) as error:  # 2026-02-30, month 13, an int over 4,300 digits
            raise self._error(node, _bad_scalar(node, error), "quote the value to keep it as text, or correct it.") from None
        if too_long_integer(value):  # 0x…, 0o…, 0b… parse, but could not be printed
            raise self._error(node, _bad_scalar(node, ValueError("over 4,300 digits")), "quote the value to keep it as text.")
        if not node.style and _is_surprising(node):  # plain: None (Python) or '' (C)
            self.surprises.append((where, node.value, value))
        return value

    def _sequence(self, node: SequenceNode, where: _JsonPath) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.positions[(*where, index)] = _position(item)
            items.append(self.build(item, (*where, index)))
        return items

    def _mapping(self, node: MappingNode, where: _JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            here = (*where, key)
            if key in result:
                line = self.positions[here][0]
                raise self._error(
                    key_node,
                    f"duplicate key `{key}` (first defined on line {line})",
                    "each key may appear once per mapping; remove or rename one of them.",
                )
            self.positions[here] = _position(key_node)
            result[key] = self.build(value_node, here)
        return result

    def _key(self, node: Node) -> str:
        if node.tag == _TAG + "merge":
            raise self._error(node, "YAML merge keys (`<<`) are not allowed", "write the keys out in full.")
        if not isinstance(node, ScalarNode):
            raise self._error(node, "a key must be a plain string, not a list or mapping", "quote the key.")
        if node.tag != _TAG + "str":
            value = self.build(node, ())
            raise self._error(
                node,
                f"the key `{node.value}` is read as {type(value).__name__} {value!r}, not as a string",
                f'quote it: "{node.value}":',
            )
        return node.value

    def _error(self, node: Node, message: str, hint: str) -> UsageError:
        line, col = _position(node)
        return UsageError(f"{message}.", hint=hint, path=self.path, line=line, col=col)


def _bad_scalar(node: ScalarNode, error: Exception) -> str:
    """Why a plain scalar that looks like a date or a number cannot be one."""
    kind = node.tag[len(_TAG):]
    shown = node.value if len(node.value) <= 40 else f"{node.value[:20]}…({len(node.value):,} characters)"
    if kind == "int" and "digits" in str(error):
        return f"the integer `{shown}` is too long (modreg reads integers of up to 4,300 digits)"
    what = {"timestamp": "date", "int": "integer", "float": "number"}.get(kind, kind)
    return f"`{shown}` is not a valid {what} ({str(error).split(';')[0]})"


def _position(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _is_surprising(node: ScalarNode) -> bool:
    """YAML 1.1 reads it as something else than it looks like (`no`, `on`, `010`, `1:30`)."""
    if node.tag == _TAG + "bool":
        return node.value.lower() not in ("true", "false")
    if node.tag == _TAG + "int":
        return bool(_SURPRISING_INT.match(node.value))
    return False
