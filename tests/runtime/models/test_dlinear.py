"""DLinear-specific checks: parameter count and the edge-padded moving-average decomposition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.dlinear import DLinear, series_decomposition

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 24


@pytest.fixture(scope="module")
def windows() -> np.ndarray:
    """Five real AirPassengers windows of length L."""
    y = read_series_csv(DATA / "air_passengers.csv").y[0]
    return np.stack([y[i : i + L] for i in range(0, 50, 10)])


def _moving_average(x: np.ndarray, kernel: int) -> np.ndarray:
    half = (kernel - 1) // 2
    padded = np.concatenate([np.repeat(x[:1], half), x, np.repeat(x[-1:], half)])
    return np.array([padded[i : i + kernel].mean() for i in range(len(x))])


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert DLinear(h=H, input_size=L).num_parameters() == 600


@pytest.mark.parametrize("kernel", [25, 5, 1])
def test_trend_is_the_edge_padded_moving_average(windows: np.ndarray, kernel: int) -> None:
    seasonal, trend = series_decomposition(Tensor(windows), kernel)
    assert trend.shape == windows.shape
    np.testing.assert_allclose(trend.data, [_moving_average(w, kernel) for w in windows])
    np.testing.assert_allclose(seasonal.data + trend.data, windows)


def test_constant_window_has_no_seasonal_part() -> None:
    seasonal, trend = series_decomposition(Tensor(np.full((2, L), 7.0)), 25)
    np.testing.assert_allclose(trend.data, 7.0)
    np.testing.assert_allclose(seasonal.data, 0.0, atol=1e-12)


def test_forecast_sums_the_trend_and_seasonal_linear_maps(windows: np.ndarray) -> None:
    rng.seed(0)
    network = DLinear(h=H, input_size=L)._build_network().to_dtype(np.float64)
    batch = WindowBatch(insample_y=Tensor(windows), insample_mask=Tensor(np.ones_like(windows)))
    with no_grad():
        forecast = network(batch).data
    trend = np.array([_moving_average(w, 25) for w in windows])
    expected = (trend @ network.linear_trend.weight.data.T + network.linear_trend.bias.data
                + (windows - trend) @ network.linear_season.weight.data.T + network.linear_season.bias.data)
    assert forecast.shape == (5, H, 1)
    np.testing.assert_allclose(forecast[..., 0], expected)


def test_even_window_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="must be odd"):
        DLinear(h=H, input_size=L, moving_avg_window=24)
