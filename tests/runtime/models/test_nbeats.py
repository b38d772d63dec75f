"""NBEATS-specific checks: parameter count, the fixed trend/Fourier bases, doubly residual stacking."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models._theta_mlp import Activation, ThetaMLP
from modreg.runtime.models.nbeats import NBEATS, seasonality_basis, trend_basis

if TYPE_CHECKING:
    from conftest import Agree

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 24


@pytest.fixture(scope="module")
def batch() -> WindowBatch:
    """Eight real AirPassengers windows of length L, scaled to about unit size."""
    y = read_series_csv(DATA / "air_passengers.csv").y[0] / 100.0
    windows = np.stack([y[i : i + L] for i in range(0, 80, 10)]).astype(np.float32)
    return WindowBatch(insample_y=Tensor(windows), insample_mask=Tensor(np.ones_like(windows)))


def _network(**params):
    rng.seed(0)
    return NBEATS(h=H, input_size=L, **params)._build_network()


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert NBEATS(h=H, input_size=L).num_parameters() == 2_447_322
    # 900 of them are the fixed bases: trend 3 x (24 + 12), seasonality 22 x (24 + 12).
    trainable = sum(p.size for p in _network().parameters() if p.requires_grad)
    assert trainable == 2_447_322 - 900


def test_polynomial_trend_basis_rows_are_powers_of_relative_time() -> None:
    basis = trend_basis(L, 2)
    assert basis.shape == (3, L)
    t = np.arange(L) / L
    np.testing.assert_allclose(basis, np.stack([np.ones(L), t, t**2]))


@pytest.mark.parametrize("name", ["legendre", "polynomial", "changepoint", "piecewise_linear", "linear_hat",
                                  "spline", "chebyshev"])
def test_every_trend_basis_has_n_basis_plus_one_rows(name: str) -> None:
    assert trend_basis(L, 4, name).shape == (5, L)
    assert np.isfinite(trend_basis(H, 4, name)).all()


def test_spline_and_hat_bases_are_partitions_of_unity() -> None:
    for name in ("spline", "linear_hat"):
        basis = trend_basis(L, 5, name)
        np.testing.assert_allclose(basis.sum(axis=0), 1.0, atol=1e-12)
        assert (basis >= 0).all()


def test_fourier_basis_shapes_and_frequencies() -> None:
    backcast, forecast = seasonality_basis(2, L, H)
    # frequencies 0, 1, 1.5, ..., 5.5 cycles per h steps: 11 of them, as cos and sin rows
    assert backcast.shape == (22, L) and forecast.shape == (22, H)
    np.testing.assert_allclose(forecast[0], 1.0)  # cos of frequency 0
    np.testing.assert_allclose(forecast[11], 0.0, atol=1e-12)  # sin of frequency 0
    t = np.arange(H) / H
    np.testing.assert_allclose(forecast[1], np.cos(2 * np.pi * t))  # one cycle over the horizon
    np.testing.assert_allclose(backcast[12], np.sin(-2 * np.pi * np.arange(L) / H))  # read backwards


def test_basis_templates_are_saved_but_never_trained() -> None:
    data = read_series_csv(DATA / "air_passengers.csv")
    model = NBEATS(h=H, input_size=L, mlp_units=((16, 16),), max_steps=3, windows_batch_size=32).fit(data)
    state = model.network.state_dict()
    np.testing.assert_allclose(state["blocks.1.basis.backcast_basis"], trend_basis(L, 2), rtol=1e-6)
    np.testing.assert_allclose(state["blocks.2.basis.forecast_basis"], seasonality_basis(2, L, H)[1], atol=1e-6)


def test_interpretable_components_sum_to_the_forecast(batch: WindowBatch) -> None:
    network = _network()
    with no_grad():
        parts = network.decompose(batch).data  # (B, level + 3 blocks, h, 1)
        forecast = network(batch).data
    assert parts.shape == (8, 4, H, 1)
    np.testing.assert_allclose(parts.sum(axis=1), forecast, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(parts[:, 0, :, 0], np.repeat(batch.insample_y.data[:, -1:], H, axis=1))
    t = np.arange(H) / H
    trend, seasonal = parts[:, 2, :, 0], parts[:, 3, :, 0]
    for curve in trend:  # the trend stack's forecast is a quadratic in t
        np.testing.assert_allclose(np.polyval(np.polyfit(t, curve, 2), t), curve, atol=1e-4)
    basis = seasonality_basis(2, L, H)[1]
    coefficients = np.linalg.lstsq(basis.T, seasonal.T, rcond=None)[0]
    np.testing.assert_allclose(basis.T @ coefficients, seasonal.T, atol=1e-4)


def test_forecast_starts_at_the_last_value_and_backcasts_are_removed(batch: WindowBatch) -> None:
    network = _network()
    for block in network.blocks:
        block.layers.output.weight.data[:] = 0.0
        block.layers.output.bias.data[:] = 0.0
    with no_grad():
        forecast = network(batch).data[..., 0]
    np.testing.assert_allclose(forecast, np.repeat(batch.insample_y.data[:, -1:], H, axis=1))


class _FixedTheta(nn.Module):
    """Stands in for a block's MLP: records its input and returns a constant theta."""

    def __init__(self, theta: np.ndarray) -> None:
        super().__init__()
        self.theta, self.inputs = theta, []

    def forward(self, x: Tensor, skip: int = 0) -> Tensor:
        self.inputs.append(x.data.copy())
        theta = self.theta[skip:]
        return Tensor(np.broadcast_to(theta, (len(x), len(theta))).astype(x.dtype))


