"""Running many bench tasks: in this process, in worker processes, or on a dask cluster.

`run_tasks` runs a list of tasks and returns one `TaskResult` per task, in order:

- `jobs=1` without a timeout: in this process, one after the other;
- otherwise: `jobs` worker processes (`pool.py`, started with `spawn`, so it works the same
  on every OS); a task running longer than `timeout` seconds has its worker killed and is
  reported failed, a worker that dies is reported failed, and the other tasks go on in fresh
  workers;
- `executor="dask"`: submitted to an existing dask.distributed cluster (`dask_executor.py`), at most
  as many at a time as the cluster has threads; a task past its timeout is cancelled and
  reported failed (dask cannot stop a task that is already running: its thread finishes it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from modreg.errors import UsageError
from modreg.forecast.bench.tasks import BenchTask, OnResult, TaskResult, notified, run_task

OnTaskStep = Callable[[int, int, int, int], None]  # (task index, window, training step, steps in all)

__all__ = ["run_tasks"]


def run_tasks(tasks: Sequence[BenchTask], *, jobs: int = 1, timeout: float | None = None, executor: str = "local",
              scheduler: str | None = None, on_result: OnResult | None = None,
              on_step: OnTaskStep | None = None) -> list[TaskResult]:
    """Run every task (see the module docstring); one result per task, in order.

    `on_result(index, result)` is called as each task finishes (for a progress bar), and
    `on_step(index, window, step, total)` after each training step in this process or a
    worker process (not on dask).

    Raises:
        UsageError: bad jobs/timeout/executor options, or dask missing or unreachable.
    """
    _check_options(jobs, timeout, executor, scheduler)
    notify = on_result or (lambda index, result: None)
    if executor == "dask":
        from modreg.forecast.bench.dask_executor import run_on_dask

        return run_on_dask(tasks, scheduler or "", timeout, notify)
    if jobs == 1 and timeout is None:
        return [notified(i, run_task(task, _for_task(on_step, i)), notify) for i, task in enumerate(tasks)]
    from modreg.forecast.bench.pool import WorkerPool

    return WorkerPool(jobs).run(tasks, timeout, notify, on_step)


def _for_task(on_step: OnTaskStep | None, index: int) -> Callable[[int, int, int], None] | None:
    if on_step is None:
        return None
    return lambda window, step, total: on_step(index, window, step, total)


def _check_options(jobs: int, timeout: float | None, executor: str, scheduler: str | None) -> None:
    if jobs < 1:
        raise UsageError(f"--jobs must be 1 or more, not {jobs}.", hint="--jobs 1 runs the tasks one after the other.")
    if timeout is not None and timeout <= 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout}.")
    if executor not in ("local", "dask"):
        raise UsageError(f"`{executor}` is not an executor.", hint="choose local or dask.")
    if executor == "dask" and not scheduler:
        raise UsageError("--executor dask needs --scheduler ADDRESS, the dask scheduler to submit to.",
                         hint="e.g. --scheduler tcp://10.0.0.5:8786 (started with `dask scheduler`).")
    if executor == "local" and scheduler:
        raise UsageError("--scheduler applies only with --executor dask.")
