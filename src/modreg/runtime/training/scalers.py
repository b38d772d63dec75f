"""Temporal scalers with neuralforecast's semantics, in numpy.

Each scaler computes a `(shift, scale)` pair per window along the time axis from the valid
(masked-in) points, then `transform` gives `(x - shift) / scale` and `inverse` undoes it. As in
neuralforecast's `common/_scalers.py`: a zero scale becomes 1 and every scale then gets `+ eps`,
so a constant window never divides by zero; the robust scalers replace a zero median absolute
deviation by 0.6745 * std first; medians of an even count take the lower middle value (torch's
`nanmedian`). One deliberate difference: a window with no valid point gets shift 0 and scale
1 + eps instead of NaN or infinity.

`revin` (Kim et al., 2022, "Reversible Instance Normalization") is neuralforecast's: the standard
statistics to scale, and an affine (bias b, weight w) on the inverse, shift + b and
scale * (relu(w) + eps). neuralforecast computes point losses on scaled values, so b and w only
ever learn through a distribution loss's scale decoupling; modreg keeps them at their initial
b = 0, w = 1 for every loss (the same forecasts as neuralforecast's for point losses).

`absmean` is not neuralforecast's: no shift and the mean |x| as scale (GluonTS's mean scaling),
besides identity, the one scaler under which a percentage loss (MAPE, sMAPE) of scaled values is
that of the data.
"""

from __future__ import annotations

import difflib

import numpy as np

from modreg.errors import UsageError

__all__ = [
    "SCALER_NAMES",
    "AbsMeanScaler",
    "IdentityScaler",
    "InvariantScaler",
    "MinMax1Scaler",
    "MinMaxScaler",
    "RevinScaler",
    "RobustScaler",
    "Scaler",
    "StandardScaler",
    "get_scaler",
    "masked_mean",
    "masked_median",
]

_MAD_PER_STD = 0.6744897501960817  # the MAD of a standard normal distribution
Mask = np.ndarray | None
Stats = tuple[np.ndarray, np.ndarray]


def _valid(x: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    return np.ones(x.shape, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask) > 0, x.shape)


def masked_mean(x: np.ndarray, mask: np.ndarray | None = None, axis: int = -1) -> np.ndarray:
    """Mean of the valid points along `axis` (kept as size 1); 0 where none is valid."""
    valid = _valid(x, mask)
    count = valid.sum(axis=axis, keepdims=True).astype(x.dtype)
    total = np.where(valid, x, 0).sum(axis=axis, keepdims=True)
    return np.where(count > 0, total / np.maximum(count, 1), 0).astype(x.dtype)


def masked_median(x: np.ndarray, mask: np.ndarray | None = None, axis: int = -1) -> np.ndarray:
    """Lower median of the valid points along `axis` (kept as size 1); 0 where none is valid."""
    valid = _valid(x, mask)
    ordered = np.sort(np.where(valid, x, np.nan), axis=axis)  # NaN (masked) sorts last
    count = valid.sum(axis=axis, keepdims=True)
    middle = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0), axis=axis)
    return np.where(count > 0, middle, 0).astype(x.dtype)


def _protect(scale: np.ndarray, eps: float) -> np.ndarray:
    """neuralforecast's guard: zero scales become 1, then every scale gets + eps."""
    return np.where(scale == 0, 1, scale) + np.asarray(eps, dtype=scale.dtype)


