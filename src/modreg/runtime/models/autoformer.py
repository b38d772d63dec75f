"""Autoformer: decomposition Transformer with FFT Auto-Correlation in place of self-attention.

Wu, H., Xu, J., Wang, J., Long, M. (2021). "Autoformer: Decomposition Transformers with
Auto-Correlation for Long-Term Series Forecasting". NeurIPS 2021. https://arxiv.org/abs/2106.13008
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._decomposition import DecompositionTransformer
from modreg.runtime.models._fourier import signal, spectrum
from modreg.runtime.models._transformer import AttentionLayer, decoder_start_length
from modreg.runtime.models.base import Precision, WindowForecaster

__all__ = ["Autoformer"]


def _mean_correlation(q: Tensor, k: Tensor) -> Tensor:
    """Circular cross-correlation of q and k over time, averaged over channels: (B, L, C) x2 -> (B, L).

    out[b, tau] = mean_c sum_t q[b, (t + tau) % L, c] * k[b, t, c], computed as
    irfft(mean_c(rfft(q) * conj(rfft(k)))) (`_fourier`: FFT, or a DFT matrix for short windows):
    the inverse transform is linear, so averaging the cross-spectrum first equals averaging
    neuralforecast's per-channel correlations.
    """
    q_re, q_im = spectrum(q, axis=1)  # (B, L // 2 + 1, C)
    k_re, k_im = spectrum(k, axis=1)
    re = (q_re * k_re + q_im * k_im).mean(axis=-1)  # (B, L // 2 + 1)
    im = (q_im * k_re - q_re * k_im).mean(axis=-1)
    return signal(re, im, n=q.shape[1], axis=1)


def _aggregate(values: Tensor, weights: Tensor, delays: np.ndarray) -> Tensor:
    """Time-delay aggregation: out[b, t] = sum_i weights[b, i] * values[b, (t + delays[b, i]) % L].

    values (B, L, C), weights and delays (B, k). The sum of rolled copies is a circular
    cross-correlation of the values with the kernel sum_i w_i delta(t - d_i), so it is computed
    as irfft(rfft(values) * conj(kernel spectrum)): two transforms and a few half-length
    products instead of k full-size rolls, products and sums.
    """
    length = values.shape[1]
    angle = (-2.0 * np.pi / length) * delays[..., None] * np.arange(length // 2 + 1)  # (B, k, F)
    w = weights.unsqueeze(1)  # (B, 1, k)
    k_re = (w @ np.cos(angle).astype(values.dtype)).swapaxes(1, 2)  # (B, F, 1): the kernel's spectrum
    k_im = (w @ np.sin(angle).astype(values.dtype)).swapaxes(1, 2)
    v_re, v_im = spectrum(values, axis=1)  # (B, F, C)
    return signal(v_re * k_re + v_im * k_im, v_im * k_re - v_re * k_im, n=length, axis=1)


class _AutoCorrelation(nn.Module):
    """Period-based dependencies (FFT autocorrelation) and time-delay aggregation of the values.

    The top k = int(factor * ln L) delays of the channel-averaged autocorrelation are kept, their
    correlations softmax-normalised into weights, and the values rolled by each delay are summed
    with those weights. Training picks the delays from the batch mean (neuralforecast's speed-up,
    the same delays for every window); evaluation picks each window's own delays.

    forward(q (B, L, H, E), k (B, S, H, E), v (B, S, H, E)) -> (B, L, H, E).
    """

    def __init__(self, factor: int) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        b, length, heads, width = q.shape
        flat = (b, length, heads * width)  # (B, L, H, E) -> (B, L, C)
        corr = _mean_correlation(q.reshape(flat), _fit_length(k, length).reshape(flat))  # (B, L)
        top_k = min(max(int(self.factor * math.log(length)), 1), length)  # at least one delay, at most L
        if self.training:  # the batch's delays
            delays = np.broadcast_to(np.argsort(-corr.data.mean(axis=0), kind="stable")[:top_k], (b, top_k))
        else:  # each window's own
            delays = np.argsort(-corr.data, axis=-1, kind="stable")[:, :top_k]
        weights = corr[np.arange(b)[:, None], delays].softmax(axis=-1)  # (B, k)
        return _aggregate(_fit_length(v, length).reshape(flat), weights, delays).reshape(q.shape)


def _fit_length(x: Tensor, length: int) -> Tensor:
    """Truncate or zero-pad axis 1 of (B, S, H, E) to `length`."""
    if x.shape[1] >= length:
        return x[:, :length]
    return concat([x, np.zeros((x.shape[0], length - x.shape[1]) + x.shape[2:], dtype=x.dtype)], axis=1)


@register_model("Autoformer", category="transformer",
                capabilities=("univariate", "multi_step", "batch_processing", "long_horizon"))
class Autoformer(WindowForecaster):
    """Autoformer: progressive series decomposition with Auto-Correlation encoder and decoder layers.

    Every layer splits its input into a moving-average trend and a seasonal remainder; the
    seasonal part goes on and the decoder accumulates the trends. Auto-Correlation replaces
    self-attention: the autocorrelation of queries and keys (one FFT each) picks the top
    `int(factor * ln L)` time delays, and the values rolled by those delays are averaged with
    softmax weights. The decoder starts from the window's last `label_len` points (seasonal and
    trend parts) followed by zeros and the window mean, and emits all h steps at once.
    Shapes: (B, input_size) -> (B, h, n_outputs). Future exogenous columns (`futr_exog_list`)
    enter the embeddings; historical and static ones are not supported (as neuralforecast).

    Args:
        exclude_insample_y: zero the window's values (only the exogenous marks inform the forecast).
        decoder_input_size_multiplier: label_len = ceil(input_size * multiplier), in (0, 1).
        hidden_size: width D of embeddings, attention and layers.
        dropout: dropout in the embeddings and after every sub-layer.
        factor: top k = int(factor * ln L) delays in Auto-Correlation.
        n_head: heads of the correlation layers (D divisible by it).
        conv_hidden_size: channels of the pointwise feed-forward blocks.
        activation: "gelu" or "relu" in the feed-forward blocks.
        encoder_layers, decoder_layers: number of layers.
        MovingAvg_window: width of the moving averages of the decompositions (odd).
        futr_exog_list: future exogenous columns.

    References:
        Wu, H., Xu, J., Wang, J., Long, M. (2021). "Autoformer: Decomposition Transformers with
        Auto-Correlation for Long-Term Series Forecasting". NeurIPS 2021. arXiv:2106.13008.
    """

    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 2},
        "decoder_input_size_multiplier": {"exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "hidden_size": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "factor": {"minimum": 1},
        "n_head": {"minimum": 1},
        "conv_hidden_size": {"minimum": 1},
        "encoder_layers": {"minimum": 1},
        "decoder_layers": {"minimum": 1},
        "MovingAvg_window": {"minimum": 1},
    }

    def __init__(
        self, h: int, input_size: int, futr_exog_list: tuple[str, ...] | None = None, exclude_insample_y: bool = False,
        decoder_input_size_multiplier: float = 0.5, hidden_size: int = 128, dropout: float = 0.05, factor: int = 3,
        n_head: int = 4, conv_hidden_size: int = 32, activation: Literal["gelu", "relu"] = "gelu",
        encoder_layers: int = 2, decoder_layers: int = 1, MovingAvg_window: int = 25,  # noqa: N803
        loss: LossSpec = "mae", max_steps: int = 5000, learning_rate: float = 1e-4, num_lr_decays: int = -1,
        early_stop_patience_steps: int = -1, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 1024, inference_windows_batch_size: int = 1024, start_padding_enabled: bool = False,
        step_size: int = 1, scaler_type: ScalerSpec = "identity", random_seed: int = 1,
        gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
            futr_exog_list=futr_exog_list,
        )
        if MovingAvg_window % 2 == 0:
            raise UsageError(f"Autoformer's MovingAvg_window must be odd, found {MovingAvg_window}.",
                             hint=f"use {MovingAvg_window + 1} (the default is 25).")
        self.label_len = decoder_start_length(self.name, self.input_size, decoder_input_size_multiplier)
        self.exclude_insample_y, self.decoder_input_size_multiplier = exclude_insample_y, decoder_input_size_multiplier
        self.hidden_size, self.dropout, self.factor, self.n_head = hidden_size, dropout, factor, n_head
        self.conv_hidden_size, self.activation = conv_hidden_size, activation
        self.encoder_layers, self.decoder_layers = encoder_layers, decoder_layers
        self.MovingAvg_window = MovingAvg_window

    def _build_network(self) -> nn.Module:
        def correlation() -> AttentionLayer:
            return AttentionLayer(_AutoCorrelation(self.factor), self.hidden_size, self.n_head, "inner_correlation")

        return DecompositionTransformer(
            input_size=self.input_size, h=self.h, label_len=self.label_len, futr_size=self.futr_exog_size,
            n_outputs=self.loss.outputsize_multiplier, hidden_size=self.hidden_size, dropout=self.dropout,
            conv_hidden_size=self.conv_hidden_size, activation=self.activation, encoder_layers=self.encoder_layers,
            decoder_layers=self.decoder_layers, moving_avg=self.MovingAvg_window, encoder_attention=correlation,
            decoder_self_attention=correlation, decoder_cross_attention=correlation,
            exclude_insample_y=self.exclude_insample_y,
        )
