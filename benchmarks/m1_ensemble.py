"""M1: an Ensemble of NHITS, NBEATS and MLP with several input sizes against each of its members.

Protocol (benchmarks/data/README.md, as benchmarks/m1_bench.py): every series trains on its
first `n_train` points and forecasts its last `h`; sMAPE over all forecast points, MAPE over the
non-zero actuals, MASE scaled by the in-sample seasonal naive error (season = `period`). One
global model per group: yearly (181 series, h = 6), quarterly (203, h = 8), monthly (617, h = 18).

The ensemble is the N-BEATS paper's recipe at CPU size: NHITS, NBEATS and MLP, each with
input sizes 2h, 3h and 4h (the paper uses 2h to 7h), `--seeds` fits each (default 1), their
forecasts combined by the median. Every member has m1_bench.py's settings: `robust` window
scaler, MAE loss, `start_padding_enabled` (the shortest series have 9 yearly, 10 quarterly and
30 monthly training points), `--steps` steps (default 500) of 32 series x 256 windows, 256-unit
layers. One `Ensemble` model is fitted per group (members in `--jobs` worker processes, one
BLAS thread each); each member's own forecast is scored from the same fit
(`Ensemble.member_forecasts`), so the table compares the ensemble with exactly its members.

    python benchmarks/m1_ensemble.py [--steps 500] [--groups yearly quarterly monthly] [--jobs 2]
                                     [--seeds 1] [--seed 1] [--combine median] [--output m1_ensemble.json]

Two runs (500 steps, --jobs 2, 2 CPUs shared with other work at load 10 to 60, so wall times are
3-4x the CPU times): sMAPE per group and over all 1,001 series (sMAPE weighted by forecast points)

    seed  model                 yearly  quarterly  monthly  all    all MASE  CPU s (all fits)
    1     Ensemble (median)     16.21   15.62      15.68    15.71  1.571     141
    1     best member per group 16.37   15.48      15.96
    1     best member overall   NBEATS-2h                   16.04  1.640
    2     Ensemble (median)     16.10   15.62      15.55    15.60  1.564     147
    2     best member per group 15.77   15.64      15.73
    2     best member overall   NBEATS-2h                   15.82  1.629
          SeasonalNaive         22.43   18.94      17.30    17.90  2.116

The best member changes with the group and the seed (NHITS-2h, NBEATS-4h, NBEATS-3h, NBEATS-2h);
the ensemble beats the best single member over all series in both runs, and in 2 of 3 groups in
each. MAPE is not better than SeasonalNaive's for any member nor the ensemble (MAE training on
raw values; scale-free losses are a separate part of issue 14).

`run(groups, steps=..., jobs=...)` returns the same rows for scripts (benchmarks/m1_bench.py),
`overall(rows)` the rows over all groups (sMAPE and MAPE weighted by forecast points, MASE by
series), `print_table(rows)` the tables; `--table FILE` prints those of a saved `--output`.
Fit times are per member fit (wall and CPU seconds, measured in the process that fitted it); the
ensemble's are the sum over members (its CPU cost) and the wall time of the whole parallel fit.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.factory import create
from modreg.runtime.metrics import mape, mase, smape

DATA = Path(__file__).resolve().parent / "data"
GROUPS = ("yearly", "quarterly", "monthly")
UNITS = 256
INPUT_MULTIPLES = (2, 3, 4)


def load_group(group: str) -> tuple[SeriesFrame, int, int]:
    """The series of one M1 type, its horizon and its season (checked against m1_meta.json)."""
    frame = read_series_csv(DATA / "m1.csv")
    meta = json.loads((DATA / "m1_meta.json").read_text())
    index = [i for i, sid in enumerate(frame.ids) if meta[sid]["type"] == group]
    (h,), (period,) = {meta[frame.ids[i]]["h"] for i in index}, {meta[frame.ids[i]]["period"] for i in index}
    assert all(meta[frame.ids[i]]["n_train"] + h == len(frame.y[i]) for i in index)
    part = SeriesFrame(ids=tuple(frame.ids[i] for i in index), ds=tuple(frame.ds[i] for i in index),
                       y=tuple(frame.y[i] for i in index), freq=frame.freq, source=frame.source)
    return part, h, period


def members(h: int, steps: int) -> list[dict[str, Any]]:
    """NHITS, NBEATS and MLP at each input size (m1_bench.py's settings otherwise)."""
    common = {"max_steps": steps, "start_padding_enabled": True, "scaler_type": "robust", "batch_size": 32,
              "windows_batch_size": 256}
    own: dict[str, dict[str, Any]] = {
        "NHITS": {"mlp_units": [[UNITS, UNITS]] * 3, "n_freq_downsample": [2, 1, 1] if h < 8 else [4, 2, 1]},
        "NBEATS": {"mlp_units": [[UNITS, UNITS]] * 3},
        "MLP": {"hidden_size": UNITS},
    }
    return [{"model": model, "name": f"{model}-{k}h", "params": {**common, **extra, "input_size": k * h}}
            for model, extra in own.items() for k in INPUT_MULTIPLES]


def _scores(actual: np.ndarray, forecast: np.ndarray, train: tuple[np.ndarray, ...], season: int) -> dict[str, float]:
    return {"smape": float(smape(actual, forecast)), "mape": float(mape(actual, forecast)),
            "mase": float(mase(actual, forecast, list(train), season))}


def run_group(group: str, *, steps: int, jobs: int, seeds: int, combine: str, seed: int = 1) -> list[dict[str, Any]]:
    """One row per model (the ensemble, each member, SeasonalNaive) of one group."""
    frame, h, season = load_group(group)
    train = frame.slice_end(h)
    actual = np.stack([y[-h:] for y in frame.y])
    ensemble = create("Ensemble", h=h, members=members(h, steps), combine=combine, seeds=seeds, jobs=jobs,
                      random_seed=seed)
    started = time.perf_counter()
    ensemble.fit(train)
    wall = time.perf_counter() - started
    rows = [{"model": "Ensemble", **_scores(actual, ensemble.predict().point, train.y, season),
             "fit_seconds": wall, "fit_cpu_seconds": sum(f.cpu_seconds for f in ensemble.fitted)}]
    by_member: dict[str, list[int]] = {}
    for k, fit in enumerate(ensemble.fitted):
        by_member.setdefault(fit.plan.label.split("#")[0], []).append(k)
    forecasts = ensemble.member_forecasts()
    for label, fits in by_member.items():  # a member fitted with several seeds: its own median over them
        point = np.median(np.stack([forecasts[k].point for k in fits]), axis=0)
        rows.append({"model": label, **_scores(actual, point, train.y, season),
                     "fit_seconds": sum(ensemble.fitted[k].seconds for k in fits),
                     "fit_cpu_seconds": sum(ensemble.fitted[k].cpu_seconds for k in fits)})
    naive = create("SeasonalNaive", h=h, season_length=season).fit(train)
    rows.append({"model": "SeasonalNaive", **_scores(actual, naive.predict().point, train.y, season),
                 "fit_seconds": 0.0, "fit_cpu_seconds": 0.0})
    for row in rows:
        row.update(series=frame.n_series, points=frame.n_series * h)
    print(f"{group}: {frame.n_series} series, h = {h}, season {season}: ensemble fitted in {wall:.0f} s "
          f"({rows[0]['fit_cpu_seconds']:.0f} s CPU in all fits), load {os.getloadavg()[0]:.1f}", flush=True)
    return rows


def run(groups: tuple[str, ...] = GROUPS, *, steps: int = 500, jobs: int = 2, seeds: int = 1,
        combine: str = "median", seed: int = 1) -> dict[str, list[dict[str, Any]]]:
    """Every group's rows (see `run_group`)."""
    return {group: run_group(group, steps=steps, jobs=jobs, seeds=seeds, combine=combine, seed=seed) for group in groups}


def overall(results: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows over every group: sMAPE and MAPE weighted by forecast points, MASE by series; times summed."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for group_rows in results.values():
        for row in group_rows:
            rows.setdefault(row["model"], []).append(row)
    found = []
    for model, parts in rows.items():
        if len(parts) != len(results):
            continue
        points, series = sum(p["points"] for p in parts), sum(p["series"] for p in parts)
        found.append({"model": model, "points": points, "series": series,
                      **{m: sum(p[m] * p["points"] for p in parts) / points for m in ("smape", "mape")},
                      "mase": sum(p["mase"] * p["series"] for p in parts) / series,
                      **{t: sum(p[t] for p in parts) for t in ("fit_seconds", "fit_cpu_seconds")}})
    return found


def print_table(results: dict[str, list[dict[str, Any]]]) -> None:
    if len(results) > 1:
        results = {**results, "all": overall(results)}
    for group, rows in results.items():
        reference = next(r for r in rows if r["model"] == "SeasonalNaive")
        best = min((r for r in rows if r["model"] not in ("Ensemble", "SeasonalNaive")), key=lambda r: r["smape"])
        print(f"\n{group}  (best member: {best['model']}, sMAPE {best['smape']:.2f})")
        print(f"{'model':<15}{'sMAPE':>8}{'vs SN':>7}{'MASE':>8}{'vs SN':>7}{'MAPE':>9}{'vs SN':>7}{'fit s':>9}{'CPU s':>9}")
        for row in sorted(rows, key=lambda r: r["smape"]):
            ratios = [row[m] / reference[m] if reference[m] else float("nan") for m in ("smape", "mase", "mape")]
            print(f"{row['model']:<15}{row['smape']:>8.2f}{ratios[0]:>7.3f}{row['mase']:>8.3f}{ratios[1]:>7.3f}"
                  f"{row['mape']:>9.2f}{ratios[2]:>7.3f}{row['fit_seconds']:>9.1f}{row['fit_cpu_seconds']:>9.1f}")
    print("(vs SN: relative to SeasonalNaive, below 1 is better; the ensemble's fit s is the wall time of the "
          "parallel fit, its CPU s the sum over member fits)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500, help="training steps of every member")
    parser.add_argument("--groups", nargs="+", default=list(GROUPS), choices=GROUPS)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes fitting the members")
    parser.add_argument("--seeds", type=int, default=1, help="fits per member, with consecutive seeds")
    parser.add_argument("--seed", type=int, default=1, help="the first random_seed of every member")
    parser.add_argument("--combine", default="median", choices=("median", "mean"))
    parser.add_argument("--output", type=Path, default=None, help="write the rows as JSON")
    parser.add_argument("--table", type=Path, default=None, help="only print the tables of a JSON file --output wrote")
    args = parser.parse_args()
    if args.table is not None:
        print_table(json.loads(args.table.read_text()))
        return
    results = run(tuple(g for g in GROUPS if g in args.groups), steps=args.steps, jobs=args.jobs, seeds=args.seeds,
                  combine=args.combine, seed=args.seed)
    print_table(results)
    if args.output is not None:
        args.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
