"""The local cache under `.modreg/` (git-ignored): parsed descriptors and a full-text index.

One SQLite database (standard library) holds, per file of `models/`, its size, mtime_ns and
sha256, its parsed data as compact JSON, the few fields that search shows and filters on,
and the text that search ranks (an FTS5 table, or a plain table ranked in Python when the
sqlite3 build lacks FTS5). It also keeps rendered JSON fragments for `modreg index`.

`refresh()` makes it agree with the files, touching only what changed:

- a file whose size and mtime_ns match its row is trusted, unless the row is *racy* (written
  within `RACY_NS` of the file's mtime, when a same-size edit in the same clock tick would
  keep the mtime: git's "racily clean" problem); a racy row is re-hashed;
- a file whose stat changed is hashed; the same hash only updates the stat;
- a new file whose hash is that of a vanished one is a rename: its row moves, unparsed;
- anything else is parsed (in worker processes when there are many), and vanished files'
  rows are deleted.

The files always win: a cache that is missing, of another format, or corrupt (any SQLite
error, undecodable JSON) is deleted and rebuilt without a word; one that cannot be written
(read-only folder, locked too long) is replaced by an in-memory one for this process.
Readers run concurrently (WAL journal); writers take SQLite's write lock in turn. The
cache also starts afresh when the code that fills it changes (`code_fingerprint`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from modreg.errors import ModregError, Problem
from modreg.registry.layout import DESCRIPTOR_SUFFIXES, RegistryPaths

__all__ = [
    "CACHE_FORMAT",
    "DB_NAME",
    "RACY_NS",
    "WEIGHTS",
    "CachedEntry",
    "FragmentMemo",
    "RegistryCache",
    "Snapshot",
    "query_terms",
]

CACHE_FORMAT = "1"
DB_NAME = "cache.sqlite"
RACY_NS = 2_000_000_000
SEARCH_COLUMNS = ("name", "summary", "description", "tags", "capabilities")
WEIGHTS = (10.0, 3.0, 1.0, 4.0, 2.0)  # per SEARCH_COLUMNS: a name match weighs most
_SEP = "\x1f"
_K1, _B = 1.2, 0.75  # the BM25 constants of SQLite's FTS5
_TOKEN = re.compile(r"[^\W_]+")
_CORRUPT = (sqlite3.DatabaseError, ValueError)


# ----- what the cache hands out -----


class CachedEntry:
    """One readable descriptor: the fields search needs, its data decoded on demand."""

    __slots__ = ("file", "sha256", "name", "version", "category", "status", "summary", "tags", "capabilities", "authors", "_compact", "_data", "_cache")

    def __init__(self, row: tuple[Any, ...], cache: RegistryCache | None = None, compact: str | None = None) -> None:
        stem, self.sha256, self.name, self.version, self.category, self.status, self.summary = row[:7]
        self.file = f"models/{stem}"
        self.tags, self.capabilities, self.authors = (_split(value) for value in row[7:10])
        self._compact = compact
        self._data: dict[str, Any] | None = None
        self._cache = cache

    @property
    def compact(self) -> str:
        """The data as compact JSON (`outputs.canonical.dumps_compact`)."""
        if self._compact is None:
            assert self._cache is not None
            self._compact = self._cache.compact_data(self.file.removeprefix("models/"))
        return self._compact

    @property
    def data(self) -> dict[str, Any]:
        """The parsed descriptor (dates as ISO text)."""
        if self._data is None:
            self._data = json.loads(self.compact)
        return self._data

    def __repr__(self) -> str:
        return f"CachedEntry({self.file!r})"


@dataclass
class Snapshot:
    """The registry's descriptors as of one refresh."""

    entries: list[CachedEntry]
    problems: list[Problem]  # files that could not be read
    parsed: list[str] = field(default_factory=list)  # files parsed by this refresh
    backend: str = "fts5"  # "fts5" | "python": how text is ranked
    persistent: bool = True  # False: the cache could not be kept on disk this time


