"""SeasonalETS: Holt-Winters exponential smoothing, a modreg plugin model.

The model is written against the plugin API: it subclasses `Forecaster`, declares its
hyperparameters in `__init__` (they become its parameter schema) and registers itself with
`@register_model`. Its numpy recursions live in `_smoothing.py`, imported relatively; modreg
runs both files from the bytes that `plugin.toml` pins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime.data import SeriesFrame, require_length
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Forecast, Forecaster

from ._smoothing import Smoothing, fit_grid, forecast, run_filter

if TYPE_CHECKING:
    from typing import Self

    from modreg.runtime.train import ProgressFn

__all__ = ["SeasonalETS"]


@register_model("SeasonalETS", category="basic",
                capabilities=("univariate", "multi_step", "batch_processing", "interpretable"))
class SeasonalETS(Forecaster):
    """Holt-Winters exponential smoothing with additive or multiplicative seasonality.

    Level, trend (optionally damped) and seasonal indices are smoothed per series; the
    smoothing parameters alpha, beta, gamma (and the damping phi) minimise the in-sample
    one-step squared error over a grid, refined twice around the best point.

    Args:
        h: forecast horizon.
        season_length: the season m in steps; None infers it from the frequency (12 monthly, 4 quarterly, ...).
        seasonal: additive (constant seasonal swings) or multiplicative (swings grow with the level; needs positive data).
        trend: smooth a trend (Holt); false gives a level with seasonality only.
        damped: damp the trend towards a constant (phi chosen from 0.8, 0.9, 0.95, 0.98).
        grid_size: grid points per smoothing parameter in the first search.

    References:
        Winters, P. R. (1960). "Forecasting sales by exponentially weighted moving averages".
        Management Science 6(3), 324-342. Hyndman, R. J., Athanasopoulos, G. (2021).
        "Forecasting: Principles and Practice", 3rd edition, section 8.3. OTexts.
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "h": {"minimum": 1}, "season_length": {"minimum": 2}, "grid_size": {"minimum": 3, "maximum": 25},
    }

    def __init__(self, h: int, season_length: int | None = None,
                 seasonal: Literal["additive", "multiplicative"] = "additive", trend: bool = True,
                 damped: bool = False, grid_size: int = 9) -> None:
        self.h, self.season_length, self.seasonal = h, season_length, seasonal
        self.trend, self.damped, self.grid_size = trend, damped, grid_size
        self._smoothing: np.ndarray | None = None  # (n_series, 4): alpha, beta, gamma, phi

    @property
    def multiplicative(self) -> bool:
        return self.seasonal == "multiplicative"

    def fit(self, data: SeriesFrame, *, progress: ProgressFn | None = None) -> Self:
        """Choose the smoothing parameters of every series; remember the data."""
        self.check_params()
        m = self._checked_season(data)
        rows = [fit_grid(y, m, self.multiplicative, self.trend, self.damped, self.grid_size).as_row() for y in data.y]
        self._smoothing = np.stack(rows)
        self._remember(data)
        return self

    def _predict(self, data: SeriesFrame, h: int, futr: SeriesFrame | None) -> Forecast:
        m = self._checked_season(data)
        fitted = self._by_series()
        values = np.stack([self._forecast_one(sid, y, m, h, fitted) for sid, y in zip(data.ids, data.y)])
        return Forecast(self.name, data.ids, data.future_ds(h), {self.name: values})

    def _forecast_one(self, sid: str, y: np.ndarray, m: int, h: int, fitted: dict[str, np.ndarray]) -> np.ndarray:
        if sid not in fitted:
            raise UsageError(f"{self.name} was not fitted on the series '{sid}'.",
                             hint=f"fit it on data that includes '{sid}'.")
        params = Smoothing(*(np.array([value]) for value in fitted[sid]))
        states = run_filter(y, m, params, self.multiplicative, self.trend)
        return forecast(states, h, float(params.phi[0]), self.multiplicative)

    def _by_series(self) -> dict[str, np.ndarray]:
        assert self._smoothing is not None and self._context is not None
        return dict(zip(self._context.ids, self._smoothing))

    def _checked_season(self, data: SeriesFrame) -> int:
        m = self.season_length or data.freq.season_length
        if m < 2:
            raise UsageError(f"{self.name} needs a season of at least 2 steps; the data's frequency gives {m}.",
                             hint="set season_length.")
        require_length(data, 2 * m, f"{self.name} starts from the first two seasons, so it needs at least 2 * season_length")
        if self.multiplicative:
            for sid, y in zip(data.ids, data.y):
                if (y <= 0).any():
                    raise UsageError(f"series '{sid}' has values <= 0, which multiplicative seasonality cannot divide by.",
                                     hint="use seasonal = \"additive\".")
        return m

    # ----- Saving -----

    def num_parameters(self) -> int:
        """The fitted smoothing parameters: four per series."""
        return 0 if self._smoothing is None else int(self._smoothing.size)

    def _state(self) -> dict[str, np.ndarray]:
        assert self._smoothing is not None
        return {"smoothing": self._smoothing}

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        self._smoothing = np.asarray(state["smoothing"], dtype=np.float64)
