"""TSMixerx: TSMixer with static, historical and future covariates mixed alongside the series.

The window of every series and its historical and future covariates is projected from
`input_size` to `h` steps, then feature-mixed into `ff_dim` features per step; future
covariates over the horizon and static covariates get their own feature mixers, and the
concatenation passes a first mixing layer and `n_block` mixing layers (time mixing over the
horizon, feature mixing over features, LayerNorm over both), the static covariates mixed in
again in every block. A port of neuralforecast 3.3.0's `TSMixerx` (the paper's auxiliary
information variant, Figure 4).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, layer_norm
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision
from modreg.runtime.models.multivariate import MultivariateForecaster, PanelBatch

__all__ = ["TSMixerx"]


class _LayerNorm2d(nn.Module):
    """LayerNorm over the last two axes (PyTorch's LayerNorm with normalized_shape=(h, C))."""

    def __init__(self, h: int, features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(np.ones((h, features), dtype=np.float32))
        self.bias = nn.Parameter(np.zeros((h, features), dtype=np.float32))

    def forward(self, x: Tensor) -> Tensor:  # (B, h, C) -> (B, h, C)
        flat = layer_norm(x.reshape(x.shape[0], -1), self.weight.reshape(-1), self.bias.reshape(-1))
        return flat.reshape(x.shape)


class _TemporalMixing(nn.Module):
    """Linear(h, h) + ReLU along time -> dropout -> LayerNorm(residual)."""

    def __init__(self, num_features: int, h: int, dropout: float) -> None:
        super().__init__()
        self.temporal_norm = _LayerNorm2d(h, num_features)
        self.temporal_lin = nn.Linear(h, h)
        self.temporal_drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:  # (B, h, C) -> (B, h, C)
        y = self.temporal_lin(x.transpose(0, 2, 1)).relu().transpose(0, 2, 1)  # via (B, C, h)
        return self.temporal_norm(self.temporal_drop(y) + x)


class _FeatureMixing(nn.Module):
    """Linear(C_in, ff_dim) + ReLU -> dropout -> Linear(ff_dim, C_out) -> dropout -> LayerNorm(+ residual)."""

    def __init__(self, in_features: int, out_features: int, h: int, dropout: float, ff_dim: int) -> None:
        super().__init__()
        self.feature_lin_1 = nn.Linear(in_features, ff_dim)
        self.feature_lin_2 = nn.Linear(ff_dim, out_features)
        self.feature_drop_1 = nn.Dropout(dropout)
        self.feature_drop_2 = nn.Dropout(dropout)
        self.project_residual = nn.Linear(in_features, out_features) if in_features != out_features else None
        self.feature_norm = _LayerNorm2d(h, out_features)

    def forward(self, x: Tensor) -> Tensor:  # (B, h, C_in) -> (B, h, C_out)
        y = self.feature_drop_2(self.feature_lin_2(self.feature_drop_1(self.feature_lin_1(x).relu())))
        residual = self.project_residual(x) if self.project_residual is not None else x
        return self.feature_norm(y + residual)


class _MixingLayer(nn.Module):
    """Time mixing over the horizon, then feature mixing (C_in -> C_out)."""

    def __init__(self, in_features: int, out_features: int, h: int, dropout: float, ff_dim: int) -> None:
        super().__init__()
        self.temporal_mixer = _TemporalMixing(in_features, h, dropout)
        self.feature_mixer = _FeatureMixing(in_features, out_features, h, dropout, ff_dim)

    def forward(self, x: Tensor, static: Tensor | None = None) -> Tensor:
        return self.feature_mixer(self.temporal_mixer(x))


class _MixingLayerWithStatic(nn.Module):
    """Static covariates feature-mixed to ff_dim, concatenated, then a mixing layer (2 ff_dim -> ff_dim)."""

    def __init__(self, h: int, dropout: float, ff_dim: int, stat_input_size: int) -> None:
        super().__init__()
        self.feature_mixer_stat = _FeatureMixing(stat_input_size, ff_dim, h, dropout, ff_dim)
        self.temporal_mixer = _TemporalMixing(2 * ff_dim, h, dropout)
        self.feature_mixer = _FeatureMixing(2 * ff_dim, ff_dim, h, dropout, ff_dim)

    def forward(self, x: Tensor, static: Tensor | None = None) -> Tensor:
        assert static is not None
        x = concat([x, self.feature_mixer_stat(static)], axis=2)  # (B, h, 2 * ff_dim)
        return self.feature_mixer(self.temporal_mixer(x))


class _TSMixerxNetwork(nn.Module):
    """RevIN -> temporal projection L -> h -> feature mixers (history, future, static) -> mixing -> Linear."""

    def __init__(self, n_series: int, input_size: int, h: int, n_outputs: int, sizes: tuple[int, int, int],
                 n_block: int, ff_dim: int, dropout: float, revin: bool) -> None:
        super().__init__()
        hist, futr, stat = sizes
        self.h, self.n_outputs, self.revin = h, n_outputs, revin
        if revin:
            self.norm = nn.RevIN(n_series, affine=True)
        self.temporal_projection = nn.Linear(input_size, h)
        self.feature_mixer_hist = _FeatureMixing(n_series * (1 + hist + futr), ff_dim, h, dropout, ff_dim)
        self.feature_mixer_futr = _FeatureMixing(n_series * futr, ff_dim, h, dropout, ff_dim) if futr else None
        self.feature_mixer_stat = _FeatureMixing(n_series * stat, ff_dim, h, dropout, ff_dim) if stat else None
        parts = 1 + (futr > 0) + (stat > 0)
        self.first_mixing = _MixingLayer(parts * ff_dim, ff_dim, h, dropout, ff_dim)
        self.mixing_block = nn.ModuleList(
            _MixingLayerWithStatic(h, dropout, ff_dim, n_series * stat) if stat
            else _MixingLayer(ff_dim, ff_dim, h, dropout, ff_dim) for _ in range(n_block))
        self.out = nn.Linear(ff_dim, n_outputs * n_series)

    def forward(self, batch: PanelBatch) -> Tensor:
        x = batch.insample_y  # (B, L, N)
        size, length, n_series = x.shape
        channels = [(self.norm.norm(x) if self.revin else x).unsqueeze(1)]  # (B, 1, L, N)
        if batch.hist_exog is not None:
            channels.append(batch.hist_exog)  # (B, X, L, N)
        if batch.futr_exog is not None:
            channels.append(batch.futr_exog[:, :, :length])  # (B, F, L, N)
        x = concat(channels, axis=1) if len(channels) > 1 else channels[0]  # (B, 1 + X + F, L, N)
        x = self.temporal_projection(x.transpose(0, 1, 3, 2))  # (B, C, N, L) -> (B, C, N, h)
        x = self.feature_mixer_hist(x.transpose(0, 3, 1, 2).reshape(size, self.h, -1))  # (B, h, C * N) -> ff_dim
        parts, static = [x], None
        if self.feature_mixer_futr is not None:  # (B, F, h, N) -> (B, h, F * N) -> (B, h, ff_dim)
            parts.append(self.feature_mixer_futr(batch.futr_exog[:, :, length:].transpose(0, 2, 1, 3)
                                                 .reshape(size, self.h, -1)))
        if self.feature_mixer_stat is not None:  # (N, S) -> (B, h, N * S), the same for every window and step
            flat = batch.stat_exog.data.reshape(1, 1, -1)
            static = Tensor(np.broadcast_to(flat, (size, self.h, flat.shape[-1])))
            parts.append(self.feature_mixer_stat(static))
        x = self.first_mixing(concat(parts, axis=2) if len(parts) > 1 else x)  # (B, h, ff_dim)
        for layer in self.mixing_block:
            x = layer(x, static)
        forecast = self.out(x).reshape(size, self.h * self.n_outputs, n_series)  # (B, h * Q, N)
        if self.revin:
            forecast = self.norm.denorm(forecast)
        return forecast.reshape(size, self.h, self.n_outputs, n_series).transpose(0, 1, 3, 2)  # (B, h, N, Q)


@register_model("TSMixerx", category="advanced",
                capabilities=("multivariate", "multi_step", "batch_processing", "exogenous", "long_horizon"))
class TSMixerx(MultivariateForecaster):
    """Time-Series Mixer with exogenous inputs: covariates mixed with the series over the horizon.

    The target window (B, input_size, N), RevIN-normalised per series, and the historical
    (B, X, L, N) and input-part future (B, F, L, N) covariates are projected along time from L to
    h steps and feature-mixed into (B, h, ff_dim); the horizon's future covariates
    (B, F, h, N) and the static ones (N, S) are feature-mixed to ff_dim each and concatenated.
    A first mixing layer and `n_block` mixing layers (time mixing with LayerNorm, feature mixing
    with LayerNorm; static covariates mixed in again in every block) lead to a Linear giving
    (B, h, N, n_outputs), with RevIN undone.

    Args:
        n_block: number of mixing layers after the first one.
        ff_dim: hidden units and width of the feature-mixing MLPs.
        dropout: dropout rate inside the mixing layers.
        revin: normalise each series' window with reversible instance normalisation.

    References:
        Chen, S.-A., Li, C.-L., Yoder, N., Arik, S. O., Pfister, T. (2023). "TSMixer: An All-MLP
        Architecture for Time Series Forecasting". TMLR. https://arxiv.org/abs/2303.06053
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "n_block": {"minimum": 0},
        "ff_dim": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
    }

    def __init__(
        self, h: int, input_size: int, n_series: int | None = None, futr_exog_list: tuple[str, ...] | None = None,
        hist_exog_list: tuple[str, ...] | None = None, stat_exog_list: tuple[str, ...] | None = None,
        exclude_insample_y: bool = False, n_block: int = 2, ff_dim: int = 64, dropout: float = 0.0,
        revin: bool = True, loss: LossSpec = "mae", max_steps: int = 1000, learning_rate: float = 1e-3,
        num_lr_decays: int = -1, early_stop_patience_steps: int = -1, val_check_steps: int = 100,
        batch_size: int = 32, windows_batch_size: int = 32, inference_windows_batch_size: int = 32,
        start_padding_enabled: bool = False, step_size: int = 1, scaler_type: ScalerSpec = "identity",
        random_seed: int = 1, gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam",
        precision: Precision = "float32",
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
        self.n_block, self.ff_dim, self.dropout, self.revin = n_block, ff_dim, dropout, revin

    def _build_network(self) -> nn.Module:
        sizes = (self.hist_exog_size, self.futr_exog_size, self.stat_exog_size)
        return _TSMixerxNetwork(self.series_count, self.input_size, self.h, self.loss.outputsize_multiplier, sizes,
                                self.n_block, self.ff_dim, self.dropout, self.revin)
