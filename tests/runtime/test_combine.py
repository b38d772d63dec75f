"""Combining forecasts: median and mean of points, quantile averaging that never crosses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from modreg.errors import UsageError
from modreg.runtime.combine import combine_forecasts, combine_values, quantile_of
from modreg.runtime.models.forecast import Forecast

DS = (np.arange(3), np.arange(3))
IDS = ("a", "b")


def _point(name: str, value: float) -> Forecast:
    return Forecast(name, IDS, DS, {name: np.full((2, 3), value)})


def _quantiles(name: str, median: float, lo90: float, hi90: float, lo80: float | None = None) -> Forecast:
    values = {name: np.full((2, 3), median), f"{name}-median": np.full((2, 3), median),
              f"{name}-lo-90": np.full((2, 3), lo90), f"{name}-hi-90": np.full((2, 3), hi90)}
    if lo80 is not None:
        values[f"{name}-lo-80"] = np.full((2, 3), lo80)
    return Forecast(name, IDS, DS, values)


def test_median_and_mean_of_point_forecasts() -> None:
    members = [_point("A", 1.0), _point("B", 2.0), _point("C", 10.0)]
    median = combine_forecasts("E", members, "median")
    mean = combine_forecasts("E", members, "mean")
    assert median.columns == ("E",) and median.ids == IDS and median.h == 3
    np.testing.assert_array_equal(median.point, np.full((2, 3), 2.0))
    np.testing.assert_allclose(mean.point, np.full((2, 3), 13.0 / 3))


def test_quantiles_average_level_by_level() -> None:
    members = [_quantiles("A", 10.0, 5.0, 15.0), _quantiles("B", 20.0, 10.0, 40.0)]
    mean = combine_forecasts("E", members, "mean")
    assert mean.columns == ("E", "E-median", "E-lo-90", "E-hi-90")
    assert mean.values["E-lo-90"][0, 0] == 7.5 and mean.values["E-hi-90"][0, 0] == 27.5
    assert mean.values["E-median"][0, 0] == 15.0 and mean.point[0, 0] == 15.0


def test_only_the_levels_every_member_gives_are_kept() -> None:
    members = [_quantiles("A", 10.0, 5.0, 15.0, lo80=6.0), _quantiles("B", 20.0, 10.0, 40.0)]
    assert combine_forecasts("E", members, "median").columns == ("E", "E-median", "E-lo-90", "E-hi-90")


def test_a_point_member_makes_the_ensemble_a_point_forecast() -> None:
    combined = combine_forecasts("E", [_quantiles("A", 10.0, 5.0, 15.0), _point("B", 20.0)], "median")
    assert combined.columns == ("E",)
    assert combined.point[0, 0] == 15.0  # the median of the point forecasts (A's point is its median)


def test_crossing_members_give_sorted_bounds() -> None:
    crossed = _quantiles("A", 10.0, 30.0, 1.0)  # a member whose bounds cross
    combined = combine_forecasts("E", [crossed, _quantiles("B", 10.0, 9.0, 11.0)], "mean")
    assert (combined.values["E-lo-90"] <= combined.values["E-median"]).all()
    assert (combined.values["E-median"] <= combined.values["E-hi-90"]).all()


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: arrays(np.float64, (n, 5, 2, 3),
                                                  elements=st.floats(-1e6, 1e6, allow_nan=False))),
       st.sampled_from(["median", "mean"]))
def test_combined_quantiles_never_cross(raw: np.ndarray, how: str) -> None:
    ordered = np.sort(raw, axis=1)  # each member's 5 quantiles: lo-90, lo-80, median, hi-80, hi-90
    names = ("-lo-90", "-lo-80", "-median", "-hi-80", "-hi-90")
    members = [Forecast(f"M{k}", IDS, DS, {f"M{k}{s}": ordered[k, j] for j, s in enumerate(names)})
               for k in range(raw.shape[0])]
    combined = combine_forecasts("E", members, how)  # type: ignore[arg-type]
    stacked = np.stack([combined.values[f"E{s}"] for s in names])
    assert (np.diff(stacked, axis=0) >= 0).all()


def test_quantile_of_column_suffixes() -> None:
    assert quantile_of("-median") == 0.5
    assert quantile_of("-lo-90") == pytest.approx(0.05) and quantile_of("-hi-97.5") == pytest.approx(0.9875)
    assert quantile_of("") is None and quantile_of("-mu") is None


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(UsageError, match="no forecasts"):
        combine_forecasts("E", [], "median")
    other = Forecast("B", ("x", "y"), DS, {"B": np.zeros((2, 3))})
    with pytest.raises(UsageError, match="other series"):
        combine_forecasts("E", [_point("A", 1.0), other], "median")
    with pytest.raises(UsageError, match="not a way"):
        combine_values(np.zeros((2, 2)), "mode")  # type: ignore[arg-type]
