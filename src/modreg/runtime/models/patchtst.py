"""PatchTST: a channel-independent Transformer over patches of the series (Nie et al., 2023).

The window is normalised by RevIN (reversible instance normalisation: by default minus its
last value, divided by its standard deviation), padded at the end with `stride` copies of its
last value, and cut into overlapping patches of `patch_len` points every `stride` points. Each
patch is one token: a linear embedding plus a learned positional embedding feeds a Transformer
encoder whose attention is residual (each layer adds the previous layer's pre-softmax scores to
its own) with BatchNorm after each sublayer; a flatten head maps all tokens to the horizon,
which RevIN maps back to the window's scale. Every series is processed alone with shared
weights (channel independence). A port of neuralforecast 3.3.0's `PatchTST`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster
from modreg.runtime.nn import init

__all__ = ["PatchTST", "make_patches", "patch_count"]

ActivationName = Literal["gelu", "relu"]


# ----- Patching -----
def patch_count(input_size: int, patch_len: int, stride: int) -> int:
    """Patches of a window of `input_size` points padded with `stride` copies of its last value."""
    return (input_size - patch_len) // stride + 2


def make_patches(z: Tensor, patch_len: int, stride: int) -> Tensor:
    """(B, L) -> (B, P, patch_len): replicate-pad `stride` points at the end, then unfold.

    As PyTorch's ReplicationPad1d((0, stride)) followed by `unfold(-1, patch_len, stride)`.
    """
    padded = concat([z, z[:, -1:].expand(len(z), stride)], axis=1)  # (B, L + stride)
    starts = np.arange(patch_count(z.shape[1], patch_len, stride)) * stride
    return padded[:, starts[:, None] + np.arange(patch_len)]  # (B, P, patch_len)


# ----- Blocks -----
class _FeedForward(nn.Module):
    """Linear(hidden -> linear_hidden) -> GELU/ReLU -> dropout -> Linear(linear_hidden -> hidden)."""

    def __init__(self, hidden_size: int, linear_hidden_size: int, activation: str, dropout: float) -> None:
        super().__init__()
        self.lin_in = nn.Linear(hidden_size, linear_hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.lin_out = nn.Linear(linear_hidden_size, hidden_size)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        x = self.lin_in(x)
        return self.lin_out(self.dropout(x.gelu() if self.activation == "gelu" else x.relu()))


class _TSTEncoderLayer(nn.Module):
    """Residual attention and a feed-forward sublayer, each added back and batch-normalised
    (after the sublayer, or before it with `pre_norm`)."""

    def __init__(self, hidden_size: int, n_heads: int, linear_hidden_size: int, attn_dropout: float, dropout: float,
                 activation: str, pre_norm: bool) -> None:
        super().__init__()
        self.self_attn = nn.ResidualMultiHeadAttention(hidden_size, n_heads, attn_dropout, proj_dropout=dropout)
        self.dropout_attn = nn.Dropout(dropout)
        self.norm_attn = nn.BatchNorm1d(hidden_size)
        self.ff = _FeedForward(hidden_size, linear_hidden_size, activation, dropout)
        self.dropout_ffn = nn.Dropout(dropout)
        self.norm_ffn = nn.BatchNorm1d(hidden_size)
        self.pre_norm = pre_norm

    def forward(self, src: Tensor, prev: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.pre_norm:
            src = _batch_norm(self.norm_attn, src)
        attended, scores = self.self_attn(src, prev, then_dropout=self.dropout_attn.p)  # dropout_attn drawn there
        src = src + attended
        src = _batch_norm(self.norm_ffn if self.pre_norm else self.norm_attn, src)
        src = src + self.dropout_ffn(self.ff(src))
        return (src if self.pre_norm else _batch_norm(self.norm_ffn, src)), scores


def _batch_norm(norm: nn.Module, x: Tensor) -> Tensor:
    """BatchNorm1d over the channels of (B, P, hidden): statistics over every batch row and patch."""
    return norm(x.reshape(-1, x.shape[-1])).reshape(x.shape)


class _PatchTSTNetwork(nn.Module):
    """RevIN -> patches -> W_P + W_pos -> encoder layers -> flatten head -> RevIN⁻¹."""

    def __init__(self, *, input_size: int, h: int, n_outputs: int, patch_len: int, stride: int, encoder_layers: int,
                 n_heads: int, hidden_size: int, linear_hidden_size: int, dropout: float, head_dropout: float,
                 attn_dropout: float, revin: bool, revin_affine: bool, revin_subtract_last: bool, activation: str,
                 res_attention: bool, batch_normalization: bool, learn_pos_embed: bool) -> None:
        super().__init__()
        self.h, self.n_outputs, self.patch_len, self.stride = h, n_outputs, patch_len, stride
        self.res_attention = res_attention
        n_patches = patch_count(input_size, patch_len, stride)
        self.revin_layer = nn.RevIN(1, affine=revin_affine, subtract_last=revin_subtract_last) if revin else None
        self.W_P = nn.Linear(patch_len, hidden_size)
        self.W_pos = nn.Parameter(init.uniform((n_patches, hidden_size), 0.02), requires_grad=learn_pos_embed)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList([
            _TSTEncoderLayer(hidden_size, n_heads, linear_hidden_size, attn_dropout, dropout, activation,
                             batch_normalization) for _ in range(encoder_layers)])
        self.head = nn.Linear(hidden_size * n_patches, h * n_outputs)
        self.head_dropout = nn.Dropout(head_dropout)

    def num_parameters(self) -> int:
        """Every scalar, the frozen attention scales too: neuralforecast's count (404,623 at defaults)."""
        return sum(p.size for p in self.parameters())

    def forward(self, batch: WindowBatch) -> Tensor:
        z = batch.insample_y  # (B, L)
        if self.revin_layer is not None:
            z = self.revin_layer.norm(z.unsqueeze(-1)).squeeze(-1)  # RevIN over (B, L, 1)
        x = self.dropout(self.W_P(make_patches(z, self.patch_len, self.stride)) + self.W_pos)  # (B, P, hidden)
        scores = None
        for layer in self.layers:
            x, layer_scores = layer(x, scores)
            scores = layer_scores if self.res_attention else None
        b, n_patches, hidden = x.shape  # flatten hidden-major, as (B, hidden, P) -> (B, hidden * P)
        y = self.head_dropout(self.head(x.transpose(0, 2, 1).reshape(b, hidden * n_patches)))  # (B, h * Q)
        if self.revin_layer is not None:
            y = self.revin_layer.denorm(y.unsqueeze(-1)).squeeze(-1)
        return y.reshape(b, self.h, self.n_outputs)  # (B, h, Q)


