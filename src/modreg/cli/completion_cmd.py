"""`modreg completion bash|zsh|fish`: print the shell completion script, generated from this CLI.

The scripts in the repository's completions/ folder are the same text (`python -m
modreg.cli.completion` writes them, and a test keeps them fresh); this command gives them to
anyone who installed modreg from a wheel.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from modreg.cli.app import app
from modreg.cli.examples import examples


class Shell(str, Enum):
    """The shells modreg writes completion scripts for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


@app.command(epilog=examples("completion"))
def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", show_default=False)]) -> None:
    """Print the completion script of a shell (commands, options, entry, model and plugin names)."""
    from modreg.cli import app as root
    from modreg.cli.completion import SCRIPTS, render_all

    typer.echo(render_all(root)[SCRIPTS[shell.value]], nl=False)
