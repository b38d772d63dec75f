"""The row blocks of a fused recurrence: how a batch is cut, and what each block does on its own.

The rows of a batch are independent sequences. Inside a BLAS ceiling (training), a fused scan
(`ops_recurrent`) cuts a batch of at least 2 x `_MIN_ROWS` rows into one block per allowed
core, and each block runs in its own thread from its first product to its last: it projects
its rows' inputs (x W_ih^T + b over all its time steps: one product, `InputProjection`),
scans, and on the way back scans back and computes its rows' whole share of every gradient
(the input's, and one product each for W_ih and W_hh). The threads meet once per op and
direction; the weight shares are summed then. The TCN's causal convolution (`ops_conv`)
runs its rows the same way. Numpy and BLAS release the GIL for the work of each call, and the
threads never wait for each other in between, so unlike a multi-threaded BLAS call on a
(B, H) @ (H, G) product they cost nothing when the machine is busy.

A block's recurrent product must reach `_MIN_BLOCK_MACS` multiply-adds a step: below that the
few microseconds of work between two numpy calls are about what handing the GIL over costs,
and a second block only adds CPU time. The default Elman RNN (37 rows x 128 x 128 a block)
is above it: with its projection and weight gradients in the blocks, two blocks cost the same
CPU time as one (1.14 against 1.13 s for 100 training steps) and fit in 0.74 s instead of
1.11 s of wall time on the 2-core machine.

Every block is a contiguous slice of rows and nothing is split along a product's inner
dimension except the weight gradients' sum over rows, which adds one share per block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from modreg.runtime.autograd.blas import in_threads, thread_ceiling, threads_active
from modreg.runtime.autograd.tensor import Tensor

__all__ = ["Blocks", "InputProjection", "Shares", "layer_shares", "recurrent_grad", "send", "transposed_per_gate"]

_MIN_ROWS = 16
_MIN_BLOCK_MACS = 1 << 18

R = TypeVar("R")
Shares = dict[str, np.ndarray]


class Blocks:
    """The row blocks of a batch of `batch` rows whose recurrent product costs `row_macs` a row and step.

    A block needs `_MIN_ROWS` rows and `_MIN_BLOCK_MACS` multiply-adds a step, else the batch stays whole.
    """

    def __init__(self, batch: int, row_macs: int = _MIN_BLOCK_MACS) -> None:
        fits = min(batch // _MIN_ROWS, batch * row_macs // _MIN_BLOCK_MACS)
        parts = max(1, min(thread_ceiling(), fits) if threads_active() else 1)
        self.rows = [slice(batch * k // parts, batch * (k + 1) // parts) for k in range(parts)]

    def run(self, work: Callable[[int, slice], R]) -> list[R]:
        """work(k, rows) for every block k, each in its own thread; their results in block order."""
        results: list[R | None] = [None] * len(self.rows)

        def part(k: int) -> None:
            results[k] = work(k, self.rows[k])

        in_threads(len(self.rows), part)
        return results  # type: ignore[return-value]

    def output(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
        """The op's output (T, B, ...) that the blocks fill, or None for one block, whose own array is the output."""
        return None if len(self.rows) == 1 else np.empty(shape, dtype)

    @staticmethod
    def place(out: np.ndarray | None, rows: slice, part: np.ndarray) -> None:
        """Copy a block's (T, b, ...) part into its rows of `out` (None: the part is the output)."""
        if out is not None:
            out[:, rows] = part


