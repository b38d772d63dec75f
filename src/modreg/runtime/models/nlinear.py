"""NLinear: subtract the window's last value, one linear layer to the horizon, add the last value back."""

from __future__ import annotations

from typing import Any, ClassVar

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster

__all__ = ["NLinear"]


class _NLinearNetwork(nn.Module):
    """Linear(x - x_last) + x_last, input_size -> h * n_outputs."""

    independent_rows = True

    def __init__(self, input_size: int, h: int, n_outputs: int) -> None:
        super().__init__()
        self.h, self.n_outputs = h, n_outputs
        self.linear = nn.Linear(input_size, n_outputs * h)

    def forward(self, batch: WindowBatch) -> Tensor:
        y = batch.insample_y  # (B, L)
        last = y[:, -1:]  # (B, 1)
        forecast = self.linear(y - last) + last  # (B, h * Q)
        return forecast.reshape(len(forecast), self.h, self.n_outputs)  # (B, h, Q)


@register_model("NLinear", category="basic",
                capabilities=("univariate", "multi_step", "batch_processing", "long_horizon"))
class NLinear(WindowForecaster):
    """Normalised-Linear: one linear layer on the window minus its last value.

    Subtracting the last value (and adding it back to the output) makes the linear map
    insensitive to the series' level, which helps under distribution shift. Shapes:
    (B, input_size) -> (B, h, n_outputs).

    References:
        Zeng, A., Chen, M., Zhang, L., Xu, Q. (2023). "Are Transformers Effective for Time Series
        Forecasting?". AAAI 2023. https://arxiv.org/abs/2205.13504
    """

    EXOGENOUS_FUTR: ClassVar[bool] = False
    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {"input_size": {"minimum": 1}}

    def __init__(
        self, h: int, input_size: int, loss: LossSpec = "mae", max_steps: int = 5000, learning_rate: float = 1e-4,
        num_lr_decays: int = -1, early_stop_patience_steps: int = -1, val_check_steps: int = 100,
        batch_size: int = 32, windows_batch_size: int = 1024, inference_windows_batch_size: int = 1024,
        start_padding_enabled: bool = False, step_size: int = 1, scaler_type: ScalerSpec = "identity",
        random_seed: int = 1, gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam",
        precision: Precision = "float32",
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
        )

    def _build_network(self) -> nn.Module:
        return _NLinearNetwork(self.input_size, self.h, self.loss.outputsize_multiplier)
