"""Accuracy and speed of every registered runtime model on AirPassengers (issue 3's protocol).

Each model is trained on the first 132 months and forecasts the last 12 (h=12, input_size=24,
100 training steps where the model trains, neuralforecast's other defaults), with seeds 1, 2
and 3. Printed per model: mean MAE, sMAPE and MASE over the seeds (MASE scaled by the
in-sample seasonal naive, season 12), and mean fit seconds, wall and CPU (process time: on a
shared machine wall time includes waiting for a core, so read both with the load average
printed in the header), and predict seconds. Then the achieved GFLOP/s of the NHITS fit
(FLOPs of its Linear layers, forward 2·rows·in·out and backward twice that, over the rows the
network actually processed: merged duplicate windows are not counted) next to a plain numpy
float32 matmul of the same size with the BLAS threads training uses, i.e. how close the fit
runs to what this machine's BLAS delivers.

SeasonalNaive (season 12) is printed first, and every model's MAE also as a ratio to it
("/SN", below 1 beats it). TimeLLM trains its default 5 steps, neuralforecast's, whatever
`--steps` says (100 steps of its frozen encoder take many minutes of CPU).

`--neuralforecast` also trains neuralforecast 3.3.0's model of the same name with the same
protocol (first seed only unless `--nf-seeds`), in a subprocess of the venv's Python with
`torch.set_num_threads(2)`, and prints its MAE and fit seconds (wall and CPU) in the last
columns ("-" where it has no such model or it fails, e.g. TimeLLM, whose GPT-2 cannot be
downloaded here). The multivariate models get n_series=1 there.

Reference on the issue's machine, neuralforecast 3.3.0 on CPU, same protocol: NHITS MAE 21.5
in 20.2 s, NBEATS 18.2 in 13.9 s, LSTM 14.0 in 6.8 s; SeasonalNaive MAE 47.8.

    python benchmarks/accuracy_airpassengers.py [--steps 100] [--seeds 1 2 3] [--models NHITS LSTM]
        [--neuralforecast] [--nf-seeds 1] [--venv /work/nf-venv]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import modreg.runtime  # noqa: F401  before numpy: it sets how OpenBLAS's idle threads wait, as `modreg run` does
import numpy as np

from modreg.runtime import factory, nn
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.metrics import mae, mase, smape
from modreg.runtime.params import schema_for
from modreg.runtime.training.fit import TrainSettings, blas_threads

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "air_passengers.csv"
H, INPUT_SIZE, TRAIN = 12, 24, 132
FIXED_STEPS = {"TimeLLM": 5}  # neuralforecast's default max_steps, kept whatever --steps says

_NEURALFORECAST = r"""
import json, logging, sys, time, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import numpy as np
import pandas as pd
import torch
import neuralforecast.models as models
from neuralforecast import NeuralForecast

name, steps, data, train, h, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(2)
frame = pd.read_csv(data, parse_dates=["ds"])
cls = getattr(models, name)
extra = {"n_series": 1} if getattr(cls, "MULTIVARIATE", False) else {}
out = []
for seed in json.loads(sys.argv[7]):
    model = cls(h=h, input_size=size, max_steps=steps, random_seed=seed, enable_progress_bar=False,
                enable_model_summary=False, logger=False, enable_checkpointing=False, accelerator="cpu", **extra)
    started, cpu = time.perf_counter(), time.process_time()
    forecaster = NeuralForecast(models=[model], freq="MS")
    forecaster.fit(frame.iloc[:train])
    fit, cpu = time.perf_counter() - started, time.process_time() - cpu
    predicted = forecaster.predict()
    column = f"{name}-median" if f"{name}-median" in predicted else name
    actual = frame["y"].to_numpy()[train:train + h]
    out.append({"mae": float(np.mean(np.abs(predicted[column].to_numpy() - actual))), "fit": fit, "cpu": cpu})
print(json.dumps(out))
"""


def settings(name: str, steps: int, seed: int) -> dict[str, Any]:
    """The protocol's parameters that this model has."""
    wanted = {"h": H, "input_size": INPUT_SIZE, "max_steps": FIXED_STEPS.get(name, steps), "random_seed": seed}
    return {k: v for k, v in wanted.items() if k in schema_for(factory.get_model(name).cls)["properties"]}


def evaluate(name: str, train: SeriesFrame, actual: np.ndarray, steps: int, seed: int) -> dict[str, float]:
    model = factory.create(name, **settings(name, steps, seed))
    started, cpu = time.perf_counter(), time.process_time()
    model.fit(train)
    fitted, cpu = time.perf_counter(), time.process_time() - cpu
    point = model.predict().point
    done = time.perf_counter()
    return {"mae": float(mae(actual, point)), "smape": float(smape(actual, point)),
            "mase": float(mase(actual, point, train.y, season=12)), "fit": fitted - started, "cpu": cpu,
            "predict": done - fitted}


