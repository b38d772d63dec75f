"""Fused neural-network ops with hand-written gradients: dropout, layer normalisation, GLU, and the
attention softmax (scale, mask and softmax over the last axis in one op).

numpy reduces along a short last axis (a handful of attention keys or selected variables) many
times slower than it runs arithmetic over the same array, so the softmax takes its row maxima
as a running maximum over the columns and its row sums as a product with a vector of ones.
"""

from __future__ import annotations

import numpy as np

from modreg.runtime import rng
from modreg.runtime.autograd.ops_math import sigmoid_array
from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["dropout", "glu", "layer_norm", "masked_softmax"]


@register_op("dropout")
def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) (training only).

    Each element draws 32 random bits (half of one of the generator's raw 64-bit outputs) and is
    dropped when they fall under round(p * 2**32): the rate is p to within 2**-33, the mask is
    made with a third of the work of drawing floats.
    """
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    bits = rng.generator().bit_generator.random_raw((x.size + 1) // 2).view(np.uint32)[:x.size]
    keep = bits.reshape(x.shape) >= np.uint32(min(round(p * 2.0**32), 2**32 - 1))
    mask = np.multiply(keep, np.asarray(1.0 / (1.0 - p), dtype=x.dtype), dtype=x.dtype)
    return result(x.data * mask, (x,), lambda g: x.accumulate(g * mask, fresh=True))


@register_op("layer_norm")
def layer_norm(x: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last axis, then scale by `weight` and shift by `bias` (each optional)."""
    centred = x.data - x.data.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(np.square(centred).mean(axis=-1, keepdims=True) + eps)
    xhat = centred * rstd
    out = xhat * weight.data if weight is not None else xhat.copy()
    if bias is not None:
        out += bias.data

    def backward(g: np.ndarray) -> None:
        lead = tuple(range(g.ndim - 1))
        if weight is not None and weight.requires_grad:
            weight.accumulate((g * xhat).sum(axis=lead), fresh=True)
        if bias is not None and bias.requires_grad:
            bias.accumulate(g.sum(axis=lead), fresh=True)
        if x.requires_grad:
            gx = g * weight.data if weight is not None else g
            proj = (gx * xhat).mean(axis=-1, keepdims=True)
            x.accumulate(rstd * (gx - gx.mean(axis=-1, keepdims=True) - xhat * proj), fresh=True)

    parents = tuple(t for t in (x, weight, bias) if t is not None)
    return result(out, parents, backward)


@register_op("glu")
def glu(x: Tensor, axis: int = -1) -> Tensor:
    """Gated linear unit (PyTorch's F.glu): the first half of `axis` times sigmoid(second half)."""
    value, gate = np.split(x.data, 2, axis=axis)
    gate = sigmoid_array(gate)
    out = value * gate

    def backward(g: np.ndarray) -> None:
        g_value = g * gate
        g_gate = g * out
        g_gate -= g_gate * gate  # d sigmoid = s (1 - s)
        x.accumulate(np.concatenate([g_value, g_gate], axis=axis), fresh=True)

    return result(out, (x,), backward)


_SHORT_AXIS = 32  # up to this length a row maximum runs column by column


def _row_max(x: np.ndarray) -> np.ndarray:
    """x.max(axis=-1, keepdims=True), fast for a short last axis."""
    if x.shape[-1] > _SHORT_AXIS:
        return x.max(axis=-1, keepdims=True)
    out = x[..., :1].copy()
    for i in range(1, x.shape[-1]):
        np.maximum(out, x[..., i : i + 1], out=out)
    return out


def _row_sum(x: np.ndarray) -> np.ndarray:
    """x.sum(axis=-1, keepdims=True) of a C-contiguous x, as a matrix-vector product."""
    n = x.shape[-1]
    return (x.reshape(-1, n) @ np.ones(n, dtype=x.dtype)).reshape(x.shape[:-1] + (1,))


@register_op("masked_softmax")
def masked_softmax(x: Tensor, scale: float = 1.0, allowed: np.ndarray | None = None) -> Tensor:
    """softmax(x * scale) over the last axis, where `allowed` (boolean, broadcastable to x) is False
    the weight is 0 (a row with none allowed gets equal weights, as with a mask of the dtype's lowest
    value): attention's scale, mask and softmax in one op."""
    shifted = np.multiply(x.data, scale) if scale != 1.0 else x.data.copy()
    if allowed is not None:
        shifted += np.where(allowed, 0.0, np.finfo(shifted.dtype).min).astype(shifted.dtype)
    shifted -= _row_max(shifted)
    out = np.exp(shifted, out=shifted)
    out /= _row_sum(out)

    def backward(g: np.ndarray) -> None:
        gx = np.multiply(g, out)
        gx -= out * _row_sum(gx)
        if scale != 1.0:
            gx *= scale
        x.accumulate(gx, fresh=True)

    return result(out, (x,), backward)
