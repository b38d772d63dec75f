"""Global NHITS and NBEATS on panels: modreg next to neuralforecast 3.3.0, same settings, one run.

Two panels: an M1 group (`--group`, default monthly: 617 series, h = 18, from
/work/shared/data/m1.csv and m1_meta.json, or benchmarks/data/) and a synthetic panel of
`--series` (default 1,200) monthly series of 120 points (level, trend, seasonality of random
phase, a random walk; levels from 10 to 10,000), h = 18. Every series keeps its last h points
for scoring. Both sides fit one global model per panel with the models' defaults (512-unit MLP
blocks, 32 series x 1024 windows per step, Adam at 1e-3 with 3 halvings) and input_size = 2h,
`start_padding_enabled`, the `robust` scaler, MAE, `--steps` steps, seed `--seed` (default 1); then forecast h
steps; sMAPE (0..200) over all forecast points. modreg fits in this process (BLAS threads
chosen per product, `modreg.runtime.autograd.blas`); neuralforecast in a subprocess of the
venv's Python with `torch.set_num_threads(2)` (`--nf-threads`). Fit seconds are wall time of
`fit` alone, with the process's CPU seconds beside them (a figure less sensitive to other work
on a shared machine; read the load average printed with every row).

The matmul ceiling: the products of one modreg training step are recorded (every `np.matmul`
a step on one thread runs: on more threads the big ones are split into blocks of rows), then
timed alone as C-contiguous float32 numpy products on all cores, or on `--modreg-threads`
when given, the threads modreg's step had (median of 5 runs each);
their sum over modreg's median step time is the fraction of the ceiling modreg's training
reaches. On a machine busy with other work the all-core products slow down most, so the
fraction is only meaningful at a low load average.

The neuralforecast side needs a separate virtual environment (never installed into modreg's):

    python -m venv /work/nf-venv
    /work/nf-venv/bin/pip install torch==2.13.0
    /work/nf-venv/bin/pip install neuralforecast

Without it (or with `--no-neuralforecast`) only modreg's figures are printed, with a message.

    python benchmarks/side_by_side_neuralforecast.py [--models NHITS NBEATS] [--panels m1 synthetic]
        [--steps 500] [--series 1200] [--group monthly] [--venv /work/nf-venv] [--nf-threads 2] [--profile]
        [--modreg-threads N] [--seed 1] [--floor]

On a machine busy with other work, `--nf-threads 1 --modreg-threads 1` compares the two on one
thread each, where process CPU seconds are a fair measure (threads that spin while they wait
for a core inflate both sides' CPU and wall time at more threads).

`--floor` adds what a numpy step cannot avoid beyond its products (`step_floor`): Adam and the
fewest passes of its ReLU layers' bias, ReLU, mask and bias gradient, on the step's threads, and
the share of the ceiling a step doing nothing else would reach. At idle on 2026-12-05
(`--steps 40 --no-neuralforecast --floor`): NHITS on the synthetic panel, products 53.0 ms +
Adam 3.8 ms + its 9 ReLU layers' passes 5.4 ms, 85% with nothing else in the step (M1: 89%;
NBEATS: 86% and 89%). The draw of the next batch (1.6-1.9 ms), pooling, interpolation, the loss
and the autograd of about 40 ops each way would have to fit in what is left.

`--profile` adds where a modreg step's time goes: a 30-step fit on one BLAS thread under
cProfile (process CPU time), split into the matrix products (`linear`'s blocks, which carry its
bias and ReLU, and every other product), Adam, window sampling and scaling, and the rest.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from collections.abc import Callable
from typing import Any

import modreg.runtime  # noqa: F401  before numpy: it sets how OpenBLAS's idle threads wait, as `modreg run` does
import numpy as np

from modreg.runtime import factory
from modreg.runtime.autograd import blas
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.data.frequency import infer_frequency
from modreg.runtime.metrics import smape

HERE = Path(__file__).resolve().parent
M1 = next((p for p in (Path("/work/shared/data"), HERE / "data") if (p / "m1.csv").exists()), HERE / "data")
H = 18

_NEURALFORECAST = r"""
import json, logging, sys, time, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import pandas as pd
import torch
import neuralforecast.models as models
from neuralforecast import NeuralForecast

name, data, params, threads = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
frame = pd.read_csv(data)
model = getattr(models, name)(**params, enable_progress_bar=False, enable_model_summary=False, logger=False,
                              enable_checkpointing=False, accelerator="cpu")
