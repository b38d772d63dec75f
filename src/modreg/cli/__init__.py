"""The command-line interface: typer commands that parse, call `modreg.api`, and render.

Command modules are imported here so their `@app.command()` decorators run; each imports
its heavy dependencies inside the command function, so `modreg --help` stays fast.
"""

from __future__ import annotations

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
    """Console-script entry point."""
    app()
