"""Progress of long work (`run`, `bench`) on stderr: a bar on a terminal, a line every few seconds elsewhere.

On a terminal, a transient rich bar: training steps and loss for `run`; finished tasks, and
the training step inside the running tasks, for `bench`. Without a terminal (CI logs, pipes),
one plain line at most every `$MODREG_PROGRESS_SECONDS` seconds (default 5), so a long job
shows it is alive without flooding the log. `--quiet` silences both.
"""

from __future__ import annotations

import os
import time
from contextlib import nullcontext
from typing import Any

from modreg.cli.console import State

__all__ = ["BenchBar", "BenchLines", "TrainingLines", "TrainingProgress", "bench_progress", "run_progress"]

_DEFAULT_SECONDS = 5.0


def run_progress(state: State) -> Any:
    """A context manager giving `run`'s progress reporter (or None under --quiet)."""
    if state.quiet:
        return nullcontext(None)
    if state.err.is_terminal and not state.json:
        return TrainingProgress(state.err)
    return TrainingLines(state)


def bench_progress(state: State) -> Any:
    """A context manager giving `bench`'s progress reporter (or None under --quiet)."""
    if state.quiet:
        return nullcontext(None)
    if state.err.is_terminal and not state.json:
        return BenchBar(state.err)
    return BenchLines(state)


class _Lines:
    """Prints a line on stderr at most every few seconds; a context manager like the bars."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._every = float(os.environ.get("MODREG_PROGRESS_SECONDS", _DEFAULT_SECONDS))
        self._started = self._last = time.monotonic()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _maybe(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._state.err.print(f"{text} ({now - self._started:.0f} s)", markup=False, highlight=False)


class TrainingLines(_Lines):
    """`run` without a terminal: `fitting NHITS: step 40/100, loss 0.123`."""

    def start(self, total: int, description: str) -> None:
        self._description, self._total = description, total

    def __call__(self, step: int, loss: float, val_loss: float | None) -> None:
        val = f", val {val_loss:.4g}" if val_loss is not None else ""
        self._maybe(f"{self._description}: step {step}/{self._total or '?'}, loss {loss:.4g}{val}")


class BenchLines(_Lines):
    """`bench` without a terminal: `bench: 3/9 tasks done; NHITS window 2: step 40/100`."""

    def start(self, total: int, description: str) -> None:
        self._total, self._done, self._running = total, 0, ""
        self._maybe(f"{description}: {total} tasks")

    def __call__(self, target: str, ok: bool) -> None:
        self._done += 1
        self._running = ""
        self._maybe(f"bench: {self._done}/{self._total} tasks done; {target} {'done' if ok else 'FAILED'}")

    def step(self, target: str, window: int, step: int, total: int) -> None:
        self._running = f"{target} window {window}: step {step}/{total or '?'}"
        self._maybe(f"bench: {self._done}/{self._total} tasks done; {self._running}")


class TrainingProgress:
    """A transient rich progress bar for training on stderr: step, loss, validation loss.

    `modreg.forecast.run` calls `start(total, description)` once, then the object once per
    training step with (step, loss, val_loss).
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


class BenchBar:
    """A transient bar on stderr: finished tasks of all, and the step inside the running task."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[last]}"), TimeElapsedColumn(), console=console, transient=True)
        self._task: Any = None

    def __enter__(self) -> BenchBar:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def start(self, total: int, description: str) -> None:
        self._task = self._bar.add_task(description, total=total, last="")

    def __call__(self, target: str, ok: bool) -> None:
        self._bar.update(self._task, advance=1, last=f"{target} {'done' if ok else 'FAILED'}")

    def step(self, target: str, window: int, step: int, total: int) -> None:
        self._bar.update(self._task, last=f"{target} window {window}: step {step}/{total or '?'}")
