"""Panels with short series: M1 (yearly, quarterly, monthly) and visnights, MAPE, sMAPE and MASE next to SeasonalNaive.

Protocol (the literature's, see benchmarks/data/README.md): every series is trained on all but
its last `h` points and forecasts them (one window at the end of each series), scored over all
forecast points by MAPE (zero actuals skipped) and sMAPE (0..200), and by MASE scaled with each
series' in-sample seasonal naive error. The groups, each fitted as one global model:

    group      series  h   season  training points        template (registry.example/templates)
    yearly     181     6   1       9 to 52                panel-yearly     input_size 12
    quarterly  203     8   4       10 to 106              panel-quarterly  input_size 16
    monthly    617     18  12      30 to 132              panel-monthly    input_size 54
    visnights  20      8   4       68                     panel-quarterly-long  input_size 56

Many M1 series are shorter than input_size + h: they train on windows padded and masked as in
neuralforecast (no `start_padding_enabled` needed). Each neural model runs exactly as
`modreg -r registry.example run NHITS --template panel-monthly` would: the model's
registry.example entry (its architecture) under the group's template (h, input_size, scaler,
loss, steps). The M1 templates train scale-free, with the MAPE loss on unscaled windows, as the
series' levels span 0.005 to 47 million; the visnights one (series of one scale, a strong
seasonal naive) reads 14 years of history through a minmax scaler. A recurrent network cannot
read unscaled windows of such levels (its tanh saturates: sMAPE 111 on M1 yearly), and the
MAPE of robust-scaled values means nothing, so LSTM runs with `--param scaler_type=robust
--param loss=mae` on top of the template (`OVERRIDES`). All seeds are 1.

The figures: each metric, in brackets relative to SeasonalNaive (below 1 is better), and fit
seconds, wall and CPU (process time; the machine is shared, so read both with the load average
printed first).

    python benchmarks/m1_bench.py [--models NHITS NBEATS MLP LSTM] [--groups yearly visnights]
                                  [--steps N] [--output results.json]

Other scripts add rows (an ensemble, say) with `load_groups`, `score_row` and `print_table`:
build the row from a group's forecasts with `score_row`, append it to that group's rows, print.

One run (seed 1, at 2026-12-05's code; 2 CPUs shared with another job's tests, load average
1.2 to 3, so read the CPU seconds too):

    yearly
    model                       MAPE            sMAPE             MASE     fit s (CPU s)
    NHITS             17.082 (0.811)   16.003 (0.713)    3.362 (0.687)       22.8 (24.0)
    NBEATS            17.303 (0.821)   16.077 (0.717)    3.383 (0.691)       18.5 (24.1)
    MLP               17.340 (0.823)   16.500 (0.736)    3.546 (0.725)         1.1 (1.3)
    LSTM              24.965 (1.185)   20.667 (0.921)    4.258 (0.870)       31.0 (33.5)
    SeasonalNaive     21.070 (1.000)   22.431 (1.000)    4.893 (1.000)
    Naive             21.070 (1.000)   22.431 (1.000)    4.893 (1.000)

    quarterly
    model                       MAPE            sMAPE             MASE     fit s (CPU s)
    NHITS             15.082 (0.741)   15.911 (0.840)    1.693 (0.815)       23.7 (23.5)
    NBEATS            15.420 (0.757)   16.076 (0.849)    1.683 (0.810)       28.0 (24.2)
    MLP               16.796 (0.825)   16.494 (0.871)    2.016 (0.970)         1.3 (1.2)
    Naive             18.928 (0.930)   18.379 (0.970)    1.952 (0.939)
    SeasonalNaive     20.362 (1.000)   18.944 (1.000)    2.078 (1.000)
    LSTM              27.608 (1.356)   20.245 (1.069)    2.333 (1.123)       36.2 (46.7)

    monthly
    model                       MAPE            sMAPE             MASE     fit s (CPU s)
    NHITS             17.101 (0.904)   15.191 (0.878)    1.074 (0.817)       38.8 (43.4)
    NBEATS            17.104 (0.905)   15.254 (0.882)    1.085 (0.826)       48.3 (44.1)
    MLP               22.909 (1.212)   15.655 (0.905)    1.113 (0.847)         2.7 (2.5)
    SeasonalNaive     18.909 (1.000)   17.299 (1.000)    1.314 (1.000)
    Naive             22.402 (1.185)   19.216 (1.111)    1.468 (1.117)
    LSTM              67.261 (3.557)   20.986 (1.213)    1.480 (1.126)     185.7 (284.2)

    visnights
    model                       MAPE            sMAPE             MASE     fit s (CPU s)
    NBEATS            11.341 (0.888)   11.501 (0.854)    1.009 (0.895)         8.9 (9.7)
    NHITS             11.387 (0.892)   11.508 (0.854)    1.012 (0.898)         9.2 (9.9)
    MLP               11.751 (0.920)   11.917 (0.885)    1.031 (0.914)         0.6 (0.6)
    SeasonalNaive     12.771 (1.000)   13.469 (1.000)    1.127 (1.000)
    LSTM              14.191 (1.111)   14.254 (1.058)    1.231 (1.092)       30.1 (52.8)
    Naive             17.678 (1.384)   18.684 (1.387)    1.703 (1.511)

From an earlier run (before this one's code), NHITS with seeds 2 and 3 (MAPE / sMAPE / MASE
relative to SeasonalNaive): yearly 0.81/0.72/0.70 and 0.81/0.73/0.70, quarterly 0.77/0.83/0.80 and 0.80/0.86/0.84, monthly (seed 3) 0.93/0.91/0.83,
visnights 0.91/0.89/0.93 and 0.91/0.87/0.91; NBEATS on visnights 0.89/0.85/0.89 and 0.89/0.85/0.89.
MLP misses MAPE on monthly (its unscaled outputs cannot hit the series near 0.1, where 0.1 off is
100%), and the LSTM, which needs scaled inputs, trails SeasonalNaive.

What was tried against those two misses (seed 1 unless said; MAPE / sMAPE / MASE relative to
SeasonalNaive). MLP on monthly, panel-monthly plus: seeds 2 and 3 1.36/0.94/0.90 and
1.28/0.91/0.84; the `absmean` scaler (no shift, mean |x| scale, so the MAPE loss still means
percentage errors) 1.11/0.90/0.84, seeds 2 and 3 1.27 and 1.32 on MAPE; absmean with 3 layers
1.05 (seed 2: 1.17), with input_size 36 1.09/0.96/1.07, with 3 lr decays 1.14, with 2000 steps
1.13, with 1024 units 1.26, with batch_size 128 1.30; learning rate 3e-4 1.17 to 1.19; early
stopping on the last h points 1.75 to 1.82 (the validation split removes exactly the recent
points the decaying series need); losses mase 1.64 to 1.68 and relmse 2.12 on MAPE; the robust
and invariant scalers 2.1 to 2.4. The MAPE gap comes from a handful of series decaying to
near zero (MND15 to MND23: the MLP forecasts 250% to 1000% off where SeasonalNaive is 50% to
180% off); on the median series the MLP beats SeasonalNaive (ratio 0.85, better on 65% of series).
LSTM: with `absmean` and MAE, yearly 1.11/0.96/0.90 (robust: 1.34/0.99/0.99) but visnights
1.50/1.55/1.63 (robust: 1.10/1.06/1.10); with the MAPE loss (absmean, lr 1e-3 or 3e-4) yearly
1.57 to 1.59/1.73/1.61, and with sMAPE it collapses (sMAPE 200: a forecast of the wrong sign
scores the maximum with zero gradient). `OVERRIDES` keeps robust + MAE.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import modreg.runtime  # noqa: F401  before numpy: it sets how OpenBLAS's idle threads wait, as `modreg run` does
import numpy as np

from modreg.forecast.run import merged_params, resolve_target
from modreg.runtime import factory
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.metrics import mape, mase, smape

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
REGISTRY = ROOT / "registry.example"
GROUPS = ("yearly", "quarterly", "monthly", "visnights")
TEMPLATES = {"yearly": "panel-yearly", "quarterly": "panel-quarterly", "monthly": "panel-monthly",
             "visnights": "panel-quarterly-long"}
MODELS = ("NHITS", "NBEATS", "MLP", "LSTM")
BASELINES = ("SeasonalNaive", "Naive")
OVERRIDES: dict[str, dict[str, Any]] = {"LSTM": {"scaler_type": "robust", "loss": "mae"}}


@dataclass(frozen=True)
class Group:
    """One panel: the training frame, the test values (n_series, h), the horizon and season."""

    name: str
    train: SeriesFrame
    actual: np.ndarray
    h: int
    season: int


@dataclass(frozen=True)
class Row:
    """One model's figures on one group."""

    model: str
    mape: float
    smape: float
    mase: float
    fit_seconds: float | None = None
    fit_cpu_seconds: float | None = None


