"""Writing forecasts as `unique_id,ds,<model>...` CSV, dates in the input's own style."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol

import numpy as np

from modreg._fs import write_atomic
from modreg.runtime.data.frequency import (
    format_timestamps,
)

__all__ = ["ForecastLike", "forecasts_to_csv", "write_forecasts_csv"]


class ForecastLike(Protocol):
    """What `write_forecasts_csv` needs: the runtime's Forecast, or anything shaped like it."""

    ids: Sequence[str]
    ds: Sequence[np.ndarray]
    values: Mapping[str, np.ndarray]


def forecasts_to_csv(forecast: ForecastLike) -> str:
    """`unique_id,ds,<column>...` text, one row per series and step, dates in the input's style."""
    columns = list(forecast.values)
    matrices = [np.asarray(forecast.values[c], dtype=np.float64) for c in columns]
    _check_forecast_shapes(forecast, columns, matrices)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["unique_id", "ds", *columns])
    for i, sid in enumerate(forecast.ids):
        for j, stamp in enumerate(format_timestamps(forecast.ds[i])):
            writer.writerow([sid, stamp, *(format(m[i, j], ".10g") for m in matrices)])
    return buffer.getvalue()


def _check_forecast_shapes(forecast: ForecastLike, columns: list[str], matrices: list[np.ndarray]) -> None:
    for i, stamps in enumerate(forecast.ds):
        expected = (len(forecast.ids), len(stamps))
        bad = [c for c, m in zip(columns, matrices) if m.shape != expected]
        if bad:
            raise ValueError(f"forecast column '{bad[0]}' is not shaped {expected} like the ds of series {i}")


def write_forecasts_csv(forecast: ForecastLike, target: str | Path | IO[str]) -> None:
    """Write forecasts as CSV to a text stream, or atomically to a file path."""
    text = forecasts_to_csv(forecast)
    if isinstance(target, (str, Path)):
        write_atomic(Path(target), text)
    else:
        target.write(text)