class _Parsed(NamedTuple):
    """What a worker returns for one file."""

    sha256: str
    compact: str | None
    pretty: str | None
    light: tuple[str, ...]
    texts: tuple[str, ...]
    error: str | None


# ----- the cache -----


class RegistryCache:
    """The cache of one registry; use as a context manager (`with RegistryCache(paths) as c`).

    `fts` forces the ranking backend (None: FTS5 when this sqlite3 has it); `persistent=False`
    keeps everything in memory.
    """

    def __init__(self, paths: RegistryPaths, *, fts: bool | None = None, persistent: bool = True) -> None:
        self.paths = paths
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
        """Create the schema, or recreate it when the stored format or backend differs."""
        wanted = self._backend_for(conn)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" in tables:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") == CACHE_FORMAT and meta.get("backend") == wanted and meta.get("code") == code_fingerprint():
                self.backend = wanted
                return conn
        conn.execute("BEGIN IMMEDIATE")
        for name in ("meta", "files", "fragments", "search"):
            conn.execute(f"DROP TABLE IF EXISTS {name}")
        for statement in _schema(wanted):
            conn.execute(statement)
        meta = [("format", CACHE_FORMAT), ("backend", wanted), ("code", code_fingerprint())]
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta)
        conn.execute("COMMIT")
        self.backend = wanted
        return conn

    def _backend_for(self, conn: sqlite3.Connection) -> str:
        if self.fts is False:
            return "python"
        available = _has_fts5(conn)
        return "fts5" if available else "python"

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

    def refresh(self, *, with_data: bool = False) -> Snapshot:
        """Bring the cache up to date with models/ and return every entry.

        `with_data` loads every entry's data JSON now (index, --where) rather than on demand.
        """
        for attempt in range(3):
            try:
                parsed = self._update()
                return self._snapshot(parsed, with_data)
            except sqlite3.OperationalError:  # locked for too long, disk full, read-only
                self.persistent = False
                self._reset()
            except _CORRUPT:
                if attempt == 2:
                    raise
                self._reset()
        raise AssertionError("unreachable")

    def _update(self) -> list[str]:
        listing = _scan(self.paths.models)
        rows = {row[0]: row[1:] for row in self.conn.execute("SELECT file, size, mtime_ns, racy, sha256 FROM files")}
        now = time.time_ns()
        plan = _Plan(self.paths.models, listing, rows, now)
        results = _parse_files([self.paths.models / name for name in plan.to_parse])
        self._write(plan, results, now)
        return sorted(plan.to_parse)

    def _write(self, plan: _Plan, results: list[_Parsed], now: int) -> None:
        if not (plan.vanished or plan.renamed or plan.touched or plan.to_parse):
            return
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for name in plan.vanished:
                self._delete_row(name)
            for old, new in plan.renamed:
                size, mtime = plan.listing[new]
                conn.execute(
                    "UPDATE files SET file=?, size=?, mtime_ns=?, racy=? WHERE file=?",
                    (new, size, mtime, _is_racy(now, mtime), old),
                )
            conn.executemany(
                "UPDATE files SET size=?, mtime_ns=?, racy=? WHERE file=?",
                [(*plan.listing[name], _is_racy(now, plan.listing[name][1]), name) for name in plan.touched],
            )
            for name, result in zip(plan.to_parse, results):
                self._store(name, plan.listing[name], result, now)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _delete_row(self, name: str) -> None:
        row = self.conn.execute("SELECT id FROM files WHERE file=?", (name,)).fetchone()
        if row is not None:
            self.conn.execute("DELETE FROM search WHERE rowid=?", row)
            self.conn.execute("DELETE FROM files WHERE id=?", row)

    def _store(self, name: str, stat: tuple[int, int], result: _Parsed, now: int) -> None:
        size, mtime = stat
        values = (size, mtime, _is_racy(now, mtime), result.sha256, *result.light, result.compact, result.error)
        self.conn.execute(
            "INSERT INTO files (file, size, mtime_ns, racy, sha256, name, version, category, status, summary,"
            " tags, capabilities, authors, data, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(file) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, racy=excluded.racy,"
            " sha256=excluded.sha256, name=excluded.name, version=excluded.version, category=excluded.category,"
            " status=excluded.status, summary=excluded.summary, tags=excluded.tags,"
            " capabilities=excluded.capabilities, authors=excluded.authors, data=excluded.data, error=excluded.error",
            (name, *values),
        )
        (row_id,) = self.conn.execute("SELECT id FROM files WHERE file=?", (name,)).fetchone()
        self.conn.execute("DELETE FROM search WHERE rowid=?", (row_id,))
        if result.compact is not None:
            self.conn.execute("INSERT INTO search (rowid, name, summary, description, tags, capabilities) VALUES (?, ?, ?, ?, ?, ?)", (row_id, *result.texts))
        if result.pretty is not None:
            from modreg.outputs.indexes import part_key

            key = part_key("data", result.sha256, f"models/{name}")
            self.conn.execute("INSERT OR IGNORE INTO fragments VALUES (?, ?)", (key, result.pretty))

    def _snapshot(self, parsed: list[str], with_data: bool) -> Snapshot:
        columns = "file, sha256, name, version, category, status, summary, tags, capabilities, authors, error"
        if with_data:
            columns += ", data"
        entries, problems = [], []
        for row in self.conn.execute(f"SELECT {columns} FROM files ORDER BY file"):
            if row[10] is not None:
                problems.append(_problem(self.paths.models / row[0], row[10]))
            else:
                entries.append(CachedEntry(row, self, row[11] if with_data else None))
        return Snapshot(entries, problems, parsed, self.backend, self.persistent)

    def fill_data(self, entries: list[CachedEntry]) -> None:
        """Load the data JSON of `entries` in one query (before reading many entries' data)."""
        missing = {entry.file.removeprefix("models/"): entry for entry in entries if entry._compact is None}
        if not missing:
            return
        for name, compact in self.conn.execute("SELECT file, data FROM files WHERE data IS NOT NULL"):
            entry = missing.get(name)
            if entry is not None:
                entry._compact = compact

    def compact_data(self, name: str) -> str:
        """The stored data JSON of `models/<name>` (for an entry's lazy `data`)."""
        row = self.conn.execute("SELECT data FROM files WHERE file=?", (name,)).fetchone()
        if row is None or row[0] is None:
            raise ValueError(f"the cache lost models/{name} while it was in use")
        return row[0]

    # ----- ranking -----

    def rank(self, text: str) -> dict[str, float]:
        """BM25 scores (higher is better) of the entries matching any term of `text`.

        Every term counts twice: as a word and as a prefix, so exact words outrank longer
        words that start with them. Keys are entry files (`models/NHITS.toml`).
        """
        terms = query_terms(text)
        if not terms:
            return {}
        if self.backend == "fts5":
            return self._rank_fts(terms)
        return self._rank_python(terms)

    def _rank_fts(self, terms: list[str]) -> dict[str, float]:
        match = " OR ".join(f'"{term}" OR "{term}"*' for term in terms)
        weights = ", ".join(str(w) for w in WEIGHTS)
        rows = self.conn.execute(
            f"SELECT files.file, bm25(search, {weights}) FROM search JOIN files ON files.id = search.rowid"
            " WHERE search MATCH ?",
            (match,),
        )
        return {f"models/{name}": -score for name, score in rows}

    def _rank_python(self, terms: list[str]) -> dict[str, float]:
        documents = [
            (name, [tokens(column) for column in columns])
            for name, *columns in self.conn.execute(
                "SELECT files.file, search.name, search.summary, search.description, search.tags,"
                " search.capabilities FROM search JOIN files ON files.id = search.rowid"
            )
        ]
        scores = bm25_scores(terms, [columns for _, columns in documents])
        return {f"models/{name}": score for (name, _), score in zip(documents, scores) if score is not None}

    # ----- rendered fragments for `modreg index` -----

    def fragments(self) -> FragmentMemo:
        """The stored JSON fragments, as a memo for `dumps_canonical`."""
        try:
            stored = dict(self.conn.execute("SELECT key, text FROM fragments"))
        except sqlite3.Error:
            stored = {}
        return FragmentMemo(stored)

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
        except sqlite3.Error:
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

    def __setitem__(self, key: str, value: str) -> None:
        self.stored[key] = value
        self.used.add(key)
        self.added[key] = value

    def __delitem__(self, key: str) -> None:
        del self.stored[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.stored)

    def __len__(self) -> int:
        return len(self.stored)

    def unused(self) -> list[str]:
        return [key for key in self.stored if key not in self.used]


