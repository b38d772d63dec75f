"""BLAS threads chosen per matrix product: one thread for small products, every allowed core for big ones.

Measured on a 2-core machine (OpenBLAS 0.3, float32): a second thread makes (1024 x 512) @
(512 x 512) 2.0x faster and (1024 x 36) @ (36 x 512) 1.8x faster, but (128 x 128) @ (128 x 512)
slower, and on a busy machine the second thread of a small product spins and waits 10 to 40
times longer than the product takes. So `gemm` runs a product under `BIG_PRODUCT`
multiply-adds on one thread. A bigger product runs on up to `thread_ceiling()` threads, or on
one when that measured faster for its shape: `gemm` times each big shape on both counts
(moving averages, re-measured every 16th call), since on a machine shared with other work the
extra threads can cost more than they give. Between products the library rests at one thread,
so a plain `@` elsewhere in the runtime (the recurrent scans' (B, H) @ (H, G) steps) never
wakes the second thread.

The ceiling is the number of cores this process may use, lowered for a block by `ceiling(n)`
(training: `TrainSettings.threads`) and for the whole process by `cap_process(n)` (a worker of
`modreg bench --jobs J` gets one thread, so J workers never oversubscribe the machine).
Thread counts are set through threadpoolctl's controller of the loaded BLAS libraries, found
once; a set costs under a microsecond, and it is skipped when the count is already right.

`split_rows` is the other way to spread a big product: the caller's own threads (`in_threads`)
each run one block of its rows on a one-thread BLAS, with the elementwise work that goes with
those rows (`linear`'s bias and ReLU) done in the same thread while the block is in cache. The
products of NHITS and NBEATS ((1024 x 512) @ (512 x 512) and the like) then keep both cores
busy through their elementwise tails too, and no BLAS thread spins between products. Rows (or
output columns) are never split along the inner dimension, so every element is the same dot
product as on one thread: the results are identical whichever way a product ran.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "BIG_PRODUCT", "SPLIT_PRODUCT", "cap_process", "ceiling", "gemm", "in_threads", "split_rows", "thread_ceiling",
    "threads_active", "threads_for",
]

BIG_PRODUCT = 1 << 24
"""Multiply-adds from which a product uses every allowed core (16.8 M: (1024 x 32) @ (32 x 512))."""

SPLIT_PRODUCT = 1 << 22
"""Multiply-adds from which `split_rows` may split (4.2 M): its threads wait on a lock instead of
spinning, so a smaller product pays off, such as NHITS's first layer, (1024 x 18) @ (18 x 512),
whose bias and ReLU cost as much as the product."""


class _State:
    """The BLAS libraries' controllers, the count they run with, the process cap and block ceiling."""

    libs: list[Any] | None = None
    current: int | None = None
    cap: int = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    block: int | None = None


_state = _State()


def _set(threads: int) -> None:
    if _state.current == threads:
        return
    if _state.libs is None:
        from threadpoolctl import ThreadpoolController

        _state.libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    for lib in _state.libs:
        lib.set_num_threads(threads)
    _state.current = threads


def thread_ceiling() -> int:
    """The most threads a big product may use now: the process cap, lowered by `ceiling`."""
    return max(1, min(_state.cap, _state.block) if _state.block is not None else _state.cap)


def threads_active() -> bool:
    """Whether a `ceiling` block is open (training or inference), so BLAS rests at one thread and
    work may be spread over `thread_ceiling()` threads of the caller's own."""
    return _state.block is not None


def in_threads(count: int, work: Callable[[int], None]) -> None:
    """Run work(0), ..., work(count - 1), spread over up to `thread_ceiling()` threads inside a
    `ceiling` block (numpy releases the GIL for the work of each call), one after the other
    outside one, inside another `in_threads` part, or while another thread of the caller's
    uses the workers. Thread t runs parts t, t + threads, ...; part 0 runs in the calling
    thread; the call returns when every part is done and raises the first part's error."""
    threads = min(count, thread_ceiling()) if threads_active() and not _local.busy else 1
    if threads <= 1 or not _dispatch.acquire(blocking=False):
        for part in range(count):
            work(part)
        return
    try:
        workers = _workers(threads - 1)
        for t, worker in enumerate(workers, start=1):
            worker.submit(work, range(t, count, threads))
        error = _run_parts(work, range(0, count, threads))
        for worker in workers:
            raised = worker.join()
            error = error or raised
    finally:
        _dispatch.release()
    if error is not None:
        raise error


def _run_parts(work: Callable[[int], None], parts: range) -> BaseException | None:
    """work(part) for every part, during which a nested `in_threads` runs in this thread; the
    first error a part raised (the caller of `in_threads` raises it once every part is done)."""
    first: BaseException | None = None
    _local.busy = True
    try:
        for part in parts:
            try:
                work(part)
            except BaseException as error:  # noqa: BLE001 - re-raised by in_threads in the caller
                first = first or error
    finally:
        _local.busy = False
    return first


class _Worker:
    """A thread that runs the parts handed to it, one batch at a time: handed over and joined
    with two locks, half the latency of a ThreadPoolExecutor's future (measured 20 against
    40 microseconds a call; a training step splits about 45 products)."""

    def __init__(self, index: int) -> None:
        self._start, self._done = threading.Lock(), threading.Lock()
        self._start.acquire()
        self._done.acquire()
        self._task: tuple[Callable[[int], None], range] = (lambda part: None, range(0))
        self._error: BaseException | None = None
        threading.Thread(target=self._serve, name=f"modreg-{index}", daemon=True).start()

    def _serve(self) -> None:
        while True:
            self._start.acquire()
            self._error = _run_parts(*self._task)
            self._done.release()

    def submit(self, work: Callable[[int], None], parts: range) -> None:
        self._task = (work, parts)
        self._start.release()

    def join(self) -> BaseException | None:
        """Wait for the parts handed over; their error, if one raised."""
        self._done.acquire()
        return self._error