class Scaler:
    """Base scaler: `stats` gives (shift, scale) with `axis` kept; `(x - shift) / scale`."""

    name = ""

    def __init__(self, eps: float = 1e-6) -> None:
        self.eps = eps

    def stats(self, x: np.ndarray, mask: Mask = None, axis: int = -1) -> Stats:
        """Shift and scale of the valid points of `x` along `axis` (shape of x, axis size 1)."""
        raise NotImplementedError

    def transform(self, x: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return (x - shift) / scale

    def inverse(self, z: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return z * scale + shift

    def __repr__(self) -> str:
        return f"{type(self).__name__}(eps={self.eps})"


class IdentityScaler(Scaler):
    """No scaling: shift 0 and scale 1."""

    name = "identity"

    def stats(self, x: np.ndarray, mask: Mask = None, axis: int = -1) -> Stats:
        shape = list(np.shape(x))
        shape[axis] = 1
        return np.zeros(shape, dtype=x.dtype), np.ones(shape, dtype=x.dtype)

    def transform(self, x: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return x

    def inverse(self, z: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return z


class StandardScaler(Scaler):
    """Mean and (population) standard deviation."""

    name = "standard"

    def stats(self, x: np.ndarray, mask: Mask = None, axis: int = -1) -> Stats:
        mean = masked_mean(x, mask, axis)
        std = np.sqrt(masked_mean((x - mean) ** 2, mask, axis))
        return mean, _protect(std, self.eps)


class RevinScaler(StandardScaler):
    """The standard statistics; the inverse uses RevIN's affine at its initial values (see the module doc)."""

    name = "revin"

    def inverse(self, z: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return z * (scale * np.asarray(1.0 + self.eps, dtype=scale.dtype)) + shift


class RobustScaler(Scaler):
    """Median and median absolute deviation (0.6745 * std when the deviation is 0)."""

    name = "robust"

    def stats(self, x: np.ndarray, mask: Mask = None, axis: int = -1) -> Stats:
        median = masked_median(x, mask, axis)
        mad = masked_median(np.abs(x - median), mask, axis)
        mean = masked_mean(x, mask, axis)
        std = np.sqrt(masked_mean((x - mean) ** 2, mask, axis))
        mad = np.where(mad > 0, mad, std * _MAD_PER_STD).astype(x.dtype)
        return median, _protect(mad, self.eps)


class AbsMeanScaler(Scaler):
    """No shift, and the mean absolute value as scale (GluonTS's and DeepAR's mean scaling).

    Dividing by a positive number keeps every ratio of errors: MAPE, sMAPE, MASE and relMSE of
    the scaled window are those of the data, so a scale-free loss trained on it means what it
    says, while the network reads values of order 1 whatever the series' level.
    """

    name = "absmean"

    def stats(self, x: np.ndarray, mask: Mask = None, axis: int = -1) -> Stats:
        scale = masked_mean(np.abs(x), mask, axis)
        return np.zeros_like(scale), _protect(scale, self.eps)


class InvariantScaler(RobustScaler):
    """The robust statistics followed by arcsinh; the inverse applies sinh first."""

    name = "invariant"

    def transform(self, x: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return np.arcsinh((x - shift) / scale)

    def inverse(self, z: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return np.sinh(z) * scale + shift


class MinMaxScaler(Scaler):
    """Minimum and range, mapping the window to [0, 1]."""

    name = "minmax"

    def stats(self, x: np.ndarray, mask: Mask = None, axis: int = -1) -> Stats:
        valid = _valid(x, mask)
        any_valid = valid.any(axis=axis, keepdims=True)
        low = np.where(any_valid, np.where(valid, x, np.inf).min(axis=axis, keepdims=True), 0)
        high = np.where(any_valid, np.where(valid, x, -np.inf).max(axis=axis, keepdims=True), 0)
        return low.astype(x.dtype), _protect((high - low).astype(x.dtype), self.eps)


class MinMax1Scaler(MinMaxScaler):
    """Minimum and range, mapping the window to [-1, 1]."""

    name = "minmax1"

    def transform(self, x: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return (x - shift) / scale * 2 - 1

    def inverse(self, z: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return (z + 1) / 2 * scale + shift


_SCALERS: dict[str, type[Scaler]] = {
    cls.name: cls
    for cls in (IdentityScaler, StandardScaler, RobustScaler, MinMaxScaler, MinMax1Scaler, InvariantScaler,
                RevinScaler, AbsMeanScaler)
}
SCALER_NAMES: tuple[str, ...] = tuple(_SCALERS)


def get_scaler(name: str | None, eps: float = 1e-6) -> Scaler:
    """The scaler called `name` (None means identity, as in neuralforecast).

    Raises:
        UsageError: an unknown name, listing the available ones.
    """
    key = "identity" if name is None else name
    if key not in _SCALERS:
        close = difflib.get_close_matches(key, SCALER_NAMES, n=1)
        guess = f" (did you mean '{close[0]}'?)" if close else ""
        available = ", ".join(SCALER_NAMES)
        raise UsageError(f"unknown scaler '{key}'{guess}.", hint=f"available scalers: {available}")
    return _SCALERS[key](eps=eps)
