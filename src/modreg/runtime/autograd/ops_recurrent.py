"""Fused recurrences: a whole LSTM/GRU/Elman sequence is one op with hand-written BPTT.

The layer computes the input projection of every time step in one matmul beforehand, so each
step here costs one (B, H) @ (H, G) product plus a few elementwise passes, and
backpropagation through time runs in one loop instead of a tape of thousands of small nodes.
Everything is time-major: `xw` is (T, B, G) with PyTorch's gate order (LSTM i, f, g, o; GRU
r, z, n).

Three things keep a step cheap:
- Every gate of a step is activated by one np.tanh pass: sigmoid(x) = 0.5 tanh(x / 2) + 0.5,
  with the halving folded into the pre-activations once per sequence (`_gate_affine`).
- Backward computes every factor that does not depend on the gradient flowing back through
  time for the whole sequence at once (`coef`), so the loop keeps only the chain itself.
- The rows of a batch are independent sequences: inside a BLAS ceiling (training), a batch
  of at least 2 x `_MIN_ROWS` rows is cut into one block per allowed core and the blocks are
  scanned in threads (numpy and BLAS release the GIL for the work of each call). The threads
  never wait for each other until the end, so unlike a multi-threaded BLAS call on a
  (B, H) @ (H, G) product they cost nothing when the machine is busy. A block's recurrent
  product must also reach `_MIN_BLOCK_MACS` multiply-adds a step: below that (the default
  Elman RNN, 39 rows x 128 x 128) the few microseconds of work between two numpy calls are
  about what handing the GIL over costs, and a second block only adds CPU time (measured on
  the busy 2-core machine, a 24-step RNN scan and its backward over 78 rows: 3.4 to 4.3 ms
  CPU in two blocks against 2.9 to 3.0 in one, and no shorter wall time).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from modreg.runtime.autograd.blas import gemm, in_threads, thread_ceiling, threads_active
from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["gru_scan", "lstm_scan", "rnn_scan"]

_MIN_ROWS = 16
_MIN_BLOCK_MACS = 1 << 20


def _each_block(batch: int, work: Callable[[slice], None], row_macs: int = _MIN_BLOCK_MACS) -> None:
    """Run `work(rows)` over blocks of the batch's rows, one block per allowed core.

    `row_macs` is the multiply-adds of one row's recurrent product per step (H x G): a block
    needs `_MIN_ROWS` rows and `_MIN_BLOCK_MACS` multiply-adds, else the batch stays whole.
    """
    fits = min(batch // _MIN_ROWS, batch * row_macs // _MIN_BLOCK_MACS)
    parts = max(1, min(thread_ceiling(), fits) if threads_active() else 1)
    bounds = np.linspace(0, batch, parts + 1).astype(int)
    in_threads(parts, lambda part: work(slice(int(bounds[part]), int(bounds[part + 1]))))


def _gate_affine(sigmoid: tuple[bool, ...], hid: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Per gate column: (scale, offset) with act(x) = scale * tanh(scale * x) + offset.

    sigmoid(x) = 0.5 * tanh(x / 2) + 0.5; tanh gates get scale 1 and offset 0.
    """
    scale = np.repeat(np.array([0.5 if s else 1.0 for s in sigmoid], dtype=dtype), hid)
    return scale, np.where(scale == 0.5, 0.5, 0.0).astype(dtype)


def _times_previous(a: np.ndarray, states: np.ndarray, first: np.ndarray) -> None:
    """a (T, B, H) *= the state before each step: `first` at step 0, then states[t - 1]."""
    a[1:] *= states[:-1]
    a[0] *= first


def _sigmoid_slope(s: np.ndarray) -> np.ndarray:
    """s * (1 - s) for sigmoid outputs s."""
    return s - np.square(s)


