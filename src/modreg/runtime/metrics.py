"""Forecast accuracy metrics over arrays shaped (n_series, h), never NaN or infinite.

Point metrics take actuals `y` and forecasts `y_hat` of the same shape and average over every
point (`axis=None`) or along an axis (`axis=-1`: one figure per series). The zero cases are
defined rather than left to divide by zero:

- `smape` (0..200): a point where forecast and actual are both 0 scores 0.
- `mape` (percent): points with a zero actual are skipped; with none left the result is 0.
- `mase`: the MAE over the in-sample seasonal naive MAE (season 1 when the training series has
  no more than `season` points). When that scale is 0 the naive-1 scale is used; when the
  training series is constant (both 0) the scale is its mean absolute level, and 1 for an
  all-zero series, so a constant series yields its relative (or raw) error instead of inf.
- `crps_from_quantiles`: twice the pinball loss averaged over the quantile levels, the usual
  quantile approximation of the CRPS; `coverage` is the fraction (0..1) inside [lo, hi].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "coverage",
    "crps_from_quantiles",
    "mae",
    "mape",
    "mase",
    "mase_scale",
    "mse",
    "quantile_loss",
    "rmse",
    "smape",
]

Axis = int | None
Levels = Sequence[float]


def _pair(y: np.ndarray, y_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    actual, forecast = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    if actual.shape != forecast.shape:
        raise ValueError(f"actuals {actual.shape} and forecasts {forecast.shape} differ in shape")
    return actual, forecast


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, and 0 where den is 0 (a scalar for 0-d inputs)."""
    result = np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)
    return result[()]


def mae(y: np.ndarray, y_hat: np.ndarray, axis: Axis = None) -> np.ndarray:
    """Mean absolute error."""
    actual, forecast = _pair(y, y_hat)
    return np.mean(np.abs(actual - forecast), axis=axis)


def mse(y: np.ndarray, y_hat: np.ndarray, axis: Axis = None) -> np.ndarray:
    """Mean squared error."""
    actual, forecast = _pair(y, y_hat)
    return np.mean((actual - forecast) ** 2, axis=axis)


def rmse(y: np.ndarray, y_hat: np.ndarray, axis: Axis = None) -> np.ndarray:
    """Root mean squared error."""
    return np.sqrt(mse(y, y_hat, axis=axis))


def smape(y: np.ndarray, y_hat: np.ndarray, axis: Axis = None) -> np.ndarray:
    """Symmetric MAPE on the 0..200 scale: 200 |F - A| / (|F| + |A|), 0 where both are 0."""
    actual, forecast = _pair(y, y_hat)
    points = _safe_ratio(200 * np.abs(forecast - actual), np.abs(forecast) + np.abs(actual))
    return np.mean(points, axis=axis)


def mape(y: np.ndarray, y_hat: np.ndarray, axis: Axis = None) -> np.ndarray:
    """Mean absolute percentage error (percent), skipping zero actuals (0 if all are zero)."""
    actual, forecast = _pair(y, y_hat)
    nonzero = actual != 0
    points = _safe_ratio(100 * np.abs(forecast - actual), np.abs(actual))
    return _safe_ratio(np.sum(points, axis=axis), np.sum(nonzero, axis=axis))


def mase_scale(y_train: np.ndarray, season: int) -> float:
    """The in-sample scale of one training series (see the module docstring for zero cases)."""
    train = np.asarray(y_train, dtype=np.float64).reshape(-1)
    lag = season if season >= 1 and train.size > season else 1
    for step in dict.fromkeys((lag, 1)):
        if train.size > step:
            scale = float(np.mean(np.abs(train[step:] - train[:-step])))
            if scale > 0:
                return scale
    level = float(np.mean(np.abs(train))) if train.size else 0.0
    return level if level > 0 else 1.0


def mase(
    y: np.ndarray,
    y_hat: np.ndarray,
    y_train: Sequence[np.ndarray] | np.ndarray,
    season: int,
    axis: Axis = None,
) -> np.ndarray:
    """Mean absolute scaled error per series, averaged over series unless `axis` is given.

    Args:
        y, y_hat: actuals and forecasts shaped (n_series, h), or (h,) for one series.
        y_train: each series' training values (a list of 1-D arrays, or a 2-D array).
        season: the seasonal period of the naive reference (1 for non-seasonal data).
        axis: None for one figure; -1 (or 1) for one figure per series.
    """
    actual, forecast = _pair(y, y_hat)
    actual, forecast = np.atleast_2d(actual), np.atleast_2d(forecast)
    trains = _training_series(y_train)
    if len(trains) != actual.shape[0]:
        raise ValueError(f"{len(trains)} training series for {actual.shape[0]} forecast series")
    scales = np.array([mase_scale(t, season) for t in trains])
    per_series = np.mean(np.abs(actual - forecast), axis=1) / scales
    return per_series if axis is not None else np.mean(per_series)


def _training_series(y_train: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """One array per series: a 1-D array or a list of numbers is one series."""
    if isinstance(y_train, np.ndarray):
        return [y_train] if y_train.ndim == 1 else list(y_train)
    items = list(y_train)
    return [np.asarray(items)] if items and np.ndim(items[0]) == 0 else items


def _pinball(y: np.ndarray, y_q: np.ndarray, quantiles: Levels) -> np.ndarray:
    """Pinball loss per point and quantile: y_q has one more (last) axis than y."""
    levels = np.asarray(quantiles, dtype=np.float64)
    forecast = np.asarray(y_q, dtype=np.float64)
    actual = np.asarray(y, dtype=np.float64)[..., None]
    if forecast.shape != actual.shape[:-1] + levels.shape or levels.ndim != 1:
        shape = actual.shape[:-1] + levels.shape
        raise ValueError(f"quantile forecasts {forecast.shape} do not match actuals x levels {shape}")
    if np.any((levels <= 0) | (levels >= 1)):
        raise ValueError("quantile levels must lie strictly between 0 and 1")
    error = actual - forecast
    return np.maximum(levels * error, (levels - 1) * error)


def quantile_loss(y: np.ndarray, y_q: np.ndarray, quantiles: Levels, axis: Axis = None) -> np.ndarray:
    """Pinball loss averaged over quantile levels (the last axis of `y_q`) and over points."""
    return np.mean(np.mean(_pinball(y, y_q, quantiles), axis=-1), axis=axis)


def crps_from_quantiles(y: np.ndarray, y_q: np.ndarray, quantiles: Levels, axis: Axis = None) -> np.ndarray:
    """CRPS approximated from quantile forecasts: 2 x the mean pinball loss over the levels."""
    return 2 * quantile_loss(y, y_q, quantiles, axis=axis)


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, axis: Axis = None) -> np.ndarray:
    """Fraction (0..1) of actuals inside the closed interval [lo, hi]."""
    actual, low = _pair(y, lo)
    _, high = _pair(y, hi)
    return np.mean((actual >= low) & (actual <= high), axis=axis)
