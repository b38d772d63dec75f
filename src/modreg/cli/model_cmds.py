"""Model commands: register, show, list, update (later: version, deprecate, ...).

Each command parses its options, calls the `modreg.api` function of the same name, and renders
the result; `render_mutation` and `render_batch` are shared by every mutating command.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from modreg import api
from modreg.cli.app import app
from modreg.cli.console import State
from modreg.cli.options import DryRunOpt, JsonOpt, LockTimeoutOpt, RegistryOpt, merge_state
from modreg.cli.render import emit_json, notice, warn
from modreg.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from rich.text import Text

    from modreg.registry.entries import Entry, Listing
    from modreg.registry.mutate import BatchItem, Mutation


class Format(str, Enum):
    """File format of a new descriptor."""

    toml = "toml"
    yaml = "yaml"


# ----- Commands -----


@app.command()
def register(
    ctx: typer.Context,
    targets: Annotated[
        Optional[list[str]],
        typer.Argument(help="NAME of the new entry; with --from, the descriptor files to adopt.", show_default=False),
    ] = None,
    from_files: Annotated[bool, typer.Option("--from", help="Adopt hand-written TOML/YAML files given as arguments.")] = False,
    category: Annotated[Optional[str], typer.Option("--category", "-c", help="basic, recurrent, advanced, transformer, specialized or custom.")] = None,
    summary: Annotated[Optional[str], typer.Option(help="One line about the model.")] = None,
    description: Annotated[Optional[str], typer.Option(help="Longer prose (markdown).")] = None,
    author: Annotated[Optional[list[str]], typer.Option("--author", help="An author, `Name <email>` (repeatable).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="A tag (repeatable).")] = None,
    capability: Annotated[Optional[list[str]], typer.Option("--capability", help="A capability (repeatable).")] = None,
    version: Annotated[str, typer.Option(help="Version of the new entry.")] = "0.1.0",
    runtime_model: Annotated[Optional[str], typer.Option(help="Runtime model that `modreg run` builds (see `modreg models`).")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", help="A runtime parameter KEY=VALUE, VALUE in TOML (repeatable).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="File format of the new descriptor.")] = Format.toml,
    dry_run: DryRunOpt = False,
    lock_timeout: LockTimeoutOpt = 10.0,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Register a new model from options, or adopt descriptor files with --from."""
    state = merge_state(ctx, registry=registry, json=json)
    names = targets or []
    if not from_files and len(names) > 1:
        raise UsageError("register takes one NAME; to adopt several files, pass --from.", hint="e.g. `modreg register --from a.toml b.yaml`.")
    items = api.register(
        None if from_files else next(iter(names), None), registry=state.registry, category=category,
        from_files=names if from_files else (), summary=summary, description=description, authors=author or (),
        tags=tag or (), capabilities=capability or (), version=version, runtime_model=runtime_model,
        params=parse_assignments(param or [], "--param"), fmt=fmt.value, dry_run=dry_run, lock_timeout=lock_timeout,
    )
    render_batch(state, items, batch=from_files)


@app.command()
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the entry.", show_default=False)],
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show one model's descriptor (warns on stderr when it is deprecated)."""
    state = merge_state(ctx, registry=registry, json=json)
    entry = api.show(name, registry=state.registry)
    warn_if_deprecated(state, entry.name, entry.data)
    if state.json:
        emit_json(state, entry.to_dict())
    else:
        render_entry(state, entry)


@app.command("list")
def list_(
    ctx: typer.Context,
    category: Annotated[Optional[str], typer.Option("--category", "-c", help="Only this category.")] = None,
    status: Annotated[Optional[str], typer.Option(help="Only this status: active, deprecated or archived.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Only entries with this tag (repeatable: all of them).")] = None,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """List the registered models: name, version, category, status, summary."""
    state = merge_state(ctx, registry=registry, json=json)
    listing = api.list_entries(registry=state.registry, category=category, status=status, tags=tag or ())
    render_listing(state, listing)


@app.command()
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the entry.", show_default=False)],
    summary: Annotated[Optional[str], typer.Option(help="New one-line summary.")] = None,
    description: Annotated[Optional[str], typer.Option(help="New description.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Add a tag (repeatable).")] = None,
    remove_tag: Annotated[Optional[list[str]], typer.Option("--remove-tag", help="Remove a tag (repeatable).")] = None,
    capability: Annotated[Optional[list[str]], typer.Option("--capability", help="Add a capability (repeatable).")] = None,
    remove_capability: Annotated[Optional[list[str]], typer.Option("--remove-capability", help="Remove a capability (repeatable).")] = None,
    author: Annotated[Optional[list[str]], typer.Option("--author", help="Add an author (repeatable).")] = None,
    remove_author: Annotated[Optional[list[str]], typer.Option("--remove-author", help="Remove an author (repeatable).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Set a dotted KEY=VALUE, VALUE in TOML: metadata.paper=..., runtime.params.h=24 (repeatable).")] = None,
    unset: Annotated[Optional[list[str]], typer.Option("--unset", help="Remove a dotted KEY (repeatable).")] = None,
    dry_run: DryRunOpt = False,
    lock_timeout: LockTimeoutOpt = 10.0,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Change a model's fields; the file keeps its comments and layout, `updated` becomes today."""
    state = merge_state(ctx, registry=registry, json=json)
    mutation = api.update(
        name, registry=state.registry, summary=summary, description=description, add_tags=tag or (),
        remove_tags=remove_tag or (), add_capabilities=capability or (), remove_capabilities=remove_capability or (),
        add_authors=author or (), remove_authors=remove_author or (), set_values=parse_assignments(set_ or [], "--set"),
        unset=unset or (), dry_run=dry_run, lock_timeout=lock_timeout,
    )
    render_mutation(state, mutation)


# ----- Parsing -----


def parse_assignments(items: list[str], option: str) -> dict[str, Any]:
    """`KEY=VALUE` texts -> {KEY: value}; dotted keys nest, VALUE is read as a TOML value."""
    from modreg.registry.edits import set_path

    values: dict[str, Any] = {}
    for item in items:
        key, equals, text = item.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"{option} expects KEY=VALUE, got `{item}`.", hint=f"e.g. {option} h=12 or {option} 'name=\"text\"'.")
        values[key.strip()] = parse_value(text.strip(), option)
    if option == "--param":
        nested: dict[str, Any] = {}
        for key, value in values.items():
            set_path(nested, key, value)
        return nested
    return values


def parse_value(text: str, option: str) -> Any:
    """A TOML value (`12`, `1.5`, `true`, `"text"`, `[1, 2]`, a date); bare words stay text."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if text[:1] in "[{\"'":
            raise UsageError(f"{option}: `{text}` is not a valid TOML value.", hint="quote text as '\"...\"'; lists as [1, 2].") from None
        return text


# ----- Rendering -----


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


def render_listing(state: State, listing: Listing) -> None:
    """The list table (or JSON), and a warning per file that could not be read."""
    for problem in listing.unreadable:
        warn(state, f"{problem.path}:{problem.line}: {problem.message} (skipped)")
    if state.json:
        emit_json(state, listing)
    elif listing.models:
        rows = [(r.name, r.version, r.category, r.status, r.summary) for r in listing.models]
        _print_columns(state, ("name", "version", "category", "status", "summary"), rows)
    else:
        notice(state, "No models match.")


def _print_columns(state: State, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Aligned plain columns, the last one cut to a terminal's width (fast for 10,000 rows)."""
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header) - 1)]
    room = max(state.out.width - sum(widths) - 2 * len(widths), 20) if state.out.is_terminal else sys.maxsize

    def line(cells: tuple[str, ...]) -> str:
        last = cells[-1] if len(cells[-1]) <= room else cells[-1][: room - 1] + "…"
        return "  ".join([*(cell.ljust(width) for cell, width in zip(cells, widths)), last]).rstrip()

    state.out.print(line(header), style="bold", markup=False, highlight=False)
    state.out.print("\n".join(line(row) for row in rows), markup=False, highlight=False, soft_wrap=True)


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
