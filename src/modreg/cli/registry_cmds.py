"""Registry-wide commands: init, validate, schema (and later index, report, build, stats)."""

from __future__ import annotations

from typing import Annotated

import typer

from modreg import api
from modreg.cli.app import app
from modreg.cli.options import JsonOpt, merge_state
from modreg.cli.render import emit_json, notice


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Folder for the new registry.")] = ".",
    json: JsonOpt = False,
) -> None:
    """Create an empty registry: modreg.toml, models/, plugins/, templates/, git files."""
    state = merge_state(ctx, json=json)
    paths = api.init(path)
    if state.json:
        emit_json(state, {"root": paths.root})
    else:
        notice(state, f"Initialised an empty modreg registry in {paths.root}")
