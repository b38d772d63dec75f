"""Model commands: register, show, list, update (later: version, deprecate, ...).

Each command parses its options, calls the `modreg.api` function of the same name, and renders
the result with `model_views` (whose `render_mutation` and `render_batch` every mutating
command shares).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Optional

import typer

from modreg import api
from modreg._toml_value import toml_value
from modreg.cli.app import app
from modreg.cli.options import DryRunOpt, JsonOpt, LOCK_TIMEOUT, LockTimeoutOpt, RegistryOpt, merge_state
from modreg.cli.model_views import render_batch, render_entry, render_listing, render_mutation, warn_if_deprecated
from modreg.cli.render import emit_json, notice
from modreg.cli.tables import FormatOpt
from modreg.errors import UsageError


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
        typer.Argument(help="NAME of the new entry; with --from, the descriptor files to adopt.", metavar="NAME | FILE", show_default=False),
    ] = None,
    from_files: Annotated[bool, typer.Option("--from", help="Adopt hand-written TOML/YAML files given as arguments.")] = False,
    category: Annotated[Optional[str], typer.Option("--category", "-c", metavar="CATEGORY", help="basic, recurrent, advanced, transformer, specialized or custom.")] = None,
    summary: Annotated[Optional[str], typer.Option(metavar="TEXT", help="One line about the model.")] = None,
    description: Annotated[Optional[str], typer.Option(metavar="TEXT", help="Longer prose (markdown).")] = None,
    author: Annotated[Optional[list[str]], typer.Option("--author", metavar="AUTHOR", help="An author, `Name <email>` (repeatable).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", metavar="TAG", help="A tag (repeatable).")] = None,
    capability: Annotated[Optional[list[str]], typer.Option("--capability", metavar="CAPABILITY", help="A capability (repeatable).")] = None,
    version: Annotated[str, typer.Option(metavar="X.Y.Z", help="Version of the new entry.")] = "0.1.0",
    runtime_model: Annotated[Optional[str], typer.Option(metavar="MODEL", help="Runtime model that `modreg run` builds (see `modreg models`).")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", metavar="KEY=VALUE", help="A runtime parameter, VALUE in TOML (repeatable).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="File format of the new descriptor.")] = Format.toml,
    dry_run: DryRunOpt = False,
    lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
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
    name: Annotated[str, typer.Argument(help="Name of the entry.", metavar="NAME", show_default=False)],
    at: Annotated[Optional[str], typer.Option("--at", help="Show it as it was at this git revision (commit, branch, tag, HEAD~N).")] = None,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show one model's descriptor (warns on stderr when it is deprecated)."""
    state = merge_state(ctx, registry=registry, json=json)
    entry = api.show(name, registry=state.registry, at=at)
    if at is not None:
        notice(state, f"{entry.name} as it was at {at}:")
    warn_if_deprecated(state, entry.name, entry.data)
    if state.json:
        emit_json(state, entry.to_dict())
    else:
        render_entry(state, entry)


@app.command("list")
def list_(
    ctx: typer.Context,
    category: Annotated[Optional[str], typer.Option("--category", "-c", metavar="CATEGORY", help="Only this category.")] = None,
    status: Annotated[Optional[str], typer.Option(metavar="STATUS", help="Only this status: active, deprecated or archived.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", metavar="TAG", help="Only entries with this tag (repeatable: all of them).")] = None,
    fmt: FormatOpt = None,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """List the registered models: name, version, category, status, summary."""
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    listing = api.list_entries(registry=state.registry, category=category, status=status, tags=tag or ())
    render_listing(state, listing, fmt)


@app.command()
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the entry.", metavar="NAME", show_default=False)],
    summary: Annotated[Optional[str], typer.Option(metavar="TEXT", help="New one-line summary.")] = None,
    description: Annotated[Optional[str], typer.Option(metavar="TEXT", help="New description.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", metavar="TAG", help="Add a tag (repeatable).")] = None,
    remove_tag: Annotated[Optional[list[str]], typer.Option("--remove-tag", metavar="TAG", help="Remove a tag (repeatable).")] = None,
    capability: Annotated[Optional[list[str]], typer.Option("--capability", metavar="CAPABILITY", help="Add a capability (repeatable).")] = None,
    remove_capability: Annotated[Optional[list[str]], typer.Option("--remove-capability", metavar="CAPABILITY", help="Remove a capability (repeatable).")] = None,
    author: Annotated[Optional[list[str]], typer.Option("--author", metavar="AUTHOR", help="Add an author (repeatable).")] = None,
    remove_author: Annotated[Optional[list[str]], typer.Option("--remove-author", metavar="AUTHOR", help="Remove an author (repeatable).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="Set a dotted key, VALUE in TOML: metadata.paper=..., runtime.params.h=24 (repeatable).")] = None,
    unset: Annotated[Optional[list[str]], typer.Option("--unset", metavar="KEY", help="Remove a dotted key (repeatable).")] = None,
    dry_run: DryRunOpt = False,
    lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
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
    from modreg.registry.store.edits import set_path

    values: dict[str, Any] = {}
    for item in items:
        key, equals, text = item.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"{option} expects KEY=VALUE, got `{item}`.", hint=f"e.g. {option} h=12 or {option} 'name=\"text\"'.")
        values[key.strip()] = toml_value(text.strip(), option)
    if option == "--param":
        nested: dict[str, Any] = {}
        for key, value in values.items():
            set_path(nested, key, value)
        return nested
    return values


