"""`modreg bench --executor dask --scheduler ADDRESS`: the same tasks on a dask.distributed cluster.

The tasks are submitted to an existing cluster (modreg starts none), at most as many at a
time as the cluster has worker threads, so a task starts when it is submitted and `timeout`
can be counted from then. A task past its timeout is cancelled and reported failed; dask
cannot stop a task that is already running, so its thread finishes it in the background.

Workers need modreg (and the data travels with each task). A worker process runs one task
at a time (`run_task` holds a lock, since the runtime's random generator is process-wide), so
start workers with `--nthreads 1` and as many processes as you want tasks in parallel; each
task's BLAS uses one thread, so those processes never oversubscribe a machine. A model
from a registry plugin is loaded on the worker from the same registry path (a shared disk).
dask is an optional dependency: `pip install 'modreg-forecast[distributed]'`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from modreg._version import install_hint
from modreg.errors import UsageError
from modreg.forecast.bench.tasks import BenchTask, OnResult, TaskResult, notified, run_task

__all__ = ["connect", "run_on_dask", "run_on_one_thread"]

_POLL_SECONDS = 0.05
INSTALL_HINT = f"install it with `{install_hint('distributed')}` (dask[distributed] >= 2024.1)."


def run_on_one_thread(task: BenchTask) -> TaskResult:
    """`run_task` on a dask worker, its process's BLAS capped to one thread."""
    from modreg.runtime.autograd.blas import cap_process

    cap_process(1)
    return run_task(task)


def connect(scheduler: str, *, timeout: float = 10.0) -> Any:
    """A dask `Client` of the scheduler at `scheduler` (UsageError when dask is missing or it is unreachable)."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--executor dask needs dask.distributed, which is not installed.", hint=INSTALL_HINT) from None
    try:
        return Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise UsageError(f"modreg cannot reach the dask scheduler at {scheduler} ({error}).",
                         hint="check the address; start a cluster with `dask scheduler` and "
                              "`dask worker ADDRESS --nthreads 1`.") from None


def run_on_dask(tasks: Sequence[BenchTask], scheduler: str, timeout: float | None, notify: OnResult) -> list[TaskResult]:
    """Run every task on the cluster at `scheduler`; one result per task, in order."""
    client = connect(scheduler)
    try:
        return _Submitter(client, tasks, timeout, notify).run()
    finally:
        client.close()


class _Submitter:
    """Keeps the cluster's threads busy, collects results, cancels tasks past their deadline."""

    def __init__(self, client: Any, tasks: Sequence[BenchTask], timeout: float | None, notify: OnResult) -> None:
        self.client, self.tasks, self.timeout, self.notify = client, tasks, timeout, notify
        self.slots = max(1, sum(client.nthreads().values()))
        self.results: list[TaskResult | None] = [None] * len(tasks)
        self.running: dict[Any, tuple[int, float | None]] = {}

    def run(self) -> list[TaskResult]:
        pending = deque(range(len(self.tasks)))
        while pending or self.running:
            while pending and len(self.running) < self.slots:
                self._submit(pending.popleft())
            self._wait()
        return [r for r in self.results if r is not None]

    def _submit(self, index: int) -> None:
        future = self.client.submit(run_on_one_thread, self.tasks[index], pure=False)
        deadline = time.monotonic() + self.timeout if self.timeout is not None else None
        self.running[future] = (index, deadline)

    def _wait(self) -> None:
        """Poll until a task finishes or passes its deadline (the client need not be dask's default)."""
        while True:
            now = time.monotonic()
            done = [f for f in self.running if f.done()]
            expired = [f for f, (_, deadline) in self.running.items() if deadline is not None and now >= deadline]
            if done or expired:
                break
            time.sleep(_POLL_SECONDS)
        for future in done:
            self._finish(future, self._result(future))
        for future in expired:
            if future in self.running:
                future.cancel()
                self._finish(future, self._timed_out(self.tasks[self.running[future][0]]))

    def _timed_out(self, task: BenchTask) -> TaskResult:
        return TaskResult.failed(task, "timeout", f"{task.key} did not finish within {self.timeout:g} s, so it was cancelled.",
                                 "raise --timeout, or lower max_steps (--max-steps / --quick).")

    def _result(self, future: Any) -> TaskResult:
        task = self.tasks[self.running[future][0]]
        try:
            return future.result()
        except Exception as error:  # noqa: BLE001 - a lost worker or a cancelled task fails only this task
            return TaskResult.failed(task, "crashed", f"the dask task of {task.key} failed ({error!r}).")

    def _finish(self, future: Any, result: TaskResult) -> None:
        index, _ = self.running.pop(future)
        self.results[index] = notified(index, result, self.notify)
