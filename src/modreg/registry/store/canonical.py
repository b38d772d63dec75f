"""Canonical JSON: the one byte format of every generated file.

`dumps_canonical(value)` gives exactly what `json.dumps(value, sort_keys=True, indent=2,
ensure_ascii=False)` gives for JSON values (plus a trailing newline), with three differences
that make it fit for committed files: dates and times become ISO text, NaN and infinities are
refused with the path of the value, and it is several times faster (strings go through the C
encoder, containers are joined rather than yielded piece by piece).

Large files are mostly made of per-entry parts that rarely change. A `Memoized` part is
rendered once and its text kept in a memo (any mutable mapping; the local cache persists one)
under a key naming its content (the hash of the descriptor file it comes from, or of its own
compact JSON) and the indent it sits at, so regenerating after one edit computes and renders
one entry's parts, and the others are joined as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping, MutableMapping
from json.encoder import encode_basestring
from typing import Any

__all__ = [
    "Memoized",
    "NonFiniteNumber",
    "at_indent",
    "dumps_canonical",
    "dumps_compact",
    "jsonable",
    "memo_key",
    "render_fragment",
]


class NonFiniteNumber(ValueError):
    """A NaN or infinity, which JSON cannot hold; `where` is its dotted path."""

    def __init__(self, where: str, value: float) -> None:
        super().__init__(f"{where or 'the value'} is {value!r}, which JSON cannot hold")
        self.where = where
        self.value = value


class Memoized:
    """A part of a document whose rendering may come from (and goes to) a memo.

    `source` is the value, or a function making it (called only when the memo misses). `key`
    names the value, e.g. `data:<sha256 of the file it came from>`; None derives the key from
    the value's compact JSON.
    """

    __slots__ = ("source", "key")

    def __init__(self, source: Any, key: str | None = None) -> None:
        self.source = source
        self.key = key

    def value(self) -> Any:
        return self.source() if callable(self.source) else self.source

    def key_for(self, value: Any) -> str:
        return self.key if self.key is not None else memo_key(dumps_compact(value))


def memo_key(compact: str) -> str:
    """The memo key of a value, from its compact JSON."""
    return hashlib.blake2b(compact.encode("utf-8"), digest_size=16).hexdigest()


def jsonable(value: Any) -> Any:
    """`value` with dates/times as ISO text, tuples as lists and keys as strings."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        return {key if type(key) is str else _key_text(key): jsonable(item) for key, item in value.items()}
    if kind is list:
        return [jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return {_key_text(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


def dumps_compact(value: Any) -> str:
    """One-line JSON with sorted keys (the memo's key text and the cache's storage form)."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default, allow_nan=True
    )


def dumps_canonical(value: Any, *, memo: MutableMapping[str, str] | None = None) -> str:
    """Canonical JSON text of `value`: sorted keys, indent 2, `\\n`, trailing newline.

    Raises:
        NonFiniteNumber: a NaN or infinity somewhere in `value` (its dotted path in `where`).
    """
    return _Encoder(memo).encode(value, "", ()) + "\n"


def render_fragment(value: Any, indent: str = "") -> str:
    """The text a memo holds for `value` at `indent` (under `at_indent(key, indent)`): its
    canonical JSON as it appears there, without the trailing newline."""
    return _Encoder(None).encode(value, indent, ())


def at_indent(key: str, indent: str) -> str:
    """The memo key of a part rendered at `indent` (kept ready to join, never re-indented)."""
    return f"{key}@{len(indent)}" if indent else key


def _default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    return str(key)


class _Encoder:
    """The recursive encoder behind `dumps_canonical`."""

    def __init__(self, memo: MutableMapping[str, str] | None) -> None:
        self.memo = memo

    def encode(self, value: Any, indent: str, where: tuple[str, ...]) -> str:
        kind = type(value)
        if kind is str:
            return encode_basestring(value)
        if kind is dict:
            return self._mapping(value, indent, where)
        if kind is Memoized:
            return self._memoized(value, indent, where)
        if kind is list:
            return self._sequence(value, indent, where)
        return self._other(value, indent, where)

    def _other(self, value: Any, indent: str, where: tuple[str, ...]) -> str:
        if isinstance(value, str):
            return encode_basestring(value)
        if value is None or value is True or value is False:
            return "null" if value is None else "true" if value else "false"
        if isinstance(value, int):
            return int.__repr__(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise NonFiniteNumber(".".join(where), value)
            return float.__repr__(value)
        if isinstance(value, Mapping):
            return self._mapping(value, indent, where)
        if isinstance(value, (list, tuple)):
            return self._sequence(value, indent, where)
        if isinstance(value, (dt.date, dt.time)):
            return encode_basestring(value.isoformat())
        raise TypeError(f"{'.'.join(where) or 'the value'}: {type(value).__name__} is not JSON serialisable")

    def _mapping(self, value: Mapping[Any, Any], indent: str, where: tuple[str, ...]) -> str:
        if not value:
            return "{}"
        inner = indent + "  "
        items = sorted((_key_text(key), item) for key, item in value.items())
        body = ",\n".join(
            f"{inner}{encode_basestring(key)}: {self.encode(item, inner, (*where, key))}" for key, item in items
        )
        return "{\n" + body + "\n" + indent + "}"

    def _sequence(self, value: list[Any] | tuple[Any, ...], indent: str, where: tuple[str, ...]) -> str:
        if not value:
            return "[]"
        inner = indent + "  "
        if all(type(item) is str for item in value):
            body = ",\n".join(inner + text for text in map(encode_basestring, value))
        else:
            body = ",\n".join(inner + self.encode(item, inner, (*where, str(i))) for i, item in enumerate(value))
        return "[\n" + body + "\n" + indent + "]"

    def _memoized(self, part: Memoized, indent: str, where: tuple[str, ...]) -> str:
        if self.memo is None:
            return self.encode(part.value(), indent, where)
        value = part.value() if part.key is None else None
        key = at_indent(part.key_for(value), indent)
        text = self.memo.get(key)
        if text is None:
            text = self.encode(part.value() if value is None else value, indent, where)
            self.memo[key] = text
        return text
