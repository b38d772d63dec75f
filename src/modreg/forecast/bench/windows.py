"""The forecast windows of a benchmark: where each starts (its offset from the end), its cutoff,
and the windows whose history has no in-sample seasonal naive error to scale MASE by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from modreg.errors import UsageError
from modreg.runtime.data import SeriesFrame
from modreg.runtime.data.frequency import format_timestamps

__all__ = ["describe_windows", "plan_windows", "unscaled_windows"]


def plan_windows(frame: SeriesFrame, h: int, windows: int, step: int) -> tuple[int, ...]:
    """The offsets (points after the cutoff) of the K windows, oldest first; checks the lengths.

    Raises:
        UsageError: a bad h/windows/step, or a series too short for the windows.
    """
    for option, value in (("--horizon", h), ("--windows", windows), ("--step", step)):
        if value < 1:
            raise UsageError(f"{option} must be 1 or more, not {value}.")
    offsets = tuple(h + (windows - i) * step for i in range(1, windows + 1))
    need = offsets[0] + 1
    for sid, values in zip(frame.ids, frame.y):
        if len(values) < need:
            raise UsageError(
                f"series '{sid}' has {len(values)} point{'' if len(values) == 1 else 's'}, but {windows} window(s) "
                f"of h = {h} with step {step} "
                f"need at least {need} ({need - 1} held out and 1 to train on).",
                hint="use fewer --windows, a smaller --step or a smaller --horizon.", path=frame.source)
    return offsets


def describe_windows(frame: SeriesFrame, offsets: Sequence[int]) -> list[dict[str, Any]]:
    """Per window: its number, its offset and its cutoff (None when the series' cutoffs differ)."""
    found = []
    for number, offset in enumerate(offsets, 1):
        cutoffs = {text for d in frame.ds for text in format_timestamps(d[len(d) - offset - 1:len(d) - offset])}
        cutoff = cutoffs.pop() if len(cutoffs) == 1 else None
        found.append({"window": number, "offset": offset, "cutoff": cutoff})
    return found


def unscaled_windows(frame: SeriesFrame, offsets: Sequence[int], season: int) -> str | None:
    """A notice naming the series windows whose history has no seasonal naive error (`season` points
    or fewer, or a zero error): `metrics.mase_scale` falls back there, where the standard MASE
    (utilsforecast's `mase`) is NaN or infinite. None when every window has one."""
    found = []
    for sid, values in zip(frame.ids, frame.y):
        for number, offset in enumerate(offsets, 1):
            history = np.asarray(values[:len(values) - offset], dtype=np.float64)
            if history.size <= season or not np.any(history[season:] != history[:-season]):
                found.append(f"series '{sid}' window {number}")
    if not found:
        return None
    total, many = len(frame.ids) * len(offsets), len(found) > 1
    listed = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
    return (f"MASE: {len(found)} of {total} series windows ({listed}) {'have' if many else 'has'} no in-sample "
            f"seasonal naive error ({season} points of history or fewer, or a zero error), so {'they are' if many else 'it is'} "
            "scaled by the naive-1 error (or the series' level); utilsforecast's mase gives NaN or inf there.")
