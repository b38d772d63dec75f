"""Recurrent layers RNN, LSTM and GRU: multi-layer, batch-first, PyTorch's parameters and names.

Each layer `k` has `weight_ih_l{k}` (G*H, F), `weight_hh_l{k}` (G*H, H), `bias_ih_l{k}` and
`bias_hh_l{k}` (G*H,), all drawn from U(-1/sqrt(H), 1/sqrt(H)), so state dicts and parameter
counts equal PyTorch's. Each layer, its input projection and its recurrence, is one fused op
(`lstm_scan`, `gru_scan`, `rnn_scan`) with hand-written BPTT.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modreg.runtime.autograd.ops_nn import dropout
from modreg.runtime.autograd.ops_recurrent import gru_scan, lstm_scan, rnn_scan
from modreg.runtime.autograd.ops_shape import stack
from modreg.runtime.autograd.tensor import Tensor
from modreg.runtime.nn import init
from modreg.runtime.nn.module import Module, Parameter

__all__ = ["GRU", "LSTM", "RNN"]

_Pair = tuple[Tensor, Tensor]


class _Recurrent(Module):
    """Shared construction and layer stacking; subclasses define `_gates` and `_layer`."""

    _gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.dropout = num_layers, dropout
        bound = init.fan_in_bound(hidden_size)
        rows = self._gates * hidden_size
        for k in range(num_layers):
            fan = input_size if k == 0 else hidden_size
            setattr(self, f"weight_ih_l{k}", Parameter(init.uniform((rows, fan), bound)))
            setattr(self, f"weight_hh_l{k}", Parameter(init.uniform((rows, hidden_size), bound)))
            setattr(self, f"bias_ih_l{k}", Parameter(init.uniform((rows,), bound)))
            setattr(self, f"bias_hh_l{k}", Parameter(init.uniform((rows,), bound)))

    def _weights(self, k: int) -> tuple[Parameter, Parameter, Parameter, Parameter]:
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        w_ih, w_hh, b_ih, b_hh = (getattr(self, f"{n}_l{k}") for n in names)
        return w_ih, w_hh, b_ih, b_hh

    def _zeros(self, x: Tensor) -> Tensor:
        return Tensor(np.zeros((self.num_layers, x.shape[0], self.hidden_size), dtype=x.dtype))

    def _run(self, x: Tensor, states: list[Any]) -> tuple[Tensor, list[Any]]:
        seq = x.transpose(1, 0, 2)  # (B, T, F) -> time-major (T, B, F)
        finals = []
        for k in range(self.num_layers):
            seq, final = self._layer(k, seq, states[k])
            finals.append(final)
            if k < self.num_layers - 1:
                seq = dropout(seq, self.dropout, self.training)
        return seq.transpose(1, 0, 2), finals  # (T, B, H) -> (B, T, H)

    def _layer(self, k: int, seq: Tensor, state: Any) -> tuple[Tensor, Any]:
        raise NotImplementedError


class RNN(_Recurrent):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Args:
        input_size: F. hidden_size: H. num_layers: stacked layers.
        nonlinearity: "tanh" or "relu". dropout: between layers, while training.

    forward(x (B, T, F), h0 (num_layers, B, H) | None) -> (output (B, T, H), h_n (num_layers, B, H)).
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
        dropout: float = 0.0,
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, dropout)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h0 = self._zeros(x) if h0 is None else h0
        out, finals = self._run(x, [h0[k] for k in range(self.num_layers)])
        return out, stack(finals)

    def _layer(self, k: int, seq: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        w_ih, w_hh, b_ih, b_hh = self._weights(k)
        hs = rnn_scan(seq, state, w_hh, self.nonlinearity, w_ih=w_ih, bias=b_ih + b_hh)
        return hs, hs[-1]


class LSTM(_Recurrent):
    """Long short-term memory, gates i, f, g, o as in PyTorch.

    Args:
        input_size: F. hidden_size: H. num_layers: stacked layers. dropout: between layers.

    forward(x (B, T, F), (h0, c0) each (num_layers, B, H) | None)
        -> (output (B, T, H), (h_n, c_n) each (num_layers, B, H)).

    References:
        Hochreiter, S., Schmidhuber, J. (1997). "Long Short-Term Memory." Neural Computation 9(8).
    """

    _gates = 4

    def forward(self, x: Tensor, h0: _Pair | None = None) -> tuple[Tensor, _Pair]:
        h, c = (self._zeros(x), self._zeros(x)) if h0 is None else h0
        out, finals = self._run(x, [(h[k], c[k]) for k in range(self.num_layers)])
        return out, (stack([f[0] for f in finals]), stack([f[1] for f in finals]))

    def _layer(self, k: int, seq: Tensor, state: _Pair) -> tuple[Tensor, _Pair]:
        w_ih, w_hh, b_ih, b_hh = self._weights(k)
        hs, c_n = lstm_scan(seq, state[0], state[1], w_hh, w_ih=w_ih, bias=b_ih + b_hh)  # (T, B, H), (B, H)
        return hs, (hs[-1], c_n)


class GRU(_Recurrent):
    """Gated recurrent unit, gates r, z, n as in PyTorch (b_hn inside the reset product).

    Args:
        input_size: F. hidden_size: H. num_layers: stacked layers. dropout: between layers.

    forward(x (B, T, F), h0 (num_layers, B, H) | None) -> (output (B, T, H), h_n (num_layers, B, H)).

    References:
        Cho, K. et al. (2014). "Learning Phrase Representations using RNN Encoder-Decoder for
        Statistical Machine Translation." EMNLP. arXiv:1406.1078.
    """

    _gates = 3

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h0 = self._zeros(x) if h0 is None else h0
        out, finals = self._run(x, [h0[k] for k in range(self.num_layers)])
        return out, stack(finals)

    def _layer(self, k: int, seq: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        w_ih, w_hh, b_ih, b_hh = self._weights(k)
        hs = gru_scan(seq, state, w_hh, b_hh, w_ih=w_ih, b_ih=b_ih)
        return hs, hs[-1]
