"""Accuracy and speed of the multivariate runtime models on visnights, next to SeasonalNaive.

visnights is a panel of 20 quarterly series (overnight trips by Australian region, 76 quarters
each). Each model is trained on the first 68 quarters of every series and forecasts the last 8
(h=8), with seeds 1, 2 and 3, using the `[runtime.params]` of its registry.example entry (the
settings that entry ships; `--steps` overrides max_steps); a model without such an entry uses
h=8, input_size=16. Printed per model: mean MAE, sMAPE and MASE over the seeds and series
(MASE scaled by each series' in-sample seasonal naive error, season 4), and mean fit seconds,
wall and CPU (process time: on a shared machine wall time includes waiting for a core, so read
both with the load average in the header), and predict seconds.

Reference, this protocol, the entries' settings, seeds 1-3 (a 2-core machine at load average
11-14; fit CPU seconds): SeasonalNaive MAE 0.4172, MASE 1.127; MLPMultivariate 0.3690, 0.976
(1.8 s); iTransformer 0.4190, 1.054 (5.7 s); TSMixer 0.4099, 1.075 (6.4 s); TSMixerx 0.4100,
1.089 (3.3 s); StemGNN 0.5476, 1.441 (12.6 s). neuralforecast 3.3.0 shuffles the order of the
series in every training batch (its DataLoader's shuffle), which a multivariate network that
reads the series by position (MLPMultivariate, TSMixer, TSMixerx) cannot learn from; modreg
keeps the order fixed.

    python benchmarks/accuracy_visnights.py [--steps 1000] [--seeds 1 2 3] [--models TSMixer iTransformer]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import modreg.runtime  # noqa: F401  before numpy: it sets how OpenBLAS's idle threads wait, as `modreg run` does
import numpy as np

import modreg.api as api
from modreg.errors import NotFound
from modreg.runtime import factory
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.metrics import mae, mase, smape

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "registry.example"
DATA = REGISTRY / "data" / "visnights.csv"
H, TEST, SEASON = 8, 8, 4


def settings(name: str, steps: int | None, seed: int) -> dict[str, Any]:
    """The entry's runtime parameters (h=8, input_size=16 without one), seed, season and steps applied."""
    try:
        runtime = api.show(name, registry=REGISTRY).data.get("runtime") or {}
    except NotFound:
        runtime = {}
    params = dict(runtime.get("params") or {"input_size": 16})
    params.update({"h": H, "random_seed": seed, "season_length": SEASON}, **({"max_steps": steps} if steps else {}))
    if runtime.get("precision"):
        params["precision"] = runtime["precision"]
    properties = api.schema(name)["properties"]
    return {k: v for k, v in params.items() if k in properties}


def evaluate(name: str, train: SeriesFrame, actual: np.ndarray, steps: int | None, seed: int) -> dict[str, float]:
    model = factory.create(name, **settings(name, steps, seed))
    started, cpu = time.perf_counter(), time.process_time()
    model.fit(train)
    fitted, cpu = time.perf_counter(), time.process_time() - cpu
    point = model.predict().point
    done = time.perf_counter()
    return {"mae": float(mae(actual, point)), "smape": float(smape(actual, point)),
            "mase": float(mase(actual, point, train.y, season=SEASON)), "fit": fitted - started, "cpu": cpu,
            "predict": done - fitted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="max_steps of every model (default: the entry's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--models", nargs="+", default=None, help="default: every multivariate model")
    args = parser.parse_args()
    data = read_series_csv(DATA)
    train = data.slice_end(TEST)
    actual = np.stack([y[-TEST:] for y in data.y])
    multivariate = [n for n, info in sorted(factory.list_models().items()) if "multivariate" in info.capabilities]
    names = ["SeasonalNaive", *(args.models or multivariate)]
    print(f"visnights: {data.n_series} series, train {train.lengths[0]}, h={H}, seeds {args.seeds}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'model':<16}{'MAE':>9}{'sMAPE':>9}{'MASE':>8}{'fit s':>9}{'fit cpu s':>11}{'predict s':>11}")
    for name in names:
        seeds = args.seeds if "random_seed" in api.schema(name)["properties"] else args.seeds[:1]
        runs = [evaluate(name, train, actual, args.steps, seed) for seed in seeds]
        mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        print(f"{name:<16}{mean['mae']:>9.4f}{mean['smape']:>9.2f}{mean['mase']:>8.3f}"
              f"{mean['fit']:>9.2f}{mean['cpu']:>11.2f}{mean['predict']:>11.3f}", flush=True)


if __name__ == "__main__":
    main()
