"""The one horizon `modreg bench` compares its targets on, when `--horizon` does not give it.

`--param h=H` sets it for every target, as `--horizon H` would; otherwise it is the `h` the
resolved targets share. When no target sets one because no target resolved (an unknown name),
that failure is the error to report, not the missing horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modreg.errors import ModregError, UsageError
from modreg.runtime.params import parse_cli_param

__all__ = ["bench_horizon"]


def bench_horizon(params: Sequence[str], specs: Sequence[tuple[Any, Any]]) -> int:
    """The horizon from `--param h=...` (the last one) or shared by `specs`: (spec, merged
    parameters) pairs, or (name, ModregError) for a target that did not resolve.

    Raises:
        UsageError: a --param h that is not an integer >= 1, no horizon, or different ones.
        ModregError: no target resolved; the first target's own error.
    """
    given = [(text, value) for key, value, text in ((*parse_cli_param(t), t) for t in params) if key == "h"]
    if given:
        text, value = given[-1]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"--param {text}: the horizon h must be an integer >= 1.", hint="e.g. --horizon 12.")
        return value
    horizons = {spec.target: found["h"] for spec, found in specs if isinstance(found, dict) and isinstance(found.get("h"), int)}
    if len(set(horizons.values())) == 1:
        return next(iter(horizons.values()))
    if not horizons:
        failed = [found for _, found in specs if isinstance(found, ModregError)]
        if failed and len(failed) == len(specs):
            raise failed[0]
        raise UsageError("No target sets a horizon h, so modreg cannot tell what to forecast.", hint="pass --horizon H.")
    listed = ", ".join(f"{name}: {h}" for name, h in horizons.items())
    raise UsageError(f"The targets forecast different horizons ({listed}).",
                     hint="pass --horizon H to compare them on one horizon.")
