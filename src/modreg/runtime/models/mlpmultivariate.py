"""MLPMultivariate: one multi-layer perceptron over the joint window of all series (neuralforecast's MLPMultivariate).

The windows of the `n_series` series (and their exogenous values) are flattened together, so
every forecast can use every series' recent values; the output layer emits `h` steps for every
series at once.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision
from modreg.runtime.models.multivariate import MultivariateForecaster, PanelBatch

__all__ = ["MLPMultivariate"]


class _MLPMultivariateNetwork(nn.Module):
    """Flatten [y | hist exog | futr exog | static] of all series -> ReLU layers -> Linear(h * N * n_outputs)."""

    def __init__(self, n_inputs: int, h: int, n_series: int, n_outputs: int, num_layers: int,
                 hidden_size: int) -> None:
        super().__init__()
        self.h, self.n_series, self.n_outputs = h, n_series, n_outputs
        sizes = [n_inputs] + [hidden_size] * num_layers
        self.mlp = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.out = nn.Linear(hidden_size, h * n_outputs * n_series)

    def forward(self, batch: PanelBatch) -> Tensor:
        size = batch.batch_size
        parts = [batch.insample_y.reshape(size, -1)]  # (B, L, N) -> (B, L * N)
        for extra in (batch.hist_exog, batch.futr_exog):
            if extra is not None:
                parts.append(extra.reshape(size, -1))  # (B, X, L, N) | (B, F, L + h, N) -> (B, ...)
        if batch.stat_exog is not None:  # (N, S) -> (B, N * S), the same for every window
            parts.append(Tensor(np.repeat(batch.stat_exog.data.reshape(1, -1), size, axis=0)))
        x = concat(parts, axis=1) if len(parts) > 1 else parts[0]
        for layer in self.mlp:
            x = layer(x).relu()
        return self.out(x).reshape(size, self.h, self.n_series, self.n_outputs)  # (B, h, N, n_outputs)


@register_model("MLPMultivariate", category="basic",
                capabilities=("multivariate", "multi_step", "batch_processing", "exogenous"))
class MLPMultivariate(MultivariateForecaster):
    """Multivariate multi-layer perceptron: ReLU layers from the flattened panel window to every series' horizon.

    The input windows of all `n_series` series (B, input_size, N), with their historical
    (B, X, L, N), future (B, F, L + h, N) and static (N, S) exogenous values, are flattened into
    one vector per window, passed through `num_layers` layers of `hidden_size` units with ReLU,
    and a linear layer outputs (B, h, N, n_outputs): direct multi-step forecasts of every series.

    Args:
        num_layers: number of hidden layers.
        hidden_size: units of each hidden layer.

    References:
        Rosenblatt, F. (1958). "The perceptron: a probabilistic model for information storage and
        organization in the brain". Psychological Review 65(6).
        Olivares, K. G., Challu, C., Garza, F., Mergenthaler Canseco, M., Dubrawski, A. (2022).
        "NeuralForecast: User friendly state-of-the-art neural forecasting models". PyCon Salt
        Lake City (the reference implementation and defaults).
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "num_layers": {"minimum": 1},
        "hidden_size": {"minimum": 1},
    }

    def __init__(
        self, h: int, input_size: int, n_series: int | None = None, stat_exog_list: tuple[str, ...] | None = None,
        hist_exog_list: tuple[str, ...] | None = None, futr_exog_list: tuple[str, ...] | None = None,
        exclude_insample_y: bool = False, num_layers: int = 2, hidden_size: int = 1024, loss: LossSpec = "mae",
        max_steps: int = 1000, learning_rate: float = 1e-3, num_lr_decays: int = -1,
        early_stop_patience_steps: int = -1, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 32, inference_windows_batch_size: int = 32, start_padding_enabled: bool = False,
        step_size: int = 1, scaler_type: ScalerSpec = "identity", random_seed: int = 1,
        gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, n_series=n_series, exclude_insample_y=exclude_insample_y, loss=loss,
            max_steps=max_steps, learning_rate=learning_rate, num_lr_decays=num_lr_decays,
            early_stop_patience_steps=early_stop_patience_steps, val_check_steps=val_check_steps,
            batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
            futr_exog_list=futr_exog_list, hist_exog_list=hist_exog_list, stat_exog_list=stat_exog_list,
        )
        self.num_layers, self.hidden_size = num_layers, hidden_size

    def _build_network(self) -> nn.Module:
        n_series, length = self.series_count, self.input_size
        n_inputs = n_series * (length * (1 + self.hist_exog_size) + (length + self.h) * self.futr_exog_size
                               + self.stat_exog_size)
        return _MLPMultivariateNetwork(n_inputs, self.h, n_series, self.loss.outputsize_multiplier,
                                       self.num_layers, self.hidden_size)
