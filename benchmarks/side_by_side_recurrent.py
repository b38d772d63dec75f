"""Recurrent models on AirPassengers: a whole `modreg run` next to neuralforecast 3.3.0's fit.

For each model (default RNN, LSTM, GRU, TCN; NHITS and NBEATS are there for reference) both
sides train the model's defaults with h = 12, input_size = 24 and `--steps` (100) steps, seed 1,
on the 144 months of AirPassengers. modreg's figure is the whole command, as a user types it:

    python -m modreg run LSTM --data registry.example/data/air_passengers.csv --horizon 12
        --param input_size=24 --param max_steps=100 --seed 1 -o forecast.csv

(start-up, reading the CSV, fitting, forecasting and writing), timed from outside, with the
CPU seconds the child used. neuralforecast's figure is `NeuralForecast.fit` alone, timed inside
a subprocess of the venv's Python with `torch.set_num_threads(2)` (`--nf-threads`): its start-up
and import (several seconds) are not counted. Each pair runs `--repeat` times, alternating, and
the medians are printed with the load average before the first run; the machine is shared, so
read the CPU seconds too. `--modreg-cpus 1` pins the modreg child to one core (its CPU seconds
are then the single-thread cost, comparable on a busy machine; at idle, set against the default
run it shows what the second core gives).

The neuralforecast side needs a separate virtual environment (never installed into modreg's):

    python -m venv /work/nf-venv
    /work/nf-venv/bin/pip install torch==2.13.0
    /work/nf-venv/bin/pip install neuralforecast

Without it (or with `--no-neuralforecast`) only modreg's figures are printed, with a message.

What bounds it (measured on the 2-core machine these figures come from): most of a step is
matrix products, which run at 86-99 GFLOP/s on one core, about the core's peak. Counting the
multiply-adds a step needs (windows drawn twice in a batch counted once), 100 steps at that rate
take RNN 0.74 s, LSTM 2.68 s, GRU 4.87 s and TCN about 1.5 s of one core, so even two perfectly
used cores cannot fit in less than 0.37 s, 1.34 s, 2.44 s and 0.75 s. Twice neuralforecast's
speed (its fit at idle: 1.84 s, 3.92 s, 7.69 s, 2.96 s) needs fits of 0.92 s, 1.96 s, 3.85 s
and 1.48 s.

How a fit uses the two cores: each recurrent layer and each causal convolution is one op whose
batch rows are cut into one block per core (`autograd.scan_blocks`); a block runs in its own
thread from its input projection through the scan, and back through its share of the weight
gradients, so the threads meet twice per layer and step. The rest of a step stays on the main
thread (windows, scaler, decoder, loss, the autograd walk, the optimizer). So the fit's wall
time at idle is about the main thread's CPU time (the worker's blocks are as long as its own),
which can be measured on a busy machine too. In one process, a warm-up fit and then 100 steps
timed, alternating with the code before this change (load 3.2-3.8, medians of 3):

    seconds   CPU now  main thread now  |  CPU before  main thread before
    RNN          1.11             0.68  |        1.08               0.97
    LSTM         3.61             1.97  |        4.46               3.04
    GRU          6.40             3.40  |        7.37               4.81
    TCN          2.24             1.34  |        2.06               1.98

(a `modreg run` in a fresh process fits a little slower than these warm figures). Of the
LSTM's 1.9-2.0 s on the main thread, the blocks' products take about 1.15 s, their elementwise
passes about 0.45 s (numpy's cost per call: a step of a 37-row block is ten calls of a few
microseconds each) and the single-threaded rest about 0.45 s, so its fit stays near the 1.96 s
of twice neuralforecast's speed rather than clearly under it. The GRU and LSTM blocks run
gate-major (gates, T, b, H), since numpy's passes over a gate's columns sliced out of (b, G)
rows cost 3 to 4 microseconds more per call than over contiguous rows.

`--split-floor` measures how far the two cores could take a fit at best: it counts the rows a
step processes once repeated windows merge (LSTM: 79.0 of the 128 drawn), then fits twice at
once, each process pinned to its own core with one BLAS thread, on half that many windows a
step. That is a perfect data-parallel split of our work (no GIL, no communication, no shared
memory), which the threads of `scan_blocks` can only approach. At idle (2026-12-05) the LSTM's
split took 1.85 s, against 2.10-2.13 s for the fit with two threads and 3.43 s for
neuralforecast's (1.85x); in a busier run, 1.94 s against 2.49 s and 4.12 s (2.13x). So twice
neuralforecast's speed for the LSTM sits at the limit of two perfectly used cores.

    python benchmarks/side_by_side_recurrent.py [--models RNN LSTM GRU TCN] [--steps 100] [--repeat 3]
        [--venv /work/nf-venv] [--nf-threads 2] [--modreg-cpus N] [--no-neuralforecast] [--split-floor]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "registry.example" / "data" / "air_passengers.csv"
H, INPUT_SIZE = 12, 24

_NEURALFORECAST = r"""
import json, logging, sys, time, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import pandas as pd
import torch
import neuralforecast.models as models
from neuralforecast import NeuralForecast

