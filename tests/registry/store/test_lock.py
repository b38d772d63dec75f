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
