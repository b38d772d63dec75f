"""Parsing descriptor files for the cache, in worker processes when there are many.

Per file a worker returns everything the cache stores: the sha256, the data as compact JSON,
the facets as columns, the facts, the text to rank, and -- when the caller passes a
`FragmentRenderer` (`modreg.outputs` does) -- the entry's parts of the index files rendered as
canonical JSON fragments (rendering in the workers spreads a cold `modreg index` over the
cores), or the error that makes the file unreadable. The registry never imports the outputs:
the renderer is handed down by the layer above.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from modreg.errors import ModregError, Problem

if TYPE_CHECKING:
    from modreg.registry.store.facets import DataEntry

__all__ = ["SEP", "FragmentRenderer", "Parsed", "parse_files", "problem_of", "sha256_of"]

SEP = "\x1f"  # joins list facets (tags, capabilities, authors) in one column

# (entry) -> ((memo key, rendered text), ...): a module-level function, so workers can receive it.
FragmentRenderer = Callable[["DataEntry"], tuple[tuple[str, str], ...]]


class Parsed(NamedTuple):
    """What a worker returns for one file."""

    sha256: str
    compact: str | None  # None: unreadable (see error)
    fragments: tuple[tuple[str, str], ...]  # (memo key, text); none when NaN/inf (index reports it)
    facets: tuple[str, ...]  # name, version, category, status, summary, tags, capabilities, authors
    facts: str | None  # `outputs.entry.facts_of(data)` as compact JSON
    texts: tuple[str, ...]  # per ranking column
    error: str | None  # JSON {message, hint, line, col}
    links: str | None = None  # `store.facets.links_of(data)` as compact JSON
    refs: str | None = None  # the names it depends on or names as replacement, each between SEPs


def parse_files(paths: list[Path], fragments: FragmentRenderer | None = None) -> list[Parsed]:
    """One Parsed per path, in order (in processes when there are many)."""
    if not paths:
        return []
    from modreg.registry.store._parallel import map_chunked

    return map_chunked(functools.partial(_parse_chunk, fragments=fragments), paths)


def sha256_of(path: Path) -> str | None:
    """The sha256 of the file's bytes (of its first MAX_BYTES + 1 when it is larger, which no
    descriptor may be), or None when it is not a plain file or cannot be read: a link to
    /dev/zero or a 3 GB file is never read whole."""
    from modreg._fs import open_plain
    from modreg.registry.store.files import MAX_BYTES

    try:
        with open_plain(path) as handle:
            return hashlib.sha256(handle.read(MAX_BYTES + 1)).hexdigest()
    except (OSError, ModregError):
        return None


def problem_of(path: Path, error: str) -> Problem:
    """The Problem stored for an unreadable file."""
    from modreg.registry.store.files import display_path

    fields = json.loads(error)
    return Problem(display_path(path), fields["line"] or 1, fields["col"] or 1, fields["message"], hint=fields["hint"])


def _parse_chunk(paths: list[Path], fragments: FragmentRenderer | None) -> list[Parsed]:
    return [_parse_one(path, fragments) for path in paths]


def _parse_one(path: Path, fragments: FragmentRenderer | None) -> Parsed:
    from modreg.registry.store.canonical import dumps_compact, jsonable
    from modreg.registry.store.files import read_document

    try:
        doc = read_document(path)
        data = jsonable(doc.data)
        compact = dumps_compact(data)
    except (ModregError, OSError, TypeError, ValueError) as error:
        return Parsed(sha256_of(path) or "", None, (), ("",) * 8, None, (), _error_json(error))
    from modreg.registry.store.facets import DataEntry

    entry = DataEntry.of(f"models/{path.name}", data, doc.sha256)
    rendered = fragments(entry) if fragments is not None else ()
    return Parsed(doc.sha256, compact, rendered, *_columns(entry), None, *_links(data))


def _links(data: dict[str, Any]) -> tuple[str, str]:
    """The cross-file facts as JSON, and the names they refer to (for finding who refers to a name)."""
    from modreg.registry.store.canonical import dumps_compact
    from modreg.registry.store.facets import links_of

    links = links_of(data)
    return dumps_compact(links), "".join(f"{SEP}{name}{SEP}" for name in links.referred())


def _columns(entry: DataEntry) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """The stored facets (lists joined), the facts as JSON, and the text of each ranking column."""
    from modreg.registry.store.canonical import dumps_compact
    from modreg.registry.store.facets import text

    e = entry
    stored = (e.name, e.version, e.category, e.status, e.summary, SEP.join(e.tags), SEP.join(e.capabilities), SEP.join(e.authors))
    texts = (e.name, e.summary, text(e.data, "description"), " ".join(e.tags), " ".join(e.capabilities))
    return stored, dumps_compact(e.facts), texts


def _error_json(error: Exception) -> str:
    if isinstance(error, ModregError):
        fields = {"message": error.message, "hint": error.hint, "line": error.line, "col": error.col}
    else:
        fields = {"message": f"cannot be read: {error}", "hint": None, "line": None, "col": None}
    return json.dumps(fields)
