"""Structural comparison of two states of an entry: what `modreg diff` reports.

A state is a `View`: descriptor data and the keys it is known to hold. A version recorded in
`[[history]]` knows only what its snapshot holds (modreg records status, runtime, performance,
dependencies and metadata, an absent table as `{}`; a hand-written snapshot may hold less);
the descriptor as it is now, or as it was at a git revision, knows every key. Only the keys
both sides know are compared, so a hand-written snapshot of the runtime alone is not reported
as "the metadata was added" against today's file. Tables are compared key by key (dotted paths
such as `runtime.params.h`); numbers under `performance` get a delta, absolute and in percent.

Rendering lives in `modreg.cli.render_diff`; this module returns data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from modreg.errors import NotFound, UsageError
from modreg.registry.store.edits import same
from modreg.registry.history.history import SNAPSHOT_KEYS, read_history
from modreg.registry.store.versions import Version

__all__ = ["CURRENT", "Change", "EntryDiff", "View", "compare", "current_view", "diff_versions", "version_view"]

CURRENT = "current"
_FIRST = ("version", "status", "deprecation", "runtime", "performance", "dependencies", "metadata")


@dataclass(frozen=True)
class View:
    """One state of an entry: a label (`1.2.0`, `current`, `HEAD~1`), its data, the keys known."""

    label: str
    data: Mapping[str, Any]
    known: frozenset[str] | None = None  # None: every key is known

    def knows(self, key: str) -> bool:
        return self.known is None or key in self.known


@dataclass(frozen=True)
class Change:
    """One difference at a dotted `path`: `added`, `removed` or `changed`."""

    path: str
    kind: str
    old: Any = None
    new: Any = None
    delta: float | None = None  # new - old, for numbers under performance
    percent: float | None = None  # delta relative to old, when old is not 0

    @property
    def section(self) -> str:
        return self.path.split(".", 1)[0]


@dataclass(frozen=True)
class EntryDiff:
    """What differs between two states of the entry `name`."""

    name: str
    old: str
    new: str
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


# ----- Views -----


def current_view(data: Mapping[str, Any], label: str = CURRENT) -> View:
    """The descriptor as it is (every key known)."""
    return View(label, data)


def version_view(name: str, data: Mapping[str, Any], version: str,
                 older: Mapping[str, Mapping[str, Any]] | None = None) -> View:
    """The state of `version` of an entry: its history snapshot (the state it was cut with), the
    descriptor itself for `current` (and for the current version when history lacks it), else
    its state in `older` (states read from git, every key known).

    Raises:
        UsageError: `version` is not a semantic version.
        NotFound: no such version is recorded (the hint lists those that are).
    """
    if version == CURRENT:
        return current_view(data)
    wanted = Version.parse(version)
    history = read_history(name, dict(data))
    for item in reversed(history.items):
        if _same_version(item.version, wanted):
            return _snapshot_view(item.version, item.snapshot)
    if _same_version(history.current, wanted):
        return View(history.current, data)
    for label, state in (older or {}).items():
        if _same_version(label, wanted):
            return View(label, state)
    recorded = [item.version for item in history.items] + [v for v in (older or {}) if v not in (i.version for i in history.items)]
    if history.current not in recorded:
        recorded.append(history.current)
    raise NotFound(
        f"`{name}` has no version {wanted} in its history.",
        hint=f"its versions: {', '.join(recorded) or 'none'}; `modreg history {name}` lists them.",
    )


def _snapshot_view(version: str, snapshot: dict[str, Any] | None) -> View:
    """A recorded version knows the keys its snapshot holds (modreg writes all of them, an
    absent table as `{}`; a hand-written snapshot may hold only some)."""
    recorded = {key: value for key, value in (snapshot or {}).items() if key in SNAPSHOT_KEYS}
    return View(version, {"version": version, **recorded}, frozenset({"version", *recorded}))


def _same_version(text: str, wanted: Version) -> bool:
    try:
        return Version.parse(text) == wanted
    except UsageError:  # a malformed history version is validate's to report
        return False


def diff_versions(name: str, data: Mapping[str, Any], old: str, new: str = CURRENT,
                  older: Mapping[str, Mapping[str, Any]] | None = None) -> EntryDiff:
    """The differences between two versions of an entry (see `version_view`)."""
    before, after = version_view(name, data, old, older), version_view(name, data, new, older)
    return EntryDiff(name, before.label, after.label, compare(before, after))


# ----- Comparing -----


def compare(old: View, new: View) -> list[Change]:
    """Every difference between two views, over the keys both know, in a reading order:
    version, status, deprecation, runtime, performance, dependencies, metadata, the rest."""
    keys = [k for k in _key_order(old.data, new.data) if old.knows(k) and new.knows(k)]
    changes: list[Change] = []
    for key in keys:
        changes.extend(_compare_key(key, old.data.get(key), new.data.get(key), key in old.data, key in new.data))
    return changes


def _key_order(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    from modreg.registry.store.descriptor import CANONICAL_ORDER

    present = set(old) | set(new)
    rank = {key: i for i, key in enumerate(dict.fromkeys((*_FIRST, *CANONICAL_ORDER)))}
    return sorted(present, key=lambda k: (rank.get(k, len(rank)), k))


def _compare_key(key: str, old: Any, new: Any, had: bool, has: bool) -> list[Change]:
    if key == "history":
        return _compare_records(key, old, new, "version")
    if key == "artifacts":
        return _compare_records(key, old, new, "path")
    if isinstance(old, Mapping) or isinstance(new, Mapping):
        before = dict(_leaves(old, key)) if isinstance(old, Mapping) else ({key: old} if had else {})
        after = dict(_leaves(new, key)) if isinstance(new, Mapping) else ({key: new} if has else {})
        return _compare_leaves(before, after)
    return _compare_leaves({key: old} if had else {}, {key: new} if has else {})


def _leaves(table: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every non-table value, and of empty tables."""
    for key, value in table.items():
        path = f"{prefix}.{key}"
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, path)
        else:
            yield path, value


