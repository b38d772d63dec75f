"""Atomic file writes: a temp file in the same folder, fsync, then `os.replace`.

A reader never sees a half-written file, and a crash leaves either the old bytes or the new.
The file keeps the mode it had (a 644 descriptor stays 644); a new one gets the mode the umask
gives any new file (666 less the umask), not the 600 of a temp file. Orphaned temp files (a
writer killed mid-write) carry a recognisable prefix and are swept. A target outside a registry
that is a device or a pipe (`--output /dev/null`) is written into: replacing it would put a regular
file in its place. Inside a registry (`root` given) every target is replaced, so a pipe planted there
can never stall a write. `signals_deferred` holds Ctrl-C and SIGTERM back while a few steps that
belong together (an audit line and the file it records) are taken.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from modreg.errors import IntegrityError

TEMP_PREFIX = ".modreg-tmp-"


def write_atomic(path: Path, data: str | bytes, *, root: Path | None = None) -> None:
    """Write `data` to `path` atomically, creating parent folders as needed. Inside a registry
    (`root` given) no part of the path may be a symbolic link (`refuse_links`), and a file made
    read-only is not replaced (a rename would get past its mode; PermissionError, READ_ONLY).

    An OSError (a read-only folder, a full disk) names `path` and leaves it as it was.
    """
    if root is not None:
        refuse_links(root, path)
        _refuse_read_only(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if root is None and _is_special(path):  # /dev/null, /dev/stdout, a named pipe: written into, never replaced
        try:
            with open(path, "wb") as handle:
                handle.write(payload)
        except OSError as error:
            raise _naming(error, path) from None
        return
    replace_staged(stage_beside(path, payload), path)


def stage_beside(path: Path, payload: bytes) -> Path:
    """`payload` in a new temp file beside `path` (its folders made, synced, with the mode `path`
    has or a new file gets), to be moved over it by `replace_staged`; the temp file's path.
    An OSError names `path`, and no temp file is left."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = file_mode(path)
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    except OSError as error:
        raise _naming(error, path) from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as error:
        Path(tmp_name).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _naming(error, path) from None
        raise
    return Path(tmp_name)


def replace_staged(staged: Path, path: Path) -> None:
    """Move the temp file `staged` (from `stage_beside`) over `path`; on failure it is removed
    and the OSError names `path`."""
    try:
        os.replace(staged, path)
    except BaseException as error:
        staged.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _naming(error, path) from None
        raise


READ_ONLY = "Permission denied: the file is read-only"


def _refuse_read_only(path: Path) -> None:
    """PermissionError when `path` is a plain file that this user may not write (root may)."""
    if os.path.isfile(path) and not os.path.islink(path) and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, READ_ONLY, str(path))


def _is_special(path: Path) -> bool:
    """Whether `path` exists and is neither a regular file nor a folder (a device, a pipe, a socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _naming(error: OSError, path: Path) -> OSError:
    """The same failure (same errno, same OSError subclass) with `path` as its file name."""
    return OSError(error.errno, error.strerror or str(error), str(path)) if error.errno else error


def refuse_links(root: Path, path: Path) -> None:
    """IntegrityError when `path`, or any folder between `root` and it, is a symbolic link.

    A registry arrives by `git clone`, and a committed symlink (`index/ -> /etc`, `audit.jsonl ->
    ~/.bashrc`) would make modreg write where the registry's author chose. Nothing modreg writes
    or opens for writing inside a registry may be a link.
    """
    root = Path(os.path.abspath(root))
    target = Path(os.path.abspath(path))
    try:
        parts = target.relative_to(root).parts
    except ValueError:
        return  # not inside the registry (an output the user named): theirs to choose
    current = root
    for part in parts:
        current = current / part
        if os.path.islink(current):
            raise IntegrityError(f"{current} is a symbolic link; modreg does not follow links inside a registry.",
                                 hint="replace the link with a real file or folder (a cloned registry must not point outside itself).",
                                 path=current)


def read_inside(root: Path, path: Path, limit: int) -> bytes | None:
    """The bytes of the plain file `path` inside the registry at `root` (None when it does not
    exist). IntegrityError when it or a folder on its way is a link, it is not a plain file, or
    it holds more than `limit` bytes: a cloned `.gitattributes` linked to a private key or to
    /dev/zero must neither be copied into the registry nor read without end."""
    refuse_links(root, path)
    try:
        handle = open_plain(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _naming(error, path) from None
    with handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise IntegrityError(f"{path} is larger than {limit:,} bytes, more than such a file ever needs.",
                             hint="check what it holds; modreg reads it only up to that size.", path=path)
    return data


def open_plain(path: Path) -> BinaryIO:
    """`path` opened for reading, never through a final link (O_NOFOLLOW: OSError ELOOP) and never
    waiting (O_NONBLOCK: a pipe opens at once). IntegrityError when it is not a plain file (a
    pipe, a device, a socket), before anything is read from it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    handle = os.fdopen(fd, "rb")
    try:
        require_plain(fd, path)
    except IntegrityError:
        handle.close()
        raise
    return handle


def require_plain(fd: int, path: Path) -> None:
    """IntegrityError when the open `fd` (of `path`) is not a plain file: a pipe, a device or a
    socket planted where modreg keeps a file (a lock, a log) is named, never written or read."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise IntegrityError(f"{path} is not a plain file.", hint="replace it with a plain file (or remove it).", path=path)


def file_mode(path: Path) -> int:
    """The permission bits `path` has, or those a new file gets under the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def sweep_temp_files(folder: Path) -> list[Path]:
    """Remove temp files left by killed writers in `folder` (not recursive); return them."""
    try:
        with os.scandir(folder) as items:
            swept = [folder / item.name for item in items if item.name.startswith(TEMP_PREFIX)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    for path in swept:
        path.unlink(missing_ok=True)
    return swept


_DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Run the block to its end even when Ctrl-C or SIGTERM arrives meanwhile; the signal then
    takes effect as soon as the block is left (a KeyboardInterrupt, or the termination). Only the
    main thread can change handlers; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def note(number: int, frame: FrameType | None) -> None:
        received.append(number)

    previous = {number: signal.getsignal(number) for number in _DEFERRED}
    previous = {number: handler for number, handler in previous.items() if handler is not None}  # None: set outside Python
    for number in previous:
        signal.signal(number, note)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(received):
            handler = previous[number]
            if callable(handler):
                handler(number, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), number)  # the default action: SIGINT's and SIGTERM's end the process
