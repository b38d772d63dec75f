"""Fused recurrences: a whole LSTM/GRU/Elman layer over a sequence is one op with hand-written BPTT.

Each op takes the layer's input x (T, B, F) with its input weights and biases and does the
input projection itself, one product over all time steps, so each step costs one (b, H) @
(H, H) product per gate plus a few elementwise passes, and backpropagation through time runs
in one loop instead of a tape of thousands of small nodes. Without `w_ih`, x is the
projection already (F = G). Everything is time-major, with PyTorch's gate order (LSTM i, f,
g, o; GRU r, z, n). The batch runs in row blocks, each in its own thread from projection to
weight gradients (`scan_blocks`).

Four things keep a step cheap:
- Every gate of a step is activated by one np.tanh pass: sigmoid(x) = 0.5 tanh(x / 2) + 0.5,
  with the halving folded into the weights and biases once per op (`_gate_affine`).
- The LSTM and GRU blocks are gate-major, (gates, T, b, H): each gate's (b, H) rows of a step
  are contiguous, so its elementwise passes avoid numpy's per-row cost on columns sliced out
  of (b, G) (3 to 4 microseconds a pass for 37 rows), and the recurrent product is one
  batched matmul, (b, H) @ (gates, H, H), one BLAS call per gate.
- Each block keeps its own arrays, and the weight gradients are one product over its steps.
- Backward computes every factor that does not depend on the gradient flowing back through
  time for the whole sequence at once (`coef`), so the loop keeps only the chain itself.
"""

from __future__ import annotations

import numpy as np

from modreg.runtime.autograd.scan_blocks import Blocks, InputProjection, Shares, layer_shares, send, transposed_per_gate
from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["gru_scan", "lstm_scan", "rnn_scan"]


