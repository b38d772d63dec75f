"""Child Python processes that cannot import code from the working folder or the user's site.

A registry is untrusted input: a `json.py` or `socket.py` committed at its root would be imported
by any Python started there with the working folder on `sys.path`. Every child modreg starts
(plugin health checks and schemas, bench workers) runs isolated: `-I` where modreg builds the
command line, an empty working folder, no user site, and a `sys.path` without the working
folder, the registry or relative entries.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["isolated_start", "python_module_command", "safe_sys_path"]

_START_LOCK = threading.Lock()


def safe_sys_path(exclude: Iterable[str | Path] = ()) -> list[str]:
    """`sys.path` without empty or relative entries, the working folder and the `exclude` folders
    themselves (their subfolders, e.g. a virtual environment's site-packages, stay)."""
    banned = [Path(os.path.abspath(p)) for p in (os.getcwd(), *exclude)]
    kept = []
    for entry in sys.path:
        if not entry or not os.path.isabs(entry):
            continue
        path = Path(os.path.abspath(entry))
        if any(path == folder for folder in banned):
            continue
        kept.append(entry)
    return kept


def python_module_command(module: str) -> list[str]:
    """`python -I -m module`: no working folder, no PYTHON* variables, no user site on its path."""
    return [sys.executable, "-I", "-m", module]


@contextlib.contextmanager
def isolated_start(exclude: Iterable[str | Path] = ()) -> Iterator[Path]:
    """Inside the block, processes started (e.g. by multiprocessing's spawn) begin in an empty
    folder, with a safe `sys.path` and without the user site. The process's own working folder,
    `sys.path` and environment are restored afterwards."""
    with _START_LOCK:
        empty = _empty_folder()
        cwd, path = os.getcwd(), list(sys.path)
        user_site = os.environ.get("PYTHONNOUSERSITE")
        safe = safe_sys_path(exclude)
        try:
            os.chdir(empty)
            sys.path[:] = safe
            os.environ["PYTHONNOUSERSITE"] = "1"
            yield empty
        finally:
            os.chdir(cwd)
            sys.path[:] = path
            if user_site is None:
                os.environ.pop("PYTHONNOUSERSITE", None)
            else:
                os.environ["PYTHONNOUSERSITE"] = user_site


_EMPTY: list[Path] = []


def _empty_folder() -> Path:
    """An empty folder for this process's children to start in (removed at exit): spawned
    children change into it after they start, so it lives as long as this process."""
    if not _EMPTY:
        folder = Path(tempfile.mkdtemp(prefix="modreg-child-"))
        atexit.register(shutil.rmtree, folder, True)
        _EMPTY.append(folder)
    return _EMPTY[0]