# ----- planning a refresh -----


class _Plan:
    """What a refresh must do, from the listing of models/ and the stored rows."""

    def __init__(
        self,
        folder: Path,
        listing: dict[str, tuple[int, int]],
        rows: Mapping[str, tuple[int, int, int, str]],
        now: int,
    ) -> None:
        self.listing = listing
        self.touched: list[str] = []
        self.renamed: list[tuple[str, str]] = []
        self.to_parse: list[str] = []
        vanished = {rows[name][3]: name for name in sorted(rows.keys() - listing.keys())}
        for name, stat in sorted(listing.items()):
            row = rows.get(name)
            if row is not None and (row[0], row[1]) == stat and not row[2]:
                continue
            if row is None and not vanished:
                self.to_parse.append(name)
                continue
            digest = _sha256(folder / name)
            if row is not None and digest == row[3]:
                self.touched.append(name)
            elif row is None and digest in vanished:
                self.renamed.append((vanished.pop(digest), name))
            else:
                self.to_parse.append(name)
        self.vanished = sorted(vanished.values())


def _scan(folder: Path) -> dict[str, tuple[int, int]]:
    """`{file name: (size, mtime_ns)}` of the descriptor files directly in `folder`."""
    listing: dict[str, tuple[int, int]] = {}
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return listing
    for item in entries:
        if not item.name.endswith(DESCRIPTOR_SUFFIXES):
            continue
        try:
            if item.is_file():
                stat = item.stat()
                listing[item.name] = (stat.st_size, stat.st_mtime_ns)
        except FileNotFoundError:
            continue
    return listing


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _is_racy(now: int, mtime_ns: int) -> int:
    return int(now - mtime_ns < RACY_NS)


