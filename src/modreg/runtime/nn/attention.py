"""Scaled dot-product attention and multi-head attention with separate projections."""

from __future__ import annotations

import math

import numpy as np

from modreg.runtime.nn.dropout import Dropout
from modreg.runtime.nn.linear import Linear
from modreg.runtime.nn.module import Module
from modreg.runtime.autograd.ops_math import where
from modreg.runtime.autograd.ops_nn import dropout
from modreg.runtime.autograd.tensor import Tensor

__all__ = ["MultiHeadAttention", "scaled_dot_product_attention"]


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: np.ndarray | None = None, dropout_p: float = 0.0,
    is_causal: bool = False,
) -> Tensor:
    """softmax(q k^T / sqrt(E) [masked]) v, as PyTorch's F.scaled_dot_product_attention.

    Args:
        q: (..., L_q, E). k: (..., L_k, E). v: (..., L_k, E_v).
        mask: boolean, broadcastable to (..., L_q, L_k); True marks the pairs that may attend.
        dropout_p: dropout on the attention weights (applied whenever > 0).
        is_causal: also forbid attending to later positions.

    Returns:
        (..., L_q, E_v).
    """
    scores = (q @ k.swapaxes(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))  # (..., L_q, L_k)
    allowed = None if mask is None else np.asarray(mask, dtype=bool)
    if is_causal:
        causal = np.tril(np.ones((q.shape[-2], k.shape[-2]), dtype=bool))
        allowed = causal if allowed is None else allowed & causal
    if allowed is not None:
        scores = where(allowed, scores, float(np.finfo(scores.dtype).min))
    weights = dropout(scores.softmax(axis=-1), dropout_p, dropout_p > 0)
    return weights @ v


class MultiHeadAttention(Module):
    """Multi-head attention with `query/key/value/out_projection` Linear layers (neuralforecast's names).

    Args:
        d_model: model width (divisible by n_heads).
        n_heads: number of heads; each has width d_model // n_heads.
        dropout: dropout on the attention weights while training.

    forward(q (B, L_q, d_model), k (B, L_k, d_model), v (B, L_k, d_model), mask=None)
        -> (B, L_q, d_model). Parameters: 4 * (d_model**2 + d_model), as PyTorch's
        nn.MultiheadAttention.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.d_model, self.n_heads = d_model, n_heads
        self.query_projection = Linear(d_model, d_model)
        self.key_projection = Linear(d_model, d_model)
        self.value_projection = Linear(d_model, d_model)
        self.out_projection = Linear(d_model, d_model)
        self.attn_dropout = Dropout(dropout)

    def _heads(self, x: Tensor) -> Tensor:
        b, length, _ = x.shape  # (B, L, D) -> (B, heads, L, D/heads)
        return x.reshape(b, length, self.n_heads, -1).transpose(0, 2, 1, 3)

    def forward(self, q: Tensor, k: Tensor, v: Tensor, mask: np.ndarray | None = None) -> Tensor:
        heads = scaled_dot_product_attention(
            self._heads(self.query_projection(q)), self._heads(self.key_projection(k)),
            self._heads(self.value_projection(v)), mask,
            self.attn_dropout.p if self.training else 0.0,
        )
        b, _, length, _ = heads.shape  # (B, heads, L_q, D/heads) -> (B, L_q, D)
        return self.out_projection(heads.transpose(0, 2, 1, 3).reshape(b, length, self.d_model))
