"""DLinear: a moving-average trend/remainder decomposition, each part mapped to the horizon by one linear layer."""

from __future__ import annotations

from typing import Any, ClassVar

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, avg_pool1d, pad
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster

__all__ = ["DLinear", "series_decomposition"]


def series_decomposition(x: Tensor, kernel_size: int) -> tuple[Tensor, Tensor]:
    """(seasonal, trend) of x (B, L): trend = moving average of width `kernel_size` (odd), stride 1,
    over the window padded with (kernel_size - 1) // 2 copies of its first and last values."""
    half = (kernel_size - 1) // 2
    padded = pad(x, ((0, 0), (half, half)), mode="edge").unsqueeze(1)  # (B, 1, L + 2 * half)
    trend = avg_pool1d(padded, kernel_size, 1).squeeze(1)  # (B, L)
    return x - trend, trend


class _DLinearNetwork(nn.Module):
    """Linear_trend(trend) + Linear_season(x - trend), both input_size -> h * n_outputs."""

    independent_rows = True

    def __init__(self, input_size: int, h: int, n_outputs: int, moving_avg_window: int) -> None:
        super().__init__()
        self.h, self.n_outputs, self.moving_avg_window = h, n_outputs, moving_avg_window
        self.linear_trend = nn.Linear(input_size, n_outputs * h)
        self.linear_season = nn.Linear(input_size, n_outputs * h)

    def forward(self, batch: WindowBatch) -> Tensor:
        seasonal, trend = series_decomposition(batch.insample_y, self.moving_avg_window)
        forecast = self.linear_trend(trend) + self.linear_season(seasonal)  # (B, h * Q)
        return forecast.reshape(len(forecast), self.h, self.n_outputs)  # (B, h, Q)


@register_model("DLinear", category="basic",
                capabilities=("univariate", "multi_step", "batch_processing", "long_horizon", "interpretable"))
class DLinear(WindowForecaster):
    """Decomposition-Linear: trend (moving average) and remainder, each through its own linear layer.

    The window is split into a trend, its moving average of width `moving_avg_window`
    (edge-replicated at both ends), and a seasonal remainder; one linear layer maps each from
    `input_size` to `h` steps and the forecast is their sum. Shapes: (B, input_size) -> (B, h, n_outputs).

    Args:
        moving_avg_window: width of the moving average (odd).

    References:
        Zeng, A., Chen, M., Zhang, L., Xu, Q. (2023). "Are Transformers Effective for Time Series
        Forecasting?". AAAI 2023. https://arxiv.org/abs/2205.13504
    """

    EXOGENOUS_FUTR: ClassVar[bool] = False
    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "moving_avg_window": {"minimum": 1},
    }

    def __init__(
        self, h: int, input_size: int, moving_avg_window: int = 25, loss: LossSpec = "mae", max_steps: int = 5000,
        learning_rate: float = 1e-4, num_lr_decays: int = -1, early_stop_patience_steps: int = -1,
        val_check_steps: int = 100, batch_size: int = 32, windows_batch_size: int = 1024,
        inference_windows_batch_size: int = 1024, start_padding_enabled: bool = False, step_size: int = 1,
        scaler_type: ScalerSpec = "identity", random_seed: int = 1, gradient_clip_val: float | None = None,
        optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
        )
        if moving_avg_window % 2 == 0:
            raise UsageError(f"DLinear's moving_avg_window must be odd, found {moving_avg_window}.",
                             hint=f"use {moving_avg_window + 1} (the default is 25).")
        self.moving_avg_window = moving_avg_window

    def _build_network(self) -> nn.Module:
        return _DLinearNetwork(self.input_size, self.h, self.loss.outputsize_multiplier, self.moving_avg_window)
