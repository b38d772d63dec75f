"""`modreg bench`: rolling-origin benchmarks of models on a CSV, a table sorted by MASE.

The command parses its options, calls `modreg.api.bench` and renders the result: a table on
stdout in `--format table|tsv|md|json` (the reference SeasonalNaive marked, each model's MASE
and sMAPE relative to it), failures, skipped entries and recorded tables on stderr, progress
on stderr (`cli.progress`), and `--plot FILE` draws it. It exits 1 when any model failed
(after reporting every model).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from modreg import api
from modreg.cli.app import app
from modreg.cli.console import State
from modreg.cli.options import IdColOpt, JsonOpt, LOCK_TIMEOUT, LockTimeoutOpt, PlotSeriesOpt, RegistryOpt, TargetColOpt, TimeColOpt, merge_state
from modreg.cli.render import emit_json, notice, warn
from modreg.cli.tables import FormatOpt, Table, TableFormat, print_tables
from modreg.errors import CheckFailed

_ACCURACY = (("mase", "MASE"), ("smape", "sMAPE"), ("mae", "MAE"), ("rmse", "RMSE"), ("crps", "CRPS"))
_TIMINGS = (("fit_seconds", "fit s"), ("predict_seconds", "pred s"), ("windows_per_second", "win/s"),
            ("peak_memory_mb", "MB"))


class Executor(str, Enum):
    """Where bench tasks run."""

    local = "local"
    dask = "dask"


@app.command()
def bench(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", "-d", help="Series CSV: unique_id,ds,y[,exog...], ds,y, or one column.")],
    targets: Annotated[Optional[list[str]], typer.Argument(help="Registry entries with [runtime], or runtime model names.", show_default=False)] = None,
    all_entries: Annotated[bool, typer.Option("--all", help="Every registry entry that has a [runtime] table.")] = False,
    category: Annotated[Optional[str], typer.Option("--category", help="The registry entries of this category.")] = None,
    where: Annotated[Optional[str], typer.Option("--where", "-w", metavar="EXPR", help="The registry entries matching this expression (as in `modreg search`).")] = None,
    horizon: Annotated[Optional[int], typer.Option("--horizon", help="Forecast horizon h (default: the h the targets share).", min=1)] = None,
    windows: Annotated[int, typer.Option("--windows", help="Number of forecast windows at the end of every series.", min=1)] = 1,
    step: Annotated[Optional[int], typer.Option("--step", help="Points between window starts (default: h).", min=1)] = None,
    season: Annotated[Optional[int], typer.Option("--season", help="Season for MASE and the SeasonalNaive reference (default: from the frequency).", min=1)] = None,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", help="Training steps of every neural model (sets max_steps).", min=1)] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="key=value (a TOML value) for every model that has the key; repeatable.")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="A small step budget (20 steps) for CI smoke checks; not for accuracy.")] = False,
    refit: Annotated[bool, typer.Option("--refit/--no-refit", help="Fit per window, or once before the first window.")] = True,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes running model x window tasks.", min=1)] = 1,
    timeout: Annotated[Optional[float], typer.Option("--timeout", help="Seconds a task may run before it is stopped and failed.", min=0.001)] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Random seed of every model (sets random_seed).")] = None,
    record: Annotated[bool, typer.Option("--record", help="Write each benchmarked entry's [performance] table.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With --record: print the diffs instead of writing.")] = False,
    lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also write every window's forecasts (unique_id, ds, cutoff, y, models): CSV for .csv, else JSON with every figure.")] = None,
    executor: Annotated[Executor, typer.Option("--executor", help="local (this machine) or dask (an existing cluster).")] = Executor.local,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", metavar="ADDRESS", help="The dask scheduler, e.g. tcp://host:8786.")] = None,
    id_col: IdColOpt = "unique_id",
    time_col: TimeColOpt = "ds",
    target_col: TargetColOpt = "y",
    plot: Annotated[Optional[Path], typer.Option("--plot", metavar="FILE", help="Draw MASE vs SeasonalNaive and every window's forecasts into FILE (.png or .svg; needs the plot extra).")] = None,
    plot_series: PlotSeriesOpt = None,
    fmt: FormatOpt = None,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Benchmark models on a CSV: K rolling windows, accuracy, timings, vs SeasonalNaive."""
    from modreg.cli.plots import check_plot
    from modreg.cli.progress import bench_progress

    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    check_plot(plot)
    options: dict[str, Any] = dict(
        data=data, registry=state.registry, all_entries=all_entries, category=category, where=where, horizon=horizon,
        windows=windows, step=step, season=season, max_steps=max_steps, params=param or [], quick=quick, refit=refit, jobs=jobs,
        timeout=timeout, seed=seed, record=record, dry_run=dry_run, lock_timeout=lock_timeout, output=output, executor=executor.value,
        scheduler=scheduler, id_col=id_col, time_col=time_col, target_col=target_col)
    with bench_progress(state) as progress:
        result = api.bench(targets or [], progress=progress, **options)
    if plot is not None:
        from modreg.cli.plots import plot_bench

        notice(state, f"drew the benchmark in {plot_bench(result, plot, series=plot_series or ())}")
    _render(state, result, fmt)



