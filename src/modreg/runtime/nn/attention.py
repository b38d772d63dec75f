"""Scaled dot-product attention and multi-head attention with separate projections.

Two variants of the attention family live here too: `InterpretableMultiHeadAttention` (TFT: one
value projection shared by every head, heads averaged) and `ResidualMultiHeadAttention`
(PatchTST / RealFormer: each layer adds the previous layer's pre-softmax scores to its own).
"""

from __future__ import annotations

import math

import numpy as np

from modreg.runtime.autograd.ops_math import linear
from modreg.runtime.autograd.ops_nn import dropout, masked_softmax
from modreg.runtime.autograd.tensor import Tensor
from modreg.runtime.nn.dropout import Dropout
from modreg.runtime.nn.linear import Linear
from modreg.runtime.nn.module import Module, Parameter

__all__ = ["MultiHeadAttention", "scaled_dot_product_attention"]
__all__ += ["InterpretableMultiHeadAttention", "ResidualMultiHeadAttention"]


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
    allowed = None if mask is None else np.asarray(mask, dtype=bool)
    if is_causal:
        causal = np.tril(np.ones((q.shape[-2], k.shape[-2]), dtype=bool))
        allowed = causal if allowed is None else allowed & causal
    scores = masked_softmax(q @ k.swapaxes(-1, -2), 1.0 / math.sqrt(q.shape[-1]), allowed)  # (..., L_q, L_k)
    weights = dropout(scores, dropout_p, dropout_p > 0)
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


class InterpretableMultiHeadAttention(Module):
    """TFT's self-attention: per-head queries and keys, one value projection shared by the heads.

    The heads' attention weights are averaged and applied to the shared values, so a single
    (T x T) weight matrix explains the output; `out_proj` maps the value width back.

    Args:
        n_head: number of heads; each query/key has width hidden_size // n_head.
        hidden_size: model width.
        attn_dropout: dropout on the attention weights while training.
        dropout: dropout on the output while training.

    forward(x (B, T, hidden_size), mask_future_timesteps=True, query_start=0)
        -> (out (B, T', hidden_size), attn_prob (B, n_head, T', T)) for the T' = T - query_start
        queries from `query_start` on (the rows a caller keeps; the others are not computed).
        `qkv_linears` is Linear(hidden -> (2 n_head + 1) d_head) and `out_proj` Linear(d_head ->
        hidden), both bias-free, as neuralforecast's.
    """

    def __init__(self, n_head: int, hidden_size: int, attn_dropout: float = 0.0, dropout: float = 0.0) -> None:
        super().__init__()
        if hidden_size % n_head:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by n_head ({n_head})")
        self.n_head, self.d_head = n_head, hidden_size // n_head
        self.qkv_linears = Linear(hidden_size, (2 * n_head + 1) * self.d_head, bias=False)
        self.out_proj = Linear(self.d_head, hidden_size, bias=False)
        self.attn_dropout = Dropout(attn_dropout)
        self.out_dropout = Dropout(dropout)

    def forward(self, x: Tensor, mask_future_timesteps: bool = True, query_start: int = 0) -> tuple[Tensor, Tensor]:
        b, t, _ = x.shape
        n, d, width = self.n_head, self.d_head, self.n_head * self.d_head
        weight = self.qkv_linears.weight  # rows: queries | keys | the shared values
        q = linear(x[:, query_start:], weight[:width]).reshape(b, t - query_start, n, d).transpose(0, 2, 1, 3)
        kv = linear(x, weight[width:])  # (B, T, n d + d)
        k = kv[..., :width].reshape(b, t, n, d).transpose(0, 2, 3, 1)  # (B, n, d, T)
        v = kv[..., width:]  # (B, T, d)
        allowed = np.tril(np.ones((t, t), dtype=bool))[query_start:] if mask_future_timesteps else None
        prob = self.attn_dropout(masked_softmax(q @ k, d**-0.5, allowed))  # (B, n, T', T)
        shared = prob.mean(axis=1) @ v  # the mean over heads of prob_h @ v: (B, T', d)
        return self.out_dropout(self.out_proj(shared)), prob


class ResidualMultiHeadAttention(Module):
    """Multi-head self-attention whose pre-softmax scores carry over to the next layer (RealFormer).

    scores = q k^T * scale (+ the previous layer's scores); the layer returns its output and
    those scores. `scale` is a frozen parameter (head_dim ** -0.5), as PatchTST keeps it (it is
    learned only in its unused locality self-attention mode).

    Args:
        hidden_size: model width. n_heads: heads of width hidden_size // n_heads.
        attn_dropout: dropout on the attention weights. proj_dropout: dropout after `to_out`.

    forward(x (B, P, hidden_size), prev (B, n_heads, P, P) | None)
        -> (out (B, P, hidden_size), scores (B, n_heads, P, P)). Parameters `W_Q`, `W_K`, `W_V`,
        `to_out` (Linear with bias) and `scale`, as neuralforecast's `_MultiheadAttention`.
    """

    def __init__(self, hidden_size: int, n_heads: int, attn_dropout: float = 0.0, proj_dropout: float = 0.0) -> None:
        super().__init__()
        if hidden_size % n_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by n_heads ({n_heads})")
        self.n_heads, self.d_k = n_heads, hidden_size // n_heads
        self.W_Q = Linear(hidden_size, hidden_size)
        self.W_K = Linear(hidden_size, hidden_size)
        self.W_V = Linear(hidden_size, hidden_size)
        self.scale = Parameter(np.array(self.d_k**-0.5, dtype=np.float32), requires_grad=False)
        self.attn_dropout = Dropout(attn_dropout)
        self.to_out = Linear(hidden_size, hidden_size)
        self.proj_dropout = Dropout(proj_dropout)

    def _heads(self, x: Tensor) -> Tensor:
        b, length, _ = x.shape  # (B, P, D) -> (B, heads, P, D / heads)
        return x.reshape(b, length, self.n_heads, self.d_k).transpose(0, 2, 1, 3)

    def forward(self, x: Tensor, prev: Tensor | None = None, then_dropout: float = 0.0) -> tuple[Tensor, Tensor]:
        """`then_dropout`: the rate of a dropout the caller applies next to the output; it is drawn here
        with `proj_dropout` as one (independent masks of rates p and q are one of rate 1 - (1-p)(1-q))."""
        q, v = self._heads(self.W_Q(x)), self._heads(self.W_V(x))
        k = self._heads(self.W_K(x)).swapaxes(-1, -2)  # (B, heads, d, P)
        scores = (q @ k) * self.scale.data  # (B, heads, P, P)
        if prev is not None:
            scores = scores + prev
        heads = self.attn_dropout(masked_softmax(scores)) @ v  # (B, heads, P, d)
        b, _, length, _ = heads.shape  # -> (B, P, heads * d)
        merged = heads.transpose(0, 2, 1, 3).reshape(b, length, self.n_heads * self.d_k)
        rate = 1.0 - (1.0 - self.proj_dropout.p) * (1.0 - then_dropout)
        return dropout(self.to_out(merged), rate, self.training), scores
