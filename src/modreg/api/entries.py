"""Registering, reading, searching, updating and versioning model entries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.api.registry import open_registry
from modreg.registry.store.lock import DEFAULT_TIMEOUT as LOCK_TIMEOUT

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from modreg.registry.search.entries import Entry, Listing
    from modreg.registry.history.diff import EntryDiff
    from modreg.registry.history.gitview import RegistryDiff
    from modreg.registry.history.history import History
    from modreg.registry.search.engine import SearchResult
    from modreg.registry.mutation.transaction import BatchItem, Mutation

__all__ = ['diff', 'diff_git', 'history', 'list_entries', 'register', 'search', 'show', 'update', 'version']


def register(
    name: str | None = None,
    *,
    registry: str | Path | None = None,
    category: str | None = None,
    from_files: Sequence[str | Path] = (),
    summary: str | None = None,
    description: str | None = None,
    authors: Sequence[str] = (),
    tags: Sequence[str] = (),
    capabilities: Sequence[str] = (),
    version: str = "0.1.0",
    runtime_model: str | None = None,
    params: Mapping[str, Any] | None = None,
    fmt: str = "toml",
    dry_run: bool = False,
    lock_timeout: float = LOCK_TIMEOUT,
    today: dt.date | None = None,
) -> list[BatchItem]:
    """Register a new entry from fields, or adopt hand-written files (`modreg register`).

    With `from_files` every file is tried and each result (its Mutation or its error) returned;
    otherwise the one entry `name` is created and an error is raised. An existing name, in any
    case or suffix, is a Conflict.
    """
    import datetime as dt

    from modreg.errors import UsageError
    from modreg.registry.mutation.changes import adopt, new_entry
    from modreg.registry.mutation.transaction import BatchItem, create_entry, run_batch

    paths = open_registry(registry)
    day = today or dt.date.today()
    if from_files:
        fields = (category, summary, description, runtime_model, params, *authors, *tags, *capabilities)
        if name is not None or any(field for field in fields):
            raise UsageError("Give either a NAME with its fields or --from FILE..., not both.", hint="an adopted file brings its own fields.")
        return run_batch([Path(f) for f in from_files], lambda f: adopt(paths, f, day, dry_run=dry_run, lock_timeout=lock_timeout))
    if name is None or category is None or fmt not in ("toml", "yaml"):
        raise UsageError("register needs a NAME and --category (or --from FILE...).", hint="e.g. `modreg register MyModel --category custom --summary \"...\"`.")
    data = new_entry(
        name, category=category, today=day, version=version, summary=summary, description=description, authors=authors,
        tags=tags, capabilities=capabilities, runtime_model=runtime_model, params=params,
    )
    return [BatchItem(name, create_entry(paths, data, fmt, command="register", dry_run=dry_run, lock_timeout=lock_timeout))]


def show(name: str, *, registry: str | Path | None = None, at: str | None = None) -> Entry:
    """One entry's descriptor (`modreg show`), or as it was at the git revision `at`;
    NotFound suggests the closest name."""
    from modreg.registry.search.entries import load_entry

    if at is not None:
        from modreg.registry.history.gitview import show_at

        return show_at(open_registry(registry), name, at)
    return load_entry(open_registry(registry), name)


def list_entries(
    *,
    registry: str | Path | None = None,
    category: str | None = None,
    status: str | None = None,
    tags: Sequence[str] = (),
) -> Listing:
    """The entries matching every filter given, sorted by name (`modreg list`)."""
    from modreg.registry.search.entries import list_rows

    return list_rows(open_registry(registry), category=category, status=status, tags=tags)


def update(
    name: str,
    *,
    registry: str | Path | None = None,
    summary: str | None = None,
    description: str | None = None,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    add_capabilities: Sequence[str] = (),
    remove_capabilities: Sequence[str] = (),
    add_authors: Sequence[str] = (),
    remove_authors: Sequence[str] = (),
    set_values: Mapping[str, Any] | None = None,
    unset: Sequence[str] = (),
    dry_run: bool = False,
    lock_timeout: float = LOCK_TIMEOUT,
    today: dt.date | None = None,
) -> Mutation:
    """Change fields of an entry, keeping its file's comments and layout (`modreg update`).

    `set_values` maps dotted keys (`metadata.paper`, `runtime.params.h`) to values; `updated`
    becomes `today` when anything changed.
    """
    import datetime as dt

    from modreg.errors import UsageError
    from modreg.registry.mutation.changes import Update
    from modreg.registry.mutation.transaction import update_entry

    change = Update(
        summary, description, tuple(add_tags), tuple(remove_tags), tuple(add_capabilities), tuple(remove_capabilities),
        tuple(add_authors), tuple(remove_authors), dict(set_values or {}), tuple(unset),
    )
    if change.is_empty():
        raise UsageError(f"Nothing to update in `{name}`.", hint="give --summary, --description, --tag, --set KEY=VALUE, ... (see `modreg update --help`).")
    day = today or dt.date.today()
    paths = open_registry(registry)
    return update_entry(paths, name, lambda data: change.apply(data, day), command="update", dry_run=dry_run, lock_timeout=lock_timeout)


def search(
    text: str = "",
    *,
    registry: str | Path | None = None,
    tags: Sequence[str] = (),
    categories: Sequence[str] = (),
    capabilities: Sequence[str] = (),
    statuses: Sequence[str] = (),
    authors: Sequence[str] = (),
    where: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> SearchResult:
    """Entries ranked by `text` (BM25) and narrowed by filters and a `where` expression
    (`modreg search`); `sort` is a dotted field, `-field` for descending; `limit` 0/None: all.

    Raises UsageError for a bad expression (with its column) or an unknown field.
    """
    from modreg.registry.search.engine import SearchQuery
    from modreg.registry.search.engine import search as run_search

    query = SearchQuery(
        text, tuple(tags), tuple(categories), tuple(capabilities), tuple(statuses), tuple(authors), where, sort, limit
    )
    return run_search(open_registry(registry), query)


def version(
    name: str,
    *,
    message: str,
    registry: str | Path | None = None,
    bump: str | None = None,
    set_version: str | None = None,
    artifacts: Sequence[str | Path] = (),
    dry_run: bool = False,
    lock_timeout: float = LOCK_TIMEOUT,
    today: dt.date | None = None,
) -> Mutation:
    """A new version of an entry (`modreg version`): `bump` major|minor|patch or `set_version`.

    Appends a [[history]] entry (version, date, `message`, the `artifacts` files by path and
    sha256, a snapshot of status, runtime, performance, dependencies and metadata), sets
    `version` and `updated`, and trims history to the registry's `max_history`. A version not
    greater than the current one is a Conflict.
    """
    import datetime as dt

    from modreg.registry.checks.config import load_config
    from modreg.registry.checks.artifacts import artifact_record
    from modreg.registry.history.history import bumped
    from modreg.registry.mutation.transaction import update_entry

    paths = open_registry(registry)
    day = today or dt.date.today()
    records = [artifact_record(paths, path) for path in artifacts]
    keep = load_config(paths).max_history

    def change(data: dict[str, Any]) -> dict[str, Any]:
        return bumped(data, name=name, part=bump, to=set_version, message=message, today=day, artifacts=records, max_history=keep)

    return update_entry(paths, name, change, command="version", dry_run=dry_run, lock_timeout=lock_timeout)


def history(name: str, *, registry: str | Path | None = None) -> History:
    """An entry's versions, oldest first (`modreg history`): its [[history]], plus versions that
    only git remembers when the registry is a git repository."""
    from modreg.registry.history.git_versions import versions_from_git
    from modreg.registry.history.history import read_history, with_git_versions
    from modreg.registry.search.entries import load_entry

    paths = open_registry(registry)
    entry = load_entry(paths, name)
    recorded = read_history(entry.name, entry.data)
    return with_git_versions(recorded, versions_from_git(paths, entry.path))


def diff(name: str, old: str, new: str = "current", *, registry: str | Path | None = None) -> EntryDiff:
    """What differs between two versions of an entry (`modreg diff NAME A B`).

    A version is the current one or `current` (the file as it is), one recorded in [[history]]
    (its snapshot), or, in a git repository, one whose committed state git still has.
    """
    from modreg.errors import NotFound
    from modreg.registry.history.diff import diff_versions
    from modreg.registry.history.git_versions import versions_from_git
    from modreg.registry.search.entries import load_entry

    paths = open_registry(registry)
    entry = load_entry(paths, name)
    try:
        return diff_versions(entry.name, entry.data, old, new)
    except NotFound:
        older = {v.version: v.data for v in versions_from_git(paths, entry.path).values()}
        if not older:
            raise
        return diff_versions(entry.name, entry.data, old, new, older)


def diff_git(revision: str, revision2: str | None = None, *, registry: str | Path | None = None) -> RegistryDiff:
    """Every entry added, removed, deprecated or changed between two git revisions, or a
    revision and the working tree (`modreg diff --git REV [REV2]`)."""
    from modreg.registry.history.gitview import diff_git as compare_revisions

    return compare_revisions(open_registry(registry), revision, revision2)
