"""Series data: long-format CSV in, a validated `SeriesFrame` out, forecasts written back.

- `frame`: `SeriesFrame`, the in-memory series, and `require_length`.
- `csv_reader`: `read_series_csv` / `read_future_csv`, errors at their file and line.
- `forecast_csv`: forecasts written back as CSV.
- `frequency`: the time axis (parse, infer, step forward, format).
"""

from __future__ import annotations

from modreg.runtime.data.csv_reader import read_future_csv, read_series_csv, read_series_text
from modreg.runtime.data.forecast_csv import ForecastLike, forecasts_to_csv, write_forecasts_csv
from modreg.runtime.data.frame import DEFAULT_ID, SeriesFrame, require_length

__all__ = [
    "DEFAULT_ID",
    "ForecastLike",
    "SeriesFrame",
    "forecasts_to_csv",
    "read_future_csv",
    "read_series_csv",
    "read_series_text",
    "require_length",
    "write_forecasts_csv",
]
