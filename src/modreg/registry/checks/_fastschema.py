"""A fast yes-check for the JSON Schema subset modreg's schemas use.

jsonschema costs about 0.4 ms per descriptor, more than parsing it; `validate` of 10,000
files must take a few seconds. `compile_fast(schema)` turns a schema into nested closures
that answer "certainly valid?" in a few microseconds. Only a True answer is trusted: on False
the caller runs jsonschema for the exact errors, so this check may be stricter than the
schema (it says False for datetimes, unknown formats), never more lenient. A schema using a
keyword outside the subset compiles to None (always use jsonschema).

Instances are the parsed TOML/YAML data: a `datetime.date` is the schema's `format: date`
value and not a string, as in `_schemacheck`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(["$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples"])
_OBJECT = frozenset(["required", "properties", "additionalProperties"])
_KEYWORDS = frozenset(
    [
        "type", "enum", "const", "pattern", "format", "minLength", "maxLength", "minItems", "maxItems",
        "uniqueItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "required",
        "properties", "additionalProperties", "propertyNames", "items", "prefixItems", "$ref", "anyOf", "allOf", "oneOf", "not",
    ]
)


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda _: True
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        for test in checks:
            if not test(value):
                return False
        return True

    return check


class _Unsupported(Exception):
    """The schema uses a keyword the fast check does not implement."""


def compile_fast(schema: Any) -> Check | None:
    """A function instance -> True when certainly valid; None if the schema is out of reach."""
    try:
        return _Compiler(schema).compile(schema)
    except _Unsupported:
        return None


def _is_date(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
_PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    """JSON-like data with no dates (dates compare as text in jsonschema: leave them to it)."""
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_plain(item) for item in value.values())
    return isinstance(value, _PLAIN)


def _equal(a: Any, b: Any) -> bool:
    """jsonschema's equality: booleans are not numbers, 1 == 1.0, containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b if not (_is_number(a) and _is_number(b)) else a == b


class _Compiler:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda _: True
        if schema is False:
            return lambda _: False
        if not isinstance(schema, dict):
            raise _Unsupported
        keys = {key for key in schema if not key.startswith("x-")}  # x-*: vendor annotations
        if not keys <= _KEYWORDS | _ANNOTATIONS:
            raise _Unsupported
        checks = [self._keyword(key, value, schema) for key, value in schema.items() if key in _KEYWORDS - _OBJECT]
        if keys & _OBJECT:
            checks.append(self._object(schema))
        return _all([check for check in checks if check is not None])

    def _object(self, schema: dict[str, Any]) -> Check:
        """required + properties + additionalProperties in one pass over the mapping."""
        required = tuple(schema.get("required", ()))
        properties = {key: self.compile(sub) for key, sub in schema.get("properties", {}).items()}
        extra = self.compile(schema["additionalProperties"]) if "additionalProperties" in schema else None

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key in required:
                if key not in value:
                    return False
            for key, item in value.items():
                test = properties.get(key, extra)
                if test is not None and not test(item):
                    return False
            return True

        return check

    def _keyword(self, key: str, value: Any, schema: dict[str, Any]) -> Check | None:
        method = getattr(self, "_k_" + key.lstrip("$"))
        return method(value, schema)

    # ----- any instance -----

    def _k_type(self, value: Any, _: dict) -> Check:
        names = value if isinstance(value, list) else [value]
        if any(name not in _TYPES for name in names):
            raise _Unsupported
        tests = [_TYPES[name] for name in names]
        if len(tests) == 1:
            return tests[0]
        return lambda v: any(test(v) for test in tests)

    def _k_enum(self, value: Any, _: dict) -> Check:
        if all(isinstance(option, str) for option in value):
            strings = frozenset(value)
            return lambda v: isinstance(v, str) and v in strings
        options = list(value)
        return lambda v: _plain(v) and any(_equal(v, option) for option in options)

    def _k_const(self, value: Any, _: dict) -> Check:
        return lambda v: _plain(v) and _equal(v, value)

    def _k_format(self, value: Any, _: dict) -> Check:
        if value != "date":
            raise _Unsupported
        return _is_date

    def _k_ref(self, value: Any, _: dict) -> Check:
        if not isinstance(value, str) or not value.startswith("#/$defs/"):
            raise _Unsupported
        name = value[len("#/$defs/") :]
        if name not in self.refs:
            self.refs[name] = lambda v: False  # placeholder while compiling recursive refs
            target = self.root.get("$defs", {}).get(name)
            if target is None:
                raise _Unsupported
            compiled = self.compile(target)
            self.refs[name] = compiled
        return lambda v: self.refs[name](v)

    def _k_anyOf(self, value: Any, _: dict) -> Check:
        branches = [self.compile(branch) for branch in value]
        return lambda v: any(branch(v) for branch in branches)

    def _k_allOf(self, value: Any, _: dict) -> Check:
        branches = [self.compile(branch) for branch in value]
        return lambda v: all(branch(v) for branch in branches)

    def _k_oneOf(self, value: Any, _: dict) -> Check:
        raise _Unsupported  # "exactly one" cannot be derived from stricter branch checks

    def _k_not(self, value: Any, _: dict) -> Check:
        raise _Unsupported  # "certainly invalid" cannot be derived from a stricter check

    # ----- strings -----

    def _k_pattern(self, value: Any, _: dict) -> Check:
        compiled = re.compile(value)
        return lambda v: not isinstance(v, str) or compiled.search(v) is not None

    def _k_minLength(self, value: Any, _: dict) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= value

    def _k_maxLength(self, value: Any, _: dict) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= value

    # ----- numbers -----

    def _k_minimum(self, value: Any, _: dict) -> Check:
        return lambda v: not _is_number(v) or v >= value

    def _k_maximum(self, value: Any, _: dict) -> Check:
        return lambda v: not _is_number(v) or v <= value

    def _k_exclusiveMinimum(self, value: Any, _: dict) -> Check:
        return lambda v: not _is_number(v) or v > value

    def _k_exclusiveMaximum(self, value: Any, _: dict) -> Check:
        return lambda v: not _is_number(v) or v < value

    # ----- arrays -----

    def _k_items(self, value: Any, schema: dict) -> Check:
        item, skip = self.compile(value), len(schema.get("prefixItems", ()))

        def check(v: Any) -> bool:
            if isinstance(v, list):
                for x in v[skip:] if skip else v:
                    if not item(x):
                        return False
            return True

        return check

    def _k_prefixItems(self, value: Any, _: dict) -> Check:
        items = [self.compile(sub) for sub in value]
        return lambda v: not isinstance(v, list) or all(check(x) for check, x in zip(items, v))

    def _k_minItems(self, value: Any, _: dict) -> Check:
        return lambda v: not isinstance(v, list) or len(v) >= value

    def _k_maxItems(self, value: Any, _: dict) -> Check:
        return lambda v: not isinstance(v, list) or len(v) <= value

    def _k_uniqueItems(self, value: Any, _: dict) -> Check | None:
        if not value:
            return None
        return lambda v: not isinstance(v, list) or _unique(v)

    # ----- objects -----

    def _k_propertyNames(self, value: Any, _: dict) -> Check:
        name = self.compile(value)
        return lambda v: not isinstance(v, dict) or all(name(k) for k in v)


def _unique(items: list[Any]) -> bool:
    if all(isinstance(item, str) for item in items):
        return len(set(items)) == len(items)
    if not _plain(items):
        return False
    return not any(_equal(a, b) for i, a in enumerate(items) for b in items[i + 1 :])
