"""The registry lock: exclusive across processes, released by the kernel when a holder dies."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from modreg.errors import Conflict, ExitCode
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.store.lock import lock_holder, registry_lock

CONTEXT = multiprocessing.get_context("fork")


def _hold(root: str, ready: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event) -> None:
    with registry_lock(RegistryPaths(Path(root)), timeout=5):
        ready.set()
        release.wait(30)


def _holder(root: Path) -> tuple[multiprocessing.process.BaseProcess, multiprocessing.synchronize.Event]:
    ready, release = CONTEXT.Event(), CONTEXT.Event()
    process = CONTEXT.Process(target=_hold, args=(str(root), ready, release))
    process.start()
    assert ready.wait(10), "the holder never took the lock"
    return process, release


@pytest.fixture
def paths(empty_registry: Path) -> RegistryPaths:
    return RegistryPaths(empty_registry)


def test_holder_pid_is_recorded_and_cleared(paths: RegistryPaths) -> None:
    with registry_lock(paths, timeout=1):
        assert lock_holder(paths) == os.getpid()
    assert lock_holder(paths) is None


def test_lock_is_reentrant_in_one_thread(paths: RegistryPaths) -> None:
    with registry_lock(paths, timeout=0.2):
        with registry_lock(paths, timeout=0.2):
            assert lock_holder(paths) == os.getpid()
        assert lock_holder(paths) == os.getpid()
    assert lock_holder(paths) is None


def test_live_holder_makes_others_wait_then_conflict_naming_its_pid(paths: RegistryPaths) -> None:
    process, release = _holder(paths.root)
    try:
        started = time.monotonic()
        with pytest.raises(Conflict) as caught:
            with registry_lock(paths, timeout=0.3):
                pass
        waited = time.monotonic() - started
    finally:
        release.set()
        process.join(10)
    assert 0.3 <= waited < 3
    assert str(process.pid) in caught.value.message
    assert caught.value.exit_code == ExitCode.CONFLICT
    assert "--lock-timeout" in (caught.value.hint or "")


def test_waiter_gets_the_lock_when_the_holder_finishes(paths: RegistryPaths) -> None:
    process, release = _holder(paths.root)
    releaser = CONTEXT.Process(target=_release_later, args=(release,))
    releaser.start()
    with registry_lock(paths, timeout=10):
        assert lock_holder(paths) == os.getpid()
    for child in (process, releaser):
        child.join(10)


def _release_later(release: multiprocessing.synchronize.Event) -> None:
    time.sleep(0.3)
    release.set()


def test_a_killed_holder_never_leaves_a_stale_lock(paths: RegistryPaths) -> None:
    process, _ = _holder(paths.root)
    os.kill(process.pid, signal.SIGKILL)
    process.join(10)
    started = time.monotonic()
    with registry_lock(paths, timeout=2):
        pass
    assert time.monotonic() - started < 1


# ----- waiting in line -----


def _take_in_turn(root: str, number: int, log: str, hold: float) -> None:
    with registry_lock(RegistryPaths(Path(root)), timeout=10):
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{number}\n")
        time.sleep(hold)


def test_waiters_get_the_lock_in_the_order_they_came(paths: RegistryPaths, tmp_path: Path) -> None:
    process, release = _holder(paths.root)
    log = tmp_path / "order.log"
    waiters = []
    for number in range(6):
        waiter = CONTEXT.Process(target=_take_in_turn, args=(str(paths.root), number, str(log), 0.02))
        waiter.start()
        _wait_for_tickets(paths, number + 1)  # the next one comes after this one is in line
        waiters.append(waiter)
    release.set()
    for child in (process, *waiters):
        child.join(30)
    assert [waiter.exitcode for waiter in waiters] == [0] * 6
    assert log.read_text(encoding="utf-8").split() == [str(number) for number in range(6)]
    assert not list((paths.cache / "queue").iterdir())  # every ticket removed


def _wait_for_tickets(paths: RegistryPaths, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        queue = paths.cache / "queue"
        if queue.is_dir() and len([p for p in queue.iterdir() if not p.name.startswith(".")]) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} waiters never got in line")


def test_a_line_that_moves_is_waited_out_beyond_the_timeout(paths: RegistryPaths, tmp_path: Path) -> None:
    log = tmp_path / "order.log"
    process, release = _holder(paths.root)
    ahead = [CONTEXT.Process(target=_take_in_turn, args=(str(paths.root), number, str(log), 0.3)) for number in range(4)]
    for number, waiter in enumerate(ahead):
        waiter.start()
        _wait_for_tickets(paths, number + 1)
    release.set()
    started = time.monotonic()
    with registry_lock(paths, timeout=0.6):  # the line ahead takes 1.2 s, moving every 0.3 s
        waited = time.monotonic() - started
    for child in (process, *ahead):
        child.join(10)
    assert waited > 0.6
    assert len(log.read_text(encoding="utf-8").split()) == 4


def test_a_dead_waiter_ahead_does_not_block_the_line(paths: RegistryPaths) -> None:
    process, release = _holder(paths.root)
    doomed = CONTEXT.Process(target=_take_in_turn, args=(str(paths.root), 0, os.devnull, 0))
    doomed.start()
    _wait_for_tickets(paths, 1)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(10)
    release.set()
    process.join(10)
    started = time.monotonic()
    with registry_lock(paths, timeout=2):
        pass
    assert time.monotonic() - started < 1.5
    assert not list((paths.cache / "queue").iterdir())
