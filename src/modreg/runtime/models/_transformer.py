"""Transformer pieces shared by Informer, Autoformer and FEDformer (neuralforecast's `common/_modules.py`).

- Embeddings: `TokenEmbedding` (a kernel-3 circular convolution of the values),
  `positional_table` (fixed sines and cosines), `DataEmbedding` (their sum plus a bias-free
  linear map of the future exogenous "marks", then dropout).
- `AttentionLayer`: query/key/value/out projections around an inner attention or correlation
  module; it computes only the projections the inner module reads.
- `TransEncoderLayer`/`TransEncoder`/`TransDecoderLayer`/`TransDecoder`: post-norm layers with a
  pointwise (kernel-1 convolution) feed-forward block; the encoder optionally distils between
  layers (Informer).

Shapes are (B, L, D) throughout, D = `hidden_size`; names follow neuralforecast so state-dict
keys read alike.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, gelu, linear, relu
from modreg.runtime.nn import init

__all__ = [
    "Activation", "AttentionLayer", "DataEmbedding", "PointwiseConv", "TokenEmbedding", "TransDecoder",
    "TransDecoderLayer", "TransEncoder", "TransEncoderLayer", "activation_fn", "circular_pad", "decoder_start_length",
    "positional_table",
]

Activation = Literal["relu", "gelu"]


def activation_fn(name: Activation) -> Callable[[Tensor], Tensor]:
    """F.relu for "relu", else the exact (erf) F.gelu, as neuralforecast's layers choose."""
    return relu if name == "relu" else gelu


def circular_pad(x: Tensor, width: int) -> Tensor:
    """Wrap the last axis around by `width` on both sides (PyTorch's padding_mode="circular")."""
    return concat([x[..., -width:], x, x[..., :width]], axis=-1)


