"""`run --load FILE`: a file the entry records under [[artifacts]] must still be what it recorded.

An artifact is `{path, sha256}` (written by `modreg version --artifact`). Loading a recorded
artifact whose bytes changed would forecast with weights nobody reviewed, so it is refused with
exit 5 before anything is read from it; a file the entry does not record loads as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from modreg.errors import IntegrityError

__all__ = ["check_recorded_artifact"]


def check_recorded_artifact(data: Mapping[str, Any], root: Path, file: Path) -> None:
    """IntegrityError when `file` is one of the entry's recorded artifacts and its sha256 differs."""
    from modreg.registry.checks.artifacts import file_sha256

    target = file.resolve()
    for record in _records(data):
        if (root / record["path"]).resolve() != target or not target.is_file():
            continue
        actual = file_sha256(target)
        if actual != record["sha256"]:
            raise IntegrityError(
                f"{file} is a recorded artifact of `{data.get('name')}` but does not match its sha256 "
                f"(recorded {record['sha256'][:12]}…, the file has {actual[:12]}…); nothing was loaded.",
                hint="restore the file, or record the new one with `modreg version NAME --artifact PATH`.", path=file)
        return


def _records(data: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    items = [data.get("artifacts")]
    items += [h.get("artifacts") for h in data.get("history", []) if isinstance(h, dict)] if isinstance(data.get("history"), list) else []
    for records in items:
        for record in records if isinstance(records, list) else []:
            if isinstance(record, dict) and isinstance(record.get("path"), str) and isinstance(record.get("sha256"), str):
                yield record
