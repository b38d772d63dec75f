"""The two consoles (stdout for results, stderr for messages), created in one place.

rich is imported when a console is first used, not when the CLI starts: `modreg --help`
never needs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROLS_AND_NEWLINES = {**_CONTROLS, 0x0A: "\\n", 0x09: "\\t"}


def escape_controls(text: str, *, newlines: bool = False) -> str:
    """Control characters shown as `\\x1b`-style escapes, so text from a descriptor can neither
    drive the terminal (OSC 52 clipboard writes, cursor moves) nor, with `newlines`, forge a row."""
    return text.translate(_CONTROLS_AND_NEWLINES if newlines else _CONTROLS)


def _make_console(*, stderr: bool, no_color: bool) -> Console:
    from rich.console import Console

    class SafeConsole(Console):
        """A rich Console that escapes control characters in every string it prints."""

        def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
            super().print(*(escape_controls(o) if isinstance(o, str) else o for o in objects), **kwargs)

    no_color = no_color or "NO_COLOR" in os.environ
    return SafeConsole(
        stderr=stderr,
        no_color=no_color,
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )
