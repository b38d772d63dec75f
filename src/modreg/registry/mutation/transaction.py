"""The one transaction every mutating command goes through.

    with transaction(paths, "deprecate", dry_run=..., lock_timeout=...) as txn:
        txn.edit(name, lambda data: {**data, "status": "deprecated", ...})
    txn.results  # -> [Mutation(diff=..., written=...)]

Most of the work happens before the registry lock is taken, so that many writers at once
spend little time in line: inside the block each staged change reads its file (remembering
its sha256) and computes the new text (comment-preserving edits for existing files, canonical
order for new ones); on leaving the block

1. every new text is parsed and validated, refusing any single-file problem the change would
   introduce (problems already in a file are left to `modreg validate`; see `checks`);
2. then, under the lock: a staged file whose bytes changed meanwhile (or a new name taken
   meanwhile) makes the whole transaction run again on the files as they are now, under the
   lock, so an edit saved before the lock is kept and built upon, never lost;
3. the cross-file rules are checked among the entries the change can affect (from the cache);
4. every staged file must still hold the bytes it was read with (a person's editor may have
   saved it meanwhile): a changed file is a `Conflict`, and nothing is written;
5. under `--dry-run` it stops there (without the lock), returning the unified diffs; else it
   writes each file atomically and appends one audit line per file.

`update_entry` and `create_entry` are the one-line forms used by most commands.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from modreg.errors import ModregError, UsageError
from modreg.registry.mutation.recorded import FIRST_SUMMARY, RECORDED_SUMMARY, find_item, with_current_version
from modreg.registry.search.entries import find_entry, require_free_name
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.store.lock import DEFAULT_TIMEOUT, registry_lock

__all__ = ["BatchItem", "Mutation", "Staged", "Transaction", "create_entry", "run_batch", "transaction", "update_entry"]

Change = Callable[[dict[str, Any]], dict[str, Any]]
T = TypeVar("T")


@dataclass(frozen=True)
class Mutation:
    """What a command did (or, with `dry_run`, would do) to one descriptor file."""

    command: str
    name: str
    path: Path
    action: str  # "create" | "update" | "delete"
    diff: str
    changes: dict[str, Any]
    version: str | None
    written: bool
    dry_run: bool
    trash: Path | None = None  # where a deleted file is kept (under dry_run: would be)

    @property
    def changed(self) -> bool:
        return bool(self.diff)


@dataclass(frozen=True)
class BatchItem:
    """One item of a batch command: its Mutation, or the error that stopped it."""

    source: str
    mutation: Mutation | None = None
    error: ModregError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "mutation": self.mutation,
            "error": self.error.to_dict() if self.error is not None else None,
        }


def run_batch(sources: Sequence[T], action: Callable[[T], Mutation]) -> list[BatchItem]:
    """`action` on every source, each error captured, so one bad item never stops the rest."""
    items = []
    for source in sources:
        try:
            items.append(BatchItem(str(source), action(source)))
        except ModregError as error:
            items.append(BatchItem(str(source), error=error))
    return items


@dataclass
class Staged:
    """One file's pending change: texts and data before and after, and where it goes."""

    name: str
    path: Path
    fmt: str
    old_text: str | None
    new_text: str | None
    old_sha: str | None
    old_data: dict[str, Any]
    new_data: dict[str, Any] | None
    trash: Path | None = None  # the file a deleted entry is moved to
    source: Path | None = None  # the hand-written file an entry is adopted from
    unlink: bool = False  # a forced delete: other entries' links to it may be left dangling


