"""The decomposition Transformer shared by Autoformer and FEDformer (their common neuralforecast code).

Both models decompose progressively: every encoder and decoder layer splits its stream into a
seasonal part, which flows on, and a moving-average trend, which the decoder accumulates. They
differ only in the inner module of their attention layers (Auto-Correlation, or Fourier
blocks), so `DecompositionTransformer` takes those as factories.

- `SeriesDecomp`: (x - trend, trend) with trend = a centred moving average over time, the ends
  padded with copies of the first and last values; applied as one (L, L) matrix product.
- `SeasonalLayerNorm` (neuralforecast's `LayerNorm`): LayerNorm, then the time mean removed.
- `DecompEncoderLayer`/`DecompDecoderLayer` and their stacks, with bias-free pointwise
  feed-forward convolutions and (decoder) a circular kernel-3 projection of the trend.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, matmul
from modreg.runtime.models._transformer import (
    Activation, AttentionLayer, DataEmbedding, PointwiseConv, activation_fn, circular_pad,
)
from modreg.runtime.models.base import WindowBatch

__all__ = [
    "DecompDecoder", "DecompDecoderLayer", "DecompEncoder", "DecompEncoderLayer", "DecompositionTransformer",
    "SeasonalLayerNorm", "SeriesDecomp", "moving_average_matrix",
]

AttentionFactory = Callable[[], AttentionLayer]


@functools.lru_cache(maxsize=32)
def moving_average_matrix(length: int, kernel_size: int, dtype: str) -> np.ndarray:
    """(L, L) M with (M @ x)[t] = mean of x[clip(t + j, 0, L - 1)] for |j| <= (kernel_size - 1) // 2."""
    half = (kernel_size - 1) // 2
    sources = np.clip(np.arange(length)[:, None] + np.arange(-half, half + 1), 0, length - 1)  # (L, K)
    matrix = np.zeros((length, length))
    np.add.at(matrix, (np.repeat(np.arange(length), sources.shape[1]), sources.reshape(-1)), 1.0 / kernel_size)
    matrix = matrix.astype(dtype)
    matrix.setflags(write=False)
    return matrix


class SeriesDecomp(nn.Module):
    """(seasonal, trend) of x (B, L, C): trend = edge-padded moving average of width `kernel_size` (odd)."""

    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        trend = matmul(moving_average_matrix(x.shape[1], self.kernel_size, x.dtype.str), x)  # (L, L) @ (B, L, C)
        return x - trend, trend


