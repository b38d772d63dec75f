"""The child process of `modreg plugin health`: load one plugin, then fit and predict each model.

Run as `python -m modreg.plugins.health_child` with a JSON request on stdin:

    {"kind": "registry", "root": "<registry>", "folder": "<plugin folder>", "sys_path": [...]}
    {"kind": "entry_point", "distribution": "<name>", "sys_path": [...]}

It loads the plugin the way `modreg run` does (verified first), builds each model with the
manifest's example parameters (`[models.params]`; `h` = 12 and `input_size` = 24 when the
model requires them and the manifest does not say, `max_steps` = 5 for a tiny fit), fits it
on a small real series and predicts. Anything the plugin prints goes to stderr; the one result
line on stdout is `MARKER` followed by JSON. The parent kills this process at its timeout.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import Any

from modreg.errors import ModregError, UsageError

__all__ = ["MARKER", "main"]

MARKER = "modreg-health-result: "
FALLBACK_PARAMS = {"h": 12, "input_size": 24}
TINY_FIT = {"max_steps": 5}

# AirPassengers, monthly 1949-1960: international airline passengers in thousands (Box & Jenkins;
# R datasets::AirPassengers), the series every forecasting library is first tried on.
AIR_PASSENGERS = (
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158, 133,
    114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181, 183, 218, 230, 242,
    209, 191, 172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264,
    302, 293, 259, 229, 203, 229, 242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313,
    318, 374, 413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336, 340, 318,
    362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,
    417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,
)


def main() -> int:
    request = json.loads(sys.stdin.read())
    sys.path[:] = request.get("sys_path", sys.path)
    with contextlib.redirect_stdout(sys.stderr):
        result = check(request)
    sys.stdout.write(MARKER + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


def check(request: dict[str, Any]) -> dict[str, Any]:
    """Load the plugin, then try every model (or, with `schemas_only`, only read their
    parameter schemas, for `plugin lock`); the result as a JSON-able dict."""
    try:
        models = _load(request)
    except ModregError as error:
        return {"ok": False, "error": error.to_dict(), "models": []}
    if request.get("schemas_only"):
        from modreg.runtime.factory import get_model
        from modreg.runtime.params import schema_for

        return {"ok": True, "error": None, "models": [], "schemas": {name: schema_for(get_model(name).cls) for name, _ in models}}
    results = [_try_model(name, params) for name, params in models]
    return {"ok": all(r["ok"] for r in results), "error": None, "models": results}


def _load(request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(model, example params) of the plugin, after loading it."""
    from pathlib import Path

    if request["kind"] == "entry_point":
        from modreg.plugins.entrypoints import load_distribution

        return [(name, {}) for name in load_distribution(request["distribution"])]
    from modreg.plugins.loader import load_plugin
    from modreg.registry.checks.config import load_config
    from modreg.registry.store.layout import RegistryPaths

    loaded = load_plugin(Path(request["folder"]), load_config(RegistryPaths(Path(request["root"]))))
    return [(model.name, dict(model.params)) for model in loaded.manifest.models]


def _try_model(name: str, example: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"name": name, "ok": False, "error": None, "params": {}}
    try:
        from modreg.runtime.factory import create

        params = health_params(name, example)
        result["params"] = params
        model = create(name, **params)
        started = time.perf_counter()
        model.fit(_series())
        result["fit_seconds"] = round(time.perf_counter() - started, 4)
        _check_forecast(name, model.predict(), params.get("h"))
        result["ok"] = True
    except Exception as error:  # a plugin's failure is the result, whatever it is
        result["error"] = error.message if isinstance(error, ModregError) else f"{type(error).__name__}: {error}"
    return result


def health_params(name: str, example: dict[str, Any]) -> dict[str, Any]:
    """The example parameters, completed with the fallbacks the model needs."""
    from modreg.runtime.factory import get_model
    from modreg.runtime.params import schema_for

    schema = schema_for(get_model(name).cls)
    params = dict(example)
    for key in schema.get("required", []):
        if key not in params and key in FALLBACK_PARAMS:
            params[key] = FALLBACK_PARAMS[key]
    for key, value in TINY_FIT.items():
        if key in schema["properties"] and key not in params:
            params[key] = value
    missing = [key for key in schema.get("required", []) if key not in params]
    if missing:
        raise UsageError(f"{name} needs the parameter `{missing[0]}`, and the manifest gives no example value.",
                         hint=f"add it to the model's params in plugin.toml, e.g. params = {{ {missing[0]} = ... }}.")
    return params


def _series() -> Any:
    import numpy as np

    from modreg.runtime.data import SeriesFrame

    months = np.arange(np.datetime64("1949-01"), np.datetime64("1961-01")).astype("datetime64[D]")
    return SeriesFrame.from_arrays(np.array(AIR_PASSENGERS, dtype=np.float64), ids=["AirPassengers"], ds=[months])


def _check_forecast(name: str, forecast: Any, h: Any) -> None:
    import numpy as np

    point = np.asarray(forecast.point)
    if point.ndim != 2 or point.shape[0] != 1 or (isinstance(h, int) and point.shape[1] != h):
        raise UsageError(f"{name} forecast an array of shape {point.shape}, not (1, {h}).")
    if not np.isfinite(point).all():
        raise UsageError(f"{name} forecast values that are not finite.")


if __name__ == "__main__":
    sys.exit(main())
