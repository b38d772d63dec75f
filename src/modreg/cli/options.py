"""Options shared by many commands, defined once.

`--registry` and `--json` are accepted both before the command (`modreg --json list`) and
after it (`modreg list --json`); `merge_state` folds the command's values into the State.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from modreg.cli.console import State
from modreg.cli.errors import state_of
from modreg.registry.store.lock import DEFAULT_TIMEOUT as LOCK_TIMEOUT

RegistryOpt = Annotated[
    Optional[str],
    typer.Option(
        "--registry",
        "-r",
        help="Registry root (default: $MODREG_REGISTRY, else the nearest modreg.toml upwards).",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout, nothing else.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print the unified diff of the change instead of writing.")
]
LockTimeoutOpt = Annotated[
    float,
    typer.Option("--lock-timeout", help="Seconds to wait in line for the registry lock while it does not change hands."),
]


def merge_state(ctx: typer.Context, *, registry: str | None = None, json: bool = False, fmt: Any = None) -> State:
    """The invocation's State with this command's --registry/--json (and `--format json`) folded in."""
    state = state_of(ctx)
    if registry is not None:
        state.registry = registry
    if json or getattr(fmt, "value", fmt) == "json":
        state.json = True
    return state
IdColOpt = Annotated[
    str, typer.Option("--id-col", metavar="COLUMN", help="The data's series column (a file without it is one series).")
]
TimeColOpt = Annotated[str, typer.Option("--time-col", metavar="COLUMN", help="The data's time column.")]
TargetColOpt = Annotated[str, typer.Option("--target-col", metavar="COLUMN", help="The data's column to forecast.")]
PlotSeriesOpt = Annotated[
    Optional[list[str]],
    typer.Option("--plot-series", metavar="ID", help="A series to draw with --plot (repeatable; default: the first 4).",
                 show_default=False),
]
