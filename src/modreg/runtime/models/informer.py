"""Informer: a Transformer with ProbSparse self-attention, self-attention distilling and a generative decoder.

Zhou, H., Zhang, S., Peng, J., Zhang, S., Li, J., Xiong, H., Zhang, W. (2021). "Informer: Beyond
Efficient Transformer for Long Sequence Time-Series Forecasting". AAAI 2021.
https://arxiv.org/abs/2012.07436
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np

from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor, concat, cumsum, gather, max_pool1d, minimum, pad, scatter, where
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._transformer import (
    Activation, AttentionLayer, DataEmbedding, TransDecoder, TransDecoderLayer, TransEncoder, TransEncoderLayer,
    circular_pad, decoder_start_length,
)
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster

__all__ = ["Informer"]

_INFERENCE_SEED = 0
"""Seed of the keys sampled in evaluation mode, so forecasts repeat exactly (neuralforecast samples afresh)."""


def _sample_size(factor: int, length: int) -> int:
    """factor * ceil(ln length), at most `length`: the sampled keys per query and the kept queries."""
    return min(factor * math.ceil(math.log(length)), length)


def _sparsity(q: np.ndarray, k: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Informer's query sparsity M(q_i) = max_j q_i.k_j - sum_j q_i.k_j / L_K over the keys j sampled for i.

    q (B, H, L_Q, E), k (B, H, L_K, E), sample (L_Q, U) key positions -> (B, H, L_Q). Queries
    are taken U at a time, so no (L_Q, L_K) array ever exists: for short key sequences a chunk
    of scores (U, L_K) is one matrix product, for long ones the U sampled keys are gathered.
    """
    l_k, n = k.shape[2], sample.shape[1]
    out = np.empty(q.shape[:3], dtype=q.dtype)
    for start in range(0, q.shape[2], n):
        rows = slice(start, min(start + n, q.shape[2]))
        if l_k <= 8 * n:  # dense chunk (B, H, c, L_K), then the sampled columns
            scores = (q[:, :, rows] @ np.swapaxes(k, -1, -2)).reshape(q.shape[:2] + (-1,))
            flat = (np.arange(sample[rows].shape[0])[:, None] * l_k + sample[rows]).reshape(-1)
            picked = np.take(scores, flat, axis=-1).reshape(q.shape[:2] + sample[rows].shape)
        else:  # gathered keys (B, H, c, U, E) times their query
            picked = (k[:, :, sample[rows]] @ q[:, :, rows, :, None])[..., 0]
        out[:, :, rows] = picked.max(axis=-1) - picked.sum(axis=-1) / l_k
    return out


def _top_queries(q: np.ndarray, k: np.ndarray, sample: np.ndarray, n_top: int) -> np.ndarray:
    """(B, H, n_top) positions of the queries with the largest sparsity measurement (unordered)."""
    return np.argpartition(-_sparsity(q, k, sample), n_top - 1, axis=-1)[..., :n_top]


class _ProbAttention(nn.Module):
    """ProbSparse attention: full attention for the top-u "active" queries, a cheap default for the rest.

    Each query gets U = factor * ceil(ln L_K) sampled keys (the same positions for the whole
    batch); the u = factor * ceil(ln L_Q) queries whose sampled scores are most peaked (max minus
    mean) attend to every key with softmax(q k^T / sqrt(E)); the other queries output the mean of
    the values, or with `mask_flag` (decoder self-attention) their running sum, and the active
    queries then only see keys up to their own position. Memory is O((L_Q + L_K) log L).

    forward(q (B, L_Q, H, E), k (B, L_K, H, E), v (B, L_K, H, D)) -> (B, H, L_Q, D): heads first,
    which `AttentionLayer` reads as (B, L_Q, H * D) in memory order, as neuralforecast does.
    """

    def __init__(self, mask_flag: bool, factor: int) -> None:
        super().__init__()
        self.mask_flag, self.factor = mask_flag, factor

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        q, k, v = q.transpose(0, 2, 1, 3), k.transpose(0, 2, 1, 3), v.transpose(0, 2, 1, 3)  # (B, H, L, E)
        l_q, l_k = q.shape[2], k.shape[2]
        draw = rng.generator() if self.training else np.random.default_rng(_INFERENCE_SEED)
        sample = draw.integers(l_k, size=(l_q, _sample_size(self.factor, l_k)))
        top = _top_queries(q.data, k.data, sample, _sample_size(self.factor, l_q))  # (B, H, u)
        scores = (gather(q, top, axis=2) @ k.swapaxes(-1, -2)) * (1.0 / math.sqrt(q.shape[3]))  # (B, H, u, L_K)
        if self.mask_flag:  # an active query sees the keys up to its own position
            scores = where(np.arange(l_k) <= top[..., None], scores, -np.inf)
            context = cumsum(v, axis=2)  # needs L_Q == L_K (self-attention)
        else:
            context = v.mean(axis=2, keepdims=True).expand(v.shape[:2] + (l_q, v.shape[3]))
        return scatter(context, top, scores.softmax(axis=-1) @ v, axis=2)


