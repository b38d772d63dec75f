"""The line in front of the registry lock: first come, first served, and a dead waiter never blocks it.

A process that finds the lock taken joins the line: it creates a ticket, a file in
`.modreg/queue/` named by its arrival time and pid, and holds an exclusive `flock` on it for as
long as it waits. It watches only the ticket just ahead of its own; when that one goes (its
owner got the lock, gave up, or died: the kernel drops a dead process's flock and the next in
line removes the file) it looks again, and the first in line alone polls the lock. So a release
hands the lock to the one who has waited longest, and wakes one process, not all of them.

The lock itself (`lock.py`) keeps the mutual exclusion; the line only decides the order, so a
clock that steps back or a ticket lost with its folder can make the order unfair, never unsafe.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path

__all__ = ["Ticket", "waiting"]

_PREFIX = ".joining-"


class Ticket:
    """This process's place in the line (leave it with `leave`, also on error)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        joining = folder / f"{_PREFIX}{os.getpid()}-{time.monotonic_ns()}"
        self.fd = os.open(joining, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)  # locked before it is visible: a visible ticket always has a live owner or none
        self.name = f"{time.time_ns():020d}-{os.getpid():010d}"
        os.replace(joining, folder / self.name)
        self._ahead: tuple[str, int] | None = None  # (name, fd) of the ticket watched

    def first(self) -> bool:
        """Whether no live ticket is ahead of this one (a dead one ahead is removed)."""
        while True:
            if self._ahead is None:
                names = self.waiting_ahead()
                if not names:
                    return True
                self._watch(names[-1])
                continue
            name, fd = self._ahead
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            (self.folder / name).unlink(missing_ok=True)  # its owner is gone: removed, or dead
            self._forget()

    def waiting_ahead(self) -> list[str]:
        """The tickets ahead of this one, oldest first."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        return sorted(name for name in names if not name.startswith(_PREFIX) and name < self.name)

    def leave(self) -> None:
        """Leave the line (the next one in it notices)."""
        self._forget()
        try:
            (self.folder / self.name).unlink(missing_ok=True)
        finally:
            os.close(self.fd)

    def _watch(self, name: str) -> None:
        try:
            fd = os.open(self.folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a pipe never blocks
        except OSError as error:
            if error.errno == errno.ELOOP:  # not a ticket: a link someone put there
                (self.folder / name).unlink(missing_ok=True)
            elif error.errno != errno.ENOENT:
                raise
            return
        self._ahead = (name, fd)

    def _forget(self) -> None:
        if self._ahead is not None:
            os.close(self._ahead[1])
            self._ahead = None


def waiting(folder: Path) -> bool:
    """Whether anyone is in the line."""
    try:
        return any(not name.startswith(_PREFIX) for name in os.listdir(folder))
    except FileNotFoundError:
        return False
