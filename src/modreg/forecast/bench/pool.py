"""Worker processes for `modreg bench --jobs J` / `--timeout S`: a task past its deadline is killed.

`WorkerPool(jobs).run(tasks, timeout, notify)` starts `jobs` processes with the `spawn` start
method (the same on Linux, macOS and Windows; nothing is inherited but what is sent), each
running `serve` (BLAS on one thread): it says "ready", then runs every task it receives with `run_task` and sends
the result back, and (at most every `_STEP_SECONDS`) the training step it has reached. The pool hands a task to each ready worker and waits on the pipes and the
process sentinels, so it notices at once when a worker answers or dies. A task running longer
than `timeout` has its worker killed and is reported failed ("timeout"); a worker that dies is
reported failed ("crashed"); either way a fresh worker takes the remaining tasks.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from modreg.errors import ModregError
from modreg.forecast.bench.tasks import BenchTask, OnResult, TaskResult, notified, run_task

__all__ = ["WorkerPool", "serve"]

_STARTUP_FAILURES = 3
_STEP_SECONDS = 0.5


class _Worker:
    """One spawned worker process and the pipe to it; `index` is the task it runs, if any."""

    def __init__(self, context: Any) -> None:
        from modreg._isolation import isolated_start

        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child,), daemon=True, name="modreg-bench-worker")
        with isolated_start():  # the worker starts in an empty folder: nothing of the registry is importable
            self.process.start()
        child.close()
        self.ready = False
        self.index: int | None = None
        self.deadline: float | None = None

    def assign(self, index: int, task: BenchTask, timeout: float | None) -> None:
        self.conn.send(task)
        self.index = index
        self.deadline = time.monotonic() + timeout if timeout is not None else None

    def messages(self) -> list[Any]:
        """What the worker sent since the last call; ["dead"] once its pipe is closed."""
        found: list[Any] = []
        try:
            while self.conn.poll():
                found.append(self.conn.recv())
        except (EOFError, OSError):
            found.append(("dead",))
        return found

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()

    def close(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


def serve(conn: Any) -> None:
    """A worker's loop: say ready, then run each task received until None or a closed pipe.

    The worker's BLAS uses one thread, so `jobs` workers fill `jobs` cores without oversubscribing.
    """
    from modreg.runtime.autograd.blas import cap_process

    cap_process(1)
    conn.send(("ready",))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(("done", run_task(task, _step_sender(conn))))


def _step_sender(conn: Any) -> Any:
    """An `on_step` that sends ("step", window, step, total) to the pool, at most every _STEP_SECONDS."""
    last = [0.0]

    def send(window: int, step: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= _STEP_SECONDS or step == total:
            last[0] = now
            conn.send(("step", window, step, total))

    return send


class WorkerPool:
    """`jobs` spawned worker processes; a task past its deadline has its worker killed."""

    def __init__(self, jobs: int) -> None:
        import multiprocessing

        self.jobs = jobs
        self.context = multiprocessing.get_context("spawn")
        self.startup_failures = 0
        self.timeout: float | None = None
        self.on_step: Any = None

    def run(self, tasks: Sequence[BenchTask], timeout: float | None, notify: OnResult,
            on_step: Any = None) -> list[TaskResult]:
        self.timeout = timeout
        self.on_step = on_step
        results: list[TaskResult | None] = [None] * len(tasks)
        pending = deque(range(len(tasks)))
        workers = [_Worker(self.context) for _ in range(min(self.jobs, len(tasks)))]
        try:
            while pending or any(w.index is not None for w in workers):
                for worker in workers:
                    if worker.ready and worker.index is None and pending:
                        index = pending.popleft()
                        worker.assign(index, tasks[index], timeout)
                self._wait(workers)
                gone = [w for w in workers if self._collect(w, tasks, results, notify)]
                workers = [w for w in workers if w not in gone]
                workers += [_Worker(self.context) for _ in gone if pending]
        finally:
            for worker in workers:
                worker.close()
        return [r for r in results if r is not None]

    @staticmethod
    def _wait(workers: list[_Worker]) -> None:
        from multiprocessing.connection import wait

        deadlines = [w.deadline for w in workers if w.deadline is not None]
        left = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        wait([w.conn for w in workers] + [w.process.sentinel for w in workers], timeout=left)

    def _collect(self, worker: _Worker, tasks: Sequence[BenchTask], results: list[TaskResult | None],
                 notify: OnResult) -> bool:
        """Handle what `worker` sent; True when it is gone (died or killed) and needs replacing."""
        for message in worker.messages():
            if message[0] == "ready":
                worker.ready, self.startup_failures = True, 0
            elif message[0] == "step" and worker.index is not None and self.on_step is not None:
                self.on_step(worker.index, *message[1:])
            elif message[0] == "done" and worker.index is not None:
                results[worker.index] = notified(worker.index, message[1], notify)
                worker.index = worker.deadline = None
        if worker.process.is_alive() and not _expired(worker):
            return False
        self._fail_current(worker, tasks, results, notify)
        worker.kill()
        return True

    def _fail_current(self, worker: _Worker, tasks: Sequence[BenchTask], results: list[TaskResult | None],
                      notify: OnResult) -> None:
        if not worker.ready:
            self.startup_failures += 1
            if self.startup_failures >= _STARTUP_FAILURES:
                raise ModregError("modreg could not start a benchmark worker process.",
                                  hint="run with --jobs 1 and no --timeout to benchmark in this process.")
        if worker.index is None:
            return
        task = tasks[worker.index]
        if worker.process.is_alive():
            result = TaskResult.failed(task, "timeout", f"{task.key} did not finish within {self.timeout:g} s, so it was stopped.",
                                       "raise --timeout, or lower max_steps (--max-steps / --quick).")
        else:
            code = worker.process.exitcode
            result = TaskResult.failed(task, "crashed", f"the worker running {task.key} died (exit code {code}).",
                                       "the model may have run out of memory or crashed the interpreter.")
        results[worker.index] = notified(worker.index, result, notify)
        worker.index = worker.deadline = None


def _expired(worker: _Worker) -> bool:
    return worker.deadline is not None and time.monotonic() >= worker.deadline
