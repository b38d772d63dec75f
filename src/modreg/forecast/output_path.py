"""Checking an output path a command was given before the work that ends in writing it.

`run --output/--save` and `bench --output` fit for minutes before they write; a path that can
never be written (a folder, or a file where a folder of the path should be) is refused first.
"""

from __future__ import annotations

from pathlib import Path

from modreg.errors import UsageError

__all__ = ["check_output_file"]


def check_output_file(path: str | Path, option: str, example: str) -> None:
    """Raise UsageError when `path` names a folder or lies under a file; `example` names a file for the hint."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option} names a folder, not a file.", path=path,
                         hint=f"name a file inside it, e.g. {path / example}.")
    for parent in path.parents:
        if parent.is_dir():
            return
        if parent.exists() or parent.is_symlink():
            raise UsageError(f"{option} {path}: {parent} is a file, not a folder.", path=path,
                             hint=f"choose a path beside it, e.g. {parent.parent / path.name}.")
