"""JSON Schema checks that speak the user's language.

The shipped schemas (descriptor, config, plugin, template) and the runtime models' parameter
schemas are compiled once per process. Each jsonschema error becomes a `Problem` at the
line of the key it is about, saying what was expected and what was found, with a hint:
"did you mean `advanced`?" for enums and unknown keys, "quote it" for YAML 1.1 and TOML
values that are not the strings they look like (`no`, `010`, `version = 1.10`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
from importlib import resources
from typing import Any

from modreg.errors import Problem
from modreg.registry.store.files import SourceDoc, display_path, locate

SCHEMA_NAMES = ("descriptor", "config", "plugin", "template")
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a table",
    "null": "null",
}
_EXAMPLES = {
    "schema_version": "1",
    "name": '"MyModel"',
    "version": '"1.0.0"',
    "category": '"basic"',
    "status": '"active"',
    "summary": '"one line saying what the model is"',
    "reason": '"superseded by ..."',
    "model": '"NHITS"',
    "path": '"artifacts/model.npz"',
    "date": "2026-01-31",
}
_REQUIRED_RE = re.compile(r"^'(.*)' is a required property$")

JsonPath = tuple[str | int, ...]


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """One of the shipped JSON Schemas (`descriptor`, `config`, `plugin`, `template`)."""
    text = resources.files("modreg.registry.checks").joinpath("schemas", f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.cache
def runtime_models() -> dict[str, dict[str, Any]]:
    """The built-in runtime models: name -> {category, capabilities, params (a JSON Schema)}."""
    text = resources.files("modreg.registry.checks").joinpath("schemas", "runtime_models.json").read_text("utf-8")
    return json.loads(text).get("models", {})


@functools.cache
def _validator(name: str) -> Any:
    return _compile(load_schema(name))


def _params_validator(model: str) -> Any:
    return _compiled_params(model, json.dumps(runtime_models()[model]["params"], sort_keys=True))


@functools.lru_cache(maxsize=256)
def _compiled_params(model: str, schema_text: str) -> Any:
    return _compile(json.loads(schema_text))


def _compile(schema: dict[str, Any]) -> Any:
    """A validator where dates are their own type: a TOML/YAML date is not a string, and a
    `format: date` value must be a real date (a quoted "2026-01-01" is refused)."""
    from jsonschema import Draft202012Validator, FormatChecker, validators

    checker = FormatChecker(formats=())
    checker.checks("date")(lambda value: isinstance(value, _IsoDate))
    types = Draft202012Validator.TYPE_CHECKER.redefine(
        "string", lambda _, value: isinstance(value, str) and not isinstance(value, _IsoDate)
    )
    cls = validators.extend(Draft202012Validator, type_checker=types)
    return cls(_dates_untyped(schema), format_checker=checker)


def _dates_untyped(schema: Any) -> Any:
    """A copy of `schema` without `type: string` beside `format: date` (the format decides)."""
    if isinstance(schema, list):
        return [_dates_untyped(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: _dates_untyped(value) for key, value in schema.items()}
    if copy.get("format") == "date" and copy.get("type") == "string":
        del copy["type"]
    return copy


class _IsoDate(str):
    """The ISO text of a real TOML/YAML date; a quoted "2026-01-01" stays a plain str."""


def date_to_iso(value: Any) -> Any:
    """`value` with dates as `_IsoDate` text and times as ISO text, for JSON Schema checks."""
    if isinstance(value, dict):
        return {key: date_to_iso(item) for key, item in value.items()}
    if isinstance(value, list):
        return [date_to_iso(item) for item in value]
    if isinstance(value, dt.datetime) or isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.date):
        return _IsoDate(value.isoformat())
    return value


@functools.cache
def _fast(name: str) -> Any:
    from modreg.registry.checks._fastschema import compile_fast

    return compile_fast(_dates_untyped(load_schema(name)))


_FAST_PARAMS: dict[str, tuple[Any, Any]] = {}


def _fast_params(model: str) -> Any:
    """The fast check of a model's parameter schema, recompiled if the schema changed."""
    from modreg.registry.checks._fastschema import compile_fast

    schema = runtime_models()[model]["params"]
    cached = _FAST_PARAMS.get(model)
    if cached is None or cached[0] is not schema:
        cached = _FAST_PARAMS[model] = (schema, compile_fast(_dates_untyped(schema)))
    return cached[1]


def warm_up() -> None:
    """Compile the fast checks now, before worker processes fork from this one (jsonschema
    itself is imported only where a file fails a fast check)."""
    for name in SCHEMA_NAMES:
        _fast(name)
    for model, spec in runtime_models().items():
        if "params" in spec:
            _fast_params(model)


def schema_problems(name: str, data: Any, doc: SourceDoc | None, *, path: Any = None) -> list[Problem]:
    """Problems of `data` against the shipped schema `name` (empty when valid)."""
    fast = _fast(name)
    if fast is not None and fast(data):
        return []
    return _problems(_validator(name), date_to_iso(data), doc, (), path)


