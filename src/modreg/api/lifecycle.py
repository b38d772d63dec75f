"""The lifecycle of an entry: deprecate, archive, restore, delete, and the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.api.registry import open_registry
from modreg.registry.store.lock import DEFAULT_TIMEOUT as LOCK_TIMEOUT

if TYPE_CHECKING:
    import datetime as dt

    from modreg.registry.store.audit import AuditEntry
    from modreg.registry.history.lifecycle import Deletion
    from modreg.registry.mutation.transaction import Mutation

__all__ = ['archive', 'audit', 'delete', 'deprecate', 'restore']


def deprecate(
    name: str,
    *,
    reason: str,
    registry: str | Path | None = None,
    replacement: str | None = None,
    sunset: str | dt.date | None = None,
    dry_run: bool = False,
    lock_timeout: float = LOCK_TIMEOUT,
    today: dt.date | None = None,
) -> Mutation:
    """Deprecate an entry (`modreg deprecate`): the replacement must exist and be active, the
    sunset (YYYY-MM-DD) must be in the future."""
    import datetime as dt

    from modreg.registry.history.lifecycle import check_replacement, deprecated, parse_date
    from modreg.registry.mutation.transaction import transaction

    paths = open_registry(registry)
    day = today or dt.date.today()
    end = parse_date(sunset, "--sunset") if sunset is not None else None

    def change(data: dict[str, Any]) -> dict[str, Any]:
        instead = check_replacement(paths, name, replacement) if replacement is not None else None
        return deprecated(data, name=name, reason=reason, replacement=instead, sunset=end, today=day)

    with transaction(paths, "deprecate", dry_run=dry_run, lock_timeout=lock_timeout) as txn:
        txn.edit(name, change)
    return txn.results[0]


def archive(
    name: str, *, registry: str | Path | None = None, dry_run: bool = False, lock_timeout: float = LOCK_TIMEOUT, today: dt.date | None = None
) -> Mutation:
    """Archive a deprecated entry (`modreg archive`)."""
    import datetime as dt

    from modreg.registry.history.lifecycle import archived
    from modreg.registry.mutation.transaction import update_entry

    day = today or dt.date.today()
    return update_entry(open_registry(registry), name, lambda data: archived(data, name=name, today=day), command="archive", dry_run=dry_run, lock_timeout=lock_timeout)


def restore(
    name: str, *, registry: str | Path | None = None, dry_run: bool = False, lock_timeout: float = LOCK_TIMEOUT, today: dt.date | None = None
) -> Mutation:
    """Make a deprecated or archived entry active again, its deprecation cleared (`modreg restore`)."""
    import datetime as dt

    from modreg.registry.history.lifecycle import restored
    from modreg.registry.mutation.transaction import update_entry

    day = today or dt.date.today()
    return update_entry(open_registry(registry), name, lambda data: restored(data, name=name, today=day), command="restore", dry_run=dry_run, lock_timeout=lock_timeout)


def delete(
    name: str, *, registry: str | Path | None = None, force: bool = False, dry_run: bool = False, lock_timeout: float = LOCK_TIMEOUT
) -> Deletion:
    """Delete an entry, keeping its file in .modreg/trash/ (`modreg delete`).

    Refused with a Conflict listing them when other entries depend on it or name it as their
    replacement, unless `force`.
    """
    from modreg.registry.search.entries import find_entry
    from modreg.registry.history.lifecycle import Deletion, dependents, refuse_if_needed
    from modreg.registry.mutation.transaction import transaction

    paths = open_registry(registry)
    with transaction(paths, "delete", dry_run=dry_run, lock_timeout=lock_timeout) as txn:
        stem = find_entry(paths, name).stem
        found = dependents(paths, stem)
        if not force:
            refuse_if_needed(stem, found)
        txn.delete(stem, trash=paths.trash, force=force)
    return Deletion(txn.results[0], found)


def audit(name: str | None = None, *, registry: str | Path | None = None) -> list[AuditEntry]:
    """The audit log, oldest first; only the entries about `name` when given (`modreg audit`)."""
    from modreg.registry.store.audit import read_audit

    return read_audit(open_registry(registry), name)