@dataclass
class Transaction:
    """Changes staged without the lock; checked and committed (or diffed) under it."""

    paths: RegistryPaths
    command: str
    dry_run: bool = False
    staged: list[Staged] = field(default_factory=list)
    results: list[Mutation] = field(default_factory=list)
    _steps: list[Callable[[], None]] = field(default_factory=list)

    def edit(self, name: str, change: Change) -> None:
        """Stage `change` (plain data in, plain data out) to the entry `name`."""
        self._step(lambda: self._edit(name, change))

    def create(self, data: dict[str, Any], fmt: str, *, text: str | None = None, source: Path | None = None) -> None:
        """Stage a new entry: `text` as given (adopted from `source`), else `data` in canonical order."""
        self._step(lambda: self._create(data, fmt, text, source))

    def delete(self, name: str, *, trash: Path | None = None, force: bool = False) -> None:
        """Stage removing the entry `name`; its file is moved into the folder `trash` when given.

        With `force`, entries that depend on it (or name it as replacement) may be left with
        dangling links, which `modreg validate` then reports; without, such a delete is refused.
        """
        self._step(lambda: self._delete(name, trash, force))

    def prepare(self) -> None:
        """The checks of each new text on its own (no lock needed)."""
        from modreg.registry.mutation.checks import validate_files

        validate_files(self.paths, self.staged)

    def commit(self) -> list[Mutation]:
        """Under the lock: catch up with files changed meanwhile, check across files, check
        nothing changed on disk, then write (or only diff) every change."""
        from modreg.registry.mutation.checks import check_unchanged, validate_links

        if self._moved():
            self.staged = []
            for step in self._steps:
                step()
            self.prepare()
        validate_links(self.paths, self.staged)
        for item in self.staged:
            check_unchanged(item)
        self.results = []
        for item in self.staged:
            try:
                self.results.append(self._finish(item))
            except ModregError as error:  # the files written before it stay written (each whole, each logged): say so
                written = [result.path.name for result in self.results if result.written]
                if written:
                    error.message = f"{error.message.rstrip('.')}; written before it: {', '.join(written)}."
                    error.args = (error.message,)
                raise
        return self.results

    def _step(self, step: Callable[[], None]) -> None:
        step()
        self._steps.append(step)

    def _moved(self) -> bool:
        """Whether a staged file changed since it was read, or a new entry's name was taken."""
        from modreg.registry.mutation.checks import current_sha

        for item in self.staged:
            if item.old_text is None:  # taken in another case or suffix meanwhile: Conflict
                require_free_name(self.paths, item.name)
            if current_sha(item.path) != item.old_sha:
                return True
        return False

    def _edit(self, name: str, change: Change) -> None:
        from modreg.registry.store.descriptor import CANONICAL_ORDER
        from modreg.registry.store.edits import apply_changes
        from modreg.registry.store.files import read_document

        path = find_entry(self.paths, name)
        earlier = next((item for item in self.staged if item.path == path and item.new_data is not None), None)
        if earlier is not None:  # a second change to the same entry builds on the first
            new = _recorded(earlier.new_data, change(copy.deepcopy(earlier.new_data)))
            earlier.new_text = apply_changes(earlier.new_text or "", earlier.fmt, earlier.new_data or {}, new, CANONICAL_ORDER)
            earlier.new_data = new
            return
        doc = read_document(path)
        new = _recorded(doc.data, change(copy.deepcopy(doc.data)))
        text = apply_changes(doc.text, doc.fmt, doc.data, new, CANONICAL_ORDER)
        self.staged.append(Staged(name, doc.path, doc.fmt, doc.text, text, doc.sha256, doc.data, new))

    def _create(self, data: dict[str, Any], fmt: str, text: str | None, source: Path | None) -> None:
        from modreg.registry.store.descriptor import CANONICAL_ORDER, dumps_toml, dumps_yaml
        from modreg.registry.store.edits import apply_changes

        name = data.get("name")
        if not isinstance(name, str):
            raise UsageError("A descriptor needs a `name` (a string).", hint="add `name = \"...\"`, the same as the file's stem.", path=source)
        require_free_name(self.paths, name)
        suffix = source.suffix if source is not None else ".yaml" if fmt == "yaml" else ".toml"
        first = FIRST_SUMMARY if not data.get("history") else RECORDED_SUMMARY
        recorded = with_current_version(data, dt.date.today(), summary=first)  # the first version is in its history
        if text is None:
            text = dumps_yaml(recorded) if fmt == "yaml" else dumps_toml(recorded)
        elif recorded is not data:
            text = apply_changes(text, fmt, data, recorded, CANONICAL_ORDER)
        path = self.paths.models / f"{name}{suffix}"
        self.staged.append(Staged(name, path, fmt, None, text, None, {}, recorded, source=source))

    def _delete(self, name: str, trash: Path | None, force: bool) -> None:
        from modreg.registry.store.files import read_document

        doc = read_document(find_entry(self.paths, name))
        kept = _trash_target(trash, doc.path) if trash is not None else None
        self.staged.append(Staged(name, doc.path, doc.fmt, doc.text, None, doc.sha256, doc.data, None, kept, unlink=force))

    def _finish(self, item: Staged) -> Mutation:
        from modreg._fs import signals_deferred
        from modreg.registry.store.audit import append_audit, make_entry, retract_audit, summarize_changes

        diff = _unified_diff(self.paths, item)
        changes = _changes(item, summarize_changes)
        version = (item.new_data or item.old_data).get("version")
        written = bool(diff) and not self.dry_run
        if written:  # the audit line first: a change the log cannot record is not made
            with signals_deferred():  # Ctrl-C between the two would leave a line for a change not made, or the reverse
                before = append_audit(self.paths, make_entry(self.command, item.name, changes, _text_or_none(version)))
                try:
                    _write(item, self.paths.root)
                except BaseException:
                    retract_audit(self.paths, before)
                    raise
        action = "create" if item.old_text is None else "delete" if item.new_text is None else "update"
        return Mutation(
            self.command, item.name, item.path, action, diff, changes, _text_or_none(version), written, self.dry_run, item.trash
        )