def _compare_leaves(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    changes = []
    for path in [*old, *(p for p in new if p not in old)]:
        if path not in new:
            changes.append(Change(path, "removed", old=old[path]))
        elif path not in old:
            changes.append(Change(path, "added", new=new[path]))
        elif not same(old[path], new[path]):
            changes.append(_changed(path, old[path], new[path]))
    return changes


def _changed(path: str, old: Any, new: Any) -> Change:
    if path.startswith("performance.") and _is_number(old) and _is_number(new):
        delta = new - old
        percent = 100.0 * delta / abs(old) if old else None
        return Change(path, "changed", old, new, _tidy(delta), _tidy(percent))
    return Change(path, "changed", old, new)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _tidy(value: float | None) -> float | None:
    """Round away float noise (0.81 - 0.9 = -0.08999999999999997)."""
    return None if value is None else round(value, 10)


def _compare_records(key: str, old: Any, new: Any, by: str) -> list[Change]:
    """Lists of tables (history by version, artifacts by path) compared record by record."""
    before, after = _records(old, by), _records(new, by)
    changes = []
    for ident in [*before, *(i for i in after if i not in before)]:
        path = f"{key}.{ident}"
        if ident not in after:
            changes.append(Change(path, "removed", old=_brief(before[ident])))
        elif ident not in before:
            changes.append(Change(path, "added", new=_brief(after[ident])))
        elif not same(before[ident], after[ident]):
            changes.append(Change(path, "changed", _brief(before[ident]), _brief(after[ident])))
    return changes


def _records(value: Any, by: str) -> dict[str, dict[str, Any]]:
    items = value if isinstance(value, list) else []
    return {str(item.get(by)): item for item in items if isinstance(item, dict)}


def _brief(record: dict[str, Any]) -> Any:
    """A record as shown in a diff: its summary or checksum, not its whole snapshot."""
    for key in ("summary", "sha256"):
        if key in record:
            return record[key]
    return {k: v for k, v in record.items() if not isinstance(v, (dict, list)) or isinstance(v, dt.date)}
