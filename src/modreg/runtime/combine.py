"""Combining the forecasts of several models into one: median or mean, and quantile averaging.

Point forecasts combine value by value: the median (robust to one bad member, the N-BEATS
paper's choice) or the mean of the members' point forecasts.

Probabilistic forecasts (MQLoss, DistributionLoss: `-median`, `-lo-L`, `-hi-L` columns)
combine by quantile averaging (Vincentization): each quantile level is combined across the
members, so the ensemble's 90% bounds are the mean (or median) of the members' 90% bounds.
Both are order-preserving, so bounds that do not cross in every member do not cross in the
ensemble; the levels are sorted at every point all the same, so the result never crosses.
Intervals are given for the levels every member gives; when some member forecasts a point
only, the ensemble forecasts a point only. Distribution parameter columns (`-mu`, ...) are not
combined.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime.models.forecast import Forecast

__all__ = ["Combine", "combine_forecasts", "combine_values", "quantile_of"]

Combine = Literal["median", "mean"]
_BOUND = re.compile(r"^-(lo|hi)-(\d+(?:\.\d+)?)$")


def quantile_of(suffix: str) -> float | None:
    """The quantile a column suffix stands for: `-median` 0.5, `-lo-90` 0.05, `-hi-90` 0.95; None otherwise."""
    if suffix == "-median":
        return 0.5
    match = _BOUND.match(suffix)
    if match is None:
        return None
    level = float(match.group(2)) / 200.0
    return 0.5 - level if match.group(1) == "lo" else 0.5 + level


def combine_values(stacked: np.ndarray, how: Combine) -> np.ndarray:
    """Combine along the first axis (one slice per member): the median or the mean."""
    if how == "median":
        return np.median(stacked, axis=0)
    if how == "mean":
        return np.mean(stacked, axis=0)
    raise UsageError(f"`{how}` is not a way to combine forecasts.", hint="use median or mean.")


def combine_forecasts(name: str, forecasts: Sequence[Forecast], how: Combine) -> Forecast:
    """One forecast named `name` from `forecasts` of the same series and steps (see the module docstring).

    Raises:
        UsageError: no forecasts, or forecasts of different series or horizons.
    """
    if not forecasts:
        raise UsageError("There are no forecasts to combine.")
    first = forecasts[0]
    for other in forecasts[1:]:
        if other.ids != first.ids or other.h != first.h:
            raise UsageError(f"{other.model} forecasts other series or another horizon than {first.model}, "
                             "so they cannot be combined.")
    values = {name: combine_values(np.stack([f.point for f in forecasts]), how)}
    values.update(_quantile_columns(name, forecasts, how))
    return Forecast(name, first.ids, first.ds, values)


def _quantile_columns(name: str, forecasts: Sequence[Forecast], how: Combine) -> dict[str, np.ndarray]:
    """The quantile columns every member has, combined level by level, sorted at every point."""
    per_member = [_quantiles(f) for f in forecasts]
    common = sorted(set.intersection(*(set(q) for q in per_member)))
    if not common:
        return {}
    levels = np.stack([combine_values(np.stack([q[level][1] for q in per_member]), how) for level in common])
    levels = np.sort(levels, axis=0)  # (n_levels, n_series, h): no crossing, whatever the members did
    suffixes = [per_member[0][level][0] for level in common]
    ordered = sorted(range(len(common)), key=lambda k: (suffixes[k] != "-median", common[k]))
    return {f"{name}{suffixes[k]}": levels[k] for k in ordered}


def _quantiles(forecast: Forecast) -> dict[float, tuple[str, np.ndarray]]:
    """quantile -> (column suffix, values) of one forecast's quantile columns."""
    found = {}
    for column, values in forecast.values.items():
        suffix = column[len(forecast.model):]
        q = quantile_of(suffix)
        if q is not None:
            found[round(q, 9)] = (suffix, values)
    return found