def _workers(count: int) -> list[_Worker]:
    while len(_pool) < count:
        _pool.append(_Worker(len(_pool) + 1))
    return _pool[:count]


class _Local(threading.local):
    busy = False


def _forget_workers() -> None:
    """In a forked child the workers' threads are gone: start afresh."""
    global _dispatch
    _pool.clear()
    _dispatch = threading.Lock()


_pool: list[_Worker] = []
_dispatch = threading.Lock()
_local = _Local()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def split_rows(rows: int, macs: int, key: tuple[int | str, ...], work: Callable[[slice], None]) -> None:
    """Run work(block) over `rows` split into one block per allowed thread when the product behind
    it has `SPLIT_PRODUCT` multiply-adds or more and splitting measured faster for `key` (a shape's
    name and sizes, timed like `gemm`'s); in one piece otherwise. Blocks are consecutive slices."""
    big = macs >= SPLIT_PRODUCT and threads_active() and not _local.busy
    parts = min(thread_ceiling(), rows) if big else 1
    if parts <= 1:
        work(slice(0, rows))
        return
    timing = _timings.setdefault(key, _Timing())
    parts = timing.choose(parts)
    bounds = [rows * part // parts for part in range(parts + 1)]
    started = time.perf_counter()
    in_threads(parts, lambda part: work(slice(bounds[part], bounds[part + 1])))
    timing.record(parts, (time.perf_counter() - started) / macs)


def threads_for(macs: int) -> int:
    """Threads for a product of `macs` multiply-adds (1 below BIG_PRODUCT)."""
    return thread_ceiling() if macs >= BIG_PRODUCT else 1


def cap_process(threads: int) -> None:
    """Never use more than `threads` BLAS threads in this process (a bench worker: 1)."""
    _state.cap = max(1, threads)
    _state.current = None
    _set(1)


@contextlib.contextmanager
def ceiling(threads: int | None) -> Iterator[None]:
    """Inside the block, big products use at most `threads` (None: the process cap) and BLAS
    rests at one thread; on exit the library's own count and the outer ceiling come back."""
    from threadpoolctl import threadpool_limits

    outer = _state.block
    with threadpool_limits(limits=1, user_api="blas"):
        _state.block, _state.current = _state.cap if threads is None else threads, 1
        try:
            yield
        finally:
            _state.block, _state.current = outer, None


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """np.matmul(a, b) on the threads its size earns (inside a `ceiling` block; plain matmul outside)."""
    if _state.block is None or min(a.ndim, b.ndim) < 2:
        return np.matmul(a, b, out=out)
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    threads = threads_for(m * k * n)  # numpy calls BLAS once per batch item
    if threads == 1:
        return np.matmul(a, b, out=out)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    # shapes within a factor of two share a timing (batch rows vary from step to step)
    timing = _timings.setdefault((*batch, m.bit_length(), k.bit_length(), n.bit_length()), _Timing())
    threads = timing.choose(threads)
    _set(threads)
    started = time.perf_counter()
    try:
        return np.matmul(a, b, out=out)
    finally:
        timing.record(threads, (time.perf_counter() - started) / (m * k * n))
        _set(1)


class _Timing:
    """Moving averages of a product shape's seconds per multiply-add on one thread and on more
    (or in one piece and split); the faster wins.

    The first calls alternate (1, N, 1, N) to measure both; later a call now and then runs on
    the slower count, so a machine that got busier (or idler) is noticed. A probe that confirms
    the winner doubles the wait before the next (from `_PROBE` calls up to `_MAX_PROBE`); one
    that changes it brings the wait back to `_PROBE`. Every probe costs the difference between
    the two (a split (1024 x 512) @ (512 x 512) run whole on an idle machine: 2.7 ms), so on a
    steady machine probes become rare, and a change of load is seen within a few steps.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.seconds: dict[bool, float] = {}  # many threads? -> average seconds per multiply-add
        self.interval = self.next_probe = _PROBE
        self.probed: bool | None = None  # the winner before the probe in flight

    def _winner(self) -> bool:
        return self.seconds[True] < self.seconds[False]

    def choose(self, threads: int) -> int:
        self.calls += 1
        if self.calls <= 4:
            return threads if self.calls % 2 == 0 else 1
        many = self._winner()
        if self.calls >= self.next_probe:
            self.probed, many = many, not many
            self.next_probe = self.calls + self.interval
        return threads if many else 1

    def record(self, threads: int, seconds: float) -> None:
        """Add one measurement (seconds per multiply-add) on `threads` threads."""
        many = threads > 1
        known = self.seconds.get(many)
        self.seconds[many] = seconds if known is None else known + _SMOOTHING * (seconds - known)
        if self.probed is not None:
            confirmed = self._winner() == self.probed
            self.interval = min(2 * self.interval, _MAX_PROBE) if confirmed else _PROBE
            self.next_probe, self.probed = self.calls + self.interval, None


_PROBE, _MAX_PROBE, _SMOOTHING = 16, 256, 0.3
_timings: dict[tuple[int | str, ...], _Timing] = {}