forecaster = NeuralForecast(models=[model], freq=1)
wall, cpu = time.perf_counter(), time.process_time()
forecaster.fit(frame)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
forecast = forecaster.predict()
values = {uid: group[name].tolist() for uid, group in forecast.reset_index().groupby("unique_id", sort=False)}
print(json.dumps({"fit": wall, "cpu": cpu, "forecast": values, "version": __import__("neuralforecast").__version__}))
"""


def m1_panel(group: str) -> tuple[SeriesFrame, int]:
    """The M1 series of one type, and their horizon."""
    frame = read_series_csv(M1 / "m1.csv")
    meta = json.loads((M1 / "m1_meta.json").read_text())
    index = [i for i, sid in enumerate(frame.ids) if meta[sid]["type"] == group]
    h = meta[frame.ids[index[0]]]["h"]
    part = SeriesFrame(ids=tuple(frame.ids[i] for i in index), ds=tuple(frame.ds[i] for i in index),
                       y=tuple(frame.y[i] for i in index), freq=frame.freq)
    return part, h


def synthetic_panel(n: int, length: int = 120) -> SeriesFrame:
    """`n` monthly series: level * (1 + trend + seasonality) + a random walk, seeded."""
    rng = np.random.default_rng(0)
    t = np.arange(length)
    ys = []
    for _ in range(n):
        level = 10 ** rng.uniform(1, 4)
        season = rng.uniform(0.05, 0.4) * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 2 * np.pi))
        shape = 1 + rng.uniform(-0.3, 0.6) * t / length + season
        ys.append(level * shape + level * 0.03 * rng.standard_normal(length).cumsum())
    ds = tuple(np.arange(length, dtype=np.int64) for _ in range(n))
    return SeriesFrame(ids=tuple(f"S{i:04d}" for i in range(n)), ds=ds, y=tuple(ys), freq=infer_frequency(ds))


def params(model: str, h: int, steps: int, seed: int = 1) -> dict[str, Any]:
    """The settings both sides use (the module docstring)."""
    return {"h": h, "input_size": 2 * h, "max_steps": steps, "start_padding_enabled": True, "scaler_type": "robust",
            "random_seed": seed}


def fit_modreg(model: str, train: SeriesFrame, h: int, steps: int, seed: int) -> dict[str, Any]:
    """Fit in this process: fit wall and CPU seconds, per-step wall seconds, forecasts (n, h)."""
    network = factory.create(model, **params(model, h, steps, seed))
    times: list[float] = []
    last = [0.0]

    def progress(step: int, loss: float, val: float | None) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    wall, cpu = time.perf_counter(), time.process_time()
    last[0] = wall
    network.fit(train, progress=progress)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    forecast = network.predict().point
    return {"fit": wall, "cpu": cpu, "step": statistics.median(times[3:] or times), "forecast": forecast,
            "network": network}


def fit_neuralforecast(model: str, train: SeriesFrame, h: int, steps: int, seed: int, python: Path,
                       threads: int) -> dict[str, Any] | str:
    """Fit in the venv's Python; its figures and forecasts (n, h), or why it could not run."""
    if not python.exists():
        return f"no {python}: create the venv as this script's docstring says"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.csv"
        with path.open("w") as out:
            out.write("unique_id,ds,y\n")
            for sid, ds, y in zip(train.ids, train.ds, train.y):
                out.writelines(f"{sid},{d},{v!r}\n" for d, v in zip(ds.tolist(), y.tolist()))
        command = [str(python), "-c", _NEURALFORECAST, model, str(path), json.dumps(params(model, h, steps, seed)),
                   str(threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        return f"neuralforecast failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    measured["forecast"] = np.array([measured["forecast"][sid] for sid in train.ids])
    return measured


def matmul_ceiling(network: Any) -> tuple[float, int]:
    """Seconds of one training step's products as plain float32 matmuls on the threads modreg's
    step may use (every core unless `--modreg-threads`), and their count."""
    from threadpoolctl import threadpool_limits

    shapes: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    original = np.matmul

    def recording(a: np.ndarray, b: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        shapes.append((a.shape, b.shape))
        return original(a, b, *args, **kwargs)

    cores = blas.thread_ceiling()
    blas.cap_process(1)  # whole products: a step on more threads splits the big ones by rows
    np.matmul = recording  # type: ignore[assignment]
    try:
        network.max_steps = 1
        network.fit(network._context)
    finally:
        np.matmul = original  # type: ignore[assignment]
        blas.cap_process(cores)
    rng = np.random.default_rng(0)
    total = 0.0
    with threadpool_limits(limits=cores, user_api="blas"):  # the threads modreg's step may use
        for a_shape, b_shape in shapes:
            a, b = rng.random(a_shape, dtype=np.float32), rng.random(b_shape, dtype=np.float32)
            original(a, b)
            times = []
            for _ in range(5):
                started = time.perf_counter()
                original(a, b)
                times.append(time.perf_counter() - started)
            total += statistics.median(times)
    return total, len(shapes)


def step_floor(network: Any) -> dict[str, float]:
    """Seconds of what a numpy training step must do beyond its products, on the threads modreg's
    step may use: Adam over the network's parameters, and for every activation of a `linear` with
    ReLU its bias, ReLU, backward mask and bias gradient, as the fewest numpy passes (numpy has no
    fused form of either), each split by rows over the threads. The shapes come from a one-step fit."""
    from modreg.runtime.autograd import ops_math
    from modreg.runtime.autograd.blas import in_threads
    from modreg.runtime.training.optim import Adam

    activations: list[tuple[int, int]] = []
    original = ops_math.linear

    def recording(x: Any, weight: Any, bias: Any = None, relu: bool = False) -> Any:
        if relu and bias is not None:
            activations.append((int(np.prod(x.shape[:-1])), weight.shape[0]))
        return original(x, weight, bias, relu)

    holders = [m for m in list(sys.modules.values()) if getattr(m, "linear", None) is original]
    for module in holders:
        module.linear = recording
    try:
        network.max_steps = 1
        network.fit(network._context)
    finally:
        for module in holders:
            module.linear = original
    params = list(network.network.parameters())
    for param in params:
        param.grad = np.full_like(param.data, 1e-3)
    optimizer = Adam(params)
    rng = np.random.default_rng(0)

    def passes(rows: int, units: int) -> Callable[[], None]:
        y, g = rng.random((rows, units), dtype=np.float32), rng.random((rows, units), dtype=np.float32)
        bias, bias_grad = np.zeros(units, np.float32), np.empty(units, np.float32)
        threads = blas.thread_ceiling()

        def part(k: int) -> None:
            block, columns = slice(rows * k // threads, rows * (k + 1) // threads), slice(units * k // threads, units * (k + 1) // threads)
            np.add(y[block], bias, out=y[block])
            np.maximum(y[block], 0, out=y[block])
            np.multiply(g[block], y[block] > 0, out=g[block])
            np.sum(g[:, columns], axis=0, out=bias_grad[columns])

        return lambda: in_threads(threads, part)

    with blas.ceiling(None):
        adam = _median_seconds(optimizer.step)
        elementwise = sum(_median_seconds(passes(rows, units)) for rows, units in activations)
    return {"Adam": adam, f"bias and ReLU of {len(activations)} layers": elementwise}


def _median_seconds(work: Callable[[], None], runs: int = 15) -> float:
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


_PROFILE_STEPS = 30
_PARTS = {  # part of a step -> the functions whose time (own, or with callees: "+") it is
    "products (with linear's fused bias and ReLU)": {"forward_rows", "input_rows", "unit_rows", "feature_columns",
                                                     "product_rows", "product_columns", "gemm"},
    "Adam": {"+_update@optim.py"},  # not step: it also draws the next batch
    "window sampling and scaling": {"+sample@windows.py", "+prepare@windows.py", "+merge_duplicates@windows.py"},
}


def profile_step(model: str, train: SeriesFrame, h: int) -> dict[str, float]:
    """CPU milliseconds of one training step by part, on one BLAS thread (cProfile with the
    process-CPU timer over a short fit; its own overhead lands in "the rest")."""
    network = factory.create(model, **params(model, h, _PROFILE_STEPS))
    profiler = cProfile.Profile(time.process_time)
    cores = blas.thread_ceiling()
    blas.cap_process(1)
    try:
        profiler.runcall(network.fit, train)
    finally:
        blas.cap_process(cores)
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    per_step = {name: 0.0 for name in _PARTS}
    total = 0.0
    for (path, _, function), (_, _, own, cumulative, _) in stats.items():
        if function == "train" and path.endswith("fit.py"):
            total = cumulative
        for name, functions in _PARTS.items():
            if function in functions or f"+{function}@{Path(path).name}" in functions:
                per_step[name] += cumulative if function not in functions else own
    per_step["the rest (elementwise ops, autograd, Python)"] = total - sum(per_step.values())
    return {name: seconds / _PROFILE_STEPS * 1e3 for name, seconds in per_step.items()}


def score(test: SeriesFrame, forecast: np.ndarray, h: int) -> float:
    actual = np.stack([y[-h:] for y in test.y])
    return float(smape(actual, forecast))


def compare(model: str, panel: str, frame: SeriesFrame, h: int, args: argparse.Namespace) -> None:
    train = frame.slice_end(h)
    load = os.getloadavg()[0]
    ours = fit_modreg(model, train, h, args.steps, args.seed)
    ours_smape = score(frame, ours["forecast"], h)
    ceiling, count = matmul_ceiling(ours["network"])
    print(f"{model:7s} {panel:22s} modreg          fit {ours['fit']:7.1f} s (CPU {ours['cpu']:7.1f} s)  "
          f"sMAPE {ours_smape:6.2f}  step {ours['step'] * 1e3:6.1f} ms; matmul ceiling {ceiling * 1e3:6.1f} ms "
          f"({count} products): {ceiling / ours['step']:4.0%}  [load {load:.2f}]", flush=True)
    if args.floor:
        floor = step_floor(ours["network"])
        print(f"{model:7s} {panel:22s} floor: products {ceiling * 1e3:.1f} ms + "
              + " + ".join(f"{name} {seconds * 1e3:.1f} ms" for name, seconds in floor.items())
              + f": the ceiling reachable with nothing else in a step is {ceiling / (ceiling + sum(floor.values())):.0%}",
              flush=True)
    if args.profile:
        parts = profile_step(model, train, h)
        total = sum(parts.values())
        print(f"{model:7s} {panel:22s} modreg step profile, one thread: {total:.1f} CPU ms = "
              + "; ".join(f"{name} {ms:.1f} ({ms / total:.0%})" for name, ms in parts.items()), flush=True)
    if args.no_neuralforecast:
        return
    load = os.getloadavg()[0]
    theirs = fit_neuralforecast(model, train, h, args.steps, args.seed, args.venv / "bin" / "python", args.nf_threads)
    if isinstance(theirs, str):
        print(f"{model:7s} {panel:22s} neuralforecast  skipped: {theirs}")
        return
    theirs_smape = score(frame, theirs["forecast"], h)
    print(f"{model:7s} {panel:22s} neuralforecast  fit {theirs['fit']:7.1f} s (CPU {theirs['cpu']:7.1f} s)  "
          f"sMAPE {theirs_smape:6.2f}  ({theirs['version']}, {args.nf_threads} torch threads)  [load {load:.2f}]")
    print(f"{model:7s} {panel:22s} speed-up {theirs['fit'] / ours['fit']:.2f}x (CPU {theirs['cpu'] / ours['cpu']:.2f}x), "
          f"sMAPE modreg / neuralforecast - 1 = {ours_smape / theirs_smape - 1:+.1%}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["NHITS", "NBEATS"])
    parser.add_argument("--panels", nargs="+", default=["m1", "synthetic"], choices=["m1", "synthetic"])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--series", type=int, default=1200, help="series in the synthetic panel")
    parser.add_argument("--seed", type=int, default=1, help="random_seed of both sides")
    parser.add_argument("--group", default="monthly", choices=["yearly", "quarterly", "monthly"])
    parser.add_argument("--venv", type=Path, default=Path("/work/nf-venv"))
    parser.add_argument("--nf-threads", type=int, default=2, help="torch.set_num_threads on the neuralforecast side")
    parser.add_argument("--modreg-threads", type=int, default=None,
                        help="the most threads modreg's products may use (default: every core)")
    parser.add_argument("--no-neuralforecast", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also print where a modreg step's CPU time goes")
    parser.add_argument("--floor", action="store_true",
                        help="also print what a numpy step must do beyond its products (`step_floor`)")
    args = parser.parse_args()
    if args.modreg_threads is not None:
        blas.cap_process(args.modreg_threads)
    panels: dict[str, tuple[SeriesFrame, int]] = {}
    if "m1" in args.panels:
        frame, h = m1_panel(args.group)
        panels[f"M1 {args.group} ({frame.n_series})"] = (frame, h)
    if "synthetic" in args.panels:
        panels[f"synthetic ({args.series})"] = (synthetic_panel(args.series), H)
    print(f"{args.steps} steps, {os.cpu_count()} CPUs, modreg on {blas.thread_ceiling()} threads; "
          "fit wall seconds (process CPU seconds)")
    for model in args.models:
        for panel, (frame, h) in panels.items():
            compare(model, panel, frame, h, args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
