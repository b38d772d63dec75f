"""The checks a transaction runs before it writes: validity, and nothing changed on disk.

A change is refused only for the problems it introduces. Single-file problems are compared
with those of the file as it was; cross-file problems (dependencies, replacements, cycles) are
computed for the whole registry before and after, but only when the change touches a key other
entries can see (name, version, status, deprecation, dependencies), since that costs a read of
every descriptor.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.errors import Conflict, IntegrityError, Problem, UsageError
from modreg.registry.store.layout import RegistryPaths

if TYPE_CHECKING:
    from modreg.registry.store.files import SourceDoc
    from modreg.registry.mutation.transaction import Staged
    from modreg.registry.checks.context import ValidationContext

__all__ = ["check_unchanged", "validate_staged"]


def check_unchanged(item: Staged) -> None:
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


def validate_staged(paths: RegistryPaths, staged: list[Staged]) -> None:
    """Refuse a change that adds a problem to a file or breaks a rule across files."""
    from modreg.registry.checks.config import load_config
    from modreg.registry.checks.context import build_context

    config = load_config(paths)
    context, _ = build_context(paths, config)
    for item in staged:
        if item.new_text is not None:
            _refuse(item, _file_problems(item, context))
    if any(_touches_links(item) for item in staged if not item.unlink):
        before, after = _cross_problems(paths, staged, context)
        _refuse(staged[0], _introduced(before, after))


def _file_problems(item: Staged, context: ValidationContext) -> list[Problem]:
    """Single-file problems of the new text that the old text did not have."""
    from modreg.registry.store.edits import same
    from modreg.registry.store.files import parse_text

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
    from modreg.registry.checks.validate import validate_data

    return validate_data(doc.data, doc.path, doc, context.config, context=context)


def _errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _introduced(before: list[Problem], after: list[Problem]) -> list[Problem]:
    seen = {(p.path, p.json_path, p.message) for p in before}
    return [p for p in after if (p.path, p.json_path, p.message) not in seen]


_LINK_KEYS = ("name", "version", "status", "deprecation", "dependencies")


def _touches_links(item: Staged) -> bool:
    """Whether the change can affect other entries (or their view of this one)."""
    from modreg.registry.store.edits import same

    old, new = item.old_data, item.new_data or {}
    return any(not same(old.get(key), new.get(key)) for key in _LINK_KEYS)


def _cross_problems(
    paths: RegistryPaths, staged: list[Staged], context: ValidationContext
) -> tuple[list[Problem], list[Problem]]:
    """Cross-file errors of the whole registry before and after the staged changes."""
    from modreg.registry.checks import _crosscheck
    from modreg.registry.store.files import SourceDoc, read_documents
    from modreg.registry.checks.validate import _summary

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


def _refuse(item: Staged, problems: list[Problem]) -> None:
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more, each listed above)" if len(problems) > 1 else ""
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
    if elsewhere:  # another entry depends on what this change removes: a conflict, not a bad value
        raise Conflict(
            f"{subject}: {first.message}{more}; nothing was written.",
            hint=f"change {first.path} first" + (f": {first.hint}" if first.hint else "."),
            problems=problems if len(problems) > 1 else (),
            **location,
        )
    raise UsageError(
        f"{subject}: {first.message}{more}; nothing was written.",
        hint=first.hint or "fix the values given, or edit the file by hand and run `modreg validate`.",
        problems=problems if len(problems) > 1 else (),
        **location,
    )
