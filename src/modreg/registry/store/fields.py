"""Reading descriptor fields defensively: generated files must not fail on an odd entry.

Validation reports wrong types; the builders still run on such a registry, so every accessor
here (and `text`/`strings` from `entry`) returns a safe value whatever the file holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from modreg.registry.store.facets import Entry, strings, text

__all__ = [
    "CATEGORY_ORDER",
    "STATUS_ORDER",
    "number",
    "ordered_keys",
    "sorted_entries",
    "strings",
    "table",
    "text",
    "unique_by_name",
    "version_sort_key",
]

CATEGORY_ORDER = ("basic", "recurrent", "advanced", "transformer", "specialized", "custom")
STATUS_ORDER = ("active", "deprecated", "archived")


def table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """`data[key]` when it is a table, else an empty one."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def number(value: Any) -> float | int | None:
    """`value` when it is a finite-or-not number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def sorted_entries(entries: Iterable[Entry]) -> list[Entry]:
    """Entries by name ignoring case, then by name and file (a total, stable order)."""
    return sorted(entries, key=lambda e: (e.name.casefold(), e.name, e.file))


def unique_by_name(entries: list[Entry]) -> list[Entry]:
    """The first entry of each name (validation reports duplicates; outputs stay stable)."""
    seen: set[str] = set()
    unique = []
    for entry in entries:
        if entry.name not in seen:
            seen.add(entry.name)
            unique.append(entry)
    return unique


def ordered_keys(counts: Iterable[str], preferred: tuple[str, ...]) -> list[str]:
    """`preferred` keys that occur, in that order, then the others sorted."""
    present = set(counts)
    return [key for key in preferred if key in present] + sorted(present - set(preferred))


def version_sort_key(version: Any, position: int) -> tuple[int, Any, int]:
    """Semantic versions in order; anything unparsable after them, in written order."""
    from modreg.registry.store.versions import parse_version

    try:
        return (0, parse_version(version), position)
    except Exception:  # noqa: BLE001 - not a version: keep its place after the real ones
        return (1, 0, position)
