"""Runtime commands: models, run, templates.

Each parses its options, calls the `modreg.api` function of the same name and renders the
result; the runtime (numpy) is imported by `api` only when one of these commands runs.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from modreg import api
from modreg.cli.app import app
from modreg.cli.console import State
from modreg.cli.options import IdColOpt, JsonOpt, PlotSeriesOpt, RegistryOpt, TargetColOpt, TimeColOpt, merge_state
from modreg.cli.render import emit_json, notice, warn
from modreg.cli.tables import FormatOpt, Table, TableFormat, print_tables, table_of


class RunFormat(str, Enum):
    """How `run` prints its forecasts (default: a table on a terminal, CSV elsewhere)."""

    table = "table"
    csv = "csv"
    tsv = "tsv"
    md = "md"
    json = "json"


@app.command()
def models(
    ctx: typer.Context,
    category: Annotated[Optional[str], typer.Option("--category", help="Only models of this category.")] = None,
    capability: Annotated[Optional[str], typer.Option("--capability", help="Only models with this capability.")] = None,
    fmt: FormatOpt = None,
    json: JsonOpt = False,
) -> None:
    """List the runtime models modreg can build: name, category, summary, capabilities, class."""
    state = merge_state(ctx, json=json, fmt=fmt)
    rows = api.models(category=category, capability=capability)
    if state.json:
        emit_json(state, rows)
    else:
        print_tables(state, [table_of(rows, ["name", "category", "summary", "capabilities", "class"])], fmt)


@app.command()
def run(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A registry entry with a [runtime] table, or a runtime model name.")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Series CSV: unique_id,ds,y[,exog...], ds,y, or one column.")],
    horizon: Annotated[Optional[int], typer.Option("--horizon", help="Forecast horizon h (sets the h parameter).", min=1)] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="key=value (a TOML value); repeatable.")] = None,
    template: Annotated[Optional[str], typer.Option("--template", help="A template from the registry's templates/.")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Random seed (sets random_seed).")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Processes an Ensemble fits its members in (other models ignore it).", min=1)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the forecasts CSV here.")] = None,
    save: Annotated[Optional[Path], typer.Option("--save", help="Save the fitted model to this .npz file.")] = None,
    load: Annotated[Optional[Path], typer.Option("--load", help="Forecast with a model saved by --save.")] = None,
    futr: Annotated[Optional[Path], typer.Option("--futr", help="CSV of the future exogenous values for the horizon: unique_id,ds,<columns>.")] = None,
    static: Annotated[Optional[Path], typer.Option("--static", help="CSV of static exogenous values, one row per series: unique_id,<columns>.")] = None,
    id_col: IdColOpt = "unique_id",
    time_col: TimeColOpt = "ds",
    target_col: TargetColOpt = "y",
    plot: Annotated[Optional[Path], typer.Option("--plot", metavar="FILE", help="Draw history, forecast and intervals into FILE (.png or .svg; needs the plot extra).")] = None,
    plot_series: PlotSeriesOpt = None,
    fmt: Annotated[Optional[RunFormat], typer.Option("--format", help="table, csv, tsv, md or json (default: a table on a terminal, CSV elsewhere).", show_default=False)] = None,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Fit a model on a CSV and forecast: CSV on stdout (a table on a terminal), or --output."""
    from modreg.cli.plots import check_plot
    from modreg.cli.progress import run_progress

    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    check_plot(plot)
    # With --plot, --output is written after the picture: a bad --plot-series leaves no forecasts file behind.
    options: dict[str, Any] = dict(data=data, registry=state.registry, horizon=horizon, params=param or [],
                                   template=template, seed=seed, jobs=jobs, output=output if plot is None else None,
                                   save=save, load=load, futr=futr, static=static, id_col=id_col, time_col=time_col,
                                   target_col=target_col)
    with run_progress(state) as progress:
        result = api.run(target, progress=progress, **options)
    drawn = None
    if plot is not None:
        from modreg.cli.plots import plot_run
        from modreg.runtime.data import write_forecasts_csv

        drawn = plot_run(result, plot, series=plot_series or ())
        if output is not None:
            write_forecasts_csv(result.forecast, output)
            result.output = str(output)
    _render_run(state, result, fmt)
    if drawn is not None:
        notice(state, f"drew {result.target}'s forecasts in {drawn}")


@app.command()
def templates(ctx: typer.Context, fmt: FormatOpt = None, registry: RegistryOpt = None, json: JsonOpt = False) -> None:
    """List the registry's runtime templates (templates/*.toml) and their parameters."""
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    found = [t.to_dict() for t in api.templates(state.registry)]
    if state.json:
        emit_json(state, found)
        return
    rows = [{**t, "params": ", ".join(f"{k}={_param_text(v)}" for k, v in t["params"].items())} for t in found]
    print_tables(state, [table_of(rows, ["name", "model", "precision", "params", "summary"])], fmt)


def _param_text(value: Any) -> str:
    """A template parameter as the table shows it: an ensemble's members by their labels (`--json` has them whole)."""
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        labels = [str(m.get("name") or m.get("entry") or m.get("model") or "?") for m in value]
        return f"{len(labels)} [{', '.join(labels)}]"
    return str(value)


def _render_run(state: State, result: Any, fmt: RunFormat | None) -> None:
    for message in result.warnings:
        warn(state, message)
    for message in result.notices + (result.details if state.verbose else []):
        notice(state, message)
    chosen = fmt or (RunFormat.table if state.out.is_terminal else RunFormat.csv)
    if state.json:
        emit_json(state, result.to_dict())
    elif result.output is not None and fmt is None:
        notice(state, f"wrote {len(result.forecast.to_records())} forecasts of {result.target} to {result.output}")
    elif chosen is RunFormat.csv:
        typer.echo(result.forecast.to_csv(), nl=False)
    else:
        numbers = result.forecast.columns
        rows = [[r["unique_id"], r["ds"], *(format(r[c], ".6g") for c in numbers)] for r in result.forecast.to_records()]
        title = result.target if chosen is RunFormat.table else None
        table = Table(["unique_id", "ds", *numbers], rows, title, right=frozenset(numbers))
        print_tables(state, [table], TableFormat(chosen.value))
    if result.saved is not None and not state.json:
        notice(state, f"saved the fitted model to {result.saved}")