@contextmanager
def transaction(
    paths: RegistryPaths, command: str, *, dry_run: bool = False, lock_timeout: float = DEFAULT_TIMEOUT
) -> Iterator[Transaction]:
    """Collect staged changes, check them, and commit them under the registry lock when the block ends.

    Nothing is written when the block raises, when a check fails, or under `dry_run`.
    """
    txn = Transaction(paths, command, dry_run)
    yield txn
    txn.prepare()
    if dry_run:  # nothing is written: no need to wait in line
        txn.commit()
        return
    with registry_lock(paths, lock_timeout):  # taking it sweeps the temp files of writers killed mid-write
        txn.commit()


def update_entry(
    paths: RegistryPaths,
    name: str,
    change: Change,
    *,
    command: str,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> Mutation:
    """Apply `change` to one entry, keeping the file's comments and layout."""
    with transaction(paths, command, dry_run=dry_run, lock_timeout=lock_timeout) as txn:
        txn.edit(name, change)
    return txn.results[0]


def create_entry(
    paths: RegistryPaths,
    data: dict[str, Any],
    fmt: str,
    *,
    command: str,
    text: str | None = None,
    source: Path | None = None,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> Mutation:
    """Write a new entry (refused with Conflict when its name exists in any case or suffix)."""
    with transaction(paths, command, dry_run=dry_run, lock_timeout=lock_timeout) as txn:
        txn.create(data, fmt, text=text, source=source)
    return txn.results[0]


# ----- Output -----


def _recorded(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new`, plus the version `old` had when a change did anything and that version was
    missing from [[history]] (snapshotted as it was before the change)."""
    from modreg.registry.store.edits import same

    if same(old, new):
        return new
    before = with_current_version(old, dt.date.today())
    history = new.get("history", [])
    if before is not old and isinstance(history, list) and find_item(history, before["history"][-1]["version"]) is None:
        new = {**new, "history": [*history, before["history"][-1]]}
    return with_current_version(new, dt.date.today())


def _unified_diff(paths: RegistryPaths, item: Staged) -> str:
    relative = item.path.relative_to(paths.root).as_posix()
    before = (item.old_text or "").splitlines(keepends=True)
    after = (item.new_text or "").splitlines(keepends=True)
    source = f"a/{relative}" if item.old_text is not None else "/dev/null"
    target = f"b/{relative}" if item.new_text is not None else "/dev/null"
    return "".join(difflib.unified_diff(before, after, source, target))


def _changes(item: Staged, summarize: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    relative = f"models/{item.path.name}"
    if item.old_text is None:
        return {"created": relative}
    if item.new_text is None:
        return {"deleted": relative}
    return summarize(item.old_data, item.new_data or {})


def _write(item: Staged, root: Path) -> None:
    """Write (or move away) one file; UsageError naming it when the disk refuses."""
    from modreg._fs import READ_ONLY, refuse_links, write_atomic

    try:
        if item.new_text is not None:
            write_atomic(item.path, item.new_text, root=root)
        elif item.trash is not None:
            refuse_links(root, item.path)
            refuse_links(root, item.trash)
            item.trash.parent.mkdir(parents=True, exist_ok=True)
            item.path.replace(item.trash)
        else:
            item.path.unlink()
    except OSError as error:
        state = "it is unchanged" if item.old_text is not None else "nothing was written"
        hint = (f"make it writable (chmod u+w {item.path.name}) if it is meant to change, then run the command again."
                if error.strerror == READ_ONLY else "check the folder's permissions and free disk space, then run the command again.")
        raise UsageError(f"modreg cannot write {item.path} ({error.strerror or error}); {state}.", hint=hint, path=item.path) from None


def _trash_target(folder: Path, path: Path) -> Path:
    """`folder/<stem>.<UTC time><suffix>`, numbered when a file of that name is kept already."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target, number = folder / f"{path.stem}.{stamp}{path.suffix}", 1
    while target.exists():
        number += 1
        target = folder / f"{path.stem}.{stamp}-{number}{path.suffix}"
    return target


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None

