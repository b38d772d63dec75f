"""Series CSV reading and validation, SeriesFrame helpers, and forecast CSV writing."""

from __future__ import annotations

import codecs

import io
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modreg.errors import NotFound, UsageError
from modreg.runtime.data import (
    SeriesFrame,
    forecasts_to_csv,
    read_future_csv,
    read_series_csv,
    require_length,
    write_forecasts_csv,
)
from modreg.runtime.data.frequency import Frequency

DATA = Path(__file__).resolve().parents[2] / "data"


@dataclass
class FakeForecast:
    """Shaped like the runtime's Forecast: ids, ds per series, values per column."""

    ids: tuple[str, ...]
    ds: tuple[np.ndarray, ...]
    values: dict[str, np.ndarray]


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def usage_error(path: Path, **names: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        read_series_csv(path, **names)
    return caught.value


# ----- Real data -----


@pytest.mark.parametrize(
    ("name", "n_series", "length", "freq", "first_id"),
    [
        ("air_passengers.csv", 1, 144, "MS", "AirPassengers"),
        ("uk_gas.csv", 1, 108, "QS", "UKgas"),
        ("nile.csv", 1, 100, "YS", "nile"),
        ("visnights.csv", 20, 76, "QS", "NSWMetro"),
        ("us_change.csv", 1, 187, "QS", "US_consumption"),
    ],
)
def test_reads_the_real_files(name: str, n_series: int, length: int, freq: str, first_id: str) -> None:
    frame = read_series_csv(DATA / name)
    assert (frame.n_series, frame.freq.name, frame.ids[0]) == (n_series, freq, first_id)
    assert set(frame.lengths) == {length}
    assert all(np.isfinite(v).all() and v.dtype == np.float64 for v in frame.y)
    assert frame.notices == () and frame.source == str(DATA / name)


def test_air_passengers_values_and_future_dates() -> None:
    frame = read_series_csv(DATA / "air_passengers.csv")
    assert frame.y[0][:3].tolist() == [112.0, 118.0, 132.0]
    assert str(frame.ds[0][0]) == "1949-01-01" and str(frame.ds[0][-1]) == "1960-12-01"
    (future,) = frame.future_ds(12)
    assert str(future[0]) == "1961-01-01" and str(future[-1]) == "1961-12-01"


def test_panel_keeps_file_order_of_series() -> None:
    frame = read_series_csv(DATA / "visnights.csv")
    assert frame.ids[:2] == ("NSWMetro", "NSWNthCo")
    assert len(set(frame.ids)) == 20
    assert all(str(d[-1]) == "2016-10-01" for d in frame.ds)


def test_exogenous_columns_are_aligned() -> None:
    frame = read_series_csv(DATA / "us_change.csv")
    assert frame.exog_names == ("income", "production", "savings", "unemployment")
    assert frame.exog["income"][0][0] == pytest.approx(0.972261043)
    assert frame.exog["unemployment"][0][:2].tolist() == [0.9, 0.5]
    assert all(len(v[0]) == 187 for v in frame.exog.values())


# ----- Other layouts -----


def test_ds_y_layout_is_one_series(tmp_path: Path) -> None:
    frame = read_series_csv(write(tmp_path, "ds,y\n2020-01-01 00:00,1\n2020-01-01 01:00,2\n2020-01-01 02:00,3\n"))
    assert frame.ids == ("series",) and frame.freq.name == "H"
    assert str(frame.future_ds(1)[0][0]) == "2020-01-01T03:00"


@pytest.mark.parametrize("text", ["12\n13\n14.5\n", "passengers\n12\n13\n14.5\n"])
def test_single_column_with_or_without_header(tmp_path: Path, text: str) -> None:
    frame = read_series_csv(write(tmp_path, text))
    assert frame.y[0].tolist() == [12.0, 13.0, 14.5]
    assert frame.ds[0].tolist() == [0, 1, 2] and frame.freq.name == "int:1"
    assert frame.future_ds(2)[0].tolist() == [3, 4]


def test_integer_steps_and_custom_column_names(tmp_path: Path) -> None:
    path = write(tmp_path, "store,t,sales\na,10,1\na,20,2\nb,10,3\nb,20,4\nb,30,5\n")
    frame = read_series_csv(path, id_col="store", time_col="t", target_col="sales")
    assert frame.ids == ("a", "b") and frame.lengths == (2, 3)
    assert frame.freq == Frequency("int", 10)
    assert [f.tolist() for f in frame.future_ds(1)] == [[30], [40]]


def test_constant_series_loads(tmp_path: Path) -> None:
    frame = read_series_csv(write(tmp_path, "unique_id,ds,y\n" + "".join(f"c,{i},5\n" for i in range(30))))
    assert frame.y[0].tolist() == [5.0] * 30


def test_unsorted_timestamps_are_sorted_with_a_notice(tmp_path: Path) -> None:
    path = write(tmp_path, "unique_id,ds,y\nA,2020-03-01,3\nA,2020-01-01,1\nA,2020-02-01,2\nB,2020-01-01,9\n")
    frame = read_series_csv(path)
    assert frame.y[0].tolist() == [1.0, 2.0, 3.0]
    assert [str(d) for d in frame.ds[0]] == ["2020-01-01", "2020-02-01", "2020-03-01"]
    (notice,) = frame.notices
    assert "series 'A'" in notice and "line 3" in notice and str(path) in notice


def test_blank_lines_and_quotes_and_bom(tmp_path: Path) -> None:
    frame = read_series_csv(write(tmp_path, '\ufeffunique_id,ds,y\n"a, b",1,2\n\n"a, b",2,3\n\n'))
    assert frame.ids == ("a, b",) and frame.lengths == (2,)


# ----- Bad data: one sentence naming file, series and line -----


@pytest.mark.parametrize(
    ("text", "line", "series", "fragment"),
    [
        ("unique_id,ds,y\nA,1,1\nA,2,nan\n", 3, "A", "missing value in column 'y'"),
        ("unique_id,ds,y\nA,1,1\nB,1,\n", 3, "B", "missing value in column 'y'"),
        ("unique_id,ds,y\nA,1,1\nA,2,inf\n", 3, "A", "infinite value"),
        ("unique_id,ds,y\nA,1,1\nA,2,-Infinity\n", 3, "A", "infinite value"),
        ("unique_id,ds,y\nA,1,1\nA,2,1.2.3\n", 3, "A", "'1.2.3' in column 'y', which is not a number"),
        ("unique_id,ds,y,temp\nA,1,1,3\nA,2,1,hot\n", 3, "A", "'hot' in column 'temp'"),
        ("unique_id,ds,y\nA,1,1\nA,2,2\nB,1,1\nB,1,2\n", 5, "B", "repeats the timestamp 1 (first on line 4)"),
        ("unique_id,ds,y\nA,1,1\nA,2,2\nA,4,3\n", 4, "A", "steps from 2 to 4, but the file's frequency is int:1"),
        ("unique_id,ds,y\nA,2020-01-01,1\nA,2020-01-02,2\nA,2020-01-05,2\n", 4, "A", "from 2020-01-02 to 2020-01-05"),
        ("ds,y\n2020-01-01,1\n2020-02-01,2\n2020-02-14,3\n2020-03-01,4\n", 4, "series", "not a month start"),
        ("unique_id,ds,y\nA,1,1\nA,2020-01-02,2\n", 3, "A", "starts with integers"),
        ("unique_id,ds,y\nA,2020-01-01,1\nA,2020-02-30,2\n", 3, "A", "not valid"),
        ("unique_id,ds,y\nA,1,1\nA,2,2,9\n", 3, "A", "has 4 fields but the header has 3"),
        ("id,ds,y\nA,1,1\n", 2, "series", "'A' in column 'id'"),
    ],
)
def test_bad_values_name_file_series_and_line(
    tmp_path: Path, text: str, line: int, series: str, fragment: str
) -> None:
    path = write(tmp_path, text)
    error = usage_error(path)
    assert (error.path, error.line) == (str(path), line)
    assert f"series '{series}'" in error.message and fragment in error.message
    assert error.message.endswith(".") and error.message.count(". ") == 0
    assert error.hint
    assert error.location() + error.message == f"{path}:{line}: {error.message}"


def test_wrongly_named_series_column_gets_a_rename_hint(tmp_path: Path) -> None:
    assert "rename it to 'unique_id'" in str(usage_error(write(tmp_path, "id,ds,y\nA,1,1\n")).hint)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", None, "is empty"),
        ("\n\n", None, "is empty"),
        ("unique_id,ds,y\n", None, "header but no rows"),
        ("unique_id,date,y\nA,1,2\n", 1, "no column 'ds'"),
        ("unique_id,ds,value\nA,1,2\n", 1, "no column 'y'"),
        ("\n\nunique_id,ds,value\nA,1,2\n", 3, "no column 'y'"),
        ("unique_id,ds,y,y\nA,1,2,3\n", 1, "repeats the column 'y'"),
        ("unique_id,,y\nA,1,2\n", 1, "column 2 of the header has no name"),
        ("unique_id,ds,y\nA,1,2\n,2,3\n", 3, "empty unique_id"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, line: int | None, fragment: str) -> None:
    path = write(tmp_path, text)
    error = usage_error(path)
    assert fragment in error.message and (error.path, error.line) == (str(path), line)


def test_missing_column_hint_lists_the_columns_found(tmp_path: Path) -> None:
    error = usage_error(write(tmp_path, "series,date,value\nA,1,2\n"))
    assert "found: series, date, value" in str(error.hint)


def test_dates_need_more_than_one_point(tmp_path: Path) -> None:
    error = usage_error(write(tmp_path, "unique_id,ds,y\nA,2020-01-01,1\nB,2020-01-01,2\n"))
    assert "every series has a single timestamp" in error.message


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist") as raised:
        read_series_csv(tmp_path / "nope.csv")
    assert raised.value.hint and "check the path" in raised.value.hint


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_non_utf8_file_names_the_line_and_the_byte(tmp_path: Path, bom: bytes) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(bom + b"unique_id,ds,y\na,1,2\n\xe9t\xe9,2,2\n")
    error = usage_error(path)
    assert "not UTF-8 text: the byte 0xe9" in error.message and error.line == 3
    assert error.hint and "save the file as UTF-8" in error.hint


def test_a_folder_is_named_as_a_folder(tmp_path: Path) -> None:
    error = usage_error(tmp_path)
    assert "is a folder, not a CSV file" in error.message and error.hint == "name the CSV file inside it."


def test_many_ignored_columns_are_counted_not_all_named(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    extra = [f"c{i}" for i in range(500)]
    path.write_text(",".join(["unique_id", "ds", "y", *extra]) + "\n"
                    + "".join(f"a,{t},{t}" + ",1" * len(extra) + "\n" for t in range(1, 6)))
    (notice,) = read_series_csv(path, exog=["c0"]).notices
    assert "'c10' and 489 more:" in notice and "'c0'" not in notice and "'c11'" not in notice


# ----- SeriesFrame helpers -----


def test_require_length_names_the_short_series() -> None:
    frame = SeriesFrame.from_arrays([np.arange(40.0), np.arange(20.0), np.arange(10.0)], ids=["a", "b", "c"])
    require_length(frame, 10, "NHITS needs at least input_size + h")
    with pytest.raises(UsageError) as caught:
        require_length(frame, 36, "NHITS needs at least input_size + h")
    assert caught.value.message == (
        "series 'b' has 20 points (1 other series is short too); NHITS needs at least input_size + h = 36."
    )
    assert caught.value.hint


def test_slice_end_drops_the_last_points() -> None:
    frame = read_series_csv(DATA / "us_change.csv")
    head = frame.slice_end(8)
    assert head.lengths == (179,) and head.exog["income"][0].shape == (179,)
    assert np.array_equal(head.future_ds(8)[0], frame.ds[0][-8:])
    assert frame.slice_end(0) is frame
    with pytest.raises(UsageError, match="has 187 points"):
        frame.slice_end(187)


def test_from_arrays_defaults_and_inference() -> None:
    frame = SeriesFrame.from_arrays(np.array([1.0, 2.0, 3.0]))
    assert frame.ids == ("series",) and frame.freq.name == "int:1"
    stamps = np.array(["2020-01-31", "2020-02-29"], dtype="datetime64[D]")
    monthly = SeriesFrame.from_arrays([[1.0, 2.0]], ids=["m"], ds=[stamps], exog={"x": [[0.0, 1.0]]})
    assert monthly.freq.name == "ME" and str(monthly.future_ds(1)[0][0]) == "2020-03-31"
    assert monthly.exog_names == ("x",)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"y": [np.array([1.0, np.nan])]}, "missing or infinite value in 'y' at point 1"),
        ({"y": [np.array([1.0, 2.0])], "ds": [np.array([2, 1])]}, "not strictly increasing at point 1"),
        ({"y": [np.ones(3)], "ds": [np.array([0, 1, 3])]}, "steps from 1 to 3"),
    ],
)
def test_from_arrays_validates(kwargs: dict, fragment: str) -> None:
    with pytest.raises(UsageError, match="series 'series'") as caught:
        SeriesFrame.from_arrays(**kwargs)
    assert fragment in caught.value.message


def test_frame_rejects_misaligned_arrays() -> None:
    with pytest.raises(ValueError, match="same length"):
        SeriesFrame(ids=("a",), ds=(np.arange(3),), y=(np.ones(2),), freq=Frequency("int", 1))


# ----- Writing forecasts -----


def test_forecast_csv_text() -> None:
    stamps = np.array(["1961-01-01", "1961-02-01"], dtype="datetime64[D]")
    forecast = FakeForecast(
        ids=("AirPassengers",),
        ds=(stamps,),
        values={"NHITS": np.array([[431.23458862304688, 400.0]]), "NHITS-lo-90": np.array([[1 / 3, -2e-12]])},
    )
    assert forecasts_to_csv(forecast) == (
        "unique_id,ds,NHITS,NHITS-lo-90\n"
        "AirPassengers,1961-01-01,431.2345886,0.3333333333\n"
        "AirPassengers,1961-02-01,400,-2e-12\n"
    )


def test_write_to_stream_and_path(tmp_path: Path) -> None:
    stamps = np.array(["2015-01-01T00:00", "2015-01-01T00:30"], dtype="datetime64[m]")
    values = {"MLP": np.array([[3.5, 4.0]], dtype=np.float32)}
    forecast = FakeForecast(ids=("VIC, AU",), ds=(stamps,), values=values)
    stream = io.StringIO()
    write_forecasts_csv(forecast, stream)
    target = tmp_path / "out" / "forecasts.csv"
    write_forecasts_csv(forecast, target)
    assert target.read_text() == stream.getvalue()
    assert stream.getvalue().splitlines()[1] == '"VIC, AU",2015-01-01T00:00,3.5'
    assert [p.name for p in target.parent.iterdir()] == ["forecasts.csv"]


