"""What the registry cache hands out: entries, refresh results, filters, selections, fragments."""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modreg.errors import Problem
from modreg.registry.search._cacheparse import SEP

if TYPE_CHECKING:
    from modreg.registry.search.cache import RegistryCache

__all__ = ["CachedEntry", "Filters", "FragmentMemo", "Refresh", "Selection"]


class CachedEntry:
    """One readable descriptor: its facets and facts, and its data decoded on demand
    (an `outputs.entry.Entry`)."""

    __slots__ = (
        "file", "sha256", "name", "version", "category", "status", "summary", "tags", "capabilities", "authors",
        "_facts", "_compact", "_data", "_cache",
    )

    def __init__(self, row: tuple[Any, ...], cache: RegistryCache, compact: str | None = None) -> None:
        name, self.sha256, self.name, self.version, self.category, self.status, self.summary = row[:7]
        self.file = f"models/{name}"
        self.tags, self.capabilities, self.authors = (tuple(value.split(SEP)) if value else () for value in row[7:10])
        self._facts: str | dict[str, Any] = row[10]
        self._compact = compact
        self._data: dict[str, Any] | None = None
        self._cache = cache

    @property
    def facts(self) -> dict[str, Any]:
        """`outputs.entry.facts_of(data)`, decoded on first use."""
        if isinstance(self._facts, str):
            self._facts = json.loads(self._facts)
        return self._facts

    @property
    def compact(self) -> str:
        """The data as compact JSON (`outputs.canonical.dumps_compact`)."""
        if self._compact is None:
            self._compact = self._cache.compact_data(self.file.removeprefix("models/"))
        return self._compact

    @property
    def data(self) -> dict[str, Any]:
        """The parsed descriptor (dates as ISO text)."""
        return self._data if self._data is not None else self.decode()

    def decode(self) -> dict[str, Any]:
        """Decode the data JSON now (ValueError when it is not JSON)."""
        self._data = json.loads(self.compact)
        return self._data

    def __repr__(self) -> str:
        return f"CachedEntry({self.file!r})"


@dataclass(frozen=True)
class Refresh:
    """What one refresh found."""

    parsed: list[str]  # files (in models/) parsed by this refresh
    problems: list[Problem]  # files that cannot be read
    backend: str  # "fts5" | "python": how text is ranked
    persistent: bool  # False: the cache could not be kept on disk this time


@dataclass(frozen=True)
class Filters:
    """Facet filters, applied in SQL (case-insensitive). Every tag, capability and author
    given must hold (an author as a substring); categories and statuses are alternatives."""

    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    def sql(self) -> tuple[str, list[str]]:
        """A WHERE clause over `files` and its parameters."""
        clauses, params = ["files.error IS NULL"], []
        for column, values in (("category", self.categories), ("status", self.statuses)):
            if values:
                clauses.append(f"lower(files.{column}) IN ({', '.join('?' * len(values))})")
                params += [value.lower() for value in values]
        for column, values in (("tags", self.tags), ("capabilities", self.capabilities)):
            for value in values:
                clauses.append(f"instr(lower(char(31) || files.{column} || char(31)), ?) > 0")
                params.append(f"{SEP}{value.lower()}{SEP}")
        for value in self.authors:
            clauses.append("instr(lower(files.authors), ?) > 0")
            params.append(value.lower())
        return " AND ".join(clauses), params


@dataclass
class Selection:
    """Entries a query selected; `scores` (by file) when it had text; `total` before a limit."""

    entries: list[CachedEntry]
    scores: dict[str, float] | None = None
    total: int = 0


class FragmentMemo(MutableMapping[str, str]):
    """A memo that remembers which keys were read and which were added."""

    def __init__(self, stored: dict[str, str]) -> None:
        self.stored = stored
        self.used: set[str] = set()
        self.added: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        value = self.stored[key]
        self.used.add(key)
        return value

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """`memo[key]` or `default`, without the exception `Mapping.get` goes through on a miss."""
        value = self.stored.get(key)
        if value is None:
            return default
        self.used.add(key)
        return value

    def __setitem__(self, key: str, value: str) -> None:
        self.stored[key] = value
        self.used.add(key)
        self.added[key] = value

    def __delitem__(self, key: str) -> None:
        del self.stored[key]

    def __contains__(self, key: object) -> bool:
        return key in self.stored

    def __iter__(self) -> Iterator[str]:
        return iter(self.stored)

    def __len__(self) -> int:
        return len(self.stored)

    def unused(self) -> list[str]:
        return [key for key in self.stored if key not in self.used]
