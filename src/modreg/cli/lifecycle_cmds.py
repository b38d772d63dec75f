"""Lifecycle commands: version, history, diff, deprecate, archive, restore, delete, audit.

Each parses its options, calls the `modreg.api` function of the same name and renders the
result with `lifecycle_views`; every change goes through the registry's one transaction.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from modreg import api
from modreg.cli.app import app
from modreg.cli.lifecycle_views import (
    entry_diff_markdown,
    entry_diff_text,
    registry_diff_markdown,
    registry_diff_text,
    render_audit,
    render_deletion,
    render_history,
    render_transition,
)
from modreg.cli.console import State
from modreg.cli.options import DryRunOpt, JsonOpt, LOCK_TIMEOUT, LockTimeoutOpt, RegistryOpt, merge_state
from modreg.cli.render import emit_json, warn
from modreg.cli.tables import FormatOpt
from modreg.errors import IntegrityError, UsageError

if TYPE_CHECKING:
    from modreg.registry.history.diff import EntryDiff
    from modreg.registry.history.gitview import RegistryDiff

NameArg = Annotated[str, typer.Argument(help="Name of the entry.", show_default=False)]


class Bump(str, Enum):
    """Which part of the version `--bump` raises."""

    major = "major"
    minor = "minor"
    patch = "patch"


class DiffFormat(str, Enum):
    """How `diff` prints: text, json, or md (a pull-request comment)."""

    text = "text"
    json = "json"
    md = "md"


@app.command()
def version(
    ctx: typer.Context,
    name: NameArg,
    message: Annotated[str, typer.Option("--message", "-m", help="What changed in this version (required).", show_default=False)],
    bump: Annotated[Optional[Bump], typer.Option("--bump", help="Raise the major, minor or patch part.")] = None,
    set_version: Annotated[Optional[str], typer.Option("--set", help="Set this version, X.Y.Z (must be greater than the current one).")] = None,
    artifact: Annotated[Optional[list[str]], typer.Option("--artifact", help="Attach a file inside the registry by path and sha256 (repeatable).")] = None,
    dry_run: DryRunOpt = False,
    lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Give a model a new version: a [[history]] entry with a snapshot, `version` and `updated` set."""
    state = merge_state(ctx, registry=registry, json=json)
    mutation = api.version(
        name, registry=state.registry, bump=bump.value if bump else None, set_version=set_version, message=message,
        artifacts=artifact or (), dry_run=dry_run, lock_timeout=lock_timeout,
    )
    old = mutation.changes.get("version", {}).get("old")
    render_transition(state, mutation, f"{mutation.name}: version {old} -> {mutation.version} ({mutation.path.name}).")


@app.command()
def history(ctx: typer.Context, name: NameArg, fmt: FormatOpt = None, registry: RegistryOpt = None, json: JsonOpt = False) -> None:
    """List a model's versions, oldest first: date, summary, artifacts."""
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    render_history(state, api.history(name, registry=state.registry), fmt)