class SeasonalLayerNorm(nn.Module):
    """LayerNorm over channels, then each channel's mean over time subtracted: (B, L, D) -> (B, L, D)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.layernorm = nn.LayerNorm(channels)

    def forward(self, x: Tensor) -> Tensor:
        x_hat = self.layernorm(x)
        return x_hat - x_hat.mean(axis=1, keepdims=True)


class DecompEncoderLayer(nn.Module):
    """x + attn(x) -> decomp (keep seasonal) -> + conv2(act(conv1(.))) -> decomp (keep seasonal)."""

    def __init__(self, attention: AttentionLayer, hidden_size: int, conv_hidden_size: int, moving_avg: int,
                 dropout: float, activation: Activation) -> None:
        super().__init__()
        self.attention = attention
        self.conv1 = PointwiseConv(hidden_size, conv_hidden_size, bias=False)
        self.conv2 = PointwiseConv(conv_hidden_size, hidden_size, bias=False)
        self.decomp1, self.decomp2 = SeriesDecomp(moving_avg), SeriesDecomp(moving_avg)
        self.dropout = nn.Dropout(dropout)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        x, _ = self.decomp1(x + self.dropout(self.attention(x, x, x)))
        y = self.dropout(activation_fn(self.activation)(self.conv1(x)))
        return self.decomp2(x + self.dropout(self.conv2(y)))[0]


class DecompEncoder(nn.Module):
    """Encoder layers, then the seasonal layer norm."""

    def __init__(self, attn_layers: list[nn.Module], norm_layer: nn.Module) -> None:
        super().__init__()
        self.attn_layers = nn.ModuleList(attn_layers)
        self.norm = norm_layer

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.attn_layers:
            x = layer(x)
        return self.norm(x)


class DecompDecoderLayer(nn.Module):
    """Self-attention, cross-attention, feed-forward, each followed by a decomposition.

    Returns the seasonal stream (B, L, D) and this layer's trend (B, L, c_out): the sum of the
    three trends through a circular kernel-3 convolution without bias.
    """

    def __init__(self, self_attention: AttentionLayer, cross_attention: AttentionLayer, hidden_size: int,
                 c_out: int, conv_hidden_size: int, moving_avg: int, dropout: float, activation: Activation) -> None:
        super().__init__()
        self.self_attention, self.cross_attention = self_attention, cross_attention
        self.conv1 = PointwiseConv(hidden_size, conv_hidden_size, bias=False)
        self.conv2 = PointwiseConv(conv_hidden_size, hidden_size, bias=False)
        self.decomp1, self.decomp2, self.decomp3 = (SeriesDecomp(moving_avg) for _ in range(3))
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Conv1d(hidden_size, c_out, 3, bias=False)
        self.activation = activation

    def forward(self, x: Tensor, cross: Tensor) -> tuple[Tensor, Tensor]:
        x, trend1 = self.decomp1(x + self.dropout(self.self_attention(x, x, x)))
        x, trend2 = self.decomp2(x + self.dropout(self.cross_attention(x, cross, cross)))
        y = self.dropout(activation_fn(self.activation)(self.conv1(x)))
        x, trend3 = self.decomp3(x + self.dropout(self.conv2(y)))
        trend = circular_pad((trend1 + trend2 + trend3).swapaxes(1, 2), 1)  # (B, D, L + 2)
        return x, self.projection(trend).swapaxes(1, 2)  # (B, c_out, L) -> (B, L, c_out)


class DecompDecoder(nn.Module):
    """Decoder layers accumulating the trend; the seasonal stream is normed and projected to c_out."""

    def __init__(self, layers: list[nn.Module], norm_layer: nn.Module, projection: nn.Module) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm, self.projection = norm_layer, projection

    def forward(self, x: Tensor, cross: Tensor, trend: Tensor) -> tuple[Tensor, Tensor]:
        for layer in self.layers:
            x, residual_trend = layer(x, cross)
            trend = trend + residual_trend
        return self.projection(self.norm(x)), trend


class DecompositionTransformer(nn.Module):
    """Autoformer's and FEDformer's network: (B, L) window -> (B, h, n_outputs).

    The window is decomposed; the decoder starts from the last `label_len` seasonal values
    followed by h zeros, and from the last `label_len` trend values followed by h copies of the
    window mean. The encoder reads the embedded window. The forecast is the decoder's seasonal
    output plus its accumulated trend, over the last h steps.

    Args:
        input_size, h, label_len: L, the horizon and the decoder's start length.
        futr_size: future exogenous columns, embedded as marks (0: none).
        n_outputs: outputs per step (the loss's multiplier).
        encoder_attention, decoder_self_attention, decoder_cross_attention: build one AttentionLayer per call.
        moving_avg: width of every moving average.
        exclude_insample_y: zero the window's values (only the marks inform the forecast).
    """

    def __init__(self, *, input_size: int, h: int, label_len: int, futr_size: int, n_outputs: int,
                 hidden_size: int, dropout: float, conv_hidden_size: int, activation: Activation,
                 encoder_layers: int, decoder_layers: int, moving_avg: int, encoder_attention: AttentionFactory,
                 decoder_self_attention: AttentionFactory, decoder_cross_attention: AttentionFactory,
                 exclude_insample_y: bool = False) -> None:
        super().__init__()
        self.input_size, self.h, self.label_len = input_size, h, label_len
        self.exclude_insample_y = exclude_insample_y
        self.decomp = SeriesDecomp(moving_avg)
        self.enc_embedding = DataEmbedding(1, futr_size, hidden_size, pos_embedding=False, dropout=dropout)
        self.dec_embedding = DataEmbedding(1, futr_size, hidden_size, pos_embedding=False, dropout=dropout)
        self.encoder = DecompEncoder(
            [DecompEncoderLayer(encoder_attention(), hidden_size, conv_hidden_size, moving_avg, dropout, activation)
             for _ in range(encoder_layers)], SeasonalLayerNorm(hidden_size))
        self.decoder = DecompDecoder(
            [DecompDecoderLayer(decoder_self_attention(), decoder_cross_attention(), hidden_size, n_outputs,
                                conv_hidden_size, moving_avg, dropout, activation) for _ in range(decoder_layers)],
            SeasonalLayerNorm(hidden_size), nn.Linear(hidden_size, n_outputs))

    def forward(self, batch: WindowBatch) -> Tensor:
        y = batch.insample_y.unsqueeze(-1)  # (B, L) -> (B, L, 1)
        if self.exclude_insample_y:
            y = y * 0.0
        futr = batch.futr_exog  # (B, L + h, F) or None
        mark_enc = None if futr is None else futr[:, : self.input_size]
        mark_dec = None if futr is None else futr[:, futr.shape[1] - self.label_len - self.h:]
        seasonal, trend = self.decomp(y)
        zeros = np.zeros((y.shape[0], self.h, 1), dtype=y.dtype)
        trend_init = concat([trend[:, -self.label_len:], y.mean(axis=1, keepdims=True).expand(y.shape[0], self.h, 1)],
                            axis=1)  # (B, label_len + h, 1)
        seasonal_init = concat([seasonal[:, -self.label_len:], zeros], axis=1)
        enc_out = self.encoder(self.enc_embedding(y, mark_enc))
        seasonal_part, trend_part = self.decoder(self.dec_embedding(seasonal_init, mark_dec), enc_out, trend_init)
        return (trend_part + seasonal_part)[:, -self.h:]  # (B, h, n_outputs)