def _gate_affine(sigmoid: tuple[bool, ...], hid: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Per gate column: (scale, offset) with act(x) = scale * tanh(scale * x) + offset.

    sigmoid(x) = 0.5 * tanh(x / 2) + 0.5; tanh gates get scale 1 and offset 0.
    """
    scale = np.repeat(np.array([0.5 if s else 1.0 for s in sigmoid], dtype=dtype), hid)
    return scale, np.where(scale == 0.5, 0.5, 0.0).astype(dtype)


def _times_previous(a: np.ndarray, states: np.ndarray, first: np.ndarray) -> None:
    """a (T, b, H) *= the state before each step: `first` at step 0, then states[t - 1]."""
    a[1:] *= states[:-1]
    a[0] *= first


def _sigmoid_slope(s: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = s * (1 - s) for sigmoid outputs s."""
    return np.subtract(s, np.square(s, out=out), out=out)


def _state_grad(state: Tensor) -> np.ndarray | None:
    """The array the blocks write a state's gradient into, when the state needs one."""
    return np.empty_like(state.data) if state.requires_grad else None


# ----- LSTM -----
def _lstm_forward(acts: np.ndarray, h: np.ndarray, c: np.ndarray, ws: np.ndarray, from_zero: bool,
                  scale: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scan a block in place, gate-major: acts (4, T, b, H) holds the scaled input
    pre-activations and becomes the activated gates; ws (4, H, H) is W_hh^T per gate, scaled;
    scale and offset are (4, 1, 1). Returns hs, cs and tanh(cs), each (T, b, H)."""
    _, steps, size, hid = acts.shape
    hs, cs, tanh_c = (np.empty((steps, size, hid), acts.dtype) for _ in range(3))
    m, ig = np.empty((4, size, hid), acts.dtype), np.empty((size, hid), acts.dtype)
    for t in range(steps):
        z = acts[:, t]  # (4, b, H)
        if t or not from_zero:  # from a zero state, step 0's recurrent product is zero
            z += np.matmul(h, ws, out=m)
        np.tanh(z, out=z)
        z *= scale
        z += offset
        gate_i, gate_f, cell, gate_o = z
        c = np.multiply(gate_f, c, out=cs[t])
        c += np.multiply(gate_i, cell, out=ig)
        np.tanh(c, out=tanh_c[t])
        h = np.multiply(gate_o, tanh_c[t], out=hs[t])
    return hs, cs, tanh_c


def _lstm_backward(g: np.ndarray, dc_last: np.ndarray | None, acts: np.ndarray, cs: np.ndarray,
                   tanh_c: np.ndarray, c0: np.ndarray, w_hh: np.ndarray,
                   need_dh0: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A block's BPTT, gate-major: g (T, b, H) at the hidden states, dc_last (b, H) at the final
    cell state (None: zero), acts (4, T, b, H), w_hh (4, H, H) -> (d pre-activations (4, T, b,
    H), dh0, dc0)."""
    _, steps, size, hid = acts.shape
    gate_i, gate_f, cell, gate_o = acts
    # d(pre-activation) = [dc, dc, dc, dh] * coef, coef = gate slope * what the gate multiplies
    coef = np.empty_like(acts)
    for k, times in ((0, cell), (3, tanh_c)):
        _sigmoid_slope(acts[k], coef[k])
        coef[k] *= times
    _times_previous(_sigmoid_slope(gate_f, coef[1]), cs, c0)
    np.subtract(1.0, np.square(cell, out=coef[2]), out=coef[2])
    coef[2] *= gate_i
    through_h = np.square(tanh_c)  # dc += dh * o * tanh'(c)
    np.subtract(1.0, through_h, out=through_h)
    through_h *= gate_o
    dh, tmp = np.zeros((size, hid), acts.dtype), np.empty((size, hid), acts.dtype)
    dc = np.zeros((size, hid), acts.dtype) if dc_last is None else dc_last.copy()
    back = np.empty((4, size, hid), acts.dtype)
    for t in range(steps - 1, -1, -1):
        dh += g[t]
        dc += np.multiply(dh, through_h[t], out=tmp)
        d = coef[:, t]  # coef becomes d_pre in place
        d[:3] *= dc
        d[3] *= dh
        dc *= gate_f[t]
        if t or need_dh0:  # the product of step 0 only feeds dh0
            np.matmul(d, w_hh, out=back)  # per gate (b, H) @ (H, H), summed
            np.add(back[0], back[1], out=dh)
            dh += back[2]
            dh += back[3]
    return coef, dh, dc


@register_op("lstm_scan")
def lstm_scan(x: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, w_ih: Tensor | None = None,
              bias: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """LSTM over a sequence: x (T, B, F), states (B, H), w_hh (4H, H), w_ih (4H, F), bias (4H,)
    = b_ih + b_hh; the pre-activations are x W_ih^T + bias + h W_hh^T (without w_ih: x + bias).

    Returns the hidden states (T, B, H) and the final cell state c_T (B, H). Blocks run
    gate-major (`InputProjection`). c_T is a second node whose backward hands its gradient to
    the first's, so the cell states of the other steps never travel through the graph.
    """
    steps, batch, hid = x.shape[0], x.shape[1], h0.shape[1]
    scale, offset = _gate_affine((True, True, False, True), hid, x.dtype)
    proj = InputProjection(x, w_ih, bias, scale, gates=4)
    w4 = w_hh.data.reshape(4, hid, hid)  # per gate (H, H)
    gate_scale, gate_offset = scale[::hid].reshape(4, 1, 1), offset[::hid].reshape(4, 1, 1)
    ws = transposed_per_gate(w_hh.data, 4, scale[::hid])  # per gate W^T, scaled
    blocks, from_zero = Blocks(batch, 4 * hid * hid), not h0.data.any()
    out, c_last = blocks.output((steps, batch, hid), x.dtype), np.empty((batch, hid), x.dtype)

    def forward(k: int, rows: slice) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        flat, acts = proj.forward(rows)
        hs, cs, tanh_c = _lstm_forward(acts, h0.data[rows], c0.data[rows], ws, from_zero, gate_scale, gate_offset)
        blocks.place(out, rows, hs)
        c_last[rows] = cs[-1]
        return flat, acts, hs, cs, tanh_c

    saved = blocks.run(forward)
    out = saved[0][2] if out is None else out
    dc_last: list[np.ndarray] = []  # c_T's gradient, handed over by its node's backward

    def backward(g: np.ndarray) -> None:
        proj.start_backward()
        dh0, dc0 = _state_grad(h0), _state_grad(c0)
        dc_n = dc_last.pop() if dc_last else None

        def back(k: int, rows: slice) -> Shares:
            flat, acts, hs, cs, tanh_c = saved[k]
            d_pre, dh, dc = _lstm_backward(g[:, rows], None if dc_n is None else dc_n[rows], acts, cs, tanh_c,
                                           c0.data[rows], w4, dh0 is not None)
            if dh0 is not None:
                dh0[rows] = dh
            if dc0 is not None:
                dc0[rows] = dc
            return layer_shares(proj, d_pre, flat, rows, w_hh, d_pre, hs, h0.data[rows], from_zero)

        shares = blocks.run(back)
        proj.send(shares)
        send(w_hh, shares, "w_hh")
        for state, grad in ((h0, dh0), (c0, dc0)):
            if grad is not None:
                state.accumulate(grad, fresh=True)

    hidden = result(out, tuple(t for t in (x, h0, c0, w_hh, w_ih, bias) if t is not None), backward)

    def cell_backward(g: np.ndarray) -> None:  # runs before hidden's backward (c_T is its child)
        dc_last.append(g)
        hidden.accumulate(np.zeros_like(out), fresh=True)  # so that hidden's backward runs

    return hidden, result(c_last, (hidden,), cell_backward)


# ----- GRU -----
def _gru_forward(acts: np.ndarray, h: np.ndarray, ws: np.ndarray, bs: np.ndarray,
                 from_zero: bool) -> tuple[np.ndarray, np.ndarray]:
    """Scan a block in place, gate-major: acts (3, T, b, H) holds the scaled input
    pre-activations (r, z halved) and becomes the gates r, z, n; ws (3, H, H) and bs (3, 1, H)
    are W_hh^T and b_hh per gate, scaled. Returns hh (T, 3, b, H) = h W_hh^T + b_hh, scaled
    (its n part is needed by r's gradient), and hs (T, b, H)."""
    _, steps, size, hid = acts.shape
    hh, hs = np.empty((steps, 3, size, hid), acts.dtype), np.empty((steps, size, hid), acts.dtype)
    bias = np.ascontiguousarray(np.broadcast_to(bs, (3, size, hid)))  # added to contiguous rows at full speed
    tmp = np.empty((size, hid), acts.dtype)
    for t in range(steps):
        a, m = acts[:, t], hh[t]  # (3, b, H) each
        if t or not from_zero:  # from a zero state, step 0's recurrent product is zero
            np.matmul(h, ws, out=m)
            m += bias
        else:
            np.copyto(m, bias)
        rz = a[:2]
        rz += m[:2]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        n = a[2]
        n += np.multiply(a[0], m[2], out=tmp)
        np.tanh(n, out=n)
        h = np.subtract(h, n, out=hs[t])  # h_t = n + z * (h_{t-1} - n)
        h *= a[1]
        h += n
    return hh, hs


def _gru_backward(g: np.ndarray, acts: np.ndarray, hh_n: np.ndarray, hs: np.ndarray, h0: np.ndarray,
                  w_hh: np.ndarray, need_dh0: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A block's BPTT, gate-major: g (T, b, H), acts (3, T, b, H), hh_n (T, b, H), w_hh (3, H, H)
    -> (d input pre-activations (3, T, b, H), d (h W_hh^T + b_hh) (3, T, b, H), dh0)."""
    _, steps, size, hid = acts.shape
    r, z, n = acts
    # d(pre-activation) = dh * coef: n's through (1 - z) tanh'(n); z's through h_prev - n; r's through n's times hh_n
    coef = np.empty_like(acts)
    through_n = np.square(n, out=coef[2])
    np.subtract(1.0, through_n, out=through_n)
    through_n *= np.subtract(1.0, z, out=coef[1])
    _sigmoid_slope(z, coef[1])
    h_prev_minus_n = np.negative(n)
    h_prev_minus_n[1:] += hs[:-1]
    h_prev_minus_n[0] += h0
    coef[1] *= h_prev_minus_n
    _sigmoid_slope(r, coef[0])
    coef[0] *= through_n
    coef[0] *= hh_n
    d_hh = coef.copy()  # as d_x, n's part times r (the reset gate scales h W_hn^T + b_hn)
    d_hh[2] *= r
    dhs = np.empty((steps, size, hid), acts.dtype)  # the gradient reaching each h_t
    carry, tmp = np.zeros((size, hid), acts.dtype), np.empty((size, hid), acts.dtype)  # from step t + 1
    back = np.empty((3, size, hid), acts.dtype)
    for t in range(steps - 1, -1, -1):
        dh = np.add(g[t], carry, out=dhs[t])
        d = d_hh[:, t]
        d *= dh
        if t or need_dh0:  # step 0's carry is dh0
            np.matmul(d, w_hh, out=back)  # per gate (b, H) @ (H, H), summed below
            np.add(back[0], back[1], out=carry)
            carry += back[2]
            carry += np.multiply(dh, z[t], out=tmp)
    coef *= dhs
    return coef, d_hh, carry


@register_op("gru_scan")
def gru_scan(x: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None = None, w_ih: Tensor | None = None,
             b_ih: Tensor | None = None) -> Tensor:
    """GRU over a sequence: x (T, B, F), h0 (B, H), w_hh (3H, H), b_hh (3H,), w_ih (3H, F), b_ih (3H,);
    the input part of the pre-activations is x W_ih^T + b_ih (without w_ih: x + b_ih).

    Returns the hidden states (T, B, H). Blocks run gate-major (`InputProjection`).
    """
    steps, batch, hid = x.shape[0], x.shape[1], h0.shape[1]
    scale, _ = _gate_affine((True, True, False), hid, x.dtype)
    proj = InputProjection(x, w_ih, b_ih, scale, gates=3)
    w3 = w_hh.data.reshape(3, hid, hid)  # per gate (H, H)
    ws = transposed_per_gate(w_hh.data, 3, scale[::hid])  # per gate W^T, scaled
    bs = (np.zeros(3 * hid, x.dtype) if b_hh is None else b_hh.data * scale).reshape(3, 1, hid)
    blocks, from_zero = Blocks(batch, 3 * hid * hid), not h0.data.any()
    out = blocks.output((steps, batch, hid), x.dtype)

    def forward(k: int, rows: slice) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
        flat, acts = proj.forward(rows)
        hh, hs = _gru_forward(acts, h0.data[rows], ws, bs, from_zero)
        blocks.place(out, rows, hs)
        return flat, acts, hh[:, 2], hs

    saved = blocks.run(forward)
    out = saved[0][3] if out is None else out

    def backward(g: np.ndarray) -> None:
        proj.start_backward()
        dh0 = _state_grad(h0)

        def back(k: int, rows: slice) -> Shares:
            flat, acts, hh_n, hs = saved[k]
            d_x, d_hh, dh = _gru_backward(g[:, rows], acts, hh_n, hs, h0.data[rows], w3, dh0 is not None)
            if dh0 is not None:
                dh0[rows] = dh
            shares = layer_shares(proj, d_x, flat, rows, w_hh, d_hh, hs, h0.data[rows], from_zero)
            if b_hh is not None and b_hh.requires_grad:
                shares["b_hh"] = d_hh.reshape(3, -1, hid).sum(axis=1).reshape(-1)
            return shares

        shares = blocks.run(back)
        proj.send(shares)
        send(w_hh, shares, "w_hh")
        send(b_hh, shares, "b_hh")
        if dh0 is not None:
            h0.accumulate(dh0, fresh=True)

    return result(out, tuple(t for t in (x, h0, w_hh, b_hh, w_ih, b_ih) if t is not None), backward)


# ----- Elman RNN -----
def _rnn_forward(pre: np.ndarray, h: np.ndarray, w_t: np.ndarray, from_zero: bool, nonlinearity: str) -> None:
    """Scan a block in place: pre (T, b, H) holds the input pre-activations and becomes the hidden states."""
    m = np.empty_like(h, shape=pre.shape[1:])
    for t in range(len(pre)):
        z = pre[t]
        if t or not from_zero:  # from a zero state, step 0's recurrent product is zero
            z += np.matmul(h, w_t, out=m)
        if nonlinearity == "tanh":
            np.tanh(z, out=z)
        else:
            np.maximum(z, 0, out=z)
        h = z


def _rnn_backward(g: np.ndarray, hs: np.ndarray, w_hh: np.ndarray, nonlinearity: str,
                  need_dh0: bool) -> tuple[np.ndarray, np.ndarray]:
    """A block's BPTT: g (T, b, H) -> (d pre-activations (T, b, H), dh0)."""
    slope = 1.0 - np.square(hs) if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
    d_pre = np.empty_like(hs)
    dh = np.zeros_like(hs[0])
    for t in range(len(hs) - 1, -1, -1):
        dh = np.add(g[t], dh, out=d_pre[t])
        dh *= slope[t]
        if t or need_dh0:  # the product of step 0 only feeds dh0
            dh = dh @ w_hh
    return d_pre, dh


@register_op("rnn_scan")
def rnn_scan(x: Tensor, h0: Tensor, w_hh: Tensor, nonlinearity: str = "tanh", w_ih: Tensor | None = None,
             bias: Tensor | None = None) -> Tensor:
    """Elman RNN: h_t = act(x_t W_ih^T + bias + h_{t-1} W_hh^T), x (T, B, F), bias = b_ih + b_hh
    (without w_ih, x is the input projection already).

    `nonlinearity` is "tanh" or "relu". Returns the hidden states (T, B, H).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}")
    steps, batch, hid = x.shape[0], x.shape[1], h0.shape[1]
    proj, w_t = InputProjection(x, w_ih, bias), np.ascontiguousarray(w_hh.data.T)  # a C-ordered (H, H)
    blocks, from_zero = Blocks(batch, hid * hid), not h0.data.any()
    out = blocks.output((steps, batch, hid), x.dtype)

    def forward(k: int, rows: slice) -> tuple[np.ndarray | None, np.ndarray]:
        flat, hs = proj.forward(rows)
        _rnn_forward(hs, h0.data[rows], w_t, from_zero, nonlinearity)
        blocks.place(out, rows, hs)
        return flat, hs

    saved = blocks.run(forward)
    out = saved[0][1] if out is None else out

    def backward(g: np.ndarray) -> None:
        proj.start_backward()
        dh0 = _state_grad(h0)

        def back(k: int, rows: slice) -> Shares:
            flat, hs = saved[k]
            d_pre, dh = _rnn_backward(g[:, rows], hs, w_hh.data, nonlinearity, dh0 is not None)
            if dh0 is not None:
                dh0[rows] = dh
            return layer_shares(proj, d_pre, flat, rows, w_hh, d_pre, hs, h0.data[rows], from_zero)

        shares = blocks.run(back)
        proj.send(shares)
        send(w_hh, shares, "w_hh")
        if dh0 is not None:
            h0.accumulate(dh0, fresh=True)

    return result(out, tuple(t for t in (x, h0, w_hh, w_ih, bias) if t is not None), backward)
