"""The one error hierarchy: every user-facing failure is a ModregError with an exit code.

The CLI funnel (`modreg.cli.errors`) turns a ModregError into one stderr sentence plus a
`hint:` line and the documented exit code; only `--verbose` shows a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Exit codes of every modreg command (documented in README)."""

    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    NOT_FOUND = 3
    CONFLICT = 4
    INTEGRITY = 5
    INTERRUPTED = 130


class ModregError(Exception):
    """A failure the user can act on: a message, a hint, and where it happened."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
        col: int | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = str(path) if path is not None else None
        self.line = line
        self.col = col
        self.problems = tuple(problems)  # every finding behind the error, each at its line

    def location(self) -> str:
        """`file:line:col: ` prefix, or an empty string when the error has no file."""
        if self.path is None:
            return ""
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts) + ": "

    def to_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "code": int(self.exit_code),
            "message": self.message,
            "hint": self.hint,
            "path": self.path,
            "line": self.line,
        }
        if self.problems:
            found["problems"] = [problem.to_dict() for problem in self.problems]
        return found


class CheckFailed(ModregError):
    """A check found problems (validation, stale index, unhealthy plugin)."""

    exit_code = ExitCode.CHECK_FAILED


class UsageError(ModregError):
    """The command was called wrongly (bad option value, bad expression, bad input file)."""

    exit_code = ExitCode.USAGE


class NotFound(ModregError):
    """A model, file, registry or runtime model does not exist."""

    exit_code = ExitCode.NOT_FOUND


class Conflict(ModregError):
    """Already exists, has dependents, lock held, or changed on disk since it was read."""

    exit_code = ExitCode.CONFLICT


class IntegrityError(ModregError):
    """A checksum does not match or a file is corrupt."""

    exit_code = ExitCode.INTEGRITY


@dataclass(frozen=True, order=True)
class Problem:
    """One validation finding, located in a file."""

    path: str
    line: int
    col: int
    message: str
    json_path: str = ""
    hint: str | None = None
    severity: str = "error"  # "error" | "warning"

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "message": self.message,
            "json_path": self.json_path,
            "hint": self.hint,
            "severity": self.severity,
        }
