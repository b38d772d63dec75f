"""NHITS: NBEATS-style doubly residual stacks with multi-rate input pooling and interpolated forecasts.

Each stack pools its input at its own rate (`n_pool_kernel_size`) and emits only
max(h // r, 1) forecast knots (r = `n_freq_downsample`), interpolated to the horizon, so the
first stacks model low frequencies and the last ones the detail. A port of neuralforecast
3.3.0's `NHITS`, with historical, future and static exogenous inputs.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar, Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, interpolate_linear, max_pool1d
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster
from modreg.runtime.models._theta_mlp import ActivationName, ThetaMLP

__all__ = ["NHITS", "avg_pool_matrix", "interpolation_matrix"]

PoolingMode = Literal["MaxPool1d", "AvgPool1d"]
InterpolationMode = Literal["linear", "nearest", "cubic"]
_CUBIC_A = -0.75  # PyTorch's bicubic convolution coefficient


# ----- Fixed resampling maps -----
@functools.lru_cache(maxsize=32)
def avg_pool_matrix(length: int, kernel: int) -> np.ndarray:
    """(length, ceil(length / kernel)) weights of AvgPool1d(kernel, stride=kernel, ceil_mode=True).

    The last, partial window averages only the points it covers, as PyTorch does without padding.
    """
    n_out = math.ceil(length / kernel)
    matrix = np.zeros((length, n_out))
    for j in range(n_out):
        start, stop = j * kernel, min((j + 1) * kernel, length)
        matrix[start:stop, j] = 1.0 / (stop - start)
    return _read_only(matrix)


def _read_only(matrix: np.ndarray) -> np.ndarray:
    matrix.setflags(write=False)  # cached and shared
    return matrix


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """(n, 4) cubic-convolution weights of the taps at offsets -1, 0, 1, 2 for fractions t."""
    a = _CUBIC_A

    def near(x: np.ndarray) -> np.ndarray:
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)


@functools.lru_cache(maxsize=32)
def interpolation_matrix(n_knots: int, size: int, mode: str) -> np.ndarray:
    """(n_knots, size) weights of F.interpolate(knots, size, mode) with align_corners=False.

    "linear" and "nearest" follow PyTorch's 1-D modes; "cubic" is its bicubic kernel (a = -0.75,
    border taps clamped) along the knots, which is what neuralforecast's bicubic call reduces to.
    """
    return _read_only(_interpolation_weights(n_knots, size, mode))


def _interpolation_weights(n_knots: int, size: int, mode: str) -> np.ndarray:
    scale, out = n_knots / size, np.arange(size)
    matrix = np.zeros((n_knots, size))
    if mode == "nearest":
        matrix[np.minimum(np.floor(out * scale).astype(int), n_knots - 1), out] = 1.0
        return matrix
    src = (out + 0.5) * scale - 0.5
    if mode == "linear":
        src = np.maximum(src, 0.0)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_knots - 1)
        np.add.at(matrix, (lo, out), 1.0 - (src - lo))
        np.add.at(matrix, (hi, out), src - lo)
        return matrix
    base = np.floor(src).astype(int)
    taps = np.clip(base[:, None] + np.arange(-1, 3)[None, :], 0, n_knots - 1)  # (size, 4)
    np.add.at(matrix, (taps, np.broadcast_to(out[:, None], taps.shape)), _cubic_weights(src - base))
    return matrix


# ----- Blocks -----
class _Pooling(nn.Module):
    """MaxPool1d / AvgPool1d with kernel = stride = `kernel` and ceil_mode=True over the last axis."""

    def __init__(self, kernel: int, mode: str) -> None:
        super().__init__()
        self.kernel, self.mode = kernel, mode

    def forward(self, x: Tensor) -> Tensor:  # (B, C, L) -> (B, C, ceil(L / kernel))
        if self.kernel == 1:
            return x
        if self.mode == "MaxPool1d":
            return max_pool1d(x, self.kernel, self.kernel, ceil_mode=True)
        return x @ avg_pool_matrix(x.shape[-1], self.kernel).astype(x.dtype)


class _KnotBasis(nn.Module):
    """theta = [backcast (L) | knots (Q * K), Q-major]; the knots are interpolated to h steps."""

    def __init__(self, backcast_size: int, forecast_size: int, n_knots: int, n_outputs: int, mode: str) -> None:
        super().__init__()
        self.backcast_size, self.forecast_size, self.mode = backcast_size, forecast_size, mode
        self.n_knots, self.n_outputs = n_knots, n_outputs

    def forward(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        return theta[:, : self.backcast_size], self.forecast(theta[:, self.backcast_size:])  # (B, L), (B, h, Q)

    def forecast(self, coefficients: Tensor) -> Tensor:
        """theta's knots (B, Q * K) -> the forecast (B, h, Q)."""
        knots = coefficients.reshape(len(coefficients), self.n_outputs, self.n_knots)  # (B, Q, K)
        if self.mode == "linear":
            forecast = interpolate_linear(knots, self.forecast_size)
        else:
            forecast = knots @ interpolation_matrix(self.n_knots, self.forecast_size, self.mode).astype(knots.dtype)
        return forecast.transpose(0, 2, 1)  # (B, Q, h) -> (B, h, Q)