def load_groups(wanted: tuple[str, ...]) -> dict[str, Group]:
    """The panels of the module docstring (M1 groups checked against m1_meta.json)."""
    groups = {}
    for name in wanted:
        frame, h, season = _visnights() if name == "visnights" else _m1(name)
        actual = np.stack([y[-h:] for y in frame.y])
        groups[name] = Group(name, frame.slice_end(h), actual, h, season)
    return groups


def _m1(group: str) -> tuple[SeriesFrame, int, int]:
    frame = read_series_csv(DATA / "m1.csv")
    meta = json.loads((DATA / "m1_meta.json").read_text())
    index = [i for i, sid in enumerate(frame.ids) if meta[sid]["type"] == group]
    (h, period), = {(meta[frame.ids[i]]["h"], meta[frame.ids[i]]["period"]) for i in index}
    assert all(meta[frame.ids[i]]["n_train"] + h == len(frame.y[i]) for i in index)
    part = SeriesFrame(ids=tuple(frame.ids[i] for i in index), ds=tuple(frame.ds[i] for i in index),
                       y=tuple(frame.y[i] for i in index), freq=frame.freq, source=frame.source)
    return part, h, period


def _visnights() -> tuple[SeriesFrame, int, int]:
    return read_series_csv(REGISTRY / "data" / "visnights.csv"), 8, 4