# ----- parsing (also in worker processes) -----


def _parse_files(paths: list[Path]) -> list[_Parsed]:
    if not paths:
        return []
    from modreg.registry._parallel import map_chunked

    return map_chunked(_parse_chunk, paths)


def _parse_chunk(paths: list[Path]) -> list[_Parsed]:
    return [_parse_one(path) for path in paths]


def _parse_one(path: Path) -> _Parsed:
    from modreg.outputs.canonical import NonFiniteNumber, dumps_compact, jsonable, render_fragment
    from modreg.registry.files import read_document

    try:
        doc = read_document(path)
        data = jsonable(doc.data)
        compact = dumps_compact(data)
    except (ModregError, OSError, TypeError, ValueError) as error:
        return _Parsed(_sha256(path) or "", None, None, ("",) * 8, (), _error_json(error))
    try:
        pretty: str | None = render_fragment(data)
    except NonFiniteNumber:
        pretty = None  # `modreg index` reports it, naming the field
    return _Parsed(doc.sha256, compact, pretty, _light(data, path.stem), _texts(data, path.stem), None)


def _error_json(error: Exception) -> str:
    if isinstance(error, ModregError):
        fields = {"message": error.message, "hint": error.hint, "line": error.line, "col": error.col}
    else:
        fields = {"message": f"cannot be read: {error}", "hint": None, "line": None, "col": None}
    return json.dumps(fields)


