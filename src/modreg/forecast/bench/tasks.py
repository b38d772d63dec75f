"""The unit of work of `modreg bench`: one model on one data set's windows (`executors.py` runs many).

A `BenchTask` is one model on one forecast window (or, without refitting, on every window):
the model, its parameters, the data and the windows' offsets. `run_task(task)` is a pure
function of the task: it builds the model, fits it on the data before each window's cutoff,
forecasts the window and returns the forecasts, the actual values and the timings. Models seed
their own random streams from `random_seed`, so a task gives identical forecasts in this
process, in a worker process, or on a dask worker. Tasks in one process run one at a time
(a lock), because the runtime's random generator and the memory tracing are process-wide.

Any exception inside a task (a broken model, bad data for that model) becomes a failed
`TaskResult` naming the error; it never stops the other tasks. `run_task(task, on_step)` calls
`on_step(window, step, total)` after every training step, for progress inside a task.
"""

from __future__ import annotations

import importlib
import threading
import time
import tracemalloc
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from modreg.errors import ModregError, NotFound
from modreg.forecast.precision import check_finite
from modreg.runtime.data import SeriesFrame
from modreg.runtime.metrics import mase_scale

__all__ = ["BenchTask", "ModelRef", "OnResult", "OnStep", "TaskResult", "WindowOutcome", "notified", "run_task"]

OnResult = Callable[[int, "TaskResult"], None]
OnStep = Callable[[int, int, int], None]  # (window, training step, steps in all)
_RUN_LOCK = threading.Lock()


@dataclass(frozen=True)
class ModelRef:
    """How a worker finds a runtime model: built in, from a registry plugin, or by its module.

    Args:
        name: the registered runtime model name.
        registry: the registry root whose plugin provides the model (None: built in or installed).
        module, qualname: where a model registered at run time (a test's, a script's) lives, so
            that a spawned worker can import and register it too; None for the others.
        category, capabilities: what it was registered with.
    """

    name: str
    registry: str | None = None
    module: str | None = None
    qualname: str | None = None
    category: str = "custom"
    capabilities: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, registry: str | None = None) -> ModelRef:
        """The reference to the registered model `name` (NotFound when it is not registered)."""
        from modreg.runtime.factory import get_model

        info = get_model(name)
        if info.is_builtin:
            return cls(name)
        module = info.cls.__module__
        importable = module != "__main__" and not module.startswith("modreg_plugins.")
        return cls(name, registry, module if importable else None, info.cls.__qualname__ if importable else None,
                   info.category, info.capabilities)

    def ensure(self) -> None:
        """Make the model available in this process (import its module or load its plugin)."""
        from modreg.runtime.factory import is_registered, register_model

        if is_registered(self.name):
            return
        if self.module is not None and self.qualname is not None:
            found: Any = importlib.import_module(self.module)
            for part in self.qualname.split("."):
                found = getattr(found, part)
            if not is_registered(self.name):
                register_model(self.name, category=self.category, capabilities=self.capabilities)(found)
            return
        from modreg.forecast.resolve import provide_model
        from modreg.registry.store.layout import find_root

        if not provide_model(self.name, find_root(self.registry) if self.registry else None):
            raise NotFound(f"The runtime model `{self.name}` is not available in this worker.",
                           hint="install the package or plugin that provides it where the workers run.")


@dataclass(frozen=True)
class BenchTask:
    """One model on one or more windows of `data`.

    Args:
        key: the benchmark row (target) the task belongs to.
        model: the runtime model to build.
        params: its validated parameters (h included).
        data: the whole data set; each window's history is everything before its cutoff.
        windows: the window numbers (1..K) this task evaluates.
        offsets: per window, the number of points after its cutoff (h + (K - window) * step).
        h: the horizon.
        season: the season of the MASE scale.
        refit: fit for every window (True), or once on the first and forecast the others.
    """

    key: str
    model: ModelRef
    params: dict[str, Any]
    data: SeriesFrame
    windows: tuple[int, ...]
    offsets: tuple[int, ...]
    h: int
    season: int
    refit: bool = True


@dataclass(frozen=True)
class WindowOutcome:
    """The forecasts of one window and what they are scored against.

    Args:
        window: the window number (1..K).
        offset: points after the cutoff.
        cutoffs: per series, the last timestamp of the history the forecast starts from.
        actual: (n_series, h) actual values of the window.
        values: forecast column suffix ("" for the point forecast, "-lo-90", "-median", ...) ->
            (n_series, h) values.
        scales: per series, the in-sample seasonal naive MAE of the history (MASE's denominator).
    """

    window: int
    offset: int
    cutoffs: tuple[Any, ...]
    actual: np.ndarray
    values: dict[str, np.ndarray]
    scales: np.ndarray