name, steps, data, h, size, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)
frame = pd.read_csv(data, parse_dates=["ds"])
if "unique_id" not in frame:
    frame.insert(0, "unique_id", "AirPassengers")
model = getattr(models, name)(h=h, input_size=size, max_steps=steps, random_seed=1, enable_progress_bar=False,
                              enable_model_summary=False, logger=False, enable_checkpointing=False, accelerator="cpu")
forecaster = NeuralForecast(models=[model], freq="MS")
wall, cpu = time.perf_counter(), time.process_time()
forecaster.fit(frame)
print(json.dumps({"fit": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "version": __import__("neuralforecast").__version__}))
"""


def modreg_run(model: str, steps: int, cpus: int | None = None) -> tuple[float, float, float]:
    """Wall and CPU seconds of the whole `modreg run` command (on the first `cpus` allowed cores), and its fit's seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "modreg", "run", model, "--data", str(DATA), "--horizon", str(H),
                   "--param", f"input_size={INPUT_SIZE}", "--param", f"max_steps={steps}", "--seed", "1",
                   "-o", str(Path(folder) / "forecast.csv"), "--json"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                              preexec_fn=None if cpus is None else functools.partial(_pin, cpus))
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"modreg run {model} failed: {done.stderr.strip()}")
    fit = float(json.loads(done.stdout)["fit_seconds"])
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), fit


_HALF_FIT = r"""
import json, os, statistics, sys, time
if int(sys.argv[7]) >= 0:  # pinned before numpy starts
    os.sched_setaffinity(0, {int(sys.argv[7])})
from modreg.runtime import factory
from modreg.runtime.data import read_series_csv
from modreg.runtime.training import fit, windows

name, steps, data, h, size, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
params = {"h": h, "input_size": size, "max_steps": steps, "random_seed": 1}
if rows:  # a fit on `rows` windows a step, drawn without repeats
    params["windows_batch_size"] = rows
sizes = []
merge = fit.merge_duplicates
fit.merge_duplicates = lambda batch, target: (lambda out: sizes.append(len(out[1].y)) or out)(merge(batch, target))
network = factory.create(name, **params)
started = time.perf_counter()
network.fit(read_series_csv(data))
print(json.dumps({"fit": time.perf_counter() - started, "rows": statistics.mean(sizes) if sizes else 0}))
"""


