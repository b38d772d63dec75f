"""Panels: NeuralEnsemble under the `panel-*-ensemble` templates against each of its members.

Protocol (benchmarks/m1_bench.py's, whose groups this reuses): every series trains on all but its
last `h` points and forecasts them; MAPE over the non-zero actuals, sMAPE (0..200), MASE scaled by
each series' in-sample seasonal naive error. One global ensemble per group: M1 yearly (181 series,
h = 6), quarterly (203, h = 8), monthly (617, h = 18), and visnights (20, h = 8).

The ensemble is registry.example's, exactly as
`modreg -r registry.example run NeuralEnsemble --template panel-monthly-ensemble` builds it: the
N-BEATS paper's recipe at CPU size, NHITS, NBEATS and MLP (the registry entries, their
architectures) each under the group's panel template (scale-free: MAPE loss on unscaled windows
for M1, minmax windows and MAE for visnights) at three input sizes (2h, 3h, 4h; 5h, 6h, 7h on
visnights; 2h and 3h on yearly, see below), combined by the median. `--steps` replaces every
member's training steps (default: the templates', 600 yearly and quarterly, 1000 monthly, 300
visnights), `--seeds` fits each member with several seeds. Each member's own forecast is scored from the same fit
(`Ensemble.member_forecasts`), so the table compares the ensemble with exactly its members.

    python benchmarks/m1_ensemble.py [--groups yearly quarterly monthly visnights] [--jobs 1]
                                     [--steps N] [--seeds 1] [--seed 1] [--output m1_ensemble.json]

The latest run (seed 1, --jobs 1, the templates' steps, at 2026-12-05's code, on 2 CPUs at load
1.4 to 2.3; the ensemble's fits cost 97, 149, 288 and 83 CPU seconds on yearly, quarterly,
monthly and visnights; yearly has six members, the others nine). MAPE / sMAPE / MASE, in
brackets relative to SeasonalNaive (below 1 is better):

    seed 1     model             MAPE            sMAPE           MASE
    yearly     Ensemble          16.86 (0.800)   15.86 (0.707)   3.335 (0.682)
               NHITS-2h (best)   17.08 (0.811)   16.00 (0.713)   3.362 (0.687)
               SeasonalNaive     21.07           22.43           4.893
    quarterly  Ensemble          15.10 (0.741)   15.44 (0.815)   1.651 (0.794)
               NHITS-3h (best)   15.30 (0.751)   15.85 (0.837)   1.671 (0.804)
               SeasonalNaive     20.36           18.94           2.078
    monthly    Ensemble          16.75 (0.886)   14.56 (0.842)   1.044 (0.795)
               NHITS-3h (best)   17.10 (0.904)   15.19 (0.878)   1.074 (0.817)
               SeasonalNaive     18.91           17.30           1.314
    visnights  Ensemble          11.31 (0.886)   11.94 (0.886)   1.038 (0.921)
               NBEATS-7h (best)  11.34 (0.888)   11.50 (0.854)   1.009 (0.895)
               SeasonalNaive     12.77           13.47           1.127
    all M1     Ensemble          16.56 (0.861)   14.77 (0.825)   1.582 (0.747)
               NHITS-3h (best)   16.95 (0.881)   15.38 (0.859)   1.637 (0.773)

So at seed 1 the ensemble beats SeasonalNaive on all three metrics on every panel, and its best
member's sMAPE on each M1 group and over all M1 series (and its MAPE and MASE too), but not on
visnights. The runs below are older (before later changes to the training code, and with nine
members on yearly; seed 1 then gave yearly 15.97 against 15.90):

    sMAPE, ensemble vs best member (its name)
    seed  yearly                    quarterly                 monthly                    all M1
    1     15.97 vs 15.90 NHITS-2h   15.53 vs 15.56 NHITS-3h   14.65 vs 15.12 NHITS-3h    14.85 vs 15.28
    2     15.65 vs 15.76 NHITS-3h   15.51 vs 15.64 NHITS-3h   14.54 vs 15.31 NBEATS-4h   14.74 vs 15.64
    3     16.33 vs 15.88 NHITS-3h
    SeasonalNaive 22.43             18.94                     17.30                      17.90

Seed 2, ensemble relative to SeasonalNaive (MAPE / sMAPE / MASE): yearly 0.79 / 0.70 / 0.67,
quarterly 0.76 / 0.82 / 0.79, monthly 0.85 / 0.84 / 0.80, all M1 0.84 / 0.82 / 0.74 (CPU seconds
in all member fits: 270, 278, 533).

Those older runs are of nine members on every group. panel-yearly-ensemble now keeps the 2h and
3h members only (six), which on yearly then gave sMAPE 15.89 vs best member 15.90 (seed 1), 15.73 vs
15.77 (seed 2) and 15.95 vs 15.88 (seed 3): it beats its best member at two seeds of three and
loses by 0.08 at the third (the same member fits as the nine-member runs, fitted again without
the 4h ones; MAPE and MASE of the six-member median were not measured, every one of its members
is below SeasonalNaive on both, at 0.80 to 0.95 and 0.68 to 0.78 of it).

In those runs, with nine members, the ensemble beats SeasonalNaive on all three metrics on every panel and run, and its best
member's sMAPE over all M1 series, on quarterly and monthly at both seeds, and on yearly at
seed 2 only: yearly it loses at seed 1 by 0.07 (to NHITS-2h) and at seed 3 by 0.45 (to NHITS-3h,
the ensemble fifth of ten: the 4h members, 24 years of input for series of 9 to 52, are weak,
MLP-4h and NBEATS-4h 17.4 to 18.6 at seeds 1 and 3); and visnights (seed 1 only: to NBEATS-7h;
only the 7h members, reading 14 of the 17 training years, are strong there, and the 5h ones
trail SeasonalNaive). Its MAPE is at most 0.33 above the best member's, and below every
member's at seed 2 on yearly (16.71 against 16.75) and monthly (16.14 against 16.65), although
the MLP members miss SeasonalNaive's MAPE on monthly (1.03 to 1.36 times it).

`run(groups, jobs=...)` returns the rows for scripts, `overall(rows)` the rows over the M1 groups
(sMAPE and MAPE weighted by forecast points, MASE by series), `print_table(rows)` the tables;
`--table FILE` prints those of a saved `--output`. Fit times are per member fit (wall and CPU
seconds, measured in the process that fitted it); the ensemble's are the sum over members (its
CPU cost) and the wall time of the whole fit.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import modreg.runtime  # noqa: F401  before numpy: it sets how OpenBLAS's idle threads wait, as `modreg run` does
import numpy as np
from m1_bench import (  # this script's directory
    REGISTRY,
    TEMPLATES,
    Group,
    load_groups,
    score_row,
)

from modreg.forecast.run import merged_params, resolve_target
from modreg.runtime.factory import create

GROUPS = ("yearly", "quarterly", "monthly", "visnights")
M1 = ("yearly", "quarterly", "monthly")
ENTRY = "NeuralEnsemble"


def ensemble_params(group: Group, *, steps: int | None, jobs: int, seeds: int, seed: int) -> dict[str, Any]:
    """NeuralEnsemble's parameters under the group's `panel-*-ensemble` template, as `modreg run` merges them."""
    cli = {"random_seed": seed, "jobs": jobs, "seeds": seeds, **({"max_steps": steps} if steps else {})}
    return merged_params(resolve_target(ENTRY, REGISTRY), REGISTRY, params=cli,
                         template=f"{TEMPLATES[group.name]}-ensemble")


def _row(model: str, group: Group, forecast: np.ndarray, seconds: float, cpu: float) -> dict[str, Any]:
    row = score_row(model, group, forecast, seconds, cpu)
    return {"model": model, "smape": row.smape, "mape": row.mape, "mase": row.mase, "fit_seconds": seconds,
            "fit_cpu_seconds": cpu, "series": group.train.n_series, "points": group.train.n_series * group.h}


def run_group(group: Group, *, steps: int | None, jobs: int, seeds: int, seed: int = 1) -> list[dict[str, Any]]:
    """One row per model (the ensemble, each member, SeasonalNaive) of one group."""
    ensemble = create("Ensemble", **ensemble_params(group, steps=steps, jobs=jobs, seeds=seeds, seed=seed))
    started = time.perf_counter()
    ensemble.fit(group.train)
    wall = time.perf_counter() - started
    rows = [_row("Ensemble", group, ensemble.predict().point, wall, sum(f.cpu_seconds for f in ensemble.fitted))]
    by_member: dict[str, list[int]] = {}
    for k, fit in enumerate(ensemble.fitted):
        by_member.setdefault(fit.plan.label.split("#")[0], []).append(k)
    forecasts = ensemble.member_forecasts()
    for label, fits in by_member.items():  # a member fitted with several seeds: its own median over them
        point = np.median(np.stack([forecasts[k].point for k in fits]), axis=0)
        rows.append(_row(label, group, point, sum(ensemble.fitted[k].seconds for k in fits),
                         sum(ensemble.fitted[k].cpu_seconds for k in fits)))
    naive = create("SeasonalNaive", h=group.h, season_length=group.season).fit(group.train)
    rows.append(_row("SeasonalNaive", group, naive.predict().point, 0.0, 0.0))
    print(f"{group.name}: {group.train.n_series} series, h = {group.h}: ensemble fitted in {wall:.0f} s "
          f"({rows[0]['fit_cpu_seconds']:.0f} s CPU in all fits), load {os.getloadavg()[0]:.1f}", flush=True)
    return rows


def run(groups: tuple[str, ...] = GROUPS, *, steps: int | None = None, jobs: int = 1, seeds: int = 1,
        seed: int = 1) -> dict[str, list[dict[str, Any]]]:
    """Every group's rows (see `run_group`)."""
    return {name: run_group(group, steps=steps, jobs=jobs, seeds=seeds, seed=seed)
            for name, group in load_groups(groups).items()}


def overall(results: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows over the given groups: sMAPE and MAPE weighted by forecast points, MASE by series; times summed."""
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
    """Per group (and over all M1 groups run), one line per model with its ratios to SeasonalNaive."""
    m1 = {group: rows for group, rows in results.items() if group in M1}
    if len(m1) > 1:
        results = {**results, "all M1": overall(m1)}
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
          "whole fit, its CPU s the sum over member fits)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="training steps of every member (default: the templates')")
    parser.add_argument("--groups", nargs="+", default=list(GROUPS), choices=GROUPS)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes fitting the members")
    parser.add_argument("--seeds", type=int, default=1, help="fits per member, with consecutive seeds")
    parser.add_argument("--seed", type=int, default=1, help="the first random_seed of every member")
    parser.add_argument("--output", type=Path, default=None, help="write the rows as JSON")
    parser.add_argument("--table", type=Path, default=None, help="only print the tables of a JSON file --output wrote")
    args = parser.parse_args()
    if args.table is not None:
        print_table(json.loads(args.table.read_text()))
        return
    results = run(tuple(g for g in GROUPS if g in args.groups), steps=args.steps, jobs=args.jobs, seeds=args.seeds,
                  seed=args.seed)
    print_table(results)
    if args.output is not None:
        args.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
