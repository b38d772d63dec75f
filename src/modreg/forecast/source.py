"""Where `run` and `bench` read series from: a CSV file or a pandas DataFrame, and its column names.

`SeriesSource(data, id_col, time_col, target_col).read(exog)` gives a validated SeriesFrame.
A DataFrame goes through the same reader as a file (its CSV text), so it gets the same checks
and messages; pandas itself is never imported here (the DataFrame brings its own `to_csv`).
Only the extra columns the models declare exogenous are read (`declared_exog`); the others are
ignored with a notice, so a text column such as `region` does not stop a run. `check_future`
holds future exogenous values to the timestamps the forecast is made for.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modreg.errors import UsageError
from modreg.runtime.data import SeriesFrame, read_future_csv, read_series_csv, read_series_text
from modreg.runtime.data.frequency import Frequency, format_timestamps

__all__ = ["EXOG_PARAMS", "SeriesSource", "check_future", "declared_exog", "is_dataframe"]

EXOG_PARAMS = ("hist_exog_list", "futr_exog_list", "stat_exog_list")


def is_dataframe(data: Any) -> bool:
    """Whether `data` is a pandas DataFrame (checked without importing pandas)."""
    return type(data).__module__.partition(".")[0] == "pandas" and hasattr(data, "to_csv")


def declared_exog(params: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every column the parameter sets name in hist_exog_list, futr_exog_list or stat_exog_list."""
    found: dict[str, None] = {}
    for layer in params:
        for key in EXOG_PARAMS:
            for name in layer.get(key) or ():
                found[str(name)] = None
    return list(found)


@dataclass(frozen=True)
class SeriesSource:
    """A series CSV path or a pandas DataFrame, and the names of its id, time and target columns."""

    data: Any
    id_col: str = "unique_id"
    time_col: str = "ds"
    target_col: str = "y"

    def __post_init__(self) -> None:
        if not is_dataframe(self.data) and not isinstance(self.data, (str, os.PathLike)):
            raise UsageError(f"data must be a CSV path or a pandas DataFrame, not {type(self.data).__name__}.",
                             hint='pass e.g. data="series.csv".')

    @property
    def path(self) -> Path | None:
        return None if is_dataframe(self.data) else Path(self.data)

    @property
    def name(self) -> str:
        """What results call the data set: the file's stem, or "DataFrame"."""
        return "DataFrame" if self.path is None else self.path.stem

    def read(self, exog: Sequence[str] | None = None) -> SeriesFrame:
        """The validated series; `exog`: the extra columns to keep (None: all of them)."""
        columns = {"id_col": self.id_col, "time_col": self.time_col, "target_col": self.target_col, "exog": exog}
        if self.path is None:
            return read_series_text(self.data.to_csv(index=False), source="DataFrame", **columns)
        return read_series_csv(self.path, **columns)

    def read_future(self, futr: Any, exog: Sequence[str] | None = None, freq: Frequency | None = None) -> SeriesFrame:
        """The future exogenous values (a path or a DataFrame) with this source's column names;
        `freq` (the data's) saves a file of one row per series from inferring its own."""
        columns = {"id_col": self.id_col, "time_col": self.time_col, "target_col": self.target_col, "exog": exog}
        if is_dataframe(futr):
            frame = futr if self.target_col in futr.columns else futr.assign(**{self.target_col: 0.0})
            return read_series_text(frame.to_csv(index=False), source="future DataFrame", **columns)
        return read_future_csv(futr, **columns, freq=freq)


def check_future(data: SeriesFrame, future: SeriesFrame, h: int, columns: Sequence[str] = (),
                 model: str = "the model") -> None:
    """UsageError unless the future values hold `columns` (that `model` needs) and every series
    of `data` has them at its next `h` timestamps: values for other dates (a year off, integers
    for dates) would silently feed the forecast."""
    absent = [name for name in columns if name not in future.exog]
    if absent:
        raise UsageError(f"the future values have no column '{absent[0]}', which {model} needs for the horizon.",
                         path=future.source, hint=f"add it (the model's future columns: {', '.join(columns)}).")
    lookup = dict(zip(future.ids, future.ds))
    for sid, expected in zip(data.ids, data.future_ds(h)):
        wanted = format_timestamps(expected)
        span = f"{h} row{'s' * (h > 1)} from {wanted[0]} to {wanted[-1]}" if h > 1 else f"its row at {wanted[0]}"
        if sid not in lookup:
            found = ", ".join(list(future.ids)[:5]) + (", ..." if future.n_series > 5 else "")
            raise UsageError(f"the future values have no rows for series '{sid}'.", path=future.source,
                             hint=f"give its {span} (series found: {found}).")
        given = lookup[sid][:h]
        if len(given) < h:
            raise UsageError(f"series '{sid}' has {len(given)} future row{'s' * (len(given) != 1)}, "
                             f"but the horizon needs {h}.", path=future.source, hint=f"give its {span}.")
        if given.dtype != expected.dtype or not np.array_equal(given, expected):
            raise UsageError(f"series '{sid}' has future values from {format_timestamps(given)[0]}, "
                             f"but its forecast starts at {wanted[0]}.", path=future.source,
                             hint=f"give its {span}, the steps right after the data.")
