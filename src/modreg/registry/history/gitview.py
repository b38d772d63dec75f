"""Point-in-time views of a registry kept in git: `show NAME --at REV` and `diff --git REV [REV2]`.

The registry may sit anywhere inside a git work tree (`registry/` of a larger repository).
Revisions are resolved to commits once (`git rev-parse --verify`), descriptors are listed with
`git ls-tree` and read in one `git cat-file --batch` process, so comparing thousands of entries
costs three git calls. Unchanged files are recognised by their blob id and never parsed.
Nothing here writes to the repository.
"""

from __future__ import annotations

import errno
import hashlib
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.errors import IntegrityError, ModregError, NotFound, Problem, UsageError
from modreg.registry.history.diff import Change, View, compare
from modreg.registry.search.entries import Entry
from modreg.registry.store.layout import DESCRIPTOR_SUFFIXES

if TYPE_CHECKING:
    from modreg.registry.store.layout import RegistryPaths

__all__ = ["WORKING_TREE", "EntryAt", "EntryChange", "GitRepo", "RegistryDiff", "diff_git", "open_repo", "show_at"]

WORKING_TREE = "working tree"
_STATUS_KINDS = {"deprecated": "deprecated", "archived": "archived", "active": "restored"}


@dataclass(frozen=True)
class EntryAt(Entry):
    """An entry as it was at a git revision (`path` is relative to the registry root)."""

    revision: str = ""
    commit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "revision": self.revision, "commit": self.commit}


