"""`modreg bench` windows and scores as neuralforecast's `cross_validation` and utilsforecast's losses.

Windows: `--output x.csv` gives the rows of neuralforecast's `cross_validation`.

The expected cutoffs below were produced with neuralforecast 3.3.0 (in the separate venv
/work/nf-venv, never a modreg dependency): `NeuralForecast([NHITS(h=h, input_size=2*h,
max_steps=1, start_padding_enabled=True)], freq='MS').cross_validation(df, n_windows=K,
step_size=S)` on the panel `_air_panel` builds (freq=1 for the integer-indexed M1 panel),
grouped by (unique_id, cutoff). Every window nf gave holds the h consecutive periods after
its cutoff, so (unique_id, cutoff) pins every (unique_id, cutoff, ds) row.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.forecast.bench.harness import BenchOptions, evaluate, runtime_target
from modreg.forecast.bench.score import accuracy
from modreg.runtime.data import read_series_csv

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


# Scores: utilsforecast 0.2.17 on the rows of nf's cross_validation above (same panel), with the
# forecasts built independently in pandas (Naive: the last value before the cutoff; SeasonalNaive:
# the value `season` periods back), averaged over every (unique_id, cutoff) as modreg does:
#   mae = mean(L.mae), rmse = sqrt(mean(L.mse)) (every window has h points, so this pools them),
#   smape = 200 * mean(L.smape) (utilsforecast's smape is |F-A| / (|F|+|A|), 0..1; modreg's
#   0..200 is M4's, = 100 x neuralforecast.losses.numpy.smape), mase = mean(L.mase(cv, models,
#   seasonality=season, train_df=panel)) (utilsforecast scales each cutoff by its own history).
# One case differs by design: with (6, 3, 6, 12) C's first window has 12 points of history, so no
# seasonal difference exists; L.mase gives NaN there (and pandas' mean skips it: Naive 2.424845534256564,
# SeasonalNaive 1.2317950391455237 over the other 8 windows). modreg scales such a window by its
# naive-1 error (`metrics.mase_scale`); the figures below are the mean over all 9 windows with
# L.mase(seasonality=1) for that one.
# {(h, K, S, season): {model: {metric: value}}}
UF_SCORES = {
    (6, 4, 2, 12): {
        "Naive": {"mae": 83.08333333333333, "rmse": 101.24447858744912, "smape": 18.947135037950854,
                  "mase": 2.4127708648834845},
        "SeasonalNaive": {"mae": 39.84722222222222, "rmse": 44.42143501609205, "smape": 9.183201907441639,
                          "mase": 1.2005747407197491}},
    (6, 3, 6, 12): {
        "Naive": {"mae": 74.46296296296298, "rmse": 87.89966923630516, "smape": 17.731979223465363,
                  "mase": 2.2667202763456586},
        "SeasonalNaive": {"mae": 42.01851851851851, "rmse": 46.00462939668056, "smape": 10.262233982451727,
                          "mase": 1.2870824173847955}},
    (6, 3, 9, 3): {
        "Naive": {"mae": 76.16666666666667, "rmse": 88.57691781931888, "smape": 18.67366090477774,
                  "mase": 1.6759380587053379},
        "SeasonalNaive": {"mae": 82.35185185185186, "rmse": 98.44184220287782, "smape": 19.63530970226243,
                          "mase": 1.7647459337678615}},
}
# (6, 4, 2, 12) with Naive as the median and intervals Naive x (0.9, 1.1) at 80 and x (0.85, 1.15)
# at 90: L.coverage(level=L) averaged, and crps = 2 * mean(L.mqloss) over the quantiles
# 0.05, 0.1, 0.5, 0.9, 0.95 (not L.scaled_crps, which also divides by the mean |y|).
UF_INTERVALS = {"coverage_80": 0.23611111111111108, "coverage_90": 0.40277777777777773,
                "crps": 55.29855555555556, "mase": 2.4127708648834845}


@pytest.mark.parametrize(("h", "windows", "step", "season"), sorted(UF_SCORES))
def test_scores_are_utilsforecasts(tmp_path: Path, h: int, windows: int, step: int, season: int) -> None:
    result = runner.invoke(app, ["bench", "Naive", "--data", str(_air_panel(tmp_path)), "--horizon", str(h),
                                 "--windows", str(windows), "--step", str(step), "--season", str(season), "--json"])
    assert result.exit_code == 0, result.output
    got = {item["target"]: item["metrics"] for item in json.loads(result.stdout)["items"]}
    assert got == {model: pytest.approx(figures, rel=1e-9) for model, figures in UF_SCORES[(h, windows, step, season)].items()}


def test_interval_scores_are_utilsforecasts(tmp_path: Path) -> None:
    frame = read_series_csv(_air_panel(tmp_path))
    result = evaluate([runtime_target("Naive", {"h": 6})], frame, BenchOptions(horizon=6, windows=4, step=2, season=12),
                      horizon=6, dataset="panel")
    naive = next(row for row in result.models if row.target == "Naive")
    factors = {"-median": 1.0, "-lo-80": 0.9, "-hi-80": 1.1, "-lo-90": 0.85, "-hi-90": 1.15}
    outcomes = [dataclasses.replace(o, values={suffix: o.values[""] * k for suffix, k in factors.items()})
                for o in naive.outcomes]
    found = accuracy(outcomes)
    assert {name: found[name] for name in UF_INTERVALS} == pytest.approx(UF_INTERVALS, rel=1e-9)


def test_a_window_without_a_seasonal_naive_scale_is_noticed(tmp_path: Path) -> None:
    # utilsforecast's mase is NaN for C's first window of (6, 3, 6, 12) (see UF_SCORES): the run says
    # which window is scaled otherwise instead of reporting a MASE that silently differs.
    frame = read_series_csv(_air_panel(tmp_path))
    result = evaluate([runtime_target("Naive", {"h": 6})], frame, BenchOptions(horizon=6, windows=3, step=6, season=12),
                      horizon=6, dataset="panel")
    assert [n for n in result.notices if n.startswith("MASE")] == [(
        "MASE: 1 of 9 series windows (series 'C' window 1) has no in-sample seasonal naive error "
        "(12 points of history or fewer, or a zero error), so it is scaled by the naive-1 error "
        "(or the series' level); utilsforecast's mase gives NaN or inf there.")]
    other = evaluate([runtime_target("Naive", {"h": 6})], frame, BenchOptions(horizon=6, windows=4, step=2, season=12),
                     horizon=6, dataset="panel")
    assert not [n for n in other.notices if n.startswith("MASE")]