def test_write_rejects_misshaped_values() -> None:
    forecast = FakeForecast(ids=("a", "b"), ds=(np.arange(2), np.arange(2)), values={"M": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="column 'M'"):
        forecasts_to_csv(forecast)


_ID = st.text(string.ascii_letters + "_ ,-", min_size=1, max_size=8).map(str.strip).filter(bool)
_IDS = st.lists(_ID, min_size=1, max_size=4, unique=True)


@settings(max_examples=40, deadline=None)
@given(
    ids=_IDS,
    name=st.sampled_from(["int:1", "int:3", "30min", "H", "D", "W", "MS", "ME", "QS", "QE", "YS", "YE"]),
    h=st.integers(min_value=2, max_value=6),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_forecasts_round_trip_through_the_reader(ids: list[str], name: str, h: int, seed: int) -> None:
    freq = Frequency.from_name(name)
    origin = np.int64(7) if freq.kind == "int" else np.datetime64("2019-12-31", "D")
    if freq.kind == "seconds" and freq.step % 86_400:
        origin = origin.astype("datetime64[m]")
    stamps = tuple(freq.shift(freq.shift(origin, i), np.arange(h)) for i in range(len(ids)))
    rng = np.random.default_rng(seed)
    values = {"NHITS": rng.normal(0, 1e3, (len(ids), h)), "NHITS-hi-90": rng.normal(0, 1e-3, (len(ids), h))}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        write_forecasts_csv(FakeForecast(tuple(ids), stamps, values), path)
        frame = read_series_csv(path, target_col="NHITS")
    assert frame.ids == tuple(ids) and frame.freq == freq
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(frame.ds, stamps))
    np.testing.assert_allclose(np.stack(frame.y), values["NHITS"], rtol=1e-9)
    np.testing.assert_allclose(np.stack(frame.exog["NHITS-hi-90"]), values["NHITS-hi-90"], rtol=1e-9)


def test_future_values_need_no_target_column(tmp_path: Path) -> None:
    path = tmp_path / "future.csv"
    path.write_text("unique_id,ds,income\nA,2020-01-01,1.5\nA,2020-02-01,2.5\n", encoding="utf-8")
    frame = read_future_csv(path)
    assert frame.ids == ("A",) and frame.exog_names == ("income",)
    np.testing.assert_array_equal(frame.exog["income"][0], [1.5, 2.5])


def test_future_values_keep_the_row_precise_errors(tmp_path: Path) -> None:
    path = tmp_path / "future.csv"
    path.write_text("unique_id,ds,income\nA,2020-01-01,1.5\nA,2020-02-01,x\n", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        read_future_csv(path)
    assert caught.value.line == 3 and "income" in caught.value.message


def test_a_horizon_past_year_9999_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_text("unique_id,ds,y\n" + "".join(f"a,{9990 + i}-01-01,{i}\n" for i in range(10)))
    frame = read_series_csv(path)
    with pytest.raises(UsageError, match="would pass the last timestamp") as caught:
        frame.future_ds(5)
    assert caught.value.path == str(path)


@pytest.mark.parametrize("names", [{"id_col": "ds"}, {"target_col": "ds"}, {"id_col": "y"}])
def test_one_column_in_two_roles_is_refused(names: dict[str, str]) -> None:
    with pytest.raises(UsageError, match="the id, time and target columns must differ"):
        read_series_csv(DATA / "air_passengers.csv", **names)
