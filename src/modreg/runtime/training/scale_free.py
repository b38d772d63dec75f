"""Scale-free point losses of neuralforecast 3.3.0: MAPE, sMAPE, MASE and relative MSE.

A global model trained with MAE on raw values serves a panel's big series and neglects the
small ones; these losses weigh every series' errors relative to its own size. As in
neuralforecast, training computes them on the window's values after the model's scaler (use
`scaler_type = "identity"` for percentage errors of the data itself; MASE and relMSE are
ratios of errors, so any affine scaler cancels out), validation in data units. Shapes as in
`losses`: `y` (B, h, 1) and `y_hat` (B, h, 1), masks of the same shape, and for MASE and relMSE
the window's input part `insample` (B, L, 1) with its mask (any leading axes after B, e.g. the
(B, L, N, 1) of multivariate windows, work the same).

- `mape`: |y - y_hat| / |y|, 0 where y = 0 (neuralforecast's `_divide_no_nan`).
- `smape`: 2 |y - y_hat| / (|y| + |y_hat|), 0 where both are 0 (0..2).
- `mase`: |y - y_hat| divided, per window, by the mean absolute seasonal difference
  |y_t - y_{t-m}| of its input part (m = `seasonality`). Unlike neuralforecast, which also
  differences the zeros that pad a short window, only pairs of available points count; a window
  without such a pair uses lag 1, and a window whose scale is still 0 is left out of the mean.
- `relmse`: the batch's masked MSE divided by that of a seasonal naive benchmark (each window's
  last `seasonality` input values repeated) plus 1e-5. neuralforecast's relMSE takes the
  benchmark as an argument its training loop does not pass; the seasonal naive one is the
  benchmark of Hyndman & Koehler (2006). A short series' window whose last season reaches into
  the padding repeats its last input value instead (the naive benchmark; padding never counts).

Every loss is a mask-weighted mean (0 for an empty mask) with exact gradients in `y_hat`
(the tests check them by central differences in float64).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from modreg.runtime.autograd import Tensor, no_grad, where
from modreg.runtime.components import register_component
from modreg.runtime.training.losses import Loss

if TYPE_CHECKING:
    from modreg.runtime.training.windows import Target

__all__ = ["MAPE", "MASE", "SMAPE", "InsampleLoss", "RelMSE", "seasonal_scale"]


@register_component("loss", "mape")
class MAPE(Loss):
    """Mean absolute percentage error, |y - y_hat| / |y| (Makridakis, 1993)."""

    def _pointwise(self, y: np.ndarray, y_hat: Tensor) -> Tensor:
        magnitude = np.abs(y)
        inverse = np.divide(1.0, magnitude, out=np.zeros_like(magnitude), where=magnitude > 0)
        return (y_hat - y).abs() * inverse.astype(y_hat.dtype)


@register_component("loss", "smape")
class SMAPE(Loss):
    """Symmetric MAPE, 2 |y - y_hat| / (|y| + |y_hat|), between 0 and 2 (Makridakis, 1993)."""

    def _pointwise(self, y: np.ndarray, y_hat: Tensor) -> Tensor:
        total = y_hat.abs() + np.abs(y)
        empty = total.data == 0
        ratio = (y_hat - y).abs() * 2.0 / where(empty, 1.0, total)
        return where(empty, 0.0, ratio)


class InsampleLoss(Loss):
    """A point loss that also reads each window's input part (`Target.insample`)."""

    def __call__(self, y: Any, y_hat: Tensor, mask: np.ndarray | None = None, *,
                 insample: np.ndarray | None = None, insample_mask: np.ndarray | None = None) -> Tensor:
        y_hat = y_hat if isinstance(y_hat, Tensor) else Tensor(y_hat)
        target = np.asarray(y.data if isinstance(y, Tensor) else y, dtype=y_hat.dtype)
        weights = np.ones_like(target) if mask is None else np.asarray(mask, dtype=y_hat.dtype)
        if insample is None:
            raise ValueError(f"{type(self).__name__} needs the windows' input part (insample)")
        past = np.asarray(insample, dtype=y_hat.dtype)
        available = np.ones_like(past) if insample_mask is None else np.asarray(insample_mask, dtype=y_hat.dtype)
        return self._loss(target, y_hat, weights, past, available)

    def _loss(self, y: np.ndarray, y_hat: Tensor, weights: np.ndarray, insample: np.ndarray,
              available: np.ndarray) -> Tensor:
        raise NotImplementedError

    def train_loss(self, output: Tensor, target: Target) -> Tensor:
        return self(target.y, self.domain_map(output), target.mask, insample=target.insample,
                    insample_mask=target.insample_mask)

    def valid_loss(self, output: Tensor, target: Target) -> float:
        with no_grad():
            forecast = self.forecast(self.domain_map(output).data, target.scaling)
            insample = None if target.insample is None else target.scaling.inverse(target.insample)
            return float(self(target.y_raw, Tensor(forecast), target.mask, insample=insample,
                              insample_mask=target.insample_mask).item())


