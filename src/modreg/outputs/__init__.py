"""Generated outputs: canonical JSON indexes and markdown reports, as pure functions.

`build_indexes(entries)` and `build_reports(entries)` return `{relative path: text}`; the api
writes them (atomically, only when changed) or compares them with the files (`--check`).
Nothing here reads the clock, so the same descriptors always give the same bytes.
"""

from __future__ import annotations

from modreg.registry.store.facets import Entry, entries_from_descriptors

__all__ = ["Entry", "entries_from_descriptors"]
