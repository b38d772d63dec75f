"""The checks a transaction runs before it writes: validity, and nothing changed on disk.

A change is refused only for the problems it introduces. Single-file problems
(`validate_files`, run before the lock is taken) are compared with those of the file as it
was; cross-file problems (`validate_links`: dependencies, replacements, cycles; run under the
lock) are compared before and after among the entries the change can affect (`_links`), and
only when the change touches a key other entries can see (name, version, status,
deprecation, dependencies).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.errors import Conflict, IntegrityError, Problem, UsageError
from modreg.registry.store.layout import RegistryPaths

if TYPE_CHECKING:
    from modreg.registry.store.files import SourceDoc
    from modreg.registry.mutation.transaction import Staged
    from modreg.registry.checks.context import ValidationContext

__all__ = ["check_unchanged", "current_sha", "validate_files", "validate_links"]


def check_unchanged(item: Staged) -> None:
    """The file must hold the bytes it was read with (or still be absent, for a new entry)."""
    if current_sha(item.path) != item.old_sha:
        raise Conflict(
            f"{item.path.name} changed on disk while modreg was editing it; nothing was written.",
            hint="run the command again to apply it to the file as it is now.",
            path=item.path,
        )


def current_sha(path: Path) -> str | None:
    """The sha256 of the file's bytes now (of its first MAX_BYTES + 1, which no descriptor
    exceeds); None when it does not exist. A file swapped for a link, a pipe or a device since it
    was read hashes to "" (a change), and is never followed or waited on."""
    from modreg._fs import open_plain
    from modreg.registry.store.files import MAX_BYTES

    try:
        with open_plain(path) as handle:
            return hashlib.sha256(handle.read(MAX_BYTES + 1)).hexdigest()
    except FileNotFoundError:
        return None
    except (OSError, IntegrityError):
        return ""


def validate_files(paths: RegistryPaths, staged: list[Staged]) -> None:
    """Refuse a change that adds a problem to a file (its own checks: schema, policy, ...)."""
    from modreg.registry.checks.config import load_config
    from modreg.registry.checks.context import build_context

    items = [item for item in staged if item.new_text is not None]
    if not items:
        return
    context, _ = build_context(paths, load_config(paths))
    for item in items:
        _refuse(item, _file_problems(item, context))


def validate_links(paths: RegistryPaths, staged: list[Staged]) -> None:
    """Refuse a change that breaks a rule across files (under the lock: the others must not move)."""
    from modreg.registry.mutation._links import introduced_link_problems

    if any(_touches_links(item) for item in staged if not item.unlink):
        _refuse(staged[0], introduced_link_problems(paths, staged))


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


def _refuse(item: Staged, problems: list[Problem]) -> None:
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more, each listed above)" if len(problems) > 1 else ""
    elsewhere = Path(first.path).name != item.path.name
    if item.source is not None and not elsewhere:  # name the file given, not models/<its name>
        problems = [replace(p, path=str(item.source)) if Path(p.path).name == item.path.name else p for p in problems]
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
