"""Single-descriptor checks beyond the schema: policy, lifecycle, history, runtime.

Each function takes the `_FileChecker` of `validate.py` (data, doc, config, context) and adds
problems to it. They assume nothing about types the schema may already have rejected.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from modreg.errors import UsageError
from modreg.registry.checks import _schemacheck
from modreg.registry.checks._schemacheck import did_you_mean, params_problems
from modreg.registry.store.versions import Version, VersionRange

if TYPE_CHECKING:
    from modreg.registry.checks.validate import _FileChecker

_POLICY = "modreg.toml [validation]"


def check_policy(check: _FileChecker) -> None:
    """Required fields, lengths, tag count and allowed tags/capabilities from modreg.toml."""
    config, data = check.config, check.data
    for field in config.required_fields:
        if _is_empty(_lookup(data, field.split("."))):
            parent = tuple(field.split(".")[:-1])
            check.add(parent, f"`{field}` is required by the registry's policy", f"add it ({_POLICY} required_fields).")
    for key, limit in (("summary", config.summary_max_length), ("description", config.description_max_length)):
        value = data.get(key)
        if isinstance(value, str) and len(value) > limit:
            check.add((key,), f"`{key}` is {len(value)} characters long; the policy allows {limit}", f"shorten it ({_POLICY} {key}_max_length).")
    tags = data.get("tags") if isinstance(data.get("tags"), list) else []
    if len(tags) > config.max_tags:
        check.add(("tags",), f"{len(tags)} tags; the policy allows {config.max_tags}", f"keep the most telling ones ({_POLICY} max_tags).")
    _check_vocabulary(check, "tags", tags, config.allowed_tags, "allowed_tags")
    capabilities = data.get("capabilities") if isinstance(data.get("capabilities"), list) else []
    _check_vocabulary(check, "capabilities", capabilities, config.allowed_capabilities or None, "[plugins] allowed_capabilities")


def _check_vocabulary(check: _FileChecker, key: str, values: list[Any], allowed: tuple[str, ...] | None, setting: str) -> None:
    if allowed is None:
        return
    for index, value in enumerate(values):
        if isinstance(value, str) and value not in allowed:
            hint = did_you_mean(value, allowed) or f"allowed: {', '.join(allowed)}."
            singular = {"tags": "tag", "capabilities": "capability"}[key]
            check.add((key, index), f"{singular} `{value}` is not allowed by modreg.toml ({setting})", hint)


def _lookup(data: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def check_lifecycle(check: _FileChecker) -> None:
    """status vs [deprecation], the replacement, since <= sunset, created <= updated."""
    data = check.data
    status, deprecation = data.get("status"), data.get("deprecation")
    if status == "deprecated" and deprecation is None:
        check.add(("status",), "status is `deprecated` but there is no [deprecation] table", "add [deprecation] with a reason, or run `modreg deprecate NAME --reason ...`.")
    if deprecation is not None and status == "active":
        check.add(("deprecation",), "[deprecation] is present but status is `active`", 'set status = "deprecated", or remove [deprecation] (`modreg restore NAME`).')
    if isinstance(deprecation, dict):
        if deprecation.get("replacement") is not None and deprecation.get("replacement") == data.get("name"):
            check.add(("deprecation", "replacement"), "an entry cannot be its own replacement", "name another, active entry.")
        _check_order(check, deprecation.get("since"), deprecation.get("sunset"), ("deprecation", "sunset"), "sunset", "since")
        _check_sunset(check, status, deprecation.get("sunset"))
    _check_order(check, data.get("created"), data.get("updated"), ("updated",), "updated", "created")


def _check_order(check: _FileChecker, earlier: Any, later: Any, at: tuple, later_name: str, earlier_name: str) -> None:
    if isinstance(earlier, dt.date) and isinstance(later, dt.date) and _day(later) < _day(earlier):
        check.add(at, f"`{later_name}` ({later}) is before `{earlier_name}` ({earlier})", "fix the dates.")


def _check_sunset(check: _FileChecker, status: Any, sunset: Any) -> None:
    if status == "deprecated" and isinstance(sunset, dt.date) and _day(sunset) < dt.date.today():
        check.add(
            ("deprecation", "sunset"),
            f"the sunset date {sunset} has passed",
            "archive the entry (`modreg archive NAME`) or move the sunset.",
            severity="warning",
        )


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def check_history(check: _FileChecker) -> None:
    """History versions strictly increase, dates do not go back, none is above `version`."""
    history = check.data.get("history")
    if not isinstance(history, list):
        return
    current = _version(check.data.get("version"))
    previous: tuple[Version, Any] | None = None
    for index, item in enumerate(history):
        version = _version(item.get("version")) if isinstance(item, dict) else None
        if version is None:
            continue
        if previous is not None and version <= previous[0]:
            check.add(("history", index, "version"), f"history version {version} does not come after {previous[0]}", "history is oldest first, one entry per version.")
        elif previous is not None and _dates_go_back(previous[1], item.get("date")):
            check.add(("history", index, "date"), f"history date {item.get('date')} is before the previous entry's {previous[1]}", "history is oldest first.")
        if current is not None and version > current:
            check.add(("history", index, "version"), f"history version {version} is above the entry's version {current}", "bump `version` with `modreg version NAME --bump ...`.")
        previous = (version, item.get("date"))


def _dates_go_back(before: Any, after: Any) -> bool:
    return isinstance(before, dt.date) and isinstance(after, dt.date) and _day(after) < _day(before)


def _version(value: Any) -> Version | None:
    try:
        return Version.parse(value) if isinstance(value, str) else None
    except UsageError:
        return None


def check_dependency_ranges(check: _FileChecker) -> None:
    """Each dependency's range parses; no entry depends on itself."""
    dependencies = check.data.get("dependencies")
    if not isinstance(dependencies, dict):
        return
    for name, text in dependencies.items():
        if name == check.data.get("name"):
            check.add(("dependencies", name), f"`{name}` depends on itself", "remove the dependency.")
        if isinstance(text, str):
            try:
                _parse_range(text)
            except UsageError as error:
                check.add(("dependencies", name), error.message.rstrip("."), error.hint)


