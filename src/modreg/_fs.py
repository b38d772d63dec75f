"""Atomic file writes: a temp file in the same folder, fsync, then `os.replace`.

A reader never sees a half-written file, and a crash leaves either the old bytes or the new.
Orphaned temp files (a writer killed mid-write) carry a recognisable prefix and are swept.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_PREFIX = ".modreg-tmp-"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` atomically, creating parent folders as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def sweep_temp_files(folder: Path) -> list[Path]:
    """Remove temp files left by killed writers in `folder` (not recursive); return them."""
    if not folder.is_dir():
        return []
    swept = [p for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]
    for path in swept:
        path.unlink(missing_ok=True)
    return swept
