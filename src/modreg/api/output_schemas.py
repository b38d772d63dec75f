"""The JSON Schema of every document kind of the JSON contract (`modreg schema output.KIND`).

Each document's own keys are listed exactly (`additionalProperties: false`), so a key that
appears without being documented here fails the test that validates every command's output;
records inside (descriptors, snapshots, parameters) stay open where users define them.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["schema_of"]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
NUM: dict[str, Any] = {"type": "number"}
BOOL: dict[str, Any] = {"type": "boolean"}
OBJ: dict[str, Any] = {"type": "object"}
ANY: dict[str, Any] = {}


def opt(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def arr(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def rec(fields: dict[str, Any], *, closed: bool = True, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with `fields` (all required but `optional`); `closed`: no other keys."""
    found: dict[str, Any] = {"type": "object", "properties": fields, "required": [k for k in fields if k not in optional]}
    if closed:
        found["additionalProperties"] = False
    return found


PROBLEM = rec({"path": STR, "line": opt(INT), "col": opt(INT), "message": STR, "hint": opt(STR), "severity": STR,
               "json_path": ANY}, closed=False, optional=("json_path", "col", "hint", "line"))
ERROR = rec({"code": INT, "message": STR, "hint": opt(STR), "path": opt(STR), "line": opt(INT)}, closed=False)
MUTATION = rec({"action": STR, "changes": OBJ, "command": STR, "diff": STR, "dry_run": BOOL, "name": STR, "path": STR,
                "trash": opt(STR), "version": opt(STR), "written": BOOL})
CHANGE = rec({"path": STR, "kind": {"enum": ["added", "removed", "changed"]}, "old": ANY, "new": ANY,
              "delta": opt(NUM), "percent": opt(NUM)})
TABLE_ROW = {"type": "object", "additionalProperties": True}


