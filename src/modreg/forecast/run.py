"""The logic behind `modreg run`: resolve a target, build or load a model, fit, forecast, save.

TARGET is a registry entry (its `[runtime]` table says which runtime model, precision,
parameters and template; a deprecated entry gives a warning; an entry without `[runtime]` is
refused) or, when no entry has that name, a runtime model name. Parameters merge so that what
the user typed wins:

    model defaults < the entry's own template < entry `runtime.params` < `--template` < `--param` / `--horizon` / `--seed`

each layer validated against the model's parameter schema (errors point at the descriptor's
line), and what the run will allocate estimated against the memory budget before the model is
built (`footprint`). A seed (`--seed`, or `random_seed` among the command line's parameters)
given to a deterministic model, one without `random_seed`, is accepted and ignored, so that
scripts can pass one to every model; `RunResult.details` says so (the CLI shows it with
`--verbose`). `RunResult.sources` says which layer each parameter came from. The data is a CSV path
or a pandas DataFrame (`source.SeriesSource`); only the extra columns the model declares
exogenous are read, the others are ignored with a notice. An Ensemble's members that name
registry entries or templates become runtime members here (`forecast.ensemble`), so that the
parameters `run` reports (and `bench` records) are complete.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from modreg.errors import ModregError, NotFound, UsageError
from modreg.forecast.ensemble import (
    MembersAt,
    exog_layers,
    provide_saved_members,
    resolve_members,
)
from modreg.forecast.footprint import check_run
from modreg.forecast.output_path import check_output_file
from modreg.forecast.precision import check_finite, check_precision
from modreg.forecast.source import SeriesSource, check_future, declared_exog
from modreg.forecast.target import (
    RunSpec,
    descriptor_line,
    registry_paths,
    resolve_target,
)
from modreg.runtime.data import SeriesFrame, write_forecasts_csv
from modreg.runtime.data.static_csv import attach_static, read_static_csv
from modreg.runtime.factory import create, get_model, validate_params
from modreg.runtime.models.base import Forecast, Forecaster
from modreg.runtime.params import ParameterError, parse_cli_param

__all__ = ["RunProgress", "RunResult", "RunSpec", "merged_params", "resolve_target", "run"]


class RunProgress(Protocol):
    """What the CLI's progress bar implements: `start(total)` once, then one call per step."""

    def start(self, total: int, description: str) -> None: ...

    def __call__(self, step: int, loss: float, val_loss: float | None) -> None: ...


@dataclass
class RunResult:
    """The outcome of one `modreg run`."""

    target: str
    model: str
    source: str
    params: dict[str, Any]
    forecast: Forecast
    fit_seconds: float | None
    predict_seconds: float
    steps: int | None
    saved: str | None = None
    loaded: str | None = None
    output: str | None = None
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # parameter -> the layer it came from
    history: SeriesFrame | None = field(default=None, repr=False)  # the data the model was fitted on (for plots)
    details: list[str] = field(default_factory=list)  # what a verbose run adds (an ignored seed)

    def to_dict(self) -> dict[str, Any]:
        resolved = {name: {"value": value, "source": self.sources.get(name, "default")} for name, value in self.params.items()}
        return {
            "target": self.target, "model": self.model, "source": self.source, "params": self.params, "resolved": resolved,
            "fit_seconds": self.fit_seconds, "predict_seconds": self.predict_seconds, "steps": self.steps,
            "saved": self.saved, "loaded": self.loaded, "output": self.output, "warnings": self.warnings,
            "columns": list(self.forecast.columns), "forecasts": self.forecast.to_records(),
        }

    def to_pandas(self) -> Any:
        """The forecasts as a pandas DataFrame: unique_id, ds, then a column per forecast column."""
        import pandas as pd

        frame = pd.DataFrame(self.forecast.to_records(), columns=["unique_id", "ds", *self.forecast.columns])
        if self.history is not None and self.history.ds and self.history.ds[0].dtype.kind == "M":
            frame["ds"] = pd.to_datetime(frame["ds"])
        return frame


