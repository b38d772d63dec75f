"""`run --plot` and `bench --plot`: PNG and SVG files a person (and a test) can open."""

from __future__ import annotations

import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app

pytest.importorskip("matplotlib", reason="the plot extra is not installed (pip install 'modreg-forecast[plot]')")

DATA = Path(__file__).resolve().parents[1] / "data"
runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (and proof that it is one)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def svg_ids(path: Path) -> list[str]:
    return [element.get("id", "") for element in ET.parse(path).getroot().iter()]


def test_run_plot_png_has_history_and_forecast(tmp_path: Path) -> None:
    target = tmp_path / "forecast.png"
    result = invoke("run", "SeasonalNaive", "--data", DATA / "air_passengers.csv", "--horizon", "12", "--plot", target)
    assert result.exit_code == 0, result.output
    width, height = png_size(target)
    assert width >= 600 and height >= 200 and target.stat().st_size > 10_000


def test_run_plot_svg_draws_the_first_four_series_of_a_panel(tmp_path: Path) -> None:
    target = tmp_path / "panel.svg"
    result = invoke("run", "SeasonalNaive", "--data", DATA / "visnights.csv", "--horizon", "4", "--plot", target)
    assert result.exit_code == 0, result.output
    ids = svg_ids(target)
    assert [i for i in ids if i.startswith("forecast-")] == [  # the first four, in the file's order
        "forecast-NSWMetro", "forecast-NSWNthCo", "forecast-NSWSthCo", "forecast-NSWSthIn"]
    assert len([i for i in ids if i.startswith("history-")]) == 4


def test_run_plot_series_chooses_which_and_draws_intervals(tmp_path: Path) -> None:
    target = tmp_path / "two.svg"
    result = invoke("run", "MLP", "--data", DATA / "visnights.csv", "--horizon", "4", "--param", "input_size=8",
                    "--param", "max_steps=3", "--param", "hidden_size=8", "--param", 'loss={type="mqloss", level=[80, 90]}',
                    "--plot", target, "--plot-series", "QLDMetro", "--plot-series", "NSWMetro")
    assert result.exit_code == 0, result.output
    ids = svg_ids(target)
    assert [i for i in ids if i.startswith("forecast-")] == ["forecast-QLDMetro", "forecast-NSWMetro"]
    assert {"interval-QLDMetro-80", "interval-QLDMetro-90", "interval-NSWMetro-90"} <= set(ids)


def test_an_unknown_plot_series_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("run", "Naive", "--data", DATA / "visnights.csv", "--horizon", "2", "--plot", tmp_path / "p.png",
                    "--plot-series", "Atlantis")
    assert result.exit_code == 2 and "--plot-series Atlantis: the data has no such series." in result.stderr


def test_bench_plot_has_bars_and_every_window(tmp_path: Path) -> None:
    target = tmp_path / "bench.svg"
    result = invoke("bench", "Naive", "--data", DATA / "air_passengers.csv", "--horizon", "12", "--windows", "3",
                    "--plot", target)
    assert result.exit_code == 0, result.output
    ids = svg_ids(target)
    assert {"bar-SeasonalNaive", "bar-Naive"} <= set(ids)
    assert {f"window-Naive-{w}" for w in (1, 2, 3)} <= set(ids) and "actual-AirPassengers" in ids
    png = tmp_path / "bench.png"
    assert invoke("bench", "Naive", "--data", DATA / "air_passengers.csv", "--horizon", "12", "--plot", png).exit_code == 0
    assert png_size(png)[0] >= 1000


def test_a_bad_suffix_stops_before_any_work(tmp_path: Path) -> None:
    result = invoke("run", "Naive", "--data", DATA / "air_passengers.csv", "--horizon", "2", "--plot", tmp_path / "p.jpg")
    assert result.exit_code == 2 and "must be .png or .svg" in result.stderr and result.stdout == ""


def test_without_matplotlib_plot_exits_2_naming_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    result = invoke("run", "Naive", "--data", DATA / "air_passengers.csv", "--horizon", "2", "--plot", tmp_path / "p.png")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--plot needs matplotlib" in result.stderr and "pip install 'modreg-forecast[plot]'" in result.stderr
    bench = invoke("bench", "Naive", "--data", DATA / "air_passengers.csv", "--horizon", "2", "--plot", tmp_path / "b.svg")
    assert bench.exit_code == 2 and "pip install 'modreg-forecast[plot]'" in bench.stderr