def _problem(path: Path, error: str) -> Problem:
    from modreg.registry.files import display_path

    fields = json.loads(error)
    return Problem(display_path(path), fields["line"] or 1, fields["col"] or 1, fields["message"], hint=fields["hint"])


def _light(data: Mapping[str, Any], stem: str) -> tuple[str, ...]:
    """The facets as stored: name, version, category, status, summary, then the lists joined."""
    from modreg.outputs.entry import facets

    found = facets(data, stem)
    return (*found[:5], *(_SEP.join(values) for values in found[5:]))


def _texts(data: Mapping[str, Any], stem: str) -> tuple[str, ...]:
    """The text of each SEARCH_COLUMNS column."""
    from modreg.outputs.entry import facets, text

    found = facets(data, stem)
    return (found.name, found.summary, text(data, "description"), " ".join(found.tags), " ".join(found.capabilities))


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(value.split(_SEP)) if value else ()


# ----- text ranking -----


def tokens(text: str) -> list[str]:
    """Words as FTS5's unicode61 tokenizer sees them: letters and digits, case and accents folded."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _TOKEN.findall(text.lower())


def query_terms(text: str) -> list[str]:
    """The distinct words of a search text, in order."""
    return list(dict.fromkeys(tokens(text)))


def bm25_scores(terms: list[str], documents: list[list[list[str]]]) -> list[float | None]:
    """FTS5's BM25 over tokenized documents (columns weighted by WEIGHTS); None: no match.

    Each term is two phrases, the word and the word as a prefix, as in the FTS5 query.
    """
    phrases = [phrase for term in terms for phrase in ((term, False), (term, True))]
    count = len(documents)
    if not count:
        return []
    lengths = [sum(len(column) for column in columns) for columns in documents]
    average = sum(lengths) / count
    frequencies = [[_frequency(phrase, columns) for phrase in phrases] for columns in documents]
    idf = [_idf(count, sum(1 for row in frequencies if row[i] > 0)) for i in range(len(phrases))]
    scores: list[float | None] = []
    for length, row in zip(lengths, frequencies):
        if not any(row):
            scores.append(None)
            continue
        norm = _K1 * (1 - _B + _B * length / average)
        scores.append(sum(idf[i] * (f * (_K1 + 1.0)) / (f + norm) for i, f in enumerate(row) if f))
    return scores


def _frequency(phrase: tuple[str, bool], columns: list[list[str]]) -> float:
    term, prefix = phrase
    total = 0.0
    for weight, column in zip(WEIGHTS, columns):
        hits = sum(1 for token in column if token.startswith(term)) if prefix else column.count(term)
        total += weight * hits
    return total


def _idf(count: int, hits: int) -> float:
    value = math.log((count - hits + 0.5) / (hits + 0.5))
    return value if value > 0.0 else 1e-6


# ----- schema -----


# The modules whose code decides what the cache holds (parsed data, rendered fragments): when
# any of them changes, the cache starts afresh.
_FINGERPRINTED = (
    "registry/cache.py",
    "registry/files.py",
    "registry/_yamlread.py",
    "outputs/canonical.py",
    "outputs/entry.py",
    "outputs/fields.py",
    "outputs/indexes.py",
    "outputs/stats.py",
)


@functools.cache
def code_fingerprint() -> str:
    """A hash of the code that produced the cached data, and of the Python version."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.blake2b(sys.version.encode("utf-8"), digest_size=16)
    for relative in _FINGERPRINTED:
        try:
            digest.update((package / relative).read_bytes())
        except OSError:
            digest.update(f"missing {relative}".encode("utf-8"))
    return digest.hexdigest()


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
            data TEXT,
            error TEXT
        )""",
        "CREATE TABLE fragments (key TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID",
        search,
    ]


def _make_cache_folder(folder: Path) -> None:
    """Create `.modreg/` with a `.gitignore` of its own, so no registry ever commits it."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# modreg's local cache: never commit it\n*\n", encoding="utf-8")