@functools.lru_cache(maxsize=16)
def positional_table(length: int, hidden_size: int, dtype: str) -> np.ndarray:
    """(length, hidden_size): sin(pos * w_i) at even columns, cos at odd, w_i = 10000^(-2i/hidden)."""
    position = np.arange(length, dtype=np.float64)[:, None]
    frequency = np.exp(np.arange(0, hidden_size, 2, dtype=np.float64) * -(math.log(10000.0) / hidden_size))
    table = np.zeros((length, hidden_size))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency)[:, : hidden_size // 2]
    table = table.astype(dtype)
    table.setflags(write=False)
    return table


class PointwiseConv(nn.Module):
    """A kernel-1 Conv1d (`weight` (out, in, 1), PyTorch's init) applied to (B, L, in) as a linear map."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__()
        bound = init.fan_in_bound(in_channels)
        self.weight = nn.Parameter(init.uniform((out_channels, in_channels, 1), bound))
        self.bias = nn.Parameter(init.uniform((out_channels,), bound)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight.reshape(self.weight.shape[:2]), self.bias)  # (B, L, in) -> (B, L, out)


class TokenEmbedding(nn.Module):
    """Kernel-3 circular convolution of the values, no bias, Kaiming-normal weights: (B, L, C) -> (B, L, D)."""

    def __init__(self, c_in: int, hidden_size: int) -> None:
        super().__init__()
        self.tokenConv = nn.Conv1d(c_in, hidden_size, 3, bias=False)
        self.tokenConv.weight.data = init.kaiming_normal((hidden_size, c_in, 3))

    def forward(self, x: Tensor) -> Tensor:
        return self.tokenConv(circular_pad(x.swapaxes(1, 2), 1)).swapaxes(1, 2)


class DataEmbedding(nn.Module):
    """value embedding [+ positional table] [+ Linear(marks, bias=False)] -> dropout.

    Args:
        c_in: channels of the values (1: the target).
        exog_input_size: future exogenous columns fed as marks (0: none).
        hidden_size: D.
        pos_embedding: add the fixed sinusoidal position table (Informer).
        dropout: dropout on the sum.
    """

    def __init__(self, c_in: int, exog_input_size: int, hidden_size: int, pos_embedding: bool,
                 dropout: float) -> None:
        super().__init__()
        self.value_embedding = TokenEmbedding(c_in, hidden_size)
        self.pos_embedding = pos_embedding
        self.temporal_embedding = nn.Linear(exog_input_size, hidden_size, bias=False) if exog_input_size else None
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, x_mark: Tensor | None = None) -> Tensor:
        out = self.value_embedding(x)  # (B, L, D)
        if self.pos_embedding:
            out = out + positional_table(x.shape[1], out.shape[2], out.dtype.str)
        if self.temporal_embedding is not None and x_mark is not None:
            out = out + self.temporal_embedding(x_mark)
        return self.dropout(out)


class AttentionLayer(nn.Module):
    """Multi-head projections around an inner module: (B, L, D), (B, S, D), (B, S, D) -> (B, L, D).

    The inner module gets queries (B, L, H, E), keys (B, S, H, E) and values (B, S, H, E) (None
    for those it does not list in its `inputs`) and returns an array of B * L * H * E values
    that is read as (B, L, H * E) in memory order, as neuralforecast's `out.view(B, L, -1)`.

    Args:
        attention: the inner module (registered under `inner_name`).
        hidden_size, n_heads: D and H; E = D // H.
        inner_name: "inner_attention" (Informer) or "inner_correlation" (Autoformer, FEDformer).
    """

    def __init__(self, attention: nn.Module, hidden_size: int, n_heads: int,
                 inner_name: str = "inner_attention") -> None:
        super().__init__()
        self.inner_name, self.n_heads = inner_name, n_heads
        setattr(self, inner_name, attention)
        width = hidden_size // n_heads * n_heads
        self.query_projection = nn.Linear(hidden_size, width)
        self.key_projection = nn.Linear(hidden_size, width)
        self.value_projection = nn.Linear(hidden_size, width)
        self.out_projection = nn.Linear(width, hidden_size)

    def forward(self, queries: Tensor, keys: Tensor, values: Tensor) -> Tensor:
        inner = getattr(self, self.inner_name)
        wanted = getattr(inner, "inputs", ("q", "k", "v"))
        b, length, _ = queries.shape
        heads = (b, -1, self.n_heads, self.out_projection.in_features // self.n_heads)  # (B, ., H * E) -> (B, ., H, E)
        q = self.query_projection(queries).reshape(heads)
        k = self.key_projection(keys).reshape(heads) if "k" in wanted else None
        v = self.value_projection(values).reshape(heads) if "v" in wanted else None
        out = inner(q, k, v)
        return self.out_projection(out.reshape(b, length, -1))


class TransEncoderLayer(nn.Module):
    """x + attn(x) -> norm1 -> + conv2(act(conv1(.))) -> norm2, with dropout on each branch."""

    def __init__(self, attention: AttentionLayer, hidden_size: int, conv_hidden_size: int, dropout: float,
                 activation: Activation) -> None:
        super().__init__()
        self.attention = attention
        self.conv1 = PointwiseConv(hidden_size, conv_hidden_size)
        self.conv2 = PointwiseConv(conv_hidden_size, hidden_size)
        self.norm1, self.norm2 = nn.LayerNorm(hidden_size), nn.LayerNorm(hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        x = self.norm1(x + self.dropout(self.attention(x, x, x)))
        y = self.dropout(activation_fn(self.activation)(self.conv1(x)))
        return self.norm2(x + self.dropout(self.conv2(y)))


class TransEncoder(nn.Module):
    """Encoder layers, each but the last followed by its distilling layer when given, then a norm."""

    def __init__(self, attn_layers: Sequence[nn.Module], conv_layers: Sequence[nn.Module] | None,
                 norm_layer: nn.Module | None) -> None:
        super().__init__()
        self.attn_layers = nn.ModuleList(attn_layers)
        self.conv_layers = nn.ModuleList(conv_layers) if conv_layers is not None else None
        self.norm = norm_layer

    def forward(self, x: Tensor) -> Tensor:
        convs = list(self.conv_layers) if self.conv_layers is not None else []
        for i, layer in enumerate(self.attn_layers):
            x = layer(x)
            if i < len(convs):
                x = convs[i](x)  # (B, L, D) -> (B, ~L/2, D)
        return self.norm(x) if self.norm is not None else x


class TransDecoderLayer(nn.Module):
    """Self-attention, cross-attention to the encoder, pointwise feed-forward: each residual + norm."""

    def __init__(self, self_attention: AttentionLayer, cross_attention: AttentionLayer, hidden_size: int,
                 conv_hidden_size: int, dropout: float, activation: Activation) -> None:
        super().__init__()
        self.self_attention, self.cross_attention = self_attention, cross_attention
        self.conv1 = PointwiseConv(hidden_size, conv_hidden_size)
        self.conv2 = PointwiseConv(conv_hidden_size, hidden_size)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(hidden_size) for _ in range(3))
        self.dropout = nn.Dropout(dropout)
        self.activation = activation

    def forward(self, x: Tensor, cross: Tensor) -> Tensor:
        x = self.norm1(x + self.dropout(self.self_attention(x, x, x)))
        x = self.norm2(x + self.dropout(self.cross_attention(x, cross, cross)))
        y = self.dropout(activation_fn(self.activation)(self.conv1(x)))
        return self.norm3(x + self.dropout(self.conv2(y)))


class TransDecoder(nn.Module):
    """Decoder layers, then a norm and a Linear projection to the outputs: (B, L, D) -> (B, L, Q)."""

    def __init__(self, layers: Sequence[nn.Module], norm_layer: nn.Module, projection: nn.Module) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm, self.projection = norm_layer, projection

    def forward(self, x: Tensor, cross: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x, cross)
        return self.projection(self.norm(x))


def decoder_start_length(model: str, input_size: int, multiplier: float) -> int:
    """label_len = ceil(input_size * multiplier): the window's tail that starts the decoder (1 to L - 1).

    Raises:
        UsageError: the multiplier gives no value or the whole window.
    """
    label_len = math.ceil(input_size * multiplier)
    if not 0 < label_len < input_size:
        raise UsageError(f"{model}'s decoder_input_size_multiplier={multiplier} gives a decoder start of "
                         f"{label_len} points for input_size={input_size}; it must be between 1 and input_size - 1.",
                         hint="use a multiplier in (0, 1); the default is 0.5.")
    return label_len