def _masked_mean(values: Tensor, weights: np.ndarray) -> Tensor:
    total = float(weights.sum())
    if total == 0.0:
        return (values * 0.0).sum()
    return (values * weights).sum() * (1.0 / total)


def seasonal_scale(insample: np.ndarray, available: np.ndarray, seasonality: int) -> np.ndarray:
    """Per window (axis 0), the mean |x_t - x_{t-m}| over pairs of available input points (axis 1).

    Windows without such a pair use lag 1; the result keeps axis 1 as size 1 (0 where no pair exists).
    """
    scale = np.zeros((insample.shape[0], 1, *insample.shape[2:]), dtype=insample.dtype)
    missing = np.ones(scale.shape, dtype=bool)
    for lag in dict.fromkeys((seasonality, 1)):
        if insample.shape[1] <= lag:
            continue
        pairs = available[:, lag:] * available[:, :-lag]
        count = pairs.sum(axis=1, keepdims=True)
        total = (np.abs(insample[:, lag:] - insample[:, :-lag]) * pairs).sum(axis=1, keepdims=True)
        found = missing & (count > 0)
        scale = np.where(found, total / np.maximum(count, 1), scale)
        missing &= ~found
    return scale


@register_component("loss", "mase")
class MASE(InsampleLoss):
    """Mean absolute scaled error (Hyndman & Koehler, 2006): the error relative to the in-window
    seasonal naive error.

    Args:
        seasonality: the season m of the naive reference (1 yearly, 4 quarterly, 12 monthly, 24 hourly).
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {"seasonality": {"minimum": 1}}

    def __init__(self, seasonality: int = 1) -> None:
        self.seasonality = seasonality

    def _loss(self, y: np.ndarray, y_hat: Tensor, weights: np.ndarray, insample: np.ndarray,
              available: np.ndarray) -> Tensor:
        scale = seasonal_scale(insample, available, self.seasonality)
        usable = scale > 0
        inverse = np.divide(1.0, scale, out=np.zeros_like(scale), where=usable).astype(y_hat.dtype)
        return _masked_mean((y_hat - y).abs() * inverse, weights * usable)


@register_component("loss", "relmse")
class RelMSE(InsampleLoss):
    """Relative MSE (Hyndman & Koehler, 2006): the MSE over that of the seasonal naive forecast.

    Args:
        seasonality: the season m of the naive benchmark (each window's last m input values repeated).
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {"seasonality": {"minimum": 1}}

    def __init__(self, seasonality: int = 1) -> None:
        self.seasonality = seasonality

    def _loss(self, y: np.ndarray, y_hat: Tensor, weights: np.ndarray, insample: np.ndarray,
              available: np.ndarray) -> Tensor:
        season = min(self.seasonality, insample.shape[1])
        steps = insample.shape[1] - season + np.arange(y.shape[1]) % season
        full = available[:, -season:].min(axis=1, keepdims=True) > 0  # (B, 1, ...): the last season is data
        benchmark = np.where(full, insample[:, steps], insample[:, -1:])  # (B, h, ...): last season, else last value
        norm = float(_masked_mean(Tensor((y - benchmark) ** 2), weights).item()) + 1e-5
        error = y_hat - y
        return _masked_mean(error * error, weights) * (1.0 / norm)