@register_model("PatchTST", category="transformer",
                capabilities=("univariate", "multi_step", "batch_processing", "long_horizon"))
class PatchTST(WindowForecaster):
    """Patch Time Series Transformer: patches as tokens, channel independence, RevIN, residual attention.

    Shapes: window (B, input_size) -> RevIN -> patches (B, P, patch_len), P = (input_size -
    patch_len) // stride + 2 -> tokens (B, P, hidden_size) -> encoder -> (B, hidden_size * P) ->
    (B, h * n_outputs) -> RevIN⁻¹ -> (B, h, n_outputs).

    Args:
        encoder_layers: Transformer encoder layers.
        n_heads: attention heads (hidden_size must be divisible by it).
        hidden_size: token width.
        linear_hidden_size: width of the feed-forward sublayer.
        dropout: dropout of the embedded tokens, the attention output, the residual branches and
            the feed-forward sublayer.
        fc_dropout: dropout of neuralforecast's pretraining head, which it never builds; kept for
            its parameter list, with no effect.
        head_dropout: dropout after the flatten head.
        attn_dropout: dropout on the attention weights.
        patch_len: points per patch (capped at input_size + stride, as neuralforecast does).
        stride: points between the starts of consecutive patches.
        revin: normalise each window with RevIN and map the forecast back.
        revin_affine: learn RevIN's per-channel scale and shift.
        revin_subtract_last: centre on the last value instead of the mean.
        activation: gelu or relu in the feed-forward sublayer.
        res_attention: add each layer's pre-softmax scores to the next layer's (RealFormer).
        batch_normalization: apply each BatchNorm before its sublayer instead of after (pre-norm).
        learn_pos_embed: learn the positional embedding (else it stays at its random start).

    References:
        Nie, Y., Nguyen, N. H., Sinthong, P., Kalagnanam, J. (2023). "A Time Series is Worth 64
        Words: Long-term Forecasting with Transformers". ICLR 2023. https://arxiv.org/abs/2211.14730
        Kim, T. et al. (2022). "Reversible Instance Normalization for Accurate Time-Series
        Forecasting against Distribution Shift". ICLR 2022.
        He, R., Ravula, A., Kanagal, B., Ainslie, J. (2020). "RealFormer: Transformer Likes
        Residual Attention". https://arxiv.org/abs/2012.11747
    """

    EXOGENOUS_FUTR: ClassVar[bool] = False
    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "encoder_layers": {"minimum": 1},
        "n_heads": {"minimum": 1},
        "hidden_size": {"minimum": 1},
        "linear_hidden_size": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "fc_dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "head_dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "attn_dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "patch_len": {"minimum": 1},
        "stride": {"minimum": 1},
    }

    def __init__(
        self, h: int, input_size: int, encoder_layers: int = 3, n_heads: int = 16, hidden_size: int = 128,
        linear_hidden_size: int = 256, dropout: float = 0.2, fc_dropout: float = 0.2, head_dropout: float = 0.0,
        attn_dropout: float = 0.0, patch_len: int = 16, stride: int = 8, revin: bool = True,
        revin_affine: bool = False, revin_subtract_last: bool = True, activation: ActivationName = "gelu",
        res_attention: bool = True, batch_normalization: bool = False, learn_pos_embed: bool = True,
        loss: LossSpec = "mae", max_steps: int = 5000, learning_rate: float = 1e-4, num_lr_decays: int = -1,
        early_stop_patience_steps: int = -1, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 1024, inference_windows_batch_size: int = 1024,
        start_padding_enabled: bool = False, step_size: int = 1, scaler_type: ScalerSpec = "identity",
        random_seed: int = 1, gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam",
        precision: Precision = "float32",
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
        )
        self.encoder_layers, self.n_heads, self.hidden_size = encoder_layers, n_heads, hidden_size
        self.linear_hidden_size, self.dropout, self.fc_dropout = linear_hidden_size, dropout, fc_dropout
        self.head_dropout, self.attn_dropout, self.patch_len, self.stride = head_dropout, attn_dropout, patch_len, stride
        self.revin, self.revin_affine, self.revin_subtract_last = revin, revin_affine, revin_subtract_last
        self.activation, self.res_attention = activation, res_attention
        self.batch_normalization, self.learn_pos_embed = batch_normalization, learn_pos_embed
        if hidden_size % n_heads:
            raise UsageError(f"PatchTST hidden_size ({hidden_size}) must be divisible by n_heads ({n_heads}).",
                             hint="pick n_heads among the divisors of hidden_size.")

    def _build_network(self) -> nn.Module:
        return _PatchTSTNetwork(
            input_size=self.input_size, h=self.h, n_outputs=self.loss.outputsize_multiplier,
            patch_len=min(self.patch_len, self.input_size + self.stride), stride=self.stride,
            encoder_layers=self.encoder_layers, n_heads=self.n_heads, hidden_size=self.hidden_size,
            linear_hidden_size=self.linear_hidden_size, dropout=self.dropout, head_dropout=self.head_dropout,
            attn_dropout=self.attn_dropout, revin=self.revin, revin_affine=self.revin_affine,
            revin_subtract_last=self.revin_subtract_last, activation=self.activation,
            res_attention=self.res_attention, batch_normalization=self.batch_normalization,
            learn_pos_embed=self.learn_pos_embed,
        )