def _elu(x: Tensor) -> Tensor:
    """ELU with alpha 1: x where x > 0, else exp(x) - 1."""
    return where(x.data > 0, x, minimum(x, 0.0).exp() - 1.0)


class _ConvLayer(nn.Module):
    """Distilling between encoder layers: circular conv (kernel 3) -> BatchNorm -> ELU -> MaxPool(3, 2, pad 1).

    (B, L, D) -> (B, (L + 1) // 2 + 1, D): roughly halves the sequence.
    """

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.downConv = nn.Conv1d(c_in, c_in, 3)
        self.norm = nn.BatchNorm1d(c_in)

    def forward(self, x: Tensor) -> Tensor:
        x = _elu(self.norm(self.downConv(circular_pad(x.swapaxes(1, 2), 2))))  # (B, D, L + 2)
        x = pad(x, ((0, 0), (0, 0), (1, 1)), value=-np.inf)
        return max_pool1d(x, 3, 2).swapaxes(1, 2)


class _InformerNetwork(nn.Module):
    """Embedded window -> ProbSparse encoder with distilling -> decoder over [last label_len values, h zeros]."""

    def __init__(self, *, input_size: int, h: int, label_len: int, futr_size: int, n_outputs: int, hidden_size: int,
                 dropout: float, factor: int, n_head: int, conv_hidden_size: int, activation: Activation,
                 encoder_layers: int, decoder_layers: int, distil: bool, exclude_insample_y: bool) -> None:
        super().__init__()
        self.input_size, self.h, self.label_len, self.exclude_insample_y = input_size, h, label_len, exclude_insample_y
        self.independent_rows = dropout == 0 and not distil  # batch norm and dropout mix or randomise rows

        def attention(mask_flag: bool) -> AttentionLayer:
            return AttentionLayer(_ProbAttention(mask_flag, factor), hidden_size, n_head)

        self.enc_embedding = DataEmbedding(1, futr_size, hidden_size, pos_embedding=True, dropout=dropout)
        self.dec_embedding = DataEmbedding(1, futr_size, hidden_size, pos_embedding=True, dropout=dropout)
        self.encoder = TransEncoder(
            [TransEncoderLayer(attention(False), hidden_size, conv_hidden_size, dropout, activation)
             for _ in range(encoder_layers)],
            [_ConvLayer(hidden_size) for _ in range(encoder_layers - 1)] if distil else None, nn.LayerNorm(hidden_size))
        self.decoder = TransDecoder(
            [TransDecoderLayer(attention(True), attention(False), hidden_size, conv_hidden_size, dropout, activation)
             for _ in range(decoder_layers)], nn.LayerNorm(hidden_size), nn.Linear(hidden_size, n_outputs))

    def forward(self, batch: WindowBatch) -> Tensor:
        y = batch.insample_y.unsqueeze(-1)  # (B, L) -> (B, L, 1)
        if self.exclude_insample_y:
            y = y * 0.0
        futr = batch.futr_exog  # (B, L + h, F) or None
        mark_enc = None if futr is None else futr[:, : self.input_size]
        mark_dec = None if futr is None else futr[:, futr.shape[1] - self.label_len - self.h:]
        x_dec = concat([y[:, -self.label_len:], np.zeros((y.shape[0], self.h, 1), dtype=y.dtype)], axis=1)
        enc_out = self.encoder(self.enc_embedding(y, mark_enc))
        return self.decoder(self.dec_embedding(x_dec, mark_dec), enc_out)[:, -self.h:]  # (B, h, n_outputs)


