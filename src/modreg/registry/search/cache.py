"""The local cache under `.modreg/` (git-ignored): parsed descriptors and a full-text index.

One SQLite database (standard library) holds, per file of `models/`, its size, mtime_ns and
sha256, its parsed data as compact JSON, its facets (name, category, tags, ...) as columns
for filtering, and the text that search ranks: an FTS5 table, or a plain table ranked in
Python when the sqlite3 build lacks FTS5 (`_ranking`). It also keeps the rendered JSON
fragments that `modreg index` reuses.

`refresh()` makes it agree with the files, touching only what changed:

- when the listing of models/ (names, sizes, mtimes) hashes to what was stored last time and
  no row was racy then, nothing has changed and nothing more is read;
- a file whose size and mtime_ns match its row is trusted, unless the row is *racy* (stored
  within `RACY_NS` of the file's mtime, when a same-size edit in the same clock tick would
  keep the mtime: git's "racily clean" problem); a racy row is re-hashed;
- a file whose stat changed is hashed; the same hash only updates the stat;
- a new file whose hash is that of a vanished one is a rename: its row moves, unparsed;
- anything else is parsed (in worker processes when there are many); rows of vanished files
  are deleted.

The files always win. A cache that is missing, corrupt (any SQLite error, undecodable JSON)
or made by other code (`code_fingerprint`: the cache's format, the parser, the output
builders, the Python version) is deleted and rebuilt without a word; one that cannot be
written (read-only folder, locked too long) is replaced by an in-memory one for this process.
Readers run concurrently (WAL journal); writers take SQLite's write lock in turn.

`modreg index` and `report` also keep here a digest of each file they generated, with a digest
of the descriptors (`content_digest`) it was made from, so a run where nothing changed hashes
the files on disk instead of building them again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from modreg.errors import Problem
from modreg.registry.search._cacheparse import SEP, FragmentRenderer, Parsed, parse_files, problem_of
from modreg.registry.search._cacheplan import RACY_NS, Plan, is_racy, listing_digest, scan
from modreg.registry.search._ranking import SEARCH_COLUMNS, WEIGHTS, bm25_scores, fts_match, query_terms, tokens
from modreg.registry.store.layout import RegistryPaths

__all__ = [
    "DB_NAME",
    "RACY_NS",
    "CachedEntry",
    "Filters",
    "FragmentMemo",
    "Refresh",
    "RegistryCache",
    "Selection",
    "code_fingerprint",
]

T = TypeVar("T")
DB_NAME = "cache.sqlite"
_FORMAT = "1"
_CORRUPT = (sqlite3.DatabaseError, ValueError)
_ENTRY_COLUMNS = (
    "files.file, files.sha256, files.name, files.version, files.category, files.status, files.summary,"
    " files.tags, files.capabilities, files.authors, files.facts"
)


# ----- what the cache hands out -----


class CachedEntry:
    """One readable descriptor: its facets and facts, and its data decoded on demand
    (an `outputs.entry.Entry`)."""

    __slots__ = (
        "file", "sha256", "name", "version", "category", "status", "summary", "tags", "capabilities", "authors",
        "_facts", "_compact", "_data", "_cache",
    )

    def __init__(self, row: tuple[Any, ...], cache: RegistryCache, compact: str | None = None) -> None:
        name, self.sha256, self.name, self.version, self.category, self.status, self.summary = row[:7]
        self.file = f"models/{name}"
        self.tags, self.capabilities, self.authors = (tuple(value.split(SEP)) if value else () for value in row[7:10])
        self._facts: str | dict[str, Any] = row[10]
        self._compact = compact
        self._data: dict[str, Any] | None = None
        self._cache = cache

    @property
    def facts(self) -> dict[str, Any]:
        """`outputs.entry.facts_of(data)`, decoded on first use."""
        if isinstance(self._facts, str):
            self._facts = json.loads(self._facts)
        return self._facts

    @property
    def compact(self) -> str:
        """The data as compact JSON (`outputs.canonical.dumps_compact`)."""
        if self._compact is None:
            self._compact = self._cache.compact_data(self.file.removeprefix("models/"))
        return self._compact

    @property
    def data(self) -> dict[str, Any]:
        """The parsed descriptor (dates as ISO text)."""
        return self._data if self._data is not None else self.decode()

    def decode(self) -> dict[str, Any]:
        """Decode the data JSON now (ValueError when it is not JSON)."""
        self._data = json.loads(self.compact)
        return self._data

    def __repr__(self) -> str:
        return f"CachedEntry({self.file!r})"


@dataclass(frozen=True)
class Refresh:
    """What one refresh found."""

    parsed: list[str]  # files (in models/) parsed by this refresh
    problems: list[Problem]  # files that cannot be read
    backend: str  # "fts5" | "python": how text is ranked
    persistent: bool  # False: the cache could not be kept on disk this time


@dataclass(frozen=True)
class Filters:
    """Facet filters, applied in SQL (case-insensitive). Every tag, capability and author
    given must hold (an author as a substring); categories and statuses are alternatives."""

    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    def sql(self) -> tuple[str, list[str]]:
        """A WHERE clause over `files` and its parameters."""
        clauses, params = ["files.error IS NULL"], []
        for column, values in (("category", self.categories), ("status", self.statuses)):
            if values:
                clauses.append(f"lower(files.{column}) IN ({', '.join('?' * len(values))})")
                params += [value.lower() for value in values]
        for column, values in (("tags", self.tags), ("capabilities", self.capabilities)):
            for value in values:
                clauses.append(f"instr(lower(char(31) || files.{column} || char(31)), ?) > 0")
                params.append(f"{SEP}{value.lower()}{SEP}")
        for value in self.authors:
            clauses.append("instr(lower(files.authors), ?) > 0")
            params.append(value.lower())
        return " AND ".join(clauses), params


@dataclass
class Selection:
    """Entries a query selected; `scores` (by file) when it had text; `total` before a limit."""

    entries: list[CachedEntry]
    scores: dict[str, float] | None = None
    total: int = 0


# ----- the cache -----


class RegistryCache:
    """The cache of one registry; use it as a context manager.

    `fts` forces the ranking backend (None: FTS5 when this sqlite3 has it, False: Python);
    `persistent=False` keeps everything in memory.
    """

    def __init__(self, paths: RegistryPaths, *, fts: bool | None = None, persistent: bool = True,
                 fragments: FragmentRenderer | None = None) -> None:
        self.paths = paths
        self.fragment_renderer = fragments
        self.db_path = paths.cache / DB_NAME
        self.fts = fts
        self.persistent = persistent
        self.backend = "python"
        self.conn = self._open()

    def __enter__(self) -> RegistryCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # ----- opening -----

    def _open(self) -> sqlite3.Connection:
        if self.persistent:
            for _attempt in range(2):
                try:
                    return self._open_file()
                except (sqlite3.OperationalError, OSError):  # unwritable or locked: keep it, use memory
                    break
                except _CORRUPT:
                    self._delete_files()
            self.persistent = False
        return self._prepare(sqlite3.connect(":memory:", isolation_level=None))

    def _open_file(self) -> sqlite3.Connection:
        _make_cache_folder(self.paths.cache)
        conn = sqlite3.connect(self.db_path, timeout=5.0, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            return self._prepare(conn)
        except BaseException:
            conn.close()
            raise

    def _prepare(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """Use the schema as it is, or recreate it when it was made by other code or backend."""
        wanted = "python" if self.fts is False or not _has_fts5(conn) else "fts5"
        meta = {"format": _FORMAT, "backend": wanted, "code": code_fingerprint()}
        self.backend = wanted
        if _has_meta(conn, meta):
            return conn
        conn.execute("BEGIN IMMEDIATE")
        if _has_meta(conn, meta):  # another process made it while this one waited
            conn.execute("COMMIT")
            return conn
        for name in ("meta", "files", "fragments", "search"):
            conn.execute(f"DROP TABLE IF EXISTS {name}")
        for statement in _schema(wanted):
            conn.execute(statement)
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.execute("COMMIT")
        return conn

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)

    def _reset(self) -> None:
        """Throw the database away and start again (a corrupt cache is never trusted)."""
        try:
            self.conn.close()
        except sqlite3.Error:
            pass
        if self.persistent:
            self._delete_files()
        self.conn = self._open()

    # ----- refreshing -----

    def refresh(self) -> Refresh:
        """Bring the cache up to date with models/ (see the module's docstring)."""
        parsed = self._guarded(self._update)
        problems = self._guarded(self._problems)
        return Refresh(parsed, problems, self.backend, self.persistent)

    def _guarded(self, action: Callable[[], T]) -> T:
        """Run `action`; on a corrupt cache start afresh, on an unwritable one go in memory.

        After a reset the cache is refreshed again before `action` is retried, so what it
        reads is never older than the files.
        """
        for attempt in range(3):
            try:
                return action()
            except sqlite3.OperationalError:  # locked for too long, disk full, read-only
                self.persistent = False
            except _CORRUPT:
                if attempt == 2:
                    raise
            self._reset()
            if action != self._update:
                self._update()
        raise AssertionError("unreachable")

    def _problems(self) -> list[Problem]:
        rows = self.conn.execute("SELECT file, error FROM files WHERE error IS NOT NULL ORDER BY file")
        return [problem_of(self.paths.models / name, error) for name, error in rows]

    def _update(self) -> list[str]:
        listing = scan(self.paths.models)
        digest = listing_digest(listing)
        if self.conn.execute("SELECT 1 FROM meta WHERE key='listing' AND value=?", (digest,)).fetchone():
            return []  # every file as when last stored, and no row was racy then
        rows = {row[0]: row[1:] for row in self.conn.execute("SELECT file, size, mtime_ns, racy, sha256 FROM files")}
        now = time.time_ns()
        plan = Plan(self.paths.models, listing, rows)
        results = parse_files([self.paths.models / name for name in plan.to_parse], self.fragment_renderer)
        self._write(plan, results, now, digest)
        return plan.to_parse

    def _write(self, plan: Plan, results: list[Parsed], now: int, digest: str) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            ids = dict(conn.execute("SELECT file, id FROM files"))  # read again under the write lock
            self._delete_rows([ids.pop(name) for name in plan.vanished if name in ids])
            for old, new in plan.renamed:
                if new in ids:
                    self._delete_rows([ids.pop(new)])
                conn.execute("UPDATE files SET file=? WHERE file=?", (new, old))
                if old in ids:
                    ids[new] = ids.pop(old)
            conn.executemany(
                "UPDATE files SET size=?, mtime_ns=?, racy=? WHERE file=?",
                [(*plan.listing[name], is_racy(now, plan.listing[name][1]), name) for name in plan.touched],
            )
            self._store(plan, results, ids, now)
            conn.execute("DELETE FROM meta WHERE key='listing'")
            if not conn.execute("SELECT 1 FROM files WHERE racy=1 LIMIT 1").fetchone():
                conn.execute("INSERT INTO meta VALUES ('listing', ?)", (digest,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _delete_rows(self, ids: list[int]) -> None:
        self.conn.executemany("DELETE FROM search WHERE rowid=?", [(row_id,) for row_id in ids])
        self.conn.executemany("DELETE FROM files WHERE id=?", [(row_id,) for row_id in ids])

    def _store(self, plan: Plan, results: list[Parsed], ids: dict[str, int], now: int) -> None:
        """Write the rows, ranking text and index fragments of the files just parsed."""
        next_id = max(ids.values(), default=0) + 1
        rows, texts, fragments, replaced = [], [], [], []
        for name, result in zip(plan.to_parse, results):
            row_id = ids.get(name)
            if row_id is None:
                row_id, next_id = next_id, next_id + 1
            else:
                replaced.append((row_id,))
            size, mtime = plan.listing[name]
            rows.append(
                (row_id, name, size, mtime, is_racy(now, mtime), result.sha256, *result.facets, result.facts, result.compact, result.error)
            )
            if result.compact is not None:
                texts.append((row_id, *result.texts))
            fragments.extend(result.fragments)
        self.conn.executemany("DELETE FROM search WHERE rowid=?", replaced)
        self.conn.executemany(f"INSERT OR REPLACE INTO files VALUES ({', '.join('?' * 17)})", rows)
        self.conn.executemany(f"INSERT INTO search (rowid, {', '.join(SEARCH_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)", texts)
        self.conn.executemany("INSERT OR IGNORE INTO fragments VALUES (?, ?)", fragments)

    # ----- selecting -----

    def select(
        self, text: str = "", filters: Filters | None = None, *, ranked: bool = False, limit: int | None = None, with_data: bool = False
    ) -> Selection:
        """The readable entries matching `text` (any of its words) and `filters`.

        `ranked`: ordered by score (higher first) or, without text, by name, and cut to
        `limit`; otherwise every match, by file. `with_data` loads and decodes the data now.
        """
        return self._guarded(lambda: self._select(text, filters, ranked, limit, with_data))

    def _select(self, text: str, filters: Filters | None, ranked: bool, limit: int | None, with_data: bool) -> Selection:
        selection = self._query(text, filters, ranked, limit, with_data)
        if with_data:  # decode now: undecodable JSON means a corrupt cache, which `_guarded` handles
            for entry in selection.entries:
                entry.decode()
        return selection

    def _query(self, text: str, filters: Filters | None, ranked: bool, limit: int | None, with_data: bool) -> Selection:
        where, params = (filters or Filters()).sql()
        columns = _ENTRY_COLUMNS + (", files.data" if with_data else "")
        terms = query_terms(text)
        if terms and self.backend == "fts5":
            return self._select_fts(terms, where, params, columns, ranked, limit, with_data)
        base = f"FROM files WHERE {where}"
        if terms:
            scores = self._rank_python(terms)
            entries = [e for e in self._entries(f"SELECT {columns} {base} ORDER BY files.file", params, with_data) if e.file in scores]
            if ranked:
                entries.sort(key=lambda e: (-scores[e.file], e.name.lower(), e.name, e.file))
            return Selection(entries[:limit] if ranked and limit else entries, {e.file: scores[e.file] for e in entries}, len(entries))
        if not ranked:
            entries = self._entries(f"SELECT {columns} {base} ORDER BY files.file", params, with_data)
            return Selection(entries, None, len(entries))
        (total,) = self.conn.execute(f"SELECT count(*) {base}", params).fetchone()
        order = "ORDER BY lower(files.name), files.name, files.file" + (f" LIMIT {int(limit)}" if limit else "")
        return Selection(self._entries(f"SELECT {columns} {base} {order}", params, with_data), None, total)

    def _select_fts(
        self, terms: list[str], where: str, params: list[str], columns: str, ranked: bool, limit: int | None, with_data: bool
) -> Selection:
        base = f"FROM search JOIN files ON files.id = search.rowid WHERE search MATCH ? AND {where}"
        args = [fts_match(terms), *params]
        score = f"-bm25(search, {', '.join(str(w) for w in WEIGHTS)})"
        if ranked:
            (total,) = self.conn.execute(f"SELECT count(*) {base}", args).fetchone()
            order = "ORDER BY score DESC, lower(files.name), files.name, files.file" + (f" LIMIT {int(limit)}" if limit else "")
        else:
            total, order = None, "ORDER BY files.file"
        rows = self.conn.execute(f"SELECT {columns}, {score} AS score {base} {order}", args).fetchall()
        entries = [CachedEntry(row, self, row[11] if with_data else None) for row in rows]
        scores = {entry.file: row[-1] for entry, row in zip(entries, rows)}
        return Selection(entries, scores, len(entries) if total is None else total)

    def _entries(self, sql: str, params: list[str], with_data: bool) -> list[CachedEntry]:
        rows = self.conn.execute(sql, params)
        return [CachedEntry(row, self, row[11] if with_data else None) for row in rows]

    def _rank_python(self, terms: list[str]) -> dict[str, float]:
        documents = [
            (f"models/{name}", [tokens(column) for column in columns])
            for name, *columns in self.conn.execute(
                f"SELECT files.file, {', '.join('search.' + c for c in SEARCH_COLUMNS)}"
                " FROM search JOIN files ON files.id = search.rowid"
            )
        ]
        scores = bm25_scores(terms, [columns for _, columns in documents])
        return {file: score for (file, _), score in zip(documents, scores) if score is not None}

    def facet_values(self) -> dict[str, set[str]]:
        """Every tag and capability some readable entry has (for "did you mean")."""
        found: dict[str, set[str]] = {"tags": set(), "capabilities": set()}
        for tags, capabilities in self.conn.execute("SELECT tags, capabilities FROM files WHERE error IS NULL"):
            found["tags"].update(tags.split(SEP) if tags else ())
            found["capabilities"].update(capabilities.split(SEP) if capabilities else ())
        return found

    def fill_data(self, entries: list[CachedEntry]) -> None:
        """Load and decode the data of `entries` in one query (before reading many entries' data)."""
        missing = {entry.file.removeprefix("models/"): entry for entry in entries if entry._data is None}
        if missing:
            self._guarded(lambda: self._fill(missing))

    def _fill(self, missing: dict[str, CachedEntry]) -> None:
        if len(missing) <= 500:
            names = list(missing)
            rows = self.conn.execute(f"SELECT file, data FROM files WHERE file IN ({', '.join('?' * len(names))})", names)
        else:
            rows = self.conn.execute("SELECT file, data FROM files WHERE data IS NOT NULL")
        for name, compact in rows:
            entry = missing.get(name)
            if entry is not None and compact is not None:
                entry._compact = compact
                entry.decode()  # undecodable JSON: a corrupt cache, which `_guarded` rebuilds

    def compact_data(self, name: str) -> str:
        """The stored data JSON of `models/<name>` (for an entry's lazy `data`)."""
        row = self.conn.execute("SELECT data FROM files WHERE file=?", (name,)).fetchone()
        if row is None or row[0] is None:
            raise ValueError(f"the cache lost models/{name} while it was in use")
        return row[0]

    # ----- digests of the generated files -----

    def content_digest(self) -> str:
        """A hash of every stored (file, sha256): the outputs are a function of it (and of
        the code, which the cache's fingerprint covers)."""
        return self._guarded(self._content_digest)

    def _content_digest(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for name, sha256 in self.conn.execute("SELECT file, sha256 FROM files ORDER BY file"):
            digest.update(f"{name}\0{sha256}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def output_digests(self, kinds: str, content: str) -> dict[str, str] | None:
        """`{path: blake2b of its text}` stored for the outputs of `kinds` made from `content`
        (a `content_digest`), or None when none were."""
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key=?", (f"outputs:{kinds}",)).fetchone()
            stored = json.loads(row[0]) if row is not None else None
        except (sqlite3.Error, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("content") != content or not isinstance(stored.get("files"), dict):
            return None
        return stored["files"]

    def save_output_digests(self, kinds: str, content: str, files: dict[str, str]) -> None:
        """Remember the digests of the outputs of `kinds` made from `content`."""
        value = json.dumps({"content": content, "files": files}, sort_keys=True)
        try:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"outputs:{kinds}", value))
        except sqlite3.Error:  # a cache that cannot keep them is slower, not wrong
            pass

    # ----- rendered fragments for `modreg index` -----

    def fragments(self) -> FragmentMemo:
        """The stored JSON fragments, as a memo for `dumps_canonical`."""
        try:
            return FragmentMemo(dict(self.conn.execute("SELECT key, text FROM fragments")))
        except sqlite3.Error:
            return FragmentMemo({})

    def save_fragments(self, memo: FragmentMemo) -> None:
        """Keep the fragments this run used or made; drop the others."""
        unused = memo.unused()
        if not (memo.added or unused):
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany("DELETE FROM fragments WHERE key=?", ((key,) for key in unused))
            self.conn.executemany("INSERT OR REPLACE INTO fragments VALUES (?, ?)", memo.added.items())
            self.conn.execute("COMMIT")
        except sqlite3.Error:  # a cache that cannot keep fragments is slower, not wrong
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")


class FragmentMemo(MutableMapping[str, str]):
    """A memo that remembers which keys were read and which were added."""

    def __init__(self, stored: dict[str, str]) -> None:
        self.stored = stored
        self.used: set[str] = set()
        self.added: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        value = self.stored[key]
        self.used.add(key)
        return value

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """`memo[key]` or `default`, without the exception `Mapping.get` goes through on a miss."""
        value = self.stored.get(key)
        if value is None:
            return default
        self.used.add(key)
        return value

    def __setitem__(self, key: str, value: str) -> None:
        self.stored[key] = value
        self.used.add(key)
        self.added[key] = value

    def __delitem__(self, key: str) -> None:
        del self.stored[key]

    def __contains__(self, key: object) -> bool:
        return key in self.stored

    def __iter__(self) -> Iterator[str]:
        return iter(self.stored)

    def __len__(self) -> int:
        return len(self.stored)

    def unused(self) -> list[str]:
        return [key for key in self.stored if key not in self.used]


# ----- schema -----

# The code that decides what the cache holds (parsed data and errors, facets, ranking text,
# rendered fragments): when any of it changes, the cache starts afresh.
_FINGERPRINTED = (
    "registry/search/cache.py",
    "registry/search/_cacheparse.py",
    "registry/search/_cacheplan.py",
    "registry/search/_ranking.py",
    "registry/store/files.py",
    "registry/store/_yamlread.py",
    "registry/history/versions.py",
    "outputs/*.py",
)


@functools.cache
def code_fingerprint() -> str:
    """A hash of the code that fills the cache, and of the Python version."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.blake2b(f"{_FORMAT} {sys.version}".encode("utf-8"), digest_size=16)
    for pattern in _FINGERPRINTED:
        for path in sorted(package.glob(pattern)) or [package / pattern]:
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(f"missing {pattern}".encode("utf-8"))
    return digest.hexdigest()


def _has_meta(conn: sqlite3.Connection, meta: dict[str, str]) -> bool:
    """Whether the database was made with this `meta` (format, backend, code)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone():
        return False
    stored = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    return all(stored.get(key) == value for key, value in meta.items())


def _has_fts5(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        conn.execute("DROP TABLE temp.fts5_probe")
        return True
    except sqlite3.OperationalError:
        return False


def _schema(backend: str) -> list[str]:
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
            mtime_ns INTEGER NOT NULL,
            racy INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            name TEXT, version TEXT, category TEXT, status TEXT, summary TEXT,
            tags TEXT, capabilities TEXT, authors TEXT,
            facts TEXT,
            data TEXT,
            error TEXT
        )""",
        "CREATE TABLE fragments (key TEXT PRIMARY KEY, text TEXT NOT NULL)",
        search,
    ]


def _make_cache_folder(folder: Path) -> None:
    """Create `.modreg/` with a `.gitignore` of its own, so no registry ever commits it."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# modreg's local cache: never commit it\n*\n", encoding="utf-8")
