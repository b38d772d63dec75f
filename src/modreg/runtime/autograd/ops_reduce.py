"""Reductions and normalisations over axes: sum, mean, max/min, var, logsumexp, softmax."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["log_softmax", "logsumexp", "max_", "mean", "min_", "softmax", "sum_", "var"]

Axis = int | Sequence[int] | None


def _keep(g: np.ndarray, ndim: int, axis: Axis, keepdims: bool) -> np.ndarray:
    """Reinsert the reduced axes of `g` as size-1 axes (so it broadcasts against the input)."""
    if keepdims:
        return g
    if axis is None:
        return g.reshape((1,) * ndim)
    return np.expand_dims(g, axis)


def _count(shape: tuple[int, ...], axis: Axis) -> int:
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return int(np.prod([shape[i] for i in axes]))


def _axis(axis: Axis) -> int | tuple[int, ...] | None:
    return axis if axis is None or isinstance(axis, int) else tuple(axis)


# ----- Reductions -----
@register_op("sum")
def sum_(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over `axis` (all axes when None)."""
    axis = _axis(axis)

    def backward(g: np.ndarray) -> None:
        a.accumulate(np.broadcast_to(_keep(g, a.ndim, axis, keepdims), a.shape))

    return result(np.asarray(a.data.sum(axis=axis, keepdims=keepdims)), (a,), backward)


@register_op("mean")
def mean(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over `axis` (all axes when None)."""
    axis = _axis(axis)
    scale = 1.0 / _count(a.shape, axis)

    def backward(g: np.ndarray) -> None:
        a.accumulate(np.broadcast_to(_keep(g * scale, a.ndim, axis, keepdims), a.shape))

    return result(np.asarray(a.data.mean(axis=axis, keepdims=keepdims)), (a,), backward)


def _extremum(a: Tensor, axis: Axis, keepdims: bool, method: str) -> Tensor:
    axis = _axis(axis)
    best = getattr(a.data, method)(axis=axis, keepdims=True)

    def backward(g: np.ndarray) -> None:
        hit = a.data == best
        share = _keep(g, a.ndim, axis, keepdims) / hit.sum(axis=axis, keepdims=True)
        a.accumulate(np.where(hit, share, 0).astype(a.dtype, copy=False), fresh=True)

    out = best if keepdims else best.reshape(np.squeeze(best, axis).shape)
    return result(out, (a,), backward)


@register_op("max")
def max_(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum over `axis`; ties share the gradient equally."""
    return _extremum(a, axis, keepdims, "max")


@register_op("min")
def min_(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum over `axis`; ties share the gradient equally."""
    return _extremum(a, axis, keepdims, "min")


@register_op("var")
def var(a: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over `axis` with `ddof` degrees of freedom removed (0: biased)."""
    axis = _axis(axis)
    centred = a.data - a.data.mean(axis=axis, keepdims=True)
    scale = 1.0 / (_count(a.shape, axis) - ddof)
    out = np.asarray(np.square(centred).sum(axis=axis, keepdims=keepdims) * scale)

    def backward(g: np.ndarray) -> None:
        a.accumulate(_keep(g, a.ndim, axis, keepdims) * (2.0 * scale) * centred, fresh=True)

    return result(out, (a,), backward)


# ----- Softmax family -----
def _softmax_array(x: np.ndarray, axis: int | tuple[int, ...] | None) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


@register_op("logsumexp")
def logsumexp(a: Tensor, axis: Axis = -1, keepdims: bool = False) -> Tensor:
    """log(sum(exp(a))) over `axis`, computed stably."""
    axis = _axis(axis)
    top = a.data.max(axis=axis, keepdims=True)
    total = np.exp(a.data - top).sum(axis=axis, keepdims=True)
    out = np.log(total) + top

    def backward(g: np.ndarray) -> None:
        weights = np.exp(a.data - out)
        a.accumulate(_keep(g, a.ndim, axis, keepdims) * weights, fresh=True)

    value = out if keepdims else out.reshape(np.squeeze(out, axis).shape)
    return result(value, (a,), backward)


@register_op("softmax")
def softmax(a: Tensor, axis: int = -1) -> Tensor:
    """Softmax along `axis`."""
    out = _softmax_array(a.data, axis)

    def backward(g: np.ndarray) -> None:
        gy = g * out
        gy -= out * gy.sum(axis=axis, keepdims=True)
        a.accumulate(gy, fresh=True)

    return result(out, (a,), backward)


@register_op("log_softmax")
def log_softmax(a: Tensor, axis: int = -1) -> Tensor:
    """log(softmax(a)) along `axis`, computed stably."""
    shifted = a.data - a.data.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(g: np.ndarray) -> None:
        a.accumulate(g - np.exp(out) * g.sum(axis=axis, keepdims=True), fresh=True)

    return result(out, (a,), backward)
