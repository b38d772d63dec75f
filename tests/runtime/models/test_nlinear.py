"""NLinear-specific checks: parameter count and last-value normalisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.nlinear import NLinear

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 24


@pytest.fixture(scope="module")
def windows() -> np.ndarray:
    """Five real AirPassengers windows of length L."""
    y = read_series_csv(DATA / "air_passengers.csv").y[0]
    return np.stack([y[i : i + L] for i in range(0, 50, 10)])


def _forecast(network, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return network(WindowBatch(insample_y=Tensor(x), insample_mask=Tensor(np.ones_like(x)))).data


@pytest.fixture
def network():
    rng.seed(0)
    return NLinear(h=H, input_size=L)._build_network().to_dtype(np.float64)


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert NLinear(h=H, input_size=L).num_parameters() == 300


def test_forecast_is_linear_in_the_window_minus_its_last_value(network, windows: np.ndarray) -> None:
    last = windows[:, -1:]
    expected = (windows - last) @ network.linear.weight.data.T + network.linear.bias.data + last
    forecast = _forecast(network, windows)
    assert forecast.shape == (5, H, 1)
    np.testing.assert_allclose(forecast[..., 0], expected)


def test_shifting_the_level_shifts_the_forecast(network, windows: np.ndarray) -> None:
    np.testing.assert_allclose(_forecast(network, windows + 250.0), _forecast(network, windows) + 250.0)
