"""BiTCN: a backward dilated TCN over the past and a forward one over the future covariates.

The window (with its historical, static and input-part future covariates) is embedded per
step and passes a stack of dilated convolutions that look back in time; the future
covariates over window and horizon pass a second stack that looks forward. A dense layer
maps the window's time axis to the horizon, and a linear output layer reads, per horizon
step, both encodings. A port of neuralforecast 3.3.0's `BiTCN` (point loss by default; the
paper trains it with a Student-t likelihood).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, linear, pad
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster

__all__ = ["BiTCN"]

_KERNEL_SIZE = 2  # fixed in neuralforecast


def tcn_layers(length: int, kernel_size: int = _KERNEL_SIZE) -> int:
    """Dilated layers (dilation 2^i) whose receptive field covers `length` steps: ceil(log2((length - 1) / (k - 1) + 1))."""
    return math.ceil(math.log2((length - 1) / (kernel_size - 1) + 1))


# ----- Blocks -----
def _shift(x: Tensor, offset: int) -> Tensor:
    """(B, T, C) -> y with y[:, t] = x[:, t + offset], zeros where t + offset falls outside [0, T)."""
    if offset < 0:
        return pad(x[:, :offset], ((0, 0), (-offset, 0), (0, 0)))
    return pad(x[:, offset:], ((0, 0), (0, offset), (0, 0))) if offset else x


class _OneSidedConv1d(nn.Conv1d):
    """Dilated Conv1d over channel-last (B, T, C_in) inputs, zero-padded on one side only.

    "backward" (left padding) makes step t read steps t - (K - 1 - k) * dilation, "forward"
    (right padding) steps t + k * dilation, for the taps k = 0..K-1. The weights keep PyTorch's
    (C_out, C_in, K) shape and initialisation; the taps run as one matrix product over the
    shifted copies of the input stacked along the channels (no per-window loops).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1,
                 mode: str = "backward") -> None:
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        reach = kernel_size - 1 if mode == "backward" else 0
        self.offsets = tuple((k - reach) * dilation for k in range(kernel_size))

    def forward(self, x: Tensor) -> Tensor:  # (B, T, C_in) -> (B, T, C_out)
        c_out, c_in, k = self.weight.shape
        taps = [_shift(x, offset) for offset in self.offsets]
        stacked = concat(taps, axis=2) if k > 1 else taps[0]  # (B, T, K * C_in), tap-major
        weight = self.weight.transpose(0, 2, 1).reshape(c_out, k * c_in)  # (C_out, C_in, K) -> (C_out, K * C_in)
        return linear(stacked, weight, self.bias)


class _TCNCell(nn.Module):
    """h -> dropout(gelu(conv1(h))) -> 1x1 conv2 -> [update | output]; returns (h + update, output)."""

    def __init__(self, hidden_size: int, dilation: int, mode: str, dropout: float) -> None:
        super().__init__()
        self.conv1 = _OneSidedConv1d(hidden_size, hidden_size, _KERNEL_SIZE, dilation, mode)
        self.conv2 = _OneSidedConv1d(hidden_size, 2 * hidden_size, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, hidden: Tensor) -> tuple[Tensor, Tensor]:  # (B, T, H) -> (B, T, H), (B, T, H)
        both = self.conv2(self.drop(self.conv1(hidden).gelu()))  # (B, T, 2H)
        size = hidden.shape[2]
        return hidden + both[:, :, :size], both[:, :, size:]


class _TCN(nn.Module):
    """A stack of TCN cells with dilations 1, 2, 4, ...; returns the sum of the cells' outputs."""

    def __init__(self, hidden_size: int, n_layers: int, mode: str, dropout: float) -> None:
        super().__init__()
        self.cells = nn.ModuleList([_TCNCell(hidden_size, 2**i, mode, dropout) for i in range(n_layers)])

    def forward(self, x: Tensor) -> Tensor:  # (B, T, H) -> (B, T, H)
        outputs = []
        for cell in self.cells:
            x, out = cell(x)
            outputs.append(out)
        return sum(outputs[1:], outputs[0])


