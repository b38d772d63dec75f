"""Training time per step of modreg's attention models next to neuralforecast 3.3.0's, same settings.

Both sides train the model's defaults (h=12, input_size=24, neuralforecast's batch sizes,
dropout and scaler) on AirPassengers' first 132 months for `--steps` steps, seed 1, and time
every optimisation step (modreg: the fit loop's progress callback; neuralforecast: a Lightning
callback from batch start to batch end, so data loading is counted on its side too). Printed:
the median and mean wall seconds per step after the first `--warmup` steps, the median CPU
seconds per step (process time, every thread: a figure less sensitive to other work on the
machine), and the ratio of the wall medians. modreg runs in this process (BLAS on one thread,
as its fit loop sets); neuralforecast runs in a subprocess of the venv's Python with
`torch.set_num_threads(2)` (`--nf-threads`). Both sides share a 2-core machine with other
work: read the load average printed before each model, and repeat.

The neuralforecast side needs a separate virtual environment (never installed into modreg's):

    python -m venv /work/nf-venv
    /work/nf-venv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    /work/nf-venv/bin/pip install neuralforecast

Without it (or with `--no-neuralforecast`) only modreg's figures are printed, with a message.

`--parity` checks the ports instead of timing them: neuralforecast builds each default model
(TFT also with static, historical and future exogenous inputs), runs a random batch forward in
eval mode and backward from a fixed cotangent; modreg loads the same weights (renamed to its
keys) and must give the same outputs and parameter gradients up to float32 rounding.

    python benchmarks/side_by_side_attention.py [--models PatchTST TFT] [--steps 30] [--venv /work/nf-venv]
        [--nf-threads 2] [--no-neuralforecast] [--parity]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import modreg.runtime  # noqa: F401  before numpy: it sets how OpenBLAS's idle threads wait, as `modreg run` does
import numpy as np

from modreg.runtime import factory
from modreg.runtime.autograd import Tensor
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.base import WindowBatch

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "air_passengers.csv"
H, INPUT_SIZE, TRAIN = 12, 24, 132


@dataclass(frozen=True)
class Protocol:
    """What both sides train on: the first `train` points of every series of `data`, h, input_size."""

    data: Path = DATA
    freq: str = "MS"
    train: int = TRAIN
    h: int = H
    input_size: int = INPUT_SIZE
    neuralforecast_params: dict[str, Any] = field(default_factory=dict)  # e.g. n_series for multivariate models


AIR_PASSENGERS = Protocol()

_NEURALFORECAST = r"""
import json, logging, sys, time, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import pandas as pd
import torch
import pytorch_lightning as pl
import neuralforecast.models as models
from neuralforecast import NeuralForecast

name, steps, data, train, h, size, threads, freq = (sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
                                                    int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), sys.argv[8])
extra = json.loads(sys.argv[9])
torch.set_num_threads(threads)

TIMES, CPU, STARTED = [], [], [0.0, 0.0]  # module-level: NeuralForecast.fit deep-copies its callbacks

class Timer(pl.Callback):
    def on_train_batch_start(self, trainer, module, batch, index):
        STARTED[:] = [time.perf_counter(), time.process_time()]
    def on_train_batch_end(self, trainer, module, outputs, batch, index):
        TIMES.append(time.perf_counter() - STARTED[0])
        CPU.append(time.process_time() - STARTED[1])

frame = pd.read_csv(data, parse_dates=["ds"]).groupby("unique_id", sort=False).head(train)
model = getattr(models, name)(h=h, input_size=size, max_steps=steps, random_seed=1, callbacks=[Timer()],
                              enable_progress_bar=False, enable_model_summary=False, logger=False,
                              enable_checkpointing=False, accelerator="cpu", **extra)
started = time.perf_counter()
NeuralForecast(models=[model], freq=freq).fit(frame)
print(json.dumps({"steps": TIMES, "cpu": CPU, "fit": time.perf_counter() - started, "version": __import__("neuralforecast").__version__}))
"""


_PARITY = r"""
import logging, sys, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import numpy as np
import torch
import neuralforecast.models as models

torch.manual_seed(0)
rand = np.random.default_rng(0)
b, size, h = 5, 24, 12
inputs = {"insample_y": rand.standard_normal((b, size, 1)), "stat_exog": rand.standard_normal((b, 2)),
          "hist_exog": rand.standard_normal((b, size, 2)), "futr_exog": rand.standard_normal((b, size + h, 1))}
