"""How lifecycle commands show their results: notices, history, audit, and diffs.

The diff renderers are pure functions returning strings (`entry_diff_text`,
`entry_diff_markdown`, `registry_diff_text`, `registry_diff_markdown`); the markdown is ready
to paste as a pull-request comment.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from modreg.cli.console import State
from modreg.cli.model_views import render_mutation
from modreg.cli.render import emit_json, notice, warn
from modreg.cli.tables import Table, TableFormat, print_tables

if TYPE_CHECKING:
    from modreg.registry.store.audit import AuditEntry
    from modreg.registry.history.diff import Change, EntryDiff
    from modreg.registry.history.gitview import RegistryDiff
    from modreg.registry.history.history import History
    from modreg.registry.history.lifecycle import Deletion
    from modreg.registry.mutation.transaction import Mutation

__all__ = [
    "entry_diff_markdown",
    "entry_diff_text",
    "registry_diff_markdown",
    "registry_diff_text",
    "render_audit",
    "render_deletion",
    "render_history",
    "render_transition",
]

_MARKS = {"added": "+", "removed": "-", "changed": "~"}
_ENTRY_MARKS = {"added": "+", "removed": "-", "deprecated": "!", "archived": "x", "restored": "^", "changed": "~"}


# ----- Mutations -----


def render_transition(state: State, mutation: Mutation, message: str) -> None:
    """`message` once the change is written; JSON, the dry-run diff or "nothing to change" else."""
    if state.json or mutation.dry_run or not mutation.diff:
        render_mutation(state, mutation)
    else:
        notice(state, message)


def render_deletion(state: State, deletion: Deletion) -> None:
    """Where the file went and how to bring it back; a warning per dependent left dangling."""
    from modreg.registry.store.files import display_path

    mutation = deletion.mutation
    refers = "would refer" if mutation.dry_run else "now refers"
    for dependent in deletion.dependents:
        warn(state, f"{dependent.describe()} {refers} to a missing entry; `modreg validate` reports it.")
    if state.json:
        emit_json(state, deletion)
        return
    if mutation.dry_run:
        render_mutation(state, mutation)
        return
    kept, home = display_path(mutation.trash or ""), display_path(mutation.path)
    notice(state, f"deleted {mutation.name} ({home}); the file is kept as {kept}.")
    notice(state, f"to bring it back: mv {kept} {home}")


# ----- History and audit -----


def render_history(state: State, history: History, fmt: TableFormat | None = None) -> None:
    """The versions of an entry, oldest first (the current one marked with *)."""
    if state.json:
        emit_json(state, history)
        return
    rows = [
        ["*" if item.version == history.current else "", item.version, item.date.isoformat() if item.date else "",
         ", ".join(a.get("path", "") for a in item.artifacts), item.summary]
        for item in history.items
    ]
    if not history.has_current:
        rows.append(["*", history.current, "", "", "(the current version; not in [[history]])"])
    print_tables(state, [Table(["current", "version", "date", "artifacts", "summary"], rows)], fmt)


def render_audit(state: State, entries: list[AuditEntry], name: str | None, fmt: TableFormat | None = None) -> None:
    """The audit log, oldest first, one line per change; or one JSON list."""
    if state.json:
        emit_json(state, entries)
        return
    if not entries:
        notice(state, f"No audit entries{' for ' + name if name else ''}.")
        return
    rows = [[e.time, e.user, e.command, e.name, e.version or "", _audit_changes(e.changes)] for e in entries]
    print_tables(state, [Table(["time", "user", "command", "name", "version", "changes"], rows)], fmt, cut_last=True)


def _audit_changes(changes: dict[str, Any]) -> str:
    """`key: old -> new` per change (long values just by key), joined by `; `."""
    parts = []
    for key, change in changes.items():
        if isinstance(change, dict) and _is_short(change):
            parts.append(f"{key}: {_plain(change.get('old'))} -> {_plain(change.get('new'))}")
        else:
            parts.append(key if isinstance(change, dict) else f"{key}: {_plain(change)}")
    return "; ".join(parts)


def _is_short(change: dict[str, Any]) -> bool:
    return all(not isinstance(change.get(k), (dict, list)) and len(str(change.get(k))) <= 24 for k in ("old", "new"))


def _plain(value: Any) -> str:
    return "(none)" if value is None else str(value)


# ----- Diffs: text -----


def entry_diff_text(diff: EntryDiff) -> str:
    """`NAME OLD -> NEW` and one line per change (`~ path: old -> new (delta, %)`)."""
    lines = [f"{diff.name} {diff.old} -> {diff.new}"]
    shown = _shown_changes(diff)
    lines += [f"  {_change_text(c)}" for c in shown] or [f"  no differences between {diff.old} and {diff.new}"]
    return "\n".join(lines) + "\n"


def _shown_changes(diff: EntryDiff) -> list[Change]:
    """The changes, without a `version` change the heading already states."""
    return [c for c in diff.changes if not (c.path == "version" and c.old == diff.old and c.new == diff.new)]


def _change_text(change: Change) -> str:
    mark = _MARKS[change.kind]
    if change.kind == "added":
        return f"{mark} {change.path} = {_show(change.new)}"
    if change.kind == "removed":
        return f"{mark} {change.path} (was {_show(change.old)})"
    delta = f" ({_delta(change)})" if change.delta is not None else ""
    return f"{mark} {change.path}: {_show(change.old)} -> {_show(change.new)}{delta}"


def registry_diff_text(diff: RegistryDiff) -> str:
    """A summary line, then each entry with its changes indented below it."""
    if not diff.entries:
        readable = " readable" if diff.unreadable else ""
        return f"No{readable} entries differ between {diff.old} and {diff.new}.\n"
    counts = ", ".join(f"{n} {kind}" for kind, n in diff.counts().items())
    lines = [f"{diff.old} -> {diff.new}: {counts}"]
    for entry in diff.entries:
        heading = [_ENTRY_MARKS[entry.kind], entry.name, _versions(entry.old_version, entry.new_version), f"({entry.kind})"]
        lines.append(" ".join(part for part in heading if part))
        lines += [f"    {_change_text(c)}" for c in entry.changes if c.path != "version"]
    return "\n".join(lines) + "\n"


def _versions(old: str | None, new: str | None) -> str:
    if old and new and old != new:
        return f"{old} -> {new}"
    return new or old or ""


# ----- Diffs: markdown -----


def entry_diff_markdown(diff: EntryDiff) -> str:
    """A heading and a table of changes, ready to paste into a pull-request comment."""
    lines = [f"### `{diff.name}` {diff.old} → {diff.new}", ""]
    shown = _shown_changes(diff)
    if not shown:
        return "\n".join([*lines, f"No differences between {diff.old} and {diff.new}.", ""])
    return "\n".join([*lines, *_changes_table(shown, diff.old, diff.new), ""])


def _changes_table(changes: list[Change], old: str, new: str) -> list[str]:
    rows = [f"| field | {_md(old)} | {_md(new)} | change |", "|---|---|---|---|"]
    for c in changes:
        before = _md_value(c.old) if c.kind != "added" else ""
        after = _md_value(c.new) if c.kind != "removed" else ""
        rows.append(f"| `{c.path}` | {before} | {after} | {_md(_delta(c)) if c.delta is not None else c.kind} |")
    return rows


def registry_diff_markdown(diff: RegistryDiff) -> str:
    """A summary table of every entry that differs, then each one's changes in a fold."""
    lines = [f"## Registry changes: {_md(diff.old)} → {_md(diff.new)}", ""]
    if not diff.entries:
        return "\n".join([*lines, "No entries differ.", ""])
    lines += [", ".join(f"{n} {kind}" for kind, n in diff.counts().items()) + ".", ""]
    lines += ["| entry | change | version |", "|---|---|---|"]
    for entry in diff.entries:
        versions = _versions(entry.old_version, entry.new_version).replace("->", "→")
        lines.append(f"| `{entry.name}` | {entry.kind} | {versions} |")
    for entry in diff.entries:
        changes = [c for c in entry.changes if c.path != "version"]
        if changes:
            count = f"{len(changes)} change{'s' * (len(changes) != 1)}"
            lines += ["", f"<details><summary><code>{entry.name}</code> ({entry.kind}): {count}</summary>", ""]
            lines += [*_changes_table(changes, diff.old, diff.new), "", "</details>"]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _md_value(value: Any) -> str:
    shown = _show(value)
    return f"`{_md(shown)}`" if "`" not in shown else _md(shown)


# ----- Values -----


def _show(value: Any) -> str:
    """A value as it reads in a descriptor: quoted text, plain numbers, ISO dates, lists."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + " }" if value else "{}"
    return repr(value) if isinstance(value, float) else str(value)


def _delta(change: Change) -> str:
    percent = f", {change.percent:+.1f}%" if change.percent is not None else ""
    return f"{change.delta:+g}{percent}"
