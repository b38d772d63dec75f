"""Entries by name: finding them from a listing of models/ (no parsing), reading them for show/list.

A name is its file's stem, so looking one up costs a directory listing however large the
registry is. Names are unique ignoring case and suffix (`Model.toml` and `model.yaml` would
collide on a case-insensitive checkout).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modreg.errors import Conflict, NotFound, Problem, UsageError
from modreg.registry.store.layout import DESCRIPTOR_SUFFIXES, RegistryPaths

__all__ = ["Entry", "EntryRow", "Listing", "entry_names", "find_entry", "list_rows", "load_entry", "require_free_name"]


def entry_names(paths: RegistryPaths) -> dict[str, Path]:
    """Every entry's name (its file stem) -> its file, sorted by file name."""
    return {os.path.splitext(name)[0]: paths.models / name for name in _descriptor_names(paths)}


def _descriptor_names(paths: RegistryPaths) -> list[str]:
    """The descriptor files' names in models/, sorted (one directory read, no stat per file)."""
    try:
        with os.scandir(paths.models) as items:
            return sorted(item.name for item in items  # a link or a pipe too: reading it refuses it by name
                          if item.name.endswith(DESCRIPTOR_SUFFIXES) and not item.is_dir(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):
        return []


def find_entry(paths: RegistryPaths, name: str) -> Path:
    """The file of the entry `name`.

    Raises:
        NotFound: no such entry; the hint names the closest existing one.
    """
    found = paths.descriptor_path(name)
    if found is not None:
        return found
    names = list(entry_names(paths))
    folded = {stem.casefold(): stem for stem in names}
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    suggestion = folded.get(name.casefold()) or (close[0] if close else None)
    raise NotFound(
        f"No model named `{name}` in the registry.",
        hint=f"did you mean `{suggestion}`?" if suggestion else "run `modreg list` to see the registered models.",
    )


def require_free_name(paths: RegistryPaths, name: str) -> None:
    """Raise unless `name` is a safe name that no entry uses, in any case or suffix.

    Raises:
        UsageError: the name is unsafe as a file name.
        Conflict: an entry with that name (ignoring case) exists.
    """
    from modreg.registry.store.names import check_name

    reason = check_name(name)
    if reason is not None:
        raise UsageError(
            f"`{name}` is not a valid model name: {reason}.",
            hint="use a name like `NHITS`, `my-model` or `lstm.v2`.",
        )
    wanted = name.casefold()
    found = next((file for file in _descriptor_names(paths) if os.path.splitext(file)[0].casefold() == wanted), None)
    if found is not None:
        existing = paths.models / found
        raise Conflict(
            f"A model named `{existing.stem}` already exists ({existing.relative_to(paths.root).as_posix()}).",
            hint=f"use `modreg update {existing.stem}` to change it, or choose another name.",
            path=existing,
        )


# ----- Reading entries for show and list -----


@dataclass(frozen=True)
class Entry:
    """One descriptor as `show` presents it."""

    name: str
    path: str  # relative to the registry root, with `/`
    format: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "format": self.format, "descriptor": self.data}


@dataclass(frozen=True)
class EntryRow:
    """One line of `list`."""

    name: str
    version: str
    category: str
    status: str
    summary: str
    tags: tuple[str, ...]
    path: str


@dataclass(frozen=True)
class Listing:
    """The rows `list` shows, and the files it could not read."""

    models: list[EntryRow]
    unreadable: list[Problem] = field(default_factory=list)


def load_entry(paths: RegistryPaths, name: str) -> Entry:
    """The entry `name`, read from its file (NotFound with "did you mean")."""
    from modreg.registry.store.files import read_document

    doc = read_document(find_entry(paths, name))
    return Entry(doc.path.stem, _relative(paths, doc.path), doc.fmt, doc.data)


def list_rows(
    paths: RegistryPaths, *, category: str | None = None, status: str | None = None, tags: Sequence[str] = ()
) -> Listing:
    """Every entry matching the filters (any case; all given tags must be present), by name.

    Read through the local cache (`.modreg/`), so only files changed since the last command
    are parsed.
    """
    from modreg.registry.search.cache import Filters, RegistryCache
    from modreg.registry.search.choices import CATEGORIES, STATUSES, check_choices

    check_choices("category", _one(category), CATEGORIES)
    check_choices("status", _one(status), STATUSES)
    filters = Filters(categories=_one(category), statuses=_one(status), tags=tuple(tags))
    with RegistryCache(paths) as cache:
        refreshed = cache.refresh()
        selection = cache.select(filters=filters, ranked=True)
    rows = [EntryRow(e.name, e.version, e.category, e.status, e.summary, tuple(e.tags), e.file) for e in selection.entries]
    return Listing(rows, refreshed.problems)


def _one(value: str | None) -> tuple[str, ...]:
    return (value,) if value is not None else ()


def _relative(paths: RegistryPaths, path: Path) -> str:
    try:
        return path.relative_to(paths.root).as_posix()
    except ValueError:
        return path.as_posix()
