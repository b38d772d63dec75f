"""Runtime commands: models, run, templates.

Each parses its options, calls the `modreg.api` function of the same name and renders the
result; the runtime (numpy) is imported by `api` only when one of these commands runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from modreg import api
from modreg.cli.app import app
from modreg.cli.console import State
from modreg.cli.options import JsonOpt, RegistryOpt, merge_state
from modreg.cli.render import emit_json, notice, to_table, warn


@app.command()
def models(
    ctx: typer.Context,
    category: Annotated[Optional[str], typer.Option("--category", help="Only models of this category.")] = None,
    capability: Annotated[Optional[str], typer.Option("--capability", help="Only models with this capability.")] = None,
    json: JsonOpt = False,
) -> None:
    """List the runtime models modreg can build: name, category, capabilities, class."""
    state = merge_state(ctx, json=json)
    rows = api.models(category=category, capability=capability)
    if state.json:
        emit_json(state, rows)
    else:
        state.out.print(to_table(rows, ["name", "category", "capabilities", "class"]))


@app.command()
def run(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A registry entry with a [runtime] table, or a runtime model name.")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Series CSV: unique_id,ds,y[,exog...], ds,y, or one column.")],
    horizon: Annotated[Optional[int], typer.Option("--horizon", help="Forecast horizon h (sets the h parameter).", min=1)] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="key=value (a TOML value); repeatable.")] = None,
    template: Annotated[Optional[str], typer.Option("--template", help="A template from the registry's templates/.")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Random seed (sets random_seed).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the forecasts CSV here.")] = None,
    save: Annotated[Optional[Path], typer.Option("--save", help="Save the fitted model to this .npz file.")] = None,
    load: Annotated[Optional[Path], typer.Option("--load", help="Forecast with a model saved by --save.")] = None,
    futr: Annotated[Optional[Path], typer.Option("--futr", help="CSV of the future exogenous values for the horizon: unique_id,ds,<columns>.")] = None,
    static: Annotated[Optional[Path], typer.Option("--static", help="CSV of static exogenous values, one row per series: unique_id,<columns>.")] = None,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Fit a model on a CSV and forecast: CSV on stdout (a table on a terminal), or --output."""
    state = merge_state(ctx, registry=registry, json=json)
    options: dict[str, Any] = dict(data=data, registry=state.registry, horizon=horizon, params=param or [],
                                   template=template, seed=seed, output=output, save=save, load=load, futr=futr,
                                   static=static)
    with _progress(state) as progress:
        result = api.run(target, progress=progress, **options)
    _render_run(state, result)


@app.command()
def templates(ctx: typer.Context, registry: RegistryOpt = None, json: JsonOpt = False) -> None:
    """List the registry's runtime templates (templates/*.toml) and their parameters."""
    state = merge_state(ctx, registry=registry, json=json)
    found = [t.to_dict() for t in api.templates(state.registry)]
    if state.json:
        emit_json(state, found)
        return
    rows = [{**t, "params": ", ".join(f"{k}={v}" for k, v in t["params"].items())} for t in found]
    state.out.print(to_table(rows, ["name", "model", "precision", "params", "summary"]))


def _progress(state: State) -> Any:
    from contextlib import nullcontext

    from modreg.cli.render import TrainingProgress

    if state.json or state.quiet or not state.err.is_terminal:
        return nullcontext(None)
    return TrainingProgress(state.err)


def _render_run(state: State, result: Any) -> None:
    for message in result.warnings:
        warn(state, message)
    for message in result.notices:
        notice(state, message)
    if state.json:
        emit_json(state, result.to_dict())
    elif result.output is not None:
        notice(state, f"wrote {len(result.forecast.to_records())} forecasts of {result.target} to {result.output}")
    elif state.out.is_terminal:
        rows = result.forecast.to_records()
        state.out.print(to_table(rows, ["unique_id", "ds", *result.forecast.columns], title=result.target))
    else:
        typer.echo(result.forecast.to_csv(), nl=False)
    if result.saved is not None and not state.json:
        notice(state, f"saved the fitted model to {result.saved}")
