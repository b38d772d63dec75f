"""The command-line interface: typer commands that parse, call `modreg.api`, and render.

Command modules are imported here so their `@app.command()` decorators run; each imports
its heavy dependencies inside the command function, so `modreg --help` stays fast.
"""

from __future__ import annotations

from typing import Any

from modreg.cli.app import app

from modreg.cli import registry_cmds  # noqa: F401  (registers commands)
from modreg.cli import model_cmds  # noqa: F401  (registers commands)
from modreg.cli import runtime_cmds  # noqa: F401  (registers commands)
from modreg.cli import bench_cmds  # noqa: F401  (registers commands)
from modreg.cli import output_cmds  # noqa: F401  (registers commands)
from modreg.cli import lifecycle_cmds  # noqa: F401  (registers commands)
from modreg.cli import plugin_cmds  # noqa: F401  (registers commands)
from modreg.cli import completion_cmd  # noqa: F401  (registers commands)
from modreg.cli import serve_cmd  # noqa: F401  (registers commands)
from modreg.cli.examples import attach_examples

attach_examples(app)

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: builds only the command asked for (`one_command`)."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        _escape_what_cannot_be_encoded(stream)
    one_command(sys.argv[1:])()


def _escape_what_cannot_be_encoded(stream: Any) -> None:
    """On a terminal or pipe whose encoding is not UTF-8 (an ASCII locale), characters it cannot
    hold (the `·` of `show`, an entry's non-ASCII summary) are written as `\\xb7`-style escapes
    instead of ending the command in a UnicodeEncodeError."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    if encoding != "utf8" and hasattr(stream, "reconfigure"):
        stream.reconfigure(errors="backslashreplace")


_GLOBAL_FLAGS = frozenset({"--json", "--quiet", "-q", "--verbose", "-v", "--no-color"})
_GLOBAL_VALUES = frozenset({"--registry", "-r"})


def one_command(args: list[str]) -> Any:
    """The click command for `modreg ARGS`, with only the subcommand ARGS name converted.

    typer converts every command's signature when it builds the app (a few hundredths of a
    second); one invocation needs one. Anything else (`--help`, `--version`, no command, an
    unknown one) gets the group with every command listed by its name and help, which is all
    that the group's help, suggestions and errors read.
    """
    import copy
    import inspect

    import typer.main

    name = _command_name(args)
    commands = [info for info in app.registered_commands if _name(info) == name]
    groups = [info for info in app.registered_groups if info.name == name]
    lean = copy.copy(app)
    lean.registered_commands, lean.registered_groups = commands, groups
    group = typer.main.get_command(lean)
    if name is None or not (commands or groups):  # help, version or a mistake: every command, by name and help only
        for info in app.registered_commands:
            group.add_command(_listed(_name(info), info.help or inspect.getdoc(info.callback), info))
        for info in app.registered_groups:
            group.add_command(_listed(info.name, info.help or info.typer_instance.info.help, info))
    return group


def _listed(name: str, help: str | None, info: Any) -> Any:
    """A command as a group's help lists it (never run: it is only listed when no command is run)."""
    import inspect

    import typer.core

    return typer.core.TyperCommand(name=name, help=inspect.cleandoc(help) if help else None, short_help=info.short_help,
                                   hidden=bool(info.hidden), deprecated=bool(info.deprecated), rich_markup_mode=None)


def _command_name(args: list[str]) -> str | None:
    """The subcommand's name after the global options, or None (help, version, anything unusual)."""
    position = 0
    while position < len(args):
        arg = args[position]
        if arg in _GLOBAL_FLAGS:
            position += 1
        elif arg in _GLOBAL_VALUES:
            position += 2
        elif arg.startswith(("--registry=", "-r")) and arg != "-r":
            position += 1
        elif arg.startswith("-"):
            return None
        else:
            return arg
    return None


def _name(info: Any) -> str:
    from typer.main import get_command_name

    return info.name or get_command_name(info.callback.__name__)