@functools.lru_cache(maxsize=1024)
def _parse_range(text: str) -> VersionRange:
    return VersionRange.parse(text)


def check_runtime(check: _FileChecker) -> None:
    """runtime.model is a known runtime model; params fit its schema; the template exists."""
    runtime = check.data.get("runtime")
    if not isinstance(runtime, dict) or not isinstance(runtime.get("model"), str):
        return
    params = runtime.get("params", {})
    template = runtime.get("template")
    if isinstance(template, str):
        if template not in check.context.templates:
            _unknown_template(check, template)
            return  # the parameters are incomplete without the template's
        params = _with_template(check, runtime["model"], template, params)
    check_model_and_params(check, ("runtime", "model"), runtime["model"], params, ("runtime", "params"))


def _unknown_template(check: _FileChecker, name: str) -> None:
    templates = sorted(check.context.templates)
    hint = did_you_mean(name, templates) or (f"templates: {', '.join(templates)}." if templates else "templates/ is empty.")
    check.add(("runtime", "template"), f"unknown template `{name}`", hint)


def _with_template(check: _FileChecker, model: str, name: str, params: Any) -> Any:
    """The template's parameters overlaid with the entry's own."""
    data = check.context.templates[name]
    if isinstance(data.get("model"), str) and data["model"] != model:
        check.add(("runtime", "template"), f"template `{name}` is for runtime model `{data['model']}`, not `{model}`", "use a template for this model, or one without a model.")
    base = data.get("params") if isinstance(data.get("params"), dict) else {}
    return {**base, **params} if isinstance(params, dict) else params


def check_model_and_params(check: _FileChecker, model_at: tuple, model: str, params: Any, params_at: tuple,
                           partial: bool = False) -> None:
    """`model` is a known runtime model; `params` validate against its parameter schema (`partial`:
    they are a template's layer, which need not hold the model's required parameters)."""
    context = check.context
    if not context.is_known_model(model):
        known = context.known_models()
        hint = did_you_mean(model, known) or (
            f"known runtime models: {', '.join(known)}." if known else "no runtime models are known yet; see `modreg models`."
        )
        check.add(model_at, f"unknown runtime model `{model}`", hint)
        return
    models = _schemacheck.runtime_models()
    if model in models and "params" in models[model] and params is not None:
        check.problems.extend(params_problems(model, params, check.doc, params_at, path=check.path, partial=partial))
    elif model in context.plugin_schemas and params is not None:
        schema = context.plugin_schemas[model]
        check.problems.extend(_schemacheck.schema_params_problems(schema, params, check.doc, params_at, path=check.path,
                                                                  partial=partial))
    elif model in context.plugin_models:
        plugin = context.plugin_models[model]
        check.add(model_at, f"the parameters of `{model}` are not checked: plugin `{plugin}` has no parameter schemas yet",
                  f"run `modreg plugin lock {plugin} --schemas` (it writes them), then validate again.", severity="warning")


def check_surprises(check: _FileChecker) -> None:
    """Warn about YAML 1.1 values that are not what they look like, where no check complained."""
    if check.doc is None or not check.doc.surprises:
        return
    flagged = {problem.json_path for problem in check.problems}
    for at, literal, value in check.doc.surprises:
        if _schemacheck.json_path_text(at) in flagged:
            continue
        shown = "true" if value is True else "false" if value is False else str(value)
        check.add(
            at,
            f"YAML 1.1 reads `{literal}` as {shown}",
            f'write {shown} if that is meant, or quote it: "{literal}".',
            severity="warning",
        )


def check_finite_numbers(check: _FileChecker) -> None:
    """NaN and infinity are refused anywhere in a descriptor, at their line: no output, JSON
    document or comparison can hold them (one rule for validate, build and show)."""
    for at, value in _numbers(check.data, ()):
        if not math.isfinite(value):
            check.add(at, f"`{_schemacheck.json_path_text(at)}` is {value}, which JSON and the generated files cannot hold",
                      "write a finite number, or leave the key out when there is no value.")


def _numbers(value: Any, at: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], float]]:
    if isinstance(value, float):
        yield at, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _numbers(child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _numbers(child, (*at, index))


_ONE_LINE = ("name", "version", "category", "status", "summary")
_ONE_LINE_LISTS = ("tags", "capabilities", "authors")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_one_line_fields(check: _FileChecker) -> None:
    """Fields shown on one line (in `list`, tables, reports) hold no newline or control character:
    one could forge a row or drive a reader's terminal."""
    data = check.data
    found = [((key,), data.get(key)) for key in _ONE_LINE]
    found += [((key, index), item) for key in _ONE_LINE_LISTS if isinstance(data.get(key), list)
              for index, item in enumerate(data[key])]
    for at, value in found:
        if isinstance(value, str) and _CONTROL.search(value):
            char = _CONTROL.search(value).group(0)  # type: ignore[union-attr]
            check.add(at, f"`{_schemacheck.json_path_text(at)}` holds the control character {char!r}; one-line fields hold printable text only",
                      "remove it (a newline belongs in `description`, which may span lines).")
