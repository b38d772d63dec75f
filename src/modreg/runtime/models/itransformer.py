"""iTransformer: the Transformer inverted, each variate's whole window is one token.

Instead of one token per time step, every series' input window is embedded as a single token
(Linear from `input_size` to `hidden_size`), so self-attention runs across the series and
learns how they relate, while the feed-forward network and LayerNorm act on each series'
representation. Windows are normalised per series (mean and standard deviation, the
Non-stationary Transformer's normalisation) and the forecast de-normalised. A port of
neuralforecast 3.3.0's `iTransformer`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision
from modreg.runtime.models.multivariate import MultivariateForecaster, PanelBatch

__all__ = ["iTransformer"]


class _DataEmbeddingInverted(nn.Module):
    """(B, L, N) -> (B, N, hidden_size): a Linear over each series' window, then dropout."""

    def __init__(self, input_size: int, hidden_size: int, dropout: float) -> None:
        super().__init__()
        self.value_embedding = nn.Linear(input_size, hidden_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.value_embedding(x.transpose(0, 2, 1)))


class _EncoderLayer(nn.Module):
    """Post-norm Transformer encoder layer: x = norm1(x + attn(x)); norm2(x + FFN(x)), FFN = 1x1 convs with GELU."""

    def __init__(self, hidden_size: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.attention = nn.MultiHeadAttention(hidden_size, n_heads, dropout)
        self.conv1 = nn.Linear(hidden_size, d_ff)  # Conv1d(kernel_size=1) over the tokens
        self.conv2 = nn.Linear(d_ff, hidden_size)
        self.norm1 = nn.LayerNorm(hidden_size)
        self.norm2 = nn.LayerNorm(hidden_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:  # (B, N, E) -> (B, N, E)
        x = self.norm1(x + self.dropout(self.attention(x, x, x)))
        y = self.dropout(self.conv1(x).gelu())
        return self.norm2(x + self.dropout(self.conv2(y)))


class _ITransformerNetwork(nn.Module):
    """Normalise per series -> embed each series as a token -> encoder across tokens -> Linear(E, h * Q)."""

    def __init__(self, input_size: int, h: int, n_outputs: int, hidden_size: int, n_heads: int, e_layers: int,
                 d_ff: int, dropout: float, use_norm: bool) -> None:
        super().__init__()
        self.h, self.n_outputs, self.use_norm = h, n_outputs, use_norm
        self.enc_embedding = _DataEmbeddingInverted(input_size, hidden_size, dropout)
        self.attn_layers = nn.ModuleList(_EncoderLayer(hidden_size, n_heads, d_ff, dropout) for _ in range(e_layers))
        self.norm = nn.LayerNorm(hidden_size)
        self.projector = nn.Linear(hidden_size, h * n_outputs)

    def forward(self, batch: PanelBatch) -> Tensor:
        x = batch.insample_y  # (B, L, N)
        size, _, n_series = x.shape
        if self.use_norm:  # statistics of the data itself: constants for the gradient
            means = x.data.mean(axis=1, keepdims=True)
            stdev = np.sqrt(x.data.var(axis=1, keepdims=True) + 1e-5)
            x = Tensor((x.data - means) / stdev)
        tokens = self.enc_embedding(x)  # (B, N, E)
        for layer in self.attn_layers:
            tokens = layer(tokens)
        out = self.projector(self.norm(tokens))  # (B, N, h * Q)
        out = out.reshape(size, n_series, self.h, self.n_outputs).transpose(0, 2, 1, 3)  # (B, h, N, Q)
        if self.use_norm:  # (B, 1, N) -> (B, 1, N, 1)
            out = out * stdev[..., None] + means[..., None]
        return out


@register_model("iTransformer", category="transformer",
                capabilities=("multivariate", "multi_step", "batch_processing", "long_horizon"))
class iTransformer(MultivariateForecaster):  # noqa: N801 - neuralforecast's name
    """Inverted Transformer: attention across series, each series' window one token.

    Per window and series the input (B, input_size, N) is standardised, each series' window is
    embedded as one token (B, N, hidden_size), `e_layers` post-norm encoder layers (multi-head
    self-attention across the N tokens, a GELU feed-forward network of width `d_ff`, dropout,
    residuals and LayerNorm) and a final LayerNorm process the tokens, and a Linear projects
    each token to (h, n_outputs), de-standardised: (B, h, N, n_outputs).

    Args:
        hidden_size: width of the token embeddings.
        n_heads: attention heads (hidden_size must be divisible by it).
        e_layers: number of encoder layers.
        d_layers: decoder layers in neuralforecast's signature; iTransformer has no decoder, so it is unused.
        d_ff: width of the feed-forward network.
        factor: attention factor in neuralforecast's signature; full attention ignores it.
        dropout: dropout of the embedding, the attention weights and the encoder layers.
        use_norm: standardise each series' window and de-standardise the forecast.

    References:
        Liu, Y., Hu, T., Zhang, H., Wu, H., Wang, S., Ma, L., Long, M. (2024). "iTransformer:
        Inverted Transformers Are Effective for Time Series Forecasting". ICLR 2024.
        https://arxiv.org/abs/2310.06625
    """

    EXOGENOUS_FUTR: ClassVar[bool] = False
    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "hidden_size": {"minimum": 1},
        "n_heads": {"minimum": 1},
        "e_layers": {"minimum": 1},
        "d_layers": {"minimum": 0},
        "d_ff": {"minimum": 1},
        "factor": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
    }

    def __init__(
        self, h: int, input_size: int, n_series: int | None = None, hidden_size: int = 512, n_heads: int = 8,
        e_layers: int = 2, d_layers: int = 1, d_ff: int = 2048, factor: int = 1, dropout: float = 0.1,
        use_norm: bool = True, loss: LossSpec = "mae", max_steps: int = 1000, learning_rate: float = 1e-3,
        num_lr_decays: int = -1, early_stop_patience_steps: int = -1, val_check_steps: int = 100,
        batch_size: int = 32, windows_batch_size: int = 32, inference_windows_batch_size: int = 32,
        start_padding_enabled: bool = False, step_size: int = 1, scaler_type: ScalerSpec = "identity",
        random_seed: int = 1, gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam",
        precision: Precision = "float32",
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
        self.hidden_size, self.n_heads, self.e_layers, self.d_layers = hidden_size, n_heads, e_layers, d_layers
        self.d_ff, self.factor, self.dropout, self.use_norm = d_ff, factor, dropout, use_norm
        if hidden_size % n_heads:
            raise UsageError(f"iTransformer needs hidden_size ({hidden_size}) divisible by n_heads ({n_heads}).",
                             hint="change hidden_size or n_heads.")

    def _build_network(self) -> nn.Module:
        return _ITransformerNetwork(self.input_size, self.h, self.loss.outputsize_multiplier, self.hidden_size,
                                    self.n_heads, self.e_layers, self.d_ff, self.dropout, self.use_norm)
