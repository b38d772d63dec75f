"""Fused neural-network ops with hand-written gradients: dropout, layer and batch normalisation, GLU, GLU then
skip connection then layer normalisation (TFT's gates), and the attention softmax (scale, mask and
softmax over the last axis in one op).

numpy reduces along a short last axis (a handful of attention keys or selected variables) many
times slower than it runs arithmetic over the same array, so the softmax takes its row maxima
as a running maximum over the columns and its row sums as a product with a vector of ones.
"""

from __future__ import annotations

import numpy as np

from modreg.runtime import rng
from modreg.runtime.autograd.ops_math import sigmoid_array
from modreg.runtime.autograd.tensor import Tensor, register_op, result, unbroadcast

__all__ = ["batch_norm", "dropout", "glu", "glu_add_norm", "layer_norm", "masked_softmax"]


@register_op("dropout")
def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) (training only).

    An element is dropped when 32 random bits, read as an integer, fall under round(p * 2**32):
    the rate is p to within 2**-33. `_keep_mask` reads 16 of those bits for almost every element,
    half the random bits that drawing a float32 takes (measured 37% less time for the mask).
    """
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    keep = _keep_mask(x.shape, min(round(p * 2.0**32), 2**32 - 1))
    mask = np.multiply(keep, np.asarray(1.0 / (1.0 - p), dtype=x.dtype), dtype=x.dtype)
    return result(x.data * mask, (x,), lambda g: x.accumulate(g * mask, fresh=True))


def _keep_mask(shape: tuple[int, ...], threshold: int) -> np.ndarray:
    """True where a 32-bit random integer is >= threshold, drawing only its high 16 bits (four per
    64-bit word of the generator) except for the few elements whose high bits equal threshold's."""
    bits = rng.generator().bit_generator
    size = int(np.prod(shape))
    high, low = divmod(threshold, 1 << 16)
    drawn = bits.random_raw((size + 3) // 4).view(np.uint16)[:size].reshape(shape)
    keep = drawn > high
    ties = np.flatnonzero(drawn == high)
    if ties.size:
        keep.flat[ties] = bits.random_raw((ties.size + 3) // 4).view(np.uint16)[:ties.size] >= low
    return keep


def _standardise(y: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(y - mean) / sqrt(var + eps) over the last axis, in place in the fresh array y; also 1 / sqrt(var + eps)."""
    y -= y.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(np.square(y).mean(axis=-1, keepdims=True) + eps)
    y *= rstd
    return y, rstd


def _standardise_backward(gx: np.ndarray, xhat: np.ndarray, rstd: np.ndarray,
                          axes: int | tuple[int, ...] = -1) -> np.ndarray:
    """The gradient reaching the input of a standardisation over `axes` (`_standardise`: the last
    axis; `batch_norm`: all but the channels) from gx (fresh, reused) reaching its output."""
    proj = (gx * xhat).mean(axis=axes, keepdims=True)
    gx -= gx.mean(axis=axes, keepdims=True)
    gx -= xhat * proj
    gx *= rstd
    return gx


def _affine_grads(g: np.ndarray, xhat: np.ndarray, weight: Tensor | None, bias: Tensor | None) -> None:
    lead = tuple(range(g.ndim - 1))
    if weight is not None and weight.requires_grad:
        weight.accumulate((g * xhat).sum(axis=lead), fresh=True)
    if bias is not None and bias.requires_grad:
        bias.accumulate(g.sum(axis=lead), fresh=True)


@register_op("layer_norm")
def layer_norm(x: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last axis, then scale by `weight` and shift by `bias` (each optional)."""
    xhat, rstd = _standardise(np.array(x.data), eps)
    out = xhat * weight.data if weight is not None else xhat.copy()
    if bias is not None:
        out += bias.data

    def backward(g: np.ndarray) -> None:
        _affine_grads(g, xhat, weight, bias)
        if x.requires_grad:
            gx = g * weight.data if weight is not None else np.array(g)
            x.accumulate(_standardise_backward(gx, xhat, rstd), fresh=True)

    parents = tuple(t for t in (x, weight, bias) if t is not None)
    return result(out, parents, backward)


@register_op("batch_norm")
def batch_norm(x: Tensor, weight: Tensor, bias: Tensor, eps: float = 1e-5) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """Batch normalisation with batch statistics (training): over every axis but axis 1, the channels.

    Returns (output, the batch means, the batch variances (biased), each (C,)) for the running
    statistics. Shapes: x (B, C, ...), weight and bias (C,).
    """
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)  # (C,) against (B, C, ...)
    count = x.size // x.shape[1]
    mean = x.data.mean(axis=axes, keepdims=True)
    xhat = x.data - mean
    var = np.square(xhat).sum(axis=axes, keepdims=True) / count
    rstd = 1.0 / np.sqrt(var + eps)
    xhat *= rstd
    out = xhat * weight.data.reshape(shape)
    out += bias.data.reshape(shape)

    def backward(g: np.ndarray) -> None:
        if weight.requires_grad:
            weight.accumulate((g * xhat).sum(axis=axes), fresh=True)
        if bias.requires_grad:
            bias.accumulate(g.sum(axis=axes), fresh=True)
        if x.requires_grad:
            x.accumulate(_standardise_backward(g * weight.data.reshape(shape), xhat, rstd, axes), fresh=True)

    return result(out, (x, weight, bias), backward), mean.reshape(-1), var.reshape(-1)


@register_op("glu")
def glu(x: Tensor, axis: int = -1) -> Tensor:
    """Gated linear unit (PyTorch's F.glu): the first half of `axis` times sigmoid(second half)."""
    value, gate = np.split(x.data, 2, axis=axis)
    gate = sigmoid_array(gate)
    out = value * gate

    def backward(g: np.ndarray) -> None:
        x.accumulate(_glu_backward(g, value, gate, axis), fresh=True)

    return result(out, (x,), backward)


def _glu_backward(g: np.ndarray, value: np.ndarray, gate: np.ndarray, axis: int) -> np.ndarray:
    """The gradient of value * gate (gate = sigmoid of the second half) for both halves, one array.

    Each half is made contiguous and then joined: measured faster than writing into the strided
    halves of one array."""
    g_value = np.multiply(g, gate)
    g_gate = np.subtract(1.0, gate)  # d sigmoid = s (1 - s)
    g_gate *= g_value
    g_gate *= value
    return np.concatenate([g_value, g_gate], axis=axis)


@register_op("glu_add_norm")
def glu_add_norm(x: Tensor, skip: Tensor, weight: Tensor, bias: Tensor, eps: float = 1e-5) -> Tensor:
    """layer_norm(glu(x) + skip, weight, bias, eps), GLU over the last axis: TFT's gate, add and norm
    in one op, with no array for the GLU's output or the sum beyond the one normalised in place.

    Shapes: x (..., 2 H), skip broadcastable to (..., H), weight and bias (H,) -> (..., H).
    """
    value, gate = np.split(x.data, 2, axis=-1)
    gate = sigmoid_array(gate)
    y = value * gate
    if np.broadcast_shapes(y.shape, skip.shape) != y.shape:
        raise ValueError(f"glu_add_norm: skip {skip.shape} does not broadcast to the GLU's output {y.shape}")
    y += skip.data
    xhat, rstd = _standardise(y, eps)
    out = xhat * weight.data
    out += bias.data

    def backward(g: np.ndarray) -> None:
        _affine_grads(g, xhat, weight, bias)
        gy = _standardise_backward(g * weight.data, xhat, rstd)
        if x.requires_grad:
            x.accumulate(_glu_backward(gy, value, gate, -1), fresh=True)
        if skip.requires_grad:
            skip.accumulate(unbroadcast(gy, skip.shape))

    return result(out, (x, skip, weight, bias), backward)


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
