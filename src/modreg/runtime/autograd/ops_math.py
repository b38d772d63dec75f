"""Elementwise, binary and matrix-product ops, each with its vector-Jacobian product.

Every binary op broadcasts like numpy and sums gradients back with `unbroadcast`. Python
scalars and ndarrays combine with a tensor in the tensor's dtype, so float32 stays float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modreg.runtime.autograd.blas import gemm, split_rows
from modreg.runtime.autograd.tensor import Tensor, as_tensor, register_op, result, unbroadcast

__all__ = [
    "abs_", "add", "astype", "clip", "div", "exp", "linear", "log", "matmul", "maximum", "minimum", "mul",
    "neg", "power", "relu", "sigmoid", "sigmoid_array", "softplus", "sqrt", "sub", "tanh", "where",
]


def _operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    b = as_tensor(b)
    return as_tensor(a, b), b


# ----- Binary arithmetic -----
@register_op("add")
def add(a: Any, b: Any) -> Tensor:
    """a + b with broadcasting."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> None:
        if a.requires_grad:
            a.accumulate(unbroadcast(g, a.shape))
        if b.requires_grad:
            b.accumulate(unbroadcast(g, b.shape))

    return result(a.data + b.data, (a, b), backward)


@register_op("sub")
def sub(a: Any, b: Any) -> Tensor:
    """a - b with broadcasting."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> None:
        if a.requires_grad:
            a.accumulate(unbroadcast(g, a.shape))
        if b.requires_grad:
            b.accumulate(unbroadcast(-g, b.shape), fresh=True)

    return result(a.data - b.data, (a, b), backward)


@register_op("mul")
def mul(a: Any, b: Any) -> Tensor:
    """a * b with broadcasting."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> None:
        if a.requires_grad:
            a.accumulate(unbroadcast(g * b.data, a.shape), fresh=True)
        if b.requires_grad:
            b.accumulate(unbroadcast(g * a.data, b.shape), fresh=True)

    return result(a.data * b.data, (a, b), backward)


@register_op("div")
def div(a: Any, b: Any) -> Tensor:
    """a / b with broadcasting."""
    a, b = _operands(a, b)
    out = a.data / b.data

    def backward(g: np.ndarray) -> None:
        gb = g / b.data
        if b.requires_grad:
            b.accumulate(unbroadcast(-gb * out, b.shape), fresh=True)
        if a.requires_grad:
            a.accumulate(unbroadcast(gb, a.shape), fresh=True)

    return result(out, (a, b), backward)


@register_op("neg")
def neg(a: Tensor) -> Tensor:
    """-a."""
    return result(-a.data, (a,), lambda g: a.accumulate(-g, fresh=True))


@register_op("power")
def power(a: Tensor, exponent: float) -> Tensor:
    """a ** exponent for a scalar exponent."""
    if isinstance(exponent, Tensor) or np.ndim(exponent) != 0:
        raise TypeError("Tensor ** only supports a scalar exponent")
    p = float(exponent)

    def backward(g: np.ndarray) -> None:
        a.accumulate(g * (p * a.data ** (p - 1.0)), fresh=True)

    return result(a.data**p, (a,), backward)


@register_op("maximum")
def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; ties send the gradient to `a`."""
    a, b = _operands(a, b)
    return where(a.data >= b.data, a, b)


@register_op("minimum")
def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; ties send the gradient to `a`."""
    a, b = _operands(a, b)
    return where(a.data <= b.data, a, b)