@app.command()
def diff(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(metavar="ARGS", help="NAME A [B]: an entry and two of its versions (B defaults to `current`, the file as it is now); with --git: REV [REV2].", show_default=False),
    ],
    git: Annotated[bool, typer.Option("--git", help="Compare the whole registry at git revision REV with REV2 (default: the working tree).")] = False,
    fmt: Annotated[DiffFormat, typer.Option("--format", help="text, json (as --json), or md: a table to paste into a pull-request comment.")] = DiffFormat.text,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Compare two versions of a model, or the whole registry between git revisions."""
    state = merge_state(ctx, registry=registry, json=json)
    result, text = _diff_git(state, args, fmt) if git else _diff_versions(state, args, fmt)
    if state.json or fmt is DiffFormat.json:
        emit_json(state, result, kind="diff-git" if git else "diff")
    else:
        state.out.print(text, markup=False, highlight=False, soft_wrap=True, end="")
    unreadable = getattr(result, "unreadable", [])
    if unreadable:
        raise IntegrityError(
            f"the comparison is incomplete: {len(unreadable)} descriptor{'s' * (len(unreadable) != 1)} could not be "
            "read on one side (named above), so what differs there is unknown.",
            hint="fix the file at that revision, or compare revisions where it parses.",
        )


def _diff_versions(state: State, args: list[str], fmt: DiffFormat) -> tuple[EntryDiff, str]:
    if len(args) not in (2, 3):
        raise UsageError("diff takes NAME and one or two versions.", hint="e.g. `modreg diff NHITS 1.1.0 1.2.0`, or `modreg diff --git HEAD~1`.")
    result = api.diff(*args, registry=state.registry)
    return result, entry_diff_markdown(result) if fmt is DiffFormat.md else entry_diff_text(result)


def _diff_git(state: State, args: list[str], fmt: DiffFormat) -> tuple[RegistryDiff, str]:
    if len(args) > 2:
        raise UsageError("diff --git takes one or two revisions.", hint="e.g. `modreg diff --git HEAD~1` or `modreg diff --git v1.0 main`.")
    result = api.diff_git(args[0], args[1] if len(args) > 1 else None, registry=state.registry)
    for problem in result.unreadable:
        warn(state, f"{problem.path}:{problem.line}: {problem.message} (skipped)")
    return result, registry_diff_markdown(result) if fmt is DiffFormat.md else registry_diff_text(result)


@app.command()
def deprecate(
    ctx: typer.Context,
    name: NameArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is deprecated (required).", show_default=False)],
    replacement: Annotated[Optional[str], typer.Option("--replacement", help="An active entry to use instead.")] = None,
    sunset: Annotated[Optional[str], typer.Option("--sunset", help="When it will be archived, YYYY-MM-DD (in the future).")] = None,
    dry_run: DryRunOpt = False,
    lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Deprecate a model: `show` and `run` warn, and `validate` flags entries depending on it."""
    state = merge_state(ctx, registry=registry, json=json)
    mutation = api.deprecate(
        name, registry=state.registry, reason=reason, replacement=replacement, sunset=sunset, dry_run=dry_run, lock_timeout=lock_timeout
    )
    extra = "".join(f"; {label} {value}" for label, value in (("use", replacement), ("sunset", sunset)) if value)
    render_transition(state, mutation, f"deprecated {mutation.name}{extra}.")


@app.command()
def archive(
    ctx: typer.Context, name: NameArg, dry_run: DryRunOpt = False, lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
    registry: RegistryOpt = None, json: JsonOpt = False,
) -> None:
    """Archive a deprecated model (its [deprecation] notice stays as the record of why)."""
    state = merge_state(ctx, registry=registry, json=json)
    mutation = api.archive(name, registry=state.registry, dry_run=dry_run, lock_timeout=lock_timeout)
    render_transition(state, mutation, f"archived {mutation.name}.")


@app.command()
def restore(
    ctx: typer.Context, name: NameArg, dry_run: DryRunOpt = False, lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
    registry: RegistryOpt = None, json: JsonOpt = False,
) -> None:
    """Make a deprecated or archived model active again (its deprecation is cleared)."""
    state = merge_state(ctx, registry=registry, json=json)
    mutation = api.restore(name, registry=state.registry, dry_run=dry_run, lock_timeout=lock_timeout)
    render_transition(state, mutation, f"restored {mutation.name}: active again.")


@app.command()
def delete(
    ctx: typer.Context,
    name: NameArg,
    force: Annotated[bool, typer.Option("--force", help="Delete even when other entries depend on it or name it as replacement.")] = False,
    dry_run: DryRunOpt = False,
    lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Delete a model; its file is kept in .modreg/trash/ (the message says how to bring it back)."""
    state = merge_state(ctx, registry=registry, json=json)
    render_deletion(state, api.delete(name, registry=state.registry, force=force, dry_run=dry_run, lock_timeout=lock_timeout))


@app.command()
def audit(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="Only the changes to this entry.", show_default=False)] = None,
    fmt: FormatOpt = None,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """List the audit log: who changed what, when, with which command."""
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    log = api.audit(name, registry=state.registry)
    render_audit(state, log, name, fmt)
    for problem in log.problems:
        warn(state, f"{problem.path}:{problem.line}: {problem.message} (skipped)")
    if log.problems and not log.torn_only:
        count = len(log.problems)
        raise IntegrityError(f"the audit log has {count} line{'s' * (count != 1)} that {'are' if count != 1 else 'is'} "
                             "not an audit entry (named above); the others are listed.",
                             hint="remove those lines: a write was cut short there, or a merge joined two lines.")
