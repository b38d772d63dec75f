"""Weight initialisers drawing from `modreg.runtime.rng`, matching PyTorch's defaults in distribution.

PyTorch's default for Linear and Conv is kaiming_uniform(a=sqrt(5)), which reduces to
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight and the same bound for the bias; the RNN
family draws every tensor from U(-1/sqrt(hidden), 1/sqrt(hidden)); Embedding from N(0, 1).
"""

from __future__ import annotations

import math

import numpy as np

from modreg.runtime import rng

__all__ = [
    "fan_in_bound", "kaiming_normal", "normal", "ones", "uniform", "xavier_normal",
    "xavier_uniform", "zeros",
]

Shape = tuple[int, ...]


def fan_in_bound(fan_in: int) -> float:
    """PyTorch's default bound 1/sqrt(fan_in) (kaiming_uniform with a=sqrt(5))."""
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def uniform(shape: Shape, bound: float, dtype: type = np.float32) -> np.ndarray:
    """U(-bound, bound) samples."""
    return rng.generator().uniform(-bound, bound, size=shape).astype(dtype)


def normal(
    shape: Shape, std: float = 1.0, mean: float = 0.0, dtype: type = np.float32
) -> np.ndarray:
    """N(mean, std**2) samples."""
    return (mean + std * rng.generator().standard_normal(shape)).astype(dtype)


def zeros(shape: Shape, dtype: type = np.float32) -> np.ndarray:
    """An array of zeros."""
    return np.zeros(shape, dtype=dtype)


def ones(shape: Shape, dtype: type = np.float32) -> np.ndarray:
    """An array of ones."""
    return np.ones(shape, dtype=dtype)


def _fans(shape: Shape) -> tuple[int, int]:
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def xavier_uniform(shape: Shape, gain: float = 1.0, dtype: type = np.float32) -> np.ndarray:
    """Glorot uniform: U(-a, a) with a = gain*sqrt(6/(fan_in+fan_out))."""
    fan_in, fan_out = _fans(shape)
    return uniform(shape, gain * math.sqrt(6.0 / (fan_in + fan_out)), dtype)


def xavier_normal(shape: Shape, gain: float = 1.0, dtype: type = np.float32) -> np.ndarray:
    """Glorot normal: N(0, gain**2 * 2/(fan_in+fan_out))."""
    fan_in, fan_out = _fans(shape)
    return normal(shape, gain * math.sqrt(2.0 / (fan_in + fan_out)), dtype=dtype)


def kaiming_normal(shape: Shape, dtype: type = np.float32) -> np.ndarray:
    """He normal for ReLU: N(0, 2/fan_in)."""
    return normal(shape, math.sqrt(2.0 / _fans(shape)[0]), dtype=dtype)
