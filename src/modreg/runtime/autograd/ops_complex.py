"""Complex arithmetic on (real, imag) pairs of real Tensors, as `rfft` and `irfft` return them.

Each op computes with numpy's complex dtypes (complex64 for float32, complex128 for float64,
so a complex matmul is one BLAS cgemm/zgemm) and returns its result as a (real, imag) pair.
For a real loss with cotangent G = g_re + i g_im on an output w, the gradient on an input z is
G * conj(dw/dz) for holomorphic maps (PyTorch's convention), split back into real and imaginary
parts: for w = A @ B that is dA = G @ B^H and dB = A^H @ G.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from modreg.runtime.autograd.tensor import Tensor, register_op, result, unbroadcast

__all__ = ["complex_matmul", "complex_tanh"]


def _joined(z: np.ndarray, parents: tuple[Tensor, ...], backward: Callable[[np.ndarray], None],
            dtype: np.dtype) -> tuple[Tensor, Tensor]:
    """One recorded node holding [real, imag]; the pair is its two halves."""
    joined = result(np.stack([z.real, z.imag]).astype(dtype, copy=False), parents, backward)
    return joined[0], joined[1]


def _give(re: Tensor, im: Tensor, grad: np.ndarray) -> None:
    """Accumulate a complex gradient into the (re, im) pair that made the input."""
    if re.requires_grad:
        re.accumulate(unbroadcast(np.ascontiguousarray(grad.real), re.shape), fresh=True)
    if im.requires_grad:
        im.accumulate(unbroadcast(np.ascontiguousarray(grad.imag), im.shape), fresh=True)


@register_op("complex_matmul")
def complex_matmul(a_re: Tensor, a_im: Tensor, b_re: Tensor, b_im: Tensor) -> tuple[Tensor, Tensor]:
    """(A @ B) for complex A = a_re + i a_im and B = b_re + i b_im, numpy matmul semantics
    for operands of two or more axes (batched, broadcast batch axes). Returns (real, imag)."""
    a, b = a_re.data + 1j * a_im.data, b_re.data + 1j * b_im.data

    def backward(g: np.ndarray) -> None:
        grad = g[0] + 1j * g[1]
        if a_re.requires_grad or a_im.requires_grad:
            _give(a_re, a_im, grad @ np.conj(np.swapaxes(b, -1, -2)))
        if b_re.requires_grad or b_im.requires_grad:
            _give(b_re, b_im, np.conj(np.swapaxes(a, -1, -2)) @ grad)

    return _joined(a @ b, (a_re, a_im, b_re, b_im), backward, a_re.dtype)


@register_op("complex_tanh")
def complex_tanh(re: Tensor, im: Tensor) -> tuple[Tensor, Tensor]:
    """tanh(re + i im) elementwise; its derivative is 1 - tanh(z)**2. Returns (real, imag)."""
    out = np.tanh(re.data + 1j * im.data)

    def backward(g: np.ndarray) -> None:
        _give(re, im, (g[0] + 1j * g[1]) * np.conj(1.0 - out * out))

    return _joined(out, (re, im), backward, re.dtype)
