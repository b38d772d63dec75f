"""Accuracy and speed of every registered runtime model on AirPassengers (issue 3's protocol).

Each model is trained on the first 132 months and forecasts the last 12 (h=12, input_size=24,
100 training steps where the model trains, neuralforecast's other defaults), with seeds 1, 2
and 3. Printed per model: mean MAE, sMAPE and MASE over the seeds (MASE scaled by the
in-sample seasonal naive, season 12), and mean fit and predict seconds. Then the achieved
GFLOP/s of the NHITS fit (FLOPs of its Linear layers: forward 2·B·in·out, backward twice that)
next to a plain numpy float32 matmul of the same size, i.e. how close the fit runs to what
this machine's BLAS delivers.

Reference on the issue's machine, neuralforecast 3.3.0 on CPU, same protocol: NHITS MAE 21.5
in 20.2 s, NBEATS 18.2 in 13.9 s, LSTM 14.0 in 6.8 s; SeasonalNaive MAE 47.8.

    python benchmarks/accuracy_airpassengers.py [--steps 100] [--seeds 1 2 3] [--models NHITS LSTM]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from modreg.runtime import factory, nn
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.metrics import mae, mase, smape
from modreg.runtime.params import schema_for

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "air_passengers.csv"
H, INPUT_SIZE, TRAIN = 12, 24, 132


def settings(name: str, steps: int, seed: int) -> dict[str, Any]:
    """The protocol's parameters that this model has."""
    wanted = {"h": H, "input_size": INPUT_SIZE, "max_steps": steps, "random_seed": seed}
    return {k: v for k, v in wanted.items() if k in schema_for(factory.get_model(name).cls)["properties"]}


def evaluate(name: str, train: SeriesFrame, actual: np.ndarray, steps: int, seed: int) -> dict[str, float]:
    model = factory.create(name, **settings(name, steps, seed))
    started = time.perf_counter()
    model.fit(train)
    fitted = time.perf_counter()
    point = model.predict().point
    done = time.perf_counter()
    return {"mae": float(mae(actual, point)), "smape": float(smape(actual, point)),
            "mase": float(mase(actual, point, train.y, season=12)), "fit": fitted - started, "predict": done - fitted}


def linear_flops(network: nn.Module, batch: int) -> float:
    """FLOPs of one training step through the network's Linear layers (forward + backward)."""
    return sum(6.0 * batch * m.in_features * m.out_features
               for _, m in network.named_modules() if isinstance(m, nn.Linear))


def matmul_gflops(rows: int, inner: int, cols: int, repeats: int = 50) -> float:
    """GFLOP/s of a float32 numpy matmul (rows x inner) @ (inner x cols)."""
    gen = np.random.default_rng(0)
    a = gen.random((rows, inner), dtype=np.float32)
    b = gen.random((inner, cols), dtype=np.float32)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2.0 * rows * inner * cols * repeats / (time.perf_counter() - started) / 1e9


def nhits_throughput(train: SeriesFrame, steps: int) -> None:
    if not factory.is_registered("NHITS"):
        print("\nNHITS is not registered; no GFLOP/s figure.")
        return
    model = factory.create("NHITS", **settings("NHITS", steps, 1))
    started = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - started
    flops = linear_flops(model.network, model.windows_batch_size) * model.train_history.steps
    widest = max((m for _, m in model.network.named_modules() if isinstance(m, nn.Linear)),
                 key=lambda m: m.in_features * m.out_features)
    reference = matmul_gflops(model.windows_batch_size, widest.in_features, widest.out_features)
    print(f"\nNHITS fit: {flops / 1e9:.1f} GFLOP (Linear layers) in {seconds:.2f} s = {flops / seconds / 1e9:.1f} GFLOP/s")
    print(f"numpy float32 matmul {model.windows_batch_size}x{widest.in_features} @ "
          f"{widest.in_features}x{widest.out_features}: {reference:.1f} GFLOP/s "
          f"(the fit reaches {100 * flops / seconds / 1e9 / reference:.0f}% of it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--models", nargs="+", default=None, help="default: every registered model")
    args = parser.parse_args()
    data = read_series_csv(DATA)
    train, actual = data.slice_end(len(data.y[0]) - TRAIN), data.y[0][TRAIN:TRAIN + H][None, :]
    names = args.models or sorted(factory.list_models())
    print(f"AirPassengers: train {TRAIN}, h={H}, input_size={INPUT_SIZE}, {args.steps} steps, seeds {args.seeds}")
    print(f"{'model':<16}{'MAE':>9}{'sMAPE':>9}{'MASE':>8}{'fit s':>9}{'predict s':>11}")
    for name in names:
        runs = [evaluate(name, train, actual, args.steps, seed) for seed in args.seeds]
        mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        print(f"{name:<16}{mean['mae']:>9.2f}{mean['smape']:>9.2f}{mean['mase']:>8.3f}"
              f"{mean['fit']:>9.2f}{mean['predict']:>11.3f}", flush=True)
    nhits_throughput(train, args.steps)


if __name__ == "__main__":
    main()
