"""TSMixer: an all-MLP multivariate forecaster alternating time-mixing and feature-mixing layers.

Each series is normalised with RevIN; `n_block` mixing layers then apply a time-mixing MLP
(shared across series, a Linear over the window) and a feature-mixing MLP (shared across time
steps, a two-layer MLP over the series), each with batch normalisation, dropout and a residual
connection; a Linear maps the window to the horizon and RevIN is undone. A port of
neuralforecast 3.3.0's `TSMixer`, including its dropout default of 0.9.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision
from modreg.runtime.models.multivariate import MultivariateForecaster, PanelBatch

__all__ = ["TSMixer"]


class _TemporalMixing(nn.Module):
    """BatchNorm over (N * L) -> Linear(L, L) + ReLU along time -> dropout -> residual."""

    def __init__(self, n_series: int, input_size: int, dropout: float) -> None:
        super().__init__()
        self.temporal_norm = nn.BatchNorm1d(n_series * input_size, eps=0.001, momentum=0.01)
        self.temporal_lin = nn.Linear(input_size, input_size)
        self.temporal_drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:  # (B, L, N) -> (B, L, N)
        size, length, n_series = x.shape
        y = self.temporal_norm(x.transpose(0, 2, 1).reshape(size, -1))  # (B, N, L) -> (B, N * L)
        y = self.temporal_lin(y.reshape(size, n_series, length)).relu()  # (B, N, L)
        return self.temporal_drop(y.transpose(0, 2, 1)) + x


class _FeatureMixing(nn.Module):
    """BatchNorm over (L * N) -> Linear(N, ff_dim) + ReLU -> dropout -> Linear(ff_dim, N) -> dropout -> residual."""

    def __init__(self, n_series: int, input_size: int, dropout: float, ff_dim: int) -> None:
        super().__init__()
        self.feature_norm = nn.BatchNorm1d(n_series * input_size, eps=0.001, momentum=0.01)
        self.feature_lin_1 = nn.Linear(n_series, ff_dim)
        self.feature_lin_2 = nn.Linear(ff_dim, n_series)
        self.feature_drop_1 = nn.Dropout(dropout)
        self.feature_drop_2 = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:  # (B, L, N) -> (B, L, N)
        size = x.shape[0]
        y = self.feature_norm(x.reshape(size, -1)).reshape(x.shape)  # (B, L * N) -> (B, L, N)
        y = self.feature_drop_1(self.feature_lin_1(y).relu())  # (B, L, ff_dim)
        return self.feature_drop_2(self.feature_lin_2(y)) + x


class _MixingLayer(nn.Module):
    """Time mixing, then feature mixing."""

    def __init__(self, n_series: int, input_size: int, dropout: float, ff_dim: int) -> None:
        super().__init__()
        self.temporal_mixer = _TemporalMixing(n_series, input_size, dropout)
        self.feature_mixer = _FeatureMixing(n_series, input_size, dropout, ff_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.feature_mixer(self.temporal_mixer(x))


class _TSMixerNetwork(nn.Module):
    """RevIN -> mixing layers -> Linear(L, h * n_outputs) per series -> RevIN undone."""

    def __init__(self, n_series: int, input_size: int, h: int, n_outputs: int, n_block: int, ff_dim: int,
                 dropout: float, revin: bool) -> None:
        super().__init__()
        self.h, self.n_outputs, self.revin = h, n_outputs, revin
        if revin:
            self.norm = nn.RevIN(n_series, affine=True)
        self.mixing_layers = nn.Sequential(*(_MixingLayer(n_series, input_size, dropout, ff_dim)
                                             for _ in range(n_block)))
        self.out = nn.Linear(input_size, h * n_outputs)

    def forward(self, batch: PanelBatch) -> Tensor:
        x = batch.insample_y  # (B, L, N)
        size, _, n_series = x.shape
        if self.revin:
            x = self.norm.norm(x)
        x = self.mixing_layers(x)
        x = self.out(x.transpose(0, 2, 1)).transpose(0, 2, 1)  # (B, N, L) -> (B, N, h * Q) -> (B, h * Q, N)
        if self.revin:
            x = self.norm.denorm(x)
        return x.reshape(size, self.h, self.n_outputs, n_series).transpose(0, 1, 3, 2)  # (B, h, N, Q)


@register_model("TSMixer", category="advanced",
                capabilities=("multivariate", "multi_step", "batch_processing", "long_horizon"))
class TSMixer(MultivariateForecaster):
    """Time-Series Mixer: alternating time-mixing and feature-mixing MLPs over the panel window.

    The window of all series (B, input_size, N) is normalised per series (RevIN), passes
    `n_block` mixing layers, each a time-mixing MLP (BatchNorm, Linear(L, L), ReLU, dropout,
    residual) and a feature-mixing MLP (BatchNorm, Linear(N, ff_dim), ReLU, dropout,
    Linear(ff_dim, N), dropout, residual), and a Linear(L, h * n_outputs) per series gives
    (B, h, N, n_outputs), with RevIN undone.

    Args:
        n_block: number of mixing layers.
        ff_dim: hidden units of the feature-mixing MLP.
        dropout: dropout rate inside the mixing layers (neuralforecast's default is 0.9).
        revin: normalise each series' window with reversible instance normalisation.

    References:
        Chen, S.-A., Li, C.-L., Yoder, N., Arik, S. O., Pfister, T. (2023). "TSMixer: An All-MLP
        Architecture for Time Series Forecasting". TMLR. https://arxiv.org/abs/2303.06053
    """

    EXOGENOUS_FUTR: ClassVar[bool] = False
    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "n_block": {"minimum": 1},
        "ff_dim": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
    }

    def __init__(
        self, h: int, input_size: int, n_series: int | None = None, n_block: int = 2, ff_dim: int = 64,
        dropout: float = 0.9, revin: bool = True, loss: LossSpec = "mae", max_steps: int = 1000,
        learning_rate: float = 1e-3, num_lr_decays: int = -1, early_stop_patience_steps: int = -1,
        val_check_steps: int = 100, batch_size: int = 32, windows_batch_size: int = 32,
        inference_windows_batch_size: int = 32, start_padding_enabled: bool = False, step_size: int = 1,
        scaler_type: ScalerSpec = "identity", random_seed: int = 1, gradient_clip_val: float | None = None,
        optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, n_series=n_series, loss=loss, max_steps=max_steps,
            learning_rate=learning_rate, num_lr_decays=num_lr_decays,
            early_stop_patience_steps=early_stop_patience_steps, val_check_steps=val_check_steps,
            batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
        )
        self.n_block, self.ff_dim, self.dropout, self.revin = n_block, ff_dim, dropout, revin

    def _build_network(self) -> nn.Module:
        return _TSMixerNetwork(self.series_count, self.input_size, self.h, self.loss.outputsize_multiplier,
                               self.n_block, self.ff_dim, self.dropout, self.revin)
