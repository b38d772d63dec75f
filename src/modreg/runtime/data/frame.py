"""`SeriesFrame`: validated series (ids, timestamps, values, exogenous columns) in memory.

Every series has increasing, regular timestamps and finite values; a bad value is a
`UsageError` naming the series. `require_length` is the one check of "long enough".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from modreg.errors import UsageError
from modreg.runtime.data.frequency import (
    Frequency,
    FrequencyError,
    infer_frequency,
    normalize_timestamps,
)

__all__ = ["DEFAULT_ID", "SeriesFrame", "require_length"]

DEFAULT_ID = "series"
_REGULAR_HINT = "timestamps must be regular: fill the missing periods (or drop the extra ones)"


@dataclass(frozen=True, eq=False)
class SeriesFrame:
    """Validated series sharing one frequency.

    Args:
        ids: series names, in the order they first appear.
        ds: per series, strictly increasing timestamps (int64 or datetime64[D|m|s]).
        y: per series, finite float64 targets aligned with `ds`.
        freq: the frequency shared by every series.
        exog: per exogenous column, per series finite float64 values aligned with `ds`.
        notices: what was fixed while reading (sorted timestamps), for the CLI to print.
        source: the file the data came from, for messages.
    """

    ids: tuple[str, ...]
    ds: tuple[np.ndarray, ...]
    y: tuple[np.ndarray, ...]
    freq: Frequency
    exog: dict[str, tuple[np.ndarray, ...]] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    source: str | None = None

    def __post_init__(self) -> None:
        if not len(self.ids) == len(self.ds) == len(self.y):
            raise ValueError("ids, ds and y must have one entry per series")
        columns = [self.ds, self.y, *self.exog.values()]
        if any(len(c) != len(self.ids) for c in columns):
            raise ValueError("every exogenous column needs one array per series")
        if any(len({len(c[i]) for c in columns}) != 1 for i in range(len(self.ids))):
            raise ValueError("ds, y and exogenous arrays of a series must have the same length")

    @property
    def n_series(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.y)

    @property
    def exog_names(self) -> tuple[str, ...]:
        return tuple(self.exog)

    def future_ds(self, h: int) -> tuple[np.ndarray, ...]:
        """Each series' next `h` timestamps (a UsageError, naming the file, past year 9999 or int64)."""
        try:
            return tuple(self.freq.future(d[-1], h) for d in self.ds)
        except UsageError as error:
            error.path = error.path or self.source
            raise

    def slice_end(self, k: int) -> SeriesFrame:
        """The frame without the last `k` points of every series (each keeps at least one)."""
        if k < 0:
            raise ValueError(f"cannot drop {k} points")
        if k == 0:
            return self
        require_length(self, k + 1, f"holding out the last {k} points needs at least {k} + 1")
        return SeriesFrame(
            ids=self.ids,
            ds=tuple(d[:-k] for d in self.ds),
            y=tuple(v[:-k] for v in self.y),
            freq=self.freq,
            exog={name: tuple(v[:-k] for v in values) for name, values in self.exog.items()},
            notices=self.notices,
            source=self.source,
        )

    @classmethod
    def from_arrays(
        cls,
        y: Sequence[np.ndarray] | np.ndarray,
        *,
        ids: Sequence[str] | None = None,
        ds: Sequence[np.ndarray] | None = None,
        exog: Mapping[str, Sequence[np.ndarray]] | None = None,
        freq: Frequency | None = None,
    ) -> SeriesFrame:
        """A frame from arrays (one per series; a 1-D ndarray is one series), validated.

        `ds` defaults to integer steps 0..n-1; `freq` is inferred from `ds` when not given.
        """
        ys = [y] if isinstance(y, np.ndarray) and y.ndim == 1 else list(y)
        values = tuple(_floats(v) for v in ys)
        names = tuple(ids) if ids is not None else _default_ids(len(values))
        stamps = _stamps(ds, values)
        extra = {k: tuple(_floats(a) for a in v) for k, v in (exog or {}).items()}
        for name, column in {"y": values, **extra}.items():
            _check_finite_arrays(names, column, name)
        _check_increasing(names, stamps)
        frame_freq = freq or _infer_or_raise(stamps, names)
        return cls(ids=names, ds=stamps, y=values, freq=frame_freq, exog=extra)


def _floats(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _stamps(ds: Sequence[np.ndarray] | None, values: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    if ds is None:
        return tuple(np.arange(len(v), dtype=np.int64) for v in values)
    return tuple(normalize_timestamps(np.asarray(d)) for d in ds)


def _default_ids(n: int) -> tuple[str, ...]:
    return (DEFAULT_ID,) if n == 1 else tuple(f"{DEFAULT_ID}_{i}" for i in range(n))


def _check_finite_arrays(ids: Sequence[str], arrays: Sequence[np.ndarray], column: str) -> None:
    for sid, values in zip(ids, arrays):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            detail = f"a missing or infinite value in '{column}' at point {bad[0]}"
            raise UsageError(f"series '{sid}' has {detail}.")


def _check_increasing(ids: Sequence[str], stamps: Sequence[np.ndarray]) -> None:
    for sid, values in zip(ids, stamps):
        bad = np.flatnonzero(np.diff(values).astype(np.int64) <= 0)  # timedeltas as counts: no bare-int timedelta
        if bad.size:
            raise UsageError(f"series '{sid}' timestamps are not strictly increasing at point {bad[0] + 1}.")


def _infer_or_raise(stamps: Sequence[np.ndarray], ids: Sequence[str]) -> Frequency:
    try:
        return infer_frequency(stamps)
    except FrequencyError as error:
        who = "every series" if error.series is None else f"series '{ids[error.series]}'"
        raise UsageError(f"{who} {error.detail}.", hint=_REGULAR_HINT) from None


def require_length(frame: SeriesFrame, n: int, what: str, *, hint: str | None = None) -> None:
    """Raise a UsageError unless every series has at least `n` points.

    `what` says who needs them, e.g. "NHITS needs at least input_size + h", giving
    "series 'X' has 20 points; NHITS needs at least input_size + h = 36."
    """
    short = [(sid, len(v)) for sid, v in zip(frame.ids, frame.y) if len(v) < n]
    if not short:
        return
    sid, count = short[0]
    verb = "is" if len(short) == 2 else "are"
    others = f" ({len(short) - 1} other series {verb} short too)" if len(short) > 1 else ""
    raise UsageError(
        f"series '{sid}' has {count} point{'' if count == 1 else 's'}{others}; {what} = {n}.",
        hint=hint or "use longer series, or lower the settings that need this many points",
        path=frame.source,
    )
