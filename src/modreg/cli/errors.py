"""The one error funnel: ModregError -> one stderr sentence, a hint, and the exit code.

Every command group is a `ModregGroup`, whose `invoke` catches what the API raises, so no
command repeats a try/except. Under `--json` the error is a JSON document on stderr (the
contract's `error` kind), usage errors found while parsing the command line included.
`--verbose` prints the traceback as well.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

import click
import typer
from typer.core import TyperGroup

from modreg.cli.console import State
from modreg.errors import ExitCode, ModregError


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
        except KeyboardInterrupt:
            state_of(ctx).err.print("interrupted", markup=False)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