@dataclass(frozen=True)
class TaskResult:
    """What one task gave: outcomes and timings, or why it failed.

    `status` is "ok", "failed" (an exception), "timeout" or "crashed" (the worker died).
    """

    key: str
    windows: tuple[int, ...]
    status: str = "ok"
    outcomes: tuple[WindowOutcome, ...] = ()
    creation_seconds: tuple[float, ...] = ()
    fit_seconds: tuple[float, ...] = ()
    predict_seconds: tuple[float, ...] = ()
    peak_memory: int = 0
    parameters: int | None = None
    steps: int | None = None
    params: dict[str, Any] | None = None
    error: str | None = None
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def failed(cls, task: BenchTask, status: str, error: str, hint: str | None = None) -> TaskResult:
        return cls(task.key, task.windows, status, error=error, hint=hint)


# ----- One task -----


def run_task(task: BenchTask, on_step: OnStep | None = None) -> TaskResult:
    """Evaluate `task` (see the module docstring); exceptions become a failed result."""
    with _RUN_LOCK:
        try:
            return _measured(task, on_step)
        except ModregError as error:
            return TaskResult.failed(task, "failed", error.message, error.hint)
        except Exception as error:  # noqa: BLE001 - one broken model must not stop the benchmark
            return TaskResult.failed(task, "failed", _describe(error))


def _describe(error: BaseException) -> str:
    """`Type: message (at file:line)`, the line being the deepest frame of the traceback."""
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    frames = traceback.extract_tb(error.__traceback__)
    return f"{text} (at {frames[-1].filename}:{frames[-1].lineno})" if frames else text


def _measured(task: BenchTask, on_step: OnStep | None) -> TaskResult:
    task.model.ensure()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = _evaluate(task, on_step)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not tracing:
            tracemalloc.stop()
    return TaskResult(**{**result, "peak_memory": peak})


def _evaluate(task: BenchTask, on_step: OnStep | None = None) -> dict[str, Any]:
    from modreg.runtime.factory import create

    model: Any = None
    creation, fits, predicts, outcomes = [], [], [], []
    for window, offset in zip(task.windows, task.offsets):
        history = task.data.slice_end(offset)
        if model is None or task.refit:
            started = time.perf_counter()
            model = create(task.model.name, **task.params)
            creation.append(time.perf_counter() - started)
            started = time.perf_counter()
            model.fit(history, progress=_step_reporter(on_step, window, model))
            fits.append(time.perf_counter() - started)
        started = time.perf_counter()
        forecast = model.predict(history, h=task.h, futr=_future(task.data, offset, task.h))
        predicts.append(time.perf_counter() - started)
        check_finite(task.model.name, forecast, history)  # an overflowed fit fails, rather than score inf
        outcomes.append(_outcome(task, window, offset, history, forecast))
    history_steps = getattr(getattr(model, "train_history", None), "steps", None)
    return {"key": task.key, "windows": task.windows, "outcomes": tuple(outcomes), "creation_seconds": tuple(creation),
            "fit_seconds": tuple(fits), "predict_seconds": tuple(predicts), "parameters": int(model.num_parameters()),
            "steps": history_steps, "params": model.get_params()}


def _step_reporter(on_step: OnStep | None, window: int, model: Any) -> Any:
    """The `progress` callback of `fit` that reports (window, step, total) to `on_step` (an
    ensemble counts the steps of all its member fits)."""
    if on_step is None:
        return None
    total = int(getattr(model, "total_steps", None) or getattr(model, "max_steps", None) or 0)
    return lambda step, loss, val_loss: on_step(window, step, total)


def _future(data: SeriesFrame, offset: int, h: int) -> SeriesFrame | None:
    """The window's exogenous values (targets zeroed, so no model can peek), for models that use them."""
    if not data.exog:
        return None
    cut = [slice(len(v) - offset, len(v) - offset + h) for v in data.y]
    return SeriesFrame(ids=data.ids, ds=tuple(d[s] for d, s in zip(data.ds, cut)),
                       y=tuple(np.zeros(h) for _ in data.y), freq=data.freq,
                       exog={k: tuple(v[s] for v, s in zip(vs, cut)) for k, vs in data.exog.items()})


def _outcome(task: BenchTask, window: int, offset: int, history: SeriesFrame, forecast: Any) -> WindowOutcome:
    actual = np.stack([y[len(y) - offset:len(y) - offset + task.h] for y in task.data.y])
    prefix = len(forecast.model)
    values = {column[prefix:]: np.asarray(v, dtype=np.float64) for column, v in forecast.values.items()}
    scales = np.array([mase_scale(y, task.season) for y in history.y])
    return WindowOutcome(window, offset, tuple(d[-1] for d in history.ds), actual, values, scales)


def notified(index: int, result: TaskResult, notify: OnResult) -> TaskResult:
    notify(index, result)
    return result
