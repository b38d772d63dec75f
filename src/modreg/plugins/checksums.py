"""A sha256 for every file of a plugin: listing and verifying (`plugin_lock.py` writes them).

A plugin's files are every regular file under its folder except `plugin.toml` and
`plugin.toml.sig`. A symlink (to a file or a folder, inside or outside the plugin), a special
file, a `__pycache__` folder or compiled bytecode (`.pyc`) is refused outright: modreg runs
only the source bytes it hashed, so anything that could stand in for them is a mismatch.
Files are opened with `O_NOFOLLOW | O_NONBLOCK` (a pipe is refused, never waited on), read once
and only up to a size limit; the bytes that were hashed are the bytes returned to the loader.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from modreg.plugins.base import MANIFEST_NAME, SIGNATURE_NAME, PluginIntegrityError

if TYPE_CHECKING:
    from modreg.plugins.manifest import Manifest

__all__ = ["FILE_LIMIT", "MANIFEST_LIMIT", "plugin_files", "read_regular", "sha256_hex", "verify_files"]

FILE_LIMIT = 64 * 1024 * 1024  # no plugin source or data file is anywhere near this
MANIFEST_LIMIT = 1024 * 1024  # plugin.toml and plugin.toml.sig: the limit of every descriptor
_NOT_FILES = frozenset({MANIFEST_NAME, SIGNATURE_NAME})
_BYTECODE = (".pyc", ".pyo")
_LOCK_HINT = "run `modreg plugin lock {name}` after reviewing the change, or restore the file."


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_regular(path: Path, plugin: str, relative: str, limit: int = FILE_LIMIT) -> bytes:
    """The bytes of a regular file, never through a symlink (O_NOFOLLOW), read once.

    A pipe or device is refused before any read (O_NONBLOCK: opening a pipe never waits for a
    writer), and a file of more than `limit` bytes is refused after reading at most one byte more.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _symlink(plugin, relative, path) from None
        if error.errno == errno.ENOENT:
            raise PluginIntegrityError(plugin, f"{relative} is missing.", path=path,
                                       hint=_LOCK_HINT.format(name=plugin)) from None
        raise PluginIntegrityError(plugin, f"{relative} cannot be read ({error.strerror}).", path=path) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise PluginIntegrityError(plugin, f"{relative} is not a regular file.", path=path)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise PluginIntegrityError(plugin, f"{relative} is larger than {limit:,} bytes, more than a plugin file ever needs.",
                                   path=path, hint="check what the file holds; modreg reads plugin files only up to that size.")
    return data


def plugin_files(folder: Path, plugin: str) -> list[str]:
    """Every file of the plugin as a relative POSIX path, sorted.

    Raises:
        PluginIntegrityError: a symlink, a special file, `__pycache__` or bytecode in the folder.
    """
    if folder.is_symlink():
        raise _symlink(plugin, folder.name, folder)
    found: list[str] = []
    _walk(folder, "", plugin, found)
    return sorted(found)


def _walk(folder: Path, prefix: str, plugin: str, found: list[str]) -> None:
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            relative = prefix + entry.name
            if not prefix and entry.name in _NOT_FILES:
                continue
            if entry.is_symlink():
                raise _symlink(plugin, relative, Path(entry.path))
            if entry.is_dir(follow_symlinks=False):
                if entry.name == "__pycache__":
                    raise _bytecode(plugin, relative + "/", Path(entry.path))
                _walk(Path(entry.path), relative + "/", plugin, found)
            elif not entry.is_file(follow_symlinks=False):
                raise PluginIntegrityError(plugin, f"{relative} is not a regular file.", path=entry.path)
            elif entry.name.endswith(_BYTECODE):
                raise _bytecode(plugin, relative, Path(entry.path))
            else:
                found.append(relative)


def _symlink(plugin: str, relative: str, path: Path) -> PluginIntegrityError:
    target = os.readlink(path) if path.is_symlink() else "?"
    return PluginIntegrityError(plugin, f"{relative} is a symlink (to {target}); plugins may not contain symlinks.",
                                path=path, hint="copy the file into the plugin folder instead, then run `modreg plugin lock`.")


def _bytecode(plugin: str, relative: str, path: Path) -> PluginIntegrityError:
    return PluginIntegrityError(plugin, f"{relative} is compiled bytecode, which modreg never runs.", path=path,
                                hint="delete it: modreg compiles the checked sources itself.")


def verify_files(manifest: Manifest, *, strict: bool) -> dict[str, bytes]:
    """Check the plugin's files against its manifest; return the Python sources, read once.

    With `strict` (security checksum or signature) every file must be listed in `[files]`
    with its sha256 and every listed file must exist; without, only the layout is checked.
    """
    plugin, folder = manifest.name, manifest.folder
    on_disk = plugin_files(folder, plugin)
    if strict:
        _check_listing(manifest, on_disk)
    sources: dict[str, bytes] = {}
    for relative in on_disk:
        if not strict and not relative.endswith(".py"):
            continue
        data = read_regular(folder / relative, plugin, relative)
        if strict and sha256_hex(data) != (manifest.files or {})[relative]:
            raise PluginIntegrityError(plugin, f"{relative} does not match its sha256 in {MANIFEST_NAME}.",
                                       path=folder / relative, hint=_LOCK_HINT.format(name=plugin))
        if relative.endswith(".py"):
            sources[relative] = data
    return sources


def _check_listing(manifest: Manifest, on_disk: list[str]) -> None:
    plugin, folder = manifest.name, manifest.folder
    if manifest.files is None:
        raise PluginIntegrityError(plugin, f"{MANIFEST_NAME} has no [files] table, so nothing can be verified.",
                                   path=manifest.path, hint=f"run `modreg plugin lock {plugin}`.")
    unlisted = sorted(set(on_disk) - set(manifest.files))
    if unlisted:
        more = f" (and {len(unlisted) - 1} more)" if len(unlisted) > 1 else ""
        raise PluginIntegrityError(plugin, f"{unlisted[0]} is not listed in {MANIFEST_NAME}{more}.",
                                   path=folder / unlisted[0], hint=_LOCK_HINT.format(name=plugin).replace("restore", "remove"))
    missing = sorted(set(manifest.files) - set(on_disk))
    if missing:
        raise PluginIntegrityError(plugin, f"{missing[0]} is listed in {MANIFEST_NAME} but missing.",
                                   path=manifest.path, line=manifest.line_of("files", missing[0]),
                                   hint=_LOCK_HINT.format(name=plugin))
