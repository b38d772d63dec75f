"""The typer application and its global options; command modules attach to `app`."""

from __future__ import annotations

import warnings
from typing import Annotated, Optional

import typer

from modreg.cli.console import State
from modreg.cli.errors import ModregGroup

app = typer.Typer(
    name="modreg",
    cls=ModregGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    help="A git-friendly registry of forecasting models, and numpy forecasters that run from it.",
    context_settings={"help_option_names": ["-h", "--help"]},
)

plugin_app = typer.Typer(
    name="plugin",
    cls=ModregGroup,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Plugins: list, verify, lock checksums, health-check.",
)
app.add_typer(plugin_app, name="plugin")


def _print_version(value: bool) -> None:
    if value:
        from modreg._version import __version__

        typer.echo(f"modreg {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    registry: Annotated[
        Optional[str],
        typer.Option("--registry", "-r", help="Registry root (default: $MODREG_REGISTRY, else the nearest modreg.toml upwards)."),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Machine output: one JSON document on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but results and errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail; tracebacks for errors.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also when $NO_COLOR is set).")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print modreg's version and exit."),
    ] = False,
) -> None:
    """A git-friendly registry of forecasting models, and numpy forecasters that run from it."""
    ctx.obj = State(registry=registry, json=json, quiet=quiet, verbose=verbose, no_color=no_color)
    if not verbose:  # a float overflow is reported once, by the check that catches its inf or NaN
        warnings.filterwarnings("ignore", message=_FLOAT_WARNINGS, category=RuntimeWarning)


_FLOAT_WARNINGS = r"(overflow|invalid value|divide by zero|underflow) encountered"
"""numpy's floating-point warnings: training reports a non-finite loss, and `run`/`bench` a non-finite
forecast, as one sentence with a hint (`--verbose` shows the warnings too)."""
