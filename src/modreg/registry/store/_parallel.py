"""Spread per-file work over the machine's cores when there are many files.

Below `THRESHOLD` items the work runs in this process (a pool costs more than it saves).
Above it, items go to a process pool in a few chunks per worker. On Linux `fork` is
used, so workers inherit what the parent already imported and compiled (the fast schema
checks): no re-import, no re-compile. Elsewhere the platform's default start method is.
On Linux a worker dies with its parent (PR_SET_PDEATHSIG): a `build` killed with kill -9
leaves no workers behind that hold its stdout open, which would make `modreg build | tee log`
or a CI step wait forever.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

THRESHOLD = 200
MAX_WORKERS = 4
CHUNKS_PER_WORKER = 4


def worker_count() -> int:
    """Processes to use: the cores this process may run on, at most MAX_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def map_chunked(function: Callable[[Sequence[T]], list[R]], items: Sequence[T]) -> list[R]:
    """`function` over `items` in chunks, in processes when worth it; results in item order.

    `function` takes a chunk (a list of items) and returns one result per item; it must be a
    module-level function (picklable).
    """
    workers = worker_count()
    if len(items) <= THRESHOLD or workers == 1:
        return function(list(items))
    import multiprocessing  # only now: a few files never pay for the pool's imports
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(items) // (workers * CHUNKS_PER_WORKER))
    chunks = [list(items[start : start + size]) for start in range(0, len(items), size)]
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        results: list[R] = []
        for chunk_result in pool.map(function, chunks):
            results.extend(chunk_result)
    return results


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """In a worker: be killed when the parent process ends (Linux), and end now if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl in this libc: workers end with their pool as before
            return
    if os.getppid() != parent:
        os._exit(1)
