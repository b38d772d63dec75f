"""Every window scaler of neuralforecast's TemporalNorm works with every window model.

Each window model (univariate on a panel whose series differ in scale by orders of magnitude
and include one shorter than input_size + h; multivariate on four visnights series) is fitted
for one step with each scaler and must forecast finite values for every series. A scaler must
also be applied and undone: the network sees the same scaled windows when every series is
multiplied by C and offset by d (the scalers with a shift) or only multiplied (absmean), so the
forecasts must move with the data, C * forecast + d (d = 0 for a padded series: its padding
stays 0). The identity scaler, and a model that ignores its scaler or forgets to undo it, fail
that (errors of 1 to 3 series levels, against at most 0.07 measured for the scalers, TimeLLM's
prompt of rounded statistics being the most; errors are relative to the larger of the series'
level and the forecast, as sinh makes the invariant scaler's forecasts after one step wild).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modreg.runtime import factory
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import WindowForecaster
from modreg.runtime.params import schema_for
from modreg.runtime.training.scalers import SCALER_NAMES, get_scaler

DATA = Path(__file__).resolve().parents[2] / "data"
H, INPUT_SIZE = 4, 8
SCALE = 1000.0  # the data times SCALE (plus an offset for the scalers that shift) must give forecasts times SCALE
SMALL: dict[str, Any] = {"h": H, "input_size": INPUT_SIZE, "max_steps": 1, "windows_batch_size": 8,
                         "inference_windows_batch_size": -1, "num_tokens": 32, "random_seed": 1}
WINDOW_MODELS = sorted(name for name in factory.list_models()
                       if issubclass(factory.get_model(name).cls, WindowForecaster))


def _panel(name: str) -> SeriesFrame:
    if "multivariate" in factory.get_model(name).capabilities:
        frame = read_series_csv(DATA / "visnights.csv")
        return SeriesFrame(ids=frame.ids[:4], ds=frame.ds[:4], y=frame.y[:4], freq=frame.freq)
    t = np.arange(40.0)
    return SeriesFrame.from_arrays([1e5 * (3 + np.sin(t / 2)), 1e-3 * (3 + np.cos(t / 3)), 50 + t[:7]],
                                   ids=["big", "small", "short"])


def test_the_scalers_are_neuralforecasts_and_absmean() -> None:
    neuralforecasts = {"identity", "standard", "robust", "minmax", "minmax1", "invariant", "revin"}
    assert set(SCALER_NAMES) == neuralforecasts | {"absmean"}  # absmean: modreg's, for percentage losses


@pytest.mark.parametrize("name", WINDOW_MODELS)
def test_every_scaler_trains_and_forecasts(name: str) -> None:
    frame = _panel(name)
    properties = schema_for(factory.get_model(name).cls)["properties"]
    params = {k: v for k, v in {**SMALL, "n_series": frame.n_series}.items() if k in properties}
    for scaler in SCALER_NAMES:
        point = _point(name, factory.create(name, **params, scaler_type=scaler).fit(frame))
        assert point.shape == (frame.n_series, H), f"{name} with {scaler}"
        assert np.all(np.isfinite(point)), f"{name} with {scaler}"
        if scaler == "identity":
            continue
        levels = np.array([np.mean(np.abs(y)) for y in frame.y])[:, None]  # (N, 1)
        offset = 2.0 * SCALE * levels * (_padded(frame) == 0) if _shifts(scaler) else np.zeros_like(levels)
        moved = SeriesFrame(ids=frame.ids, ds=frame.ds, y=tuple(SCALE * y + d for y, d in zip(frame.y, offset[:, 0])),
                            freq=frame.freq)
        again = _point(name, factory.create(name, **params, scaler_type=scaler).fit(moved))
        error = np.abs(again - (SCALE * point + offset)) / (SCALE * np.maximum(levels, np.abs(point)))
        assert error.max() < 0.2, f"{name} with {scaler}: forecasts {error.max():.2g} off, relative to the series level"


def _point(name: str, model: WindowForecaster) -> np.ndarray:
    forecast = model.predict()
    return forecast.values.get(name, next(iter(forecast.values.values())))


def _padded(frame: SeriesFrame) -> np.ndarray:
    """(N, 1): 1 for a series whose windows are padded (shorter than the longest), 0 otherwise."""
    return np.array([[len(y) < max(frame.lengths)] for y in frame.y], dtype=np.float64)


def _shifts(scaler: str) -> bool:
    """Whether the scaler subtracts a location (every one but identity and absmean)."""
    shift, _ = get_scaler(scaler).stats(np.array([[1.0, 2.0, 6.0]]), None, axis=-1)
    return bool(np.any(shift != 0))