@register_model("Informer", category="transformer",
                capabilities=("univariate", "multi_step", "batch_processing", "long_horizon"))
class Informer(WindowForecaster):
    """Informer: ProbSparse attention, distilling encoder and a one-shot generative decoder.

    The window's values are embedded (circular convolution + sinusoidal positions [+ future
    exogenous marks]) and encoded by layers of ProbSparse self-attention, which computes full
    attention only for the ~factor * ln L queries whose sampled scores are most peaked; between
    layers a convolution, batch norm, ELU and stride-2 max-pool halve the sequence (`distil`).
    The decoder reads the window's last `label_len` values followed by h zeros, with masked
    ProbSparse self-attention and cross-attention to the encoder, and outputs all h steps in one
    pass. Shapes: (B, input_size) -> (B, h, n_outputs). Historical and static exogenous columns
    are not supported (as neuralforecast). The keys sampled while predicting come from a fixed
    seed, so forecasts repeat exactly (neuralforecast draws them afresh at every call).

    Args:
        exclude_insample_y: zero the window's values (only the exogenous marks inform the forecast).
        decoder_input_size_multiplier: label_len = ceil(input_size * multiplier), in (0, 1).
        hidden_size: width D of embeddings, attention and layers.
        dropout: dropout in the embeddings and after every sub-layer.
        factor: ProbSparse sampling factor (keys sampled and queries kept: factor * ceil(ln L)).
        n_head: attention heads (D divisible by it).
        conv_hidden_size: channels of the pointwise feed-forward blocks.
        activation: "gelu" or "relu" in the feed-forward blocks.
        encoder_layers, decoder_layers: number of layers.
        distil: distilling convolution + max-pool between encoder layers.
        futr_exog_list: future exogenous columns.

    References:
        Zhou, H., Zhang, S., Peng, J., Zhang, S., Li, J., Xiong, H., Zhang, W. (2021). "Informer:
        Beyond Efficient Transformer for Long Sequence Time-Series Forecasting". AAAI 2021.
        arXiv:2012.07436.
    """

    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 2},
        "decoder_input_size_multiplier": {"exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "hidden_size": {"minimum": 2},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "factor": {"minimum": 1},
        "n_head": {"minimum": 1},
        "conv_hidden_size": {"minimum": 1},
        "encoder_layers": {"minimum": 1},
        "decoder_layers": {"minimum": 1},
    }

    def __init__(
        self, h: int, input_size: int, futr_exog_list: tuple[str, ...] | None = None, exclude_insample_y: bool = False,
        decoder_input_size_multiplier: float = 0.5, hidden_size: int = 128, dropout: float = 0.05, factor: int = 3,
        n_head: int = 4, conv_hidden_size: int = 32, activation: Literal["gelu", "relu"] = "gelu",
        encoder_layers: int = 2, decoder_layers: int = 1, distil: bool = True, loss: LossSpec = "mae",
        max_steps: int = 5000, learning_rate: float = 1e-4, num_lr_decays: int = -1,
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
        self.label_len = decoder_start_length(self.name, self.input_size, decoder_input_size_multiplier)
        self.exclude_insample_y, self.decoder_input_size_multiplier = exclude_insample_y, decoder_input_size_multiplier
        self.hidden_size, self.dropout, self.factor, self.n_head = hidden_size, dropout, factor, n_head
        self.conv_hidden_size, self.activation = conv_hidden_size, activation
        self.encoder_layers, self.decoder_layers, self.distil = encoder_layers, decoder_layers, distil

    def _build_network(self) -> nn.Module:
        return _InformerNetwork(
            input_size=self.input_size, h=self.h, label_len=self.label_len, futr_size=self.futr_exog_size,
            n_outputs=self.loss.outputsize_multiplier, hidden_size=self.hidden_size, dropout=self.dropout,
            factor=self.factor, n_head=self.n_head, conv_hidden_size=self.conv_hidden_size,
            activation=self.activation, encoder_layers=self.encoder_layers, decoder_layers=self.decoder_layers,
            distil=self.distil, exclude_insample_y=self.exclude_insample_y,
        )
