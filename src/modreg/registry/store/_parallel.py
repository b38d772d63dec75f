"""Spread per-file work over the machine's cores when there are many files.

Below `THRESHOLD` items the work runs in this process (a pool costs more than it saves).
Above it, items go to a process pool in a few chunks per worker. On Linux `fork` is
used, so workers inherit what the parent already imported and compiled (the fast schema
checks): no re-import, no re-compile. Elsewhere the platform's default start method is.
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
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results: list[R] = []
        for chunk_result in pool.map(function, chunks):
            results.extend(chunk_result)
    return results
