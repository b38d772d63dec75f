"""CLI: `modreg run` and `bench` on monthly data dated on a fixed day (the 15th, the 28th), and its refusals."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.runtime.data.frequency import format_timestamps
from modreg.runtime.models.forecaster import Forecaster
from modreg.runtime.serialize import read_model_file

runner = CliRunner()
NHITS = ["--param", "h=3", "--param", "input_size=6", "--param", "max_steps=2",
         "--param", "mlp_units=[[8, 8], [8, 8], [8, 8]]"]


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _write(path: Path, stamps: list[str]) -> Path:
    """A `ds,y` file: a trend plus a season of 12, so SeasonalNaive's answer is known."""
    path.write_text("ds,y\n" + "".join(f"{ds},{100 + i + (i % 12) * 3}\n" for i, ds in enumerate(stamps)))
    return path


def _monthly(day: int, months: int = 60, step: int = 1) -> list[str]:
    return [f"{2015 + i * step // 12}-{i * step % 12 + 1:02d}-{day:02d}" for i in range(months)]


@pytest.fixture
def m15(tmp_path: Path) -> Path:
    return _write(tmp_path / "m15.csv", _monthly(15))


def test_seasonal_naive_forecasts_on_the_15th(m15: Path) -> None:
    result = invoke("run", "SeasonalNaive", "--data", m15, "--horizon", "3")
    assert result.exit_code == 0, result.stderr
    rows = _rows(result.stdout)
    assert [r["ds"] for r in rows] == ["2020-01-15", "2020-02-15", "2020-03-15"]
    assert [float(r["SeasonalNaive"]) for r in rows] == [148.0, 152.0, 156.0]  # the last January to March


@pytest.mark.parametrize(("day", "step", "expected"), [
    (28, 1, ["2020-01-28", "2020-02-28", "2020-03-28"]),
    (15, 3, ["2030-01-15", "2030-04-15", "2030-07-15"]),
    (28, 12, ["2075-02-28", "2076-02-28", "2077-02-28"]),
])
def test_the_28th_and_quarterly_and_yearly_steps(tmp_path: Path, day: int, step: int, expected: list[str]) -> None:
    stamps = [s.replace("-01-", "-02-") if step == 12 else s for s in _monthly(day, 60, step)]
    result = invoke("--json", "run", "SeasonalNaive", "--data", _write(tmp_path / "d.csv", stamps), "--horizon", "3")
    assert result.exit_code == 0, result.stderr
    assert [item["ds"] for item in json.loads(result.stdout)["items"]] == expected


def test_bench_reports_the_frequency_name(m15: Path) -> None:
    result = invoke("--json", "bench", "Naive", "--data", m15, "--horizon", "3")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["data"]["frequency"] == "M-15"


def test_a_saved_model_keeps_the_day_and_forecasts_the_same_after_loading(m15: Path, tmp_path: Path) -> None:
    model = tmp_path / "nhits.npz"
    saved = invoke("run", "NHITS", "--data", m15, *NHITS, "--save", model)
    assert saved.exit_code == 0, saved.stderr
    assert read_model_file(model).meta["context"]["freq"] == "M-15"
    loaded = invoke("run", "NHITS", "--data", m15, "--load", model)
    assert loaded.exit_code == 0, loaded.stderr
    assert loaded.stdout == saved.stdout
    assert [r["ds"] for r in _rows(loaded.stdout)] == ["2020-01-15", "2020-02-15", "2020-03-15"]
    restored = Forecaster.load(model)  # forecasts from the saved context, whose frequency is parsed back
    assert format_timestamps(restored.predict(h=2).ds[0]) == ["2020-01-15", "2020-02-15"]


def test_future_values_must_be_on_the_15th(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("unique_id,ds,y,x\n" + "".join(f"A,{ds},{100 + i},{i % 3}\n" for i, ds in enumerate(_monthly(15, 36))))
    args = ["run", "NHITS", "--data", data, *NHITS, "--param", 'futr_exog_list=["x"]', "--futr"]
    futr = tmp_path / "futr.csv"
    futr.write_text("unique_id,ds,x\nA,2018-01-15,0\nA,2018-02-15,1\nA,2018-03-15,2\n")
    result = invoke(*args, futr)
    assert result.exit_code == 0, result.stderr
    assert [r["ds"] for r in _rows(result.stdout)] == ["2018-01-15", "2018-02-15", "2018-03-15"]
    futr.write_text("unique_id,ds,x\nA,2018-01-01,0\nA,2018-02-01,1\nA,2018-03-01,2\n")
    refused = invoke(*args, futr)
    assert refused.exit_code == 2 and "its forecast starts at 2018-01-15" in refused.stderr


@pytest.mark.parametrize(("stamps", "line", "sentence"), [
    (_monthly(15)[:3] + _monthly(15)[4:], 5, "steps from 2015-03-15 to 2015-05-15, but the file's frequency is M-15."),
    (_monthly(15)[:3] + ["2015-04-16"] + _monthly(15)[4:], 5,
     "has 2015-04-16, which is not on the 15th of its month like the rest of the file."),
    ([s.replace("-02-30", "-02-28") for s in _monthly(30)], 3,
     ("has 2015-02-28, among dates on the 30th of the month, but steps of months keep only a day every month has, "
      "and February has no 30th; date each row on its month's last day or on one day from the 1st to the 28th.")),
])
def test_irregular_and_day_30_data_are_refused_in_one_sentence(
    tmp_path: Path, stamps: list[str], line: int, sentence: str
) -> None:
    data = _write(tmp_path / "bad.csv", stamps)
    result = invoke("run", "SeasonalNaive", "--data", data, "--horizon", "3")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {data}:{line}: series 'series' {sentence}\nhint: ")
    assert "Traceback" not in result.stderr
