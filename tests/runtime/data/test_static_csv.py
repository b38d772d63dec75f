"""Static exogenous values from their own CSV (`unique_id,<columns>`) and their join to the series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.errors import NotFound, UsageError
from modreg.runtime.data import read_series_csv
from modreg.runtime.data.static_csv import attach_static, read_static_csv

DATA = Path(__file__).resolve().parents[2] / "data"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "static.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_one_value_per_series_and_column() -> None:
    static = read_static_csv(DATA / "visnights_static.csv")
    assert len(static.ids) == 20 and list(static.columns) == ["metro", "coastal"]
    assert static.columns["metro"][static.ids.index("VICMetro")] == 1.0
    assert static.columns["coastal"][static.ids.index("VICWstCo")] == 1.0


def test_attach_adds_constant_columns_to_every_series() -> None:
    frame = read_series_csv(DATA / "visnights.csv")
    joined = attach_static(frame, read_static_csv(DATA / "visnights_static.csv"))
    assert joined.ids == frame.ids and joined.exog_names == ("metro", "coastal")
    metro = joined.exog["metro"][frame.ids.index("SAUMetro")]
    assert len(metro) == frame.lengths[0] and (metro == 1.0).all()
    np.testing.assert_array_equal(joined.y[3], frame.y[3])


def test_the_id_column_may_come_anywhere_and_extra_series_are_ignored(tmp_path: Path) -> None:
    frame = read_series_csv(DATA / "air_passengers.csv")
    static = read_static_csv(write(tmp_path, "size,unique_id\n3.5,AirPassengers\n1,Other\n"))
    assert attach_static(frame, static).exog["size"][0][0] == 3.5


@pytest.mark.parametrize(("text", "message", "line"), [
    ("series,metro\nA,1\n", "no column 'unique_id'", 1),
    ("unique_id\nA\n", "no static value columns", 1),
    ("unique_id,metro\n", "header but no rows", None),
    ("unique_id,metro\nA,1\nB,0\nA,0\n", "series 'A' has a second row \\(the first is on line 2\\)", 4),
    ("unique_id,metro\nA,yes\n", "series 'A' has 'yes' in column 'metro', which is not a number", 2),
    ("unique_id,metro\nA,\n", "series 'A' has a missing value in column 'metro'", 2),
    ("unique_id,metro\nA,1,2\n", "3 fields but the header has 2", 2),
    ("unique_id,metro,metro\nA,1,2\n", "repeats the column 'metro'", 1),
])
def test_bad_files_give_one_error_at_their_line(tmp_path: Path, text: str, message: str, line: int | None) -> None:
    with pytest.raises(UsageError, match=message) as error:
        read_static_csv(write(tmp_path, text))
    assert error.value.line == line and error.value.exit_code == 2


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_static_csv(tmp_path / "nope.csv")


def test_a_series_without_a_row_and_a_clashing_column_are_refused(tmp_path: Path) -> None:
    frame = read_series_csv(DATA / "visnights.csv")
    partial = read_static_csv(write(tmp_path, "unique_id,metro\nNSWMetro,1\n"))
    with pytest.raises(UsageError, match="series 'NSWNthCo' has no row in the static file \\(18 other"):
        attach_static(frame, partial)
    us = read_series_csv(DATA / "us_change.csv")
    with pytest.raises(UsageError, match="static column 'income' is also a column"):
        attach_static(us, read_static_csv(write(tmp_path, "unique_id,income\nUS_consumption,1\n")))
