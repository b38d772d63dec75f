"""Special functions for likelihoods: `lgamma`, whose gradient is the digamma function.

No scipy: both functions shift their argument up by 8 with the recurrences
ln G(x) = ln G(x + 8) - sum_k ln(x + k) and psi(x) = psi(x + 8) - sum_k 1 / (x + k), k = 0..7,
then apply the asymptotic (Stirling) series at z = x + 8 >= 8, where the first omitted term is
below 3e-13. Defined for x > 0, which is all the distributions need (degrees of freedom,
total counts, y + 1). Computed in float64 and returned in the input's dtype.
"""

from __future__ import annotations

import math

import numpy as np

from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["digamma_array", "lgamma", "lgamma_array"]

_SHIFT = 8
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Stirling series of ln G(z): B_2k / (2k (2k - 1) z^(2k-1)), k = 1..5.
_LGAMMA_SERIES = (1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0, -1.0 / 1680.0, 1.0 / 1188.0)
# Series of psi(z) - ln z + 1/(2z): -B_2k / (2k z^(2k)), k = 1..5.
_DIGAMMA_SERIES = (-1.0 / 12.0, 1.0 / 120.0, -1.0 / 252.0, 1.0 / 240.0, -1.0 / 132.0)


def _shifted(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z = x + 8, the products x (x + 1) ... (x + 7) as a list of terms stacked on axis 0)."""
    x = np.asarray(x, dtype=np.float64)
    return x + _SHIFT, x[None] + np.arange(_SHIFT, dtype=np.float64).reshape((-1,) + (1,) * x.ndim)


def _odd_series(coeffs: tuple[float, ...], inv: np.ndarray, first: np.ndarray) -> np.ndarray:
    """sum_k coeffs[k] * first * inv^(2k), evaluated by Horner's rule in inv^2."""
    inv2 = inv * inv
    total = np.full_like(inv, coeffs[-1])
    for c in coeffs[-2::-1]:
        total = total * inv2 + c
    return total * first


def lgamma_array(x: np.ndarray) -> np.ndarray:
    """ln G(x) for x > 0, float64, relative error about 1e-14."""
    z, terms = _shifted(x)
    inv = 1.0 / z
    stirling = (z - 0.5) * np.log(z) - z + _HALF_LOG_2PI + _odd_series(_LGAMMA_SERIES, inv, inv)
    return stirling - np.log(terms).sum(axis=0)


def digamma_array(x: np.ndarray) -> np.ndarray:
    """psi(x) = d ln G(x) / dx for x > 0, float64."""
    z, terms = _shifted(x)
    inv = 1.0 / z
    series = np.log(z) - 0.5 * inv + _odd_series(_DIGAMMA_SERIES, inv, inv * inv)
    return series - (1.0 / terms).sum(axis=0)


# ----- Elementwise -----
@register_op("lgamma")
def lgamma(a: Tensor) -> Tensor:
    """ln G(a), elementwise, for a > 0; gradient digamma(a)."""
    out = lgamma_array(a.data).astype(a.dtype, copy=False)
    return result(out, (a,), lambda g: a.accumulate(g * digamma_array(a.data).astype(a.dtype), fresh=True))
