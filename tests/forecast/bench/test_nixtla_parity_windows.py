"""`modreg bench --output x.csv` gives the rows of neuralforecast's `cross_validation`.

The expected cutoffs below were produced with neuralforecast 3.3.0 (in the separate venv
/work/nf-venv, never a modreg dependency): `NeuralForecast([NHITS(h=h, input_size=2*h,
max_steps=1, start_padding_enabled=True)], freq='MS').cross_validation(df, n_windows=K,
step_size=S)` on the panel `_air_panel` builds (freq=1 for the integer-indexed M1 panel),
grouped by (unique_id, cutoff). Every window nf gave holds the h consecutive periods after
its cutoff, so (unique_id, cutoff) pins every (unique_id, cutoff, ds) row.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app

DATA = Path(__file__).resolve().parents[2] / "data"
runner = CliRunner()

# {(h, K, S): {unique_id: nf's cutoffs}}: S < h, S = h, S > h on series of three lengths and end dates.
NF_CUTOFFS = {
    (6, 4, 2): {"A": ["1959-12-01", "1960-02-01", "1960-04-01", "1960-06-01"],
                "B": ["1957-02-01", "1957-04-01", "1957-06-01", "1957-08-01"],
                "C": ["1953-10-01", "1953-12-01", "1954-02-01", "1954-04-01"]},
    (6, 3, 6): {"A": ["1959-06-01", "1959-12-01", "1960-06-01"],
                "B": ["1956-08-01", "1957-02-01", "1957-08-01"],
                "C": ["1953-04-01", "1953-10-01", "1954-04-01"]},
    (6, 3, 9): {"A": ["1958-12-01", "1959-09-01", "1960-06-01"],
                "B": ["1956-02-01", "1956-11-01", "1957-08-01"],
                "C": ["1952-10-01", "1953-07-01", "1954-04-01"]},
}
# The same for four M1 quarterly series with integer time (lengths 36, 41, 100, 26), h=4, K=5, S=3.
NF_M1_CUTOFFS = {"QNB1": [19, 22, 25, 28, 31], "QNB10": [24, 27, 30, 33, 36],
                 "QNB11": [83, 86, 89, 92, 95], "QNB2": [9, 12, 15, 18, 21]}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _air_panel(tmp_path: Path) -> Path:
    """A: all 144 months (1949-01..1960-12); B: months 10..109; C: months 40..69 (30 points), doubled."""
    air = _rows(DATA / "air_passengers.csv")
    parts = [("A", air, 1.0), ("B", air[10:110], 1.0), ("C", air[40:70], 2.0)]
    path = tmp_path / "panel.csv"
    path.write_text("unique_id,ds,y\n" + "".join(f"{sid},{r['ds']},{float(r['y']) * k:g}\n"
                                                 for sid, rows, k in parts for r in rows))
    return path


def _months_after(cutoff: str, h: int) -> list[str]:
    year, month = int(cutoff[:4]), int(cutoff[5:7])
    return [f"{year + (month + i - 1) // 12}-{(month + i - 1) % 12 + 1:02d}-01" for i in range(1, h + 1)]


def _bench(tmp_path: Path, data: Path, *options: str) -> list[dict[str, str]]:
    out = tmp_path / "cv.csv"
    result = runner.invoke(app, ["bench", "Naive", "--data", str(data), *options, "--output", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return _rows(out)


@pytest.mark.parametrize(("h", "windows", "step"), sorted(NF_CUTOFFS))
def test_rows_are_neuralforecasts_cross_validation_rows(tmp_path: Path, h: int, windows: int, step: int) -> None:
    # --season 3: C's first window with S=9 has 6 points of history, too few for a season of 12
    rows = _bench(tmp_path, _air_panel(tmp_path), "--horizon", str(h), "--windows", str(windows), "--step", str(step),
                  "--season", "3")
    got = sorted((r["unique_id"], r["cutoff"], r["ds"]) for r in rows)
    expected = sorted((sid, cutoff, ds) for sid, cutoffs in NF_CUTOFFS[(h, windows, step)].items()
                      for cutoff in cutoffs for ds in _months_after(cutoff, h))
    assert got == expected
    columns = list(rows[0])
    assert columns[:4] == ["unique_id", "ds", "cutoff", "y"] and sorted(columns[4:]) == ["Naive", "SeasonalNaive"]


def test_integer_time_rows_are_neuralforecasts(tmp_path: Path) -> None:
    ids = set(NF_M1_CUTOFFS)
    m1 = [r for r in _rows(DATA / "m1_quarterly.csv") if r["unique_id"] in ids]
    data = tmp_path / "m1.csv"
    data.write_text("unique_id,ds,y\n" + "".join(f"{r['unique_id']},{r['ds']},{r['y']}\n" for r in m1))
    rows = _bench(tmp_path, data, "--horizon", "4", "--windows", "5", "--step", "3", "--season", "4")
    got = sorted((r["unique_id"], int(r["cutoff"]), int(r["ds"])) for r in rows)
    expected = sorted((sid, cutoff, cutoff + i) for sid, cutoffs in NF_M1_CUTOFFS.items()
                      for cutoff in cutoffs for i in range(1, 5))
    assert got == expected


def test_a_series_too_short_for_a_window_is_refused_where_neuralforecast_drops_the_window(tmp_path: Path) -> None:
    # nf 3.3.0 with K=5, S=6: C (30 points) gets only the 4 windows whose cutoff lies inside it
    # (cutoffs 1952-10-01 .. 1954-04-01), A and B all 5. modreg documents that every series
    # needs h + (K - 1) * S + 1 points and refuses instead of scoring series on different windows.
    result = runner.invoke(app, ["bench", "Naive", "--data", str(_air_panel(tmp_path)), "--horizon", "6",
                                 "--windows", "5", "--step", "6"])
    assert result.exit_code == 2
    assert "series 'C' has 30 points" in result.output and "need at least 31" in result.output