def test_blocks_read_the_window_backwards_and_remove_backcasts(batch: WindowBatch) -> None:
    network = _network(stack_types=("identity", "identity"), n_blocks=(1, 1))
    theta = np.concatenate([np.full(L, 0.5), np.arange(H)])  # backcast 0.5, forecast 0..h-1
    first, second = _FixedTheta(theta), _FixedTheta(np.zeros(L + H))
    network.blocks[0].layers, network.blocks[1].layers = first, second
    with no_grad():
        forecast = network(batch).data[..., 0]
    y = batch.insample_y.data
    np.testing.assert_allclose(first.inputs[0], y[:, ::-1])
    np.testing.assert_allclose(second.inputs[0], y[:, ::-1] - 0.5, rtol=1e-6)
    np.testing.assert_allclose(forecast, y[:, -1:] + np.arange(H), rtol=1e-6)


def test_shared_weights_reuse_one_block_per_stack() -> None:
    single = NBEATS(h=H, input_size=L).num_parameters()
    shared = _network(n_blocks=(3, 2, 2), shared_weights=True)
    assert shared.num_parameters() == single and shared.order == (0, 0, 0, 1, 1, 2, 2)
    assert NBEATS(h=H, input_size=L, n_blocks=(2, 1, 1)).num_parameters() > single


def test_multiple_outputs_expand_every_basis() -> None:
    network = NBEATS(h=H, input_size=L, loss="mqloss", mlp_units=((8, 8),))._build_network()
    window = np.linspace(1, 2, 2 * L, dtype=np.float32).reshape(2, L)
    out = network(WindowBatch(insample_y=Tensor(window), insample_mask=Tensor(np.ones_like(window))))
    assert out.shape[:2] == (2, H) and out.shape[2] > 1


@pytest.mark.parametrize(("name", "expected"), [
    ("ReLU", lambda x: np.maximum(x, 0)),
    ("LeakyReLU", lambda x: np.where(x > 0, x, 0.01 * x)),
    ("PReLU", lambda x: np.where(x > 0, x, 0.25 * x)),
    ("SELU", lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    ("Softplus", lambda x: np.log1p(np.exp(x))),
    ("Sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("Tanh", np.tanh),
])
def test_activations_match_pytorch_definitions(name: str, expected) -> None:
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(Activation(name)(Tensor(x)).data, expected(x), rtol=1e-6, atol=1e-7)


def test_prelu_adds_one_learned_slope_per_block() -> None:
    assert NBEATS(h=H, input_size=L, activation="PReLU").num_parameters() == 2_447_322 + 3


def test_deprecated_n_polynomials_sets_the_trend_degree() -> None:
    with pytest.warns(DeprecationWarning, match="n_polynomials"):
        model = NBEATS(h=H, input_size=L, n_polynomials=3)
    rng.seed(0)
    assert model._build_network().blocks[1].basis.forecast_basis.shape == (4, H)


@pytest.mark.parametrize(("params", "message"), [
    ({"h": 1}, "h > 1"),
    ({"n_blocks": (1, 1)}, "one n_blocks entry per stack"),
    ({"basis": "spline"}, "n_basis >= 3"),
])
def test_bad_architectures_are_usage_errors(params: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        NBEATS(**{"h": H, "input_size": L, **params})


def test_the_first_two_layers_run_composed_with_the_same_values_and_gradients() -> None:
    rng.seed(3)
    mlp = ThetaMLP(6, 5, ((16, 16), (16, 16)), "ReLU", 0.0).to_dtype(np.float64)
    x = Tensor(np.random.default_rng(4).normal(size=(40, 6)))  # a batch wider than the input: composed

    def layer_by_layer() -> Tensor:
        h = mlp.hidden[0](mlp.input(x))
        return mlp.output(mlp.hidden[1](h.relu()).relu())

    results = []
    for run in (mlp, layer_by_layer):
        mlp.zero_grad()
        out = run(x) if run is mlp else run()
        (out * out).sum().backward()
        results.append((out.data, [p.grad.copy() for p in mlp.parameters()]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    for composed, plain in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(composed, plain, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("shared_weights", [False, True])
def test_the_last_block_computes_no_backcast_with_the_same_forecast_and_gradients(
        batch: WindowBatch, shared_weights: bool, same_forecast_and_gradients: Agree) -> None:
    network = _network(n_blocks=(1, 1, 2), mlp_units=((16, 16),), shared_weights=shared_weights).to_dtype(np.float64)
    windows = WindowBatch(insample_y=Tensor(batch.insample_y.data.astype(np.float64)),
                          insample_mask=Tensor(batch.insample_mask.data.astype(np.float64)))

    def every_backcast() -> Tensor:  # neuralforecast's loop: the last block's backcast is computed, then unused
        residuals, forecast = windows.insample_y.flip(1), windows.insample_y[:, -1:].unsqueeze(-1)
        for index in network.order:
            backcast, part = network.blocks[index](residuals)
            residuals, forecast = residuals - backcast, forecast + part
        return forecast

    same_forecast_and_gradients(network, lambda: network(windows), every_backcast)
    last = network.blocks[network.order[-1]].layers.output.weight.grad
    size = network.blocks[network.order[-1]].basis.backcast_width()
    assert not shared_weights or np.any(last[:size] != 0)  # shared: earlier positions train those rows
    assert shared_weights or not np.any(last[:size])
