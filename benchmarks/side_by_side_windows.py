"""Training time per step of modreg's MLP, mixer, exogenous and multivariate models next to neuralforecast's.

The same measurement as `side_by_side_attention.py` (whose timing code this script reuses): both
sides train the model's defaults for `--steps` steps, seed 1, and every optimisation step is
timed (modreg: the fit loop's progress callback, BLAS on one thread as its fit loop sets;
neuralforecast 3.3.0: a Lightning callback from batch start to batch end, in a subprocess of the
venv's Python with `torch.set_num_threads(--nf-threads)`, 2 by default). Printed per model: the
median and mean wall seconds per step after `--warmup` steps, the median CPU seconds per step
(process time, all threads), the whole fit's wall seconds, and the modreg / neuralforecast
ratios of the medians. Read them with the load average printed before each model: the machine
has 2 cores shared with other work.

Data: the univariate models (NBEATSx, TiDE, BiTCN, DeepNPTS) train on AirPassengers' first 132
months (h=12, input_size=24); the multivariate ones (MLPMultivariate, TSMixer, TSMixerx,
iTransformer, StemGNN) on visnights' first 68 quarters of its 20 series (h=12, input_size=24,
neuralforecast given n_series=20; modreg takes it from the data).

    python benchmarks/side_by_side_windows.py [--models TiDE TSMixer] [--steps 30] [--venv /work/nf-venv]
        [--nf-threads 2] [--no-neuralforecast]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from side_by_side_attention import AIR_PASSENGERS, Protocol, compare

from modreg.runtime import factory

VISNIGHTS = Protocol(data=Path(__file__).resolve().parents[1] / "registry.example" / "data" / "visnights.csv",
                     freq="QS", train=68, h=12, input_size=24, neuralforecast_params={"n_series": 20})
UNIVARIATE = ["NBEATSx", "TiDE", "BiTCN", "DeepNPTS"]
MULTIVARIATE = ["MLPMultivariate", "TSMixer", "TSMixerx", "iTransformer", "StemGNN"]


def protocol_of(name: str) -> Protocol:
    """visnights for a multivariate model, AirPassengers for the others."""
    return VISNIGHTS if "multivariate" in factory.get_model(name).capabilities else AIR_PASSENGERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=UNIVARIATE + MULTIVARIATE)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3, help="first steps left out of the figures")
    parser.add_argument("--venv", type=Path, default=Path("/work/nf-venv"))
    parser.add_argument("--nf-threads", type=int, default=2, help="torch.set_num_threads on the neuralforecast side")
    parser.add_argument("--no-neuralforecast", action="store_true")
    args = parser.parse_args()
    python = None if args.no_neuralforecast else args.venv / "bin" / "python"
    compare(args.models, args.steps, args.warmup, python, args.nf_threads, protocol_of)


if __name__ == "__main__":
    main()
