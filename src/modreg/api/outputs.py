"""The generated files: `index`, `report`, `build` (validate + index + report) and `stats`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from modreg.api.registry import open_registry
from modreg.registry.store.lock import DEFAULT_TIMEOUT as LOCK_TIMEOUT

if TYPE_CHECKING:

    from modreg.outputs.build import OutputsResult, Statistics

__all__ = ['build', 'generated', 'index', 'report', 'stats']


def index(*, registry: str | Path | None = None, check: bool = False, lock_timeout: float = LOCK_TIMEOUT) -> OutputsResult:
    """Write the JSON files of index/ that changed, or with `check` list the stale ones (`modreg index`)."""
    from modreg.outputs.build import generate

    return generate(open_registry(registry), ("index",), command="index", check=check, lock_timeout=lock_timeout)


def report(*, registry: str | Path | None = None, check: bool = False, lock_timeout: float = LOCK_TIMEOUT) -> OutputsResult:
    """Write the markdown reports that changed, or with `check` list the stale ones (`modreg report`)."""
    from modreg.outputs.build import generate

    return generate(open_registry(registry), ("report",), command="report", check=check, lock_timeout=lock_timeout)


def build(
    *, registry: str | Path | None = None, check: bool = False, strict: bool = False, lock_timeout: float = LOCK_TIMEOUT
) -> OutputsResult:
    """Validate, then index and report (`modreg build`, the one CI step).

    With validation errors nothing is compared or written and the result holds the problems;
    with `check` nothing is written and `stale` lists the files that differ.
    """
    from modreg.api.registry import with_plugin_integrity
    from modreg.outputs.build import KINDS, OutputsResult, generate
    from modreg.registry.checks.validate import check_registry

    paths = open_registry(registry)
    validation = with_plugin_integrity(paths, check_registry(paths, strict=strict))
    if not validation.ok:
        return OutputsResult("build", check, problems=validation.problems, integrity=validation.broken + validation.tampered)
    return generate(paths, KINDS, command="build", check=check, lock_timeout=lock_timeout, problems=validation.problems)


def generated(*, registry: str | Path | None = None) -> dict[str, str]:
    """`{relative path: text}` of index/*.json and reports/*.md as the descriptors on disk give
    them now, written nowhere (what `modreg serve` shows; descriptors that cannot be read are left out)."""
    from modreg.outputs.build import KINDS, build_outputs, read_entries
    from modreg.outputs.indexes import entry_fragments
    from modreg.registry.search.cache import RegistryCache

    paths = open_registry(registry)
    with RegistryCache(paths, fragments=entry_fragments) as cache:
        entries, _ = read_entries(cache, strict=False)
        return build_outputs(entries, KINDS, cache, root=paths.root)


def stats(*, registry: str | Path | None = None) -> Statistics:
    """Counts by category and status, tags, deprecations and leaderboards (`modreg stats`)."""
    from modreg.outputs.build import statistics

    return statistics(open_registry(registry))
