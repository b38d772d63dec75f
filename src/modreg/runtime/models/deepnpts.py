"""DeepNPTS: deep non-parametric time series forecaster, a learned weighting of past values.

An MLP reads the window (and its exogenous inputs) and outputs, for each horizon step, one
score per past time step; their softmax weights the window's values, and the forecast of that
step is the weighted sum, so it never leaves the range of the observed values. A port of
neuralforecast 3.3.0's `DeepNPTS`, which is a point forecaster (the paper samples past values
with these weights to get a distribution).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, ClassVar

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster

__all__ = ["DeepNPTS"]


# ----- Blocks -----
class _DeepNPTSLayer(nn.Module):
    """Linear -> ReLU (-> BatchNorm1d) (-> Dropout)."""

    def __init__(self, n_inputs: int, hidden_size: int, batch_norm: bool, dropout: float) -> None:
        super().__init__()
        self.linear = nn.Linear(n_inputs, hidden_size)
        self.norm = nn.BatchNorm1d(hidden_size) if batch_norm else None
        self.drop = nn.Dropout(dropout) if dropout > 0 else None

    def forward(self, x: Tensor) -> Tensor:  # (B, n_inputs) -> (B, hidden_size)
        x = self.linear(x).relu()
        x = x if self.norm is None else self.norm(x)
        return x if self.drop is None else self.drop(x)


class _DeepNPTSNetwork(nn.Module):
    """[y | futr (L) | hist, per step, flattened | static | futr (h)] -> MLP -> (h, L) scores -> softmax over L."""

    def __init__(self, n_inputs: int, input_size: int, h: int, hidden_size: int, n_layers: int, batch_norm: bool,
                 dropout: float) -> None:
        super().__init__()
        self.h = h
        sizes = [n_inputs] + [hidden_size] * n_layers
        self.layers = nn.ModuleList([_DeepNPTSLayer(a, b, batch_norm, dropout) for a, b in pairwise(sizes)])
        self.output = nn.Linear(hidden_size, input_size * h)

    def forward(self, batch: WindowBatch) -> Tensor:
        y = batch.insample_y  # (B, L)
        size, length = y.shape
        futr = batch.futr_exog
        steps = [y.unsqueeze(-1)]  # (B, L, 1)
        if futr is not None:
            steps.append(futr[:, :length])  # (B, L, F)
        if batch.hist_exog is not None:
            steps.append(batch.hist_exog)  # (B, L, X)
        parts = [concat(steps, axis=2).reshape(size, -1) if len(steps) > 1 else y]  # (B, L * (1 + F + X))
        if batch.stat_exog is not None:
            parts.append(batch.stat_exog)  # (B, S)
        if futr is not None:
            parts.append(futr[:, length:].reshape(size, -1))  # (B, h, F) -> (B, h * F)
        x = concat(parts, axis=1) if len(parts) > 1 else parts[0]
        for layer in self.layers:
            x = layer(x)
        # (B, h * L) -> (B, h, L): neuralforecast lays the scores out (L, h) and softmaxes over L; the
        # output units are permuted here so that the softmax and the weighted sum run along contiguous L.
        weights = self.output(x).reshape(size, self.h, length).softmax(axis=-1)
        return weights @ y.unsqueeze(-1)  # (B, h, L) @ (B, L, 1) -> (B, h, 1)


@register_model("DeepNPTS", category="specialized",
                capabilities=("univariate", "multi_step", "batch_processing", "exogenous"))
class DeepNPTS(WindowForecaster):
    """Deep Non-Parametric Time Series forecaster: softmax weights over the window's past values.

    An MLP (`n_layers` x [Linear(`hidden_size`), ReLU, batch norm, dropout]) maps the window
    and its exogenous inputs to input_size x h scores; a softmax over the input_size past steps
    turns each horizon step's scores into weights, and that step's forecast is the weighted sum
    of the (scaled) window. Point losses only: the constructor rejects multi-output losses, as
    neuralforecast's does. Shapes: window (B, input_size) [+ hist (B, L, X), futr (B, L + h, F),
    static (B, S)] -> (B, h, 1).

    Args:
        hidden_size: units of each hidden layer.
        batch_norm: batch normalisation after each hidden layer's ReLU.
        dropout: dropout after each hidden layer (0 disables it).
        n_layers: number of hidden layers.
        exclude_insample_y: must stay False: the forecast is built from the past values.

    References:
        Rangapuram, S. S., Gasthaus, J., Stella, L., Flunkert, V., Salinas, D., Wang, Y.,
        Januschowski, T. (2023). "Deep Non-Parametric Time Series Forecaster".
        https://arxiv.org/abs/2312.14657
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "hidden_size": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "n_layers": {"minimum": 1},
    }

    def __init__(
        self, h: int, input_size: int, hidden_size: int = 32, batch_norm: bool = True, dropout: float = 0.1,
        n_layers: int = 2, stat_exog_list: tuple[str, ...] | None = None, hist_exog_list: tuple[str, ...] | None = None,
        futr_exog_list: tuple[str, ...] | None = None, exclude_insample_y: bool = False, loss: LossSpec = "mae",
        max_steps: int = 1000, learning_rate: float = 1e-3, num_lr_decays: int = 3,
        early_stop_patience_steps: int = -1, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 1024, inference_windows_batch_size: int = 1024, start_padding_enabled: bool = False,
        step_size: int = 1, scaler_type: ScalerSpec = "standard", random_seed: int = 1,
        gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
    ) -> None:
        if exclude_insample_y:
            raise UsageError("DeepNPTS cannot exclude the target's past values: its forecast is their weighted sum.",
                             hint="set exclude_insample_y = false.")
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
            futr_exog_list=futr_exog_list, hist_exog_list=hist_exog_list, stat_exog_list=stat_exog_list,
        )
        if self.loss.outputsize_multiplier > 1:
            raise UsageError(f"DeepNPTS only supports point losses (one output per step), not "
                             f"{self.loss.component_name} ({self.loss.outputsize_multiplier} outputs).",
                             hint="use a point loss such as loss = \"mae\".")
        self.hidden_size, self.batch_norm, self.dropout, self.n_layers = hidden_size, batch_norm, dropout, n_layers
        self.exclude_insample_y = exclude_insample_y

    def _build_network(self) -> nn.Module:
        n_inputs = (self.input_size * (1 + self.futr_exog_size + self.hist_exog_size) + self.stat_exog_size
                    + self.h * self.futr_exog_size)
        network = _DeepNPTSNetwork(n_inputs, self.input_size, self.h, self.hidden_size, self.n_layers,
                                   self.batch_norm, self.dropout)
        network.independent_rows = not self.batch_norm and self.dropout == 0  # repeated windows are merged
        return network