@dataclass(frozen=True)
class EntryChange:
    """One entry that differs between two states of the registry.

    `kind` is `added`, `removed`, `deprecated`, `archived`, `restored` (a status change to
    active) or `changed`; `changes` lists the differences of an entry present on both sides.
    """

    name: str
    kind: str
    old_version: str | None = None
    new_version: str | None = None
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class RegistryDiff:
    """Every entry added, removed, deprecated or changed between `old` and `new`."""

    old: str
    new: str
    old_commit: str
    new_commit: str | None  # None: the working tree
    entries: list[EntryChange]
    unreadable: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many entries of each kind, in a fixed order, kinds with none left out."""
        order = ("added", "removed", "deprecated", "archived", "restored", "changed")
        return {kind: n for kind in order if (n := sum(1 for e in self.entries if e.kind == kind))}


# ----- Git -----


@dataclass(frozen=True)
class GitRepo:
    """The git work tree holding a registry, and the registry's folder inside it."""

    top: Path
    prefix: str  # the registry root relative to `top`, posix, "" or ending in "/"

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        """git's stdout; UsageError with git's own message when it fails."""
        done = _git(self.top, args, stdin)
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise UsageError(f"git {args[0]} failed: {message[-1] if message else 'no message'}.", path=self.top)
        return done.stdout

    def resolve(self, revision: str) -> str:
        """The commit `revision` names (a sha, branch, tag, `HEAD~2`, ...).

        Raises:
            UsageError: it looks like an option.
            NotFound: the repository has no such commit.
        """
        if not revision or revision.startswith("-"):
            raise UsageError(f"`{revision}` is not a git revision.", hint="give a commit, branch or tag, e.g. HEAD~1 or main.")
        done = _git(self.top, ("rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"), None)
        if done.returncode != 0:
            raise NotFound(
                f"`{revision}` is not a commit of the git repository at {self.top}.",
                hint="`git log --oneline` lists the commits; a branch, tag or HEAD~N works too.",
            )
        return done.stdout.decode("ascii").strip()

    def descriptors(self, commit: str) -> dict[str, tuple[str, str]]:
        """stem -> (path relative to the registry root, blob id) of models/ at `commit`."""
        out = self.run("ls-tree", "-z", "--full-tree", commit, "--", f"{self.prefix}models/")
        found: dict[str, tuple[str, str]] = {}
        for record in out.decode("utf-8", "surrogateescape").split("\0"):
            meta, _, path = record.partition("\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == "blob" and Path(path).suffix in DESCRIPTOR_SUFFIXES:
                relative = path[len(self.prefix) :]
                found.setdefault(Path(path).stem, (relative, parts[2]))
        return found

    def blobs(self, ids: list[str]) -> dict[str, bytes]:
        """The contents of the blobs `ids`, read by one `git cat-file --batch`. A blob larger
        than a descriptor may be is not read: it stands as an empty `OversizedBlob` with its size
        (a cloned history can hold a 4 GB blob of zeros that packs into a few megabytes)."""
        from modreg.registry.store.files import MAX_BYTES

        if not ids:
            return {}
        sizes = self._sizes(ids)
        contents: dict[str, bytes] = {i: OversizedBlob.of(sizes[i]) for i in ids if sizes.get(i, 0) > MAX_BYTES}
        ids = [i for i in ids if i not in contents]
        out = self.run("cat-file", "--batch", stdin="".join(f"{i}\n" for i in ids).encode("ascii")) if ids else b""
        at = 0
        for blob_id in ids:
            header_end = out.index(b"\n", at)
            size = int(out[at:header_end].split()[2])
            contents[blob_id] = out[header_end + 1 : header_end + 1 + size]
            at = header_end + 1 + size + 1
        return contents

    def _sizes(self, ids: list[str]) -> dict[str, int]:
        """blob id -> its size in bytes (one `git cat-file --batch-check`, nothing read)."""
        out = self.run("cat-file", "--batch-check=%(objectname) %(objectsize)", stdin="".join(f"{i}\n" for i in ids).encode("ascii"))
        pairs = (line.split() for line in out.decode("ascii", "replace").splitlines())
        return {fields[0]: int(fields[1]) for fields in pairs if len(fields) == 2 and fields[1].isdigit()}


class OversizedBlob(bytes):
    """The stand-in for a blob too large to read: no bytes, and the size it has."""

    size: int = 0

    @classmethod
    def of(cls, size: int) -> OversizedBlob:
        blob = cls()
        blob.size = size
        return blob


def _git(cwd: Path, args: tuple[str, ...], stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed, so the registry's history cannot be read.", hint="install git, or drop --at / --git.") from None


def open_repo(paths: RegistryPaths) -> GitRepo:
    """The git repository the registry lives in.

    Raises:
        UsageError: the registry is not inside a git work tree.
    """
    done = _git(paths.root, ("rev-parse", "--show-toplevel", "--show-prefix"), None)
    lines = done.stdout.decode("utf-8", "surrogateescape").splitlines()
    if done.returncode != 0 or not lines:
        raise UsageError(
            f"The registry at {paths.root} is not inside a git repository.",
            hint="--at and --git read the registry's past from git: `git init` and commit it first.",
        )
    return GitRepo(Path(lines[0]), lines[1] if len(lines) > 1 else "")


# ----- show --at -----


def show_at(paths: RegistryPaths, name: str, revision: str) -> EntryAt:
    """The entry `name` as it was at `revision`.

    Raises:
        NotFound: no such commit, or no such entry at it (with the closest name then).
    """
    import difflib

    repo = open_repo(paths)
    commit = repo.resolve(revision)
    found = repo.descriptors(commit)
    stem = name if name in found else {s.casefold(): s for s in found}.get(name.casefold())
    if stem is None:
        close = difflib.get_close_matches(name, list(found), n=1, cutoff=0.6)
        raise NotFound(
            f"No model named `{name}` in the registry at {revision}.",
            hint=f"did you mean `{close[0]}`?" if close else f"was it added later? `modreg diff --git {revision}` lists what changed since.",
        )
    relative, blob = found[stem]
    data = parse_blob(repo.blobs([blob])[blob], revision, relative)
    return EntryAt(stem, relative, _format(relative), data, revision=revision, commit=commit)


def _format(relative: str) -> str:
    return "toml" if relative.endswith(".toml") else "yaml"


def parse_blob(raw: bytes, label: str, relative: str) -> dict[str, Any]:
    """Descriptor data from a blob; errors name `label:relative` (git's own notation)."""
    from modreg.registry.store.files import MAX_BYTES, parse_text

    where = Path(f"{label}:{relative}")
    if isinstance(raw, OversizedBlob):
        raise UsageError(f"{where} is {raw.size:,} bytes, more than the limit of {MAX_BYTES:,}.", path=where,
                         hint="a descriptor holds metadata; keep large data in artifact files.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{where} is not valid UTF-8.", path=where) from None
    return parse_text(text.removeprefix("\ufeff"), where, _format(relative)).data  # type: ignore[arg-type]


# ----- diff --git -----


def diff_git(paths: RegistryPaths, revision: str, revision2: str | None = None) -> RegistryDiff:
    """Every entry added, removed, deprecated, archived, restored or changed between two
    commits, or between a commit and the working tree (`revision2` None)."""
    repo = open_repo(paths)
    old_label, new_label = revision, revision2 or WORKING_TREE
    old_commit = repo.resolve(revision)
    new_commit = repo.resolve(revision2) if revision2 is not None else None
    old_files = repo.descriptors(old_commit)
    new_files = repo.descriptors(new_commit) if new_commit is not None else _working_files(paths)
    stems = sorted(
        (s for s in set(old_files) | set(new_files) if old_files.get(s, ("", ""))[1] != new_files.get(s, ("", ""))[1]),
        key=lambda s: (s.casefold(), s),
    )
    old_data, problems = _read_side(repo, old_files, stems, old_label, None)
    new_data, more = _read_side(repo, new_files, stems, new_label, None if new_commit else paths)
    entries = []
    for stem in stems:
        if (stem in old_files and stem not in old_data) or (stem in new_files and stem not in new_data):
            continue  # unreadable on one side: reported in `unreadable`
        change = _entry_change(stem, old_data.get(stem), new_data.get(stem), old_label, new_label)
        if change is not None:
            entries.append(change)
    return RegistryDiff(old_label, new_label, old_commit, new_commit, entries, problems + more)


def _working_files(paths: RegistryPaths) -> dict[str, tuple[str, str]]:
    """stem -> (relative path, git blob id of the bytes on disk) of models/ in the working tree."""
    found: dict[str, tuple[str, str]] = {}
    for path in paths.descriptor_files():
        try:
            raw = _disk_bytes(path)
        except ModregError:  # a link, a pipe or a device: never read, and reported as unreadable
            found.setdefault(path.stem, (path.relative_to(paths.root).as_posix(), "unreadable"))
            continue
        blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()  # noqa: S324 - git's object id
        found.setdefault(path.stem, (path.relative_to(paths.root).as_posix(), blob))
    return found


def _disk_bytes(path: Path) -> bytes:
    """A descriptor's bytes on disk: a plain file only, never through a link, and at most one
    byte past the size limit (so that parsing reports it too big); IntegrityError otherwise."""
    from modreg._fs import open_plain
    from modreg.registry.store.files import MAX_BYTES

    try:
        with open_plain(path) as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError as error:
        why = "it is a symbolic link" if error.errno == errno.ELOOP else error.strerror or str(error)
        raise IntegrityError(f"{path} cannot be read as a plain file ({why}).",
                             hint="replace it with a plain text file (a link is never followed).", path=path) from None


def _read_side(
    repo: GitRepo, files: Mapping[str, tuple[str, str]], stems: list[str], label: str, disk: RegistryPaths | None
) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Parsed data of the `stems` present on one side; a Problem per file that does not parse."""
    from modreg.registry.store.files import problem_from_error

    wanted = [s for s in stems if s in files]
    raw = {} if disk else _blobs_by_stem(repo, files, wanted)
    data: dict[str, dict[str, Any]] = {}
    problems = []
    for stem in wanted:
        try:
            if disk:
                raw[stem] = _disk_bytes(disk.root / files[stem][0])
            data[stem] = parse_blob(raw[stem], label, files[stem][0])
        except ModregError as error:
            problems.append(problem_from_error(error))
    return data, problems


def _blobs_by_stem(repo: GitRepo, files: Mapping[str, tuple[str, str]], stems: list[str]) -> dict[str, bytes]:
    contents = repo.blobs(sorted({files[s][1] for s in stems}))
    return {s: contents[files[s][1]] for s in stems}


def _entry_change(
    stem: str, before: dict[str, Any] | None, after: dict[str, Any] | None, old_label: str, new_label: str
) -> EntryChange | None:
    """How one entry differs (None when only its formatting changed)."""
    if before is None:
        return EntryChange(stem, "added", new_version=_text(after, "version"))
    if after is None:
        return EntryChange(stem, "removed", old_version=_text(before, "version"))
    changes = compare(View(old_label, before), View(new_label, after))
    if not changes:
        return None
    status_before, status_after = _text(before, "status") or "active", _text(after, "status") or "active"
    kind = _STATUS_KINDS.get(status_after, "changed") if status_before != status_after else "changed"
    return EntryChange(stem, kind, _text(before, "version"), _text(after, "version"), changes)


def _text(data: Mapping[str, Any] | None, key: str) -> str | None:
    value = (data or {}).get(key)
    return value if isinstance(value, str) else None
