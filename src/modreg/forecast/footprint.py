"""What a run will allocate, estimated from its parameters and data before anything is built.

The estimate is deliberately generic (no model is instantiated, since building one is the
allocation to avoid) and errs high: it only has to tell a run that fits in memory from one that
cannot (`--horizon 1000000000`, `hidden_size = 10000000`), which differ by orders of magnitude.
From the parameters it reads the sequence a window spans (`input_size + h`), the widest layer
(any size-like parameter: `hidden_size`, `d_model`, `mlp_units`, ...), the number of layers
(`n_layers`, `n_blocks`, ...), the batch and attention heads, and from the data the number of
series and exogenous columns. The terms, in float64 bytes:

    weights      layers * (width^2 * kernel + width * sequence) + input_size * h + series^2
    training     4 copies of the weights (value, gradient, two optimizer moments)
    activations  2 * batch * layers * sequence * (width + heads * sequence)
    windows      2 * batch * sequence * (1 + exogenous columns)
    forecasts    series * h * (samples + 1) values, plus ~600 bytes per forecast row (the
                 timestamps, the record and the CSV text)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from modreg.runtime.data import SeriesFrame
from modreg.runtime.memory import check

__all__ = ["check_run", "run_bytes"]

_WIDTH = re.compile(r"hidden|units|_dim$|^d_(model|ff|llm)$|ff_dim|channels|filters|size$|tokens|width|n_basis")
_NOT_WIDTH = {"batch_size", "windows_batch_size", "inference_windows_batch_size", "valid_batch_size", "input_size",
              "step_size", "kernel_size", "n_pool_kernel_size", "conv_hidden_size_multiplier"}
_LAYERS = re.compile(r"layers|blocks|stacks|^n_block$|^multi_layer$")
_KERNEL = re.compile(r"kernel|^modes$|^top_k$|^n_harmonics$|^n_polynomials$|^patch_len$|window$")
_BATCH = re.compile(r"batch_size$")
_HEADS = re.compile(r"^n_heads?$")
_SAMPLES = re.compile(r"samples$")
_ROW_BYTES = 600
_FLOAT = 8


def run_bytes(params: Mapping[str, Any], frame: SeriesFrame) -> int:
    """The estimated peak bytes of fitting and forecasting with `params` on `frame`."""
    h = _largest(params.get("h")) or 1
    input_size = _largest(params.get("input_size"))
    sequence = input_size + h
    series = max(len(frame.ids), 1)
    width = max([_largest(v) for k, v in params.items() if _WIDTH.search(k) and k not in _NOT_WIDTH] or [1])
    layers = max(sum(_total(v) for k, v in params.items() if _LAYERS.search(k)), 1)
    kernel = max([_largest(v) for k, v in params.items() if _KERNEL.search(k)] or [1])
    batch = max([_largest(v) for k, v in params.items() if _BATCH.search(k)] or [1])
    heads = max([_largest(v) for k, v in params.items() if _HEADS.search(k)] or [0])
    samples = max([_largest(v) for k, v in params.items() if _SAMPLES.search(k)] or [0])
    weights = layers * (width * width * kernel + width * sequence) + input_size * h + series * series
    activations = 2 * batch * layers * sequence * (width + heads * sequence)
    windows = 2 * batch * sequence * (1 + len(frame.exog))
    forecasts = series * h * ((samples + 1) * _FLOAT + _ROW_BYTES)
    return _FLOAT * (4 * weights + activations + windows) + forecasts


def check_run(target: str, model: str, params: Mapping[str, Any], frame: SeriesFrame) -> None:
    """UsageError (exit 2) with the estimate when running the runtime model `model` with
    `params` (its defaults filled in) on `frame` would exceed the memory budget."""
    if model == "Ensemble":  # members fit one after another (or one per worker): each must fit the budget
        h = params.get("h")
        for index, member in enumerate(params.get("members") or []):
            if isinstance(member, Mapping) and isinstance(member.get("model"), str) and member["model"] != "Ensemble":
                check_run(f"{target}'s member {index + 1} ({member['model']})", member["model"],
                          {**(member.get("params") or {}), "h": h}, frame)
        return
    full = {**_defaults(model), **params}
    check(run_bytes(full, frame), f"Running {target} with these parameters (h = {_largest(full.get('h')) or 1:,})",
          "use a smaller horizon or smaller sizes")


def _defaults(model: str) -> dict[str, Any]:
    import inspect

    from modreg.runtime.factory import get_model

    signature = inspect.signature(get_model(model).cls.__init__)
    return {name: p.default for name, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}


def _ints(value: Any) -> Iterator[int]:
    """Every integer in a parameter value (lists such as `mlp_units = [[512, 512]]` included)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _ints(item)


def _largest(value: Any) -> int:
    return max([n for n in _ints(value) if n > 0] or [0])


def _total(value: Any) -> int:
    return sum(n for n in _ints(value) if n > 0)