inputs = {k: v.astype(np.float32) for k, v in inputs.items()}
exog = dict(stat_exog_list=["s1", "s2"], hist_exog_list=["x1", "x2"], futr_exog_list=["f1"])
out = {f"input:{k}": v for k, v in inputs.items()}
for case in sys.argv[2:]:
    name, with_exog = case.split(":")[0], case.endswith(":exog")
    model = getattr(models, name)(h=h, input_size=size, **(exog if with_exog else {})).eval()
    batch = {k: torch.tensor(v) if with_exog or k == "insample_y" else None for k, v in inputs.items()}
    forecast = model(batch)
    weights = torch.linspace(-1, 1, forecast.numel()).reshape(forecast.shape)
    (forecast * weights).sum().backward()
    out[f"{case}:forecast"] = forecast.detach().numpy()
    out.update({f"{case}:weight:{k}": v.numpy() for k, v in model.state_dict().items()})
    out.update({f"{case}:grad:{k}": p.grad.numpy() for k, p in model.named_parameters() if p.grad is not None})
np.savez(sys.argv[1], **out)
"""

_RENAMES: dict[str, Callable[[str], str | None]] = {
    "TFT": lambda k: None if k.endswith("_mask") else k.replace(".layer_norm.ln.", ".layer_norm."),
    "PatchTST": lambda k: re.sub(r"norm_(attn|ffn)\.1\.", r"norm_\1.", k.replace("model.backbone.encoder.", "")
                                 .replace("model.backbone.", "").replace("model.head.linear.", "head.")
                                 .replace("sdp_attn.scale", "scale").replace("to_out.0.", "to_out.")
                                 .replace("ff.0.", "ff.lin_in.").replace("ff.3.", "ff.lin_out.")),
    "TimesNet": lambda k: None if k.endswith("position_embedding.pe") else (
        k.replace("conv.2.", "conv.1.").replace("value_embedding.tokenConv.", "value_embedding.")
        .replace("temporal_embedding.embed.", "temporal_embedding.")),
}
"""neuralforecast state-dict key -> modreg's (None: a buffer modreg computes instead of storing)."""


def parity(cases: list[str], python: Path) -> None:
    """Same weights, same batch: print the largest output and gradient differences per case."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "neuralforecast.npz"
        done = subprocess.run([str(python), "-c", _PARITY, str(path), *cases], capture_output=True, text=True,
                              check=False)
        if done.returncode:
            print(f"neuralforecast failed: {done.stderr.strip().splitlines()[-1:]}")
            return
        reference = dict(np.load(path))
    exog = {"stat_exog_list": ("s1", "s2"), "hist_exog_list": ("x1", "x2"), "futr_exog_list": ("f1",)}
    for case in cases:
        name, with_exog = case.split(":")[0], case.endswith(":exog")
        rename = _RENAMES[name]
        model = factory.create(name, h=H, input_size=INPUT_SIZE, **(exog if with_exog else {}))
        network = model._build_network()
        weights = {rename(k.split(":weight:")[1]): v for k, v in reference.items() if k.startswith(f"{case}:weight:")}
        network.load_state_dict({k: v for k, v in weights.items() if k is not None}, strict=True)
        forecast = network.eval()(_parity_batch(reference, with_exog))
        cotangent = np.linspace(-1, 1, forecast.size, dtype=np.float32).reshape(forecast.shape)
        (forecast * Tensor(cotangent)).sum().backward()
        theirs = reference[f"{case}:forecast"]
        grads = dict(network.named_parameters())
        pairs = [(grads[rename(k.split(":grad:")[1])].grad, v) for k, v in reference.items()
                 if k.startswith(f"{case}:grad:")]
        scale = max(float(np.abs(v).max()) for _, v in pairs)
        worst = max(float(np.abs((0.0 if g is None else g) - v).max()) for g, v in pairs)
        print(f"{case:14s} forecast max |diff| {np.abs(forecast.data - theirs).max():.1e} (mean |forecast| "
              f"{np.abs(theirs).mean():.2f}); {len(pairs)} parameter gradients, max |diff| {worst:.1e} "
              f"(largest gradient {scale:.1e})")


def _parity_batch(reference: dict[str, np.ndarray], with_exog: bool) -> WindowBatch:
    y = reference["input:insample_y"][..., 0]
    extra = {k: Tensor(reference[f"input:{k}"]) for k in ("hist_exog", "futr_exog", "stat_exog")} if with_exog else {}
    return WindowBatch(insample_y=Tensor(y), insample_mask=Tensor(np.ones_like(y)), **extra)


def modreg_steps(name: str, steps: int, protocol: Protocol = AIR_PASSENGERS) -> dict[str, Any]:
    """Per-step seconds of modreg's model at its defaults."""
    frame = read_series_csv(protocol.data)
    frame = frame.slice_end(frame.lengths[0] - protocol.train)
    times: list[float] = []
    cpu: list[float] = []
    last = [0.0, 0.0]

    def progress(step: int, loss: float, val: float | None) -> None:
        now = [time.perf_counter(), time.process_time()]
        times.append(now[0] - last[0])
        cpu.append(now[1] - last[1])
        last[:] = now

    model = factory.create(name, h=protocol.h, input_size=protocol.input_size, max_steps=steps, random_seed=1)
    started = time.perf_counter()
    last[:] = [started, time.process_time()]
    model.fit(frame, progress=progress)
    return {"steps": times, "cpu": cpu, "fit": time.perf_counter() - started}


