"""BLAS threads per product: one for small products, the ceiling for big ones, the faster count kept."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from modreg.runtime.autograd import blas


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The thread counts `gemm` asks the library for; a fresh state and timing table."""
    counts: list[int] = []
    real = blas._set

    def record(threads: int) -> None:
        counts.append(threads)
        real(threads)

    monkeypatch.setattr(blas, "_set", record)
    monkeypatch.setattr(blas, "_timings", {})
    monkeypatch.setattr(blas._state, "cap", 2)
    yield counts


def _operands(m: int, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)


def test_small_products_never_change_the_thread_count(recorded: list[int]) -> None:
    a, b = _operands(128, 128, 512)  # 8.4 M multiply-adds
    with blas.ceiling(None):
        np.testing.assert_allclose(blas.gemm(a, b), a @ b, rtol=1e-5)
    assert recorded == []


def test_big_products_try_both_counts_then_rest_at_one_thread(recorded: list[int]) -> None:
    a, b = _operands(1024, 128, 128)  # 16.8 M: BIG_PRODUCT exactly
    with blas.ceiling(None):
        for _ in range(4):
            np.testing.assert_allclose(blas.gemm(a, b), a @ b, rtol=1e-5)
        pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert all(p["num_threads"] == 1 for p in pools)  # back at one thread between products
    assert 2 in recorded[:4] and recorded[-1] == 1


def test_the_faster_count_wins_and_the_slower_is_probed_now_and_then() -> None:
    timing = blas._Timing()
    for threads in (timing.choose(2) for _ in range(4)):
        timing.record(threads, 1.0 if threads == 1 else 3.0)  # two threads 3x slower: a busy machine
    chosen = [timing.choose(2) for _ in range(2 * blas._PROBE)]
    assert chosen.count(1) == 2 * blas._PROBE - 2 and chosen.count(2) == 2


def test_a_ceiling_of_one_and_a_capped_process_keep_big_products_on_one_thread(recorded: list[int]) -> None:
    assert blas.threads_for(blas.BIG_PRODUCT) == 2
    with blas.ceiling(1):
        assert blas.threads_for(blas.BIG_PRODUCT) == 1
    blas.cap_process(1)
    assert blas.thread_ceiling() == 1 and blas.threads_for(blas.BIG_PRODUCT) == 1


def test_outside_a_ceiling_block_gemm_is_plain_matmul(recorded: list[int]) -> None:
    a, b = _operands(1024, 512, 64)
    np.testing.assert_allclose(blas.gemm(a, b), a @ b, rtol=1e-5)
    batched = np.stack([a[:8, :16]] * 3)
    np.testing.assert_allclose(blas.gemm(batched, b[:16]), batched @ b[:16], rtol=1e-5)
    assert recorded == []


def test_in_threads_runs_every_part_once_in_threads_only_inside_a_ceiling(recorded: list[int]) -> None:
    import threading

    def run() -> list[tuple[int, str]]:
        done: list[tuple[int, str]] = []
        blas.in_threads(3, lambda part: done.append((part, threading.current_thread().name)))
        return sorted(done)

    outside = run()
    with blas.ceiling(None):
        inside = run()
    assert [p for p, _ in outside] == [p for p, _ in inside] == [0, 1, 2]
    assert {name for _, name in outside} == {threading.current_thread().name}
    assert inside[0][1] == threading.current_thread().name and any(n.startswith("modreg") for _, n in inside[1:])


def test_confirming_probes_double_the_wait_and_a_changed_winner_resets_it() -> None:
    timing = blas._Timing()
    for threads in (timing.choose(2) for _ in range(4)):
        timing.record(threads, 1.0 if threads == 2 else 2.0)  # splitting twice as fast
    probes = []
    for _ in range(200):
        threads = timing.choose(2)
        if threads == 1:
            probes.append(timing.calls)
        timing.record(threads, 1.0 if threads == 2 else 2.0)
    assert probes[:3] == [16, 48, 112] and timing.interval == 8 * blas._PROBE
    for _ in range(5):
        threads = timing.choose(2)
        timing.record(threads, 5.0 if threads == 2 else 2.0)  # the machine got busy: split calls slow down
    assert timing.choose(2) == 1 and timing.calls < timing.next_probe  # the averages crossed, no probe needed


def test_split_rows_covers_every_row_once_and_gives_identical_products(recorded: list[int]) -> None:
    a, b = _operands(1000, 512, 512)
    whole = a @ b
    for _ in range(6):  # both ways (the first calls alternate), then the faster
        out = np.empty_like(whole)
        blocks: list[tuple[int, int]] = []

        def work(rows: slice, out: np.ndarray = out, blocks: list[tuple[int, int]] = blocks) -> None:
            blocks.append((rows.start, rows.stop))
            np.matmul(a[rows], b, out=out[rows])

        with blas.ceiling(2):
            blas.split_rows(len(a), a.size * b.shape[1], ("test", 1000), work)
        starts, stops = zip(*sorted(blocks))
        assert starts[0] == 0 and stops[-1] == 1000 and starts[1:] == stops[:-1]
        np.testing.assert_array_equal(out, whole)
    assert {len(t.seconds) for t in blas._timings.values()} == {2}
    assert recorded == []  # the library stays at one thread: the caller's threads share the rows


def test_split_rows_runs_small_products_whole_and_nested_calls_in_their_own_thread() -> None:
    import threading

    seen: list[tuple[slice, str]] = []
    with blas.ceiling(2):
        blas.split_rows(64, blas.SPLIT_PRODUCT - 1, ("small",), lambda rows: seen.append((rows, "")))

        def outer(part: int) -> None:
            blas.split_rows(64, blas.SPLIT_PRODUCT, ("nested",),
                            lambda rows: seen.append((rows, threading.current_thread().name)))

        blas.in_threads(2, outer)
    assert seen[0] == (slice(0, 64), "")
    nested = seen[1:]
    assert len(nested) == 2 and all(rows == slice(0, 64) for rows, _ in nested)


def test_in_threads_raises_a_parts_error_after_every_part_ran_and_the_workers_go_on(recorded: list[int]) -> None:
    done: list[int] = []

    def work(part: int) -> None:
        done.append(part)
        if part == 1:
            raise ValueError("part 1 failed")

    with blas.ceiling(2):
        with pytest.raises(ValueError, match="part 1 failed"):
            blas.in_threads(4, work)
        assert sorted(done) == [0, 1, 2, 3]
        done.clear()
        blas.in_threads(4, done.append)
    assert sorted(done) == [0, 1, 2, 3]


def test_in_threads_runs_in_the_caller_while_another_thread_uses_the_workers(recorded: list[int]) -> None:
    import threading

    names: list[str] = []
    with blas.ceiling(2), blas._dispatch:  # another caller holds the workers
        blas.in_threads(2, lambda part: names.append(threading.current_thread().name))
    assert names == [threading.current_thread().name] * 2