class InputProjection:
    """A layer's pre-activations per block, (x W_ih^T + bias) * scale, and their gradients.

    x is (T, B, F); w_ih (G, F) and bias (G,) may be None: without w_ih, x holds the unscaled
    pre-activations already (F = G). `scale` (G,) multiplies every gate column (the recurrences
    activate sigmoid gates as tanh of half the pre-activation), folded into the weights once.
    With `gates` = n > 0 a block's pre-activations are gate-major, (n, T, b, G / n): every
    gate's (b, H) rows of a step are then contiguous, which numpy's elementwise passes run at
    about 3x the speed of the same rows sliced out of (b, G).
    """

    def __init__(self, x: Tensor, w_ih: Tensor | None, bias: Tensor | None, scale: np.ndarray | float = 1.0,
                 gates: int = 0) -> None:
        self.x, self.w_ih, self.bias, self.scale, self.gates = x, w_ih, bias, scale, gates
        self.b = None if bias is None else bias.data * scale
        if w_ih is None:
            self.w_t = None
        elif gates:  # W_ih^T per gate, (n, F, H), scaled; bias (n, 1, H)
            self.w_t = transposed_per_gate(w_ih.data, gates, np.reshape(scale, (-1,))[:: w_ih.shape[0] // gates])
            self.b = None if self.b is None else self.b.reshape(gates, 1, -1)
        else:  # W_ih^T (F, G), scaled, written C-ordered in one pass
            self.w_t = np.multiply(w_ih.data.T, scale, out=np.empty(w_ih.shape[::-1], dtype=w_ih.dtype))
        self.dx: np.ndarray | None = None

    def forward(self, rows: slice) -> tuple[np.ndarray | None, np.ndarray]:
        """The block's inputs as (T * b, F) (None without w_ih) and its pre-activations, a new
        array: (T, b, G), or gate-major (n, T, b, H)."""
        x = self.x.data[:, rows]
        steps, size, features = x.shape
        if self.w_t is None:
            pre = np.multiply(x, self.scale)
            if self.b is not None:
                pre += self.b
            return None, self._gate_major(pre) if self.gates else pre
        flat = np.ascontiguousarray(x).reshape(-1, features)  # (T, b, F) -> (T * b, F)
        if features == 1:  # an outer product: a broadcast multiply is 4x faster than BLAS with K = 1
            pre = np.multiply(flat[None], self.w_t) if self.gates else np.multiply(x, self.w_t[0])
        else:
            pre = np.matmul(flat, self.w_t)  # (T * b, G), or (n, T * b, H)
        if self.b is not None:
            pre += self.b
        return flat, pre.reshape(self.gates, steps, size, -1) if self.gates else pre.reshape(steps, size, -1)

    def _gate_major(self, pre: np.ndarray) -> np.ndarray:
        steps, size, _ = pre.shape
        return np.ascontiguousarray(pre.reshape(steps, size, self.gates, -1).transpose(2, 0, 1, 3))

    def start_backward(self) -> None:
        """Before the blocks' `backward`: a fresh array for the input gradient they fill."""
        self.dx = np.empty_like(self.x.data) if self.x.requires_grad and self.w_ih is not None else None

    def backward(self, d_pre: np.ndarray, flat: np.ndarray | None, rows: slice) -> Shares:
        """From the block's gradient at the pre-activations (laid out as `forward` gave them):
        its rows of the input gradient (written into the array `send` passes on; without w_ih
        it is d_pre itself, returned as the share "x") and its shares of W_ih's and the bias's."""
        if self.gates:
            return self._gate_major_backward(d_pre, flat, rows)
        shares: Shares = {}
        d2 = d_pre.reshape(-1, d_pre.shape[2])  # (T * b, G)
        if self.w_ih is not None and self.w_ih.requires_grad:
            shares["w_ih"] = d2.T @ flat
        if self.bias is not None and self.bias.requires_grad:
            shares["bias"] = d2.sum(axis=0)
        if self.dx is not None and self.w_ih is not None:
            self._place(rows, d2 @ self.w_ih.data)
        elif self.w_ih is None and self.x.requires_grad:
            shares["x"] = d_pre
        return shares

    def _gate_major_backward(self, d_pre: np.ndarray, flat: np.ndarray | None, rows: slice) -> Shares:
        gates, steps, size, hid = d_pre.shape
        shares: Shares = {}
        d3 = d_pre.reshape(gates, -1, hid)  # (n, T * b, H)
        if self.w_ih is not None and self.w_ih.requires_grad:
            shares["w_ih"] = np.matmul(d3.transpose(0, 2, 1), flat).reshape(gates * hid, -1)
        if self.bias is not None and self.bias.requires_grad:
            shares["bias"] = d3.sum(axis=1).reshape(-1)
        if self.dx is not None and self.w_ih is not None:
            self._place(rows, np.matmul(d3, self.w_ih.data.reshape(gates, hid, -1)).sum(axis=0))
        elif self.w_ih is None and self.x.requires_grad:
            shares["x"] = np.ascontiguousarray(d_pre.transpose(1, 2, 0, 3)).reshape(steps, size, -1)
        return shares

    def _place(self, rows: slice, dx: np.ndarray) -> None:
        """Write a block's input gradient (T * b, F) into its rows of the whole one."""
        assert self.dx is not None
        self.dx[:, rows] = dx.reshape(self.dx.shape[0], -1, self.dx.shape[2])

    def send(self, shares: list[Shares]) -> None:
        """Accumulate the gradients of x, w_ih and the bias from every block's shares."""
        if self.w_ih is None and self.x.requires_grad:
            parts = [s.pop("x") for s in shares]
            self.x.accumulate(parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1), fresh=True)
        elif self.dx is not None:
            self.x.accumulate(self.dx, fresh=True)
        send(self.w_ih, shares, "w_ih")
        send(self.bias, shares, "bias")


def transposed_per_gate(w: np.ndarray, gates: int, scale: np.ndarray) -> np.ndarray:
    """w (n * H, K) -> (n, K, H): each gate's block transposed and times its scale, in one pass
    (a transposed copy of the whole (K, n * H) and then a reshape take five times longer)."""
    blocks = w.reshape(gates, -1, w.shape[1]).transpose(0, 2, 1)  # (n, K, H) view
    out = np.empty(blocks.shape, dtype=w.dtype)
    return np.multiply(blocks, np.broadcast_to(scale, (gates,)).reshape(gates, 1, 1), out=out)


def recurrent_grad(d_hh: np.ndarray, hs: np.ndarray, h0: np.ndarray, from_zero: bool) -> np.ndarray:
    """A block's share of W_hh's gradient: the sum over t of d_t^T h_{t-1} with h_{-1} = h0.

    d_hh (T, b, G), or gate-major (n, T, b, H), and hs (T, b, H) are the block's own arrays;
    one product over steps 1.. (one per gate when gate-major), then step 0's unless the
    initial state is zero.
    """
    previous = hs[:-1].reshape(-1, hs.shape[2])
    if d_hh.ndim == 4:
        gates, _, _, hid = d_hh.shape
        gw = np.matmul(d_hh[:, 1:].reshape(gates, -1, hid).transpose(0, 2, 1), previous)  # (n, H, H)
        if not from_zero:
            gw += np.matmul(d_hh[:, 0].transpose(0, 2, 1), h0)
        return gw.reshape(gates * hid, -1)
    gw = d_hh[1:].reshape(-1, d_hh.shape[2]).T @ previous
    if not from_zero:
        gw += d_hh[0].T @ h0
    return gw


def layer_shares(proj: InputProjection, d_x: np.ndarray, flat: np.ndarray | None, rows: slice, w_hh: Tensor,
                 d_hh: np.ndarray, hs: np.ndarray, h0: np.ndarray, from_zero: bool) -> Shares:
    """A block's share of a recurrent layer's weight gradients: its input side's (`proj`) and
    W_hh's (`recurrent_grad` of d_hh, the gradient at the recurrent product; h0 is the block's)."""
    shares = proj.backward(d_x, flat, rows)
    if w_hh.requires_grad:
        shares["w_hh"] = recurrent_grad(d_hh, hs, h0, from_zero)
    return shares


def send(tensor: Tensor | None, shares: list[Shares], name: str) -> None:
    """Accumulate the sum of the blocks' shares `name` into `tensor` (when it needs a gradient)."""
    if tensor is None or not tensor.requires_grad:
        return
    total = shares[0][name]
    for share in shares[1:]:
        total += share[name]
    tensor.accumulate(total, fresh=True)
