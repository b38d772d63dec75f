"""What the cache keeps for `modreg index` and `report`: digests of what they wrote, and fragments.

`RegistryCache` inherits these methods; they read and write the same SQLite connection. A
cache that cannot keep them makes the outputs slower to build, never different.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from modreg.registry.search._cachetypes import FragmentMemo

__all__ = ["OutputMemo"]

T = TypeVar("T")


class OutputMemo:
    """Digests of generated files and rendered index fragments, stored in the cache."""

    conn: sqlite3.Connection
    _guarded: Callable[[Callable[[], Any]], Any]

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
