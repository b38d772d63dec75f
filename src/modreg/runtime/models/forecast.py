"""`Forecast`: what every model's `predict` returns (forecasts of several series)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modreg.runtime.data import forecasts_to_csv
from modreg.runtime.data.frequency import format_timestamps

__all__ = ["Forecast"]


@dataclass(frozen=True)
class Forecast:
    """Forecasts of several series.

    Args:
        model: the model's name, the prefix of every column.
        ids: the series names.
        ds: per series, the `h` future timestamps.
        values: column name -> (n_series, h) array; `<model>` for a point forecast, plus
            `<model>-lo-90`, `<model>-hi-90`, `<model>-median`, ... for probabilistic models.
    """

    model: str
    ids: tuple[str, ...]
    ds: tuple[np.ndarray, ...]
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def h(self) -> int:
        return len(self.ds[0]) if self.ds else 0

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def point(self) -> np.ndarray:
        """The point forecast: the `<model>` column, else the median."""
        for name in (self.model, f"{self.model}-median"):
            if name in self.values:
                return self.values[name]
        return next(iter(self.values.values()))

    def renamed(self, model: str) -> Forecast:
        """The same forecast with columns prefixed `model` instead of `self.model`."""
        values = {model + column[len(self.model):]: v for column, v in self.values.items()}
        return Forecast(model, self.ids, self.ds, values)

    def to_csv(self) -> str:
        return forecasts_to_csv(self)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per series and step: unique_id, ds (text) and every column."""
        rows = []
        for i, sid in enumerate(self.ids):
            for j, stamp in enumerate(format_timestamps(self.ds[i])):
                rows.append({"unique_id": sid, "ds": stamp, **{c: float(v[i, j]) for c, v in self.values.items()}})
        return rows
