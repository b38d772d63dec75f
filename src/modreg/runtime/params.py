"""Parameter JSON Schemas derived from `__init__` signatures, and validation against them.

A model's (or a component's) `__init__` is the single source of its parameters: names, type
hints (int, float, bool, str, tuple[int, ...], Literal[...], Optional[...], and the component
markers of `modreg.runtime.components`), defaults, plus bounds declared in the class attribute
`param_bounds = {"h": {"minimum": 1}}` (merged along the class's bases, subclasses win).
Descriptions come from the `Args:` section of the class docstrings.

The same schema validates a descriptor's `runtime.params`, templates and `--param key=value`;
`validate_against` raises one UsageError naming the parameter, what it expects and what it found
(`factory.validate_params` does the same for a registered model by name).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from modreg._toml_value import toml_value
from modreg.errors import UsageError
from modreg.runtime import _component_registry as components

__all__ = [
    "ParameterError",
    "defaults_of",
    "describe",
    "parse_cli_param",
    "schema_for",
    "type_schema",
    "validate_against",
]

class ParameterError(UsageError):
    """A bad parameter value or name; `param` names it, so callers can point at its line."""

    def __init__(self, message: str, *, param: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.param = param


_SCALARS: dict[type, dict[str, Any]] = {
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
}
_NOUNS = {"integer": "integers", "number": "numbers", "string": "strings", "boolean": "booleans"}


# ----- Schemas -----


@functools.cache
def schema_for(cls: type) -> dict[str, Any]:
    """The JSON Schema (an object) of `cls.__init__`'s parameters.

    Raises:
        TypeError: the signature has *args/**kwargs, an unannotated or unsupported parameter.
    """
    hints = typing.get_type_hints(cls.__init__, include_extras=True)
    bounds = _bounds(cls)
    docs = _arg_docs(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in _parameters(cls):
        if param.name not in hints:
            raise TypeError(f"{cls.__qualname__}.__init__: parameter {param.name!r} has no type hint")
        prop = {**type_schema(hints[param.name]), **bounds.get(param.name, {})}
        if param.name in docs:
            prop["description"] = docs[param.name]
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
        else:
            prop["default"] = _json_value(param.default)
        properties[param.name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def type_schema(annotation: Any) -> dict[str, Any]:
    """The JSON Schema of one type hint."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        marker = next((m for m in annotation.__metadata__ if isinstance(m, components.ComponentKind)), None)
        return _component_schema(marker.kind) if marker else type_schema(args[0])
    if origin in (typing.Union, types.UnionType):
        return _union_schema(args)
    if origin is typing.Literal:
        return _literal_schema(args)
    if origin in (tuple, list):
        return _sequence_schema(origin, args)
    if annotation is Any:
        return {}
    if annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    raise TypeError(f"unsupported parameter type {annotation!r}")


def _union_schema(args: tuple[Any, ...]) -> dict[str, Any]:
    members = [type_schema(a) for a in args if a is not type(None)]
    if type(None) in args:
        members.append({"type": "null"})
    return members[0] if len(members) == 1 else {"anyOf": members}


def _literal_schema(args: tuple[Any, ...]) -> dict[str, Any]:
    schema: dict[str, Any] = {"enum": list(args)}
    kinds = {type(a) for a in args}
    if len(kinds) == 1 and kinds.pop() in _SCALARS:
        schema = {**_SCALARS[type(args[0])], **schema}
    return schema


def _sequence_schema(origin: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    if origin is tuple and args and args[-1] is not Ellipsis:
        items = [type_schema(a) for a in args]
        return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
    return {"type": "array", "items": type_schema(args[0]) if args else {}}


def _component_schema(kind: str) -> dict[str, Any]:
    """A component: a bare name (when it needs no parameters) or a table with `type`."""
    known = components.entries(kind)
    bare = [name for name, cls in known.items() if not schema_for(cls).get("required")]
    tables = [_component_table(name, cls) for name, cls in known.items()]
    return {"x-component": kind, "anyOf": [{"type": "string", "enum": bare}, *tables]}


def _component_table(name: str, cls: type) -> dict[str, Any]:
    own = schema_for(cls)
    return {
        "type": "object",
        "properties": {"type": {"const": name}, **own["properties"]},
        "required": ["type", *own.get("required", [])],
        "additionalProperties": False,
    }


def _parameters(cls: type) -> list[inspect.Parameter]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{cls.__qualname__}.__init__ must list every parameter explicitly, not *{param.name}")
    return params


# Bounds every class shares by parameter name: numpy's generators refuse a negative seed.
_COMMON_BOUNDS: dict[str, dict[str, Any]] = {"random_seed": {"minimum": 0}}


def _bounds(cls: type) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {name: dict(bound) for name, bound in _COMMON_BOUNDS.items()}
    for klass in reversed(cls.__mro__):
        for name, bound in vars(klass).get("param_bounds", {}).items():
            merged[name] = {**merged.get(name, {}), **bound}
    return merged


_ARG_LINE = re.compile(r"^\s{4,}(\w+)(?:\s*\([^)]*\))?:\s+(.*)$")


def _arg_docs(cls: type) -> dict[str, str]:
    """`name: text` entries of the `Args:` sections of the class and its bases (class wins)."""
    found: dict[str, str] = {}
    for klass in cls.__mro__:
        section = (klass.__doc__ or "").partition("Args:")[2].split("\n\n")[0]
        for line in section.splitlines():
            match = _ARG_LINE.match(line)
            if match and match.group(1) not in found:
                found[match.group(1)] = match.group(2).strip()
    return found


def defaults_of(cls: type) -> dict[str, Any]:
    """Parameter name -> default value (as given in the signature)."""
    return {p.name: p.default for p in _parameters(cls) if p.default is not inspect.Parameter.empty}


def _json_value(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_json_value(v) for v in value]
    if isinstance(value, components.Configurable):
        return value.to_config()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"default {value!r} is not JSON-able; use None, a scalar or a tuple")


# ----- Validation -----


def validate_against(cls: type, params: Mapping[str, Any], *, owner: str, partial: bool = False) -> dict[str, Any]:
    """Validate `params` against `cls.__init__`'s schema; return them coerced (tuples, floats).

    With `partial`, required parameters may be missing (a layer merged with others later).
    """
    schema = schema_for(cls)
    hints = typing.get_type_hints(cls.__init__, include_extras=True)
    _check_names(schema, params, owner, partial)
    return {key: _checked(owner, key, schema["properties"][key], hints[key], value) for key, value in params.items()}


def _check_names(schema: dict[str, Any], params: Mapping[str, Any], owner: str, partial: bool) -> None:
    known = list(schema["properties"])
    for key in params:
        if key not in schema["properties"]:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise ParameterError(
                f"{_owner_text(owner)} has no parameter `{key}`.",
                param=str(key), hint=f"{hint}its parameters: {', '.join(known)}.",
            )
    missing = [key for key in schema.get("required", []) if key not in params]
    if missing and not partial:
        how = f"--param {missing[0]}=..." if "." not in owner else f"{{ type = ..., {missing[0]} = ... }}"
        raise ParameterError(
            f"{_owner_text(owner)} needs parameter `{missing[0]}`, which has no default.",
            param=missing[0], hint=f"set it, e.g. {how} (required: {', '.join(schema['required'])}).",
        )


def _checked(owner: str, key: str, prop: dict[str, Any], hint: Any, value: Any) -> Any:
    where = f"{owner}.{key}" if owner else key
    if "x-component" in prop:
        try:
            _check_component(prop["x-component"], value, where)
        except UsageError as error:
            raise ParameterError(error.message, param=key, hint=error.hint) from None
        return value
    if not _is_valid(prop, value):
        raise ParameterError(
            f"Parameter `{key}` of {owner} expects {describe(prop)}, found {_found(value)}.",
            param=key, hint=f"run `modreg schema {owner.split('.')[0]}` to see every parameter with its type and bounds.",
        )
    return _coerce(hint, value)


def _is_valid(prop: dict[str, Any], value: Any) -> bool:
    import jsonschema

    if not _all_finite(value):  # JSON Schema's bounds let nan through (every comparison with it is false)
        return False

    schema = {k: v for k, v in prop.items() if k not in ("default", "description")}
    return jsonschema.Draft202012Validator(schema).is_valid(_json_value_loose(value))


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_all_finite(v) for v in value)
    if isinstance(value, Mapping):
        return all(_all_finite(v) for v in value.values())
    return True


def _json_value_loose(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_value_loose(v) for v in value]
    return value


def _coerce(hint: Any, value: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if value is None:
        return None
    if origin is typing.Annotated:
        return _coerce(args[0], value)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        return _coerce(members[0], value) if len(members) == 1 else value
    if origin is tuple:
        item_hints = args[:-1] * len(value) if args and args[-1] is Ellipsis else args
        return tuple(_coerce(h, v) for h, v in zip(item_hints or (Any,) * len(value), value))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, float):
        return int(value)
    return value


# ----- Messages -----


def describe(schema: dict[str, Any]) -> str:
    """A schema in words: "an integer >= 1", "one of 'float32', 'float64'", ..."""
    if "x-component" in schema:
        bare = schema["anyOf"][0]["enum"]
        return f"a {schema['x-component']} name ({', '.join(bare)}) or a table with `type`"
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(describe(s) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        return _describe_array(schema)
    text = {"integer": "an integer", "number": "a number", "boolean": "true or false", "string": "a string",
            "null": "nothing (omit it)"}.get(str(kind), "a value")
    return text + _describe_bounds(schema)


def _describe_array(schema: dict[str, Any]) -> str:
    items = schema.get("items") or (schema.get("prefixItems") or [{}])[0]
    noun = _NOUNS.get(str(items.get("type")), "values")
    least = schema.get("minItems", 0)
    if least and least == schema.get("maxItems"):
        size = f"a list of {least} "
    else:
        size = "a non-empty list of " if least == 1 else f"a list of at least {least} " if least else "a list of "
    return f"{size}{noun}{_describe_bounds(items)}"  # the bounds of each item: `level` = [150] is out of (0, 100)


def _describe_bounds(schema: dict[str, Any]) -> str:
    parts = [f"{op} {schema[key]}" for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                   ("maximum", "<="), ("exclusiveMaximum", "<")) if key in schema]
    return (" " + " and ".join(parts)) if parts else ""


def _found(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"{value!r} (a string)"
    if isinstance(value, Mapping):
        return f"a table {dict(value)!r}"
    if isinstance(value, (list, tuple)):
        return f"a list {list(value)!r}"
    return repr(value)


def _owner_text(owner: str) -> str:
    return f"Runtime model {owner}" if "." not in owner else f"Component `{owner}`"


# ----- Command line -----


def parse_cli_param(text: str) -> tuple[str, Any]:
    """`"k=v"` -> (k, v), the value parsed as a TOML value (`mae` stays the string "mae").

    Raises:
        UsageError: no `=`, an empty key, or a value `toml_value` refuses.
    """
    if not isinstance(text, str):
        raise UsageError(f"a parameter must be a 'key=value' string, not {text!r}.",
                         hint="pass parameters as a dict, or as strings such as 'max_steps=200'.")
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(
            f"--param {text!r} is not of the form key=value.",
            hint="write e.g. --param max_steps=200 or --param loss='{type=\"huber\", delta=0.5}'.",
        )
    return key, toml_value(raw.strip(), f"--param {key}")


def _check_component(kind: str, spec: Any, where: str) -> None:
    """A component spec names a known component whose table fits its schema (nothing is built)."""
    if isinstance(spec, components.Configurable):
        if spec.component_kind != kind:
            raise UsageError(f"Parameter `{where}` expects a {kind}, found a {spec.component_kind or 'plain object'}.")
        return
    cls, table = components.resolve(kind, spec, where)
    validate_against(cls, table, owner=where)
