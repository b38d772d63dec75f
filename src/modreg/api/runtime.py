"""Runtime models and their schemas, templates, `run` and `bench`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.api.registry import open_registry
from modreg.registry.store.lock import DEFAULT_TIMEOUT as LOCK_TIMEOUT

if TYPE_CHECKING:
    import datetime as dt

    from modreg.registry.checks.templates import Template
    from modreg.forecast.bench.harness import BenchProgress, BenchResult
    from modreg.forecast.run import RunResult

__all__ = ['bench', 'models', 'run', 'schema', 'templates']


def models(*, category: str | None = None, capability: str | None = None) -> list[dict[str, Any]]:
    """The runtime models (`modreg models`): name, category, capabilities, class, summary; sorted by name.

    `summary` is the first line of the model class's docstring ("" without one), e.g. "TimeLLM
    with a MiniLM backbone: ...".
    """
    import inspect

    from modreg.runtime.factory import list_models

    infos = list_models().values()
    return [{**info.to_dict(), "summary": (inspect.getdoc(info.cls) or "").partition("\n")[0].strip()}
            for info in infos
            if (category is None or info.category == category)
            and (capability is None or capability in info.capabilities)]


def run(target: str, *, data: str | Path | Any, registry: str | Path | None = None, horizon: int | None = None,
        params: Sequence[str] | Mapping[str, Any] = (), template: str | None = None, seed: int | None = None,
        jobs: int | None = None, output: str | Path | None = None, save: str | Path | None = None, load: str | Path | None = None,
        futr: str | Path | Any | None = None, static: str | Path | None = None, progress: Any = None,
        id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y") -> RunResult:
    """Fit (or --load) the model of a registry entry or runtime model on data and forecast (`modreg run`).

    `data` is a CSV path or a pandas DataFrame (pandas is imported only for one) whose series,
    time and target columns are `id_col`, `time_col`, `target_col`; other columns are read
    only when the model declares them exogenous. `params` is a dict or `key=value` strings
    (TOML values); `futr` holds the future exogenous values for the horizon (a CSV path or a
    DataFrame); `static` is a CSV of static values (`unique_id,<columns>`); `progress` is an
    optional `modreg.forecast.run.RunProgress`; `jobs` is how many processes an `Ensemble` fits its
    members in (other models ignore it). `result.to_pandas()` gives the forecasts as a DataFrame.
    """
    from modreg.forecast.run import run as run_target

    return run_target(target, data=data, registry=registry, horizon=horizon, params=params, template=template,
                      seed=seed, jobs=jobs, output=output, save=save, load=load, futr=futr, static=static, progress=progress,
                      id_col=id_col, time_col=time_col, target_col=target_col)


def bench(
    targets: str | Sequence[str] = (),
    *,
    data: str | Path | Any,
    registry: str | Path | None = None,
    all_entries: bool = False,
    category: str | None = None,
    where: str | None = None,
    horizon: int | None = None,
    windows: int = 1,
    step: int | None = None,
    season: int | None = None,
    max_steps: int | None = None,
    params: Sequence[str] | Mapping[str, Any] = (),
    quick: bool = False,
    jobs: int = 1,
    timeout: float | None = None,
    seed: int | None = None,
    refit: bool = True,
    executor: str = "local",
    scheduler: str | None = None,
    record: bool = False,
    dry_run: bool = False,
    lock_timeout: float = LOCK_TIMEOUT,
    output: str | Path | None = None,
    progress: BenchProgress | None = None,
    today: dt.date | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> BenchResult:
    """Benchmark models on a CSV with rolling-origin windows (`modreg bench`); see `modreg.forecast.bench.harness`.

    Targets are entry or runtime model names (one name alone is one target), plus the entries `all_entries` / `category` /
    `where` select; `params` (a dict or `key=value` strings) are set on every model that has
    that key. `data` is a CSV path or a pandas DataFrame, with columns as in `run`.
    A failing model is reported in the result (`result.failed`), not raised.
    `record` writes each benchmarked entry's [performance] table (`dry_run`: only the diffs, in
    `result.recorded`; `lock_timeout`: seconds to wait for the registry lock); `output` writes every window's forecasts shaped like neuralforecast's
    cross-validation frame: as CSV (a `.csv` path), or with every figure in the JSON document
    (any other path). `result.to_pandas()` gives that frame as a DataFrame.
    """
    from modreg.errors import UsageError
    from modreg.forecast.bench.harness import BenchOptions, run_bench
    from modreg.forecast.output_path import check_output_file
    from modreg.forecast.source import SeriesSource

    if dry_run and not record:
        raise UsageError("--dry-run applies only with --record.", hint="add --record to see the [performance] diffs.")
    if output is not None:  # found now, not after the benchmark (and its --record)
        check_output_file(output, "--output", "bench.csv")
    if record:
        from modreg.forecast.bench.record import check_recordable

        check_recordable(quick)
        open_registry(registry)  # fail before benchmarking when there is no registry to record in
    options = BenchOptions(horizon=horizon, windows=windows, step=step, season=season, max_steps=max_steps, quick=quick,
                           jobs=jobs, timeout=timeout, seed=seed, refit=refit, executor=executor, scheduler=scheduler,
                           params=tuple(_assignments(params)))
    selection = {"all": all_entries, "category": category, "where": where}
    source = SeriesSource(data, id_col, time_col, target_col)
    targets = [targets] if isinstance(targets, str) else list(targets)  # one name is one target, not its letters
    result = run_bench(targets, data=source, options=options, registry=registry, select=selection, progress=progress)
    if record:
        from modreg.forecast.bench.record import record_performance

        result.recorded = record_performance(result, registry, today=today, dry_run=dry_run, lock_timeout=lock_timeout)
    if output is not None:
        _write_output(Path(output), result)
    return result


def _assignments(params: Sequence[str] | Mapping[str, Any]) -> list[str]:
    """`key=value` texts (TOML values) of a dict of parameters, or the texts as given."""
    from modreg.forecast.run import check_params_argument

    check_params_argument(params)
    if not isinstance(params, Mapping):
        return list(params)
    return [f"{key}={_toml_value(value)}" for key, value in params.items()]


def _toml_value(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _write_output(path: Path, result: BenchResult) -> None:
    """Every window's forecasts: the cross-validation CSV, or the JSON document with them."""
    from modreg._fs import write_atomic
    from modreg.api.contract import document
    from modreg.errors import UsageError
    from modreg.forecast.bench.crossval import cross_validation_columns, cross_validation_csv, cross_validation_records
    from modreg.registry.store.canonical import dumps_canonical

    if path.suffix.lower() == ".csv":
        text = cross_validation_csv(result)
    else:
        forecasts = {"forecast_columns": cross_validation_columns(result), "forecasts": cross_validation_records(result)}
        text = dumps_canonical({**document("bench", result), **forecasts})
    try:
        write_atomic(path, text)
    except OSError as error:
        raise UsageError(f"modreg cannot write the file ({error.strerror or error}).", path=path,
                         hint="check that its folder is writable, or choose another path.") from None


