"""What the cache answers for cross-file checks: the entries a change can affect, without reading every file.

A change to one descriptor can only alter the cross-file problems of the entries it names, of
those that name it, and of those whose file stem equals its own ignoring case (collisions);
`link_rows` finds them among the stored `links`/`refs` columns (`store.facets.links_of`).
`RegistryCache` inherits these methods; the cache must be refreshed first.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterable
from typing import Any, TypeVar

from modreg.registry.search._cacheparse import SEP
from modreg.registry.store.facets import Links
from modreg.registry.store.layout import DESCRIPTOR_SUFFIXES

__all__ = ["LinkIndex"]

T = TypeVar("T")
_CHUNK = 400  # SQLite's limit on parameters is 999 in old builds


class LinkIndex:
    """Cross-file facts of the stored files, selected by name, by reference and by stem."""

    conn: sqlite3.Connection
    _guarded: Callable[[Callable[[], Any]], Any]

    def link_rows(
        self, *, names: Collection[str] = (), referring_to: Collection[str] = (), stems: Collection[str] = ()
    ) -> dict[str, Links | None]:
        """`{file in models/: links}` of the files whose entry is called one of `names`, that
        depend on or name as replacement one of `referring_to`, or whose stem is one of `stems`
        ignoring case; None for a file that cannot be read."""
        return self._guarded(lambda: self._link_rows(names, referring_to, stems))

    def entry_names(self) -> list[str]:
        """The name of every readable entry (for "did you mean")."""
        return self._guarded(lambda: [name for (name,) in self.conn.execute("SELECT name FROM files WHERE error IS NULL")])

    def _link_rows(self, names: Collection[str], referring_to: Collection[str], stems: Collection[str]) -> dict[str, Links | None]:
        found: dict[str, Links | None] = {}
        files = [f"{stem}{suffix}".lower() for stem in stems for suffix in DESCRIPTOR_SUFFIXES]
        for clause, values in (("name IN ({})", names), ("lower(file) IN ({})", files)):
            for chunk in _chunks(sorted(values)):
                found.update(self._rows(clause.format(", ".join("?" * len(chunk))), chunk))
        for chunk in _chunks(sorted(referring_to)):
            clause = "refs != '' AND (" + " OR ".join("instr(refs, ?) > 0" for _ in chunk) + ")"
            found.update(self._rows(clause, [f"{SEP}{name}{SEP}" for name in chunk]))
        return found

    def _rows(self, where: str, params: list[str]) -> Iterable[tuple[str, Links | None]]:
        for file, links in self.conn.execute(f"SELECT file, links FROM files WHERE {where}", params):
            yield file, _decode(links)


def _decode(links: str | None) -> Links | None:
    if links is None:
        return None
    name, version, status, replacement, sunset, dependencies, model, members = json.loads(links)
    return Links(name, version, status, replacement, sunset, tuple((dep, rng) for dep, rng in dependencies), model,
                 tuple((index, member) for index, member in members))


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
