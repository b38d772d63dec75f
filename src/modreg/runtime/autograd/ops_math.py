"""Elementwise, binary and matrix-product ops, each with its vector-Jacobian product.

Every binary op broadcasts like numpy and sums gradients back with `unbroadcast`. Python
scalars and ndarrays combine with a tensor in the tensor's dtype, so float32 stays float32.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modreg.runtime.autograd.blas import gemm
from modreg.runtime.autograd.tensor import Tensor, as_tensor, register_op, result, unbroadcast

__all__ = [
    "abs_", "add", "astype", "clip", "div", "elu", "erf", "exp", "gelu", "linear", "log", "matmul",
    "maximum", "minimum", "mul", "neg", "power", "relu", "sigmoid", "sigmoid_array", "softplus",
    "sqrt", "sub", "tanh", "where",
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
            ga = unbroadcast(gemm(g2, np.swapaxes(b2, -1, -2)), a2.shape)
            a.accumulate(ga.reshape(a.shape), fresh=True)
        if b.requires_grad:
            b.accumulate(_matmul_grad_b(a2, g2, b2.shape).reshape(b.shape), fresh=True)

    return result(gemm(a.data, b.data) if a.ndim > 1 and b.ndim > 1 else a.data @ b.data, (a, b), backward)


def _matmul_grad_b(a2: np.ndarray, g2: np.ndarray, b_shape: tuple[int, ...]) -> np.ndarray:
    if len(b_shape) == 2 and a2.ndim > 2:  # fold the batch into one GEMM
        return gemm(a2.reshape(-1, a2.shape[-1]).T, g2.reshape(-1, g2.shape[-1]))
    return unbroadcast(gemm(np.swapaxes(a2, -1, -2), g2), b_shape)


@register_op("linear")
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None, relu: bool = False) -> Tensor:
    """x @ weight.T + bias, fused: x (..., in), weight (out, in), bias (out,) or None.

    `relu=True` also applies max(., 0) in place: one op, one array fewer than linear then relu.
    """
    x2 = x.data.reshape(-1, x.shape[-1])
    out = gemm(x2, weight.data.T)
    if bias is not None:
        out += bias.data
    if relu:
        np.maximum(out, 0, out=out)

    def backward(g: np.ndarray) -> None:
        g2 = g.reshape(-1, g.shape[-1])
        if relu:
            g2 = g2 * (out > 0)
        if x.requires_grad:
            x.accumulate(gemm(g2, weight.data).reshape(x.shape), fresh=True)
        if weight.requires_grad:
            weight.accumulate(gemm(g2.T, x2), fresh=True)
        if bias is not None and bias.requires_grad:
            bias.accumulate(g2.sum(axis=0), fresh=True)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return result(out.reshape(x.shape[:-1] + (weight.shape[0],)), parents, backward)


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


# erfc(z) = t exp(-z^2) P(t), t = 1 / (1 + p z), z >= 0 (the form of Abramowitz & Stegun 7.1.26,
# with p = 0.3275911 and a degree-6 P): a Lawson-reweighted least-squares fit of erfc(z) exp(z^2) / t
# over z in [0, 9], max |error| 4.5e-9 in float64, below float32 rounding. Sharing exp(-z^2) with
# the Gaussian density lets GELU's backward reuse it instead of computing a second exp.
_ERFC_P = 0.3275911
_ERFC_COEFFS = (  # P's coefficients, highest degree first (Horner order)
    -0.29856488122297026, 1.5052520775689384, -2.086142169517106, 2.0403987938409784,
    -0.7490141086323082, 0.4310048017948842, 0.15706549066210743,
)


def _half_erfc(z: np.ndarray, gauss: np.ndarray) -> np.ndarray:
    """erfc(z) / 2 for z >= 0 given gauss = exp(-z^2): a new array in z's dtype."""
    t = np.multiply(z, _ERFC_P)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = np.multiply(t, 0.5 * _ERFC_COEFFS[0])
    for c in _ERFC_COEFFS[1:]:
        poly += 0.5 * c
        poly *= t
    poly *= gauss
    return poly


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, |error| < 1e-8 (float64), vectorised, in x's dtype."""
    z = np.abs(x)
    gauss = np.square(z)
    np.negative(gauss, out=gauss)
    np.exp(gauss, out=gauss)
    out = _half_erfc(z, gauss)
    np.multiply(out, -2.0, out=out)
    out += 1.0
    return np.copysign(out, x, out=out)


_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@register_op("gelu")
def gelu(a: Tensor) -> Tensor:
    """GELU, exact erf form (PyTorch's default): a * Phi(a), Phi(a) = (1 + erf(a / sqrt 2)) / 2.

    Phi(a) = 1/2 + sign(a) (1/2 - erfc(|a| / sqrt 2) / 2); the forward's exp(-a^2 / 2) is kept
    for the backward, a * Phi'(a) + Phi(a) with Phi' the Gaussian density.
    """
    x = a.data
    z = np.abs(x)
    z *= _INV_SQRT2
    gauss = np.square(z)
    np.negative(gauss, out=gauss)
    np.exp(gauss, out=gauss)  # exp(-a^2 / 2)
    cdf = _half_erfc(z, gauss)
    np.subtract(0.5, cdf, out=cdf)
    np.copysign(cdf, x, out=cdf)
    cdf += 0.5

    def backward(g: np.ndarray) -> None:
        slope = np.multiply(x, gauss)
        slope *= _INV_SQRT_2PI
        slope += cdf
        slope *= g
        a.accumulate(slope, fresh=True)

    return result(x * cdf, (a,), backward)


@register_op("elu")
def elu(a: Tensor, alpha: float = 1.0) -> Tensor:
    """ELU (PyTorch's F.elu): a where a > 0, else alpha * (e**a - 1).

    With alpha = 1 (the default), e**a - 1 >= a wherever a <= 0 (and is 0 where a > 0), so the
    output is max(a, expm1(min(a, 0))) and the slope min(output, 0) + 1: no select, which numpy
    runs several times slower than arithmetic.
    """
    x = a.data
    below = np.minimum(x, 0)
    np.expm1(below, out=below)
    if alpha == 1.0:
        out = np.maximum(below, x, out=below)
        positive = None
    else:
        below *= np.asarray(alpha, dtype=below.dtype)
        positive = x > 0
        out = np.where(positive, x, below)

    def backward(g: np.ndarray) -> None:
        if positive is None:
            slope = np.minimum(out, 0)
            slope += 1
        else:
            slope = np.where(positive, 1, out + np.asarray(alpha, dtype=out.dtype)).astype(out.dtype, copy=False)
        slope *= g
        a.accumulate(slope, fresh=True)

    return result(out, (a,), backward)