@register_op("where")
def where(cond: Any, a: Any, b: Any) -> Tensor:
    """`a` where `cond` (a boolean array) is true, else `b`, with broadcasting."""
    mask = np.asarray(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> None:
        if a.requires_grad:
            a.accumulate(unbroadcast(g * mask, a.shape), fresh=True)
        if b.requires_grad:
            b.accumulate(unbroadcast(g * ~mask, b.shape), fresh=True)

    return result(np.where(mask, a.data, b.data), (a, b), backward)


# ----- Matrix products -----
@register_op("matmul")
def matmul(a: Any, b: Any) -> Tensor:
    """a @ b: numpy matmul semantics (1-D promotion, batched, broadcast batch dims)."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> None:
        a2 = a.data if a.ndim > 1 else a.data[None, :]
        b2 = b.data if b.ndim > 1 else b.data[:, None]
        g2 = g.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1]))
        if a.requires_grad:
            ga = unbroadcast(_product(g2, np.swapaxes(b2, -1, -2)), a2.shape)
            a.accumulate(ga.reshape(a.shape), fresh=True)
        if b.requires_grad:
            b.accumulate(_matmul_grad_b(a2, g2, b2.shape).reshape(b.shape), fresh=True)

    return result(_product(a.data, b.data) if a.ndim > 1 and b.ndim > 1 else a.data @ b.data, (a, b), backward)


def _matmul_grad_b(a2: np.ndarray, g2: np.ndarray, b_shape: tuple[int, ...]) -> np.ndarray:
    if len(b_shape) == 2 and a2.ndim > 2:  # fold the batch into one GEMM
        return _product(a2.reshape(-1, a2.shape[-1]).T, g2.reshape(-1, g2.shape[-1]))
    return unbroadcast(_product(np.swapaxes(a2, -1, -2), g2), b_shape)


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b; a 2-D product is split over the training threads (`blas.split_rows`) along the
    longer side of its result, batched ones go to `gemm`."""
    if a.ndim != 2 or b.ndim != 2:
        return gemm(a, b)
    (m, k), n = a.shape, b.shape[1]
    out = np.empty((m, n), dtype=np.result_type(a, b))

    def product_rows(block: slice) -> None:
        np.matmul(a[block], b, out=out[block])

    def product_columns(block: slice) -> None:
        np.matmul(a, b[:, block], out=out[:, block])

    split_rows(max(m, n), m * k * n, ("matmul", m.bit_length(), k.bit_length(), n.bit_length()),
               product_rows if m >= n else product_columns)
    return out


@register_op("linear")
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None, relu: bool = False) -> Tensor:
    """x @ weight.T + bias, fused: x (..., in), weight (out, in), bias (out,) or None.

    `relu=True` also applies max(., 0) in place: one op, one array fewer than linear then relu.
    It multiplies by the mask of positive values, which the backward reuses (a pre-activation
    of -inf, a float32 overflow, becomes NaN where np.maximum gives 0: the fit reports it).
    Big products are split by rows over the training threads (`blas.split_rows`), each block's
    bias and ReLU done by the thread that computed it; the backward splits the input gradient
    by rows and the weight and bias gradients along the weight's longer side.
    """
    x2, w = x.data.reshape(-1, x.shape[-1]), weight.data
    n, (units, features) = len(x2), w.shape
    out = np.empty((n, units), dtype=np.result_type(x2, w))
    active = np.empty((n, units), dtype=bool) if relu else out  # where the ReLU passes (its gradient's mask)

    def forward_rows(rows: slice) -> None:
        block = out[rows]
        np.matmul(x2[rows], w.T, out=block)
        if bias is not None:
            block += bias.data
        if relu:  # a mask and a product: cheaper than np.maximum, and the backward reuses the mask
            np.greater(block, 0, out=active[rows])
            np.multiply(block, active[rows], out=block)

    split_rows(n, n * units * features, ("linear", n.bit_length(), features, units), forward_rows)

    def backward(g: np.ndarray) -> None:
        g2 = g.reshape(-1, units)
        gm = np.empty_like(g2) if relu else g2  # the gradient at the pre-activation
        gx = np.empty((n, features), dtype=np.result_type(g2, w)) if x.requires_grad else None

        def input_rows(rows: slice) -> None:
            if relu:
                np.multiply(g2[rows], active[rows], out=gm[rows])
            if gx is not None:
                np.matmul(gm[rows], w, out=gx[rows])

        if relu or gx is not None:
            split_rows(n, n * units * features, ("linear-dx", n.bit_length(), features, units), input_rows)
        if gx is not None:
            x.accumulate(gx.reshape(x.shape), fresh=True)
        _linear_parameter_grads(gm, x2, weight, bias)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return result(out.reshape(x.shape[:-1] + (units,)), parents, backward)


