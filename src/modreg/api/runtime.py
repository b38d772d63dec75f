"""Runtime models and their schemas, templates, `run` and `bench`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.api.registry import open_registry

if TYPE_CHECKING:
    import datetime as dt

    from modreg.registry.checks.templates import Template
    from modreg.forecast.bench.harness import BenchProgress, BenchResult
    from modreg.forecast.run import RunResult

__all__ = ['bench', 'models', 'run', 'schema', 'templates']


def models(*, category: str | None = None, capability: str | None = None) -> list[dict[str, Any]]:
    """The runtime models (`modreg models`): name, category, capabilities, class; sorted by name."""
    from modreg.runtime.factory import list_models

    infos = list_models().values()
    return [info.to_dict() for info in infos
            if (category is None or info.category == category)
            and (capability is None or capability in info.capabilities)]


def run(target: str, *, data: str | Path, registry: str | Path | None = None, horizon: int | None = None,
        params: Sequence[str] = (), template: str | None = None, seed: int | None = None,
        output: str | Path | None = None, save: str | Path | None = None, load: str | Path | None = None,
        futr: str | Path | None = None, static: str | Path | None = None, progress: Any = None) -> RunResult:
    """Fit (or --load) the model of a registry entry or runtime model on a CSV and forecast (`modreg run`).

    `params` are `key=value` strings (TOML values); `futr` is a CSV of the future exogenous
    values for the horizon (`unique_id,ds,<columns>`), `static` one of static values (`unique_id,<columns>`); `progress` is an optional
    `modreg.forecast.run.RunProgress` (the CLI passes its progress bar).
    """
    from modreg.forecast.run import run as run_target

    return run_target(target, data=data, registry=registry, horizon=horizon, params=params, template=template,
                      seed=seed, output=output, save=save, load=load, futr=futr, static=static, progress=progress)


def bench(
    targets: Sequence[str] = (),
    *,
    data: str | Path,
    registry: str | Path | None = None,
    all_entries: bool = False,
    category: str | None = None,
    where: str | None = None,
    horizon: int | None = None,
    windows: int = 1,
    step: int | None = None,
    season: int | None = None,
    max_steps: int | None = None,
    params: Sequence[str] = (),
    quick: bool = False,
    jobs: int = 1,
    timeout: float | None = None,
    seed: int | None = None,
    refit: bool = True,
    executor: str = "local",
    scheduler: str | None = None,
    record: bool = False,
    dry_run: bool = False,
    output: str | Path | None = None,
    progress: BenchProgress | None = None,
    today: dt.date | None = None,
) -> BenchResult:
    """Benchmark models on a CSV with rolling-origin windows (`modreg bench`); see `modreg.forecast.bench.harness`.

    Targets are entry or runtime model names, plus the entries `all_entries` / `category` /
    `where` select; `params` are `key=value` strings set on every model that has that key.
    A failing model is reported in the result (`result.failed`), not raised.
    `record` writes each benchmarked entry's [performance] table (`dry_run`: only the diffs, in
    `result.recorded`); `output` writes the result as JSON.
    """
    from modreg.errors import UsageError
    from modreg.forecast.bench.harness import BenchOptions, run_bench

    if dry_run and not record:
        raise UsageError("--dry-run applies only with --record.", hint="add --record to see the [performance] diffs.")
    if record:
        from modreg.forecast.bench.record import check_recordable

        check_recordable(quick)
        open_registry(registry)  # fail before benchmarking when there is no registry to record in
    options = BenchOptions(horizon=horizon, windows=windows, step=step, season=season, max_steps=max_steps, quick=quick,
                           jobs=jobs, timeout=timeout, seed=seed, refit=refit, executor=executor, scheduler=scheduler,
                           params=tuple(params))
    selection = {"all": all_entries, "category": category, "where": where}
    result = run_bench(targets, data=data, options=options, registry=registry, select=selection, progress=progress)
    if record:
        from modreg.forecast.bench.record import record_performance

        result.recorded = record_performance(result, registry, today=today, dry_run=dry_run)
    if output is not None:
        _write_json(Path(output), result.to_dict())
    return result


def _write_json(path: Path, document: Any) -> None:
    from modreg.errors import UsageError
    from modreg.registry.store.canonical import dumps_canonical
    from modreg._fs import write_atomic

    try:
        write_atomic(path, dumps_canonical(document))
    except OSError as error:
        raise UsageError(f"modreg cannot write {path} ({error.strerror or error}).", path=path) from None


def templates(registry: str | Path | None = None) -> list[Template]:
    """The registry's runtime templates (`modreg templates`), sorted by name."""
    from modreg.registry.checks.templates import load_templates

    return list(load_templates(open_registry(registry)).values())


def schema(name: str) -> dict[str, Any]:
    """A JSON Schema (`modreg schema NAME`): descriptor, config, plugin or template, or a
    runtime model's parameter schema; NotFound (with the closest name) for anything else."""
    from modreg.errors import NotFound
    from modreg.registry.checks._schemacheck import SCHEMA_NAMES, did_you_mean, load_schema, runtime_models

    if name in SCHEMA_NAMES:
        return load_schema(name)
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
