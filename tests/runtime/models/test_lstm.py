"""LSTM-specific checks: neuralforecast's parameter count, the encoder, PyTorch's proj_size rollout."""

from __future__ import annotations

import numpy as np

from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.lstm import LSTM, _LSTMEncoder

H, L = 12, 24


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _projected_reference(x: np.ndarray, state: dict[str, np.ndarray], layers: int, hidden: int) -> np.ndarray:
    """PyTorch's LSTM with proj_size, written out in numpy: h_t = W_hr (o_t * tanh(c_t))."""
    seq = x.transpose(1, 0, 2)
    for k in range(layers):
        w_hr = state[f"weight_hr_l{k}"]
        h, c, outs = np.zeros((x.shape[0], w_hr.shape[0])), np.zeros((x.shape[0], hidden)), []
        for x_t in seq:
            z = (x_t @ state[f"weight_ih_l{k}"].T + state[f"bias_ih_l{k}"] + h @ state[f"weight_hh_l{k}"].T
                 + state[f"bias_hh_l{k}"])
            i, f, g, o = _sigmoid(z[:, :hidden]), _sigmoid(z[:, hidden:2 * hidden]), np.tanh(
                z[:, 2 * hidden:3 * hidden]), _sigmoid(z[:, 3 * hidden:])
            c = f * c + i * g
            h = (o * np.tanh(c)) @ w_hr.T
            outs.append(h)
        seq = np.stack(outs)
    return seq.transpose(1, 0, 2)


def _network(**params):
    rng.seed(0)
    return LSTM(h=H, input_size=L, **params)._build_network().to_dtype(np.float64).eval()


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert LSTM(h=H, input_size=L).num_parameters() == 215_809


def test_input_size_minus_one_means_three_horizons() -> None:
    model = LSTM(h=H)
    assert model.input_size == 3 * H and model.get_params()["input_size"] == -1
    assert model._build_network().hist_encoder.weight_ih_l0.shape == (512, 1)


def test_encoder_equals_the_reference_lstm_layer() -> None:
    encoder = _network().hist_encoder
    reference = nn.LSTM(1, 128, num_layers=2).to_dtype(np.float64)
    reference.load_state_dict(encoder.state_dict())
    x = Tensor(np.random.default_rng(1).standard_normal((4, L, 1)))
    np.testing.assert_allclose(encoder(x)[0].data, reference(x)[0].data, atol=1e-12)


def test_encoder_without_bias_has_no_bias_parameters() -> None:
    assert LSTM(h=H, input_size=L, encoder_bias=False).num_parameters() == 215_809 - 2 * 2 * 512


def test_recurrent_mode_uses_pytorchs_projection_instead_of_a_decoder() -> None:
    network = _network(recurrent=True)
    state = network.hist_encoder.state_dict()
    assert state["weight_hr_l0"].shape == (1, 128) and state["weight_hh_l1"].shape == (512, 1)
    assert network.proj is None and network.num_parameters() == 2 * (512 + 512 + 1024 + 128)


def test_projected_encoder_matches_the_numpy_reference_and_its_gradients() -> None:
    rng.seed(3)
    encoder = _LSTMEncoder(2, 5, 2, True, 0.0, proj_size=2).to_dtype(np.float64)
    x = np.random.default_rng(2).standard_normal((3, 6, 2))
    expected = _projected_reference(x, encoder.state_dict(), layers=2, hidden=5)
    np.testing.assert_allclose(encoder(Tensor(x))[0].data, expected, atol=1e-12)
    check_grads(lambda t: encoder(t)[0], [x])


def test_state_carries_over_between_calls() -> None:
    encoder = _network(recurrent=True).hist_encoder
    x = Tensor(np.random.default_rng(4).standard_normal((2, 9, 1)))
    whole, _ = encoder(x)
    head, state = encoder(x[:, :5])
    tail, _ = encoder(x[:, 5:], state)
    np.testing.assert_allclose(np.concatenate([head.data, tail.data], axis=1), whole.data, atol=1e-12)


def test_rollout_equals_rerunning_the_encoder_on_its_own_predictions() -> None:
    network = _network(recurrent=True)
    y = np.random.default_rng(5).standard_normal((3, L + 1))
    with no_grad():
        forecast = network(WindowBatch(Tensor(y), Tensor(np.ones_like(y)))).data[:, :, 0]
        network.train()
        for k in (1, H - 1):
            extended = np.concatenate([y, forecast[:, :k]], axis=1)
            step = network(WindowBatch(Tensor(extended), Tensor(np.ones_like(extended)))).data[:, 0, 0]
            np.testing.assert_allclose(step, forecast[:, k], atol=1e-10)
