"""Months anchored on a fixed day of the month (`M-15`, `Q-28`, `Y-15`): inference, stepping, names, refusals."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from modreg.errors import UsageError
from modreg.runtime.data.frequency import (
    Frequency,
    FrequencyError,
    format_timestamps,
    infer_frequency,
)


def dates(*values: str, unit: str = "D") -> np.ndarray:
    return np.array(values, dtype=f"datetime64[{unit}]")


def monthly(year: int, month: int, day: int, step: int, n: int) -> list[date]:
    """`n` dates `step` months apart from year-month-day, built with the standard library."""
    return [date(year + (month - 1 + i * step) // 12, (month - 1 + i * step) % 12 + 1, day) for i in range(n)]


@pytest.mark.parametrize(
    ("stamps", "name"),
    [
        (dates("2019-11-15", "2019-12-15", "2020-01-15", "2020-02-15", "2020-03-15"), "M-15"),
        (dates("2019-12-28", "2020-01-28", "2020-02-28", "2020-03-28"), "M-28"),
        (dates("2019-11-15", "2020-02-15", "2020-05-15"), "Q-15"),
        (dates("2019-11-28", "2020-02-28", "2020-05-28"), "Q-28"),
        (dates("2018-06-15", "2019-06-15", "2020-06-15"), "Y-15"),
        (dates("2015-02-28", "2016-02-28", "2017-02-28"), "Y-28"),  # 2016-02-28 is no month end
        (dates("2015-08-28", "2016-02-28", "2016-08-28"), "2Q-28"),
        (dates("2020-01-02", "2020-03-02", "2020-05-02"), "2M-2"),
        (dates("2020-01-15T00:00", "2020-02-15T00:00", unit="m"), "M-15"),
    ],
)
def test_infers_months_on_a_fixed_day(stamps: np.ndarray, name: str) -> None:
    assert infer_frequency([stamps]).name == name


def test_month_start_and_end_keep_their_names() -> None:
    assert infer_frequency([dates("2020-01-01", "2020-02-01", "2020-03-01")]).name == "MS"
    assert infer_frequency([dates("2020-01-31", "2020-02-29", "2020-03-31")]).name == "ME"
    # every date a month end: Feb 28 of years that are not leap years reads as year ends
    assert infer_frequency([dates("2017-02-28", "2018-02-28", "2019-02-28")]).name == "YE"


def test_one_day_frequency_for_several_series() -> None:
    freq = infer_frequency([dates("2020-01-15", "2020-02-15"), dates("2021-06-15", "2021-07-15", "2021-08-15")])
    assert freq == Frequency("months", 1, "day", 15)


@pytest.mark.parametrize(
    ("name", "last", "expected"),
    [
        ("M-15", "2019-11-15", ["2019-12-15", "2020-01-15", "2020-02-15", "2020-03-15"]),
        ("M-28", "2019-12-28", ["2020-01-28", "2020-02-28", "2020-03-28", "2020-04-28"]),
        ("Q-28", "2019-11-28", ["2020-02-28", "2020-05-28", "2020-08-28", "2020-11-28"]),
        ("Y-28", "2019-02-28", ["2020-02-28", "2021-02-28", "2022-02-28", "2023-02-28"]),
        ("2M-2", "2020-11-02", ["2021-01-02", "2021-03-02", "2021-05-02", "2021-07-02"]),
    ],
)
def test_stepping_keeps_the_day_across_year_ends_and_february(name: str, last: str, expected: list[str]) -> None:
    ahead = Frequency.from_name(name).future(np.datetime64(last), 4)
    assert ahead.dtype == np.dtype("datetime64[D]") and format_timestamps(ahead) == expected
    assert str(Frequency.from_name(name).shift(ahead[-1], -4)) == last


def test_stepping_keeps_the_unit_of_midnight_times() -> None:
    ahead = Frequency.from_name("M-15").future(np.datetime64("2020-12-15T00:00", "m"), 2)
    assert format_timestamps(ahead) == ["2021-01-15T00:00", "2021-02-15T00:00"]


@pytest.mark.parametrize(
    ("name", "freq"),
    [("M-15", Frequency("months", 1, "day", 15)), ("3M-28", Frequency("months", 3, "day", 28)),
     ("Q-2", Frequency("months", 3, "day", 2)), ("Y-15", Frequency("months", 12, "day", 15)),
     ("12M-15", Frequency("months", 12, "day", 15)), ("Y-28", Frequency("months", 12, "day", 28))],
)
def test_names_parse_and_format(name: str, freq: Frequency) -> None:
    assert Frequency.from_name(name) == freq
    assert Frequency.from_name(freq.name) == freq and str(freq) == freq.name


@pytest.mark.parametrize("name", ["M-1", "M-29", "M-31", "M-01", "M15", "MS-15", "M-", "-15", "D-15"])
def test_days_outside_2_to_28_are_not_names(name: str) -> None:
    with pytest.raises(UsageError, match="not a frequency name") as caught:
        Frequency.from_name(name)
    assert "M-15" in (caught.value.hint or "")


@pytest.mark.parametrize(("anchor", "day"), [("day", 0), ("day", 1), ("day", 29), ("start", 15), ("", 15)])
def test_a_day_goes_with_the_day_anchor_only_from_2_to_28(anchor: str, day: int) -> None:
    with pytest.raises(ValueError, match="invalid frequency"):
        Frequency("months", 1, anchor, day)


@pytest.mark.parametrize(("name", "season"), [("M-15", 12), ("Q-28", 4), ("Y-15", 1), ("2M-15", 6)])
def test_season_length_of_day_anchored_months(name: str, season: int) -> None:
    assert Frequency.from_name(name).season_length == season


@given(
    day=st.integers(min_value=2, max_value=28),
    year=st.integers(min_value=1900, max_value=2100),
    month=st.integers(min_value=1, max_value=12),
    step=st.sampled_from([1, 3, 12]),
    n=st.integers(min_value=2, max_value=30),
    ahead=st.integers(min_value=1, max_value=30),
)
def test_inferring_then_stepping_reproduces_the_next_dates(
    day: int, year: int, month: int, step: int, n: int, ahead: int
) -> None:
    every = monthly(year, month, day, step, n + ahead)
    # the documented exception: when all of them are month ends (Feb 28, no leap year) the data is month-end data
    assume(not all(date.fromordinal(d.toordinal() + 1).day == 1 for d in every[:n]))
    history = np.array(every[:n], dtype="datetime64[D]")
    freq = infer_frequency([history])
    assert freq == Frequency("months", step, "day", day)
    assert freq.future(history[-1], ahead).tolist() == every[n:]
    assert Frequency.from_name(freq.name) == freq


def _refusal(*values: str) -> FrequencyError:
    with pytest.raises(FrequencyError) as caught:
        infer_frequency([dates(*values)])
    return caught.value


def test_a_missing_month_is_a_gap_of_the_day_frequency() -> None:
    error = _refusal("2020-01-15", "2020-02-15", "2020-04-15", "2020-05-15")
    assert (error.series, error.position) == (0, 2)
    assert error.detail == "steps from 2020-02-15 to 2020-04-15, but the file's frequency is M-15"


def test_a_date_off_the_files_day_is_located() -> None:
    error = _refusal("2020-01-15", "2020-02-15", "2020-03-16", "2020-04-15")
    assert (error.series, error.position) == (0, 2)
    assert error.detail == "has 2020-03-16, which is not on the 15th of its month like the rest of the file"


def test_the_30th_is_refused_because_february_lacks_it() -> None:
    error = _refusal("2015-01-30", "2015-02-28", "2015-03-30", "2015-04-30", "2015-05-30")
    assert (error.series, error.position) == (0, 1)
    assert error.detail.startswith("has 2015-02-28, among dates on the 30th of the month")
    assert "February has no 30th" in error.detail and "month's last day" in error.detail


def test_a_year_on_the_30th_is_refused_with_the_reason_and_a_step() -> None:
    error = _refusal("2015-01-30", "2016-01-30", "2017-01-30", "2018-01-30")
    assert error.detail.startswith("steps from ") and "on the 30th of the month" in error.detail
    assert "February has no 30th" in error.detail


def test_the_29th_names_leap_years() -> None:
    error = _refusal("2015-01-29", "2015-02-28", "2015-03-29", "2015-04-29")
    assert "February has a 29th only in leap years" in error.detail


def test_irregular_days_keep_the_step_message() -> None:
    error = _refusal("2020-01-03", "2020-01-10", "2020-01-18", "2020-01-25")
    assert error.detail == "steps from 2020-01-10 to 2020-01-18, but the file's frequency is W"
    assert _refusal("2015-01-15").detail == "has a single timestamp, so the file's frequency cannot be inferred"
