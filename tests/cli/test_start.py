"""The start path: `main` builds only the command asked for, and help never imports rich."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from modreg.cli import app, one_command

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize(
    ("args", "built"),
    [
        (["show", "NHITS"], ["show"]),
        (["-r", "registry.example", "--json", "search", "lstm"], ["search"]),
        (["--registry=registry.example", "-q", "plugin", "list"], ["plugin"]),
        (["-rregistry.example", "list", "--help"], ["list"]),
    ],
)
def test_one_command_is_built_for_a_command(args: list[str], built: list[str]) -> None:
    assert list(one_command(args).commands) == built


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"], ["-r", "x"], ["sho"], ["--bogus", "show"]])
def test_the_whole_app_is_built_for_help_version_and_mistakes(args: list[str]) -> None:
    assert sorted(one_command(args).commands) == sorted(typer.main.get_command(app).commands)


def test_help_does_not_import_rich_and_a_command_runs(example_registry: Path) -> None:
    code = "import sys; from modreg.cli import main; sys.argv = ['modreg', '--help']\ntry:\n    main()\nexcept SystemExit:\n    pass\nprint('rich' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)}, check=True)
    assert done.stdout.strip().endswith("False")
    shown = subprocess.run([sys.executable, "-m", "modreg", "-r", str(example_registry), "show", "NHITS", "--json"],
                           capture_output=True, text=True, env={"PYTHONPATH": str(SRC)})
    assert shown.returncode == 0 and '"name": "NHITS"' in shown.stdout
