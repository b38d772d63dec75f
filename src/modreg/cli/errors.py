"""The one error funnel: ModregError -> one stderr sentence, a hint, and the exit code.

Every command group is a `ModregGroup`, whose `invoke` catches what the API raises, so no
command repeats a try/except. Under `--json` the error is a JSON document on stderr (the
contract's `error` kind), usage errors found while parsing the command line included.
`--verbose` prints the traceback as well.

Two failures of the machine rather than of modreg also end as one sentence: an OSError (a
read-only folder, a full disk, a file-size limit: exit 2, naming the file) and a MemoryError
(exit 2, for an allocation the memory budget's estimate did not foresee).
"""

from __future__ import annotations

import errno
import json
import os
import traceback
from typing import Any

import click
import typer
from typer.core import TyperGroup

from modreg.cli.console import State
from modreg.errors import ExitCode, ModregError, UsageError


def report_error(error: ModregError, state: State) -> None:
    """Write one error to stderr in the form the global options ask for."""
    if state.verbose:
        state.err.print(traceback.format_exc(), markup=False, end="")
    if state.json:
        from modreg.api.contract import error_document

        state.err.print(json.dumps(error_document(error.to_dict()), sort_keys=True), markup=False)
        return
    for problem in error.problems:
        state.err.print(f"{problem.path}:{problem.line}:{problem.col}: {problem.severity}: {problem.message}", markup=False)
        if problem.hint:
            state.err.print(f"    hint: {problem.hint}", markup=False)
    state.err.print(f"error: {error.location()}{error.message}", markup=False, style="bold red")
    if error.hint:
        state.err.print(f"hint: {error.hint}", markup=False)


def state_of(ctx: typer.Context) -> State:
    """The invocation's State (made on first use, so commands work when called directly)."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


_ARGV = "modreg.argv"


def _wants_json(ctx: click.Context) -> bool:
    """--json given anywhere on the command line (also after the command, not yet parsed)."""
    return state_of(ctx).json or bool(ctx.params.get("json")) or "--json" in ctx.meta.get(_ARGV, ())


def _usage_error(ctx: click.Context, error: click.UsageError) -> None:
    """A command-line usage error as the JSON funnel writes it (exit 2)."""
    from modreg.errors import UsageError

    where = error.ctx.command_path if error.ctx is not None else "modreg"
    state = state_of(ctx)
    state.json = True
    report_error(UsageError(error.format_message(), hint=f"see `{where} --help`."), state)


class ModregGroup(TyperGroup):
    """A typer group that routes ModregError, usage errors under --json and Ctrl-C through the funnel."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta.setdefault(_ARGV, tuple(args))
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            if "--json" not in args or isinstance(error, click.exceptions.NoArgsIsHelpError):
                raise
            _usage_error(ctx, error)
            raise typer.Exit(int(ExitCode.USAGE)) from None

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            if not _wants_json(ctx):
                raise
            _usage_error(ctx, error)
            raise typer.Exit(int(ExitCode.USAGE)) from None
        except ModregError as error:
            report_error(error, state_of(ctx))
            raise typer.Exit(int(error.exit_code)) from None
        except BrokenPipeError:
            raise
        except OSError as error:
            report_error(system_error(error), state_of(ctx))
            raise typer.Exit(int(ExitCode.USAGE)) from None
        except MemoryError:
            report_error(_out_of_memory(), state_of(ctx))
            raise typer.Exit(int(ExitCode.USAGE)) from None
        except KeyboardInterrupt:
            state_of(ctx).err.print("interrupted", markup=False)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_NOT_ALLOWED = {errno.EACCES, errno.EPERM, errno.EROFS}


def system_error(error: OSError) -> UsageError:
    """An OSError the operating system raised (no room, no permission, ...) as one sentence."""
    named = error.filename2 if isinstance(error.filename2, (str, bytes)) else error.filename
    name = os.fsdecode(named) if isinstance(named, (str, bytes, os.PathLike)) else None
    reason = error.strerror or str(error) or type(error).__name__
    if error.errno in _NO_ROOM:
        hint = "free disk space (or raise the file-size limit) and run the command again; files modreg writes are replaced whole or not at all."
    elif error.errno in _NOT_ALLOWED:
        hint = "check that the folder is writable by you (not a read-only mount), then run the command again."
    else:
        hint = "check the path and its folder, then run the command again."
    return UsageError(f"modreg could not finish ({reason[:1].lower()}{reason[1:]}).", hint=hint, path=name)


def _out_of_memory() -> UsageError:
    return UsageError("modreg ran out of memory (an allocation failed that the memory budget's estimate did not foresee).",
                      hint="use a smaller horizon, smaller sizes or less data; MODREG_MEMORY_BUDGET sets the budget.")