def _linear_parameter_grads(gm: np.ndarray, x2: np.ndarray, weight: Tensor, bias: Tensor | None) -> None:
    """weight.grad += gm.T @ x2 and bias.grad += gm summed over rows, split along the longer
    side of the weight (each block of a short side would repack all of x2: +26% for 54 units)."""
    gw = np.empty(weight.shape, dtype=np.result_type(gm, x2)) if weight.requires_grad else None
    gb = np.empty(gm.shape[1], dtype=gm.dtype) if bias is not None and bias.requires_grad else None
    if gw is None and gb is None:
        return
    n, (units, features) = len(x2), weight.shape

    def unit_rows(block: slice) -> None:
        if gw is not None:
            np.matmul(gm[:, block].T, x2, out=gw[block])
        if gb is not None:
            np.sum(gm[:, block], axis=0, out=gb[block])

    def feature_columns(block: slice) -> None:
        if gw is not None:
            np.matmul(gm.T, x2[:, block], out=gw[:, block])
        if gb is not None and block.start == 0:
            np.sum(gm, axis=0, out=gb)

    by_unit = units >= features or gw is None
    split_rows(units if by_unit else features, n * units * features,
               ("linear-dw", n.bit_length(), features, units), unit_rows if by_unit else feature_columns)
    if gw is not None:
        weight.accumulate(gw, fresh=True)
    if gb is not None and bias is not None:
        bias.accumulate(gb, fresh=True)


# ----- Elementwise -----
@register_op("exp")
def exp(a: Tensor) -> Tensor:
    """e ** a."""
    out = np.exp(a.data)
    return result(out, (a,), lambda g: a.accumulate(g * out, fresh=True))


@register_op("log")
def log(a: Tensor) -> Tensor:
    """Natural logarithm."""
    return result(np.log(a.data), (a,), lambda g: a.accumulate(g / a.data, fresh=True))


@register_op("sqrt")
def sqrt(a: Tensor) -> Tensor:
    """Square root."""
    out = np.sqrt(a.data)
    return result(out, (a,), lambda g: a.accumulate(g * 0.5 / out, fresh=True))


@register_op("abs")
def abs_(a: Tensor) -> Tensor:
    """|a| (gradient sign(a), 0 at 0)."""
    return result(np.abs(a.data), (a,), lambda g: a.accumulate(g * np.sign(a.data), fresh=True))


@register_op("tanh")
def tanh(a: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    out = np.tanh(a.data)
    return result(out, (a,), lambda g: a.accumulate(g * (1.0 - out * out), fresh=True))


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """Logistic function 1/(1+exp(-x)); exp overflowing to inf correctly gives 0."""
    out = np.negative(x)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


@register_op("sigmoid")
def sigmoid(a: Tensor) -> Tensor:
    """Logistic sigmoid."""
    out = sigmoid_array(a.data)
    return result(out, (a,), lambda g: a.accumulate(g * out * (1.0 - out), fresh=True))


@register_op("relu")
def relu(a: Tensor) -> Tensor:
    """max(a, 0)."""
    out = np.maximum(a.data, 0)
    return result(out, (a,), lambda g: a.accumulate(g * (out > 0), fresh=True))


@register_op("softplus")
def softplus(a: Tensor) -> Tensor:
    """log(1 + e**a), computed stably; gradient sigmoid(a)."""
    out = np.logaddexp(a.data, 0.0).astype(a.dtype, copy=False)
    return result(out, (a,), lambda g: a.accumulate(g * sigmoid_array(a.data), fresh=True))


@register_op("clip")
def clip(a: Tensor, lo: float | None, hi: float | None) -> Tensor:
    """Clamp into [lo, hi]; the gradient passes where lo <= a <= hi (PyTorch's clamp)."""
    keep = np.ones(a.shape, dtype=bool)
    if lo is not None:
        keep &= a.data >= lo
    if hi is not None:
        keep &= a.data <= hi
    out = np.clip(a.data, lo, hi)
    return result(out, (a,), lambda g: a.accumulate(g * keep, fresh=True))


@register_op("astype")
def astype(a: Tensor, dtype: Any) -> Tensor:
    """Cast to `dtype`; the gradient is cast back."""
    out = a.data.astype(dtype, copy=False)
    return result(out, (a,), lambda g: a.accumulate(g.astype(a.dtype), fresh=True))
