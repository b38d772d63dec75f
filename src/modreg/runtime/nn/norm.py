"""Normalisation layers: LayerNorm, BatchNorm1d/2d (running statistics) and RevIN."""

from __future__ import annotations

import numpy as np

from modreg.runtime.nn.module import Module, Parameter
from modreg.runtime.autograd.ops_nn import batch_norm, layer_norm
from modreg.runtime.autograd.tensor import Tensor, no_grad

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "RevIN"]


class LayerNorm(Module):
    """Normalise the last axis to zero mean and unit variance, then scale and shift.

    Args:
        normalized_shape: size of the last axis.
        eps: added to the variance.
        elementwise_affine: learn `weight` (ones) and `bias` (zeros).
    """

    def __init__(
        self, normalized_shape: int, eps: float = 1e-5, elementwise_affine: bool = True
    ) -> None:
        super().__init__()
        self.eps = eps
        affine = elementwise_affine
        self.weight = Parameter(np.ones(normalized_shape, np.float32)) if affine else None
        self.bias = Parameter(np.zeros(normalized_shape, np.float32)) if affine else None

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.weight, self.bias, self.eps)


class _BatchNorm(Module):
    """Batch statistics over every axis but the channel axis (1) while training; running ones after."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=np.float32))
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x: Tensor) -> Tensor:
        shape = (1, -1) + (1,) * (x.ndim - 2)  # broadcast (C,) against (B, C, ...)
        if self.training:
            out, mean, var = batch_norm(x, self.weight, self.bias, self.eps)
            self._update_running(mean, var, x.size // x.shape[1])
            return out
        scale = (1.0 / np.sqrt(self.running_var + self.eps)).reshape(shape).astype(x.dtype)
        normed = (x - self.running_mean.reshape(shape).astype(x.dtype)) * scale
        return normed * self.weight.reshape(shape) + self.bias.reshape(shape)

    def _update_running(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        m = self.momentum
        unbiased = var * (n / max(n - 1, 1))
        self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(self.running_mean.dtype)
        self.running_var = ((1 - m) * self.running_var + m * unbiased).astype(self.running_var.dtype)
        self.num_batches_tracked = self.num_batches_tracked + 1


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (B, C) or (B, C, L) inputs (PyTorch's defaults and buffers).

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: weight of the newest batch in the running statistics.
    """


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (B, C, H, W) inputs (see BatchNorm1d)."""


class RevIN(Module):
    """Reversible instance normalisation over time, per series and channel.

    `norm` standardises x (B, L, C) with statistics of its own window (mean and scale detached,
    as in the reference code) and remembers them; `denorm` maps model outputs back.

    Args:
        num_features: C.
        eps: added to the variance (and guards the affine division).
        affine: learn a per-channel scale and shift.
        subtract_last: centre on the last value instead of the mean.

    References:
        Kim, T., Kim, J., Tae, Y., Park, C., Choi, J.-H., Choo, J. (2022). "Reversible Instance
        Normalization for Accurate Time-Series Forecasting against Distribution Shift." ICLR.
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, affine: bool = True, subtract_last: bool = False
    ) -> None:
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.affine, self.subtract_last = affine, subtract_last
        if affine:
            self.affine_weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.affine_bias = Parameter(np.zeros(num_features, dtype=np.float32))
        self._centre: Tensor | None = None
        self._scale: Tensor | None = None

    def norm(self, x: Tensor) -> Tensor:
        """x (B, L, C) -> standardised, scaled and shifted (B, L, C)."""
        last = x[:, -1:, :]  # (B, 1, C)
        self._centre = last if self.subtract_last else x.mean(axis=1, keepdims=True).detach()
        with no_grad():
            self._scale = (x.var(axis=1, keepdims=True) + self.eps).sqrt()
        y = (x - self._centre) / self._scale
        return y * self.affine_weight + self.affine_bias if self.affine else y

    def denorm(self, y: Tensor) -> Tensor:
        """Invert `norm` with the statistics of the last `norm` call: (B, L', C) -> (B, L', C)."""
        if self._centre is None or self._scale is None:
            raise RuntimeError("RevIN.denorm called before norm")
        if self.affine:
            y = (y - self.affine_bias) / (self.affine_weight + self.eps * self.eps)
        return y * self._scale + self._centre
