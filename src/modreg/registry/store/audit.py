"""The append-only audit log: one JSON line per mutation in `audit.jsonl`.

Lines are appended with `O_APPEND` while the registry lock is held, so concurrent commands never
interleave. `.gitattributes` marks the file `merge=union`, so two branches that both mutated the
registry merge without a conflict. This log is the one place where wall-clock time is recorded:
it describes what happened, not what the registry is.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modreg.errors import IntegrityError
from modreg.registry.store.layout import RegistryPaths

_MAX_TEXT = 80


@dataclass(frozen=True)
class AuditEntry:
    """One mutation: when, who, which command, which entry, and what changed."""

    time: str
    user: str
    command: str
    name: str
    changes: dict[str, Any] = field(default_factory=dict)
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "user": self.user,
            "command": self.command,
            "name": self.name,
            "changes": self.changes,
            "version": self.version,
        }


def current_user() -> str:
    """The login name of whoever runs modreg ("unknown" when the system cannot tell)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def make_entry(command: str, name: str, changes: dict[str, Any], version: str | None) -> AuditEntry:
    """An entry stamped with the current UTC time and user."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return AuditEntry(
        time=now.isoformat().replace("+00:00", "Z"),
        user=current_user(),
        command=command,
        name=name,
        changes=changes,
        version=version,
    )


def append_audit(paths: RegistryPaths, entry: AuditEntry) -> None:
    """Append `entry` as one line; the caller holds the registry lock."""
    line = json.dumps(entry.to_dict(), sort_keys=True, ensure_ascii=False, default=_json_default) + "\n"
    fd = os.open(paths.audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_audit(paths: RegistryPaths, name: str | None = None) -> list[AuditEntry]:
    """Every audit entry, oldest first; only those about `name` when given (any case).

    Raises:
        IntegrityError: a line is not a JSON audit entry (names the line).
    """
    if not paths.audit_log.is_file():
        return []
    wanted = name.casefold() if name is not None else None
    entries = []
    with paths.audit_log.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            entry = _parse_line(line, paths, number)
            if wanted is None or entry.name.casefold() == wanted:
                entries.append(entry)
    return entries


def _parse_line(line: str, paths: RegistryPaths, number: int) -> AuditEntry:
    try:
        raw = json.loads(line)
        return AuditEntry(
            time=str(raw["time"]),
            user=str(raw["user"]),
            command=str(raw["command"]),
            name=str(raw["name"]),
            changes=dict(raw.get("changes") or {}),
            version=raw.get("version"),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise IntegrityError(
            f"The audit log has a line that is not an audit entry ({error}).",
            hint="fix or remove that line; a merge may have joined two lines.",
            path=paths.audit_log,
            line=number,
        ) from None


def summarize_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What differs between two versions of a descriptor, as `{dotted.key: {"old", "new"}}`.

    Long strings are shortened and tables in lists are counted, so a line stays readable.
    """
    changes: dict[str, Any] = {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            for sub, change in summarize_changes(before, after).items():
                changes[f"{key}.{sub}"] = change
            continue
        change = {}
        if key in old:
            change["old"] = _abbreviate(before)
        if key in new:
            change["new"] = _abbreviate(after)
        changes[key] = change
    return changes


def _abbreviate(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return value[: _MAX_TEXT - 1] + "…"
    if isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
        return f"{len(value)} entries"
    if isinstance(value, Mapping):
        return {str(k): _abbreviate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_abbreviate(v) for v in value]
    return _json_default(value) if isinstance(value, (dt.date, dt.datetime)) else value


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
