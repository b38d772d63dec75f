"""Fused recurrences: a whole LSTM/GRU/Elman sequence is one op with hand-written BPTT.

The layer computes the input projection of every time step in one matmul beforehand, so each
step here costs one (B, H) @ (H, G) product plus elementwise work, and backpropagation through
time runs in one loop instead of a tape of thousands of small nodes. Everything is time-major:
`xw` is (T, B, G) with PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n).
"""

from __future__ import annotations

import numpy as np

from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["gru_scan", "lstm_scan", "rnn_scan"]


def _sigmoid_(z: np.ndarray) -> None:
    """In-place 1/(1+exp(-z)); exp is the fastest transcendental numpy has (call in errstate)."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    np.reciprocal(z, out=z)


def _tanh_(z: np.ndarray) -> None:
    """In-place tanh(z) = 2*sigmoid(2z) - 1 (faster than np.tanh here)."""
    z *= 2.0
    _sigmoid_(z)
    z *= 2.0
    z -= 1.0


def _previous(states: np.ndarray, first: np.ndarray) -> np.ndarray:
    """(T, B, H) states -> the state before each step, starting from `first`."""
    return np.concatenate([first[None], states[:-1]], axis=0)


# ----- LSTM -----
def _lstm_forward(
    xw: np.ndarray, h: np.ndarray, c: np.ndarray, w_hh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    steps, batch, gates = xw.shape
    hid = gates // 4
    acts = np.empty_like(xw)  # activated gates i, f, g, o
    out = np.empty((steps, batch, 2 * hid), dtype=xw.dtype)  # [h | c] per step
    tanh_c = np.empty((steps, batch, hid), dtype=xw.dtype)
    for t in range(steps):
        z = acts[t]
        np.matmul(h, w_hh.T, out=z)
        z += xw[t]
        z[:, 2 * hid : 3 * hid] *= 2.0  # tanh(x) = 2*sigmoid(2x) - 1: one pass for all gates
        _sigmoid_(z)
        z[:, 2 * hid : 3 * hid] *= 2.0
        z[:, 2 * hid : 3 * hid] -= 1.0
        c = np.multiply(z[:, hid : 2 * hid], c, out=out[t, :, hid:])
        c += z[:, :hid] * z[:, 2 * hid : 3 * hid]
        np.tanh(c, out=tanh_c[t])
        h = np.multiply(z[:, 3 * hid :], tanh_c[t], out=out[t, :, :hid])
    return acts, out, tanh_c


def _lstm_backward(
    g: np.ndarray, acts: np.ndarray, out: np.ndarray, tanh_c: np.ndarray, c0: np.ndarray,
    w_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hid = tanh_c.shape[2]
    c_prev = _previous(out[:, :, hid:], c0)
    d_pre = np.empty_like(acts)
    dh, dc = np.zeros_like(c0), np.zeros_like(c0)
    for t in range(len(acts) - 1, -1, -1):
        i, f, cell, o = (acts[t, :, k * hid : (k + 1) * hid] for k in range(4))
        dh = g[t, :, :hid] + dh
        dc = g[t, :, hid:] + dc
        dc += dh * o * (1.0 - np.square(tanh_c[t]))
        d = d_pre[t]  # d(pre-activation) = d(gate) * gate'
        np.multiply(dc * i, 1.0 - np.square(cell), out=d[:, 2 * hid : 3 * hid])
        np.multiply(dc, cell, out=d[:, :hid])
        np.multiply(dc, c_prev[t], out=d[:, hid : 2 * hid])
        np.multiply(dh, tanh_c[t], out=d[:, 3 * hid :])
        _times_sigmoid_slope(d[:, : 2 * hid], acts[t, :, : 2 * hid])
        _times_sigmoid_slope(d[:, 3 * hid :], o)
        dc *= f
        dh = d @ w_hh
    return d_pre, dh, dc


def _times_sigmoid_slope(d: np.ndarray, s: np.ndarray) -> None:
    """d *= s * (1 - s) in place, s = sigmoid output."""
    d *= s
    d -= d * s


@register_op("lstm_scan")
def lstm_scan(xw: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor) -> Tensor:
    """LSTM over a sequence: xw (T, B, 4H) = x W_ih^T + b_ih + b_hh, states (B, H), w_hh (4H, H).

    Returns (T, B, 2H): the hidden state h_t in [..., :H] and the cell c_t in [..., H:].
    """
    with np.errstate(over="ignore"):
        acts, out, tanh_c = _lstm_forward(xw.data, h0.data, c0.data, w_hh.data)

    def backward(g: np.ndarray) -> None:
        d_pre, dh0, dc0 = _lstm_backward(g, acts, out, tanh_c, c0.data, w_hh.data)
        _accumulate_scan(xw, d_pre, h0, dh0, w_hh, d_pre, out[:, :, : h0.shape[1]])
        if c0.requires_grad:
            c0.accumulate(dc0, fresh=True)

    return result(out, (xw, h0, c0, w_hh), backward)


def _accumulate_scan(
    xw: Tensor, d_xw: np.ndarray, h0: Tensor, dh0: np.ndarray, w_hh: Tensor, d_hh: np.ndarray,
    hs: np.ndarray,
) -> None:
    """Send the gradients every scan shares: inputs, initial state, recurrent weight."""
    if xw.requires_grad:
        xw.accumulate(d_xw)
    if h0.requires_grad:
        h0.accumulate(dh0, fresh=True)
    if w_hh.requires_grad:
        h_prev = _previous(hs, h0.data)
        gw = d_hh.reshape(-1, d_hh.shape[2]).T @ h_prev.reshape(-1, hs.shape[2])
        w_hh.accumulate(gw, fresh=True)


# ----- GRU -----
def _gru_forward(
    xw: np.ndarray, h: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    steps, batch, gates = xw.shape
    hid = gates // 3
    acts = np.empty_like(xw)  # r, z, n
    hh_n = np.empty((steps, batch, hid), dtype=xw.dtype)  # h W_hn^T + b_hn, needed by r's gradient
    hs = np.empty((steps, batch, hid), dtype=xw.dtype)
    for t in range(steps):
        hh = h @ w_hh.T + b_hh
        a = acts[t]
        np.add(xw[t, :, : 2 * hid], hh[:, : 2 * hid], out=a[:, : 2 * hid])
        _sigmoid_(a[:, : 2 * hid])
        hh_n[t] = hh[:, 2 * hid :]
        np.add(xw[t, :, 2 * hid :], a[:, :hid] * hh_n[t], out=a[:, 2 * hid :])
        _tanh_(a[:, 2 * hid :])
        n, z = a[:, 2 * hid :], a[:, hid : 2 * hid]
        h = hs[t] = n + z * (h - n)
    return acts, hh_n, hs


def _gru_backward(
    g: np.ndarray, acts: np.ndarray, hh_n: np.ndarray, hs: np.ndarray, h0: np.ndarray,
    w_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h_prev = _previous(hs, h0)
    d_x, d_hh = np.empty_like(acts), np.empty_like(acts)
    dh = np.zeros_like(h0)
    for t in range(len(acts) - 1, -1, -1):
        r, z, n = np.split(acts[t], 3, axis=1)
        dh = g[t] + dh
        d_n = dh * (1.0 - z) * (1.0 - np.square(n))
        d_r = d_n * hh_n[t] * r * (1.0 - r)
        d_z = dh * (h_prev[t] - n) * z * (1.0 - z)
        d_x[t] = np.concatenate((d_r, d_z, d_n), axis=1)
        d_hh[t] = np.concatenate((d_r, d_z, d_n * r), axis=1)
        dh = dh * z + d_hh[t] @ w_hh
    return d_x, d_hh, dh


@register_op("gru_scan")
def gru_scan(xw: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
    """GRU over a sequence: xw (T, B, 3H) = x W_ih^T + b_ih, h0 (B, H), w_hh (3H, H), b_hh (3H,).

    Returns the hidden states (T, B, H).
    """
    with np.errstate(over="ignore"):
        acts, hh_n, hs = _gru_forward(xw.data, h0.data, w_hh.data, b_hh.data)

    def backward(g: np.ndarray) -> None:
        d_x, d_hh, dh0 = _gru_backward(g, acts, hh_n, hs, h0.data, w_hh.data)
        _accumulate_scan(xw, d_x, h0, dh0, w_hh, d_hh, hs)
        if b_hh.requires_grad:
            b_hh.accumulate(d_hh.sum(axis=(0, 1)), fresh=True)

    return result(hs, (xw, h0, w_hh, b_hh), backward)


# ----- Elman RNN -----
@register_op("rnn_scan")
def rnn_scan(xw: Tensor, h0: Tensor, w_hh: Tensor, nonlinearity: str = "tanh") -> Tensor:
    """Elman RNN: h_t = act(xw_t + h_{t-1} W_hh^T), xw (T, B, H) including both biases.

    `nonlinearity` is "tanh" or "relu". Returns the hidden states (T, B, H).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}")
    hs = np.empty_like(xw.data)
    h = h0.data
    for t in range(len(hs)):
        pre = xw.data[t] + h @ w_hh.data.T
        h = hs[t] = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)

    def backward(g: np.ndarray) -> None:
        slope = 1.0 - np.square(hs) if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
        d_pre = np.empty_like(hs)
        dh = np.zeros_like(h0.data)
        for t in range(len(hs) - 1, -1, -1):
            d_pre[t] = (g[t] + dh) * slope[t]
            dh = d_pre[t] @ w_hh.data
        _accumulate_scan(xw, d_pre, h0, dh, w_hh, d_pre, hs)

    return result(hs, (xw, h0, w_hh), backward)
