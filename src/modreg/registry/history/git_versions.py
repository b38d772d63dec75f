"""Older versions of one entry read from git, for versions its [[history]] does not hold.

A registry kept in git has every committed state of every descriptor. `versions_from_git`
walks the commits that touched the entry's file (newest first, at most `LIMIT`) and keeps, for
each version it finds, the newest committed state of it: what the version was when it was
last changed. `modreg history` lists those versions and `modreg diff` compares them.

What is read depends on the repository only, never on who reads it or who committed: a
version's date is its commit's committer time as a UTC day (not the committer's own calendar
day, which a commit at 23:30 UTC from UTC+14 would put a day later), and renames are never
followed, whatever `log.follow` the reader's git config sets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from modreg.errors import ModregError
from modreg.registry.history.gitview import open_repo, parse_blob
from modreg.registry.store.layout import RegistryPaths

__all__ = ["LIMIT", "GitVersion", "versions_from_git"]

LIMIT = 500  # commits read per entry: enough for any real history, bounded for a hostile one


@dataclass(frozen=True)
class GitVersion:
    """One version's newest committed state: its data, the commit and its date (a UTC day, ISO)."""

    version: str
    data: dict[str, Any]
    commit: str
    date: str


def versions_from_git(paths: RegistryPaths, relative: str) -> dict[str, GitVersion]:
    """version -> newest committed state, for the descriptor at `relative` (models/NAME.toml).

    Empty when the registry is not in git, git is missing, or the file was never committed.
    """
    try:
        repo = open_repo(paths)
        out = repo.run("log", f"-{LIMIT}", "--no-abbrev", "--no-follow", "--format=commit %H %ct", "--raw", "--",
                       f"{repo.prefix}{relative}")
    except ModregError:
        return {}
    states = _blob_per_commit(out.decode("utf-8", "surrogateescape"))
    contents = repo.blobs(sorted({blob for _, _, blob in states}))
    found: dict[str, GitVersion] = {}
    for commit, date, blob in states:  # newest first: the first state seen of a version wins
        try:
            data = parse_blob(contents[blob], commit[:12], relative)
        except ModregError:
            continue
        version = data.get("version")
        if isinstance(version, str) and version not in found:
            found[version] = GitVersion(version, data, commit, date)
    return found


def _blob_per_commit(log: str) -> list[tuple[str, str, str]]:
    """(commit, date, blob after the commit) of each commit that left the file in place."""
    states: list[tuple[str, str, str]] = []
    commit = date = ""
    for line in log.splitlines():
        if line.startswith("commit "):
            _, commit, stamp = line.split(" ", 2)
            date = _utc_day(stamp)
        elif line.startswith(":") and commit:
            fields = line.split("\t", 1)[0].split()
            if len(fields) >= 4 and set(fields[3]) != {"0"}:
                states.append((commit, date, fields[3]))
    return states


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _utc_day(stamp: str) -> str:
    """The UTC calendar day (ISO) of a commit time in seconds since the epoch ("" if unreadable).
    Counted from the epoch, not with `fromtimestamp`, which refuses times before 1970 on Windows."""
    try:
        return (_EPOCH + dt.timedelta(seconds=int(stamp))).date().isoformat()
    except (ValueError, OverflowError):
        return ""