class _BiTCNNetwork(nn.Module):
    """Backward TCN over [y | hist | static | futr] (L steps), forward TCN over futr (L + h steps), dense heads.

    Time series stay channel-last, (B, T, C), so every convolution tap is one matrix product.
    """

    def __init__(self, *, h: int, input_size: int, sizes: tuple[int, int, int], n_outputs: int, hidden_size: int,
                 dropout: float, exclude_insample_y: bool) -> None:
        super().__init__()
        hist, futr, stat = sizes
        self.exclude_insample_y = exclude_insample_y
        self.lin_hist = nn.Linear(1 + hist + stat + futr, hidden_size)
        self.drop_hist = nn.Dropout(dropout)
        self.net_bwd = _TCN(hidden_size, tcn_layers(input_size), "backward", dropout)
        if futr:
            self.lin_futr = nn.Linear(futr, hidden_size)
            self.drop_futr = nn.Dropout(dropout)
            self.net_fwd = _TCN(hidden_size, tcn_layers(input_size + h), "forward", dropout)
        self.drop_temporal = nn.Dropout(dropout)
        self.temporal_lin1 = nn.Linear(input_size, hidden_size)
        self.temporal_lin2 = nn.Linear(hidden_size, h)
        self.output_lin = nn.Linear((3 if futr else 1) * hidden_size, n_outputs)

    def forward(self, batch: WindowBatch) -> Tensor:
        y = batch.insample_y * 0.0 if self.exclude_insample_y else batch.insample_y
        size, length = y.shape
        parts = [y.unsqueeze(-1)]  # (B, L, 1)
        if batch.hist_exog is not None:
            parts.append(batch.hist_exog)  # (B, L, X)
        if batch.stat_exog is not None:
            stat = batch.stat_exog
            parts.append(stat.unsqueeze(1).expand(size, length, stat.shape[1]))  # (B, S) -> (B, L, S)
        futr = batch.futr_exog
        if futr is not None:
            parts.append(futr[:, :length])  # (B, L, F)
            ahead = self.net_fwd(self.drop_futr(self.lin_futr(futr)))  # (B, L + h, F) -> (B, L + h, H)
        x = concat(parts, axis=2) if len(parts) > 1 else parts[0]  # (B, L, 1 + X + S + F)
        x = self.net_bwd(self.drop_hist(self.lin_hist(x)))  # (B, L, H)
        if futr is not None:
            x = concat([x, ahead[:, :length]], axis=2)  # (B, L, 2H)
        x = self.temporal_lin1(x.swapaxes(1, 2))  # (B, C, L) -> (B, C, H): the window's steps to the horizon
        x = self.temporal_lin2(self.drop_temporal(x.gelu())).swapaxes(1, 2)  # (B, C, h) -> (B, h, C)
        if futr is not None:
            x = concat([x, ahead[:, length:]], axis=2)  # (B, h, 3H)
        return self.output_lin(x)  # (B, h, n_outputs)


@register_model("BiTCN", category="recurrent",
                capabilities=("univariate", "multi_step", "batch_processing", "exogenous"))
class BiTCN(WindowForecaster):
    """Bidirectional temporal convolutional network.

    Each step of the window, [y | historical | static | future covariates], is embedded to
    `hidden_size` channels and encoded by dilated kernel-2 convolutions looking back (dilations
    2^i, enough layers to cover input_size); with future covariates, their embedding over the
    window and horizon is encoded by the same kind of stack looking forward. Each TCN cell is
    conv -> GELU -> dropout -> 1x1 conv split into a residual update and an output, summed over
    cells. A dense layer maps the L encoded steps to h, and a linear layer reads each horizon
    step's [backward | forward (window part) | forward (horizon)] features. Shapes: window
    (B, input_size) [+ hist (B, L, X), futr (B, L + h, F), static (B, S)] -> (B, h, n_outputs).

    Args:
        hidden_size: channels of the embeddings and of both TCNs.
        dropout: dropout after the embeddings, inside each TCN cell and in the temporal layer.
        exclude_insample_y: drop the target's past values from the inputs (exogenous only).

    References:
        Sprangers, O., Schelter, S., de Rijke, M. (2023). "Parameter-efficient deep probabilistic
        forecasting". International Journal of Forecasting 39(1).
        https://doi.org/10.1016/j.ijforecast.2021.11.011
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 2},
        "hidden_size": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
    }

    def __init__(
        self, h: int, input_size: int, hidden_size: int = 16, dropout: float = 0.5,
        futr_exog_list: tuple[str, ...] | None = None, hist_exog_list: tuple[str, ...] | None = None,
        stat_exog_list: tuple[str, ...] | None = None, exclude_insample_y: bool = False, loss: LossSpec = "mae",
        max_steps: int = 1000, learning_rate: float = 1e-3, num_lr_decays: int = -1,
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
            futr_exog_list=futr_exog_list, hist_exog_list=hist_exog_list, stat_exog_list=stat_exog_list,
        )
        self.hidden_size, self.dropout, self.exclude_insample_y = hidden_size, dropout, exclude_insample_y

    def _build_network(self) -> nn.Module:
        network = _BiTCNNetwork(
            h=self.h, input_size=self.input_size, sizes=(self.hist_exog_size, self.futr_exog_size, self.stat_exog_size),
            n_outputs=self.loss.outputsize_multiplier, hidden_size=self.hidden_size, dropout=self.dropout,
            exclude_insample_y=self.exclude_insample_y,
        )
        network.independent_rows = self.dropout == 0  # repeated windows are merged in training
        return network