def params_problems(model: str, params: Any, doc: SourceDoc | None, base: JsonPath, *, path: Any = None,
                    partial: bool = False) -> list[Problem]:
    """Problems of `params` against the runtime model's parameter schema; `partial`: a layer of
    them (a template's), which may leave the model's required parameters to the layers above."""
    fast = _fast_params(model)
    if fast is not None and fast(params):
        return []
    return _problems(_params_validator(model), date_to_iso(params), doc, base, path, partial)


def schema_params_problems(schema: dict[str, Any], params: Any, doc: SourceDoc | None, base: JsonPath, *,
                           path: Any = None, partial: bool = False) -> list[Problem]:
    """Problems of `params` against a given parameter schema (a plugin model's); `partial` as in `params_problems`."""
    validator = _compiled_params("", json.dumps(schema, sort_keys=True))
    return _problems(validator, date_to_iso(params), doc, base, path, partial)


def _problems(validator: Any, instance: Any, doc: SourceDoc | None, base: JsonPath, path: Any,
              partial: bool = False) -> list[Problem]:
    if validator.is_valid(instance):
        return []
    where = display_path(path if path is not None else doc.path if doc else "")
    problems: list[Problem] = []
    for error in validator.iter_errors(instance):
        if partial and error.validator == "required" and not error.absolute_path:
            continue  # a top-level parameter the entry, the template's user or --param gives
        problems.extend(_translate(error, doc, base, where))
    return problems


def _translate(error: Any, doc: SourceDoc | None, base: JsonPath, where: str) -> list[Problem]:
    at: JsonPath = (*base, *error.absolute_path)
    keyword = error.validator
    if "propertyNames" in error.schema_path:
        key = error.instance
        return [_problem(doc, where, (*at, key), f"key `{key}` is not allowed here: {_describe(error)}", _name_hint(key))]
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        return [_unknown_key(doc, where, at, key, error) for key in _extra_keys(error)]
    if keyword in ("anyOf", "oneOf") and error.context:
        return _alternatives(error, doc, base, where)
    if keyword == "required":
        match = _REQUIRED_RE.match(error.message)
        key = match.group(1) if match else str(error.validator_value)
        return [_missing(doc, where, at, key)]
    return [_problem(doc, where, at, *_message_and_hint(error, doc, at))]


def _alternatives(error: Any, doc: SourceDoc | None, base: JsonPath, where: str) -> list[Problem]:
    """`anyOf`: when every branch wants another type, say "a list or null"; else the branch
    that got furthest explains the problem."""
    from jsonschema.exceptions import best_match

    at: JsonPath = (*base, *error.absolute_path)
    branches = [e for e in error.context if e.validator == "type" and not e.relative_path]
    if len(branches) == len(error.schema.get(error.validator, [])):
        wanted: list[str] = []
        for branch in branches:
            types = branch.validator_value if isinstance(branch.validator_value, list) else [branch.validator_value]
            wanted.extend(_TYPE_NAMES.get(t, t) for t in types if _TYPE_NAMES.get(t, t) not in wanted)
        message = f"`{json_path_text(at)}` must be {' or '.join(wanted)}; found {_kind(error.instance)} {_show(error.instance)}"
        return [_problem(doc, where, at, message, None)]
    return _translate(best_match(error.context), doc, base, where)


def _problem(doc: SourceDoc | None, where: str, at: JsonPath, message: str, hint: str | None) -> Problem:
    line, col = locate(doc, at) if doc is not None else (1, 1)
    return Problem(path=where, line=line, col=col, message=message, json_path=json_path_text(at), hint=hint)


def json_path_text(at: JsonPath) -> str:
    """`runtime.params.h`, `tags[1]`, `metadata["a b"]`; `(top level)` for the root."""
    text = ""
    for part in at:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "(top level)"


def _extra_keys(error: Any) -> list[str]:
    allowed = error.schema.get("properties", {})
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return [k for k in error.instance if k not in allowed and not any(p.search(k) for p in patterns)]


def _unknown_key(doc: SourceDoc | None, where: str, at: JsonPath, key: str, error: Any) -> Problem:
    allowed = sorted(error.schema.get("properties", {}))
    guess = did_you_mean(key, allowed)
    hint = guess or f"allowed keys here: {', '.join(allowed)}."
    place = json_path_text(at) if at else "the top level"
    return _problem(doc, where, (*at, key), f"unknown key `{key}` in {place}", hint)


def _missing(doc: SourceDoc | None, where: str, at: JsonPath, key: str) -> Problem:
    place = f"`{json_path_text(at)}`" if at else "the descriptor"
    example = _EXAMPLES.get(key)
    hint = None
    if example is not None:
        hint = f"add `{key}: {example}`." if doc is not None and doc.fmt == "yaml" else f"add `{key} = {example}`."
    return _problem(doc, where, at, f"{place} is missing the required key `{key}`", hint)


