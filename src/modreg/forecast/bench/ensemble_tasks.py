"""An Ensemble under `bench --jobs J`: its member fits run as tasks of their own, merged back into one row.

An ensemble is one model to the benchmark (one row, one score, one `--record`), but its member
fits are independent: with more than one job (or on dask) `member_tasks` gives one task per
member fit and window group, so J workers fit J members at once (each worker with one BLAS
thread, as every bench worker trains). `merge_members` turns the members' results back into the
ensemble's: per window, the member forecasts combined as `Ensemble.predict` combines them
(`modreg.runtime.combine`), the same numbers as a single task would give. Its timings: creation,
fit and predict seconds are the sums over member fits (the ensemble's CPU cost, not the wall
time of the parallel run), peak memory the largest of a member's, parameters and steps summed.
A member that fails fails the ensemble, naming the member; `--timeout` applies to each member
fit's task.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from modreg.forecast.bench.tasks import BenchTask, ModelRef, TaskResult, WindowOutcome

if TYPE_CHECKING:
    from modreg.forecast.bench.harness import BenchOptions, BenchTarget

__all__ = ["ENSEMBLE", "MemberTasks", "expand", "member_tasks", "merge_members"]

ENSEMBLE = "Ensemble"


@dataclasses.dataclass(frozen=True)
class MemberTasks:
    """The member tasks of one ensemble row and what merging needs: the ensemble and the labels."""

    row: str
    ensemble: Any  # the runtime Ensemble built from the row's parameters (not fitted)
    tasks: tuple[BenchTask, ...]
    groups: tuple[tuple[int, ...], ...]  # per window group, the positions of its member tasks in `tasks`


def expand(planned: Sequence[tuple[BenchTarget, Sequence[BenchTask]]], options: BenchOptions
           ) -> tuple[list[BenchTask], Callable[[Sequence[TaskResult]], list[TaskResult]]]:
    """Every task to run (an ensemble's member tasks in place of its own, see `member_tasks`), and
    the function folding their results (in task order) back into one result per planned task."""
    layout: list[tuple[MemberTasks | None, int, int]] = []
    tasks: list[BenchTask] = []
    for row, own in planned:
        members = member_tasks(row, own, options)
        run = list(members.tasks if members is not None else own)
        layout.append((members, len(tasks), len(run)))
        tasks.extend(run)

    def fold(results: Sequence[TaskResult]) -> list[TaskResult]:
        folded: list[TaskResult] = []
        for members, start, count in layout:
            part = list(results[start:start + count])
            folded.extend(merge_members(members, part) if members is not None else part)
        return folded

    return tasks, fold


def member_tasks(row: BenchTarget, template: Sequence[BenchTask], options: BenchOptions) -> MemberTasks | None:
    """The member tasks replacing `template` (the row's own tasks) when they can run in parallel; None otherwise."""
    if row.model != ENSEMBLE or (options.jobs <= 1 and options.executor == "local"):
        return None
    from modreg.runtime.factory import create

    ensemble = create(ENSEMBLE, **row.params)
    tasks: list[BenchTask] = []
    groups = []
    for task in template:
        start = len(tasks)
        tasks.extend(dataclasses.replace(task, model=ModelRef.of(plan.model, row.registry), params=plan.params)
                     for plan in ensemble.plans)
        groups.append(tuple(range(start, len(tasks))))
    return MemberTasks(row.name, ensemble, tuple(tasks), tuple(groups))


def merge_members(members: MemberTasks, results: Sequence[TaskResult]) -> list[TaskResult]:
    """One result per window group of the ensemble, from its members' results (in `members.tasks` order)."""
    return [_merged(members, [results[k] for k in group]) for group in members.groups]


def _merged(members: MemberTasks, parts: Sequence[TaskResult]) -> TaskResult:
    plans = members.ensemble.plans
    for plan, part in zip(plans, parts):
        if not part.ok:
            return dataclasses.replace(part, key=members.row, error=f"member {plan.label} ({plan.model}): {part.error}")
    outcomes = tuple(_combined(members.ensemble, [p.outcomes[i] for p in parts]) for i in range(len(parts[0].outcomes)))
    steps = [p.steps for p in parts if p.steps is not None]
    return TaskResult(
        members.row, parts[0].windows, "ok", outcomes,
        creation_seconds=_summed(parts, "creation_seconds"), fit_seconds=_summed(parts, "fit_seconds"),
        predict_seconds=_summed(parts, "predict_seconds"), peak_memory=max(p.peak_memory for p in parts),
        parameters=sum(p.parameters or 0 for p in parts), steps=sum(steps) if steps else None,
        params=members.ensemble.get_params(),
    )


def _summed(parts: Sequence[TaskResult], name: str) -> tuple[float, ...]:
    return tuple(float(sum(values)) for values in zip(*(getattr(p, name) for p in parts)))


def _combined(ensemble: Any, outcomes: Sequence[WindowOutcome]) -> WindowOutcome:
    """The members' forecasts of one window combined as the ensemble combines them."""
    from modreg.runtime.combine import combine_forecasts
    from modreg.runtime.models.forecast import Forecast

    first = outcomes[0]
    n_series, h = first.actual.shape
    ids, ds = tuple(str(i) for i in range(n_series)), tuple(np.arange(h) for _ in range(n_series))
    forecasts = [Forecast(f"m{k}", ids, ds, {f"m{k}{suffix}": v for suffix, v in outcome.values.items()})
                 for k, outcome in enumerate(outcomes)]
    combined = combine_forecasts("e", forecasts, ensemble.combine)
    return dataclasses.replace(first, values={column[1:]: v for column, v in combined.values.items()})
