"""Naive and SeasonalNaive: the statistical reference forecasts (statsforecast's definitions).

Neither learns anything: `fit` only remembers the tail of the data that the forecast repeats,
so `save` writes that tail (and no weights) and `load` forecasts from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from modreg.runtime.data import SeriesFrame, require_length
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Forecast, Forecaster

if TYPE_CHECKING:
    from typing import Self

    from modreg.runtime.training.fit import ProgressFn

__all__ = ["Naive", "SeasonalNaive"]


class _Repeater(Forecaster):
    """Forecasts each series by repeating its last `period` values over the horizon."""

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {"h": {"minimum": 1}}
    h: int

    def _period(self, data: SeriesFrame) -> int:
        raise NotImplementedError

    @property
    def context_length(self) -> int | None:  # type: ignore[override]
        return getattr(self, "_fitted_period", None)

    def fit(self, data: SeriesFrame, *, progress: ProgressFn | None = None) -> Self:
        """Check the parameters and that every series covers one period; remember the tail."""
        self.check_params()
        self._fitted_period = self._checked_period(data)
        self._remember(data)
        return self

    def _predict(self, data: SeriesFrame, h: int, futr: SeriesFrame | None) -> Forecast:
        period = self._checked_period(data)
        steps = np.arange(h) % period - period  # positions in the last period: -period, ..., -1, -period, ...
        values = np.stack([y[steps] for y in data.y])  # (n_series, h)
        return Forecast(self.name, data.ids, data.future_ds(h), {self.name: values})

    def _checked_period(self, data: SeriesFrame) -> int:
        period = self._period(data)
        require_length(data, period, f"{self.name} repeats the last season, so it needs at least season_length")
        return period


@register_model("Naive", category="basic", capabilities=("univariate", "multi_step", "batch_processing", "baseline"))
class Naive(_Repeater):
    """Naive forecast: every future value equals the last observed value, y_{T+k} = y_T.

    Args:
        h: forecast horizon.

    References:
        Hyndman, R. J., Athanasopoulos, G. (2021). "Forecasting: Principles and Practice", 3rd
        edition, section 5.2 "Some simple forecasting methods". OTexts.
    """

    def __init__(self, h: int) -> None:
        self.h = h

    def _period(self, data: SeriesFrame) -> int:
        return 1


@register_model("SeasonalNaive", category="basic",
                capabilities=("univariate", "multi_step", "batch_processing", "baseline", "seasonal"))
class SeasonalNaive(_Repeater):
    """Seasonal naive forecast: each future value equals the value one season earlier.

    y_{T+k} = y_{T+k-m*(floor((k-1)/m)+1)}: the last `season_length` observations repeated.

    Args:
        h: forecast horizon.
        season_length: the season m in steps; None infers it from the frequency (12 monthly, 7 daily, 24 hourly, ...).

    References:
        Hyndman, R. J., Athanasopoulos, G. (2021). "Forecasting: Principles and Practice", 3rd
        edition, section 5.2 "Some simple forecasting methods". OTexts.
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {"season_length": {"minimum": 1}}

    def __init__(self, h: int, season_length: int | None = None) -> None:
        self.h, self.season_length = h, season_length

    def _period(self, data: SeriesFrame) -> int:
        return self.season_length or data.freq.season_length