def neuralforecast_figures(name: str, steps: int, seeds: list[int], python: Path) -> dict[str, float] | None:
    """neuralforecast's mean MAE, fit and CPU seconds for the model `name`, or None where it cannot run."""
    if not python.exists():
        return None
    command = [str(python), "-c", _NEURALFORECAST, name, str(FIXED_STEPS.get(name, steps)), str(DATA), str(TRAIN),
               str(H), str(INPUT_SIZE), json.dumps(seeds)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        return None
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


def linear_flops(network: nn.Module, rows: int) -> float:
    """FLOPs of `rows` batch rows through the network's Linear layers (forward + backward)."""
    return sum(6.0 * rows * m.in_features * m.out_features
               for _, m in network.named_modules() if isinstance(m, nn.Linear))


def matmul_gflops(rows: int, inner: int, cols: int, repeats: int = 50) -> float:
    """GFLOP/s of a float32 numpy matmul (rows x inner) @ (inner x cols)."""
    gen = np.random.default_rng(0)
    a = gen.random((rows, inner), dtype=np.float32)
    b = gen.random((inner, cols), dtype=np.float32)
    with blas_threads(TrainSettings.threads):
        a @ b
        started = time.perf_counter()
        for _ in range(repeats):
            a @ b
        seconds = time.perf_counter() - started
    return 2.0 * rows * inner * cols * repeats / seconds / 1e9


def nhits_throughput(train: SeriesFrame, steps: int) -> None:
    if not factory.is_registered("NHITS"):
        print("\nNHITS is not registered; no GFLOP/s figure.")
        return
    model = factory.create("NHITS", **settings("NHITS", steps, 1))
    started, cpu = time.perf_counter(), time.process_time()
    model.fit(train)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    history = model.train_history
    flops = linear_flops(model.network, history.rows)
    widest = max((m for _, m in model.network.named_modules() if isinstance(m, nn.Linear)),
                 key=lambda m: m.in_features * m.out_features)
    rows = max(history.rows // history.steps, 1)  # per step, as the fit's products have
    reference = matmul_gflops(rows, widest.in_features, widest.out_features)
    print(f"\nNHITS fit: {flops / 1e9:.1f} GFLOP (Linear layers, {history.rows} rows in {history.steps} steps) "
          f"in {seconds:.2f} s wall / {cpu:.2f} s CPU = {flops / seconds / 1e9:.1f} GFLOP/s wall, "
          f"{flops / cpu / 1e9:.1f} per CPU second")
    print(f"numpy float32 matmul {rows}x{widest.in_features} @ "
          f"{widest.in_features}x{widest.out_features}: {reference:.1f} GFLOP/s "
          f"(the fit reaches {100 * flops / seconds / 1e9 / reference:.0f}% of it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--models", nargs="+", default=None, help="default: every registered model")
    parser.add_argument("--neuralforecast", action="store_true", help="also train neuralforecast's model")
    parser.add_argument("--nf-seeds", type=int, nargs="+", default=None, help="default: the first of --seeds")
    parser.add_argument("--venv", type=Path, default=Path("/work/nf-venv"))
    parser.add_argument("--no-throughput", action="store_true", help="skip the NHITS GFLOP/s figure")
    args = parser.parse_args()
    data = read_series_csv(DATA)
    train, actual = data.slice_end(len(data.y[0]) - TRAIN), data.y[0][TRAIN:TRAIN + H][None, :]
    names = ["SeasonalNaive", *[n for n in (args.models or sorted(factory.list_models())) if n != "SeasonalNaive"]]
    print(f"AirPassengers: train {TRAIN}, h={H}, input_size={INPUT_SIZE}, {args.steps} steps, seeds {args.seeds}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    nf_header = f"{'nf MAE':>9}{'nf fit s':>10}{'nf cpu s':>10}" if args.neuralforecast else ""
    print(f"{'model':<16}{'MAE':>9}{'/SN':>7}{'sMAPE':>9}{'MASE':>8}{'fit s':>9}{'fit cpu s':>11}{'predict s':>11}"
          + nf_header)
    reference = None
    for name in names:
        runs = [evaluate(name, train, actual, args.steps, seed) for seed in args.seeds]
        mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        reference = reference or mean["mae"]
        line = (f"{name:<16}{mean['mae']:>9.2f}{mean['mae'] / reference:>7.2f}{mean['smape']:>9.2f}"
                f"{mean['mase']:>8.3f}{mean['fit']:>9.2f}{mean['cpu']:>11.2f}{mean['predict']:>11.3f}")
        if args.neuralforecast and name != "SeasonalNaive":
            theirs = neuralforecast_figures(name, args.steps, args.nf_seeds or args.seeds[:1], args.venv / "bin" / "python")
            line += (f"{theirs['mae']:>9.2f}{theirs['fit']:>10.2f}{theirs['cpu']:>10.2f}" if theirs
                     else f"{'-':>9}{'-':>10}{'-':>10}")
        print(line, flush=True)
    if not args.no_throughput:
        nhits_throughput(train, args.steps)


if __name__ == "__main__":
    main()
