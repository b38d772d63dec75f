"""Fitting an ensemble's members: one after the other, or in parallel worker processes.

`fit_members(plans, data, jobs=J)` returns one `MemberFit` per plan, in order. With J > 1 the
members of built-in runtime models fit in J spawned worker processes: each worker starts
isolated (an empty working folder, a safe `sys.path`: nothing of a registry is importable) with
one BLAS thread (`OMP_NUM_THREADS` and friends set before numpy loads, and threadpoolctl), so J
workers use J cores without oversubscription. A worker sends back the fitted weights (plain
arrays, not the model), and the model is rebuilt here from its parameters, as loading a saved
model does. Members of models registered at run time (plugins, scripts) fit in this process,
as does everything inside a daemon process (a `bench --jobs` worker may not start children).

Every fit seeds the runtime's generator from its own random_seed, so a member gives the same
forecast sequentially or in a worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modreg.errors import ModregError, UsageError
from modreg.runtime.data import SeriesFrame
from modreg.runtime.factory import get_model

if TYPE_CHECKING:
    from modreg.runtime.models.base import Forecaster
    from modreg.runtime.training.fit import ProgressFn

__all__ = ["MemberFit", "MemberPlan", "fit_members"]

_ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


@dataclass(frozen=True)
class MemberPlan:
    """One fit of one member: its label, runtime model and complete, validated parameters."""

    label: str
    model: str
    params: dict[str, Any]


@dataclass(frozen=True)
class MemberFit:
    """What fitting one member gave: the fitted model and its wall and CPU seconds."""

    plan: MemberPlan
    model: Forecaster
    seconds: float
    cpu_seconds: float


def fit_members(plans: Sequence[MemberPlan], data: SeriesFrame, *, jobs: int = 1,
                progress: ProgressFn | None = None) -> list[MemberFit]:
    """Fit every plan on `data` (see the module docstring); UsageError naming the member that failed."""
    counter = _StepCounter(progress)
    remote = [i for i, plan in enumerate(plans) if _can_spawn(jobs, plans) and get_model(plan.model).is_builtin]
    fits: dict[int, MemberFit] = {}
    if remote:
        fits.update(_fit_in_workers([plans[i] for i in remote], remote, data, jobs, counter))
    for index, plan in enumerate(plans):
        if index not in fits:
            fits[index] = _fit_here(plan, data, counter)
    return [fits[i] for i in range(len(plans))]


def _can_spawn(jobs: int, plans: Sequence[MemberPlan]) -> bool:
    return jobs > 1 and len(plans) > 1 and not multiprocessing.current_process().daemon


class _StepCounter:
    """Numbers the training steps of all fits on, for one progress bar over the whole ensemble."""

    def __init__(self, progress: ProgressFn | None) -> None:
        self.progress, self.done = progress, 0

    def for_fit(self) -> Callable[[int, float, float | None], None] | None:
        if self.progress is None:
            return None
        start, progress = self.done, self.progress

        def report(step: int, loss: float, val_loss: float | None) -> None:
            self.done = start + step
            progress(self.done, loss, val_loss)

        return report

    def finished(self, history: Any) -> None:
        """A fit in a worker ended: count its steps at once."""
        if history is None:
            return
        self.done += history.steps
        if self.progress is not None:
            self.progress(self.done, history.train_loss[-1] if history.train_loss else float("nan"), None)


def _fit_here(plan: MemberPlan, data: SeriesFrame, counter: _StepCounter) -> MemberFit:
    model = get_model(plan.model).cls(**plan.params)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        model.fit(data, progress=counter.for_fit())
    except ModregError as error:
        raise UsageError(f"Ensemble member {plan.label} ({plan.model}) could not be fitted: {error.message}",
                         hint=error.hint) from None
    return MemberFit(plan, model, time.perf_counter() - started, time.process_time() - cpu)


# ----- Worker processes -----


def _fit_in_workers(plans: list[MemberPlan], indexes: list[int], data: SeriesFrame, jobs: int,
                    counter: _StepCounter) -> dict[int, MemberFit]:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from modreg._isolation import isolated_start

    context = multiprocessing.get_context("spawn")
    found: dict[int, MemberFit] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(plans)), mp_context=context,
                             initializer=_one_blas_thread) as pool:
        with isolated_start(), _one_thread_environment():  # the workers start (and import numpy) in here
            futures = {pool.submit(_fit_remote, plan, data): (index, plan) for index, plan in zip(indexes, plans)}
        for future in as_completed(futures):
            index, plan = futures[future]
            try:
                sent = future.result()
            except BrokenProcessPool:
                raise UsageError(f"The worker process fitting ensemble member {plan.label} ({plan.model}) died.",
                                 hint="it may have run out of memory; fit the members one at a time (jobs = 1).") from None
            found[index] = _rebuilt(plan, data, sent)
            counter.finished(getattr(found[index].model, "train_history", None))
    return found


@contextlib.contextmanager
def _one_thread_environment() -> Iterator[None]:
    """`OMP_NUM_THREADS=1` (and the other BLAS variables) while workers start; restored after."""
    saved = {name: os.environ.get(name) for name in _ONE_THREAD}
    os.environ.update(dict.fromkeys(_ONE_THREAD, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _one_blas_thread() -> None:
    from modreg.runtime.autograd.blas import cap_process

    cap_process(1)  # the per-product thread choice never goes above one in a worker


def _fit_remote(plan: MemberPlan, data: SeriesFrame) -> dict[str, Any]:
    """In a worker: fit `plan` and return its arrays, or the error as text (exceptions do not travel well)."""
    model = get_model(plan.model).cls(**plan.params)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        model.fit(data)
    except ModregError as error:
        return {"error": error.message, "hint": error.hint}
    history = getattr(model, "train_history", None)
    return {"state": model._state(), "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "history": history}


def _rebuilt(plan: MemberPlan, data: SeriesFrame, sent: dict[str, Any]) -> MemberFit:
    """The member fitted in a worker, rebuilt here from its parameters and weights."""
    if "error" in sent:
        raise UsageError(f"Ensemble member {plan.label} ({plan.model}) could not be fitted: {sent['error']}",
                         hint=sent["hint"])
    model = get_model(plan.model).cls(**plan.params)
    model._load_state(sent["state"])
    if sent["history"] is not None:
        model.train_history = sent["history"]  # type: ignore[attr-defined]
    model._remember(data)
    return MemberFit(plan, model, sent["seconds"], sent["cpu"])
