"""The local cache under `.modreg/` (git-ignored): parsed descriptors and a full-text index.

One SQLite database (standard library) holds, per file of `models/`, its size, mtime_ns and
sha256, its parsed data as compact JSON, its facets (name, category, tags, ...) as columns
for filtering, and the text that search ranks: an FTS5 table, or a plain table ranked in
Python when the sqlite3 build lacks FTS5 (`_ranking`). It also keeps the rendered JSON
fragments that `modreg index` reuses.

`refresh()` makes it agree with the files, touching only what changed:

- when the listing of models/ (names, sizes, stamps) hashes to what was stored last time and
  no row was racy then, nothing has changed and nothing more is read;
- a file whose size and stamp (mtime_ns, ctime_ns, inode) match its row is trusted, unless the
  row is *racy* (stored within `RACY_NS` of the file's newest time, when a same-size edit in the
  same clock tick would keep it: git's "racily clean" problem); a racy row is re-hashed;
- `refresh(verify=True)` (what `--check` uses) hashes every file: a check never trusts a stat;
- a file whose stat changed is hashed; the same hash only updates the stat;
- a new file whose hash is that of a vanished one is a rename: its row moves, unparsed;
- anything else is parsed (in worker processes when there are many); rows of vanished files
  are deleted.

The files always win. A cache that is missing, corrupt (any SQLite error, undecodable JSON),
made by other code (`code_fingerprint`: the cache's format, the parser, the output
builders, the Python version) or for another folder (a cache committed to a registry, or copied
with it: the root's device and inode differ) is deleted and rebuilt without a word; one that cannot be
written (read-only folder, locked too long) is replaced by an in-memory one for this process.
Readers run concurrently (WAL journal); writers take SQLite's write lock in turn.

`modreg index` and `report` also keep here a digest of each file they generated, with a digest
of the descriptors (`content_digest`) it was made from, so a run where nothing changed hashes
the files on disk instead of building them again.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from modreg._fs import refuse_links
from modreg.errors import Problem
from modreg.registry.search._cacheoutputs import OutputMemo
from modreg.registry.search._cachelinks import LinkIndex
from modreg.registry.search._cacheschema import FORMAT, code_fingerprint, has_fts5, has_meta, make_cache_folder, schema_statements
from modreg.registry.search._cachetypes import CachedEntry, Filters, FragmentMemo, Refresh, Selection
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
_CORRUPT = (sqlite3.DatabaseError, ValueError)
_ENTRY_COLUMNS = (
    "files.file, files.sha256, files.name, files.version, files.category, files.status, files.summary,"
    " files.tags, files.capabilities, files.authors, files.facts"
)


# ----- the cache -----


class RegistryCache(OutputMemo, LinkIndex):
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
        refuse_links(self.paths.root, self.db_path)
        for suffix in ("-wal", "-shm"):
            refuse_links(self.paths.root, self.db_path.with_name(self.db_path.name + suffix))
        make_cache_folder(self.paths.cache)
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
        wanted = "python" if self.fts is False or not has_fts5(conn) else "fts5"
        meta = {"format": FORMAT, "backend": wanted, "code": code_fingerprint(), "home": self._home()}
        self.backend = wanted
        if has_meta(conn, meta):
            return conn
        conn.execute("BEGIN IMMEDIATE")
        if has_meta(conn, meta):  # another process made it while this one waited
            conn.execute("COMMIT")
            return conn
        for name in ("meta", "files", "fragments", "search"):
            conn.execute(f"DROP TABLE IF EXISTS {name}")
        for statement in schema_statements(wanted):
            conn.execute(statement)
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.execute("COMMIT")
        return conn

    def _home(self) -> str:
        """The registry folder's identity on this machine (device, inode). A cache that arrived
        with a clone (committed, or copied with the folder) was made elsewhere: its rows could say
        anything about files whose hashes they quote, so it is rebuilt rather than trusted."""
        found = os.stat(self.paths.root)
        return f"{found.st_dev}:{found.st_ino}"

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

    def refresh(self, *, verify: bool = False) -> Refresh:
        """Bring the cache up to date with models/ (see the module's docstring). With `verify`
        every file is hashed whatever its stat says: a check must not trust a stat."""
        parsed = self._guarded(lambda: self._update(verify))
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
        rows = self.conn.execute("SELECT file, error FROM files INDEXED BY files_errors WHERE error IS NOT NULL ORDER BY file")
        return [problem_of(self.paths.models / name, error) for name, error in rows]

    def _update(self, verify: bool = False) -> list[str]:
        listing = scan(self.paths.models)
        digest = listing_digest(listing)
        if not verify and self.conn.execute("SELECT 1 FROM meta WHERE key='listing' AND value=?", (digest,)).fetchone():
            return []  # every file as when last stored, and no row was racy then
        rows = {row[0]: row[1:] for row in self.conn.execute("SELECT file, size, mtime_ns, racy, sha256 FROM files")}
        now = time.time_ns()
        plan = Plan(self.paths.models, listing, rows, verify=verify)
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
                (row_id, name, size, mtime, is_racy(now, mtime), result.sha256, *result.facets, result.facts, result.compact, result.error,
                 result.links, result.refs)
            )
            if result.compact is not None:
                texts.append((row_id, *result.texts))
            fragments.extend(result.fragments)
        self.conn.executemany("DELETE FROM search WHERE rowid=?", replaced)
        self.conn.executemany(f"INSERT OR REPLACE INTO files VALUES ({', '.join('?' * 19)})", rows)
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

    def text_matches(self, text: str, filters: Filters | None = None) -> list[tuple[str, str, str, str, float]] | None:
        """(file, name, tags, capabilities, BM25 score) of every readable entry matching `text`
        and `filters`: only what ranking reads, for FTS5 (None: rank with `select` instead)."""
        if self.backend != "fts5" or not query_terms(text):
            return None
        where, params = (filters or Filters()).sql()
        score = f"-bm25(search, {', '.join(str(w) for w in WEIGHTS)})"
        sql = (f"SELECT files.file, files.name, files.tags, files.capabilities, {score} FROM search"
               f" JOIN files ON files.id = search.rowid WHERE search MATCH ? AND {where}")
        return self._guarded(lambda: self.conn.execute(sql, [fts_match(query_terms(text)), *params]).fetchall())

    def entries_of(self, files: list[str]) -> list[CachedEntry]:
        """The entries of `models/<file>` for each of `files`, in that order (missing ones left out)."""
        def load() -> list[CachedEntry]:
            rows = self.conn.execute(f"SELECT {_ENTRY_COLUMNS} FROM files WHERE file IN ({', '.join('?' * len(files))})", files)
            found = {entry.file: entry for entry in (CachedEntry(row, self) for row in rows)}
            return [found[f"models/{file}"] for file in files if f"models/{file}" in found]

        return self._guarded(load) if files else []

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
