"""How model commands show their results: entries, listings, and mutations (diffs, notices).

Shared by every command that changes descriptors: `render_mutation` prints the unified diff
under --dry-run and a one-line notice otherwise; `render_batch` reports every item of a batch
and exits with the failures' code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from modreg.cli.console import State
from modreg.cli.render import emit_json, notice, warn
from modreg.cli.tables import Table, TableFormat, print_tables
from modreg.errors import ExitCode

if TYPE_CHECKING:
    from rich.text import Text

    from modreg.registry.search.entries import Entry, Listing
    from modreg.registry.mutation.transaction import BatchItem, Mutation

__all__ = ["render_batch", "render_entry", "render_listing", "render_mutation", "warn_if_deprecated"]


def render_mutation(state: State, mutation: Mutation) -> None:
    """The diff under --dry-run, else a one-line notice; the Mutation as JSON under --json."""
    if state.json:
        emit_json(state, mutation)
        return
    if mutation.dry_run and mutation.diff:
        _print_diff(state, mutation.diff)
        notice(state, "dry run: nothing was written.")
    elif not mutation.diff:
        notice(state, f"{mutation.name}: nothing to change.")
    else:
        changed = ", ".join(mutation.changes) if mutation.action == "update" else ""
        notice(state, f"{mutation.action}d {mutation.name} ({mutation.path.name}){': ' + changed if changed else ''}")


def render_batch(state: State, items: list[BatchItem], *, batch: bool) -> None:
    """Each item's result (errors through the funnel's format); exit non-zero if any failed."""
    from modreg.cli.errors import report_error

    if state.json:
        emit_json(state, {"results": [item.to_dict() for item in items]} if batch else items[0].mutation)
    for item in items:
        if item.error is not None:
            report_error(item.error, state)
        elif not state.json and item.mutation is not None:
            render_mutation(state, item.mutation)
    failed = [item.error for item in items if item.error is not None]
    if failed:
        codes = {int(error.exit_code) for error in failed}
        raise typer.Exit(codes.pop() if len(codes) == 1 else int(ExitCode.CHECK_FAILED))


def _print_diff(state: State, diff: str) -> None:
    styles = {"+": "green", "-": "red", "@": "cyan"}
    for line in diff.splitlines():
        style = None if line.startswith(("+++", "---")) else styles.get(line[:1])
        state.out.print(line, markup=False, highlight=False, style=style)


def warn_if_deprecated(state: State, name: str, data: dict[str, Any]) -> None:
    """A stderr warning naming the replacement and the sunset of a deprecated entry."""
    if data.get("status") != "deprecated":
        return
    info = data.get("deprecation") if isinstance(data.get("deprecation"), dict) else {}
    parts = [f"{name} is deprecated" + (f" ({info['reason']})" if info.get("reason") else "")]
    if info.get("replacement"):
        parts.append(f"use {info['replacement']} instead")
    if info.get("sunset"):
        parts.append(f"sunset {info['sunset']}")
    warn(state, "; ".join(parts) + ".")


def render_listing(state: State, listing: Listing, fmt: TableFormat | None = None) -> None:
    """The list table (or JSON), and a warning per file that could not be read."""
    for problem in listing.unreadable:
        warn(state, f"{problem.path}:{problem.line}: {problem.message} (skipped)")
    if state.json:
        emit_json(state, listing)
    elif listing.models:
        rows = [[r.name, r.version, r.category, r.status, r.summary] for r in listing.models]
        print_tables(state, [Table(["name", "version", "category", "status", "summary"], rows)], fmt, cut_last=True)
    else:
        notice(state, "No models match.")


def render_entry(state: State, entry: Entry) -> None:
    """A readable view of one descriptor: heading, prose, fields, then each table."""
    from rich.markup import escape

    data = entry.data
    out = state.out
    heading = f"[bold]{escape(entry.name)}[/bold] {escape(str(data.get('version', '')))}"
    out.print(f"{heading}  ·  {escape(str(data.get('category', '')))}  ·  {escape(str(data.get('status', 'active')))}")
    if data.get("summary"):
        out.print(str(data["summary"]), markup=False, style="italic")
    if data.get("description"):
        out.print("\n" + str(data["description"]).rstrip("\n"), markup=False)
    out.print(f"\n[dim]{escape(entry.path)}[/dim]")
    simple = {k: v for k, v in data.items() if not isinstance(v, dict) and (not isinstance(v, list) or _is_flat_list(v))}
    shown = {k: v for k, v in simple.items() if k not in ("schema_version", "name", "version", "category", "status", "summary", "description")}
    _print_fields(state, None, shown)
    for key, value in data.items():
        if isinstance(value, dict):
            _print_fields(state, key, _flatten(value))
        elif isinstance(value, list) and not _is_flat_list(value):
            _print_records(state, key, value)


def _is_flat_list(value: list[Any]) -> bool:
    return not any(isinstance(item, (dict, list)) for item in value)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _print_fields(state: State, title: str | None, fields: dict[str, Any]) -> None:
    from rich.table import Table

    if not fields:
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in fields.items():
        grid.add_row(key, _cell(value))
    if title:
        state.out.print(f"\n[bold underline]{title}[/bold underline]")
    else:
        state.out.print()
    state.out.print(grid)


def _print_records(state: State, title: str, records: list[Any]) -> None:
    from rich.table import Table

    columns = list(dict.fromkeys(k for r in records if isinstance(r, dict) for k in r if not isinstance(r[k], dict)))
    table = Table(header_style="bold")
    for column in columns:
        table.add_column(column)
    for record in records:
        if isinstance(record, dict):
            table.add_row(*(_cell(record.get(column)) for column in columns))
    state.out.print(f"\n[bold underline]{title}[/bold underline]")
    state.out.print(table)


def _cell(value: Any) -> Text:
    from rich.text import Text

    if isinstance(value, list):
        return Text(", ".join(str(v) for v in value))
    if isinstance(value, bool):
        return Text("true" if value else "false")
    return Text("" if value is None else str(value))
