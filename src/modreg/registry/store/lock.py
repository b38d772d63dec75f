"""The registry lock: one mutating modreg at a time, released by the kernel if its holder dies.

`registry_lock()` takes an exclusive `fcntl.flock` on `.modreg/lock`. A lock held by a live
process makes the caller poll until `timeout` runs out, then raise `Conflict` naming the
holder's pid (written into the lock file). A holder that crashes or is killed loses the lock
with its file descriptor, so there is never a stale lock to clean up by hand.

The lock is re-entrant within one thread: a mutation that calls another mutation does not
deadlock on itself.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modreg._fs import refuse_links
from modreg.errors import Conflict
from modreg.registry.store.layout import RegistryPaths

DEFAULT_TIMEOUT = 10.0
_POLL_FIRST = 0.005
_POLL_MAX = 0.1

_held = threading.local()


def _held_depths() -> dict[Path, int]:
    if not hasattr(_held, "depths"):
        _held.depths = {}
    return _held.depths


@contextmanager
def registry_lock(paths: RegistryPaths, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the registry's exclusive lock for the duration of the `with` block.

    Raises:
        Conflict: another process held the lock for longer than `timeout` seconds.
    """
    lock_path = paths.lock_file
    depths = _held_depths()
    if depths.get(lock_path, 0):
        depths[lock_path] += 1
        try:
            yield
        finally:
            depths[lock_path] -= 1
        return
    fd = _acquire(lock_path, timeout)
    depths[lock_path] = 1
    try:
        yield
    finally:
        depths[lock_path] = 0
        _release(fd)


def lock_holder(paths: RegistryPaths) -> int | None:
    """The pid recorded by the current holder of the lock, if any."""
    return _read_pid(paths.lock_file)


def _read_pid(lock_path: Path) -> int | None:
    try:
        text = lock_path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _acquire(lock_path: Path, timeout: float) -> int:
    import fcntl

    refuse_links(lock_path.parent.parent, lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            refuse_links(lock_path.parent.parent, lock_path)
        raise
    deadline = time.monotonic() + max(timeout, 0.0)
    pause = _POLL_FIRST
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise _held_error(lock_path, timeout) from None
            time.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    except OSError as error:  # a full disk: the CLI names the lock file
        _release(fd)
        raise OSError(error.errno, error.strerror, str(lock_path)) from None
    return fd


def _release(fd: int) -> None:
    import fcntl

    try:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _held_error(lock_path: Path, timeout: float) -> Conflict:
    pid = _read_pid(lock_path)
    holder = f"process {pid}" if pid is not None else "another process"
    return Conflict(
        f"The registry is locked by {holder}; gave up after waiting {timeout:g} s.",
        hint="wait for that modreg command to finish, or pass a longer --lock-timeout.",
        path=lock_path,
    )
