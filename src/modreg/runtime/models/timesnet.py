"""TimesNet: temporal 2-D variation modelling (Wu et al., 2023), a port of neuralforecast 3.3.0's `TimesNet`.

The window is embedded (a circular 1-D convolution of the values, sinusoidal positions and,
with future exogenous columns, a linear map of them), stretched by a linear layer over time from
input_size to input_size + h steps, and passed through TimesBlocks. Each block finds the
batch's `top_k` dominant periods from the amplitudes of an FFT over time, folds the sequence
into a 2-D array per period (cycles x phase, zero-padded to whole cycles), applies an Inception
block of 2-D convolutions, GELU and a second Inception block, unfolds, and sums the periods
weighted by the softmax of their amplitudes, plus a residual. The last h steps, projected to
the outputs, are the forecast.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, complex_abs, concat, conv1d, conv2d, pad, rfft, stack
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster
from modreg.runtime.nn import init

__all__ = ["TimesNet", "fft_periods"]

_LEAKY_RELU_GAIN = math.sqrt(2.0 / (1.0 + 0.01**2))  # kaiming_normal_'s gain for leaky_relu


# ----- Period discovery -----
def fft_periods(x: Tensor, k: int) -> tuple[np.ndarray, Tensor]:
    """The `k` dominant periods of x (B, T, N) and each window's amplitude at them.

    The amplitude |rfft| over time, averaged over the batch and channels, ranks the frequencies
    (the constant term excluded); the periods are T // frequency. Returns (periods (k,) ints,
    amplitudes (B, k), averaged over channels and differentiable), as neuralforecast's
    FFT_for_Period.
    """
    real, imag = rfft(x, axis=1)  # (B, T // 2 + 1, N) each
    amplitude = complex_abs(real, imag).mean(axis=-1)  # (B, F)
    ranking = amplitude.data.mean(axis=0)
    ranking[0] = 0.0
    top = np.argsort(-ranking, kind="stable")[:k]
    return x.shape[1] // top, amplitude[:, top]


# ----- Blocks -----
class _InceptionBlock(nn.Module):
    """The mean of `num_kernels` 'same' 2-D convolutions with kernels 1, 3, ..., 2 num_kernels - 1.

    Computed as one convolution: the kernels, centred and zero-padded to the largest, are
    averaged (the convolutions are linear in their weights), and the taps that could only ever
    reach the zero padding of a small (rows x cols) input are cropped. The result and the
    gradients are those of the separate convolutions.
    """

    def __init__(self, in_channels: int, out_channels: int, num_kernels: int) -> None:
        super().__init__()
        self.kernels = nn.ModuleList([nn.Conv2d(in_channels, out_channels, 2 * i + 1, padding=i)
                                      for i in range(num_kernels)])
        for i, conv in enumerate(self.kernels):  # kaiming_normal_(mode="fan_out", relu), zero bias
            size = 2 * i + 1
            conv.weight.data = init.normal(conv.weight.shape, math.sqrt(2.0 / (out_channels * size * size)))
            conv.bias.data = init.zeros(conv.bias.shape)

    def forward(self, x: Tensor) -> Tensor:  # (B, C_in, rows, cols) -> (B, C_out, rows, cols)
        n = len(self.kernels)
        reach = (min(n - 1, x.shape[2] - 1), min(n - 1, x.shape[3] - 1))
        weight = sum(_centred(conv.weight, i, reach) for i, conv in enumerate(self.kernels)) * (1.0 / n)
        bias = sum(conv.bias for conv in self.kernels) * (1.0 / n)
        return conv2d(x, weight, bias, padding=reach)


def _centred(weight: Tensor, half: int, reach: tuple[int, int]) -> Tensor:
    """A (C_out, C_in, 2 half + 1, 2 half + 1) kernel padded or cropped to (2 reach + 1) per axis."""
    cropped = weight[:, :, max(half - reach[0], 0):half + reach[0] + 1, max(half - reach[1], 0):half + reach[1] + 1]
    extra = [max(r - half, 0) for r in reach]
    return pad(cropped, ((0, 0), (0, 0), (extra[0], extra[0]), (extra[1], extra[1]))) if any(extra) else cropped


class _TimesBlock(nn.Module):
    """FFT periods -> per period: fold to 2-D, Inception -> GELU -> Inception, unfold -> weighted sum."""

    def __init__(self, k: int, hidden_size: int, conv_hidden_size: int, num_kernels: int) -> None:
        super().__init__()
        self.k = k
        self.conv = nn.ModuleList([_InceptionBlock(hidden_size, conv_hidden_size, num_kernels),
                                   _InceptionBlock(conv_hidden_size, hidden_size, num_kernels)])

    def forward(self, x: Tensor) -> Tensor:  # (B, T, N) -> (B, T, N)
        b, t, n = x.shape
        periods, amplitude = fft_periods(x, self.k)
        results = []
        for period in periods:
            length = -(-t // period) * period  # whole cycles, zero-padded at the end
            folded = pad(x, ((0, 0), (0, length - t), (0, 0))) if length > t else x
            folded = folded.reshape(b, length // period, period, n).transpose(0, 3, 1, 2)  # (B, N, cycles, period)
            out = self.conv[1](self.conv[0](folded).gelu())
            results.append(out.transpose(0, 2, 3, 1).reshape(b, length, n)[:, :t])  # (B, T, N)
        weights = amplitude.softmax(axis=1)  # (B, k)
        return (stack(results, axis=-1) * weights.reshape(b, 1, 1, self.k)).sum(axis=-1) + x


class _DataEmbedding(nn.Module):
    """Circular Conv1d(1 -> hidden, kernel 3) of the values + sinusoidal positions (+ Linear of the
    future exogenous), then dropout: (B, L) -> (B, L, hidden)."""

    def __init__(self, exog_input_size: int, hidden_size: int, dropout: float) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.value_embedding = nn.Conv1d(1, hidden_size, 3, bias=False)
        self.value_embedding.weight.data = init.normal((hidden_size, 1, 3), _LEAKY_RELU_GAIN / math.sqrt(3.0))
        self.temporal_embedding = nn.Linear(exog_input_size, hidden_size, bias=False) if exog_input_size else None
        self.dropout = nn.Dropout(dropout)

    def forward(self, y: Tensor, marks: Tensor | None) -> Tensor:
        wrapped = concat([y[:, -1:], y, y[:, :1]], axis=1).unsqueeze(1)  # circular padding: (B, 1, L + 2)
        x = conv1d(wrapped, self.value_embedding.weight).transpose(0, 2, 1)  # (B, L, hidden)
        x = x + _positions(y.shape[1], self.hidden_size).astype(x.dtype)
        if self.temporal_embedding is not None and marks is not None:
            x = x + self.temporal_embedding(marks)
        return self.dropout(x)


def _positions(length: int, width: int) -> np.ndarray:
    """(length, width) sinusoidal positional encodings: sin on even, cos on odd columns."""
    position = np.arange(length)[:, None]
    div = np.exp(np.arange(0, width, 2) * -(math.log(10000.0) / width))
    table = np.zeros((length, width))
    table[:, 0::2] = np.sin(position * div)
    table[:, 1::2] = np.cos(position * div)[:, : width // 2]
    return table


class _TimesNetNetwork(nn.Module):
    """Embedding -> Linear over time (L -> L + h) -> TimesBlocks with a shared LayerNorm -> projection."""

    def __init__(self, *, input_size: int, h: int, futr_size: int, n_outputs: int, exclude_insample_y: bool,
                 hidden_size: int, dropout: float, conv_hidden_size: int, top_k: int, num_kernels: int,
                 encoder_layers: int) -> None:
        super().__init__()
        self.input_size, self.h, self.exclude_insample_y = input_size, h, exclude_insample_y
        self.model = nn.ModuleList([_TimesBlock(top_k, hidden_size, conv_hidden_size, num_kernels)
                                    for _ in range(encoder_layers)])
        self.enc_embedding = _DataEmbedding(futr_size, hidden_size, dropout)
        self.layer_norm = nn.LayerNorm(hidden_size)
        self.predict_linear = nn.Linear(input_size, input_size + h)
        self.projection = nn.Linear(hidden_size, n_outputs)

    def forward(self, batch: WindowBatch) -> Tensor:
        y = batch.insample_y * 0.0 if self.exclude_insample_y else batch.insample_y  # (B, L)
        marks = None if batch.futr_exog is None else batch.futr_exog[:, :self.input_size]  # (B, L, F)
        x = self.enc_embedding(y, marks)  # (B, L, hidden)
        x = self.predict_linear(x.transpose(0, 2, 1)).transpose(0, 2, 1)  # (B, L + h, hidden)
        for block in self.model:
            x = self.layer_norm(block(x))
        return self.projection(x[:, -self.h:])  # (B, h, n_outputs)


@register_model("TimesNet", category="specialized",
                capabilities=("univariate", "multi_step", "batch_processing", "exogenous", "long_horizon"))
class TimesNet(WindowForecaster):
    """TimesNet: FFT-discovered periods fold the sequence to 2-D for Inception-style convolutions.

    Shapes: window (B, input_size) [+ futr (B, L + h, F)] -> embedding (B, L, hidden) ->
    (B, L + h, hidden) -> per period p: (B, hidden, ceil((L + h) / p), p) -> 2-D convolutions ->
    back to (B, L + h, hidden), amplitude-weighted -> (B, h, n_outputs). The periods are chosen
    per batch (all its windows share them), as in neuralforecast. Only future exogenous columns
    are supported (the embedding reads their values over the window).

    Args:
        exclude_insample_y: feed zeros instead of the window's values (exogenous only).
        hidden_size: width of the embedding and of the TimesBlocks.
        dropout: dropout of the embedding.
        conv_hidden_size: channels between the two Inception blocks.
        top_k: periods per TimesBlock (at most (input_size + h) // 2).
        num_kernels: kernels of each Inception block (sizes 1, 3, ..., 2 num_kernels - 1).
        encoder_layers: TimesBlocks.

    References:
        Wu, H., Hu, T., Liu, Y., Zhou, H., Wang, J., Long, M. (2023). "TimesNet: Temporal
        2D-Variation Modeling for General Time Series Analysis". ICLR 2023.
        https://arxiv.org/abs/2210.02186
    """

    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "hidden_size": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "conv_hidden_size": {"minimum": 1},
        "top_k": {"minimum": 1},
        "num_kernels": {"minimum": 1},
        "encoder_layers": {"minimum": 1},
    }

    def __init__(
        self, h: int, input_size: int, futr_exog_list: tuple[str, ...] | None = None,
        exclude_insample_y: bool = False, hidden_size: int = 64, dropout: float = 0.1, conv_hidden_size: int = 64,
        top_k: int = 5, num_kernels: int = 6, encoder_layers: int = 2, loss: LossSpec = "mae",
        max_steps: int = 1000, learning_rate: float = 1e-4, num_lr_decays: int = -1,
        early_stop_patience_steps: int = -1, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 64, inference_windows_batch_size: int = 256, start_padding_enabled: bool = False,
        step_size: int = 1, scaler_type: ScalerSpec = "standard", random_seed: int = 1,
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
        self.exclude_insample_y, self.hidden_size, self.dropout = exclude_insample_y, hidden_size, dropout
        self.conv_hidden_size, self.top_k, self.num_kernels = conv_hidden_size, top_k, num_kernels
        self.encoder_layers = encoder_layers
        if top_k > (self.input_size + h) // 2:
            raise UsageError(f"TimesNet top_k ({top_k}) exceeds the {(self.input_size + h) // 2} non-constant "
                             f"frequencies of input_size + h = {self.input_size + h} steps.",
                             hint="lower top_k or use a longer input_size.")

    def _build_network(self) -> nn.Module:
        return _TimesNetNetwork(
            input_size=self.input_size, h=self.h, futr_size=self.futr_exog_size,
            n_outputs=self.loss.outputsize_multiplier, exclude_insample_y=self.exclude_insample_y,
            hidden_size=self.hidden_size, dropout=self.dropout, conv_hidden_size=self.conv_hidden_size,
            top_k=self.top_k, num_kernels=self.num_kernels, encoder_layers=self.encoder_layers,
        )
