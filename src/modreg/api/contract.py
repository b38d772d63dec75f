"""The one JSON contract of modreg's machine output (`--json`, `modreg serve`, `bench --output`).

Every document is an object with `format` (this contract's version, `JSON_FORMAT`) and `kind`
(the command that made it: `search`, `plugin-list`, `diff-git`, `error`, ...). A command whose
result is a collection puts its records under `items`, whatever they are; every other key
means the same in every document (`written` is whether a file was written, `written_files` the
files an output command wrote, `file_format` a descriptor's syntax, `checked_files` how many
files validation read). `document(kind, data)` builds one from what an api function returned.

Each kind's JSON Schema is published as `modreg schema output.<kind>` (`output_schema`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["JSON_FORMAT", "OUTPUT_KINDS", "document", "error_document", "output_schema", "plain"]

JSON_FORMAT = 1

# Per kind: the keys of an api result renamed to the contract's names.
_RENAMES: dict[str, dict[str, str]] = {
    "validate": {"files": "checked_files"},
    "index": {"written": "written_files"},
    "report": {"written": "written_files"},
    "build": {"written": "written_files"},
    "show": {"format": "file_format"},
    "list": {"models": "items"},
    "search": {"results": "items"},
    "diff": {"changes": "items"},
    "diff-git": {"entries": "items"},
    "plugin-list": {"plugins": "items"},
    "plugin-verify": {"plugins": "items"},
    "plugin-health": {"plugins": "items"},
    "discover": {"models": "items"},
    "run": {"forecasts": "items"},
    "bench": {"models": "items"},
    "register": {"results": "items"},
}

# Every kind with a published schema (`modreg schema output.<kind>`).
OUTPUT_KINDS = (
    "archive", "audit", "bench", "build", "delete", "deprecate", "diff", "diff-git", "discover", "error", "history",
    "index", "init", "list", "models", "plugin-health", "plugin-list", "plugin-lock", "plugin-verify", "register",
    "report", "restore", "run", "search", "show", "stats", "templates", "update", "validate", "version",
)


def plain(value: Any) -> Any:
    """Dataclasses (or objects with `to_dict`), paths and dates -> JSON-able values."""
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return plain(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return value.as_posix()
    return value


def document(kind: str, data: Any) -> dict[str, Any]:
    """The contract's document of `kind` for an api result (an object, or a list -> `items`)."""
    body = plain(data)
    if not isinstance(body, dict):
        body = {"items": body}
    renames = _RENAMES.get(kind, {})
    renamed = {renames.get(key, key): value for key, value in body.items() if key not in ("format", "kind")}
    if kind == "show" and "format" in body:
        renamed["file_format"] = body["format"]
    return {"format": JSON_FORMAT, "kind": kind, **renamed}


def error_document(error: Mapping[str, Any]) -> dict[str, Any]:
    """The document of an error (`{"error": {"code", "message", "hint", "path", "line"}}`)."""
    return {"format": JSON_FORMAT, "kind": "error", "error": dict(error)}


def output_schema(kind: str) -> dict[str, Any] | None:
    """The JSON Schema of the documents of `kind`, or None when there is no such kind."""
    from modreg.api.output_schemas import schema_of

    return schema_of(kind) if kind in OUTPUT_KINDS else None
