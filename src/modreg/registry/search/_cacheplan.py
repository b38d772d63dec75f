"""Planning a cache refresh: what changed in models/ since the cache last looked.

`scan` lists the descriptor files with their size and a stamp (mtime_ns, ctime_ns and inode:
a same-size edit whose mtime was put back, as `git checkout`, `cp -p` or `rsync -t` can do,
still changes the ctime, which no user can set); `Plan` compares that listing
with the stored rows (hashing only files whose stat changed, or whose row is racy) and sorts
every file into unchanged, touched (same bytes), renamed (same bytes, new name), to parse, or
vanished. See `registry.cache` for the rules.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modreg.registry.search._cacheparse import sha256_of
from modreg.registry.store.layout import DESCRIPTOR_SUFFIXES

__all__ = ["RACY_NS", "Plan", "is_racy", "listing_digest", "scan"]

# A row stored less than this after its file's mtime is "racy": a same-size edit within the
# file system's timestamp granularity (up to 2 s on FAT, a few ms elsewhere) could keep the
# mtime, so such rows are re-hashed until they are older than this.
RACY_NS = 2_000_000_000


@dataclass
class Plan:
    """What a refresh must do, from the listing of models/ and the stored rows."""

    folder: Path
    listing: dict[str, tuple[int, str]]  # file -> (size, stamp)
    rows: Mapping[str, tuple[int, str, int, str]]  # file -> (size, stamp, racy, sha256)
    verify: bool = False  # hash every file, whatever its stat says (`--check`)
    touched: list[str] = field(default_factory=list)  # same content (or renamed): update the stat
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new), same content
    to_parse: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        gone = {self.rows[name][3]: name for name in sorted(self.rows.keys() - self.listing.keys())}
        for name, stat in sorted(self.listing.items()):
            row = self.rows.get(name)
            if row is not None and (row[0], row[1]) == stat and not row[2] and not self.verify:
                continue
            if row is None and not gone:
                self.to_parse.append(name)
                continue
            digest = sha256_of(self.folder / name)
            if row is not None and digest == row[3]:
                self.touched.append(name)
            elif row is None and digest in gone:
                self.renamed.append((gone.pop(digest), name))
                self.touched.append(name)
            else:
                self.to_parse.append(name)
        self.vanished = sorted(gone.values())


def scan(folder: Path) -> dict[str, tuple[int, str]]:
    """`{file name: (size, stamp)}` of the descriptor files directly in `folder`."""
    listing: dict[str, tuple[int, str]] = {}
    try:
        items = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return listing
    for item in items:
        if not item.name.endswith(DESCRIPTOR_SUFFIXES):
            continue
        try:
            if not item.is_dir(follow_symlinks=False):  # a link or a pipe is refused by name when parsed
                stat = item.stat(follow_symlinks=False)
                listing[item.name] = (stat.st_size, f"{stat.st_mtime_ns}.{stat.st_ctime_ns}.{stat.st_ino}")
        except FileNotFoundError:
            continue
    return listing


def listing_digest(listing: dict[str, tuple[int, str]]) -> str:
    """A hash of every (file, size, stamp): equal listings, equal digests."""
    text = "\n".join(f"{name}\0{size}\0{mtime}" for name, (size, mtime) in sorted(listing.items()))
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def is_racy(now: int, stamp: str) -> int:
    """1 when the file's newest time (mtime or ctime) is within RACY_NS of `now`."""
    mtime, ctime = (int(part) for part in stamp.split(".")[:2])
    return int(now - max(mtime, ctime) < RACY_NS)
