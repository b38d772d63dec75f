"""RNN, LSTM and GRU layers: shapes, states, PyTorch's equations, and learning a toy task."""

from __future__ import annotations

import numpy as np
import pytest

from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor

_R = np.random.default_rng(11)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_output_and_state_shapes(cls: type) -> None:
    layer = cls(3, 5, num_layers=2, dropout=0.2)
    out, state = layer(Tensor(_R.standard_normal((4, 7, 3)).astype(np.float32)))
    assert out.shape == (4, 7, 5) and out.dtype == np.float32
    states = state if isinstance(state, tuple) else (state,)
    assert all(s.shape == (2, 4, 5) for s in states)
    np.testing.assert_array_equal(states[0].data[-1], out.data[:, -1])
    assert list(layer.state_dict())[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def test_lstm_follows_pytorch_equations_with_initial_state() -> None:
    lstm = nn.LSTM(2, 3).to_dtype(np.float64)
    x, h0, c0 = _R.standard_normal((2, 4, 2)), _R.standard_normal((1, 2, 3)), _R.standard_normal((1, 2, 3))
    out, (hn, cn) = lstm(Tensor(x), (Tensor(h0), Tensor(c0)))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h, c = h0[0], c0[0]
    for t in range(4):
        z = x[:, t] @ lstm.weight_ih_l0.data.T + lstm.bias_ih_l0.data + h @ lstm.weight_hh_l0.data.T + lstm.bias_hh_l0.data
        i, f, g, o = sig(z[:, :3]), sig(z[:, 3:6]), np.tanh(z[:, 6:9]), sig(z[:, 9:])
        c = f * c + i * g
        h = o * np.tanh(c)
        np.testing.assert_allclose(out.data[:, t], h, atol=1e-12)
    np.testing.assert_allclose(cn.data[0], c, atol=1e-12)
    np.testing.assert_allclose(hn.data[0], h, atol=1e-12)


def test_gradients_reach_every_parameter_and_the_initial_state() -> None:
    gru = nn.GRU(2, 4, num_layers=2)
    h0 = Tensor(np.zeros((2, 3, 4), np.float32), requires_grad=True)
    out, hn = gru(Tensor(_R.standard_normal((3, 6, 2)).astype(np.float32)), h0)
    (out.sum() + hn.sum()).backward()
    assert all(p.grad is not None and np.any(p.grad != 0) for p in gru.parameters())
    assert h0.grad is not None and h0.grad.shape == (2, 3, 4)


def test_relu_rnn_is_non_negative() -> None:
    out, _ = nn.RNN(2, 6, nonlinearity="relu")(Tensor(_R.standard_normal((2, 5, 2))))
    assert out.data.min() >= 0.0
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(2, 6, nonlinearity="gelu")


class _Forecaster(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, 16)
        self.head = nn.Linear(16, 1)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def test_a_tiny_lstm_learns_the_next_value_of_a_sine() -> None:
    rng.seed(0)
    model = _Forecaster()
    starts = _R.uniform(0, 2 * np.pi, size=64)
    series = np.sin(starts[:, None] + 0.4 * np.arange(13)[None, :]).astype(np.float32)
    x, y = Tensor(series[:, :12, None]), series[:, 12:]
    params = model.parameters()
    first = None
    m = [np.zeros_like(p.data) for p in params]
    v = [np.zeros_like(p.data) for p in params]
    for step in range(1, 151):  # plain Adam, written out to keep the test self-contained
        loss = ((model(x) - y) ** 2).mean()
        first = loss.item() if first is None else first
        model.zero_grad()
        loss.backward()
        for p, mi, vi in zip(params, m, v, strict=True):
            mi[...] = 0.9 * mi + 0.1 * p.grad
            vi[...] = 0.999 * vi + 0.001 * p.grad**2
            p.data -= 0.02 * (mi / (1 - 0.9**step)) / (np.sqrt(vi / (1 - 0.999**step)) + 1e-8)
    assert loss.item() < 0.01 < first
