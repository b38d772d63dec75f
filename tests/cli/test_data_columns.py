"""--id-col/--time-col/--target-col, and extra columns ignored with a note unless declared exogenous."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app

DATA = Path(__file__).resolve().parents[1] / "data"
runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    """AirPassengers as `store,date,sales,price,region`: other names, a numeric and a text column."""
    rows = list(csv.DictReader((DATA / "air_passengers.csv").open(encoding="utf-8")))
    path = tmp_path / "sales.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["store", "date", "sales", "price", "region"])
        for i, row in enumerate(rows):
            writer.writerow(["s1", row["ds"], row["y"], f"{1 + i % 3}", "north"])
    return path


def test_other_column_names_and_a_text_column_run_with_a_note(sales: Path) -> None:
    result = invoke("run", "SeasonalNaive", "--data", sales, "--horizon", "3", "--id-col", "store",
                    "--time-col", "date", "--target-col", "sales")
    assert result.exit_code == 0, result.output
    forecasts = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["unique_id"] for row in forecasts] == ["s1"] * 3 and forecasts[0]["ds"] == "1961-01-01"
    assert "ignored the columns 'price', 'region'" in result.stderr and "not declared exogenous" in result.stderr


def test_without_the_column_options_the_error_names_them(sales: Path) -> None:
    result = invoke("run", "Naive", "--data", sales, "--horizon", "3")
    assert result.exit_code == 2
    assert "has no column 'ds'" in result.stderr and "--time-col" in result.stderr


def test_a_declared_exogenous_column_is_read_and_the_others_ignored(sales: Path) -> None:
    result = invoke("run", "MLP", "--data", sales, "--id-col", "store", "--time-col", "date", "--target-col", "sales",
                    "--param", "h=3", "--param", "input_size=12", "--param", "max_steps=2", "--param", "hidden_size=8",
                    "--param", 'hist_exog_list=["price"]')
    assert result.exit_code == 0, result.output
    assert "ignored the column 'region'" in result.stderr and "'price'" not in result.stderr


def test_bench_takes_the_column_options_too(sales: Path, tmp_path: Path) -> None:
    out = tmp_path / "cv.csv"
    result = invoke("bench", "Naive", "--data", sales, "--horizon", "6", "--windows", "2", "--id-col", "store",
                    "--time-col", "date", "--target-col", "sales", "--output", out)
    assert result.exit_code == 0, result.output
    assert "ignored the columns 'price', 'region'" in result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["unique_id", "ds", "cutoff", "y", "SeasonalNaive", "Naive"]
    assert len(rows) == 12
    assert {r["cutoff"] for r in rows} == {"1959-12-01", "1960-06-01"} and rows[0]["ds"] == "1960-01-01"
