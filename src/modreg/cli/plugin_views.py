"""How plugin commands show their results: plugin tables, lock diffs, health, discover.

Errors of single plugins go to stderr in the funnel's format (one sentence, `hint:`), after
the results; a batch exits with the failures' exit code, the highest when they differ (so an
integrity failure, 5, wins over a refused or unhealthy plugin, 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import typer

from modreg.cli.console import State
from modreg.cli.render import emit_json, notice, warn
from modreg.cli.tables import TableFormat, print_tables, table_of

if TYPE_CHECKING:
    from modreg.errors import ModregError
    from modreg.plugins.base import PluginInfo
    from modreg.plugins.plugin_lock import LockResult
    from modreg.plugins.discover import DiscoverResult
    from modreg.plugins.health import HealthReport

__all__ = ["render_discover", "render_health", "render_lock", "render_plugins"]


def render_plugins(state: State, infos: list[PluginInfo], *, batch: bool, fmt: TableFormat | None = None) -> None:
    """A table of plugins; with `batch` (verify) each failure is an error and sets the exit code."""
    if state.json:
        emit_json(state, {"plugins": infos, "ok": all(i.ok for i in infos)})
    elif infos:
        rows = [{**i.to_dict(), "version": i.version or ""} for i in infos]
        print_tables(state, [table_of(rows, ["name", "version", "source", "location", "models", "status"])], fmt)
    else:
        notice(state, "No plugins: the registry's plugins/ is empty and no package declares modreg.models.v1.")
    failed = [i.error for i in infos if i.error is not None]
    if batch:
        _exit_with(state, failed)
    for error in failed:
        warn(state, error.message)


def render_lock(state: State, result: LockResult) -> None:
    """The diff under --dry-run, else a one-line notice."""
    if state.json:
        emit_json(state, result)
        return
    if result.dry_run and result.diff:
        state.out.print(result.diff.rstrip("\n"), markup=False, highlight=False)
        notice(state, "dry run: nothing was written.")
    elif not result.changed:
        notice(state, f"{result.plugin}: the checksums of its {_files(result)} are up to date.")
    else:
        notice(state, f"locked {_files(result)} of {result.plugin} in {result.path.name}.")
    if result.needs_signature and result.written:
        warn(state, f"sign {result.path} again: `ssh-keygen -Y sign -f KEY -n modreg-plugin plugin.toml`.")


def _files(result: LockResult) -> str:
    count = len(result.files)
    return f"{count} file{'s' * (count != 1)}"


def render_health(state: State, reports: list[HealthReport], fmt: TableFormat | None = None) -> None:
    """One row per model of each plugin; failures as errors; exit 1 (or 5) if any plugin is not healthy."""
    if state.json:
        emit_json(state, {"plugins": reports, "ok": all(r.ok for r in reports)})
    elif reports:
        print_tables(state, [table_of(list(_health_rows(reports)), ["plugin", "status", "model", "fit_seconds", "seconds"])], fmt)
    else:
        notice(state, "No plugins to check.")
    _exit_with(state, [r.error for r in reports if r.error is not None])


def _health_rows(reports: list[HealthReport]) -> Iterable[dict[str, object]]:
    for report in reports:
        base = {"plugin": report.plugin, "status": report.status, "seconds": f"{report.seconds:.2f}"}
        if not report.models:
            yield {**base, "model": ""}
        for model in report.models:
            status = report.status if model.ok else "failed"
            yield {**base, "status": status, "model": model.name, "fit_seconds": model.fit_seconds}


def render_discover(state: State, result: DiscoverResult, fmt: TableFormat | None = None) -> None:
    """The models found and what happened to each; diffs under --dry-run; plugin failures as errors."""
    if state.json:
        emit_json(state, result)
    elif result.models:
        rows = [m.to_dict() for m in result.models]
        print_tables(state, [table_of(rows, ["name", "category", "capabilities", "source", "status", "entry"])], fmt)
        for model in result.models:
            if model.mutation is not None and model.mutation.dry_run and model.mutation.diff:
                state.out.print(model.mutation.diff.rstrip("\n"), markup=False, highlight=False)
    else:
        notice(state, f"No models found in {result.target}.")
    for model in result.models:
        if model.status == "skipped" and model.error is not None:
            warn(state, f"{model.error.message} ({model.error.hint})")
    _exit_with(state, [*result.failures, *(m.error for m in result.models if m.status == "failed" and m.error)])


def _exit_with(state: State, errors: list[ModregError]) -> None:
    from modreg.cli.errors import report_error

    for error in errors:
        report_error(error, state)
    if errors:
        raise typer.Exit(max(int(error.exit_code) for error in errors))
