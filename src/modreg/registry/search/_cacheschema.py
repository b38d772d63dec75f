"""The cache database's tables, and the fingerprint of the code whose output it stores."""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import sys
from pathlib import Path

from modreg.registry.search._ranking import SEARCH_COLUMNS

__all__ = ["FORMAT", "code_fingerprint", "has_fts5", "has_meta", "make_cache_folder", "schema_statements"]

FORMAT = "4"

# The code that decides what the cache holds (parsed data and errors, facets, ranking text,
# rendered fragments): when any of it changes, the cache starts afresh.
_FINGERPRINTED = (
    "registry/search/cache.py",
    "registry/search/_cacheparse.py",
    "registry/search/_cacheplan.py",
    "registry/search/_ranking.py",
    "registry/store/canonical.py",
    "registry/store/fields.py",
    "registry/store/files.py",
    "registry/store/facets.py",
    "registry/store/_yamlread.py",
    "registry/store/versions.py",
    "outputs/*.py",
)


@functools.cache
def code_fingerprint() -> str:
    """A hash of the code that fills the cache, and of the Python version."""
    package = Path(__file__).resolve().parents[2]  # src/modreg
    digest = hashlib.blake2b(f"{FORMAT} {sys.version}".encode("utf-8"), digest_size=16)
    for pattern in _FINGERPRINTED:
        for path in sorted(package.glob(pattern)) or [package / pattern]:
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(f"missing {pattern}".encode("utf-8"))
    return digest.hexdigest()


def has_meta(conn: sqlite3.Connection, meta: dict[str, str]) -> bool:
    """Whether the database was made with this `meta` (format, backend, code)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone():
        return False
    stored = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    return all(stored.get(key) == value for key, value in meta.items())


def has_fts5(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        conn.execute("DROP TABLE temp.fts5_probe")
        return True
    except sqlite3.OperationalError:
        return False


def schema_statements(backend: str) -> list[str]:
    if backend == "fts5":
        search = f"CREATE VIRTUAL TABLE search USING fts5({', '.join(SEARCH_COLUMNS)})"
    else:
        search = f"CREATE TABLE search (rowid INTEGER PRIMARY KEY, {', '.join(c + ' TEXT' for c in SEARCH_COLUMNS)})"
    return [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            file TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime_ns TEXT NOT NULL,  -- the stamp: mtime_ns.ctime_ns.inode
            racy INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            name TEXT, version TEXT, category TEXT, status TEXT, summary TEXT,
            tags TEXT, capabilities TEXT, authors TEXT,
            facts TEXT,
            data TEXT,
            error TEXT,
            links TEXT,  -- store.facets.links_of(data), compact JSON
            refs TEXT  -- names it depends on or names as replacement, each between char(31)s
        )""",
        "CREATE TABLE fragments (key TEXT PRIMARY KEY, text TEXT NOT NULL)",
        search,
        # Small indexes, so that what reads a few columns of every row, or a few rows, never
        # pages through the stored data: the stat of every file (refresh, content digest), an
        # entry by name or by file name in any case, the entries that refer to other names, and the
        # files that cannot be read.
        "CREATE INDEX files_stat ON files (file, size, mtime_ns, racy, sha256)",
        "CREATE INDEX files_name ON files (name)",
        "CREATE INDEX files_lower_file ON files (lower(file))",
        "CREATE INDEX files_refs ON files (refs, file, links) WHERE refs != ''",
        "CREATE INDEX files_errors ON files (file, error) WHERE error IS NOT NULL",
    ]


def make_cache_folder(folder: Path) -> None:
    """Create `.modreg/` with a `.gitignore` of its own, so no registry ever commits it."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# modreg's local cache: never commit it\n*\n", encoding="utf-8")
