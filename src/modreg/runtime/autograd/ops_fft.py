"""Real FFTs with exact gradients; complex values travel as (real, imag) pairs of real Tensors.

`complex_abs` gives the amplitude |z| of such a pair (TimesNet weighs periods by it).

rfft's adjoint is a half-spectrum inverse DFT *without* Hermitian doubling, so its gradient is
`n * irfft(G)` with the interior bins halved; irfft's adjoint is `rfft(g) / n` with the interior
bins doubled (the DC bin, and the Nyquist bin for even n, count once; their imaginary parts are
ignored by irfft and get zero gradient).
"""

from __future__ import annotations

import numpy as np

from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["complex_abs", "irfft", "rfft"]


def _interior(n_bins: int, n: int) -> slice:
    """The bins that appear twice in a length-n real signal's spectrum."""
    return slice(1, n_bins - 1 if n % 2 == 0 else n_bins)


def _fit(a: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Truncate or zero-pad `a` along `axis` to `length`."""
    have = a.shape[axis]
    if have >= length:
        return np.take(a, np.arange(length), axis=axis)
    width = [(0, 0)] * a.ndim
    width[axis] = (0, length - have)
    return np.pad(a, width)


@register_op("rfft")
def rfft(x: Tensor, n: int | None = None, axis: int = -1) -> tuple[Tensor, Tensor]:
    """Real-input DFT along `axis` (truncated/zero-padded to `n`); returns (real, imag)."""
    axis = axis % x.ndim
    n = n or x.shape[axis]
    spectrum = np.fft.rfft(x.data, n=n, axis=axis)

    def backward(g: np.ndarray) -> None:
        half = np.moveaxis(g[0] + 1j * g[1], axis, -1)
        half[..., _interior(half.shape[-1], n)] *= 0.5
        gx = np.moveaxis(np.fft.irfft(half, n=n, axis=-1) * n, -1, axis)
        x.accumulate(_fit(gx, x.shape[axis], axis), fresh=True)

    joined = result(np.stack([spectrum.real, spectrum.imag]).astype(x.dtype), (x,), backward)
    return joined[0], joined[1]


@register_op("irfft")
def irfft(real: Tensor, imag: Tensor, n: int | None = None, axis: int = -1) -> Tensor:
    """Inverse of rfft along `axis`: a length-n real signal (default n = 2*(bins-1))."""
    axis = axis % real.ndim
    n = n or 2 * (real.shape[axis] - 1)
    out = np.fft.irfft(real.data + 1j * imag.data, n=n, axis=axis).astype(real.dtype)

    def backward(g: np.ndarray) -> None:
        spectrum = np.moveaxis(np.fft.rfft(g, axis=axis), axis, -1) / n
        spectrum[..., _interior(spectrum.shape[-1], n)] *= 2.0
        spectrum = _fit(np.moveaxis(spectrum, -1, axis), real.shape[axis], axis)
        if real.requires_grad:
            real.accumulate(spectrum.real.astype(real.dtype), fresh=True)
        if imag.requires_grad:
            imag.accumulate(spectrum.imag.astype(imag.dtype), fresh=True)

    return result(out, (real, imag), backward)


@register_op("complex_abs")
def complex_abs(real: Tensor, imag: Tensor) -> Tensor:
    """|real + i imag| elementwise; the gradient at 0 is 0 (PyTorch's abs of a complex tensor)."""
    out = np.hypot(real.data, imag.data)

    def backward(g: np.ndarray) -> None:
        safe = np.where(out > 0, out, 1)
        scaled = np.where(out > 0, g / safe, 0)
        if real.requires_grad:
            real.accumulate(scaled * real.data, fresh=True)
        if imag.requires_grad:
            imag.accumulate(scaled * imag.data, fresh=True)

    return result(out, (real, imag), backward)
