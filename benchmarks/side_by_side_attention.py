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

name, steps, data, train, h, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(2)

TIMES, STARTED = [], [0.0]  # module-level: NeuralForecast.fit deep-copies the model and its callbacks

class Timer(pl.Callback):
    def on_train_batch_start(self, trainer, module, batch, index):
        STARTED[0] = time.perf_counter()
    def on_train_batch_end(self, trainer, module, outputs, batch, index):
        TIMES.append(time.perf_counter() - STARTED[0])

frame = pd.read_csv(data, parse_dates=["ds"]).iloc[:train]
model = getattr(models, name)(h=h, input_size=size, max_steps=steps, random_seed=1, callbacks=[Timer()],
                              enable_progress_bar=False, enable_model_summary=False, logger=False,
                              enable_checkpointing=False, accelerator="cpu")
started = time.perf_counter()
NeuralForecast(models=[model], freq="MS").fit(frame)
print(json.dumps({"steps": TIMES, "fit": time.perf_counter() - started, "version": __import__("neuralforecast").__version__}))
"""


def modreg_steps(name: str, steps: int) -> dict[str, Any]:
    """Per-step seconds of modreg's model at its defaults."""
    frame = read_series_csv(DATA)
    frame = frame.slice_end(frame.lengths[0] - TRAIN)
    times: list[float] = []
    last = [time.perf_counter()]

    def progress(step: int, loss: float, val: float | None) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    model = factory.create(name, h=H, input_size=INPUT_SIZE, max_steps=steps, random_seed=1)
    started = time.perf_counter()
    last[0] = started
    model.fit(frame, progress=progress)
    return {"steps": times, "fit": time.perf_counter() - started}


def neuralforecast_steps(name: str, steps: int, python: Path) -> dict[str, Any] | str:
    """Per-step seconds of neuralforecast's model, or why they could not be measured."""
    if not python.exists():
        return f"no {python}: create the venv as this script's docstring says"
    command = [str(python), "-c", _NEURALFORECAST, name, str(steps), str(DATA), str(TRAIN), str(H), str(INPUT_SIZE)]
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
    parser.add_argument("--no-neuralforecast", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs; {args.steps} steps, "
          f"median/mean seconds per step after {args.warmup}")
    python = args.venv / "bin" / "python"
    for name in args.models:
        ours = modreg_steps(name, args.steps)
        median, mean = summary(ours["steps"], args.warmup)
        print(f"{name:10s} modreg          {median:7.4f} / {mean:7.4f} s/step  (fit {ours['fit']:.1f} s)")
        if args.no_neuralforecast:
            continue
        theirs = neuralforecast_steps(name, args.steps, python)
        if isinstance(theirs, str):
            print(f"{name:10s} neuralforecast  skipped: {theirs}")
            continue
        nf_median, nf_mean = summary(theirs["steps"], args.warmup)
        print(f"{name:10s} neuralforecast  {nf_median:7.4f} / {nf_mean:7.4f} s/step  (fit {theirs['fit']:.1f} s, "
              f"{theirs['version']}); modreg/neuralforecast median ratio {median / nf_median:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
