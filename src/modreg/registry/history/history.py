"""Version history: `modreg version` (a new version with a [[history]] entry) and `modreg history`.

A bump records the outgoing version when a hand edit left it out of `[[history]]` (its state
now) and appends an entry for the new version: its date, the summary of
what changed, the files attached to it (`--artifact`, path + sha256) and a snapshot of the
entry's status, runtime, performance, dependencies and metadata, so that `modreg diff NAME A B`
compares every version the entry has had without git (see `mutation/recorded.py`). The new version must be greater than the current one; the
registry's `[history] max_history` keeps only the newest entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modreg.errors import Conflict, UsageError
from modreg.registry.history.lifecycle import check_transition
from modreg.registry.mutation.recorded import SNAPSHOT_KEYS, snapshot, with_current_version
from modreg.registry.store.versions import BUMP_PARTS, Version

if TYPE_CHECKING:
    pass

__all__ = [
    "SNAPSHOT_KEYS",
    "History",
    "HistoryItem",
    "bumped",
    "current_version",
    "next_version",
    "read_history",
    "with_git_versions",
    "snapshot",
]

def current_version(data: dict[str, Any], name: str) -> Version:
    """The entry's `version`, parsed; UsageError naming the entry when it is not semver."""
    try:
        return Version.parse(data.get("version"))  # type: ignore[arg-type]
    except UsageError as error:
        raise UsageError(f"`{name}` has no valid version: {error.message}", hint=error.hint) from None


def next_version(current: Version, *, part: str | None, to: str | None) -> Version:
    """`current` bumped by `part`, or the version `to`; it must be greater (Conflict otherwise)."""
    if (part is None) == (to is None):
        raise UsageError("Give exactly one of --bump major|minor|patch and --set X.Y.Z.", hint="e.g. `modreg version NHITS --bump minor -m \"...\"`.")
    if part is not None and part not in BUMP_PARTS:
        raise UsageError(f"--bump takes major, minor or patch, not `{part}`.")
    new = current.bump(part) if part is not None else Version.parse(to)  # type: ignore[arg-type]
    if new <= current:
        raise Conflict(
            f"The new version {new} is not greater than the current version {current}.",
            hint=f"versions only go up: --set a version above {current}, or --bump patch ({current.bump('patch')}).",
        )
    return new


def bumped(
    data: dict[str, Any],
    *,
    name: str,
    part: str | None,
    to: str | None,
    message: str,
    today: dt.date,
    artifacts: Sequence[dict[str, str]] = (),
    max_history: int = 50,
) -> dict[str, Any]:
    """`data` at its next version: `version`, `updated`, a new [[history]] entry (oldest
    trimmed beyond `max_history`). Given `artifacts` are recorded in that entry and become
    the entry's [[artifacts]] (older versions' files stay recorded in their own entries)."""
    check_transition("version", name, data)
    if not message.strip():
        raise UsageError("A new version needs a message: what changed.", hint='e.g. -m "input_size 24 -> 36".')
    new_version = str(next_version(current_version(data, name), part=part, to=to))
    if not isinstance(data.get("history", []), list):
        raise UsageError(f"`{name}` has a `history` that is not a list of tables; nothing was written.", hint="fix it by hand (`modreg validate` shows where).")
    new = with_current_version(data, today)  # the outgoing version, when a hand edit left it out
    item = _history_item(data, new_version, message.strip(), today, artifacts)
    new["history"] = [*new["history"], item][-max(max_history, 1) :]
    new["version"] = new_version
    new["updated"] = today
    if artifacts:
        new["artifacts"] = [dict(a) for a in artifacts]
    return new


def _history_item(
    data: dict[str, Any], version: str, summary: str, today: dt.date, artifacts: Sequence[dict[str, str]]
) -> dict[str, Any]:
    """One [[history]] entry, in the canonical key order (version, date, summary, artifacts, snapshot)."""
    item: dict[str, Any] = {"version": version, "date": today, "summary": summary}
    if artifacts:
        item["artifacts"] = [dict(a) for a in artifacts]
    item["snapshot"] = snapshot(data)
    return item


# ----- Reading the history -----


@dataclass(frozen=True)
class HistoryItem:
    """One recorded version of an entry."""

    version: str
    date: dt.date | None
    summary: str
    artifacts: list[dict[str, str]] = field(default_factory=list)
    snapshot: dict[str, Any] | None = None
    source: str = "history"  # "history" ([[history]]) or "git:<commit>" (read from git)


@dataclass(frozen=True)
class History:
    """An entry's versions, oldest first; `current` is its version now."""

    name: str
    current: str
    items: list[HistoryItem]

    @property
    def has_current(self) -> bool:
        """Whether the current version has a history entry (hand-written files may lack one)."""
        return any(item.version == self.current for item in self.items)


def read_history(name: str, data: dict[str, Any]) -> History:
    """The history of an entry's descriptor data (entries that are not tables are skipped)."""
    raw = data.get("history") if isinstance(data.get("history"), list) else []
    items = [
        HistoryItem(
            version=str(item.get("version", "")),
            date=item.get("date") if isinstance(item.get("date"), dt.date) else None,
            summary=str(item.get("summary", "")),
            artifacts=[a for a in item.get("artifacts", []) if isinstance(a, dict)] if isinstance(item.get("artifacts"), list) else [],
            snapshot=item.get("snapshot") if isinstance(item.get("snapshot"), dict) else None,
        )
        for item in raw
        if isinstance(item, dict)
    ]
    return History(name, str(data.get("version", "")), items)


def with_git_versions(history: History, found: Mapping[str, Any]) -> History:
    """`history` plus the versions git knows that [[history]] lacks (`GitVersion`s by version),
    in version order; the current version is the descriptor, so it is never added."""
    have = {item.version for item in history.items} | {history.current}
    extra = [HistoryItem(v.version, _date(v.date), f"read from git (commit {v.commit[:12]}); not in [[history]]",
                         snapshot={k: v.data[k] for k in SNAPSHOT_KEYS if k in v.data}, source=f"git:{v.commit}")
             for v in found.values() if v.version not in have]
    if not extra:
        return history
    return History(history.name, history.current, sorted([*history.items, *extra], key=_version_order))


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _version_order(item: HistoryItem) -> tuple[int, Any]:
    try:
        return (0, Version.parse(item.version))
    except UsageError:
        return (1, item.version)
