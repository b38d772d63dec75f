"""The two consoles (stdout for results, stderr for messages), created in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from rich.console import Console


@dataclass
class State:
    """Global options of one invocation, shared by every command through typer's context."""

    registry: str | None = None
    json: bool = False
    quiet: bool = False
    verbose: bool = False
    no_color: bool = False
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)

    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = _make_console(stderr=False, no_color=self.no_color)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = _make_console(stderr=True, no_color=self.no_color)
        return self._err


def _make_console(*, stderr: bool, no_color: bool) -> Console:
    no_color = no_color or "NO_COLOR" in os.environ
    return Console(
        stderr=stderr,
        no_color=no_color,
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )
