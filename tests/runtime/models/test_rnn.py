"""RNN-specific checks: neuralforecast's parameter count and wiring, the Elman encoder, the rollout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.rnn import RNN

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 24


def _batch(steps: int, batch: int = 3, futr: int = 0, seed: int = 0) -> WindowBatch:
    gen = np.random.default_rng(seed)
    y = gen.standard_normal((batch, steps))
    extra = {"futr_exog": Tensor(gen.standard_normal((batch, steps + H, futr)))} if futr else {}
    return WindowBatch(insample_y=Tensor(y), insample_mask=Tensor(np.ones_like(y)), **extra)


def _network(**params):
    rng.seed(0)
    return RNN(h=H, input_size=L, **params)._build_network().to_dtype(np.float64).eval()


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert RNN(h=H, input_size=L).num_parameters() == 66_433


def test_input_size_minus_one_means_three_horizons() -> None:
    model = RNN(h=H)
    assert model.input_size == 3 * H and model.get_params()["input_size"] == -1
    assert model.get_params()["scaler_type"] == "robust" and model.windows_batch_size == 128


def test_state_dict_keys_follow_neuralforecast() -> None:
    keys = set(_network().state_dict())
    assert {"hist_encoder.weight_ih_l0", "hist_encoder.bias_hh_l1", "mlp_decoder.layers.0.weight",
            "mlp_decoder.layers.3.bias"} <= keys
    assert not any("upsample" in k for k in keys)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_encoder_equals_the_reference_elman_layer(activation: str) -> None:
    encoder = _network(encoder_activation=activation).hist_encoder
    reference = nn.RNN(1, 128, num_layers=2, nonlinearity=activation).to_dtype(np.float64)
    reference.load_state_dict(encoder.state_dict())
    x = Tensor(np.random.default_rng(1).standard_normal((4, L, 1)))
    np.testing.assert_allclose(encoder(x)[0].data, reference(x)[0].data, atol=1e-12)


def test_encoder_without_bias_has_no_bias_parameters() -> None:
    assert RNN(h=H, input_size=L, encoder_bias=False).num_parameters() == 66_433 - 4 * 128


def test_horizon_longer_than_the_window_upsamples_hidden_states_over_time() -> None:
    network = RNN(h=H, input_size=8)._build_network()
    assert (network.upsample_sequence.in_features, network.upsample_sequence.out_features) == (8, H)
    assert network.num_parameters() == RNN(h=H, input_size=L).num_parameters() + 8 * H + H


def test_direct_decoder_reads_each_horizon_steps_future_exogenous_only() -> None:
    network = _network(futr_exog_list=("f",))
    assert network.hist_encoder.weight_ih_l0.shape == (128, 2) and network.mlp_decoder.layers[0].in_features == 129
    batch = _batch(L, futr=1)
    changed = batch.futr_exog.data.copy()
    changed[:, L + 5] += 1.0
    with no_grad():
        before = network(batch).data
        after = network(WindowBatch(batch.insample_y, batch.insample_mask, futr_exog=Tensor(changed))).data
    moved = np.abs(after - before).max(axis=(0, 2)) > 0
    assert moved.tolist() == [k == 5 for k in range(H)]


def test_recurrent_mode_projects_every_hidden_state() -> None:
    network = _network(recurrent=True)
    assert network.proj.out_features == 1 and not hasattr(network, "mlp_decoder")
    assert network.num_parameters() == 66_433 - 16_641 + 129


def test_rollout_equals_rerunning_the_encoder_on_its_own_predictions() -> None:
    network = _network(recurrent=True)
    batch = _batch(L + 1)
    with no_grad():
        forecast = network(batch).data[:, :, 0]  # (B, h)
        network.train()
        for k in range(H):
            extended = np.concatenate([batch.insample_y.data, forecast[:, :k]], axis=1)
            step = network(WindowBatch(Tensor(extended), Tensor(np.ones_like(extended)))).data[:, 0, 0]
            np.testing.assert_allclose(step, forecast[:, k], atol=1e-10)


def test_recurrent_mode_fits_and_forecasts_from_a_longer_inference_window() -> None:
    frame = read_series_csv(DATA / "air_passengers.csv")
    model = RNN(h=H, input_size=L, inference_input_size=36, recurrent=True, max_steps=5, windows_batch_size=16)
    forecast = model.fit(frame).predict()
    assert model.context_length == 37 and forecast.point.shape == (1, H)
    assert np.isfinite(forecast.point).all()
