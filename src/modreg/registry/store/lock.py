"""The registry lock: one mutating modreg at a time, in order of arrival, released by the kernel if its holder dies.

`registry_lock()` takes an exclusive `fcntl.flock` on `.modreg/lock` (the holder's pid and
host name are written into it). A process that finds it taken waits in line (`_lockqueue`): first come,
first served, and only the first in line polls the lock, so two hundred writers started at
once are served one after the other without starving anyone.

`timeout` is how long a waiter stays while the line does not move: each time the holder
changes or someone ahead leaves, its clock starts again. A queue that moves is thus waited
out however long it is, while a holder stuck for `timeout` seconds makes the waiter give up
with a `Conflict` naming its pid. A holder that crashes or is killed loses the lock with its
file descriptor, so there is never a stale lock to clean up by hand. A flock belongs to the open
file, which a forked child (a process pool's worker) shares: every forked child closes its copy
at once, so workers orphaned by a `kill -9` of their parent never keep the registry locked.
Should something else keep it open, the message says that the recorded holder has ended (or
runs on another host) instead of blaming it. Taking the lock sweeps the temp files that a
killed holder's atomic writes left in the folders modreg writes under the lock.

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
from typing import Any

from modreg._fs import open_plain, refuse_links, require_plain
from modreg.errors import Conflict, IntegrityError
from modreg.registry.store.layout import RegistryPaths

DEFAULT_TIMEOUT = 60.0
_POLL_FIRST = 0.002  # the first in line polls the lock this often at first ...
_POLL_MAX = 0.02  # ... and at most this far apart
_POLL_BEHIND = 0.05  # the others look at the ticket ahead of theirs this often
_LOOK_AROUND = 1.0  # how often a waiter counts the line to see it moving

_held = threading.local()
_owned: dict[int, int] = {}  # lock fd -> pid of the process that took the lock with it


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
        _sweep(paths)
        yield
    finally:
        depths[lock_path] = 0
        _release(fd)


def lock_holder(paths: RegistryPaths) -> int | None:
    """The pid recorded by the current holder of the lock, if any."""
    return _read_pid(paths.lock_file)


def _read_pid(lock_path: Path) -> int | None:
    holder = _read_holder(lock_path)
    return holder[0] if holder is not None else None


def _read_holder(lock_path: Path) -> tuple[int, str | None] | None:
    """(pid, host) recorded in the lock; the host is None in a lock written before hosts were."""
    try:  # a plain file only, and a few bytes: a lock swapped for a pipe or a device is not waited on
        with open_plain(lock_path) as handle:
            words = handle.read(160).decode("ascii").split()
    except (OSError, UnicodeDecodeError, IntegrityError):
        return None
    if not words or not words[0].isdigit() or len(words) > 2:
        return None
    return int(words[0]), words[1] if len(words) == 2 else None


def _host() -> str:
    """This machine's name as the lock records it (one word of printable ASCII)."""
    name = "".join(char for char in os.uname().nodename if char.isascii() and char.isprintable() and not char.isspace())
    return name[:128] or "unknown"


def _drop_in_child() -> None:
    """In a forked child: close the lock descriptors inherited from the parent, which keeps the lock."""
    for fd in list(_owned):
        try:
            os.close(fd)
        except OSError:
            pass
    _owned.clear()
    _held.depths = {}


os.register_at_fork(after_in_child=_drop_in_child)


def _sweep(paths: RegistryPaths) -> None:
    """Remove the temp files a killed holder left where modreg writes under the lock (models/,
    index/, reports/, each plugin's folder); folders that are links are left alone, and a folder
    that cannot be listed or changed is left to the command, which names it if it must write there."""
    from modreg._fs import sweep_temp_files

    try:
        folders = [paths.models, paths.index, paths.reports]
        if paths.plugins.is_dir() and not paths.plugins.is_symlink():
            folders += sorted(item for item in paths.plugins.iterdir() if item.is_dir() and not item.is_symlink())
        for folder in folders:
            if not folder.is_symlink():
                sweep_temp_files(folder)
    except OSError:
        pass


def _acquire(lock_path: Path, timeout: float) -> int:
    import fcntl

    from modreg.registry.store._lockqueue import Ticket, waiting

    refuse_links(lock_path.parent.parent, lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            refuse_links(lock_path.parent.parent, lock_path)
        raise
    try:
        require_plain(fd, lock_path)  # a pipe or a device planted as the lock cannot hold a pid
    except IntegrityError:
        os.close(fd)
        raise
    queue = lock_path.with_name("queue")
    refuse_links(lock_path.parent.parent, queue)
    if waiting(queue) or not _try_lock(fd, fcntl):
        try:
            _wait_in_line(fd, Ticket(queue), lock_path, timeout, fcntl)
        except BaseException:
            os.close(fd)
            raise
    _owned[fd] = os.getpid()
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {_host()}\n".encode("ascii"))
    except OSError as error:  # a full disk: the CLI names the lock file
        _release(fd)
        raise OSError(error.errno, error.strerror, str(lock_path)) from None
    return fd


def _wait_in_line(fd: int, ticket: Any, lock_path: Path, timeout: float, fcntl: Any) -> None:
    """Wait for this `ticket`'s turn, then for the lock; Conflict when the line stands still for `timeout`."""
    try:
        state = (len(ticket.waiting_ahead()), _read_pid(lock_path))
        deadline = time.monotonic() + max(timeout, 0.0)
        look = time.monotonic() + _LOOK_AROUND
        pause = _POLL_FIRST
        while True:
            if ticket.first():
                if _try_lock(fd, fcntl):
                    return
                pause = min(pause * 2, _POLL_MAX)
            else:
                pause = _POLL_BEHIND
            now = time.monotonic()
            if now >= look or now >= deadline:
                look = now + _LOOK_AROUND
                seen = (len(ticket.waiting_ahead()), _read_pid(lock_path))
                if seen != state:  # the line moved: wait on
                    state, deadline = seen, now + max(timeout, 0.0)
                elif now >= deadline:
                    raise _held_error(lock_path, timeout, state[0])
            time.sleep(pause)
    finally:
        ticket.leave()


def _try_lock(fd: int, fcntl: Any) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _release(fd: int) -> None:
    import fcntl

    if _owned.pop(fd, None) != os.getpid():  # a forked child: its copy is closed already, the lock is not its own
        return
    try:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _held_error(lock_path: Path, timeout: float, ahead: int) -> Conflict:
    recorded = _read_holder(lock_path)
    pid, host = recorded if recorded is not None else (None, None)
    line = f", with {ahead} more waiting ahead" if ahead else ""
    waited = f"gave up after {timeout:g} s in which the lock did not change hands"
    if pid is not None and host not in (None, _host()):
        return Conflict(f"The registry is locked by process {pid} on host {host}{line}; {waited}.",
                        hint=f"a modreg on {host} shares this folder: wait for it to finish, or pass a longer --lock-timeout.",
                        path=lock_path)
    if pid is not None and not _running(pid):
        return Conflict(f"The registry is locked, yet process {pid} that took the lock is not running on this machine: "
                        f"a process it started (or one in another container) still has {lock_path} open{line}; {waited}.",
                        hint=f"find that process with `fuser -v {lock_path}` (or `lsof {lock_path}`) and end it; the lock is then free.",
                        path=lock_path)
    holder = f"process {pid}" if pid is not None else "another process"
    return Conflict(
        f"The registry is locked by {holder}{line}; {waited}.",
        hint="wait for that modreg command to finish, or pass a longer --lock-timeout.",
        path=lock_path,
    )


def _running(pid: int) -> bool:
    """Whether a process `pid` runs on this machine (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
