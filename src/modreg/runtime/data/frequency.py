"""The time axis: parse `ds` values, infer a file's frequency, step forward, format back.

`ds` holds integers (steps) or dates: `YYYY-MM-DD`, `YYYY-MM`, `YYYY-MM-DD HH:MM[:SS]` or the
same with an ISO `T`. Dates become `datetime64[D]`, times without seconds `datetime64[m]` and
times with seconds `datetime64[s]`, so writing them back keeps the input's precision.

A `Frequency` is one of three kinds: an integer step (`int:STEP`), a fixed number of seconds
(`30min`, `H`, `D`, `W`, ...) or a number of calendar months anchored at the month start or end
(`MS`, `ME`, `QS`, `QE`, `YS`, `YE`, ...), so that stepping forward is calendar-aware and a
month end stays a month end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from modreg.errors import UsageError

__all__ = [
    "Frequency",
    "FrequencyError",
    "TimestampError",
    "format_timestamps",
    "infer_frequency",
    "normalize_timestamps",
    "parse_timestamps",
]

_SECOND_UNITS = (("W", 604_800), ("D", 86_400), ("H", 3_600), ("min", 60), ("s", 1))
_MONTH_UNITS = (("Y", 12), ("Q", 3), ("M", 1))
_ANCHORS = {"S": "start", "E": "end"}
_UNIT_SECONDS = {"D": 86_400, "m": 60, "s": 1}
_TIMESTAMP = re.compile(
    r"(?P<int>[+-]?\d+)|(?P<D>\d{4}-\d{2}(?:-\d{2})?)"
    r"|(?P<m>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2})|(?P<s>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})"
)
_INT64_MAX = int(np.iinfo(np.int64).max)
_LAST_MONTH = int(np.datetime64("9999-12", "M").astype(np.int64))
_LAST_SECOND = int(np.datetime64("9999-12-31T23:59:59", "s").astype(np.int64))
FORMATS_HINT = "use integers or dates like 2024-01-31, 2024-01 or 2024-01-31 13:30[:00]"


class TimestampError(ValueError):
    """A `ds` value that cannot be parsed; `index` is its position in the input."""

    def __init__(self, index: int, detail: str) -> None:
        super().__init__(detail)
        self.index = index
        self.detail = detail


class FrequencyError(ValueError):
    """Irregular timestamps: `series` and `position` locate the offending point."""

    def __init__(self, detail: str, series: int | None = None, position: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.series = series
        self.position = position


@dataclass(frozen=True)
class Frequency:
    """The step between consecutive timestamps.

    Args:
        kind: "int" (integer steps), "seconds" (fixed width) or "months" (calendar months).
        step: the number of units (integers, seconds or months) in one period.
        anchor: for months, "start" or "end" of the month; empty otherwise.
    """

    kind: str
    step: int
    anchor: str = ""

    def __post_init__(self) -> None:
        anchors = ("start", "end") if self.kind == "months" else ("",)
        if self.kind not in {"int", "seconds", "months"} or self.step < 1 or self.anchor not in anchors:
            raise ValueError(f"invalid frequency: kind={self.kind!r}, step={self.step}, anchor={self.anchor!r}")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """Short name: `int:1`, `30min`, `H`, `D`, `W`, `MS`, `ME`, `QS`, `QE`, `YS`, `YE`, ..."""
        if self.kind == "int":
            return f"int:{self.step}"
        units = _SECOND_UNITS if self.kind == "seconds" else _MONTH_UNITS
        unit, size = next((u, s) for u, s in units if self.step % s == 0)
        count = "" if self.step == size else str(self.step // size)
        suffix = {"start": "S", "end": "E"}.get(self.anchor, "")
        return f"{count}{unit}{suffix}"

    @classmethod
    def from_name(cls, name: str) -> Frequency:
        """The Frequency called `name` (the inverse of `.name`)."""
        found = re.fullmatch(r"int:([1-9]\d*)", name)
        if found:
            return cls("int", int(found.group(1)))
        found = re.fullmatch(r"([1-9]\d*)?(W|D|H|min|s)", name)
        found = found or re.fullmatch(r"([1-9]\d*)?(Y|Q|M)(S|E)", name)
        if found is None:
            raise UsageError(
                f"'{name}' is not a frequency name.",
                hint="use int:STEP, a count and unit (30min, H, D, W) or MS, ME, QS, QE, YS, YE",
            )
        count = int(found.group(1) or 1)
        if found.lastindex == 3:
            size = dict(_MONTH_UNITS)[found.group(2)]
            return cls("months", count * size, _ANCHORS[found.group(3)])
        return cls("seconds", count * dict(_SECOND_UNITS)[found.group(2)])

    @property
    def season_length(self) -> int:
        """The usual seasonal period: 24 for hourly, 7 for daily, 12 for monthly, 1 if none."""
        if self.kind == "months":
            return 12 // self.step if 12 % self.step == 0 else 1
        if self.kind == "int":
            return 1
        known = {86_400: 7, 604_800: 52}
        if self.step in known:
            return known[self.step]
        return 86_400 // self.step if 86_400 % self.step == 0 else 1

    def shift(self, values: np.ndarray, n: int | np.ndarray) -> np.ndarray:
        """`values` moved `n` periods forward (negative `n` moves back); broadcasts."""
        values = np.asarray(values)
        periods = np.asarray(n, dtype=np.int64) * self.step
        if self.kind == "int":
            return values + periods
        if self.kind == "seconds":
            moved = values + periods.astype("timedelta64[s]")
            unit = np.datetime_data(values.dtype)[0]
            keep = unit in _UNIT_SECONDS and self.step % _UNIT_SECONDS[unit] == 0
            return moved.astype(values.dtype) if keep else moved
        return _shift_months(values, periods, self.anchor == "end")

    def future(self, last: np.ndarray | np.generic, h: int) -> np.ndarray:
        """The `h` timestamps after `last`; UsageError when they would leave what ds can hold
        (integers up to the int64 maximum, dates up to 9999-12-31 23:59:59)."""
        self._check_reach(np.asarray(last), h)
        return self.shift(np.asarray(last), np.arange(1, h + 1))

    def _check_reach(self, last: np.ndarray, h: int) -> None:
        """Compare in Python integers, which do not wrap as int64 does."""
        if self.kind == "int":
            end, limit, unit = int(last) + h * self.step, _INT64_MAX, ""
        elif self.kind == "months":
            end, limit, unit = int(last.astype("datetime64[M]").astype(np.int64)) + h * self.step, _LAST_MONTH, " (9999-12)"
        else:
            end, limit, unit = int(last.astype("datetime64[s]").astype(np.int64)) + h * self.step, _LAST_SECOND, " (9999-12-31 23:59:59)"
        if end > limit:
            shown = format_timestamps(last.reshape(1))[0]
            raise UsageError(
                f"a forecast of {h:,} steps of {self.name} after ds {shown} would pass the last timestamp modreg "
                f"can write{unit or f' ({_INT64_MAX:,})'}.",
                hint="use a shorter horizon, or renumber the ds column so that the forecast stays in range.",
            )


def _shift_months(values: np.ndarray, months: np.ndarray, end: bool) -> np.ndarray:
    days = values.astype("datetime64[D]")
    month = days.astype("datetime64[M]") + months
    if end:
        out = (month + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    else:
        out = month.astype("datetime64[D]")
    return out.astype(values.dtype)


# ----- Parsing and formatting -----


def _classify(values: Sequence[str]) -> str:
    """"int" or the finest datetime unit among `values`; raises on a bad or mixed value."""
    kinds = [m.lastgroup if m else None for m in map(_TIMESTAMP.fullmatch, values)]
    for index, kind in enumerate(kinds):
        if kind is None:
            raise TimestampError(index, f"has ds '{values[index]}', which is neither an integer nor a date")
        if (kind == "int") != (kinds[0] == "int"):
            first = "integers" if kinds[0] == "int" else "dates"
            detail = f"has ds '{values[index]}', but the file's ds column starts with {first}"
            raise TimestampError(index, detail)
    if kinds and kinds[0] == "int":
        return "int"
    return "s" if "s" in kinds else "m" if "m" in kinds else "D"


def parse_timestamps(values: Sequence[str]) -> np.ndarray:
    """`ds` strings as int64 or datetime64[D|m|s]; raises TimestampError naming the index."""
    kind = _classify(values)
    dtype = np.int64 if kind == "int" else np.dtype(f"datetime64[{kind}]")
    cleaned = [v.replace(" ", "T") for v in values]
    try:
        return np.array(cleaned, dtype=dtype)
    except (ValueError, OverflowError):
        for index, value in enumerate(cleaned):
            try:
                np.array(value, dtype=dtype)
            except (ValueError, OverflowError) as error:
                reason = str(error).split(" in datetime string")[0].lower()
                detail = f"has ds '{values[index]}', which is not valid ({reason})"
                raise TimestampError(index, detail) from None
        raise


def normalize_timestamps(values: np.ndarray) -> np.ndarray:
    """Integers as int64 and datetimes as datetime64[D|m|s], refusing sub-second values."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    if not np.issubdtype(values.dtype, np.datetime64):
        raise UsageError(f"timestamps must be integers or datetime64, not {values.dtype}.")
    unit = np.datetime_data(values.dtype)[0]
    target = "D" if unit in {"Y", "M", "W", "D"} else "m" if unit in {"h", "m"} else "s"
    out = values.astype(f"datetime64[{target}]")
    if not np.array_equal(out.astype(values.dtype), values):
        raise UsageError("timestamps finer than one second are not supported.")
    return out


