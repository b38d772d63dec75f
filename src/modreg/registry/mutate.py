"""The one transaction every mutating command goes through.

    with transaction(paths, "deprecate", dry_run=..., lock_timeout=...) as txn:
        txn.edit(name, lambda data: {**data, "status": "deprecated", ...})
    txn.results  # -> [Mutation(diff=..., written=...)]

Inside the registry lock a transaction reads each file (remembering its sha256), computes the
new text (comment-preserving edits for existing files, canonical order for new ones), and on
leaving the block:

1. checks that every staged file still has the bytes it was read with (a person's editor may
   have saved it meanwhile): a changed file is a `Conflict`, and nothing is written;
2. parses and validates every new text, refusing any problem the change would introduce
   (problems already in a file are left to `modreg validate`);
3. under `--dry-run` stops there, returning the unified diffs; else writes each file atomically
   and appends one audit line per file.

`update_entry` and `create_entry` are the one-line forms used by most commands.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modreg.errors import Conflict, IntegrityError, ModregError, Problem, UsageError
from modreg.registry.entries import find_entry, require_free_name
from modreg.registry.layout import RegistryPaths
from modreg.registry.lock import DEFAULT_TIMEOUT, registry_lock

if TYPE_CHECKING:
    from modreg.registry.files import SourceDoc
    from modreg.registry.validate import ValidationContext

__all__ = ["BatchItem", "Mutation", "Transaction", "create_entry", "run_batch", "transaction", "update_entry"]

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
class _Staged:
    name: str
    path: Path
    fmt: str
    old_text: str | None
    new_text: str | None
    old_sha: str | None
    old_data: dict[str, Any]
    new_data: dict[str, Any] | None
    trash: Path | None = None
    source: Path | None = None  # the hand-written file an entry is adopted from


@dataclass
class Transaction:
    """Changes staged under the registry lock; committed (or diffed) when the block ends."""

    paths: RegistryPaths
    command: str
    dry_run: bool = False
    staged: list[_Staged] = field(default_factory=list)
    results: list[Mutation] = field(default_factory=list)

    def edit(self, name: str, change: Change) -> None:
        """Stage `change` (plain data in, plain data out) to the entry `name`."""
        from modreg.registry.descriptor import CANONICAL_ORDER
        from modreg.registry.edits import apply_changes
        from modreg.registry.files import read_document

        doc = read_document(find_entry(self.paths, name))
        new = change(copy.deepcopy(doc.data))
        text = apply_changes(doc.text, doc.fmt, doc.data, new, CANONICAL_ORDER)
        self.staged.append(_Staged(name, doc.path, doc.fmt, doc.text, text, doc.sha256, doc.data, new))

    def create(self, data: dict[str, Any], fmt: str, *, text: str | None = None, source: Path | None = None) -> None:
        """Stage a new entry: `text` as given (adopted from `source`), else `data` in canonical order."""
        from modreg.registry.descriptor import dumps_toml, dumps_yaml

        name = data.get("name")
        if not isinstance(name, str):
            raise UsageError("A descriptor needs a `name` (a string).", hint="add `name = \"...\"`, the same as the file's stem.", path=source)
        require_free_name(self.paths, name)
        suffix = source.suffix if source is not None else ".yaml" if fmt == "yaml" else ".toml"
        if text is None:
            text = dumps_yaml(data) if fmt == "yaml" else dumps_toml(data)
        path = self.paths.models / f"{name}{suffix}"
        self.staged.append(_Staged(name, path, fmt, None, text, None, {}, data, source=source))

    def delete(self, name: str, *, trash: Path | None = None) -> None:
        """Stage removing the entry `name`; its file is moved into `trash` when given."""
        from modreg.registry.files import read_document

        doc = read_document(find_entry(self.paths, name))
        self.staged.append(_Staged(name, doc.path, doc.fmt, doc.text, None, doc.sha256, doc.data, None, trash))

    def commit(self) -> list[Mutation]:
        """Check, validate, then write (or only diff) every staged change."""
        for item in self.staged:
            _check_unchanged(item)
        _validate(self.paths, self.staged)
        self.results = [self._finish(item) for item in self.staged]
        return self.results

    def _finish(self, item: _Staged) -> Mutation:
        from modreg.registry.audit import append_audit, make_entry, summarize_changes

        diff = _unified_diff(self.paths, item)
        changes = _changes(item, summarize_changes)
        version = (item.new_data or item.old_data).get("version")
        written = bool(diff) and not self.dry_run
        if written:
            _write(item)
            append_audit(self.paths, make_entry(self.command, item.name, changes, _text_or_none(version)))
        action = "create" if item.old_text is None else "delete" if item.new_text is None else "update"
        return Mutation(self.command, item.name, item.path, action, diff, changes, _text_or_none(version), written, self.dry_run)


@contextmanager
def transaction(
    paths: RegistryPaths, command: str, *, dry_run: bool = False, lock_timeout: float = DEFAULT_TIMEOUT
) -> Iterator[Transaction]:
    """Hold the registry lock, collect staged changes, and commit them when the block ends.

    Nothing is written when the block raises, when a check fails, or under `dry_run`.
    """
    from modreg.registry.atomic import sweep_temp_files

    with registry_lock(paths, lock_timeout):
        sweep_temp_files(paths.models)
        txn = Transaction(paths, command, dry_run)
        yield txn
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


# ----- Checks -----


def _check_unchanged(item: _Staged) -> None:
    """The file must hold the bytes it was read with (or still be absent, for a new entry)."""
    try:
        current = hashlib.sha256(item.path.read_bytes()).hexdigest()
    except FileNotFoundError:
        current = None
    if current != item.old_sha:
        raise Conflict(
            f"{item.path.name} changed on disk while modreg was editing it; nothing was written.",
            hint="run the command again to apply it to the file as it is now.",
            path=item.path,
        )


def _validate(paths: RegistryPaths, staged: list[_Staged]) -> None:
    """Refuse a change that adds a problem to a file or breaks a rule across files."""
    from modreg.registry.config import load_config
    from modreg.registry.validate import build_context

    config = load_config(paths)
    context, _ = build_context(paths, config)
    for item in staged:
        if item.new_text is not None:
            _refuse(item, _file_problems(item, context))
    if any(_touches_links(item) for item in staged):
        before, after = _cross_problems(paths, staged, context)
        _refuse(staged[0], _introduced(before, after))


def _file_problems(item: _Staged, context: ValidationContext) -> list[Problem]:
    """Single-file problems of the new text that the old text did not have."""
    from modreg.registry.edits import same
    from modreg.registry.files import parse_text

    doc = parse_text(item.new_text or "", item.path, item.fmt)  # type: ignore[arg-type]
    if item.new_data is not None and not same(doc.data, item.new_data):
        raise IntegrityError(
            f"modreg could not edit {item.path.name} without changing values it was not asked to; nothing was written.",
            hint="make this change by hand, and please report the file that caused it.",
            path=item.path,
        )
    after = _errors(_check(doc, context))
    if item.old_text is None:
        return after
    before = parse_text(item.old_text, item.path, item.fmt)  # type: ignore[arg-type]
    return _introduced(_errors(_check(before, context)), after)


def _check(doc: SourceDoc, context: ValidationContext) -> list[Problem]:
    from modreg.registry.validate import validate_data

    return validate_data(doc.data, doc.path, doc, context.config, context=context)


def _errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _introduced(before: list[Problem], after: list[Problem]) -> list[Problem]:
    seen = {(p.path, p.json_path, p.message) for p in before}
    return [p for p in after if (p.path, p.json_path, p.message) not in seen]


_LINK_KEYS = ("name", "version", "status", "deprecation", "dependencies")


def _touches_links(item: _Staged) -> bool:
    """Whether the change can affect other entries (or their view of this one)."""
    from modreg.registry.edits import same

    old, new = item.old_data, item.new_data or {}
    return any(not same(old.get(key), new.get(key)) for key in _LINK_KEYS)


def _cross_problems(
    paths: RegistryPaths, staged: list[_Staged], context: ValidationContext
) -> tuple[list[Problem], list[Problem]]:
    """Cross-file errors of the whole registry before and after the staged changes."""
    from modreg.registry import _crosscheck
    from modreg.registry.files import SourceDoc, read_documents
    from modreg.registry.validate import _summary

    changed = {item.path: item for item in staged}
    others = [p for p in paths.descriptor_files() if p not in changed]
    base = [
        _summary(path, doc.data, True)
        for path, doc in zip(others, read_documents(others))
        if isinstance(doc, SourceDoc)
    ]
    old = [_summary(i.path, i.old_data, True) for i in staged if i.old_text is not None]
    new = [_summary(i.path, i.new_data, True) for i in staged if i.new_data is not None and i.new_text is not None]
    return _errors(_crosscheck.check(base + old, context)), _errors(_crosscheck.check(base + new, context))


def _refuse(item: _Staged, problems: list[Problem]) -> None:
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    elsewhere = Path(first.path).name != item.path.name
    if item.source is not None and not elsewhere:
        location: dict[str, Any] = {"path": item.source, "line": first.line, "col": first.col}
        subject = f"{item.source.name} is not a valid descriptor"
    elif elsewhere:
        location = {"path": first.path, "line": first.line, "col": first.col}
        subject = f"the change to `{item.name}` would break {first.path}"
    else:
        location = {"path": item.path if item.old_text is not None else None}
        subject = f"`{item.name}` would not be valid" if item.old_text is None else "the change would leave this file invalid"
    raise UsageError(
        f"{subject}: {first.message}{more}; nothing was written.",
        hint=first.hint or "fix the values given, or edit the file by hand and run `modreg validate`.",
        **location,
    )


# ----- Output -----


def _unified_diff(paths: RegistryPaths, item: _Staged) -> str:
    relative = item.path.relative_to(paths.root).as_posix()
    before = (item.old_text or "").splitlines(keepends=True)
    after = (item.new_text or "").splitlines(keepends=True)
    source = f"a/{relative}" if item.old_text is not None else "/dev/null"
    target = f"b/{relative}" if item.new_text is not None else "/dev/null"
    return "".join(difflib.unified_diff(before, after, source, target))


def _changes(item: _Staged, summarize: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    relative = f"models/{item.path.name}"
    if item.old_text is None:
        return {"created": relative}
    if item.new_text is None:
        return {"deleted": relative}
    return summarize(item.old_data, item.new_data or {})


def _write(item: _Staged) -> None:
    from modreg.registry.atomic import write_atomic

    if item.new_text is not None:
        write_atomic(item.path, item.new_text)
    elif item.trash is not None:
        item.trash.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        item.path.replace(item.trash / f"{item.path.stem}.{stamp}{item.path.suffix}")
    else:
        item.path.unlink()


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None

