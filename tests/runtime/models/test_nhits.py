"""NHITS-specific checks: parameter count, multi-rate pooling, knot interpolation, exogenous inputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, interpolate_linear, no_grad
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.nhits import NHITS, avg_pool_matrix, interpolation_matrix

if TYPE_CHECKING:
    from conftest import Agree

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 24


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    """AirPassengers, scaled to about unit size."""
    return read_series_csv(DATA / "air_passengers.csv").y[0] / 100.0


def _batch(series: np.ndarray, length: int = L, **exog: np.ndarray) -> WindowBatch:
    windows = np.stack([series[i : i + length] for i in range(0, 60, 10)]).astype(np.float32)
    extras = {k: Tensor(v.astype(np.float32)) for k, v in exog.items()}
    return WindowBatch(insample_y=Tensor(windows), insample_mask=Tensor(np.ones_like(windows)), **extras)


def _network(input_size: int = L, **params):
    rng.seed(0)
    return NHITS(h=H, input_size=input_size, **params)._build_network()


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert NHITS(h=H, input_size=L).num_parameters() == 2_437_725


def test_stacks_pool_their_input_and_emit_downsampled_knots() -> None:
    network = _network()
    # pooled input ceil(24 / k) for k = 2, 2, 1; theta = backcast 24 + max(12 // r, 1) knots for r = 4, 2, 1
    assert [b.layers.input.in_features for b in network.blocks] == [12, 12, 24]
    assert [b.layers.output.out_features for b in network.blocks] == [24 + 3, 24 + 6, 24 + 12]
    coarse = _network(n_freq_downsample=(24, 2, 1))
    assert coarse.blocks[0].basis.n_knots == 1  # never fewer than one knot


def test_max_pooling_uses_ceil_mode_on_odd_windows(series: np.ndarray) -> None:
    network = _network(input_size=25)
    assert network.blocks[0].layers.input.in_features == 13
    x = Tensor(series[:25].reshape(1, 1, 25).astype(np.float32))
    pooled = network.blocks[0].pooling(x).data[0, 0]
    expected = [max(series[i : i + 2]) for i in range(0, 24, 2)] + [series[24]]
    np.testing.assert_allclose(pooled, expected, rtol=1e-6)


def test_average_pooling_averages_the_points_each_window_covers() -> None:
    matrix = avg_pool_matrix(5, 2)
    np.testing.assert_allclose(np.arange(5.0) @ matrix, [0.5, 2.5, 4.0])
    network = _network(pooling_mode="AvgPool1d")
    x = Tensor(np.arange(24, dtype=np.float32).reshape(1, 1, 24))
    np.testing.assert_allclose(network.blocks[0].pooling(x).data[0, 0], np.arange(12) * 2 + 0.5)


def test_linear_interpolation_follows_align_corners_false() -> None:
    knots = np.array([1.0, 4.0, 2.0])
    source = np.maximum((np.arange(H) + 0.5) * 3 / H - 0.5, 0)  # PyTorch's source coordinates
    np.testing.assert_allclose(knots @ interpolation_matrix(3, H, "linear"), np.interp(source, [0, 1, 2], knots))
    values = np.random.default_rng(0).normal(size=(2, 1, 6)).astype(np.float32)
    np.testing.assert_allclose(values @ interpolation_matrix(6, H, "linear"),
                               interpolate_linear(Tensor(values), H).data, rtol=1e-6, atol=1e-7)


def test_nearest_interpolation_repeats_each_knot() -> None:
    np.testing.assert_allclose(np.array([1.0, 4.0, 2.0]) @ interpolation_matrix(3, H, "nearest"),
                               np.repeat([1.0, 4.0, 2.0], 4))


@pytest.mark.parametrize("mode", ["linear", "nearest", "cubic"])
def test_interpolations_keep_constants_and_identity(mode: str) -> None:
    for n_knots in (1, 3, 6, H):
        np.testing.assert_allclose(interpolation_matrix(n_knots, H, mode).sum(axis=0), 1.0)
    np.testing.assert_allclose(interpolation_matrix(H, H, mode), np.eye(H), atol=1e-12)


def test_cubic_interpolation_uses_pytorch_bicubic_weights() -> None:
    # output step 1 of 3 knots -> 6 steps: source 0.25, taps -1 (clamped to 0), 0, 1, 2
    weights = interpolation_matrix(3, 6, "cubic")[:, 1]
    t, a = 0.25, -0.75
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1  # noqa: E731
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # noqa: E731
    np.testing.assert_allclose(weights, [far(t + 1) + near(t), near(1 - t), far(2 - t)])


def test_forecast_shape_and_level_start(series: np.ndarray) -> None:
    network = _network()
    for block in network.blocks:
        block.layers.output.weight.data[:] = 0.0
        block.layers.output.bias.data[:] = 0.0
    batch = _batch(series)
    with no_grad():
        forecast = network(batch).data
    assert forecast.shape == (6, H, 1)
    np.testing.assert_allclose(forecast[..., 0], np.repeat(batch.insample_y.data[:, -1:], H, axis=1))


def test_exogenous_inputs_are_pooled_and_concatenated(series: np.ndarray) -> None:
    params = {"hist_exog_list": ("a", "b"), "futr_exog_list": ("c",), "stat_exog_list": ("s",)}
    network = _network(**params)
    # ceil(24/2) * (1 + 2 hist) + ceil((24 + 12)/2) * 1 futr + 1 static, then 24 * 3 + 36 * 1 + 1 unpooled
    assert [b.layers.input.in_features for b in network.blocks] == [12 * 3 + 18 + 1, 12 * 3 + 18 + 1, 24 * 3 + 36 + 1]
    noise = np.random.default_rng(1)
    batch = _batch(series, hist_exog=noise.normal(size=(6, L, 2)), futr_exog=noise.normal(size=(6, L + H, 1)),
                   stat_exog=noise.normal(size=(6, 1)))
    with no_grad():
        assert network(batch).shape == (6, H, 1)


def test_exclude_insample_y_ignores_the_target(series: np.ndarray) -> None:
    network = _network(hist_exog_list=("a",), exclude_insample_y=True)
    exog = np.random.default_rng(2).normal(size=(6, L, 1))
    with no_grad():
        one = network(_batch(series, hist_exog=exog)).data
        other = network(_batch(series[::-1].copy(), hist_exog=exog)).data
    np.testing.assert_allclose(one, other)


@pytest.mark.parametrize(("params", "message"), [
    ({"n_pool_kernel_size": (2, 2)}, "one n_pool_kernel_size entry per stack"),
    ({"n_freq_downsample": (4, 2, 1, 1)}, "one n_freq_downsample entry per stack"),
    ({"n_pool_kernel_size": (32, 2, 1)}, "longer than input_size"),
])
def test_bad_architectures_are_usage_errors(params: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        NHITS(**{"h": H, "input_size": L, **params})


def test_the_last_block_computes_no_backcast_with_the_same_forecast_and_gradients(
        series: np.ndarray, same_forecast_and_gradients: Agree) -> None:
    network = _network(mlp_units=((16, 16),), interpolation_mode="cubic").to_dtype(np.float64)
    batch = _batch(series.astype(np.float64))
    batch = WindowBatch(insample_y=Tensor(batch.insample_y.data.astype(np.float64)),
                        insample_mask=Tensor(batch.insample_mask.data.astype(np.float64)))

    def every_backcast() -> Tensor:  # neuralforecast's loop: the last block's backcast is computed, then unused
        residuals, forecast = batch.insample_y.flip(1), batch.insample_y[:, -1:].unsqueeze(-1)
        for block in network.blocks:
            backcast, part = block(residuals, batch)
            residuals, forecast = residuals - backcast, forecast + part
        return forecast

    same_forecast_and_gradients(network, lambda: network(batch), every_backcast)
    assert not np.any(network.blocks[-1].layers.output.weight.grad[:L])  # the backcast rows: zero, as in neuralforecast
