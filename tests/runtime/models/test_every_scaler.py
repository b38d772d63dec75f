"""Every window scaler of neuralforecast's TemporalNorm works with every window model.

Each window model (univariate on a panel whose series differ in scale by orders of magnitude
and include one shorter than input_size + h; multivariate on four visnights series) is fitted
for one step with each scaler and must forecast finite values for every series.
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
from modreg.runtime.training.scalers import SCALER_NAMES

DATA = Path(__file__).resolve().parents[2] / "data"
H, INPUT_SIZE = 4, 8
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
        model = factory.create(name, **params, scaler_type=scaler).fit(frame)
        forecast = model.predict()
        point = forecast.values.get(name, next(iter(forecast.values.values())))
        assert point.shape == (frame.n_series, H), f"{name} with {scaler}"
        assert np.all(np.isfinite(point)), f"{name} with {scaler}"
