"""The benchmark harness behind `modreg bench`: rolling-origin evaluation of models on one data set.

Windows, as Nixtla's `cross_validation`: K windows of h points at the end of every series.
The last window ends at each series' last point and every earlier one starts `step` points
(default h) before the next, so window i (1..K) holds out `offset_i = h + (K - i) * step`
points and its cutoff is the point before them. Every series needs at least
`h + (K - 1) * step + 1` points (and each model what it needs to fit on the first window).

Refitting. By default (refit) every model is built and fitted once per window, on the data
before that window's cutoff, and forecasts the window: one task per model and window, so the
windows of a model can run in parallel. With `refit=False` (`--no-refit`) every model is fitted
once, on the data before the first window's cutoff, and each later window is forecast from its
own history (all the points before its cutoff) without refitting: one task per model.

SeasonalNaive (season from the data's frequency or `season`) always runs as the reference,
and every model's MASE and sMAPE are also given relative to it (below 1: better). A target
that is itself SeasonalNaive with that season is the reference. A target that fails (an error,
a timeout, a crash, or parameters that do not validate) is reported failed; the others finish.

Targets are registry entries with a `[runtime]` table or runtime model names, resolved and
parameterised exactly as `modreg run` does (template < entry < these options): `horizon` sets
h; `params` (`--param key=value`), `max_steps` (or `quick`: QUICK_STEPS) and `seed` set
those parameters of every model that has them (a --param no model has is an error). See `bench_score` for the figures, `bench_tasks` for how tasks run.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from modreg.errors import ModregError, UsageError
from modreg.forecast.bench.score import ModelScore, relative_to, score
from modreg.forecast.bench.ensemble_tasks import expand
from modreg.forecast.bench.executors import run_tasks
from modreg.forecast.bench.horizon import bench_horizon
from modreg.forecast.bench.tasks import BenchTask, ModelRef, TaskResult
from modreg.forecast.bench.windows import describe_windows, plan_windows, unscaled_windows
from modreg.forecast.ensemble import exog_layers
from modreg.forecast.footprint import check_run
from modreg.forecast.precision import check_precision
from modreg.forecast.source import SeriesSource, declared_exog
from modreg.runtime.data import SeriesFrame

__all__ = ["FORMAT", "QUICK_STEPS", "BenchOptions", "BenchProgress", "BenchResult", "BenchTarget", "evaluate",
           "plan_windows", "resolve_targets", "run_bench", "runtime_target", "select_entries"]

FORMAT = 1
QUICK_STEPS = 20
REFERENCE = "SeasonalNaive"


class BenchProgress(Protocol):
    """What the CLI's progress bar implements: `start(total)` once, one call per finished task,
    and `step` after the training steps inside a task (not for tasks run on dask)."""

    def start(self, total: int, description: str) -> None: ...

    def __call__(self, target: str, ok: bool) -> None: ...

    def step(self, target: str, window: int, step: int, total: int) -> None: ...


@dataclass(frozen=True)
class BenchOptions:
    """How to benchmark (the options of `modreg bench`)."""

    horizon: int | None = None
    windows: int = 1
    step: int | None = None
    season: int | None = None
    max_steps: int | None = None
    quick: bool = False
    jobs: int = 1
    timeout: float | None = None
    seed: int | None = None
    refit: bool = True
    executor: str = "local"
    scheduler: str | None = None
    params: tuple[str, ...] = ()

    @property
    def steps(self) -> int | None:
        """The max_steps given to every model that trains: --max-steps, else QUICK_STEPS with --quick."""
        return self.max_steps if self.max_steps is not None else QUICK_STEPS if self.quick else None


@dataclass(frozen=True)
class BenchTarget:
    """One model to benchmark: the row's name, the runtime model and its final parameters."""

    name: str
    model: str
    source: str  # "registry", "runtime" or "reference"
    params: dict[str, Any]
    registry: str | None = None
    warnings: tuple[str, ...] = ()
    reference: bool = False
    error: ModregError | None = None


