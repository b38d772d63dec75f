"""Shell completion scripts for bash, zsh and fish, generated from the CLI itself.

    python -m modreg.cli.completion [FOLDER]     # writes modreg.bash, _modreg, modreg.fish

The scripts are static, so pressing TAB never starts Python: they know every command, option
and option choice, and complete entry names (`show NA<TAB>`) from the registry's models/
folder, found as modreg finds it (`--registry`, `$MODREG_REGISTRY`, else the nearest
`modreg.toml` upwards). A test regenerates them and fails when the committed ones are stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modreg.cli.completion.bash import render_bash
from modreg.cli.completion.fish import render_fish
from modreg.cli.completion.spec import CommandSpec, OptionSpec, command_specs
from modreg.cli.completion.zsh import render_zsh

__all__ = ["SCRIPTS", "CommandSpec", "OptionSpec", "command_specs", "render_all", "render_bash", "render_fish", "render_zsh", "write_all"]

SCRIPTS = {"bash": "modreg.bash", "zsh": "_modreg", "fish": "modreg.fish"}

def render_all(app: Any) -> dict[str, str]:
    """File name -> script text, for the three shells."""
    specs = command_specs(app)
    return {
        SCRIPTS["bash"]: render_bash(specs),
        SCRIPTS["zsh"]: render_zsh(specs),
        SCRIPTS["fish"]: render_fish(specs),
    }


def write_all(folder: Path) -> list[Path]:
    """Write the three scripts into `folder`; return their paths."""
    from modreg.cli import app
    from modreg._fs import write_atomic

    written = []
    for name, text in render_all(app).items():
        write_atomic(folder / name, text)
        written.append(folder / name)
    return written
