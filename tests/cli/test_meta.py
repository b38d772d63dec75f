"""Meta-tests over the CLI: every command and option has help, every help ends with two or
three real examples (those of the registry commands run as written from a clone), every command
is in the README and maps to one `modreg.api` function (and every public api function to a command)."""

from __future__ import annotations

import inspect
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from typer.testing import CliRunner

import modreg.api as api
from modreg.cli import app
from modreg.cli.examples import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

# api functions that serve the API only (no command of their own), with the reason.
API_ONLY = {
    "open_registry": "the registry root used by every other function",
    "load_entries": "every descriptor as objects, for Python callers",
    "get_entry": "one descriptor as an object, for Python callers",
    "diff_git": "the `--git` form of `modreg diff`",
    "registry_roots": "which registry each file belongs to (validate and build take files of several)",
    "generated": "the generated files' texts, written nowhere (what `modreg serve` shows)",
}
# CLI name -> api name where they differ (`list` is a Python builtin).
API_NAME = {"list": "list_entries"}
# Commands without an api function, with the reason.
CLI_ONLY = {
    "completion": "prints a shell script rendered from the CLI itself",
    "serve": "a long-running HTTP server over the api functions, not a function returning data",
}


def _commands() -> dict[str, Any]:
    """Every command, groups flattened (`plugin verify`), from typer's command tree."""
    root = typer.main.get_command(app)
    found: dict[str, Any] = {}
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            for sub_name, sub in command.commands.items():
                found[f"{name} {sub_name}"] = sub
        else:
            found[name] = command
    return found


COMMANDS = _commands()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_and_parameter_has_help(name: str) -> None:
    command = COMMANDS[name]
    assert command.help and command.help.strip(), f"`modreg {name}` has no help text"
    for param in command.params:
        if param.param_type_name == "option":
            assert param.help and param.help.strip(), f"`modreg {name}` option {param.opts} has no help"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert re.search(rf"modreg (?:-r \S+ |--registry \S+ )?{re.escape(name)}\b", README), (
        f"`modreg {name}` is not shown in README.md"
    )


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_help_ends_with_real_examples(name: str) -> None:
    result = CliRunner().invoke(app, [*name.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = result.stdout.rstrip()
    assert "Examples:" in text, f"`modreg {name} --help` has no examples"
    lines = [line.strip() for line in text.rsplit("Examples:", 1)[1].strip().splitlines()]
    assert 2 <= len(lines) <= 3, lines
    for line in lines:
        words = shlex.split(line.split(" > ")[0].removeprefix("source <(").rstrip(")"))
        assert words[0] == "modreg", line
        assert _resolve(words[1:]) == name, f"`{line}` does not run `modreg {name}`"


# Examples not run here: they train models (run, bench, plugin health), start a server, need the
# shell (a redirect, a glob, process substitution) or a git history (--at, --git).
_NOT_RUN = ("run", "bench", "plugin health", "serve", "completion")
RUNNABLE = [(name, line) for name, lines in EXAMPLES.items() if name not in _NOT_RUN for line in lines
            if not any(mark in line for mark in (" > ", "*", "<(", "--at ", "--git"))]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the examples read from a clone: registry.example and tests/data."""
    root = tmp_path_factory.mktemp("clone")
    shutil.copytree(ROOT / "registry.example", root / "registry.example", ignore=shutil.ignore_patterns(".modreg"))
    shutil.copytree(ROOT / "tests" / "data", root / "tests" / "data")
    return root


@pytest.mark.usefixtures("forget_plugins")
@pytest.mark.parametrize(("name", "line"), RUNNABLE, ids=[line for _, line in RUNNABLE])
def test_help_examples_of_registry_commands_run_from_a_clone(clone: Path, monkeypatch: pytest.MonkeyPatch,
                                                              name: str, line: str) -> None:
    monkeypatch.chdir(clone)
    result = CliRunner().invoke(app, shlex.split(line)[1:])
    assert result.exit_code == 0, f"`{line}` exited {result.exit_code}: {result.stderr}"


def _resolve(args: list[str]) -> str:
    """The command `args` run (after parsing every option and argument, as click would)."""
    root = typer.main.get_command(app)
    ctx = root.make_context("modreg", list(args))
    group, rest, path = root, [*ctx._protected_args, *ctx.args], []
    while True:
        name, command, rest = group.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)
        path.append(name)
        if not isinstance(command, click.Group):
            return " ".join(path)
        group, rest = command, [*ctx._protected_args, *ctx.args]


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - set(CLI_ONLY)))
def test_every_command_has_an_api_function(name: str) -> None:
    api_name = API_NAME.get(name, name.replace(" ", "_"))
    assert callable(getattr(api, api_name, None)), f"`modreg {name}` has no modreg.api.{api_name}"


def test_every_public_api_function_has_a_command() -> None:
    commands = {API_NAME.get(n, n.replace(" ", "_")) for n in COMMANDS}
    public = {name for name in api.__all__ if inspect.isfunction(getattr(api, name))}
    assert len(public) >= 30
    missing = sorted(public - commands - set(API_ONLY))
    assert not missing, f"api functions without a command: {missing}"
