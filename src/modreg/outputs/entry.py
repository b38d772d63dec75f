"""What the output builders read: one descriptor's file, its data, and its name.

The local cache hands out entries whose data is decoded on demand; `entries_from_descriptors`
makes the same from freshly parsed `Descriptor`s. Either way the data is JSON-able (dates as
ISO text), so an index built from the cache and one built from the files are identical.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modreg.outputs.canonical import jsonable

if TYPE_CHECKING:
    from modreg.registry.descriptor import Descriptor

__all__ = ["Entry", "DataEntry", "entries_from_descriptors", "entry_name"]


class Entry(Protocol):
    """One descriptor as the builders see it."""

    @property
    def file(self) -> str:
        """The descriptor's path relative to the registry root, with `/` (`models/NHITS.toml`)."""

    @property
    def data(self) -> Mapping[str, Any]:
        """The parsed descriptor, JSON-able."""

    @property
    def compact(self) -> str | None:
        """`dumps_compact(data)` when known (saves encoding it again), else None."""


@dataclass(frozen=True)
class DataEntry:
    """An Entry made from data at hand."""

    file: str
    data: Mapping[str, Any]
    compact: str | None = None


def entry_name(entry: Entry) -> str:
    """The entry's `name`, or its file's stem when the name is missing or not text."""
    name = entry.data.get("name")
    return name if isinstance(name, str) else Path(entry.file).stem


def entries_from_descriptors(descriptors: Iterable[Descriptor], root: Path) -> list[DataEntry]:
    """Entries for parsed descriptors of the registry at `root`."""
    return [DataEntry(_relative(d.path, root), jsonable(d.data)) for d in descriptors]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
