"""The generated files of a registry (`index/`, `reports/`): build, compare, write.

`generate()` reads every descriptor through the local cache (so after one edit it parses one
file and re-renders one entry), builds the outputs with the pure functions of
`modreg.outputs`, and then either compares them with the files on disk (`check=True`: writes
nothing, reports each stale file) or writes the ones whose bytes differ, atomically and
under the registry lock. Unchanged files are not touched, so their mtimes stay put. A file
that differs only by CRLF line ends, as git checks it out under `core.autocrlf=true` or an
`eol=crlf` attribute, holds the same text: it is fresh, and `build` leaves it alone (git stores
it with the `\n` that modreg writes). Writing is all or nothing: every changed file is written
to a temp file beside it first, and only when all of them are on disk are they moved into
place, so a build that cannot write one (a full disk, a folder in the way) leaves every output
as it was.

The cache keeps a digest of each output with a digest of the descriptors it was made from: when
neither the descriptors nor the files on disk changed since, nothing is built at all.

An output on disk is only ever read as a plain file inside the registry, and never more of it
than the new text's length: a cloned registry whose `reports/x.md` is a link to `/dev/zero`, or a
pipe, gets exit 5 before anything is read or written, never an endless read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from modreg.errors import CheckFailed, Problem
from modreg.registry.search.cache import CachedEntry, RegistryCache
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.store.lock import DEFAULT_TIMEOUT, registry_lock
from modreg.outputs.indexes import entry_fragments

__all__ = ["KINDS", "OutputsResult", "Statistics", "build_outputs", "generate", "read_entries", "statistics"]

KINDS = ("index", "report")


@dataclass(frozen=True)
class OutputsResult:
    """What `index`, `report` or `build` did (or, with `check`, found)."""

    command: str
    check: bool
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # validation problems (`build`)
    integrity: int = 0  # of those, artifacts and plugins whose files do not match their sha256 (exit 5)

    @property
    def errors(self) -> int:
        return sum(1 for problem in self.problems if problem.severity == "error")

    @property
    def ok(self) -> bool:
        return not self.stale and not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "check": self.check,
            "ok": self.ok,
            "written": list(self.written),
            "unchanged": list(self.unchanged),
            "stale": list(self.stale),
            "problems": [problem.to_dict() for problem in self.problems],
        }


def read_entries(cache: RegistryCache, *, strict: bool) -> tuple[list[CachedEntry], list[Problem]]:
    """Every readable entry (facets and facts; data on demand), and the unreadable files.

    Raises:
        CheckFailed: with `strict`, when a descriptor cannot be read (outputs would omit it).
    """
    problems = _refresh_strict(cache) if strict else cache.refresh().problems
    return cache.select().entries, problems


def _refresh_strict(cache: RegistryCache, *, verify: bool = False) -> list[Problem]:
    """Refresh the cache (hashing every file with `verify`); CheckFailed when a descriptor cannot be read."""
    refresh = cache.refresh(verify=verify)
    if refresh.problems:
        first, count = refresh.problems[0], len(refresh.problems)
        raise CheckFailed(
            f"{count} descriptor file{'s' * (count != 1)} cannot be read, so the outputs would leave "
            f"{'them' if count != 1 else 'it'} out: {first.message}",
            hint="fix the file (`modreg validate` lists every problem), then run the command again.",
            path=first.path,
            line=first.line,
            col=first.col,
        )
    return refresh.problems


def build_outputs(
    entries: list[CachedEntry], kinds: Iterable[str], cache: RegistryCache | None = None, *, root: Path | None = None
) -> dict[str, str]:
    """`{relative path: text}` of the outputs of `kinds`.

    With the cache, `index` renders from its stored fragments and reads the data of only the
    entries whose fragments are missing (after one edit: one entry); reports read every entry.

    Raises:
        CheckFailed: a descriptor holds NaN or infinity, which JSON cannot.
    """
    from modreg.registry.store.canonical import NonFiniteNumber
    from modreg.outputs.indexes import build_indexes, unmemoized
    from modreg.outputs.reports import build_reports

    kinds = tuple(kinds)
    outputs: dict[str, str] = {}
    try:
        if "index" in kinds:
            memo = cache.fragments() if cache is not None else None
            if cache is not None and memo is not None:
                cache.fill_data(entries if "report" in kinds else unmemoized(entries, memo))
            outputs.update(build_indexes(entries, memo=memo))
            if cache is not None and memo is not None:
                cache.save_fragments(memo)
        if "report" in kinds:
            if cache is not None:
                cache.fill_data(entries)
            outputs.update(build_reports(entries))
    except NonFiniteNumber as error:
        raise _non_finite(entries, error, root) from None
    return outputs


def generate(
    paths: RegistryPaths,
    kinds: Iterable[str],
    *,
    command: str,
    check: bool = False,
    lock_timeout: float = DEFAULT_TIMEOUT,
    problems: list[Problem] | None = None,
) -> OutputsResult:
    """Build the outputs of `kinds` and compare them (`check`) or write the changed ones.

    Writing holds the registry lock from reading the descriptors to the last write, so no
    mutation can slip in between and leave outputs that describe older files.
    """
    kinds = tuple(kinds)
    if check:
        outputs = _build(paths, kinds, verify=True)
        if isinstance(outputs, list):
            return OutputsResult(command, True, unchanged=outputs, problems=problems or [])
        stale = [path for path, text in outputs.items() if not _holds(paths, path, text)]
        fresh = [path for path in outputs if path not in stale]
        return OutputsResult(command, True, unchanged=fresh, stale=stale, problems=problems or [])
    with registry_lock(paths, lock_timeout):
        outputs = _build(paths, kinds)
        written = _write_changed(paths, outputs) if isinstance(outputs, dict) else []
    unchanged = [path for path in outputs if path not in written]
    return OutputsResult(command, False, written=written, unchanged=unchanged, problems=problems or [])


def _build(paths: RegistryPaths, kinds: tuple[str, ...], *, verify: bool = False) -> dict[str, str] | list[str]:
    """The outputs' texts; or only their paths, when the cache knows that the files on disk
    are exactly what these descriptors give (the same content digest, the same file digests).
    With `verify` (a check) the descriptors are hashed, not trusted by their stat."""
    with RegistryCache(paths, fragments=entry_fragments) as cache:
        _refresh_strict(cache, verify=verify)
        name, content = "+".join(kinds), cache.content_digest()
        fresh = _fresh_paths(paths, cache.output_digests(name, content))
        if fresh is not None:
            return fresh
        outputs = build_outputs(cache.select().entries, kinds, cache, root=paths.root)
        cache.save_output_digests(name, content, {path: _digest(text.encode("utf-8")) for path, text in outputs.items()})
        return outputs


def _fresh_paths(paths: RegistryPaths, digests: Mapping[str, str] | None) -> list[str] | None:
    """The paths of `digests` when every file on disk has its digest; else None."""
    if not digests:
        return None
    for relative, digest in digests.items():
        handle = _open_output(paths, relative)
        if handle is None:
            return None
        hasher = hashlib.blake2b(digest_size=16)
        try:
            with handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    hasher.update(chunk)
        except OSError:
            return None
        if hasher.hexdigest() != digest:
            return None
    return list(digests)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Statistics:
    """The registry's statistics (the dictionary of registry_statistics.json) and the
    descriptor files left out because they cannot be read."""

    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.data


def statistics(paths: RegistryPaths) -> Statistics:
    """The statistics of the registry at `paths`, from its readable descriptors."""
    from modreg.outputs.stats import build_statistics

    with RegistryCache(paths, fragments=entry_fragments) as cache:
        entries, problems = read_entries(cache, strict=False)
        return Statistics(build_statistics(entries), problems)


def _open_output(paths: RegistryPaths, relative: str) -> BinaryIO | None:
    """The output file `relative` opened for reading (None when there is none yet, or it cannot be
    opened). IntegrityError when it, or a folder on its way, is a symbolic link, or it is not a
    plain file (a pipe or a device never ends a read): `_fs.open_plain`."""
    from modreg._fs import open_plain, refuse_links

    path = paths.root / relative
    refuse_links(paths.root, path)
    try:
        return open_plain(path)
    except OSError:
        return None


def _holds(paths: RegistryPaths, relative: str, text: str) -> bool:
    """Whether the output file `relative` holds exactly `text`, with `\n` or (as a git checkout
    with `core.autocrlf=true` has it) every line ended by `\r\n`; never reads more than that."""
    handle = _open_output(paths, relative)
    if handle is None:
        return False
    expected = text.encode("utf-8")
    checked_out = expected.replace(b"\n", b"\r\n")
    try:
        with handle:
            found = handle.read(len(checked_out) + 1)
    except OSError:
        return False
    return found == expected or found == checked_out


def _write_changed(paths: RegistryPaths, outputs: Mapping[str, str]) -> list[str]:
    """Write the outputs whose files differ, all or none: every target is checked (a link, a
    pipe is refused) and every new text written to a temp file beside its target before the
    first one is moved into place, so a failure to write any of them (a full disk, a folder in
    the way) leaves all of them as they were; only the renames, which need no room, come after.

    Raises:
        OSError: naming the file that could not be written (nothing was replaced).
    """
    from modreg._fs import refuse_links, replace_staged, stage_beside

    changed = [relative for relative, text in outputs.items() if not _holds(paths, relative, text)]
    staged: list[tuple[Path, Path]] = []
    try:
        for relative in changed:
            target = paths.root / relative
            refuse_links(paths.root, target)
            staged.append((stage_beside(target, outputs[relative].encode("utf-8")), target))
        while staged:
            replace_staged(*staged[0])
            staged.pop(0)
    finally:
        for temp, _ in staged:  # not moved into place: a failure on the way
            temp.unlink(missing_ok=True)
    return changed


def _non_finite(entries: list[CachedEntry], error: Exception, root: Path | None) -> CheckFailed:
    from modreg.registry.store.canonical import NonFiniteNumber, dumps_canonical
    from modreg.registry.store.files import display_path

    for entry in entries:
        try:
            dumps_canonical(entry.data)
        except NonFiniteNumber as found:
            return CheckFailed(
                f"{found.where} is {found.value!r}, which JSON cannot hold.",
                hint="write a finite number there, or remove the key.",
                path=display_path(root / entry.file) if root is not None else entry.file,
            )
    return CheckFailed(f"The outputs hold a value JSON cannot: {error}.", hint="run `modreg validate`.")
