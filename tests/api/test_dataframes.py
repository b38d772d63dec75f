"""The Python API takes a pandas DataFrame where it takes a CSV path, returns one when asked,
and takes parameters as a dict as well as `key=value` strings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import modreg.api as api

pd = pytest.importorskip("pandas")
ROOT = Path(__file__).resolve().parents[2]
AIR = ROOT / "tests" / "data" / "air_passengers.csv"


def test_run_takes_a_dataframe_and_returns_one() -> None:
    frame = pd.read_csv(AIR, parse_dates=["ds"])
    result = api.run("SeasonalNaive", data=frame, horizon=4)
    forecasts = result.to_pandas()
    assert list(forecasts.columns) == ["unique_id", "ds", "SeasonalNaive"] and len(forecasts) == 4
    assert str(forecasts["ds"].dtype).startswith("datetime64") and forecasts["ds"].iloc[0] == pd.Timestamp("1961-01-01")
    from_file = api.run("SeasonalNaive", data=AIR, horizon=4).to_pandas()
    assert forecasts["SeasonalNaive"].tolist() == from_file["SeasonalNaive"].tolist()


def test_a_dataframe_with_other_column_names_and_bad_values() -> None:
    frame = pd.read_csv(AIR).rename(columns={"unique_id": "store", "ds": "month", "y": "passengers"})
    result = api.run("Naive", data=frame, horizon=2, id_col="store", time_col="month", target_col="passengers")
    assert result.forecast.ids == ("AirPassengers",)
    frame.loc[5, "passengers"] = float("nan")
    from modreg.errors import UsageError

    with pytest.raises(UsageError, match="missing value in column 'passengers'") as raised:
        api.run("Naive", data=frame, horizon=2, id_col="store", time_col="month", target_col="passengers")
    assert raised.value.path is not None and "DataFrame" in str(raised.value.path) and raised.value.line == 7


def test_params_as_a_dict_equal_params_as_strings() -> None:
    as_dict = api.run("MLP", data=AIR, params={"h": 6, "input_size": 12, "max_steps": 2, "hidden_size": 8,
                                              "loss": {"type": "huber", "delta": 0.5}, "random_seed": 3})
    as_text = api.run("MLP", data=AIR, params=["h=6", "input_size=12", "max_steps=2", "hidden_size=8",
                                              'loss={type="huber", delta=0.5}', "random_seed=3"])
    assert as_dict.params == as_text.params
    assert as_dict.forecast.point.tolist() == as_text.forecast.point.tolist()


def test_bench_takes_a_dataframe_and_dict_params_and_returns_the_cross_validation_frame() -> None:
    frame = pd.read_csv(AIR)
    result = api.bench(["Naive", "DLinear"], data=frame, horizon=6, windows=2,
                       params={"input_size": 12, "max_steps": 2})
    assert not result.failed and result.dataset == "DataFrame"
    cv = result.to_pandas()
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", *[row.target for row in result.models]]
    assert len(cv) == 12 and sorted(cv["cutoff"].unique().astype(str)) == ["1959-12-01", "1960-06-01"]
    assert (cv["ds"] > cv["cutoff"]).all()


def test_pandas_is_imported_only_when_a_dataframe_is_used() -> None:
    code = ("import sys, modreg.api as api\n"
            f"api.run('Naive', data={str(AIR)!r}, horizon=2)\n"
            "print('pandas' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