def score_row(model: str, group: Group, forecast: np.ndarray, fit_seconds: float | None = None,
              fit_cpu_seconds: float | None = None) -> Row:
    """A row from a model's (n_series, h) point forecasts of `group`."""
    return Row(model, float(mape(group.actual, forecast)), float(smape(group.actual, forecast)),
               float(mase(group.actual, forecast, group.train.y, group.season)), fit_seconds, fit_cpu_seconds)


def model_params(model: str, group: Group, steps: int | None) -> dict[str, Any]:
    """The entry's parameters under the group's template (as `modreg run` merges them), seed 1."""
    if model in BASELINES:
        return {"h": group.h, **({"season_length": group.season} if model == "SeasonalNaive" else {})}
    spec = resolve_target(model, REGISTRY)
    cli = {"random_seed": 1, **OVERRIDES.get(model, {}), **({"max_steps": steps} if steps else {})}
    return merged_params(spec, REGISTRY, params=cli, template=TEMPLATES[group.name])


def fit_row(model: str, group: Group, steps: int | None) -> Row:
    """Fit `model` on the group's training frame and score its forecasts."""
    spec = resolve_target(model, REGISTRY) if model not in BASELINES else None
    built = factory.create(spec.model if spec else model, **model_params(model, group, steps))
    wall, cpu = time.perf_counter(), time.process_time()
    built.fit(group.train)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    forecast = built.predict().values[built.name]
    return score_row(model, group, forecast, wall, cpu)


def print_table(rows: dict[str, list[Row]]) -> None:
    """Per group, one line per model: MAPE, sMAPE, MASE (relative to SeasonalNaive) and fit seconds."""
    for group, found in rows.items():
        reference = next(r for r in found if r.model == "SeasonalNaive")
        print(f"\n{group}\n{'model':<15}{'MAPE':>17}{'sMAPE':>17}{'MASE':>17}{'fit s (CPU s)':>18}")
        for row in sorted(found, key=lambda r: r.smape):
            cells = "".join(f"{getattr(row, m):>9.3f} ({getattr(row, m) / getattr(reference, m):.3f})"
                            for m in ("mape", "smape", "mase"))
            fit = "" if row.fit_seconds is None or row.model in BASELINES else \
                f"{row.fit_seconds:>10.1f} ({row.fit_cpu_seconds:.1f})"
            print(f"{row.model:<15}{cells}{fit:>18}")
    print("\n(in brackets: relative to SeasonalNaive; below 1 is better)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--groups", nargs="+", default=list(GROUPS), choices=GROUPS)
    parser.add_argument("--steps", type=int, default=None, help="max_steps instead of the templates'")
    parser.add_argument("--output", type=Path, default=None, help="write every row as JSON")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    rows: dict[str, list[Row]] = {}
    for name, group in load_groups(tuple(g for g in GROUPS if g in args.groups)).items():
        rows[name] = []
        for model in (*BASELINES, *args.models):
            rows[name].append(fit_row(model, group, args.steps))
            print(f"{name} {model}: {asdict(rows[name][-1])}", flush=True)
    print_table(rows)
    if args.output is not None:
        args.output.write_text(json.dumps({g: [asdict(r) for r in found] for g, found in rows.items()},
                                          indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
