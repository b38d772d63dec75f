"""The one error funnel: ModregError -> one stderr sentence, a hint, and the exit code.

Every command group is a `ModregGroup`, whose `invoke` catches what the API raises, so no
command repeats a try/except. Under `--json` the error is also a JSON document on stderr.
`--verbose` prints the traceback as well.
"""

from __future__ import annotations

import json
import traceback

import typer
from typer.core import TyperGroup

from modreg.cli.console import State
from modreg.errors import ExitCode, ModregError


def report_error(error: ModregError, state: State) -> None:
    """Write one error to stderr in the form the global options ask for."""
    if state.verbose:
        state.err.print(traceback.format_exc(), markup=False, end="")
    if state.json:
        state.err.print(json.dumps({"error": error.to_dict()}, sort_keys=True), markup=False)
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


class ModregGroup(TyperGroup):
    """A typer group that routes ModregError and Ctrl-C through the funnel."""

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except ModregError as error:
            report_error(error, state_of(ctx))
            raise typer.Exit(int(error.exit_code)) from None
        except KeyboardInterrupt:
            state_of(ctx).err.print("interrupted", markup=False)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
