"""The M1 competition with modreg's benchmark harness: sMAPE and MASE per frequency next to SeasonalNaive.

Protocol (the literature's, see benchmarks/data/README.md): every series is trained on its
first `n_train` points and forecasts its last `h` (one window at the end of each series, the
harness's `windows=1`), scored by sMAPE over all forecast points and by MASE scaled with the
in-sample seasonal naive error (season = the series' `period`). The harness runs one data set
with one horizon, so the 1,001 series are benchmarked in three groups by type, each with its
own horizon and season: yearly (181 series, h = 6, season 1), quarterly (203, h = 8, season 4)
and monthly (617, h = 18, season 12). The "all" columns combine the groups: sMAPE weighted by
forecast points, MASE by series.

Model settings: one global model per group (trained on all its series), input_size = 2·h
(12, 16, 36 points), `start_padding_enabled` so that the shortest series (9 yearly, 10
quarterly, 30 monthly training points) still give training windows (the missing history is
zero-padded and masked, as in neuralforecast), a per-window `robust` scaler (the series' levels
span 0.005 to 47 million), MAE loss, `--steps` training steps (default 500) on 32 series x
256 windows per step, seed 1. The networks are smaller than neuralforecast's defaults
(256-unit MLP layers instead of 512/1024, 64-unit recurrent layers) so that a run on a CPU
takes minutes, not hours. SeasonalNaive (the reference) and Naive have nothing to train.

    python benchmarks/m1_bench.py [--steps 500] [--models NBEATS NHITS ...] [--groups yearly monthly]
                                  [--jobs 1] [--timeout S] [--output m1_results.json]

One run (500 steps, --jobs 1, 2 shared CPUs, about 26 minutes): sMAPE (relative to SeasonalNaive)

    model          yearly        quarterly     monthly       all          all MASE
    NHITS          16.29 (0.73)  16.08 (0.85)  15.82 (0.91)  15.89 (0.89)  1.633 (0.77)
    NBEATS         16.27 (0.73)  16.27 (0.86)  16.10 (0.93)  16.14 (0.90)  1.631 (0.77)
    MLP            17.38 (0.77)  16.06 (0.85)  16.36 (0.95)  16.41 (0.92)  1.692 (0.80)
    SeasonalNaive  22.43         18.94         17.30         17.90         2.116
    Naive          22.43 (1.00)  18.38 (0.97)  19.22 (1.11)  19.37 (1.08)  2.185 (1.03)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from modreg.forecast.bench.harness import BenchOptions, BenchResult, BenchTarget, evaluate, runtime_target
from modreg.runtime.data import SeriesFrame, read_series_csv

DATA = Path(__file__).resolve().parent / "data"
GROUPS = ("yearly", "quarterly", "monthly")
MODELS = ("Naive", "NBEATS", "NHITS", "MLP", "DLinear", "NLinear", "LSTM", "GRU")
UNITS = 256


def load_groups(wanted: tuple[str, ...]) -> dict[str, tuple[SeriesFrame, int, int]]:
    """Per type: the frame of its series, its horizon and its season (checked against the meta file)."""
    frame = read_series_csv(DATA / "m1.csv")
    meta = json.loads((DATA / "m1_meta.json").read_text())
    groups = {}
    for group in wanted:
        index = [i for i, sid in enumerate(frame.ids) if meta[sid]["type"] == group]
        h, period = {meta[frame.ids[i]]["h"] for i in index}, {meta[frame.ids[i]]["period"] for i in index}
        assert len(h) == len(period) == 1, f"{group}: several horizons or periods"
        assert all(meta[frame.ids[i]]["n_train"] + h_ == len(frame.y[i]) for i in index for h_ in h)
        part = SeriesFrame(ids=tuple(frame.ids[i] for i in index), ds=tuple(frame.ds[i] for i in index),
                           y=tuple(frame.y[i] for i in index), freq=frame.freq, source=frame.source)
        groups[group] = (part, h.pop(), period.pop())
    return groups


def model_params(model: str, h: int, season: int, steps: int) -> dict[str, Any]:
    """The settings of the module docstring for one model and group."""
    if model in ("Naive",):
        return {"h": h}
    if model == "SeasonalNaive":
        return {"h": h, "season_length": season}
    common = {"h": h, "input_size": 2 * h, "max_steps": steps, "start_padding_enabled": True, "scaler_type": "robust",
              "batch_size": 32, "windows_batch_size": 256, "random_seed": 1}
    extra: dict[str, dict[str, Any]] = {
        "NBEATS": {"mlp_units": ((UNITS, UNITS),) * 3},
        "NHITS": {"mlp_units": ((UNITS, UNITS),) * 3, "n_freq_downsample": (2, 1, 1) if h < 8 else (4, 2, 1)},
        "MLP": {"hidden_size": UNITS},
        "DLinear": {"moving_avg_window": 2 * (h // 2) + 1, "learning_rate": 1e-3},
        "NLinear": {"learning_rate": 1e-3},
        "LSTM": {"encoder_hidden_size": 64, "decoder_hidden_size": 64, "windows_batch_size": 128},
        "GRU": {"encoder_hidden_size": 64, "decoder_hidden_size": 64, "windows_batch_size": 128},
    }
    return {**common, **extra.get(model, {})}


def run_group(frame: SeriesFrame, h: int, season: int, models: tuple[str, ...], args: argparse.Namespace,
              group: str) -> BenchResult:
    targets: list[BenchTarget] = [runtime_target(m, model_params(m, h, season, args.steps)) for m in models]
    options = BenchOptions(horizon=h, windows=1, season=season, jobs=args.jobs, timeout=args.timeout)
    started = time.perf_counter()
    result = evaluate(targets, frame, options, horizon=h, dataset=f"m1-{group}")
    print(f"{group}: {frame.n_series} series, h = {h}, season {season}: {time.perf_counter() - started:.0f} s", flush=True)
    return result


def summary(results: dict[str, BenchResult]) -> list[dict[str, Any]]:
    """One row per model: sMAPE and MASE per group, and over all series."""
    rows: dict[str, dict[str, Any]] = {}
    for group, result in results.items():
        n, h = result.data["series"], result.horizon
        for score in result.models:
            row = rows.setdefault(score.target, {"model": score.target, "weights": []})
            if not score.ok:
                row[group] = {"error": score.error}
                continue
            row[group] = {"smape": score.metrics["smape"], "mase": score.metrics["mase"],
                          "fit_seconds": score.timings["fit_seconds"]}
            row["weights"].append((n * h, n, score.metrics["smape"], score.metrics["mase"]))
    for row in rows.values():
        weights = row.pop("weights")
        if len(weights) == len(results):
            points, series = sum(w[0] for w in weights), sum(w[1] for w in weights)
            row["all"] = {"smape": sum(w[0] * w[2] for w in weights) / points,
                          "mase": sum(w[1] * w[3] for w in weights) / series}
    return sorted(rows.values(), key=lambda r: r.get("all", {}).get("smape", np.inf))


def print_table(rows: list[dict[str, Any]], groups: tuple[str, ...]) -> None:
    columns = [*groups, "all"]
    print(f"{'model':<15}" + "".join(f"{c + ' sMAPE':>17}{c + ' MASE':>16}" for c in columns))
    reference = next(r for r in rows if r["model"] == "SeasonalNaive")
    for row in rows:
        cells = []
        for column in columns:
            cell = row.get(column, {})
            if "smape" not in cell:
                cells.append(f"{'failed':>17}{'':>16}")
                continue
            ratio = cell["smape"] / reference[column]["smape"]
            cells.append(f"{cell['smape']:>9.2f} ({ratio:4.2f}){cell['mase']:>9.3f} ({cell['mase'] / reference[column]['mase']:4.2f})")
        print(f"{row['model']:<15}" + "".join(cells))
    print("(in brackets: relative to SeasonalNaive; below 1 is better)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500, help="training steps of the neural models")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--groups", nargs="+", default=list(GROUPS), choices=GROUPS)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--output", type=Path, default=None, help="write every group's full result as JSON")
    args = parser.parse_args()
    groups = tuple(g for g in GROUPS if g in args.groups)
    results = {g: run_group(frame, h, season, tuple(args.models), args, g)
               for g, (frame, h, season) in load_groups(groups).items()}
    rows = summary(results)
    print_table(rows, groups)
    if args.output is not None:
        args.output.write_text(json.dumps({"summary": rows, "groups": {g: r.to_dict() for g, r in results.items()}},
                                          indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
