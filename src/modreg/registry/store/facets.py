"""What the output builders read: one descriptor's file, its data, its facets and facts.

The facets (name, version, category, status, summary, tags, capabilities, authors) are the
data's own fields read defensively by `facets()`; the facts (`facts_of`) are the few tables
that statistics need (dates, runtime model, deprecation, performance). Both are kept apart from
the data so that counting over ten thousand entries does not decode ten thousand documents:
builders of whole-registry documents read facets and facts only, and per-entry parts (which
are memoized) read the data. The local cache hands out entries whose facets and facts come
from its columns and whose data is decoded on demand;
`entries_from_descriptors` makes the same from freshly parsed `Descriptor`s. Either way the
data is JSON-able (dates as ISO text), so outputs built from the cache and from the files are
identical.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from modreg.registry.store.canonical import jsonable

if TYPE_CHECKING:
    from modreg.registry.store.descriptor import Descriptor

__all__ = [
    "FACT_KEYS", "DataEntry", "Entry", "Facets", "Links", "entries_from_descriptors", "facets", "facts_of", "links_of", "strings", "text",
]

FACT_KEYS = ("created", "updated", "runtime", "deprecation", "performance")


class Facets(NamedTuple):
    """The fields of a descriptor that lists, filters and counts read."""

    name: str
    version: str
    category: str
    status: str
    summary: str
    tags: tuple[str, ...]
    capabilities: tuple[str, ...]
    authors: tuple[str, ...]


class Entry(Protocol):
    """One descriptor as the builders see it (its facets as attributes)."""

    file: str  # relative to the registry root, with `/` (`models/NHITS.toml`)
    sha256: str | None  # of the file's bytes, when known: parts are memoized under it
    name: str
    version: str
    category: str
    status: str
    summary: str
    tags: tuple[str, ...]
    capabilities: tuple[str, ...]
    authors: tuple[str, ...]

    @property
    def data(self) -> Mapping[str, Any]:
        """The parsed descriptor, JSON-able."""

    @property
    def facts(self) -> Mapping[str, Any]:
        """`facts_of(data)`."""


@dataclass(frozen=True)
class DataEntry:
    """An Entry made from data at hand (see `DataEntry.of`)."""

    file: str
    data: Mapping[str, Any]
    sha256: str | None
    name: str
    version: str
    category: str
    status: str
    summary: str
    tags: tuple[str, ...]
    capabilities: tuple[str, ...]
    authors: tuple[str, ...]
    facts: Mapping[str, Any]

    @classmethod
    def of(cls, file: str, data: Mapping[str, Any], sha256: str | None = None) -> DataEntry:
        """The entry of JSON-able `data` read from `file`."""
        return cls(file, data, sha256, *facets(data, PurePosixPath(file).stem), facts_of(data))


def text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    """`data[key]` as text ('' or `default` when absent or null)."""
    value = data.get(key)
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def strings(data: Mapping[str, Any], key: str) -> list[str]:
    """`data[key]` as a list of strings (a lone string becomes a one-item list)."""
    value = data.get(key)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item if isinstance(item, str) else str(item) for item in value]
    return []


def facets(data: Mapping[str, Any], stem: str) -> Facets:
    """The facets of `data`; the name falls back to the file's `stem`, the status to active."""
    name = data.get("name")
    return Facets(
        name if isinstance(name, str) else stem,
        text(data, "version"),
        text(data, "category"),
        text(data, "status") or "active",
        text(data, "summary"),
        tuple(strings(data, "tags")),
        tuple(strings(data, "capabilities")),
        tuple(strings(data, "authors")),
    )


def facts_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The FACT_KEYS of `data`, the runtime table cut to its model (parameters can be long)."""
    found = {key: data[key] for key in FACT_KEYS if key in data}
    runtime = found.get("runtime")
    if isinstance(runtime, Mapping) and runtime:
        found["runtime"] = {"model": runtime.get("model")}
    return found


class Links(NamedTuple):
    """What other entries see of one descriptor (None for a missing value): the facts that
    cross-file checks read, in `checks.context.EntrySummary`'s order after its first three."""

    name: str | None
    version: str | None
    status: str | None
    replacement: str | None
    sunset: str | None  # ISO text
    dependencies: tuple[tuple[str, str], ...]  # (name, version range)
    runtime_model: str | None
    members: tuple[tuple[int, str], ...]  # an Ensemble's member entries: (position, name)

    def referred(self) -> list[str]:
        """The names this entry depends on, names as replacement or has as ensemble members."""
        return ([name for name, _ in self.dependencies] + ([self.replacement] if self.replacement is not None else [])
                + [name for _, name in self.members])


ENSEMBLE = "Ensemble"


def runtime_model(data: Mapping[str, Any]) -> str | None:
    """The entry's runtime model (None: no [runtime] table, so it cannot run)."""
    runtime = data.get("runtime")
    model = runtime.get("model") if isinstance(runtime, Mapping) else None
    return model if isinstance(model, str) else None


def ensemble_members(data: Mapping[str, Any]) -> list[Any]:
    """The `runtime.params.members` list of an Ensemble entry ([] for any other entry)."""
    runtime = data.get("runtime")
    if not isinstance(runtime, Mapping) or runtime.get("model") != ENSEMBLE or not isinstance(runtime.get("params"), Mapping):
        return []
    members = runtime["params"].get("members")
    return members if isinstance(members, list) else []


def member_entries(data: Mapping[str, Any]) -> tuple[tuple[int, str], ...]:
    """(position, entry name) of each member of an Ensemble entry that is another registry entry."""
    return tuple((index, member["entry"]) for index, member in enumerate(ensemble_members(data))
                 if isinstance(member, Mapping) and isinstance(member.get("entry"), str))


def links_of(data: Mapping[str, Any]) -> Links:
    """What other entries see of `data`: the facts that cross-file checks read (dates as ISO text)."""

    def text_or_none(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    deprecation = data.get("deprecation") if isinstance(data.get("deprecation"), Mapping) else {}
    dependencies = data.get("dependencies") if isinstance(data.get("dependencies"), Mapping) else {}
    sunset = deprecation.get("sunset")
    return Links(
        text_or_none(data.get("name")),
        text_or_none(data.get("version")),
        text_or_none(data.get("status")),
        text_or_none(deprecation.get("replacement")),
        sunset.isoformat() if isinstance(sunset, dt.date) else text_or_none(sunset),
        tuple((key, value) for key, value in dependencies.items() if isinstance(value, str)),
        runtime_model(data),
        member_entries(data),
    )


def entries_from_descriptors(descriptors: Iterable[Descriptor], root: Path) -> list[DataEntry]:
    """Entries for parsed descriptors of the registry at `root`."""
    return [DataEntry.of(_relative(d.path, root), jsonable(d.data), d.doc.sha256) for d in descriptors]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