def run(
    target: str,
    *,
    data: str | Path | Any,
    registry: str | Path | None = None,
    horizon: int | None = None,
    params: Sequence[str] | Mapping[str, Any] = (),
    template: str | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    output: str | Path | None = None,
    save: str | Path | None = None,
    load: str | Path | None = None,
    futr: str | Path | Any | None = None,
    static: str | Path | None = None,
    progress: RunProgress | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> RunResult:
    """Fit (or load) the target's model on `data` and forecast; see the module docstring.

    `data` (and `futr`) is a CSV path or a pandas DataFrame whose series, time and target
    columns are `id_col`, `time_col` and `target_col`; `params` are `key=value` strings or a dict.
    `static` is a CSV of static exogenous values, `unique_id,<columns>`, joined to `data`'s series.
    `jobs` is the number of processes an `Ensemble` fits its members in; other models ignore it.

    Raises:
        NotFound: no entry or runtime model named `target`, no data file, no template.
        UsageError: bad parameters (located in the descriptor when they come from it), bad
            data, an entry without `[runtime]`, or conflicting options.
    """
    _check_options(params, template, seed, save, load, output)
    spec = resolve_target(target, registry)
    source = SeriesSource(data, id_col, time_col, target_col)
    if load is not None:
        model, used, sources, fit_seconds, steps, details = _load(spec, load, registry), {}, {}, None, None, []
        frame = _read(source, model.get_params(), static)
    else:
        params, seed, details = _without_seed(spec, params, seed)
        params, details = _with_jobs(spec, params, jobs, details)
        used, sources = _layered_params(spec, registry, template, params, horizon, seed)
        frame = _read(source, used, static)
        check_run(spec.target, spec.model, used, frame)
        check_precision(spec.target, spec.model, used, frame)
        model, fit_seconds, steps = _fit(spec, used, frame, progress)
    future = None
    if futr is not None:
        future = source.read_future(futr, declared_exog(exog_layers(used or model.get_params())), frame.freq)
        ahead = horizon if load is not None and horizon is not None else model.get_params().get("h")
        if ahead:
            check_future(frame, future, int(ahead), model.get_params().get("futr_exog_list") or (), spec.target)
    started = time.perf_counter()
    forecast = model.predict(frame, h=horizon if load is not None else None, futr=future).renamed(spec.target)
    check_finite(spec.target, forecast, frame)
    predict_seconds = time.perf_counter() - started
    if save is not None:
        model.save(save)
    if output is not None:
        write_forecasts_csv(forecast, Path(output))
    return RunResult(spec.target, spec.model, spec.source, model.get_params(), forecast, fit_seconds, predict_seconds,
                     steps, _text(save), _text(load), _text(output), spec.warnings, list(frame.notices),
                     sources if load is None else {name: "loaded" for name in model.get_params()}, frame, details)


def _text(path: str | Path | None) -> str | None:
    return None if path is None else str(path)


def _read(source: SeriesSource, params: Mapping[str, Any], static: str | Path | None) -> SeriesFrame:
    """The data with the columns `params` declare exogenous, and the static file's joined to it."""
    frame = source.read(declared_exog(exog_layers(params)))
    if static is not None:
        frame = attach_static(frame, read_static_csv(static))
    _check_static(params, frame, static)
    return frame


def _check_static(params: Mapping[str, Any], frame: Any, static: str | Path | None) -> None:
    """With --static, a stat_exog_list column found in neither file is one error naming the static file."""
    missing = [c for c in params.get("stat_exog_list") or () if c not in frame.exog]
    if static is not None and missing:
        raise UsageError(f"stat_exog_list names '{missing[0]}', which is a column of neither the static file "
                         "nor the data.", hint=f"columns found: {', '.join(frame.exog) or '(none)'}", path=static)


def _check_options(params: Sequence[str] | Mapping[str, Any], template: str | None, seed: int | None, save: Any,
                   load: Any, output: Any) -> None:
    check_params_argument(params)
    for option, named, example in (("--output", output, "forecasts.csv"), ("--save", save, "model.npz")):
        if named is not None:  # found now, not after a fit of many minutes
            check_output_file(named, option, example)
    if save is not None and load is not None:
        raise UsageError("--save and --load cannot be used together.",
                         hint="--load forecasts with a saved model; --save writes the model a run fits.")
    if load is not None and (params or template or seed is not None):
        option = "--param" if params else "--template" if template else "--seed"
        raise UsageError(f"{option} has no effect with --load: a loaded model keeps the parameters it was fitted with.",
                         hint="drop --load to fit a new model with these settings.")


# ----- Parameters -----


def check_params_argument(params: object) -> None:
    """The API's `params` is a dict or key=value strings; one string would be read letter by letter."""
    if isinstance(params, (str, bytes)):
        raise UsageError(f"params must be a dict or a list of key=value strings, not the one string {params!r}.",
                         hint=f"write params=[{params!r}], or a dict such as {{'h': 12}}.")


def _without_seed(spec: RunSpec, params: Sequence[str] | Mapping[str, Any],
                  seed: int | None) -> tuple[Sequence[str] | Mapping[str, Any], int | None, list[str]]:
    """The command line's parameters and seed, without a seed that `spec`'s deterministic model has no use for."""
    if _accepts(spec.model, "random_seed"):
        return params, seed, []
    cli = dict(params) if isinstance(params, Mapping) else dict(parse_cli_param(text) for text in params)
    given = cli.pop("random_seed", seed) if seed is None else seed
    cli.pop("random_seed", None)
    if given is None:
        return params, seed, []
    return cli, None, [f"{spec.model} is deterministic (it has no random_seed), so the seed {given} is ignored."]



def _with_jobs(spec: RunSpec, params: Sequence[str] | Mapping[str, Any], jobs: int | None,
               details: list[str]) -> tuple[Sequence[str] | Mapping[str, Any], list[str]]:
    """The command line's parameters with `jobs` for a model that fits in several processes (an Ensemble)."""
    if jobs is None:
        return params, details
    if not _accepts(spec.model, "jobs"):
        return params, [*details, f"{spec.model} fits in one process, so --jobs {jobs} is ignored."]
    if isinstance(params, Mapping):
        return {**params, "jobs": jobs}, details
    return [*params, f"jobs={jobs}"], details


def merged_params(spec: RunSpec, registry: str | Path | None = None, *, params: Sequence[str] | Mapping[str, Any] = (),
                  horizon: int | None = None, seed: int | None = None, template: str | None = None) -> dict[str, Any]:
    """The parameters `run` builds `spec`'s model with (see the module docstring), each validated."""
    return _layered_params(spec, registry, template, params, horizon, seed)[0]


def _layered_params(spec: RunSpec, registry: str | Path | None, template: str | None,
                    params: Sequence[str] | Mapping[str, Any], horizon: int | None,
                    seed: int | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The merged parameters and, for each, the layer it came from (the last that set it)."""
    entry = dict(spec.params)
    if spec.precision is not None and _accepts(spec.model, "precision"):
        entry["precision"] = spec.precision
    _validate_layer(spec, entry, from_entry=True)
    cli = dict(params) if isinstance(params, Mapping) else dict(parse_cli_param(text) for text in params)
    cli.update({k: v for k, v in (("h", horizon), ("random_seed", seed)) if v is not None})
    _validate_layer(spec, cli, from_entry=False)
    layers = [
        (f"entry template {spec.template}", _template_layer(spec, registry, spec.template)),
        ("entry", entry),
        (f"template {template}", _template_layer(spec, registry, template)),
        ("command line", cli),
    ]
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        merged.update(layer)
        sources.update(dict.fromkeys(layer, source))
    if spec.model != "Ensemble":
        return merged, sources
    paths = registry_paths(registry)
    written = _members_written(spec, paths, sources.get("members"),
                               {f"entry template {spec.template}": spec.template, f"template {template}": template})
    members = resolve_members(spec, merged, paths, resolve=lambda name: resolve_target(name, registry),
                              params_of=lambda member: merged_params(member, registry), written=written)
    return members, sources


def _members_written(spec: RunSpec, paths: Any, layer: str | None, templates: dict[str, str | None]) -> MembersAt:
    """Where the ensemble's `members` came from: the entry, one of the templates, or neither."""
    if layer == "entry":
        return MembersAt.entry(spec)
    name = templates.get(layer or "")
    if name is None or paths is None:
        return MembersAt()
    from modreg.registry.checks.templates import get_template

    return MembersAt.template_file(name, get_template(paths, name).path)


def _template_layer(spec: RunSpec, registry: str | Path | None, name: str | None) -> dict[str, Any]:
    if name is None:
        return {}
    from modreg.registry.checks.templates import get_template

    paths = registry_paths(registry)
    if paths is None:
        raise NotFound(f"--template {name} needs a registry, and none was found.",
                       hint="pass --registry PATH or set $MODREG_REGISTRY.")
    found = get_template(paths, name)
    if found.model is not None and found.model != spec.model:
        raise UsageError(f"The template `{name}` is for {found.model}, not {spec.model}.", path=found.path)
    layer = dict(found.params)
    if found.precision is not None and _accepts(spec.model, "precision"):
        layer["precision"] = found.precision
    try:
        validate_params(spec.model, layer, partial=True)
    except ParameterError as error:
        raise UsageError(f"In the template `{name}`: {error.message}", hint=error.hint, path=found.path,
                         line=_template_line(found.path, error.param)) from None
    return layer


def _template_line(path: Path, param: str) -> int | None:
    """The line of `params.<param>` in the template file (None when it is not there: e.g. precision)."""
    from modreg.registry.store.files import locate, read_document

    return locate(read_document(path), ("params", param))[0]


def _accepts(model: str, param: str) -> bool:
    from modreg.runtime.params import schema_for

    return param in schema_for(get_model(model).cls)["properties"]


def _validate_layer(spec: RunSpec, layer: dict[str, Any], *, from_entry: bool) -> None:
    try:
        validate_params(spec.model, layer, partial=True)
    except ParameterError as error:
        if not from_entry or spec.path is None:
            raise
        line = descriptor_line(spec, ("runtime", "params", error.param))
        raise UsageError(f"runtime.params of `{spec.target}`: {error.message}", hint=error.hint,
                         path=spec.path, line=line) from None


# ----- Fit or load -----


def _fit(spec: RunSpec, params: dict[str, Any], frame: Any,
         progress: RunProgress | None) -> tuple[Forecaster, float, int | None]:
    model = create(spec.model, **params)
    callback: Callable[[int, float, float | None], None] | None = None
    if progress is not None:
        total = getattr(model, "total_steps", None) or getattr(model, "max_steps", 0) or 0
        progress.start(int(total), f"fitting {spec.target}")
        callback = progress
    started = time.perf_counter()
    model.fit(frame, progress=callback)
    history = getattr(model, "train_history", None)
    return model, time.perf_counter() - started, history.steps if history is not None else None


def _load(spec: RunSpec, path: str | Path, registry: str | Path | None) -> Forecaster:
    if spec.doc is not None and spec.path is not None:
        from modreg.forecast.artifact_check import check_recorded_artifact

        check_recorded_artifact(spec.doc.data, spec.path.parent.parent, Path(path))
    if spec.model == "Ensemble":
        provide_saved_members(path, registry_paths(registry))
    try:
        model = Forecaster.load(path)
    except ModregError as error:  # e.g. weights that do not fit the network: the file is the one to name
        error.path = error.path or str(path)
        raise
    if model.name != spec.model:
        raise UsageError(f"the file holds a {model.name} model, but `{spec.target}` runs {spec.model}.", path=path,
                         hint=f"run `modreg run {model.name} --load {path} ...`, or load a {spec.model} model.")
    return model
