"""Pooling and resampling along the last axis of (B, C, L): max/avg pooling, linear interpolation.

All three follow PyTorch's index arithmetic (MaxPool1d's ceil_mode, AvgPool1d without padding,
F.interpolate(mode="linear", align_corners=False)), so ported models give the same numbers.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["avg_pool1d", "interpolate_linear", "max_pool1d"]


def _pool_length(length: int, kernel: int, stride: int, ceil_mode: bool) -> int:
    span = length - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= length:  # the last window must start inside
        out -= 1
    return out


@register_op("max_pool1d")
def max_pool1d(
    x: Tensor, kernel_size: int, stride: int | None = None, ceil_mode: bool = False
) -> Tensor:
    """Max over windows of `kernel_size` every `stride` (default: kernel_size) steps."""
    stride = stride or kernel_size
    b, c, length = x.shape
    n_out = _pool_length(length, kernel_size, stride, ceil_mode)
    if n_out < 1:
        raise ValueError(f"max_pool1d kernel {kernel_size} is longer than the input ({length})")
    padded = (n_out - 1) * stride + kernel_size
    xp = x.data
    if padded > length:
        xp = np.pad(xp, ((0, 0), (0, 0), (0, padded - length)), constant_values=-np.inf)
    windows = sliding_window_view(xp, kernel_size, axis=2)[:, :, ::stride]  # (B, C, L_out, K)
    arg = windows.argmax(axis=3)
    out = np.take_along_axis(windows, arg[..., None], axis=3)[..., 0]
    where = arg + np.arange(n_out) * stride  # (B, C, L_out) positions in the input

    def backward(g: np.ndarray) -> None:
        gx = np.zeros((b, c, max(padded, length)), dtype=x.dtype)
        if stride >= kernel_size:  # windows do not overlap: positions are unique
            np.put_along_axis(gx, where, g, axis=2)
        else:
            np.add.at(gx, (np.arange(b)[:, None, None], np.arange(c)[None, :, None], where), g)
        x.accumulate(gx[:, :, :length], fresh=True)

    return result(out, (x,), backward)


@register_op("avg_pool1d")
def avg_pool1d(x: Tensor, kernel_size: int, stride: int = 1) -> Tensor:
    """Mean over windows of `kernel_size` every `stride` steps (no padding)."""
    length = x.shape[2]
    n_out = (length - kernel_size) // stride + 1
    if n_out < 1:
        raise ValueError(f"avg_pool1d kernel {kernel_size} is longer than the input ({length})")
    out = sliding_window_view(x.data, kernel_size, axis=2)[:, :, ::stride].mean(axis=3)

    def backward(g: np.ndarray) -> None:
        gx = np.zeros(x.shape, dtype=x.dtype)
        share = g / kernel_size
        for tap in range(kernel_size):
            gx[:, :, tap : tap + stride * (n_out - 1) + 1 : stride] += share
        x.accumulate(gx, fresh=True)

    return result(out.astype(x.dtype, copy=False), (x,), backward)


@functools.lru_cache(maxsize=64)
def _interpolation_matrix(l_in: int, l_out: int, dtype: str) -> np.ndarray:
    """(l_in, l_out) weights of PyTorch's linear interpolation with align_corners=False."""
    scale = l_in / l_out
    src = np.maximum((np.arange(l_out) + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.intp), l_in - 1)
    hi = np.minimum(lo + 1, l_in - 1)
    frac = np.clip(src - lo, 0.0, 1.0)
    matrix = np.zeros((l_in, l_out))
    np.add.at(matrix, (lo, np.arange(l_out)), 1.0 - frac)
    np.add.at(matrix, (hi, np.arange(l_out)), frac)
    matrix = matrix.astype(dtype)
    matrix.setflags(write=False)
    return matrix


@register_op("interpolate_linear")
def interpolate_linear(x: Tensor, size: int) -> Tensor:
    """Resample the last axis of x (B, C, L_in) to `size` points, as F.interpolate(mode="linear")."""
    if size < 1 or math.prod(x.shape) == 0:
        raise ValueError(f"interpolate_linear needs size >= 1 and a non-empty input, got {size}")
    matrix = _interpolation_matrix(x.shape[-1], size, x.dtype.str)
    return result(x.data @ matrix, (x,), lambda g: x.accumulate(g @ matrix.T, fresh=True))
