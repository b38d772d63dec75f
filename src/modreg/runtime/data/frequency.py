"""The time axis: parse `ds` values, infer a file's frequency, step forward, format back.

`ds` holds integers (steps) or dates: `YYYY-MM-DD`, `YYYY-MM`, `YYYY-MM-DD HH:MM[:SS]` or the
same with an ISO `T`. Dates become `datetime64[D]`, times without seconds `datetime64[m]` and
times with seconds `datetime64[s]`, so writing them back keeps the input's precision.

A `Frequency` is one of three kinds: an integer step (`int:STEP`), a fixed number of seconds
(`30min`, `H`, `D`, `W`, ...) or a number of calendar months anchored at the month start or end
(`MS`, `ME`, `QS`, `QE`, `YS`, `YE`, ...) or at a fixed day D of the month from 2 to 28, a day
every month has (`M-15`, `Q-15`, `Y-28`, `2M-15`, ...: a count, the unit, `-` and the day, as
pandas writes `SMS-15`), so that stepping forward is calendar-aware: a month end stays a month
end and the 15th stays the 15th.

Inference takes months when every date of the file is at midnight on a month start, on a month
end, or on one day D in 2..28, in that order (Feb 28 of years that are not leap years are month
ends, so yearly data on them is `YE`). Data dated on the 29th, 30th or 31st that are not month
ends is refused with that reason: February lacks those days, so no calendar step keeps them.
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
_FIXED_DAYS = range(2, 29)
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
        anchor: for months, "start" or "end" of the month, or "day" (the fixed `day`); empty otherwise.
        day: for the "day" anchor, the day of the month, 2 to 28; 0 otherwise.
    """

    kind: str
    step: int
    anchor: str = ""
    day: int = 0

    def __post_init__(self) -> None:
        anchors = ("start", "end", "day") if self.kind == "months" else ("",)
        days = _FIXED_DAYS if self.anchor == "day" else (0,)
        if self.kind not in {"int", "seconds", "months"} or self.step < 1 or self.anchor not in anchors \
                or self.day not in days:
            raise ValueError(f"invalid frequency: kind={self.kind!r}, step={self.step}, anchor={self.anchor!r}, "
                             f"day={self.day}")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """Short name: `int:1`, `30min`, `H`, `D`, `W`, `MS`, `ME`, `QS`, `QE`, `YS`, `YE`, `M-15`, ..."""
        if self.kind == "int":
            return f"int:{self.step}"
        units = _SECOND_UNITS if self.kind == "seconds" else _MONTH_UNITS
        unit, size = next((u, s) for u, s in units if self.step % s == 0)
        count = "" if self.step == size else str(self.step // size)
        suffix = {"start": "S", "end": "E", "day": f"-{self.day}"}.get(self.anchor, "")
        return f"{count}{unit}{suffix}"

    @classmethod
    def from_name(cls, name: str) -> Frequency:
        """The Frequency called `name` (the inverse of `.name`)."""
        found = re.fullmatch(r"int:([1-9]\d*)", name)
        if found:
            return cls("int", int(found.group(1)))
        found = re.fullmatch(r"([1-9]\d*)?(W|D|H|min|s)", name)
        found = found or re.fullmatch(r"([1-9]\d*)?(Y|Q|M)(S|E|-[2-9]|-1\d|-2[0-8])", name)
        if found is None:
            raise UsageError(
                f"'{name}' is not a frequency name.",
                hint="use int:STEP, a count and unit (30min, H, D, W), MS, ME, QS, QE, YS, YE, "
                     "or a unit and a day of the month from 2 to 28 (M-15, Q-15, Y-28)",
            )
        count = int(found.group(1) or 1)
        if found.lastindex == 3:
            size, anchor = dict(_MONTH_UNITS)[found.group(2)], found.group(3)
            if anchor.startswith("-"):
                return cls("months", count * size, "day", int(anchor[1:]))
            return cls("months", count * size, _ANCHORS[anchor])
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
        return _shift_months(values, periods, self.anchor, self.day)

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


def _shift_months(values: np.ndarray, months: np.ndarray, anchor: str, day: int) -> np.ndarray:
    month = values.astype("datetime64[D]").astype("datetime64[M]") + months
    if anchor == "end":
        out = (month + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
    else:
        out = month.astype("datetime64[D]") + np.timedelta64(day - 1 if anchor == "day" else 0, "D")
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
    anchor, day = _calendar_anchor(series)
    if anchor:
        months = [d.astype("datetime64[M]").astype(np.int64) for d in series]
        return _infer_step(series, [np.diff(m) for m in months], lambda k: Frequency("months", k, anchor, day))
    seconds = [d.astype("datetime64[s]").astype(np.int64) for d in series]
    try:
        return _infer_step(series, [np.diff(s) for s in seconds], lambda k: Frequency("seconds", k))
    except FrequencyError as error:
        clearer = _day_of_month_error(series, error)
        if clearer is None:
            raise
        raise clearer from None


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


def _calendar_anchor(series: list[np.ndarray]) -> tuple[str, int]:
    """("start", 0) or ("end", 0) when every point is a month start or end at midnight, ("day", D)
    when every point is at midnight on day D in 2..28, ("", 0) when few are month starts or ends."""
    values = np.concatenate(series)
    days, dom = _days_of_month(values)
    flags = {"start": dom == 1, "end": (dom > 0) & ((days + np.timedelta64(1, "D")).astype("datetime64[M]") != days.astype("datetime64[M]"))}
    for anchor, flag in flags.items():
        if flag.all():
            return anchor, 0
    if dom[0] in _FIXED_DAYS and (dom == dom[0]).all():
        return "day", int(dom[0])
    for anchor, flag in flags.items():
        if flag.mean() > 0.5:
            detail = f"which is not a month {anchor} like the rest of the file"
            raise _located(series, values, int(np.argmin(flag)), detail)
    return "", 0


def _day_of_month_error(series: list[np.ndarray], error: FrequencyError) -> FrequencyError | None:
    """For files mostly dated on one day of the month, an error that says so rather than `error`,
    a step of seconds; None for other files."""
    if error.series is None or error.position is None:
        return None
    values = np.concatenate(series)
    dom = _days_of_month(values)[1]
    counts = np.bincount(dom, minlength=32)
    day = int(np.argmax(counts[1:])) + 1
    if counts[day] * 2 <= dom.size:
        return None
    nth = _ordinal(day)
    odd = np.flatnonzero(dom != day)
    if day <= 28:
        return _located(series, values, int(odd[0]), f"which is not on the {nth} of its month like the rest of the file")
    lacking = "has a 29th only in leap years" if day == 29 else f"has no {nth}"
    reason = (f"steps of months keep only a day every month has, and February {lacking}; "
              f"date each row on its month's last day or on one day from the 1st to the 28th")
    if odd.size:
        return _located(series, values, int(odd[0]), f"among dates on the {nth} of the month, but {reason}")
    shown = series[error.series][error.position - 1 : error.position + 1]
    before, after = format_timestamps(shown)
    return FrequencyError(f"steps from {before} to {after} on the {nth} of the month, but {reason}",
                          error.series, error.position)


def _days_of_month(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`values` as days, and each one's day of the month (1..31), 0 for a time other than midnight."""
    days = values.astype("datetime64[D]")
    dom = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return days, np.where(days.astype(values.dtype) == values, dom, 0)


def _ordinal(day: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 21st, 22nd, 23rd, ..., 31st."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _located(series: list[np.ndarray], values: np.ndarray, index: int, detail: str) -> FrequencyError:
    """A FrequencyError "has <value>, <detail>" for point `index` of the concatenated `values`."""
    bounds = np.cumsum([len(s) for s in series])
    which = int(np.searchsorted(bounds, index, side="right"))
    pos = index - (int(bounds[which - 1]) if which else 0)
    text = format_timestamps(values[index : index + 1])[0]
    return FrequencyError(f"has {text}, {detail}", which, pos)
