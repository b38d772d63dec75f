"""Training time per step of modreg's attention models next to neuralforecast 3.3.0's, same settings.

Both sides train the model's defaults (h=12, input_size=24, neuralforecast's batch sizes,
dropout and scaler) on AirPassengers' first 132 months for `--steps` steps, seed 1, and time
every optimisation step (modreg: the fit loop's progress callback; neuralforecast: a Lightning
callback from batch start to batch end, so data loading is counted on its side too). Printed:
the median and mean seconds per step after the first `--warmup` steps, and the ratio. modreg
runs in this process (BLAS on one thread, as its fit loop sets); neuralforecast runs in a
subprocess of the venv's Python with `torch.set_num_threads(2)`. Both sides share a 2-core
machine with other work: read the load average printed in the header, and repeat.

The neuralforecast side needs a separate virtual environment (never installed into modreg's):

    python -m venv /work/nf-venv
    /work/nf-venv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    /work/nf-venv/bin/pip install neuralforecast

Without it (or with `--no-neuralforecast`) only modreg's figures are printed, with a message.

    python benchmarks/side_by_side_attention.py [--models PatchTST TFT] [--steps 30] [--venv /work/nf-venv]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from modreg.runtime import factory
from modreg.runtime.data import read_series_csv

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "air_passengers.csv"
H, INPUT_SIZE, TRAIN = 12, 24, 132

_NEURALFORECAST = r"""
import json, logging, sys, time, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import pandas as pd
import torch
import pytorch_lightning as pl
import neuralforecast.models as models
from neuralforecast import NeuralForecast

name, steps, data, train, h, size, threads = (sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
                                              int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
torch.set_num_threads(threads)

TIMES, CPU, STARTED = [], [], [0.0, 0.0]  # module-level: NeuralForecast.fit deep-copies its callbacks

class Timer(pl.Callback):
    def on_train_batch_start(self, trainer, module, batch, index):
        STARTED[:] = [time.perf_counter(), time.process_time()]
    def on_train_batch_end(self, trainer, module, outputs, batch, index):
        TIMES.append(time.perf_counter() - STARTED[0])
        CPU.append(time.process_time() - STARTED[1])

frame = pd.read_csv(data, parse_dates=["ds"]).iloc[:train]
model = getattr(models, name)(h=h, input_size=size, max_steps=steps, random_seed=1, callbacks=[Timer()],
                              enable_progress_bar=False, enable_model_summary=False, logger=False,
                              enable_checkpointing=False, accelerator="cpu")
started = time.perf_counter()
NeuralForecast(models=[model], freq="MS").fit(frame)
print(json.dumps({"steps": TIMES, "cpu": CPU, "fit": time.perf_counter() - started, "version": __import__("neuralforecast").__version__}))
"""


def modreg_steps(name: str, steps: int) -> dict[str, Any]:
    """Per-step seconds of modreg's model at its defaults."""
    frame = read_series_csv(DATA)
    frame = frame.slice_end(frame.lengths[0] - TRAIN)
    times: list[float] = []
    cpu: list[float] = []
    last = [0.0, 0.0]

    def progress(step: int, loss: float, val: float | None) -> None:
        now = [time.perf_counter(), time.process_time()]
        times.append(now[0] - last[0])
        cpu.append(now[1] - last[1])
        last[:] = now

    model = factory.create(name, h=H, input_size=INPUT_SIZE, max_steps=steps, random_seed=1)
    started = time.perf_counter()
    last[:] = [started, time.process_time()]
    model.fit(frame, progress=progress)
    return {"steps": times, "cpu": cpu, "fit": time.perf_counter() - started}


def neuralforecast_steps(name: str, steps: int, python: Path, threads: int = 2) -> dict[str, Any] | str:
    """Per-step seconds of neuralforecast's model, or why they could not be measured."""
    if not python.exists():
        return f"no {python}: create the venv as this script's docstring says"
    command = [str(python), "-c", _NEURALFORECAST, name, str(steps), str(DATA), str(TRAIN), str(H), str(INPUT_SIZE),
               str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        return f"neuralforecast failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(times: list[float], warmup: int) -> tuple[float, float]:
    kept = times[warmup:] or times
    return statistics.median(kept), statistics.fmean(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["PatchTST", "TFT"])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3, help="first steps left out of the figures")
    parser.add_argument("--venv", type=Path, default=Path("/work/nf-venv"))
    parser.add_argument("--nf-threads", type=int, default=2, help="torch.set_num_threads on the neuralforecast side")
    parser.add_argument("--no-neuralforecast", action="store_true")
    args = parser.parse_args()
    print(f"{args.steps} steps; per step after the first {args.warmup}: median / mean wall seconds, "
          "median CPU seconds (all threads)")
    python = args.venv / "bin" / "python"
    for name in args.models:
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        ours = modreg_steps(name, args.steps)
        median = report(name, "modreg", ours, args.warmup, f"fit {ours['fit']:.1f} s")
        if args.no_neuralforecast:
            continue
        theirs = neuralforecast_steps(name, args.steps, python, args.nf_threads)
        if isinstance(theirs, str):
            print(f"{name:10s} neuralforecast  skipped: {theirs}")
            continue
        theirs_median = report(name, "neuralforecast", theirs, args.warmup,
                               f"fit {theirs['fit']:.1f} s, {theirs['version']}, {args.nf_threads} torch threads")
        print(f"{name:10s} modreg / neuralforecast (median wall): {median / theirs_median:.2f}")
        sys.stdout.flush()


def report(name: str, side: str, measured: dict[str, Any], warmup: int, note: str) -> float:
    """Print one side's figures; return its median wall seconds per step."""
    median, mean = summary(measured["steps"], warmup)
    cpu, _ = summary(measured["cpu"], warmup)
    print(f"{name:10s} {side:15s} {median:7.3f} / {mean:7.3f} s/step, CPU {cpu:7.3f} s/step  ({note})")
    return median


if __name__ == "__main__":
    main()