@dataclass
class BenchResult:
    """Everything a benchmark measured, and what is needed to reproduce it."""

    dataset: str
    data: dict[str, Any]
    horizon: int
    step: int
    season: int
    refit: bool
    quick: bool
    max_steps: int | None
    windows: list[dict[str, Any]]
    models: list[ModelScore]
    environment: dict[str, Any]
    skipped: list[dict[str, str]] = field(default_factory=list)
    recorded: list[Any] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    frame: SeriesFrame | None = field(default=None, repr=False)  # the data benchmarked on (for plots, forecasts)

    @property
    def failed(self) -> list[ModelScore]:
        return [m for m in self.models if not m.ok]

    @property
    def reference(self) -> ModelScore:
        return next(m for m in self.models if m.reference)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "dataset": self.dataset, "data": self.data, "horizon": self.horizon, "step": self.step,
            "season": self.season, "refit": self.refit, "quick": self.quick, "max_steps": self.max_steps,
            "windows": self.windows, "reference": self.reference.target,
            "models": [m.to_dict() for m in self.models], "failed": [m.target for m in self.failed],
            "skipped": self.skipped, "recorded": [_mutation(m) for m in self.recorded],
            "environment": self.environment, "notices": self.notices,
        }

    def to_pandas(self) -> Any:
        """Every window's forecasts as a pandas DataFrame, shaped like neuralforecast's
        `cross_validation` frame (see `crossval`)."""
        from modreg.forecast.bench.crossval import cross_validation_frame

        return cross_validation_frame(self)


# ----- Targets -----


def resolve_targets(names: Sequence[str], registry: str | Path | None, options: BenchOptions
                    ) -> tuple[list[BenchTarget], int]:
    """Each name's target (a failed one carries its error) and the horizon they are compared on.

    Raises:
        UsageError: no --horizon and the targets set none, or set different ones.
    """
    from modreg.forecast.run import merged_params, resolve_target

    specs: list[Any] = []
    for name in names:
        try:
            spec = resolve_target(name, registry)
            specs.append((spec, merged_params(spec, registry)))
        except ModregError as error:
            specs.append((name, error))
    horizon = options.horizon or bench_horizon(options.params, specs)
    _check_params_used(options, [s.model for s, p in specs if isinstance(p, dict)])
    return [_target(spec, found, registry, horizon, options) for spec, found in specs], horizon


def _check_params_used(options: BenchOptions, models: Sequence[str]) -> None:
    """UsageError for a --param that no target's model has (a typo would otherwise go unnoticed)."""
    for key, text in _param_layer(options)[:len(options.params)]:
        if models and not any(_accepts(model, key) for model in models):
            raise UsageError(f"--param {text}: none of the models benchmarked has a parameter `{key}`.",
                             hint="`modreg schema MODEL` lists a model's parameters.")


def _target(spec: Any, found: Any, registry: str | Path | None, horizon: int, options: BenchOptions) -> BenchTarget:
    if isinstance(found, ModregError):
        return BenchTarget(str(spec), str(spec), "runtime", {}, error=found)
    from modreg.runtime.factory import validate_params
    from modreg.forecast.run import merged_params

    layer = [text for key, text in _param_layer(options) if _accepts(spec.model, key)]
    seed = options.seed if _accepts(spec.model, "random_seed") else None
    root = str(spec.path.parents[1]) if spec.path is not None else (str(registry) if registry else None)
    try:
        params = validate_params(spec.model, merged_params(spec, registry, params=layer, horizon=horizon, seed=seed))
    except ModregError as error:
        return BenchTarget(spec.target, spec.model, spec.source, {}, root, tuple(spec.warnings), error=error)
    return BenchTarget(spec.target, spec.model, spec.source, params, root, tuple(spec.warnings))


def _param_layer(options: BenchOptions) -> list[tuple[str, str]]:
    """(key, "key=value") of --param and --max-steps/--quick, in the order they apply."""
    from modreg.runtime.params import parse_cli_param

    layer = [(parse_cli_param(text)[0], text) for text in options.params]
    return layer + ([("max_steps", f"max_steps={options.steps}")] if options.steps is not None else [])


def runtime_target(model: str, params: dict[str, Any], *, name: str | None = None) -> BenchTarget:
    """A target for a runtime model with explicit parameters (h included), validated; for scripts."""
    from modreg.runtime.factory import validate_params

    return BenchTarget(name or model, model, "runtime", validate_params(model, params))