# ----- Rendering -----


def _render(state: State, result: Any, fmt: TableFormat | None) -> None:
    for row in result.models:
        for message in row.warnings:
            warn(state, message)
    for message in result.notices:
        notice(state, message)
    if state.json:
        emit_json(state, result.to_dict())
    else:
        print_tables(state, [_table(result)], fmt)
        _render_notes(state, result)
    if result.quick:
        warn(state, f"--quick: every neural model trained for only {result.max_steps} steps; "
                    "these figures are a smoke check, not an accuracy benchmark.")
    _fail_if_any(state, result)


def _table(result: Any) -> Table:
    coverage = sorted({name for row in result.models for name in row.metrics if name.startswith("coverage_")})
    accuracy = [(key, label) for key, label in _ACCURACY if any(key in row.metrics for row in result.models)]
    columns = ["#", "model", *_headers(accuracy), *(f"cov {k[9:]}%" for k in coverage),
               *(label for _, label in _TIMINGS), "params"]
    rows = [_cells(rank, row, accuracy, coverage) for rank, row in enumerate(result.models, 1)]
    width = len(columns)
    rows = [row + [""] * (width - len(row)) for row in rows]
    return Table(columns, rows, _title(result), _caption(result), right=frozenset(columns) - {"model"})


def _headers(accuracy: list[tuple[str, str]]) -> list[str]:
    headers = []
    for key, label in accuracy:
        headers += [label, "vs SN"] if key in ("mase", "smape") else [label]
    return headers


def _cells(rank: int, row: Any, accuracy: list[tuple[str, str]], coverage: list[str]) -> list[str]:
    name = f"{row.target} (ref)" if row.reference and not row.target.endswith("(reference)") else row.target
    if not row.ok:
        return ["-", name, row.status.upper()]
    cells = [str(rank), name]
    for key, _ in accuracy:
        cells.append(_number(row.metrics.get(key)))
        if key in ("mase", "smape"):
            cells.append(_number(row.relative.get(key), digits=3))
    cells += [_number(row.metrics.get(key), digits=3) for key in coverage]
    cells += [_number(row.timings.get(key), digits=3) for key, _ in _TIMINGS]
    cells.append(f"{row.parameters:,}" if row.parameters is not None else "")
    return cells


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 10 ** digits else f"{value:.{digits}g}"


def _title(result: Any) -> str:
    count = len(result.windows)
    return (f"{result.dataset}: {result.data['series']} series, h = {result.horizon}, {count} window"
            f"{'s' * (count != 1)} (step {result.step}), season {result.season}")


def _caption(result: Any) -> str:
    fitting = "refit per window" if result.refit else "fitted once before the first window"
    budget = f"max_steps = {result.max_steps}" if result.max_steps is not None else "each model's own max_steps"
    quick = "; QUICK: a small step budget, not an accuracy benchmark" if result.quick else ""
    return f"{fitting}; {budget}{quick}; vs SN = relative to SeasonalNaive (below 1 is better)"


def _render_notes(state: State, result: Any) -> None:
    for row in result.failed:
        error = row.error or {}
        place = ":".join(str(part) for part in (error.get("path"), error.get("line")) if part is not None)
        state.err.print(f"error: {row.target} failed ({error.get('where')}): {place + ': ' if place else ''}"
                        f"{error.get('message')}", markup=False, style="bold red")
        if error.get("hint"):
            state.err.print(f"hint: {error['hint']}", markup=False)
    if result.skipped:
        names = ", ".join(item["target"] for item in result.skipped)
        notice(state, f"skipped {len(result.skipped)} selected entries without a [runtime] table: {names}")
    for mutation in result.recorded:
        if mutation.dry_run:
            state.out.print(mutation.diff, markup=False, highlight=False, end="")
        elif mutation.written:
            notice(state, f"recorded the [performance] of {mutation.name} in {mutation.path}")


def _fail_if_any(state: State, result: Any) -> None:
    """Exit 1 when a model failed (or the shared exit code of errors found before running, e.g. 3)."""
    from modreg.cli.errors import report_error

    failed = result.failed
    if not failed:
        return
    names = ", ".join(row.target for row in failed)
    report_error(CheckFailed(f"{len(failed)} of {len(result.models)} models failed: {names}.",
                             hint="see each model's error above; the other models' figures are complete."), state)
    codes = {(row.error or {}).get("code", 1) for row in failed}
    raise typer.Exit(codes.pop() if len(codes) == 1 else int(CheckFailed.exit_code))
