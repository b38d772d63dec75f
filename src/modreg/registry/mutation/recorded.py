"""Every version an entry has had is in its [[history]]: the invariant each mutation keeps.

A history item records one version: its date, a summary and a snapshot of the entry's status,
runtime, performance, dependencies and metadata as they were when the version was made (what
changes after that belongs to the next version). `register` records the first version;
`modreg version` records the outgoing version if it is missing and appends the new one; and any
other change to an entry whose current version is missing from its history (a hand edit, an
older modreg) records it then, with the state it had before that change.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from modreg.errors import UsageError
from modreg.registry.store.versions import Version

__all__ = ["SNAPSHOT_KEYS", "FIRST_SUMMARY", "RECORDED_SUMMARY", "find_item", "snapshot", "with_current_version"]

SNAPSHOT_KEYS = ("status", "runtime", "performance", "dependencies", "metadata")
FIRST_SUMMARY = "first version"
RECORDED_SUMMARY = "recorded by modreg: this version had no history entry"


def snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """What a version records of its entry, copied: every key of SNAPSHOT_KEYS, an absent
    table as `{}`, so that a later diff knows it was absent rather than not recorded."""
    recorded: dict[str, Any] = {"status": data.get("status", "active")}
    for key in SNAPSHOT_KEYS[1:]:
        recorded[key] = copy.deepcopy(data[key]) if isinstance(data.get(key), dict) else {}
    return recorded


def find_item(history: list[Any], version: str) -> int | None:
    """The index of the history item of `version` (the last one, if several), else None."""
    for index in range(len(history) - 1, -1, -1):
        item = history[index]
        if isinstance(item, dict) and _same_version(item.get("version"), version):
            return index
    return None


def with_current_version(data: dict[str, Any], today: dt.date, *, summary: str = RECORDED_SUMMARY) -> dict[str, Any]:
    """`data` whose [[history]] holds its current version, added with a snapshot of `data` when
    missing (dated by the entry's `updated`, else `created`, else `today`). Data not shaped for
    it (no string version, a history that is not a list) comes back unchanged: validation
    reports it."""
    version, history = data.get("version"), data.get("history", [])
    if not isinstance(version, str) or not isinstance(history, list) or find_item(history, version) is not None:
        return data
    date = next((data[k] for k in ("updated", "created") if isinstance(data.get(k), dt.date)), today)
    item = {"version": version, "date": date, "summary": summary, "snapshot": snapshot(data)}
    return {**copy.deepcopy(data), "history": [*copy.deepcopy(history), item]}


def _same_version(recorded: Any, version: str) -> bool:
    if not isinstance(recorded, str):
        return False
    try:
        return Version.parse(recorded) == Version.parse(version)
    except UsageError:
        return recorded == version