def _accepts(model: str, param: str) -> bool:
    from modreg.runtime.factory import get_model
    from modreg.runtime.params import schema_for

    return param in schema_for(get_model(model).cls)["properties"]


def _with_reference(targets: list[BenchTarget], horizon: int, season: int, frame: SeriesFrame) -> list[BenchTarget]:
    """Mark the target that is the SeasonalNaive reference, or add one."""
    for i, target in enumerate(targets):
        own = target.params.get("season_length") or frame.freq.season_length
        if target.error is None and target.model == REFERENCE and own == season and target.params.get("h") == horizon:
            return [*targets[:i], dataclasses.replace(target, reference=True), *targets[i + 1:]]
    name = REFERENCE if all(t.name != REFERENCE for t in targets) else f"{REFERENCE} (reference)"
    params = {"h": horizon, "season_length": season}
    return [*targets, BenchTarget(name, REFERENCE, "reference", params, reference=True)]


# ----- Running -----


def evaluate(targets: Sequence[BenchTarget], frame: SeriesFrame, options: BenchOptions, *, horizon: int,
             dataset: str, data_info: dict[str, Any] | None = None,
             progress: BenchProgress | None = None) -> BenchResult:
    """Benchmark `targets` on `frame` (see the module docstring); the reference is added."""
    season = options.season or frame.freq.season_length
    if season < 1:
        raise UsageError(f"--season must be 1 or more, not {season}.")
    step = options.step or horizon
    offsets = plan_windows(frame, horizon, options.windows, step)
    rows = _with_reference(list(targets), horizon, season, frame)
    for row in rows:  # refuse before any fit what would exceed the memory budget (exit 2)
        if row.error is None:
            check_run(row.name, row.model, row.params, frame)
            check_precision(row.name, row.model, row.params, frame)
    tasks, fold = expand([(row, _tasks(row, frame, offsets, horizon, season, options)) for row in rows
                          if row.error is None], options)  # an ensemble's member fits become tasks of their own
    if progress is not None:
        progress.start(len(tasks), f"benchmarking {len(rows)} models")
    results = run_tasks(tasks, jobs=options.jobs, timeout=options.timeout, executor=options.executor,
                        scheduler=options.scheduler, on_result=_reporter(tasks, progress),
                        on_step=_step_reporter(tasks, progress))
    results = fold(results)
    scores = [_score(row, results, frame.n_series) for row in rows]
    reference = next(s for s in scores if s.reference)
    relative_to(scores, reference)
    scores.sort(key=_rank)
    unscaled = unscaled_windows(frame, offsets, season)
    return BenchResult(dataset, data_info or _data_info(frame), horizon, step, season, options.refit, options.quick,
                       options.steps, describe_windows(frame, offsets), scores, environment(options),
                       notices=[*frame.notices, *([unscaled] if unscaled else [])], frame=frame)


def _tasks(row: BenchTarget, frame: SeriesFrame, offsets: Sequence[int], h: int, season: int,
           options: BenchOptions) -> list[BenchTask]:
    ref = ModelRef.of(row.model, row.registry)
    numbered = list(enumerate(offsets, 1))
    groups = [[pair] for pair in numbered] if options.refit else [numbered]
    return [BenchTask(row.name, ref, row.params, frame, tuple(n for n, _ in group), tuple(o for _, o in group), h,
                      season, options.refit) for group in groups]


def _reporter(tasks: Sequence[BenchTask], progress: BenchProgress | None) -> Any:
    def report(index: int, result: TaskResult) -> None:
        if progress is not None:
            progress(tasks[index].key, result.ok)

    return report


def _step_reporter(tasks: Sequence[BenchTask], progress: BenchProgress | None) -> Any:
    if progress is None or not hasattr(progress, "step"):
        return None
    return lambda index, window, step, total: progress.step(tasks[index].key, window, step, total)