def _document(kind: str, fields: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    body = rec({"format": {"const": 1}, "kind": {"const": kind}, **fields}, optional=optional)
    return {"$schema": _DRAFT, "$id": f"https://modreg.invalid/schemas/output.{kind}.json",
            "title": f"modreg {kind.replace('-', ' ')} --json", **body}


def _outputs(kind: str) -> dict[str, Any]:
    return _document(kind, {"check": BOOL, "command": STR, "ok": BOOL, "problems": arr(PROBLEM), "stale": arr(STR),
                            "unchanged": arr(STR), "written_files": arr(STR)})


def _mutation(kind: str) -> dict[str, Any]:
    return _document(kind, MUTATION["properties"])


def _plugins(kind: str) -> dict[str, Any]:
    plugin = rec({"name": STR, "version": opt(STR), "source": STR, "location": STR, "models": arr(STR), "status": STR,
                  "ok": BOOL, "summary": opt(STR), "authors": arr(STR), "error": opt(ERROR)}, closed=False)
    return _document(kind, {"items": arr(plugin), "ok": BOOL})


def _search() -> dict[str, Any]:
    hit = rec({"name": STR, "version": STR, "category": STR, "status": STR, "summary": STR, "score": opt(NUM),
               "file": STR, "tags": arr(STR), "capabilities": arr(STR)})
    query = rec({"text": STR, "tags": arr(STR), "categories": arr(STR), "capabilities": arr(STR), "statuses": arr(STR),
                 "authors": arr(STR), "where": opt(STR), "sort": opt(STR), "limit": opt(INT)})
    return _document("search", {"query": query, "total": INT, "count": INT, "items": arr(hit), "problems": arr(PROBLEM),
                                "notes": arr(STR)})


def _bench() -> dict[str, Any]:
    row = rec({"target": STR, "model": STR, "source": STR, "reference": BOOL, "status": STR, "params": OBJ,
               "metrics": {"type": "object", "additionalProperties": NUM}, "relative": OBJ, "timings": OBJ,
               "parameters": opt(INT), "steps": opt(INT), "error": opt(OBJ), "warnings": arr(STR)})
    window = rec({"window": INT, "offset": INT, "cutoff": opt(STR)})
    recorded = rec({"name": STR, "path": STR, "diff": STR, "written": BOOL, "changes": OBJ})
    return _document("bench", {
        "dataset": STR, "data": rec({"series": INT, "points": INT, "frequency": STR, "path": STR, "sha256": STR},
                                    optional=("path", "sha256")),
        "horizon": INT, "step": INT, "season": INT, "refit": BOOL, "quick": BOOL, "max_steps": opt(INT),
        "windows": arr(window), "reference": STR, "items": arr(row), "failed": arr(STR),
        "skipped": arr(rec({"target": STR, "reason": STR})), "recorded": arr(recorded), "environment": OBJ,
        "notices": arr(STR), "forecast_columns": arr(STR), "forecasts": arr(TABLE_ROW),
    }, optional=("forecast_columns", "forecasts"))


def _run() -> dict[str, Any]:
    forecast = rec({"unique_id": STR, "ds": STR}, closed=False)
    resolved = {"type": "object", "additionalProperties": rec({"value": ANY, "source": STR})}
    return _document("run", {"target": STR, "model": STR, "source": STR, "params": OBJ, "resolved": resolved,
                             "fit_seconds": opt(NUM),
                             "predict_seconds": NUM, "steps": opt(INT), "saved": opt(STR), "loaded": opt(STR),
                             "output": opt(STR), "warnings": arr(STR), "columns": arr(STR), "items": arr(forecast)})


def _diff() -> dict[str, Any]:
    return _document("diff", {"name": STR, "old": STR, "new": STR, "items": arr(CHANGE)})


def _diff_git() -> dict[str, Any]:
    entry = rec({"name": STR, "kind": STR, "old_version": opt(STR), "new_version": opt(STR), "changes": arr(CHANGE)},
                closed=False)
    return _document("diff-git", {"old": STR, "new": STR, "old_commit": opt(STR), "new_commit": opt(STR),
                                  "items": arr(entry), "unreadable": arr(PROBLEM)})


def _stats() -> dict[str, Any]:
    return _document("stats", {
        "total": INT, "by_category": OBJ, "by_status": OBJ, "by_category_status": OBJ, "by_format": OBJ, "tags": OBJ,
        "capabilities": OBJ, "authors": OBJ, "deprecations": arr(OBJ), "leaderboards": arr(OBJ), "runtime": OBJ,
        "last_updated": opt(STR),
    })


def _discover() -> dict[str, Any]:
    found = rec({"name": STR, "category": STR, "capabilities": arr(STR), "class": STR, "source": STR, "status": STR,
                 "entry": opt(STR), "summary": opt(STR), "diff": opt(STR), "error": opt(ERROR)}, closed=False)
    return _document("discover", {"target": STR, "items": arr(found), "failures": arr(ERROR), "ok": BOOL})


def _register() -> dict[str, Any]:
    batch = _document("register", {"items": arr(rec({"source": STR, "ok": BOOL, "mutation": opt(MUTATION), "error": opt(ERROR)},
                                                    closed=False))})
    single = _mutation("register")
    return {"$schema": _DRAFT, "title": "modreg register --json", "oneOf": [_bare(single), _bare(batch)]}


def _bare(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id", "title")}


_BUILDERS: dict[str, Any] = {
    "init": lambda: _document("init", {"root": STR, "created": BOOL, "git_hooks": BOOL}),
    "validate": lambda: _document("validate", {"problems": arr(PROBLEM), "checked_files": INT, "ok": BOOL,
                                               "broken_artifacts": INT, "tampered_plugins": INT}),
    "index": lambda: _outputs("index"), "report": lambda: _outputs("report"), "build": lambda: _outputs("build"),
    "stats": _stats,
    "show": lambda: _document("show", {"name": STR, "path": STR, "file_format": {"enum": ["toml", "yaml"]},
                                       "descriptor": OBJ}),
    "list": lambda: _document("list", {"items": arr(rec({"name": STR, "version": STR, "category": STR, "status": STR,
                                                         "summary": STR, "tags": arr(STR), "path": STR})),
                                       "unreadable": arr(PROBLEM)}),
    "search": _search,
    "register": _register,
    "update": lambda: _mutation("update"), "version": lambda: _mutation("version"),
    "deprecate": lambda: _mutation("deprecate"), "archive": lambda: _mutation("archive"),
    "restore": lambda: _mutation("restore"),
    "delete": lambda: _document("delete", {"mutation": MUTATION, "dependents": arr(ANY)}),
    "history": lambda: _document("history", {"name": STR, "current": STR, "items": arr(rec(
        {"version": STR, "date": opt(STR), "summary": STR, "artifacts": arr(OBJ), "snapshot": OBJ}, closed=False))}),
    "diff": _diff, "diff-git": _diff_git,
    "audit": lambda: _document("audit", {"items": arr(rec({"time": STR, "user": STR, "command": STR, "name": STR,
                                                           "version": opt(STR), "changes": OBJ}, closed=False))}),
    "models": lambda: _document("models", {"items": arr(rec({"name": STR, "category": STR, "capabilities": arr(STR),
                                                             "class": STR, "summary": STR}))}),
    "templates": lambda: _document("templates", {"items": arr(rec({"name": STR, "model": opt(STR), "precision": opt(STR),
                                                                   "params": OBJ, "summary": opt(STR), "path": STR}))}),
    "run": _run, "bench": _bench,
    "plugin-list": lambda: _plugins("plugin-list"), "plugin-verify": lambda: _plugins("plugin-verify"),
    "plugin-health": lambda: _document("plugin-health", {"items": arr(rec(
        {"plugin": STR, "source": STR, "status": STR, "ok": BOOL, "seconds": NUM, "models": arr(OBJ), "error": opt(ERROR)},
        closed=False)), "ok": BOOL}),
    "plugin-lock": lambda: _document("plugin-lock", {"plugin": STR, "path": STR, "files": OBJ, "changed": BOOL,
                                                     "diff": STR, "dry_run": BOOL, "written": BOOL,
                                                     "needs_signature": BOOL}),
    "discover": _discover,
    "error": lambda: {**_document("error", {"error": ERROR})},
}


@functools.cache
def schema_of(kind: str) -> dict[str, Any]:
    """The JSON Schema of the documents of `kind` (KeyError for an unknown kind)."""
    return _BUILDERS[kind]()
