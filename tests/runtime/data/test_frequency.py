"""Timestamps: parsing, frequency inference, calendar-aware stepping and formatting."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modreg.errors import UsageError
from modreg.runtime.data.frequency import (
    Frequency,
    FrequencyError,
    TimestampError,
    format_timestamps,
    infer_frequency,
    normalize_timestamps,
    parse_timestamps,
)

NAMES = ["int:1", "int:7", "s", "15min", "30min", "H", "6H", "D", "2D", "W"]
NAMES += ["MS", "ME", "QS", "QE", "YS", "YE", "2QS"]
NAMES += ["M-2", "M-15", "M-28", "Q-15", "Q-28", "Y-15", "2M-15", "2Q-9", "2Y-21"]  # Y-28: test_frequency_days.py


def dates(*values: str, unit: str = "D") -> np.ndarray:
    return np.array(values, dtype=f"datetime64[{unit}]")


@pytest.mark.parametrize(
    ("stamps", "name"),
    [
        (dates("2020-01-01T00:00", "2020-01-01T01:00", "2020-01-01T02:00", unit="m"), "H"),
        (dates("2020-01-01T23:30", "2020-01-02T00:00", "2020-01-02T00:30", unit="m"), "30min"),
        (dates("2020-02-27", "2020-02-28", "2020-02-29", "2020-03-01"), "D"),
        (dates("2020-01-06", "2020-01-13", "2020-01-20"), "W"),
        (dates("2019-12-01", "2020-01-01", "2020-02-01"), "MS"),
        (dates("2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30"), "ME"),
        (dates("2020-01-01", "2020-04-01", "2020-07-01"), "QS"),
        (dates("2020-03-31", "2020-06-30", "2020-09-30"), "QE"),
        (dates("1871-01-01", "1872-01-01", "1873-01-01"), "YS"),
        (dates("2018-12-31", "2019-12-31", "2020-12-31"), "YE"),
        (np.array([0, 5, 10, 15]), "int:5"),
    ],
)
def test_infers_each_frequency(stamps: np.ndarray, name: str) -> None:
    assert infer_frequency([stamps]).name == name


def test_one_frequency_for_several_series() -> None:
    freq = infer_frequency([dates("2020-01-01", "2020-02-01"), dates("2021-06-01", "2021-07-01", "2021-08-01")])
    assert freq == Frequency("months", 1, "start")


def test_gap_names_series_and_position() -> None:
    with pytest.raises(FrequencyError) as caught:
        infer_frequency([dates("2020-01-01", "2020-02-01", "2020-03-01"), dates("2020-01-01", "2020-03-01")])
    assert (caught.value.series, caught.value.position) == (1, 1)
    assert "2020-01-01 to 2020-03-01" in caught.value.detail and "MS" in caught.value.detail


def test_odd_day_in_monthly_data_is_located() -> None:
    with pytest.raises(FrequencyError) as caught:
        infer_frequency([dates("2020-01-01", "2020-02-01", "2020-03-01"), dates("2020-01-01", "2020-02-15")])
    assert (caught.value.series, caught.value.position) == (1, 1)
    assert "not a month start" in caught.value.detail


def test_single_timestamps_cannot_give_a_date_frequency() -> None:
    with pytest.raises(FrequencyError, match="single timestamp"):
        infer_frequency([dates("2020-01-01")])
    assert infer_frequency([np.array([3])]).name == "int:1"


@pytest.mark.parametrize("name", NAMES)
def test_names_round_trip(name: str) -> None:
    assert Frequency.from_name(name).name == name


@pytest.mark.parametrize("name", ["", "0D", "int:0", "int:-1", "M", "3X", "QSS"])
def test_bad_names_are_usage_errors(name: str) -> None:
    with pytest.raises(UsageError, match="not a frequency name"):
        Frequency.from_name(name)


@pytest.mark.parametrize(
    ("kind", "step", "anchor"), [("days", 1, ""), ("int", 0, ""), ("months", 1, ""), ("int", 1, "end")]
)
def test_invalid_frequencies_are_refused(kind: str, step: int, anchor: str) -> None:
    with pytest.raises(ValueError, match="invalid frequency"):
        Frequency(kind, step, anchor)


def test_month_end_stays_month_end() -> None:
    ends = Frequency.from_name("ME").future(np.datetime64("2020-01-31"), 4)
    assert list(format_timestamps(ends)) == ["2020-02-29", "2020-03-31", "2020-04-30", "2020-05-31"]
    back = Frequency.from_name("QE").shift(np.datetime64("2020-05-31"), -1)
    assert str(back) == "2020-02-29"


def test_future_keeps_the_unit_and_type() -> None:
    half_hours = Frequency.from_name("30min").future(np.datetime64("2014-12-31T23:30", "m"), 2)
    assert half_hours.dtype == np.dtype("datetime64[m]")
    assert format_timestamps(half_hours) == ["2015-01-01T00:00", "2015-01-01T00:30"]
    assert Frequency.from_name("D").future(np.datetime64("2020-12-31"), 1).dtype == np.dtype("datetime64[D]")
    assert list(Frequency("int", 3).future(np.int64(9), 3)) == [12, 15, 18]


@pytest.mark.parametrize(
    ("name", "season"), [("H", 24), ("30min", 48), ("D", 7), ("W", 52), ("MS", 12), ("QE", 4), ("YS", 1), ("int:1", 1)]
)
def test_season_length(name: str, season: int) -> None:
    assert Frequency.from_name(name).season_length == season


@pytest.mark.parametrize(
    ("values", "dtype", "text"),
    [
        (["1", "+2", "-3"], "int64", ["1", "2", "-3"]),
        (["1949-01", "1949-02-01"], "datetime64[D]", ["1949-01-01", "1949-02-01"]),
        (["2014-01-01 00:30", "2014-01-01T01:00"], "datetime64[m]", ["2014-01-01T00:30", "2014-01-01T01:00"]),
        (["2014-01-01", "2014-01-01 00:00:15"], "datetime64[s]", ["2014-01-01T00:00:00", "2014-01-01T00:00:15"]),
    ],
)
def test_parse_and_format(values: list[str], dtype: str, text: list[str]) -> None:
    parsed = parse_timestamps(values)
    assert parsed.dtype == np.dtype(dtype)
    assert format_timestamps(parsed) == text


@pytest.mark.parametrize(
    ("values", "index", "fragment"),
    [
        (["2020-01-01", "2020-13-01"], 1, "not valid"),
        (["1", "2", "2020-01-03"], 2, "starts with integers"),
        (["2020-01-01", "7"], 1, "starts with dates"),
        (["2020-01-01", "yesterday"], 1, "neither an integer nor a date"),
        (["2020/01/01"], 0, "neither an integer nor a date"),
    ],
)
def test_bad_timestamps_name_their_index(values: list[str], index: int, fragment: str) -> None:
    with pytest.raises(TimestampError) as caught:
        parse_timestamps(values)
    assert caught.value.index == index and fragment in caught.value.detail


def test_normalize_timestamps() -> None:
    assert normalize_timestamps(np.array(["2020-01"], dtype="datetime64[M]")).dtype == np.dtype("datetime64[D]")
    assert normalize_timestamps(np.array(["2020-01-01T05"], dtype="datetime64[h]")).dtype == np.dtype("datetime64[m]")
    assert normalize_timestamps(np.array([1, 2], dtype=np.int32)).dtype == np.dtype("int64")
    with pytest.raises(UsageError, match="finer than one second"):
        normalize_timestamps(np.array(["2020-01-01T00:00:00.5"], dtype="datetime64[ms]"))


@given(
    name=st.sampled_from(NAMES),
    start=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    n=st.integers(min_value=2, max_value=40),
)
def test_stepping_round_trips_through_inference(name: str, start: date, n: int) -> None:
    freq = Frequency.from_name(name)
    origin = np.int64(start.toordinal()) if freq.kind == "int" else np.datetime64(start, "D")
    if freq.kind == "seconds" and freq.step % 86_400:
        origin = origin.astype("datetime64[m]")
    anchored = freq.shift(origin, 0)
    sequence = freq.shift(anchored, np.arange(n))
    assert infer_frequency([sequence]) == freq
    assert np.array_equal(freq.future(sequence[0], n - 1), sequence[1:])