def _score(row: BenchTarget, results: Sequence[TaskResult], n_series: int) -> ModelScore:
    found = ModelScore(row.name, row.model, row.source, row.params, row.reference, warnings=list(row.warnings))
    if row.error is not None:
        found.status = "failed"
        found.error = {"message": row.error.message, "hint": row.error.hint, "window": None, "where": "before running",
                       "code": int(row.error.exit_code), "path": row.error.path, "line": row.error.line}
        return found
    return score(found, [r for r in results if r.key == row.name], n_series)


def _rank(row: ModelScore) -> tuple[int, float, str]:
    return (0, row.metrics["mase"], row.target) if row.ok else (1, 0.0, row.target)


def _data_info(frame: SeriesFrame, path: Path | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"series": frame.n_series, "points": int(sum(frame.lengths)), "frequency": frame.freq.name}
    if path is not None:
        info = {"path": path.as_posix(), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), **info}
    return info


def environment(options: BenchOptions) -> dict[str, Any]:
    """What a reproduction needs besides the data and the parameters: versions, CPUs, options."""
    import os
    import platform

    from modreg._version import __version__

    return {
        "modreg": __version__, "numpy": np.__version__, "python": platform.python_version(),
        "platform": platform.platform(), "cpu_count": os.cpu_count(), "seed": options.seed,
        "max_steps": options.steps, "quick": options.quick, "jobs": options.jobs, "timeout": options.timeout,
        "executor": options.executor, "refit": options.refit,
    }


# ----- The whole command -----


def run_bench(names: Sequence[str], *, data: str | Path | Any, options: BenchOptions, registry: str | Path | None = None,
              select: dict[str, Any] | None = None, progress: BenchProgress | None = None) -> BenchResult:
    """`modreg bench`: the named targets plus the registry entries `select` picks, on `data`
    (a CSV path, a pandas DataFrame, or a `SeriesSource` naming the columns; only the columns
    the targets declare exogenous are read).

    `select` holds `all` (bool), `category` and `where` (see `select_entries`); selected entries
    without a `[runtime]` table are skipped (and listed), named ones without it fail.

    Raises:
        UsageError: no targets, bad options or data; NotFound: no data file or registry.
    """
    selection = select or {}
    selected, skipped = select_entries(registry, **selection) if any(selection.values()) else ([], [])
    chosen = list(dict.fromkeys([*names, *selected]))
    if not chosen:
        raise _nothing_to_run(any(selection.values()))
    source = data if isinstance(data, SeriesSource) else SeriesSource(data)
    targets, horizon = resolve_targets(chosen, registry, options)
    frame = source.read(declared_exog(layer for t in targets if t.error is None for layer in exog_layers(t.params)))
    result = evaluate(targets, frame, options, horizon=horizon, dataset=source.name,
                      data_info=_data_info(frame, source.path), progress=progress)
    result.skipped = skipped
    return result


def _nothing_to_run(selected: bool) -> UsageError:
    if selected:
        return UsageError("No registry entry with a [runtime] table matches the selection, so there is nothing to benchmark.",
                          hint="check the selection with `modreg search --category C --where EXPR`.")
    return UsageError("Name the models to benchmark, or select registry entries.",
                      hint="e.g. `modreg bench NHITS MLP --data d.csv`, or --all, --category C, --where EXPR.")


def select_entries(registry: str | Path | None, *, all: bool = False, category: str | None = None,  # noqa: A002
                   where: str | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """The registry entries the selection matches (every entry with `all`), sorted by name:
    those with a `[runtime]` table, and those skipped for lacking one."""
    from modreg.registry.store.descriptor import load_descriptor
    from modreg.registry.store.layout import find_root
    from modreg.registry.search.engine import SearchQuery, search

    paths = find_root(registry)
    query = SearchQuery(categories=(category,) if category else (), where=where, sort="name")
    runnable, skipped = [], []
    for hit in search(paths, query).hits:
        runtime = load_descriptor(paths.root / hit.file).data.get("runtime")
        if isinstance(runtime, dict) and isinstance(runtime.get("model"), str):
            runnable.append(hit.name)
        else:
            skipped.append({"target": hit.name, "reason": "no [runtime] table"})
    return runnable, skipped


def _mutation(mutation: Any) -> dict[str, Any]:
    return {"name": mutation.name, "path": mutation.path.as_posix(), "diff": mutation.diff,
            "written": mutation.written, "changes": mutation.changes}
