"""The `modreg` console script and `python -m modreg`: the CLI, with Ctrl-C during start-up
(importing typer and the commands takes about a tenth of a second) ending as any other
interrupt does, "interrupted" and exit 130, not a traceback."""

from __future__ import annotations

import sys

INTERRUPTED = 130  # modreg.errors.ExitCode.INTERRUPTED, written here so that nothing is imported first


def main() -> None:
    try:
        from modreg.cli import main as run_cli
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(INTERRUPTED) from None
    run_cli()
