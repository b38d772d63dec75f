"""The append-only audit log: one JSON line per mutation in `audit.jsonl`.

Lines are appended with `O_APPEND` while the registry lock is held, so concurrent commands never
interleave. `.gitattributes` marks the file `merge=union`, so two branches that both mutated the
registry merge without a conflict. This log is the one place where wall-clock time is recorded:
it describes what happened, not what the registry is.
"""

from __future__ import annotations

import datetime as dt
import errno
import getpass
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from modreg._fs import open_plain, refuse_links, require_plain
from modreg.errors import IntegrityError, Problem, UsageError
from modreg.registry.store.layout import RegistryPaths

_MAX_TEXT = 80
_MAX_LINE = 64 * 1024  # an audit entry is a few hundred bytes


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


def append_audit(paths: RegistryPaths, entry: AuditEntry) -> int:
    """Append `entry` as one whole line and return the log's size before it (for `retract_audit`).

    The caller holds the registry lock. A line that cannot be written whole (a full disk, a
    file-size limit, an interrupt) is cut off again and the command fails: the log never keeps half a line,
    and an older torn last line gets its newline first so the next entry is not glued to it.

    Raises:
        UsageError: the line could not be written (nothing of it is left in the log).
    """
    line = json.dumps(entry.to_dict(), sort_keys=True, ensure_ascii=False, default=_json_default) + "\n"
    refuse_links(paths.root, paths.audit_log)
    try:
        fd = os.open(paths.audit_log, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    except OSError as error:
        raise _unwritable(paths, error) from None
    try:
        require_plain(fd, paths.audit_log)  # a pipe there would swallow the line, a device never keep it
        start = os.fstat(fd).st_size
        data = (b"\n" if start and _last_byte(fd, start) != b"\n" else b"") + line.encode("utf-8")
        try:
            _write_whole(fd, data)
            os.fsync(fd)
        except BaseException as error:  # also Ctrl-C: a line whose change will not be made is not kept
            os.ftruncate(fd, start)
            if start == 0:  # the log this call created goes again
                paths.audit_log.unlink(missing_ok=True)
            if isinstance(error, OSError):
                raise _unwritable(paths, error) from None
            raise
        return start
    finally:
        os.close(fd)


def retract_audit(paths: RegistryPaths, size: int) -> None:
    """Cut the log back to `size` bytes (remove it when it was new): the change its last line
    records was not made."""
    refuse_links(paths.root, paths.audit_log)
    if size == 0:
        paths.audit_log.unlink(missing_ok=True)
        return
    fd = os.open(paths.audit_log, os.O_WRONLY | os.O_NOFOLLOW)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def _write_whole(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, "no space left for the audit line")
        view = view[written:]


def _last_byte(fd: int, size: int) -> bytes:
    return os.pread(fd, 1, size - 1)


def _unwritable(paths: RegistryPaths, error: OSError) -> UsageError:
    return UsageError(f"modreg cannot write the audit log {paths.audit_log} ({error.strerror or error}); nothing was changed.",
                      hint="free disk space or raise the file-size limit, then run the command again.", path=paths.audit_log)


class AuditLog(list[AuditEntry]):
    """The entries read, oldest first, and the lines that are not entries (`problems`)."""

    def __init__(self, entries: list[AuditEntry], problems: list[Problem], lines: int) -> None:
        super().__init__(entries)
        self.problems = problems
        self.lines = lines

    @property
    def torn_only(self) -> bool:
        """True when the only bad line is the last one: a write cut short, not a corrupt log."""
        return all(problem.line == self.lines for problem in self.problems)


def read_audit(paths: RegistryPaths, name: str | None = None) -> AuditLog:
    """Every audit entry, oldest first; only those about `name` when given (any case).

    A line that is not an audit entry (a write cut short, two lines a merge joined) becomes a
    Problem naming its line, and reading goes on.
    """
    refuse_links(paths.root, paths.audit_log)  # a cloned audit.jsonl linked out is never read
    try:
        handle = open_plain(paths.audit_log)  # a pipe or a device: IntegrityError, never read
    except FileNotFoundError:
        return AuditLog([], [], 0)
    except OSError as error:
        raise IntegrityError(f"{paths.audit_log} cannot be read ({error.strerror or error}).", path=paths.audit_log) from None
    wanted = name.casefold() if name is not None else None
    entries, problems, number = [], [], 0
    with handle:
        for number, line in enumerate(_lines(handle), start=1):
            if line is None:
                problems.append(Problem(str(paths.audit_log), number, 1, f"The audit log has a line longer than {_MAX_LINE:,} "
                                        "bytes, which no audit entry is (left unread).", hint="remove the line."))
                continue
            if not line.strip():
                continue
            try:
                entry = _parse_line(line, paths, number)
            except IntegrityError as error:
                problems.append(Problem(str(paths.audit_log), number, 1, error.message, hint=error.hint))
                continue
            if wanted is None or entry.name.casefold() == wanted:
                entries.append(entry)
    return AuditLog(entries, problems, number)


def _lines(handle: BinaryIO) -> Iterator[str | None]:
    """Each line's text, or None for a line longer than _MAX_LINE: that one is read past in
    pieces, never held whole (a cloned log of one 3 GB line must not fill the memory)."""
    while chunk := handle.readline(_MAX_LINE + 1):
        if len(chunk) <= _MAX_LINE or chunk.endswith(b"\n"):
            yield chunk.decode("utf-8", "replace")
            continue
        while chunk and not chunk.endswith(b"\n"):
            chunk = handle.readline(_MAX_LINE + 1)
        yield None


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
            hint="remove that line: a write was cut short there, or a merge joined two lines.",
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
