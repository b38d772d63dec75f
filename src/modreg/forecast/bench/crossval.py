"""Every window's forecasts of a benchmark, shaped like neuralforecast's `cross_validation` frame.

One row per series, window and horizon step, ordered by series, cutoff and time:
`unique_id, ds, cutoff, y`, then one column per model output (`<model>`, `<model>-lo-90`, ...),
so that users can plot or score the windows themselves (`modreg bench --output bench.csv`,
`BenchResult.to_pandas()`). Timestamps are written in the data's own style.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import numpy as np

from modreg.runtime.data.frequency import format_timestamps

if TYPE_CHECKING:
    from modreg.forecast.bench.harness import BenchResult

__all__ = ["cross_validation_columns", "cross_validation_csv", "cross_validation_frame", "cross_validation_records"]

_KEYS = ("unique_id", "ds", "cutoff", "y")


def cross_validation_columns(result: BenchResult) -> list[str]:
    """unique_id, ds, cutoff, y, then each successful model's output columns."""
    columns = [f"{row.target}{suffix}" for row in result.models if row.ok and row.outcomes
               for suffix in row.outcomes[0].values]
    return [*_KEYS, *columns]


def cross_validation_records(result: BenchResult) -> list[dict[str, Any]]:
    """One dict per series, window and step (see the module docstring)."""
    frame = result.frame
    if frame is None:
        return []
    rows: dict[tuple[int, int, int], dict[str, Any]] = {}
    for model in (row for row in result.models if row.ok):
        for outcome in model.outcomes:
            for i, sid in enumerate(frame.ids):
                length = len(frame.ds[i])
                start = length - outcome.offset
                stamps = format_timestamps(frame.ds[i][start:start + outcome.actual.shape[1]])
                cutoff = format_timestamps(np.asarray([outcome.cutoffs[i]]))[0]
                for j, stamp in enumerate(stamps):
                    row = rows.setdefault((i, outcome.window, j), {"unique_id": sid, "ds": stamp, "cutoff": cutoff,
                                                                   "y": float(outcome.actual[i, j])})
                    for suffix, values in outcome.values.items():
                        row[f"{model.target}{suffix}"] = float(values[i, j])
    return [rows[key] for key in sorted(rows)]


def cross_validation_csv(result: BenchResult) -> str:
    """The records as CSV text (numbers to 10 significant digits)."""
    columns = cross_validation_columns(result)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in cross_validation_records(result):
        writer.writerow([_text(record.get(column)) for column in columns])
    return buffer.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    return format(value, ".10g") if isinstance(value, float) else str(value)


def cross_validation_frame(result: BenchResult) -> Any:
    """The records as a pandas DataFrame, `ds` and `cutoff` as datetimes when the data has dates."""
    import pandas as pd

    frame = pd.DataFrame(cross_validation_records(result), columns=cross_validation_columns(result))
    data = result.frame
    if data is not None and data.ds and data.ds[0].dtype.kind == "M":
        frame["ds"], frame["cutoff"] = pd.to_datetime(frame["ds"]), pd.to_datetime(frame["cutoff"])
    return frame
