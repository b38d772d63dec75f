"""Plugin commands: `plugin list`, `plugin verify`, `plugin lock`, `plugin health`, and `discover`.

Each parses its options, calls the `modreg.api` function of the same name and renders the
result with `plugin_views`. Batch commands (verify, health) check every plugin, report each,
and exit with the failures' code (5 when any plugin failed an integrity check).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from modreg import api
from modreg.cli.app import app, plugin_app
from modreg.cli.options import DryRunOpt, JsonOpt, LOCK_TIMEOUT, LockTimeoutOpt, RegistryOpt, merge_state
from modreg.cli.plugin_views import render_discover, render_health, render_lock, render_plugins
from modreg.cli.tables import FormatOpt

PluginArg = Annotated[
    Optional[str],
    typer.Argument(help="A plugin: its folder's name in the registry, or an installed distribution (default: all).",
                   metavar="[NAME]", show_default=False),
]


@plugin_app.command("list")
def list_plugins(ctx: typer.Context, fmt: FormatOpt = None, registry: RegistryOpt = None, json: JsonOpt = False) -> None:
    """List plugins: source, version, models, status.

    Registry plugins are verified without running their code; installed ones are read from their metadata.
    """
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    render_plugins(state, api.plugin_list(registry=state.registry), batch=False, fmt=fmt)


@plugin_app.command()
def verify(ctx: typer.Context, name: PluginArg = None, fmt: FormatOpt = None, registry: RegistryOpt = None,
           json: JsonOpt = False) -> None:
    """Verify plugins without running their code.

    Checks the manifest, the registry's policy, the modreg version, the signature and every file's sha256;
    every plugin is reported, and the exit code is 5 if any file does not match.
    """
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    render_plugins(state, api.plugin_verify(name, registry=state.registry), batch=True, fmt=fmt)


@plugin_app.command()
def lock(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The plugin's folder name under plugins/.", show_default=False)],
    dry_run: DryRunOpt = False,
    schemas: Annotated[bool, typer.Option("--schemas", help="Also load the plugin in a child process (as `plugin health` does) and record its models' parameter schemas in params.schema.json, so that validate checks runtime.params of its models.")] = False,
    lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Write every file's sha256 into plugin.toml.

    Only the [files] table changes; comments and layout are kept.
    """
    state = merge_state(ctx, registry=registry, json=json)
    render_lock(state, api.plugin_lock(name, registry=state.registry, dry_run=dry_run, lock_timeout=lock_timeout, schemas=schemas))


@plugin_app.command()
def health(
    ctx: typer.Context,
    name: PluginArg = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds before a plugin's check is killed.")] = 60.0,
    fmt: FormatOpt = None,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Try plugins in a child process with a timeout.

    Loads each plugin, builds each model, fits and forecasts a small real series; a plugin that
    does not finish in --timeout seconds is killed.
    """
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    render_health(state, api.plugin_health(name, registry=state.registry, timeout=timeout), fmt)


@app.command()
def discover(
    ctx: typer.Context,
    target: Annotated[
        Optional[str],
        typer.Argument(help="A package to import, a plugin folder, or a folder of plugins (default: the registry's plugins).",
                       metavar="[PATH_OR_PACKAGE]", show_default=False),
    ] = None,
    register: Annotated[bool, typer.Option("--register", help="Write a descriptor for each model without an entry.")] = False,
    author: Annotated[Optional[list[str]], typer.Option(
        "--author", metavar="AUTHOR", help="Author of new entries, `Name <email>` (repeatable; default: the plugin's).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", metavar="TAG", help="A tag for new entries (repeatable).")] = None,
    fmt: FormatOpt = None,
    dry_run: DryRunOpt = False,
    lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Find models in plugins or a package; --register adds entries for new ones."""
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    result = api.discover(target, registry=state.registry, register=register, dry_run=dry_run, authors=author or (),
                          tags=tag or (), lock_timeout=lock_timeout)
    render_discover(state, result, fmt)