def format_timestamps(values: np.ndarray) -> list[str]:
    """Timestamps as text in the style they were read: `12`, `2024-01-31`, `2024-01-31T13:30`."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.integer):
        return [str(int(v)) for v in values]
    unit = np.datetime_data(values.dtype)[0]
    return list(np.datetime_as_string(values, unit=unit if unit in _UNIT_SECONDS else "s"))


# ----- Inference -----


def infer_frequency(ds: Sequence[np.ndarray]) -> Frequency:
    """The one frequency shared by sorted, duplicate-free series `ds`.

    Raises FrequencyError naming the series and position of the first point that breaks it.
    """
    series = [np.asarray(d) for d in ds]
    if not series:
        raise FrequencyError("has no timestamps")
    if np.issubdtype(series[0].dtype, np.integer):
        return _infer_step(series, [np.diff(d) for d in series], lambda k: Frequency("int", k))
    anchor = _calendar_anchor(series)
    if anchor:
        months = [d.astype("datetime64[M]").astype(np.int64) for d in series]
        return _infer_step(series, [np.diff(m) for m in months], lambda k: Frequency("months", k, anchor))
    seconds = [d.astype("datetime64[s]").astype(np.int64) for d in series]
    return _infer_step(series, [np.diff(s) for s in seconds], lambda k: Frequency("seconds", k))


def _infer_step(
    series: list[np.ndarray], diffs: list[np.ndarray], make: Callable[[int], Frequency]
) -> Frequency:
    for index, diff in enumerate(diffs):  # sorted and duplicate-free: a step below 1 wrapped around int64
        wrapped = np.flatnonzero(diff < 1)
        if wrapped.size:
            pos = int(wrapped[0]) + 1
            before, after = format_timestamps(series[index][pos - 1 : pos + 1])
            raise FrequencyError(f"steps from {before} to {after}, a gap larger than {_INT64_MAX:,}", index, pos)
    steps = np.concatenate(diffs) if diffs else np.array([], dtype=np.int64)
    if steps.size == 0:
        if np.issubdtype(series[0].dtype, np.integer):
            return make(1)
        raise FrequencyError("has a single timestamp, so the file's frequency cannot be inferred")
    values, counts = np.unique(steps, return_counts=True)
    freq: Frequency = make(int(values[np.argmax(counts)]))
    for index, diff in enumerate(diffs):
        bad = np.flatnonzero(diff != freq.step)
        if bad.size:
            pos = int(bad[0]) + 1
            before, after = format_timestamps(series[index][pos - 1 : pos + 1])
            detail = f"steps from {before} to {after}, but the file's frequency is {freq.name}"
            raise FrequencyError(detail, index, pos)
    return freq


def _calendar_anchor(series: list[np.ndarray]) -> str:
    """"start"/"end" when every point is a month start/end at midnight, "" when few are."""
    values = np.concatenate(series)
    days = values.astype("datetime64[D]")
    midnight = days.astype(values.dtype) == values
    flags = {
        "start": midnight & (days.astype("datetime64[M]").astype("datetime64[D]") == days),
        "end": midnight & ((days + 1).astype("datetime64[M]").astype("datetime64[D]") == days + 1),
    }
    for anchor, flag in flags.items():
        if flag.all():
            return anchor
        if flag.mean() > 0.5:
            index = int(np.argmin(flag))
            bounds = np.cumsum([len(s) for s in series])
            which = int(np.searchsorted(bounds, index, side="right"))
            pos = index - (int(bounds[which - 1]) if which else 0)
            text = format_timestamps(values[index : index + 1])[0]
            detail = f"has {text}, which is not a month {anchor} like the rest of the file"
            raise FrequencyError(detail, which, pos)
    return ""
