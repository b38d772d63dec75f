"""Training losses with neuralforecast's semantics: MAE, MSE, RMSE, Huber, quantile, multi-quantile.

Shapes: `y` (B, h, 1) targets, `y_hat` (B, h, K) network outputs with
K = `outputsize_multiplier`, `mask` (B, h, 1) with 1 where a target exists (windows padded past
a series' end carry 0). A loss is the mask-weighted mean of its pointwise losses (0 when the
mask is empty, like neuralforecast's `_divide_no_nan`).

A loss also says what a model outputs: `output_names` are the suffixes of the forecast columns
(`""` -> `MLP`, `"-lo-90"` -> `MLP-lo-90`), and `forecast()` maps the network's scaled outputs
back to data units. Losses are components: `loss = "mae"` or `loss = {type = "mqloss",
level = [80, 90]}`. The distribution losses (`distributions.py`) override `train_loss`,
`valid_loss`, `forecast` and `feedback`, which the training loop, `predict` and recurrent
rollouts call. The scale-free losses (MAPE, sMAPE, MASE, relative MSE) are in `scale_free.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from modreg.runtime.autograd import Tensor, maximum, no_grad, where
from modreg.runtime.components import Configurable, register_component

if TYPE_CHECKING:
    from modreg.runtime.training.windows import Scaling, Target

__all__ = ["MAE", "MSE", "RMSE", "HuberLoss", "Loss", "MQLoss", "QuantileLoss", "quantile_outputs"]


class Loss(Configurable):
    """Base of all losses: pointwise `_pointwise`, mask-weighted mean, output naming."""

    outputsize_multiplier: int = 1
    output_names: tuple[str, ...] = ("",)
    is_distribution_output: bool = False
    frozen_parameters: int = 0
    """Scalars neuralforecast keeps in the loss as a frozen nn.Parameter (the quantile levels of
    MQLoss and DistributionLoss), which its parameter counts include."""

    def domain_map(self, y_hat: Tensor) -> Tensor:
        """Map raw network outputs (B, h, K) to the loss's domain (identity for point losses)."""
        return y_hat

    def __call__(self, y: Any, y_hat: Tensor, mask: np.ndarray | None = None) -> Tensor:
        """The mask-weighted mean loss (a 0-d Tensor)."""
        y_hat = y_hat if isinstance(y_hat, Tensor) else Tensor(y_hat)
        target = y.data if isinstance(y, Tensor) else np.asarray(y, dtype=y_hat.dtype)
        losses = self._pointwise(target, y_hat)
        weights = np.ones_like(target) if mask is None else np.asarray(mask, dtype=y_hat.dtype)
        total = float(weights.sum()) * (losses.shape[-1] // weights.shape[-1])
        if total == 0.0:
            return (losses * 0.0).sum()
        return (losses * weights).sum() * (1.0 / total)

    def _pointwise(self, y: np.ndarray, y_hat: Tensor) -> Tensor:
        raise NotImplementedError

    def train_loss(self, output: Tensor, target: Target) -> Tensor:
        """The loss of one training batch, in scaled units."""
        return self(target.y, self.domain_map(output), target.mask)

    def valid_loss(self, output: Tensor, target: Target) -> float:
        """The loss of a validation batch in data units (neuralforecast's valid_loss)."""
        with no_grad():
            mapped = self.domain_map(output).data
            return float(self(target.y_raw, Tensor(self.forecast(mapped, target.scaling)), target.mask).item())

    def forecast(self, mapped: np.ndarray, scaling: Scaling) -> np.ndarray:
        """(B, h, K) domain-mapped outputs -> forecasts in data units, one column per output name."""
        return scaling.inverse(mapped)

    def feedback(self, output: Tensor, scaling: Scaling) -> Tensor:
        """(B, 1, K) outputs of one step -> (B, 1), the scaled value a recurrent rollout feeds
        back as its next input: the mean of the K outputs (neuralforecast's choice)."""
        return output.mean(axis=2)


@register_component("loss", "mae")
class MAE(Loss):
    """Mean absolute error."""

    def _pointwise(self, y: np.ndarray, y_hat: Tensor) -> Tensor:
        return (y_hat - y).abs()


@register_component("loss", "mse")
class MSE(Loss):
    """Mean squared error."""

    def _pointwise(self, y: np.ndarray, y_hat: Tensor) -> Tensor:
        error = y_hat - y
        return error * error


@register_component("loss", "rmse")
class RMSE(MSE):
    """Root mean squared error (the square root of the masked MSE)."""

    def __call__(self, y: Any, y_hat: Tensor, mask: np.ndarray | None = None) -> Tensor:
        return (super().__call__(y, y_hat, mask) + 1e-12).sqrt()


@register_component("loss", "huber")
class HuberLoss(Loss):
    """Huber loss: quadratic within `delta` of the target, linear beyond (torch's huber_loss).

    Args:
        delta: the error size where the loss turns from quadratic to linear.
    """

    param_bounds: dict[str, dict[str, Any]] = {"delta": {"exclusiveMinimum": 0}}

    def __init__(self, delta: float = 1.0) -> None:
        self.delta = delta

    def _pointwise(self, y: np.ndarray, y_hat: Tensor) -> Tensor:
        error = y_hat - y
        small = np.abs(error.data) <= self.delta
        return where(small, error * error * 0.5, (error.abs() - 0.5 * self.delta) * self.delta)


@register_component("loss", "quantile")
class QuantileLoss(Loss):
    """Pinball loss of one quantile `q` (Koenker & Bassett, 1978).

    Args:
        q: the quantile level, between 0 and 1 (0.5 is the median).
    """

    param_bounds: dict[str, dict[str, Any]] = {"q": {"exclusiveMinimum": 0, "exclusiveMaximum": 1}}

    def __init__(self, q: float) -> None:
        self.q = q
        self.output_names = (f"_ql{q:g}",)

    def _pointwise(self, y: np.ndarray, y_hat: Tensor) -> Tensor:
        error = y - y_hat
        return maximum(error * self.q, error * (self.q - 1.0))


@register_component("loss", "mqloss")
class MQLoss(Loss):
    """Multi-quantile loss: the mean pinball loss over several quantiles (a probabilistic model).

    Outputs the median and, per level, the lower and upper bounds of the central interval
    (`-median`, `-lo-90`, `-hi-90`, ...), as neuralforecast's MQLoss.

    Args:
        level: central interval levels in percent, e.g. [80, 90].
        quantiles: explicit quantiles in (0, 1) instead of `level`.
    """

    param_bounds: dict[str, dict[str, Any]] = {
        "level": {"items": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 100}, "minItems": 1},
        "quantiles": {"anyOf": [{"type": "array", "minItems": 1,
                                 "items": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}},
                                {"type": "null"}]},
    }

    def __init__(self, level: tuple[int, ...] = (80, 90), quantiles: tuple[float, ...] | None = None) -> None:
        self.level = tuple(level)
        self.quantiles = tuple(quantiles) if quantiles is not None else None
        qs, names = quantile_outputs(self.level, self.quantiles)
        self._q = np.asarray(qs)
        self.output_names = names
        self.outputsize_multiplier = self.frozen_parameters = len(names)

    def _pointwise(self, y: np.ndarray, y_hat: Tensor) -> Tensor:
        error = y_hat - y
        q = self._q.astype(y_hat.dtype)
        return (-error).relu() * q + error.relu() * (1.0 - q)


def quantile_outputs(level: tuple[int, ...], quantiles: tuple[float, ...] | None) -> tuple[list[float], tuple[str, ...]]:
    """Quantiles and column suffixes: median first, then bounds sorted by quantile."""
    if quantiles is not None:
        return list(quantiles), tuple(_quantile_name(q) for q in quantiles)
    bounds = sorted({(0.5 - lv / 200.0, f"-lo-{lv}") for lv in level} | {(0.5 + lv / 200.0, f"-hi-{lv}") for lv in level})
    return [0.5, *(q for q, _ in bounds)], ("-median", *(name for _, name in bounds))


def _quantile_name(q: float) -> str:
    if q < 0.5:
        return f"-lo-{100 - 200 * q:.4g}"
    if q > 0.5:
        return f"-hi-{100 - 200 * (1 - q):.4g}"
    return "-median"
