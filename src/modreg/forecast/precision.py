"""Data that a float32 model cannot hold: values beyond float32's range (about 3.4e38) would
become inf when the windows are cast, and fitting would end in numpy warnings and a diverged
loss. `check_precision` refuses them before any fit, naming the series, the column and the file.
Values within range can still overflow while training (1e37 squared); `check_finite` refuses a
forecast that came out infinite or NaN instead of writing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from modreg.errors import UsageError
from modreg.runtime.data import SeriesFrame

__all__ = ["check_finite", "check_precision"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_precision(target: str, model: str, params: Mapping[str, Any], frame: SeriesFrame) -> None:
    """UsageError when `model` with `params` computes in float32 and `frame` holds a value it cannot."""
    if model == "Ensemble":
        for member in params.get("members") or []:
            if isinstance(member, Mapping) and isinstance(member.get("model"), str) and member["model"] != "Ensemble":
                check_precision(f"{target}'s member {member['model']}", member["model"], member.get("params") or {}, frame)
        return
    if _precision(model, params) != "float32":
        return
    for column, arrays in {"y": frame.y, **frame.exog}.items():
        for sid, values in zip(frame.ids, arrays):
            if values.size and float(np.max(np.abs(values))) > _FLOAT32_MAX:
                largest = float(values[np.argmax(np.abs(values))])
                raise UsageError(f"series '{sid}' has the value {largest:g} in column '{column}', beyond what "
                                 f"{target} computes with in float32 (about 3.4e38).", path=frame.source,
                                 hint='set --param precision="float64", or rescale the data.')


def _precision(model: str, params: Mapping[str, Any]) -> Any:
    if "precision" in params:
        return params["precision"]
    import inspect

    from modreg.runtime.factory import get_model

    default = inspect.signature(get_model(model).cls.__init__).parameters.get("precision")
    return None if default is None else default.default


def check_finite(target: str, forecast: Any, frame: SeriesFrame) -> None:
    """UsageError when a column of `forecast` (a runtime Forecast) holds inf or NaN."""
    for column, values in forecast.values.items():
        bad = np.argwhere(~np.isfinite(np.asarray(values, dtype=float)))
        if bad.size:
            series, step = (int(i) for i in bad[0])
            largest = max(float(np.max(np.abs(y))) for y in frame.y if y.size)
            raise UsageError(f"the forecast column '{column}' of series '{forecast.ids[series]}' is {values[series, step]} "
                             f"at step {step + 1}: {target}'s computation overflowed on data as large as {largest:g}.",
                             path=frame.source, hint='rescale the data, or set --param precision="float64".')