def templates(registry: str | Path | None = None) -> list[Template]:
    """The registry's runtime templates (`modreg templates`), sorted by name."""
    from modreg.registry.checks.templates import load_templates

    return list(load_templates(open_registry(registry)).values())


def schema(name: str) -> dict[str, Any]:
    """A JSON Schema (`modreg schema NAME`): descriptor, config, plugin or template, a runtime
    model's parameter schema, or `output.KIND`, the --json document of a command (see
    `modreg.api.contract`); NotFound (with the closest name) for anything else."""
    from modreg.api.contract import OUTPUT_KINDS, output_schema
    from modreg.errors import NotFound
    from modreg.registry.checks._schemacheck import SCHEMA_NAMES, did_you_mean, load_schema, runtime_models

    if name in SCHEMA_NAMES:
        return load_schema(name)
    if name.startswith("output."):
        found = output_schema(name.removeprefix("output."))
        if found is not None:
            return found
        kinds = [f"output.{kind}" for kind in OUTPUT_KINDS]
        raise NotFound(f"No output schema named `{name}`.", hint=did_you_mean(name, kinds) or f"choose one of: {', '.join(kinds)}.")
    models = runtime_models()
    if name in models and "params" in models[name]:
        return models[name]["params"]
    registered = _registered_model_schema(name)
    if registered is not None:
        return registered
    known = [*SCHEMA_NAMES, *sorted(models)]
    raise NotFound(
        f"No schema named `{name}`: neither a file schema nor a runtime model.",
        hint=did_you_mean(name, known) or f"choose one of: {', '.join(known)}.",
    )


def _registered_model_schema(name: str) -> dict[str, Any] | None:
    """The parameter schema of a runtime model registered at run time (a plugin's), if any."""
    from modreg.runtime.factory import is_registered, get_model
    from modreg.runtime.params import schema_for

    return schema_for(get_model(name).cls) if is_registered(name) else None