class _NHITSBlock(nn.Module):
    """Pool [residual | hist exog | futr exog], append static exog, MLP -> theta -> knots -> forecast."""

    def __init__(self, sizes: tuple[int, int, int], kernel: int, pooling_mode: str, theta_mlp: ThetaMLP,
                 basis: _KnotBasis) -> None:
        super().__init__()
        self.hist_size, self.futr_size, self.stat_size = sizes
        self.pooling = _Pooling(kernel, pooling_mode)
        self.layers = theta_mlp
        self.basis = basis

    def forward(self, residuals: Tensor, batch: WindowBatch) -> tuple[Tensor, Tensor]:
        return self.basis(self.layers(self._inputs(residuals, batch)))

    def forecast(self, residuals: Tensor, batch: WindowBatch) -> Tensor:
        """The forecast alone (the last block: its backcast is never read), theta's backcast part not computed."""
        return self.basis.forecast(self.layers(self._inputs(residuals, batch), skip=self.basis.backcast_size))

    def _inputs(self, residuals: Tensor, batch: WindowBatch) -> Tensor:
        size = len(residuals)
        parts = [self.pooling(residuals.unsqueeze(1)).reshape(size, -1)]  # (B, 1, L) -> (B, ceil(L/k))
        for exog, used in ((batch.hist_exog, self.hist_size), (batch.futr_exog, self.futr_size)):
            if used:  # (B, T, C) -> (B, C, T) -> pooled -> (B, T', C) -> (B, T' * C)
                parts.append(self.pooling(exog.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(size, -1))
        if self.stat_size:
            parts.append(batch.stat_exog.reshape(size, -1))
        return concat(parts, axis=1) if len(parts) > 1 else parts[0]


class _NHITSNetwork(nn.Module):
    """NBEATS's doubly residual stacking over NHITS blocks (input read backwards, level = last value)."""

    def __init__(self, blocks: list[_NHITSBlock], exclude_insample_y: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.exclude_insample_y = exclude_insample_y

    def forward(self, batch: WindowBatch) -> Tensor:
        y = batch.insample_y * 0.0 if self.exclude_insample_y else batch.insample_y  # (B, L)
        residuals, mask = y.flip(1), batch.insample_mask.data[:, ::-1]
        forecast = y[:, -1:].unsqueeze(-1)  # (B, 1, 1)
        *blocks, last = self.blocks
        for block in blocks:
            backcast, block_forecast = block(residuals, batch)
            residuals = (residuals - backcast) * mask
            forecast = forecast + block_forecast
        return forecast + last.forecast(residuals, batch)  # (B, h, Q); the last residual is never read


@register_model("NHITS", category="advanced",
                capabilities=("univariate", "multi_step", "batch_processing", "exogenous", "long_horizon"))
class NHITS(WindowForecaster):
    """Neural Hierarchical Interpolation for Time Series: multi-rate pooling and hierarchical interpolation.

    Stack i max-pools (or average-pools) its input with kernel `n_pool_kernel_size[i]`, and its
    MLP emits a backcast over the window and max(h // n_freq_downsample[i], 1) knots per output,
    interpolated to the h steps. Stacks are chained with NBEATS's doubly residual links over the
    window read backwards, and the forecast starts at the window's last value. Shapes: window
    (B, input_size) [+ hist (B, L, X), futr (B, L + h, F), static (B, S)] -> (B, h, n_outputs).

    Args:
        exclude_insample_y: drop the target's past values from the inputs (exogenous only).
        stack_types: the stacks, all "identity" (one entry per stack).
        n_blocks: number of blocks of each stack.
        mlp_units: hidden layers of every block's MLP, as (in, out) pairs.
        n_pool_kernel_size: input pooling kernel of each stack.
        n_freq_downsample: forecast downsampling ratio of each stack (knots = max(h // ratio, 1)).
        pooling_mode: MaxPool1d or AvgPool1d.
        interpolation_mode: linear, nearest or cubic interpolation of the knots.
        dropout_prob_theta: dropout after each hidden activation (0 disables it).
        activation: ReLU, Softplus, Tanh, SELU, LeakyReLU, PReLU or Sigmoid.

    References:
        Challu, C., Olivares, K. G., Oreshkin, B. N., Garza, F., Mergenthaler-Canseco, M.,
        Dubrawski, A. (2023). "NHITS: Neural Hierarchical Interpolation for Time Series
        Forecasting". AAAI 2023. https://arxiv.org/abs/2201.12886
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "stack_types": {"minItems": 1},
        "n_blocks": {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
        "mlp_units": {"minItems": 1},
        "n_pool_kernel_size": {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
        "n_freq_downsample": {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
        "dropout_prob_theta": {"minimum": 0, "exclusiveMaximum": 1},
    }

    def __init__(
        self, h: int, input_size: int, futr_exog_list: tuple[str, ...] | None = None,
        hist_exog_list: tuple[str, ...] | None = None, stat_exog_list: tuple[str, ...] | None = None,
        exclude_insample_y: bool = False, stack_types: tuple[Literal["identity"], ...] = ("identity",) * 3,
        n_blocks: tuple[int, ...] = (1, 1, 1), mlp_units: tuple[tuple[int, int], ...] = ((512, 512),) * 3,
        n_pool_kernel_size: tuple[int, ...] = (2, 2, 1), n_freq_downsample: tuple[int, ...] = (4, 2, 1),
        pooling_mode: PoolingMode = "MaxPool1d", interpolation_mode: InterpolationMode = "linear",
        dropout_prob_theta: float = 0.0, activation: ActivationName = "ReLU", loss: LossSpec = "mae",
        max_steps: int = 1000, learning_rate: float = 1e-3, num_lr_decays: int = 3,
        early_stop_patience_steps: int = -1, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 1024, inference_windows_batch_size: int = -1, start_padding_enabled: bool = False,
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
            futr_exog_list=futr_exog_list, hist_exog_list=hist_exog_list, stat_exog_list=stat_exog_list,
        )
        self.exclude_insample_y = exclude_insample_y
        self.stack_types, self.n_blocks = tuple(stack_types), tuple(n_blocks)
        self.mlp_units, self.n_pool_kernel_size = tuple(mlp_units), tuple(n_pool_kernel_size)
        self.n_freq_downsample, self.pooling_mode = tuple(n_freq_downsample), pooling_mode
        self.interpolation_mode, self.activation = interpolation_mode, activation
        self.dropout_prob_theta = dropout_prob_theta
        self._check_architecture()

    def _check_architecture(self) -> None:
        per_stack = {"n_blocks": self.n_blocks, "n_pool_kernel_size": self.n_pool_kernel_size,
                     "n_freq_downsample": self.n_freq_downsample}
        for name, values in per_stack.items():
            if len(values) != len(self.stack_types):
                raise UsageError(f"NHITS needs one {name} entry per stack: {len(self.stack_types)} stack_types "
                                 f"but {len(values)} {name}.", hint=f"give {name} the length of stack_types.")
        if max(self.n_pool_kernel_size) > self.input_size:
            raise UsageError(f"NHITS pooling kernel {max(self.n_pool_kernel_size)} is longer than input_size "
                             f"{self.input_size}.", hint="use n_pool_kernel_size values <= input_size.")

    def _build_network(self) -> nn.Module:
        blocks = []
        for stack, count in enumerate(self.n_blocks):
            blocks.extend(self._block(stack) for _ in range(count))
        network = _NHITSNetwork(blocks, self.exclude_insample_y)
        network.independent_rows = self.dropout_prob_theta == 0  # repeated windows are merged in training
        return network

    def _block(self, stack: int) -> _NHITSBlock:
        kernel, n_outputs = self.n_pool_kernel_size[stack], self.loss.outputsize_multiplier
        n_knots = max(self.h // self.n_freq_downsample[stack], 1)
        pooled_hist, pooled_futr = math.ceil(self.input_size / kernel), math.ceil((self.input_size + self.h) / kernel)
        sizes = (self.hist_exog_size, self.futr_exog_size, self.stat_exog_size)
        n_inputs = pooled_hist * (1 + sizes[0]) + pooled_futr * sizes[1] + sizes[2]
        mlp = ThetaMLP(n_inputs, self.input_size + n_outputs * n_knots, self.mlp_units, self.activation,
                       self.dropout_prob_theta)
        basis = _KnotBasis(self.input_size, self.h, n_knots, n_outputs, self.interpolation_mode)
        return _NHITSBlock(sizes, kernel, self.pooling_mode, mlp, basis)