def _message_and_hint(error: Any, doc: SourceDoc | None, at: JsonPath) -> tuple[str, str | None]:
    keyword, found = error.validator, _show(error.instance)
    label = f"`{json_path_text(at)}`"
    if keyword == "enum":
        options = [str(v) for v in error.validator_value]
        hint = did_you_mean(str(error.instance), options) if isinstance(error.instance, str) else None
        return f"{label} must be one of {', '.join(options)}; found {found}", hint or _quote_hint(doc, at, error)
    if keyword == "const":
        return f"{label} must be {_show(error.validator_value)}; found {found}", None
    if keyword == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
        return f"{label} must be {wanted}; found {_kind(error.instance)} {found}", _quote_hint(doc, at, error)
    if keyword == "format":
        quoted = "the quoted text " if isinstance(error.instance, str) and len(error.instance) == 10 else ""
        return f"{label} must be a date (YYYY-MM-DD); found {quoted}{found}", "write the date unquoted, e.g. 2026-01-31."
    if keyword == "pattern":
        return f"{label} is not valid: {_describe(error)}; found {found}", _pattern_hint(error, at)
    return f"{label}: {_generic(error)}", None


def _describe(error: Any) -> str:
    description = error.schema.get("description")
    return description.rstrip(".") if description else f"it must match {error.validator_value}"


def _pattern_hint(error: Any, at: JsonPath) -> str | None:
    if at and at[-1] in ("version", "min_runtime_version"):
        return 'write MAJOR.MINOR.PATCH with no leading zeros, e.g. "1.2.0".'
    if isinstance(error.instance, str):
        return _name_hint(error.instance)
    return None


def _name_hint(name: Any) -> str | None:
    from modreg.registry.store.names import check_name

    reason = check_name(name) if isinstance(name, str) else None
    return f"`{name}` is unsafe as a name: {reason}." if reason else None


def _generic(error: Any) -> str:
    keyword, value = error.validator, error.validator_value
    texts = {
        "minLength": "must not be empty" if value == 1 else f"must be at least {value} characters long",
        "maxLength": f"must be at most {value} characters long",
        "minItems": f"needs at least {value} item{'s' if value != 1 else ''}",
        "uniqueItems": f"has duplicate items: {_show(error.instance)}",
        "minimum": f"must be at least {value}; found {_show(error.instance)}",
        "maximum": f"must be at most {value}; found {_show(error.instance)}",
        "exclusiveMinimum": f"must be greater than {value}; found {_show(error.instance)}",
        "exclusiveMaximum": f"must be less than {value}; found {_show(error.instance)}",
    }
    return texts.get(keyword, error.message)


def _kind(value: Any) -> str:
    if isinstance(value, _IsoDate):
        return "a date"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "the string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "null" if value is None else type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"`{value}`" if len(value) <= 60 else f"`{value[:57]}...`"
    text = json.dumps(value, default=str)
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"


def _quote_hint(doc: SourceDoc | None, at: JsonPath, error: Any) -> str | None:
    """For a non-string where a string belongs: how the file wrote it, and the quoted form."""
    expects_string = error.validator == "enum" or "string" in (
        error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    )
    plain = isinstance(error.instance, (str, dict, list)) and not isinstance(error.instance, _IsoDate)
    if doc is None or not expects_string or plain:
        return None
    literal = source_literal(doc, at)
    if not literal:
        return None
    if literal == _show(error.instance).strip("`"):
        return f'quote it: "{literal}"'

    key = at[-1] if at and isinstance(at[-1], str) else None
    yaml = doc.fmt == "yaml"
    reader = "YAML 1.1" if yaml else "TOML"
    quoted = f'"{literal}"'
    example = quoted if key is None else f"{key}: {quoted}" if yaml else f"{key} = {quoted}"
    return f"{reader} reads `{literal}` as {_show(error.instance)}; quote it: {example}"


def source_literal(doc: SourceDoc, at: JsonPath) -> str | None:
    """The value text written at `at` (after `key =` / `key:` or `- `), comment stripped."""
    if at not in doc.positions:
        return None
    line, col = doc.positions[at]
    lines = doc.text.removeprefix("\ufeff").splitlines()  # positions count from after a byte-order mark
    if line > len(lines):
        return None
    rest = lines[line - 1][col - 1 :]
    if isinstance(at[-1], str):
        separator = re.search(r"\s*[:=]\s*", rest)
        if separator is None:
            return None
        rest = rest[separator.end() :]
    elif rest.startswith("- "):
        rest = rest[2:]
    rest = re.split(r"\s+#", rest, maxsplit=1)[0]
    value = re.split(r"[,\]}]", rest, maxsplit=1)[0].strip()
    return value or None


def did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str | None:
    """`did you mean `x`?` for the closest option (also ignoring case), or None."""
    lowered = {option.lower(): option for option in options}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f"did you mean `{lowered[word.lower()]}`?"
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None
