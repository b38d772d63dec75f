"""Naive and SeasonalNaive: exact repetition of the last value / last season, no weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import Forecaster
from modreg.runtime.models.naive import Naive, SeasonalNaive

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def air_passengers() -> SeriesFrame:
    return read_series_csv(DATA / "air_passengers.csv")


def test_naive_repeats_the_last_value(air_passengers: SeriesFrame) -> None:
    forecast = Naive(h=12).fit(air_passengers).predict()
    np.testing.assert_array_equal(forecast.values["Naive"], np.full((1, 12), air_passengers.y[0][-1]))


def test_seasonal_naive_repeats_the_last_season_exactly(air_passengers: SeriesFrame) -> None:
    y = air_passengers.y[0]
    model = SeasonalNaive(h=18).fit(air_passengers)  # monthly data: season 12 from the frequency
    np.testing.assert_array_equal(model.predict().point[0], np.concatenate([y[-12:], y[-12:-6]]))
    explicit = SeasonalNaive(h=6, season_length=4).fit(air_passengers).predict().point[0]
    np.testing.assert_array_equal(explicit, np.concatenate([y[-4:], y[-4:-2]]))


def test_seasonal_naive_reference_accuracy_on_air_passengers(air_passengers: SeriesFrame) -> None:
    train, actual = air_passengers.slice_end(12), air_passengers.y[0][-12:]
    forecast = SeasonalNaive(h=12).fit(train).predict().point[0]
    assert np.abs(forecast - actual).mean() == pytest.approx(47.83, abs=0.01)  # statsforecast's 47.8


def test_saved_models_hold_only_the_last_season(air_passengers: SeriesFrame, tmp_path: Path) -> None:
    model = SeasonalNaive(h=12).fit(air_passengers)
    loaded = Forecaster.load(model.save(tmp_path / "snaive.npz"))
    assert loaded.num_parameters() == 0 and loaded._context.lengths == (12,)
    np.testing.assert_array_equal(loaded.predict().point, model.predict().point)


def test_a_series_shorter_than_the_season_is_refused() -> None:
    short = SeriesFrame.from_arrays(np.arange(5.0), ids=["tiny"])
    with pytest.raises(UsageError, match="series 'tiny' has 5 points; SeasonalNaive .* season_length = 7"):
        SeasonalNaive(h=3, season_length=7).fit(short)