def neuralforecast_steps(name: str, steps: int, python: Path, threads: int = 2,
                         protocol: Protocol = AIR_PASSENGERS) -> dict[str, Any] | str:
    """Per-step seconds of neuralforecast's model, or why they could not be measured."""
    if not python.exists():
        return f"no {python}: create the venv as this script's docstring says"
    command = [str(python), "-c", _NEURALFORECAST, name, str(steps), str(protocol.data), str(protocol.train),
               str(protocol.h), str(protocol.input_size), str(threads), protocol.freq,
               json.dumps(protocol.neuralforecast_params)]
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
    parser.add_argument("--parity", action="store_true", help="compare outputs and gradients instead of times")
    args = parser.parse_args()
    python = args.venv / "bin" / "python"
    if args.parity:
        if not python.exists():
            print(f"no {python}: create the venv as this script's docstring says")
            return
        cases = [c for name in args.models for c in ([name, f"{name}:exog"] if name == "TFT" else [name])]
        parity(cases, python)
        return
    compare(args.models, args.steps, args.warmup, None if args.no_neuralforecast else python, args.nf_threads)


def compare(names: list[str], steps: int, warmup: int, python: Path | None, threads: int,
            protocol_of: Callable[[str], Protocol] = lambda name: AIR_PASSENGERS) -> None:
    """Time each model on both sides (modreg only when `python` is None) and print the figures and ratio."""
    print(f"{steps} steps; per step after the first {warmup}: median / mean wall seconds, "
          "median CPU seconds (all threads)")
    for name in names:
        protocol = protocol_of(name)
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {protocol.data.name}, "
              f"h={protocol.h}, input_size={protocol.input_size}")
        ours = modreg_steps(name, steps, protocol)
        median = report(name, "modreg", ours, warmup, f"fit {ours['fit']:.1f} s")
        if python is None:
            continue
        theirs = neuralforecast_steps(name, steps, python, threads, protocol)
        if isinstance(theirs, str):
            print(f"{name:15s} neuralforecast  skipped: {theirs}")
            continue
        theirs_median = report(name, "neuralforecast", theirs, warmup,
                               f"fit {theirs['fit']:.1f} s, {theirs['version']}, {threads} torch threads")
        ratio, cpu_ratio = median / theirs_median, summary(ours["cpu"], warmup)[0] / summary(theirs["cpu"], warmup)[0]
        print(f"{name:15s} modreg / neuralforecast: median wall {ratio:.2f}, median CPU {cpu_ratio:.2f}")
        sys.stdout.flush()


def report(name: str, side: str, measured: dict[str, Any], warmup: int, note: str) -> float:
    """Print one side's figures; return its median wall seconds per step."""
    median, mean = summary(measured["steps"], warmup)
    cpu, _ = summary(measured["cpu"], warmup)
    print(f"{name:15s} {side:15s} {median:7.3f} / {mean:7.3f} s/step, CPU {cpu:7.3f} s/step  ({note})", flush=True)
    return median


if __name__ == "__main__":
    main()