# ----- LSTM -----
def _lstm_forward(
    xw: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_hh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    steps, batch, gates = xw.shape
    hid = gates // 4
    scale, offset = _gate_affine((True, True, False, True), hid, xw.dtype)
    xs, ws = xw * scale, np.ascontiguousarray(w_hh.T * scale)  # pre-activations scaled once: (T, B, 4H), (H, 4H)
    acts = np.empty_like(xw)  # activated gates i, f, g, o
    out = np.empty((steps, batch, 2 * hid), dtype=xw.dtype)  # [h | c] per step
    tanh_c = np.empty((steps, batch, hid), dtype=xw.dtype)
    zero_start = not h0.any()  # then step 0's recurrent product is zero: skipped

    def scan(rows: slice) -> None:
        h, c = h0[rows], c0[rows]
        ig = np.empty_like(c)
        for t in range(steps):
            z = acts[t, rows]
            if t or not zero_start:
                np.matmul(h, ws, out=z)
                z += xs[t, rows]
            else:
                np.copyto(z, xs[t, rows])
            np.tanh(z, out=z)
            z *= scale
            z += offset
            c = np.multiply(z[:, hid : 2 * hid], c, out=out[t, rows, hid:])
            c += np.multiply(z[:, :hid], z[:, 2 * hid : 3 * hid], out=ig)
            np.tanh(c, out=tanh_c[t, rows])
            h = np.multiply(z[:, 3 * hid :], tanh_c[t, rows], out=out[t, rows, :hid])

    _each_block(batch, scan, hid * gates)
    return acts, out, tanh_c


def _lstm_backward(
    g: np.ndarray, acts: np.ndarray, out: np.ndarray, tanh_c: np.ndarray, c0: np.ndarray,
    w_hh: np.ndarray, need_dh0: bool,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    steps, batch, gates = acts.shape
    hid = gates // 4
    d_pre = np.empty_like(acts)
    dh0, dc0 = np.empty_like(c0) if need_dh0 else None, np.empty_like(c0)

    def scan(rows: slice) -> None:
        a, size = acts[:, rows], rows.stop - rows.start
        i, f, cell, o = (a[:, :, k * hid : (k + 1) * hid] for k in range(4))
        # d(pre-activation) = [dc, dc, dc, dh] * coef, coef = gate slope * what the gate multiplies
        coef = _sigmoid_slope(a)
        coef[:, :, 2 * hid : 3 * hid] = 1.0 - np.square(cell)
        coef[:, :, :hid] *= cell
        _times_previous(coef[:, :, hid : 2 * hid], out[:, rows, hid:], c0[rows])
        coef[:, :, 2 * hid : 3 * hid] *= i
        coef[:, :, 3 * hid :] *= tanh_c[:, rows]
        coef = coef.reshape(steps, size, 4, hid)
        through_h = o * (1.0 - np.square(tanh_c[:, rows]))  # dc += dh * o * tanh'(c)
        dh, dc, tmp = (np.zeros((size, hid), acts.dtype) for _ in range(3))
        for t in range(steps - 1, -1, -1):
            dh += g[t, rows, :hid]
            dc += g[t, rows, hid:]
            dc += np.multiply(dh, through_h[t], out=tmp)
            d4 = d_pre[t, rows].reshape(size, 4, hid)
            np.multiply(coef[t, :, :3], dc[:, None, :], out=d4[:, :3])
            np.multiply(coef[t, :, 3], dh, out=d4[:, 3])
            dc *= f[t]
            if t or need_dh0:  # the product of step 0 only feeds dh0
                dh = d_pre[t, rows] @ w_hh
        dc0[rows] = dc
        if dh0 is not None:
            dh0[rows] = dh

    _each_block(batch, scan, hid * gates)
    return d_pre, dh0, dc0


@register_op("lstm_scan")
def lstm_scan(xw: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor) -> Tensor:
    """LSTM over a sequence: xw (T, B, 4H) = x W_ih^T + b_ih + b_hh, states (B, H), w_hh (4H, H).

    Returns (T, B, 2H): the hidden state h_t in [..., :H] and the cell c_t in [..., H:].
    """
    acts, out, tanh_c = _lstm_forward(xw.data, h0.data, c0.data, w_hh.data)

    def backward(g: np.ndarray) -> None:
        d_pre, dh0, dc0 = _lstm_backward(g, acts, out, tanh_c, c0.data, w_hh.data, h0.requires_grad)
        _accumulate_scan(xw, d_pre, h0, dh0, w_hh, d_pre, out[:, :, : h0.shape[1]])
        if c0.requires_grad:
            c0.accumulate(dc0, fresh=True)

    return result(out, (xw, h0, c0, w_hh), backward)


def _accumulate_scan(
    xw: Tensor, d_xw: np.ndarray, h0: Tensor, dh0: np.ndarray | None, w_hh: Tensor, d_hh: np.ndarray,
    hs: np.ndarray,
) -> None:
    """Send the gradients every scan shares: inputs, initial state (dh0 None when it needs none), recurrent weight."""
    if xw.requires_grad:
        xw.accumulate(d_xw, fresh=True)
    if h0.requires_grad and dh0 is not None:
        h0.accumulate(dh0, fresh=True)
    if w_hh.requires_grad:  # sum over t of d_t^T h_{t-1}: one product over steps 1.., then step 0's
        width = d_hh.shape[2]
        gw = gemm(d_hh[1:].reshape(-1, width).T, hs[:-1].reshape(-1, hs.shape[2]))
        if h0.data.any():
            gw += d_hh[0].T @ h0.data
        w_hh.accumulate(gw, fresh=True)


# ----- GRU -----
def _gru_forward(
    xw: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    steps, batch, gates = xw.shape
    hid = gates // 3
    scale, _ = _gate_affine((True, True, False), hid, xw.dtype)
    xs, ws, bs = xw * scale, np.ascontiguousarray(w_hh.T * scale), b_hh * scale  # r, z pre-activations halved once
    acts = np.empty_like(xw)  # r, z, n
    hh = np.empty_like(xw)  # h W_hh^T + b_hh, scaled; its n part is needed by r's gradient
    hs = np.empty((steps, batch, hid), dtype=xw.dtype)
    zero_start = not h0.any()  # then step 0's recurrent product is zero: skipped

    def scan(rows: slice) -> None:
        h = h0[rows]
        for t in range(steps):
            a, m = acts[t, rows], hh[t, rows]
            rz, n = a[:, : 2 * hid], a[:, 2 * hid :]
            if t or not zero_start:
                np.matmul(h, ws, out=m)
                m += bs
            else:
                np.copyto(m, bs)
            np.add(xs[t, rows, : 2 * hid], m[:, : 2 * hid], out=rz)
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            np.multiply(a[:, :hid], m[:, 2 * hid :], out=n)
            n += xs[t, rows, 2 * hid :]
            np.tanh(n, out=n)
            h = np.subtract(h, n, out=hs[t, rows])  # h_t = n + z * (h_{t-1} - n)
            h *= a[:, hid : 2 * hid]
            h += n

    _each_block(batch, scan, hid * gates)
    return acts, hh[:, :, 2 * hid :], hs


def _gru_backward(
    g: np.ndarray, acts: np.ndarray, hh_n: np.ndarray, hs: np.ndarray, h0: np.ndarray,
    w_hh: np.ndarray, need_dh0: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    steps, batch, gates = acts.shape
    hid = gates // 3
    d_x = np.empty_like(acts)
    d_hh = np.empty_like(acts)  # as d_x, n's part times r (the reset gate scales h W_hn^T + b_hn)
    dh0 = np.empty_like(h0) if need_dh0 else None

    def scan(rows: slice) -> None:
        a, size = acts[:, rows], rows.stop - rows.start
        r, z, n = (a[:, :, k * hid : (k + 1) * hid] for k in range(3))
        # d(pre-activation) = dh * coef: n's through (1 - z) tanh'; z's through h_prev - n; r's through hh_n
        coef = _sigmoid_slope(a)
        update, new = np.ascontiguousarray(z), np.ascontiguousarray(n)  # (T, b, H) each
        through_n = np.square(new)  # (1 - z) tanh'(n)
        np.subtract(1.0, through_n, out=through_n)
        through_n *= np.subtract(1.0, update)
        coef[:, :, 2 * hid :] = through_n
        h_prev_minus_n = np.negative(new)
        h_prev_minus_n[1:] += hs[:-1, rows]
        h_prev_minus_n[0] += h0[rows]
        coef[:, :, hid : 2 * hid] *= h_prev_minus_n
        through_n *= hh_n[:, rows]
        coef[:, :, :hid] *= through_n
        coef_hh = coef.copy()
        coef_hh[:, :, 2 * hid :] *= r
        coef_hh = coef_hh.reshape(steps, size, 3, hid)
        dhs = np.empty((steps, size, hid), acts.dtype)  # the gradient reaching each h_t
        carry, tmp = np.zeros((size, hid), acts.dtype), np.empty((size, hid), acts.dtype)  # from step t + 1
        for t in range(steps - 1, -1, -1):
            dh = np.add(g[t, rows], carry, out=dhs[t])
            np.multiply(coef_hh[t], dh[:, None, :], out=d_hh[t, rows].reshape(size, 3, hid))
            if t or need_dh0:  # step 0's carry is dh0
                np.matmul(d_hh[t, rows], w_hh, out=carry)
                carry += np.multiply(dh, update[t], out=tmp)
        np.multiply(coef.reshape(steps, size, 3, hid), dhs[:, :, None, :], out=d_x[:, rows].reshape(steps, size, 3, hid))
        if dh0 is not None:
            dh0[rows] = carry

    _each_block(batch, scan, hid * gates)
    return d_x, d_hh, dh0


@register_op("gru_scan")
def gru_scan(xw: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
    """GRU over a sequence: xw (T, B, 3H) = x W_ih^T + b_ih, h0 (B, H), w_hh (3H, H), b_hh (3H,).

    Returns the hidden states (T, B, H).
    """
    acts, hh_n, hs = _gru_forward(xw.data, h0.data, w_hh.data, b_hh.data)

    def backward(g: np.ndarray) -> None:
        d_x, d_hh, dh0 = _gru_backward(g, acts, hh_n, hs, h0.data, w_hh.data, h0.requires_grad)
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
    hs, w_t = np.empty_like(xw.data), np.ascontiguousarray(w_hh.data.T)  # a C-ordered (H, H): faster products

    zero_start = not h0.data.any()  # then step 0's recurrent product is zero: skipped

    def scan(rows: slice) -> None:
        h = h0.data[rows]
        for t in range(len(hs)):
            if t or not zero_start:
                h = np.matmul(h, w_t, out=hs[t, rows])
                h += xw.data[t, rows]
            else:
                h = hs[t, rows]
                np.copyto(h, xw.data[t, rows])
            if nonlinearity == "tanh":
                np.tanh(h, out=h)
            else:
                np.maximum(h, 0, out=h)

    _each_block(hs.shape[1], scan, w_t.size)

    def backward(g: np.ndarray) -> None:
        d_pre, dh0 = np.empty_like(hs), np.empty_like(h0.data) if h0.requires_grad else None

        def scan_back(rows: slice) -> None:
            part = hs[:, rows]
            slope = 1.0 - np.square(part) if nonlinearity == "tanh" else (part > 0).astype(hs.dtype)
            dh = np.zeros_like(h0.data[rows])
            for t in range(len(hs) - 1, -1, -1):
                dh = np.add(g[t, rows], dh, out=d_pre[t, rows])
                dh *= slope[t]
                if t or dh0 is not None:  # the product of step 0 only feeds dh0
                    dh = dh @ w_hh.data
            if dh0 is not None:
                dh0[rows] = dh

        _each_block(hs.shape[1], scan_back, w_t.size)
        _accumulate_scan(xw, d_pre, h0, dh0, w_hh, d_pre, hs)

    return result(hs, (xw, h0, w_hh), backward)
