"""StemGNN: spectral temporal graph neural network for multivariate forecasting.

A latent correlation layer learns the graph between the series (a GRU over the series, then
self-attention gives an adjacency), whose normalised Laplacian gives Chebyshev graph filters:
the graph Fourier transform. In each of the two blocks a DFT over the Chebyshev orders, GLU
spectral convolutions and the inverse DFT produce a forecast and (first block) a backcast that
feeds the second. A port of neuralforecast 3.3.0's `StemGNN`, quirks included (the zeroth
Chebyshev term is zero, as in the authors' code; the adjacency is the mean over the batch).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, dropout, irfft, linear, rfft, stack, where
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision
from modreg.runtime.models.multivariate import MultivariateForecaster, PanelBatch
from modreg.runtime.nn import init

__all__ = ["StemGNN", "chebyshev_filters", "full_spectrum", "normalized_laplacian"]

_CHEB_ORDERS = 4  # Chebyshev terms T0..T3, fixed in the reference


# ----- Graph pieces -----
def _leaky_relu(x: Tensor, slope: float) -> Tensor:
    """max(x, 0) + slope * min(x, 0)."""
    return where(x.data > 0, x, x * slope)


def normalized_laplacian(attention: Tensor) -> Tensor:
    """(N, N) adjacency -> D^-1/2 (D - (A + A^T) / 2) D^-1/2, D the row sums of A (before symmetrising)."""
    n = attention.shape[0]
    degree = attention.sum(axis=1)  # (N,)
    symmetric = (attention + attention.T) * 0.5
    inv_sqrt = 1.0 / (degree.sqrt() + 1e-7)
    return (degree.reshape(n, 1) * np.eye(n) - symmetric) * inv_sqrt.reshape(n, 1) * inv_sqrt.reshape(1, n)


def chebyshev_filters(laplacian: Tensor) -> Tensor:
    """(N, N) Laplacian -> (4, N, N) Chebyshev terms by T_k = 2 L T_{k-1} - T_{k-2}, starting from T0 = 0.

    The reference (and the authors' code) starts from a zero matrix rather than the identity,
    so the terms are 0, L, 2L^2, 4L^3 - L.
    """
    terms = [Tensor(np.zeros(laplacian.shape, dtype=laplacian.dtype)), laplacian]
    while len(terms) < _CHEB_ORDERS:
        terms.append(2.0 * (laplacian @ terms[-1]) - terms[-2])
    return stack(terms)


def full_spectrum(real: Tensor, imag: Tensor, n: int, axis: int) -> tuple[Tensor, Tensor]:
    """A real signal's rfft bins -> all n DFT bins (bin n - k is the conjugate of bin k)."""
    mirror = np.arange((n + 1) // 2 - 1, 0, -1)
    index = (slice(None),) * (axis % real.ndim) + (mirror,)
    return concat([real, real[index]], axis=axis), concat([imag, -imag[index]], axis=axis)


class _LeakyReLU(nn.Module):
    """LeakyReLU as a layer (PyTorch's default slope 0.01)."""

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = slope

    def forward(self, x: Tensor) -> Tensor:
        return _leaky_relu(x, self.slope)


# ----- Blocks -----
class _GLU(nn.Module):
    """Gated linear unit: linear_left(x) * sigmoid(linear_right(x))."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear_left = nn.Linear(in_features, out_features)
        self.linear_right = nn.Linear(in_features, out_features)

    def forward(self, x: Tensor, rows: slice | None = None) -> Tensor:
        """x (..., in) -> (..., out), or only the output features `rows` (the same values, less work)."""
        left, right = self.linear_left, self.linear_right
        if rows is None:
            return left(x) * right(x).sigmoid()
        return linear(x, left.weight[rows], left.bias[rows]) * linear(x, right.weight[rows], right.bias[rows]).sigmoid()


class _StockBlock(nn.Module):
    """One StemGNN block: GFT -> DFT -> GLU spectral convolutions -> IDFT -> graph conv -> forecast (+ backcast).

    Shapes: x (B, N, L) and the Chebyshev filters (4, N, N) -> forecast (B, N, L) and, in the
    first block, the backcast (B, N, L).
    """

    def __init__(self, time_step: int, multi_layer: int, stack_cnt: int) -> None:
        super().__init__()
        self.time_step, self.multi, self.stack_cnt = time_step, multi_layer, stack_cnt
        width = time_step * multi_layer
        self.weight = nn.Parameter(init.xavier_normal((1, _CHEB_ORDERS, 1, width, width)))  # [1, K, 1, in, out]
        self.forecast = nn.Linear(width, width)
        self.forecast_result = nn.Linear(width, time_step)
        if stack_cnt == 0:
            self.backcast = nn.Linear(width, time_step)
        self.backcast_short_cut = nn.Linear(time_step, time_step)  # kept (unused after block 0) as in the reference
        spectral = time_step * _CHEB_ORDERS * multi_layer
        sizes = [time_step * _CHEB_ORDERS] * 2 + [spectral] * 4
        self.GLUs = nn.ModuleList([_GLU(size, spectral) for size in sizes])  # real, imag, real, imag, ...

    def spectral_sequence_cell(self, gfted: Tensor) -> Tensor:
        """(B, N, 4, L) graph-spectral input -> DFT over the 4 orders -> GLUs -> IDFT -> (B, N, 4, multi * L)."""
        batch, nodes, orders, _ = gfted.shape
        real, imag = full_spectrum(*rfft(gfted, axis=2), n=orders, axis=2)
        real, imag = real.reshape(batch, nodes, -1), imag.reshape(batch, nodes, -1)  # (B, N, 4L)
        for i in range(2):
            real, imag = self.GLUs[2 * i](real), self.GLUs[2 * i + 1](imag)
        # The inverse DFT over the 4 orders reads the real parts of bins 0-2 and the imaginary part
        # of bin 1 only, so the last GLUs compute just those features (the same values and gradients
        # for a fifth less work); the imaginary parts of bins 0 and 2, which it ignores, are zeros.
        width = real.shape[-1] // orders  # multi*L
        real = self.GLUs[4](real, slice(0, 3 * width)).reshape(batch, nodes, 3, width)
        imag = self.GLUs[5](imag, slice(width, 2 * width)).reshape(batch, nodes, 1, width)
        zero = Tensor(np.zeros(imag.shape, dtype=imag.dtype))
        return irfft(real, concat([zero, imag, zero], axis=2), n=orders, axis=2)  # (B, N, 4, multi*L)

    def forward(self, x: Tensor, filters: Tensor) -> tuple[Tensor, Tensor | None]:
        batch, nodes, steps = x.shape
        stacked = filters.transpose(1, 0, 2).reshape(nodes * _CHEB_ORDERS, nodes)  # row n*4+k = T_k[n]
        gfted = (stacked @ x).reshape(batch, nodes, _CHEB_ORDERS, steps)  # (B, N, 4, L)
        spectral = self.spectral_sequence_cell(gfted).reshape(batch, nodes, -1)  # (B, N, 4*multi*L)
        width = self.weight.shape[-1]
        igfted = spectral @ self.weight.reshape(_CHEB_ORDERS * width, width)  # sum over orders: (B, N, multi*L)
        forecast = self.forecast_result(self.forecast(igfted).sigmoid())
        if self.stack_cnt != 0:
            return forecast, None
        return forecast, (self.backcast(igfted) - self.backcast_short_cut(x)).sigmoid()


class _StemGNNNetwork(nn.Module):
    """Latent correlation layer -> 2 blocks -> the sum of their forecasts -> MLP head, per series.

    Shapes: insample_y (B, L, N) -> (B, h, N, n_outputs).
    """

    def __init__(self, n_series: int, input_size: int, h: int, n_outputs: int, n_stacks: int,
                 multi_layer: int, dropout_rate: float, leaky_rate: float) -> None:
        super().__init__()
        self.h, self.n_outputs = h, n_outputs
        self.dropout_rate, self.leaky_rate = dropout_rate, leaky_rate
        self.weight_key = nn.Parameter(init.xavier_uniform((n_series, 1), gain=1.414))
        self.weight_query = nn.Parameter(init.xavier_uniform((n_series, 1), gain=1.414))
        self.GRU = nn.GRU(input_size, n_series)
        self.stock_block = nn.ModuleList([_StockBlock(input_size, multi_layer, i) for i in range(n_stacks)])
        self.fc = nn.Sequential(nn.Linear(input_size, input_size), _LeakyReLU(),
                                nn.Linear(input_size, h * n_outputs))

    def self_graph_attention(self, hidden: Tensor) -> Tensor:
        """GRU states (B, N, N) -> attention (B, N, N): softmax_j(leaky(key_i + query_j)), with dropout."""
        states = hidden.transpose(0, 2, 1)  # (B, hidden, series): the projections contract the series axis
        key, query = states @ self.weight_key, states @ self.weight_query  # (B, N, 1)
        scores = _leaky_relu(key + query.transpose(0, 2, 1), self.leaky_rate)  # (B, N, N)
        return dropout(scores.softmax(axis=2), self.dropout_rate, self.training)

    def latent_correlation_layer(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, N, L) -> Chebyshev filters (4, N, N) and the symmetric adjacency (N, N)."""
        hidden, _ = self.GRU(x)  # the series are the GRU's sequence: (B, N, N)
        attention = self.self_graph_attention(hidden).mean(axis=0)  # (N, N)
        return chebyshev_filters(normalized_laplacian(attention)), (attention + attention.T) * 0.5

    def forward(self, batch: PanelBatch) -> Tensor:
        return self.forecast(batch.insample_y)

    def forecast(self, insample_y: Tensor) -> Tensor:
        """insample_y (B, L, N) -> (B, h, N, n_outputs)."""
        size, _, nodes = insample_y.shape
        x = insample_y.transpose(0, 2, 1)  # (B, N, L)
        filters, _ = self.latent_correlation_layer(x)
        total = None
        for block in self.stock_block:
            forecast, x = block(x, filters)
            total = forecast if total is None else total + forecast
        out = self.fc(total).reshape(size, nodes, self.h, self.n_outputs)  # (B, N, h * n_outputs) -> (B, N, h, Q)
        return out.transpose(0, 2, 1, 3)  # (B, h, N, Q)


@register_model("StemGNN", category="specialized", capabilities=("multivariate", "multi_step", "batch_processing"))
class StemGNN(MultivariateForecaster):
    """Spectral Temporal Graph Neural Network: a learned graph between the series, GFT and DFT.

    The panel window (B, input_size, N) goes through a GRU over the series and self-attention;
    the attention averaged over the batch is the adjacency (N, N), whose normalised Laplacian
    gives 4 Chebyshev filters (the graph Fourier transform). Each of the two blocks filters its
    input (B, N, L) with them, takes the DFT over the 4 filter orders, applies three GLU layers
    to the real and to the imaginary parts (width 4 * multi_layer * L), the inverse DFT and a
    learned graph convolution (4, multi_layer * L, multi_layer * L), and outputs a forecast; the
    first block also outputs a backcast that is the second block's input. The forecasts' sum
    passes an MLP (Linear(L, L), LeakyReLU, Linear(L, h * n_outputs)) per series: (B, h, N, n_outputs).

    Args:
        n_stacks: number of blocks; neuralforecast supports only 2.
        multi_layer: width multiplier of the spectral GLU layers and the graph convolution.
        dropout_rate: dropout on the attention (the learned adjacency) while training.
        leaky_rate: negative slope of the LeakyReLU on the attention scores.

    References:
        Cao, D., Wang, Y., Duan, J., Zhang, C., Zhu, X., Huang, C., Tong, Y., Xu, B., Bai, J.,
        Tong, J., Zhang, Q. (2020). "Spectral Temporal Graph Neural Network for Multivariate
        Time-series Forecasting". NeurIPS 2020. https://arxiv.org/abs/2103.07719
    """

    EXOGENOUS_FUTR: ClassVar[bool] = False
    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "multi_layer": {"minimum": 1},
        "dropout_rate": {"minimum": 0, "exclusiveMaximum": 1},
    }

    def __init__(
        self, h: int, input_size: int, n_series: int | None = None, n_stacks: Literal[2] = 2, multi_layer: int = 5,
        dropout_rate: float = 0.5, leaky_rate: float = 0.2, loss: LossSpec = "mae", max_steps: int = 1000,
        learning_rate: float = 1e-3, num_lr_decays: int = 3, early_stop_patience_steps: int = -1,
        val_check_steps: int = 100, batch_size: int = 32, windows_batch_size: int = 32,
        inference_windows_batch_size: int = 32, start_padding_enabled: bool = False, step_size: int = 1,
        scaler_type: ScalerSpec = "robust", random_seed: int = 1, gradient_clip_val: float | None = None,
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
        self.n_stacks, self.multi_layer = n_stacks, multi_layer
        self.dropout_rate, self.leaky_rate = dropout_rate, leaky_rate

    def _build_network(self) -> nn.Module:
        return _StemGNNNetwork(self.series_count, self.input_size, self.h, self.loss.outputsize_multiplier,
                               self.n_stacks, self.multi_layer, self.dropout_rate, self.leaky_rate)