def split_floor(model: str, steps: int) -> tuple[float, float]:
    """(rows a step after merging repeated windows, the fit seconds of a perfect split of them over two
    cores): two processes, each pinned to its own core with one BLAS thread, fit at once on half the
    rows each, with no communication between them; the slower one's seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OPENBLAS_NUM_THREADS": "1"}

    def half_fit(rows: int, core: int | None) -> subprocess.Popen[str]:
        command = [sys.executable, "-c", _HALF_FIT, model, str(steps), str(DATA), str(H), str(INPUT_SIZE), str(rows),
                   str(-1 if core is None else core)]
        return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)

    def measured(child: subprocess.Popen[str]) -> dict[str, float]:
        out, _ = child.communicate()
        if child.returncode:
            raise SystemExit(f"a half fit of {model} failed")
        return json.loads(out.strip().splitlines()[-1])

    rows = measured(half_fit(0, None))["rows"]
    cores = sorted(os.sched_getaffinity(0))[:2]
    children = [half_fit(-(-int(rows) // 2), core) for core in cores]
    return rows, max(measured(child)["fit"] for child in children)


def _pin(cpus: int) -> None:
    """In the child before exec: run on the first `cpus` cores this process may use."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cpus])


def neuralforecast_fit(model: str, steps: int, python: Path, threads: int) -> dict[str, float | str] | str:
    """neuralforecast's fit seconds (wall, CPU), or why they could not be measured."""
    if not python.exists():
        return f"no {python}: create the venv as this script's docstring says"
    command = [str(python), "-c", _NEURALFORECAST, model, str(steps), str(DATA), str(H), str(INPUT_SIZE), str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        return f"neuralforecast failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["RNN", "LSTM", "GRU", "TCN"])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=Path("/work/nf-venv"))
    parser.add_argument("--nf-threads", type=int, default=2, help="torch.set_num_threads on the neuralforecast side")
    parser.add_argument("--modreg-cpus", type=int, default=None, help="pin the modreg child to this many cores")
    parser.add_argument("--no-neuralforecast", action="store_true")
    parser.add_argument("--split-floor", action="store_true",
                        help="also time a perfect split of each step's rows over two cores (`split_floor`)")
    args = parser.parse_args()
    python = args.venv / "bin" / "python"
    print(f"AirPassengers, h={H}, input_size={INPUT_SIZE}, {args.steps} steps; median of {args.repeat} runs: "
          "wall seconds (CPU seconds)")
    print(f"{'model':8s}{'modreg run':>22s}{'its fit':>9s}{'neuralforecast fit':>24s}{'run':>7s}{'fit':>7s}   load")
    for model in args.models:
        load = os.getloadavg()[0]
        ours, theirs, note = [], [], ""
        for _ in range(args.repeat):
            ours.append(modreg_run(model, args.steps, args.modreg_cpus))
            if args.no_neuralforecast or note:
                continue
            measured = neuralforecast_fit(model, args.steps, python, args.nf_threads)
            if isinstance(measured, str):
                note = measured
            else:
                theirs.append((float(measured["fit"]), float(measured["cpu"])))
        wall, cpu = statistics.median(w for w, _, _ in ours), statistics.median(c for _, c, _ in ours)
        fit = statistics.median(f for _, _, f in ours)
        line = f"{model:8s}{wall:12.2f} ({cpu:6.2f} CPU){fit:9.2f}"
        if theirs:
            nf_wall, nf_cpu = statistics.median(w for w, _ in theirs), statistics.median(c for _, c in theirs)
            line += f"{nf_wall:14.2f} ({nf_cpu:6.2f} CPU){nf_wall / wall:6.2f}x{nf_wall / fit:6.2f}x"
        else:
            line += f"   skipped: {note or '--no-neuralforecast'}"
        print(f"{line}   {load:.2f}", flush=True)
        if args.split_floor and len(os.sched_getaffinity(0)) >= 2:
            rows, floor = split_floor(model, args.steps)
            versus = f", {statistics.median(w for w, _ in theirs) / floor:.2f}x neuralforecast's fit" if theirs else ""
            print(f"{'':8s}perfect split: {rows:.1f} rows a step, half on each core in its own process: "
                  f"{floor:.2f} s{versus}", flush=True)


if __name__ == "__main__":
    main()
