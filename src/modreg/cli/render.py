"""Pure rendering: canonical JSON, rich tables, GitHub annotations.

Nothing here decides what to show; commands pass what `modreg.api` returned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from modreg.cli.console import State, escape_controls
from modreg.errors import CheckFailed


def _plain(value: Any) -> Any:
    """Dataclasses, paths and dates -> JSON-able values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")}
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return value.as_posix()
    return value


def to_json(data: Any) -> str:
    """Canonical JSON: sorted keys, two-space indent, no NaN.

    Raises:
        CheckFailed: the data holds NaN or infinity (a descriptor `modreg validate` refuses).
    """
    try:
        return json.dumps(_plain(data), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise CheckFailed("The result holds NaN or infinity, which JSON cannot hold; nothing was printed.",
                          hint="`modreg validate` names the file and line of each such value.") from None


def to_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, title: str | None = None) -> Table:
    """A rich table of `rows`, one column per key in `columns`."""
    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    return table


def _cell(value: Any) -> str:
    return escape_controls(_cell_text(value), newlines=True)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def emit_json(state: State, data: Any) -> None:
    """Print one JSON document on stdout (the only thing stdout holds under --json)."""
    state.out.print(to_json(data), markup=False, highlight=False, soft_wrap=True)


def github_annotation(level: str, path: str, line: int, col: int, message: str) -> str:
    """`::error file=F,line=L,col=C::message`, escaped as GitHub's workflow commands require."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    where = path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")
    return f"::{level} file={where},line={line},col={col}::{escaped}"


def render_problems(state: State, report: Any, fmt: str) -> None:
    """A validation report: `text` lines (+ hints), one `json` document, or `github` annotations.

    `report` has `problems` (each with path, line, col, message, json_path, hint, severity),
    `files`, `errors`, `warnings` and `to_dict()`. The one-line summary goes to stderr.
    """
    if fmt == "json":
        emit_json(state, report.to_dict())
        return
    for problem in report.problems:
        if fmt == "github":
            message = problem.message + (f" (hint: {problem.hint})" if problem.hint else "")
            line = github_annotation(problem.severity, problem.path, problem.line, problem.col, message)
            state.out.print(line, markup=False, highlight=False, soft_wrap=True)
            continue
        where = f"{problem.path}:{problem.line}:{problem.col}"
        state.out.print(f"{where}: {problem.severity}: {problem.message}", markup=False, soft_wrap=True)
        if problem.hint:
            state.out.print(f"    hint: {problem.hint}", markup=False, soft_wrap=True)
    counts = f"{report.errors} error{'s' * (report.errors != 1)}, {report.warnings} warning{'s' * (report.warnings != 1)}"
    notice(state, f"checked {report.files} file{'s' * (report.files != 1)}: {counts}")


def notice(state: State, message: str) -> None:
    """A one-line message on stderr, silenced by --quiet."""
    if not state.quiet:
        state.err.print(message, markup=False)


def warn(state: State, message: str) -> None:
    """A warning on stderr (shown even with --quiet, since it may change what the user does)."""
    state.err.print(f"warning: {message}", markup=False, style="yellow")


class TrainingProgress:
    """A transient rich progress bar for training on stderr: step, loss, validation loss.

    A context manager; `modreg.forecast.run` calls `start(total, description)` once, then the
    object once per training step with (step, loss, val_loss). Commands create it only on a TTY.
    """

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("val {task.fields[val]}"), TimeRemainingColumn(),
            console=console, transient=True,
        )
        self._task: Any = None

    def __enter__(self) -> TrainingProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def start(self, total: int, description: str) -> None:
        self._task = self._bar.add_task(description, total=total or None, loss="-", val="-")

    def __call__(self, step: int, loss: float, val_loss: float | None) -> None:
        fields = {"loss": f"{loss:.4g}"} if val_loss is None else {"loss": f"{loss:.4g}", "val": f"{val_loss:.4g}"}
        self._bar.update(self._task, completed=step, **fields)


def print_columns(state: State, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Aligned plain columns, the last one cut to a terminal's width (fast for 10,000 rows)."""
    rows = [tuple(escape_controls(cell, newlines=True) for cell in row) for row in rows]
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header) - 1)]
    room = max(state.out.width - sum(widths) - 2 * len(widths), 20) if state.out.is_terminal else sys.maxsize

    def line(cells: tuple[str, ...]) -> str:
        last = cells[-1] if len(cells[-1]) <= room else cells[-1][: room - 1] + "…"
        return "  ".join([*(cell.ljust(width) for cell, width in zip(cells, widths)), last]).rstrip()

    state.out.print(line(header), style="bold", markup=False, highlight=False)
    state.out.print("\n".join(line(row) for row in rows), markup=False, highlight=False, soft_wrap=True)
