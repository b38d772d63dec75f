"""Convolutions: im2col for the general case, one GEMM per tap for causal time-major sequences.

`conv1d` supports stride, padding, dilation and groups with PyTorch's semantics (weights are
cross-correlated, not flipped); `conv2d` covers stride 1 with zero padding. Both build a strided
window view of the padded input, copy it into columns and run one GEMM per group; the backward
pass scatters the column gradients back tap by tap (K vectorised adds, no loop over length).

`causal_conv` is the TCN's layer on a time-major, channels-last sequence (L, B, C): each tap is
one GEMM over the rows it reaches, time steps shifted by whole (b, C) blocks, so there are no
columns to copy, no layout transposes and no products with the left padding's zeros. Its
batch runs in row blocks on the training threads, as the recurrences' do.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from modreg.runtime.autograd.blas import gemm
from modreg.runtime.autograd.scan_blocks import Blocks, Shares, send
from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["causal_conv", "conv1d", "conv2d"]


def _columns(xp: np.ndarray, k: int, stride: int, dilation: int, length: int) -> np.ndarray:
    """(B, C, Lp) -> view (B, C, L_out, K) of the receptive fields."""
    span = dilation * (k - 1) + 1
    return sliding_window_view(xp, span, axis=2)[:, :, : stride * (length - 1) + 1 : stride, ::dilation]


def _scatter_taps(gcols: np.ndarray, lp: int, stride: int, dilation: int) -> np.ndarray:
    """Adjoint of `_columns`: (B, C, L_out, K) -> (B, C, Lp)."""
    b, c, length, k = gcols.shape
    gxp = np.zeros((b, c, lp), dtype=gcols.dtype)
    for tap in range(k):
        start = tap * dilation
        gxp[:, :, start : start + stride * (length - 1) + 1 : stride] += gcols[..., tap]
    return gxp


def _per_group(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(G, M, K) @ (G, K, N): one plain GEMM when G = 1 (the usual case), else one per group."""
    if len(a) == 1:
        return gemm(a[0], b[0])[None]
    return gemm(a, b)


@register_op("conv1d")
def conv1d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0,
    dilation: int = 1, groups: int = 1,
) -> Tensor:
    """1-D cross-correlation: x (B, C_in, L), weight (C_out, C_in/groups, K), bias (C_out,).

    `padding` zeros are added on both sides. Returns (B, C_out, L_out) with
    L_out = (L + 2*padding - dilation*(K-1) - 1) // stride + 1.
    """
    b, c_in, _ = x.shape
    c_out, c_group, k = weight.shape
    xp = np.pad(x.data, ((0, 0), (0, 0), (padding, padding))) if padding else x.data
    length = (xp.shape[2] - dilation * (k - 1) - 1) // stride + 1
    if length < 1 or c_group * groups != c_in:
        raise ValueError(f"conv1d cannot apply weight {weight.shape} to input {x.shape}")
    # cols: (G, B * L_out, C_in/G * K), one GEMM per group over every window; wmat: (G, C_out/G, C_in/G * K)
    cols = _columns(xp, k, stride, dilation, length).reshape(b, groups, c_group, length, k)
    cols = cols.transpose(1, 0, 3, 2, 4).reshape(groups, b * length, c_group * k)
    wmat = weight.data.reshape(groups, c_out // groups, c_group * k)
    out = _per_group(cols, wmat.transpose(0, 2, 1))  # (G, B * L_out, C_out/G)
    out = out.reshape(groups, b, length, c_out // groups).transpose(1, 0, 3, 2).reshape(b, c_out, length)
    if bias is not None:
        out += bias.data[:, None]

    def backward(g: np.ndarray) -> None:
        # (B, C_out, L_out) -> (G, B * L_out, C_out/G)
        g3 = g.reshape(b, groups, c_out // groups, length).transpose(1, 0, 3, 2).reshape(groups, b * length, -1)
        if weight.requires_grad:
            weight.accumulate(_per_group(g3.transpose(0, 2, 1), cols).reshape(weight.shape), fresh=True)
        if bias is not None and bias.requires_grad:
            bias.accumulate(g.sum(axis=(0, 2)), fresh=True)
        if x.requires_grad:
            gcols = _per_group(g3, wmat).reshape(groups, b, length, c_group, k)  # (G, B * L_out, C_in/G * K)
            gcols = gcols.transpose(1, 0, 3, 2, 4).reshape(b, c_in, length, k)
            gxp = _scatter_taps(gcols, xp.shape[2], stride, dilation)
            x.accumulate(gxp[:, :, padding : gxp.shape[2] - padding], fresh=True)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return result(out, parents, backward)


@register_op("conv2d")
def conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, padding: int | tuple[int, int] = 0
) -> Tensor:
    """2-D cross-correlation with stride 1: x (B, C, H, W), weight (C_out, C, KH, KW)."""
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    b, c, _, _ = x.shape
    c_out, _, kh, kw = weight.shape
    xp = np.pad(x.data, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (B, C, H_out, W_out, KH, KW)
    h_out, w_out = windows.shape[2:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(b * h_out * w_out, c * kh * kw)
    wmat = weight.data.reshape(c_out, c * kh * kw)
    out = gemm(cols, wmat.T).reshape(b, h_out, w_out, c_out).transpose(0, 3, 1, 2)
    if bias is not None:
        out = out + bias.data[:, None, None]

    def backward(g: np.ndarray) -> None:
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, c_out)  # (B*H_out*W_out, C_out)
        if weight.requires_grad:
            weight.accumulate(gemm(g2.T, cols).reshape(weight.shape), fresh=True)
        if bias is not None and bias.requires_grad:
            bias.accumulate(g.sum(axis=(0, 2, 3)), fresh=True)
        if x.requires_grad:
            gcols = gemm(g2, wmat).reshape(b, h_out, w_out, c, kh, kw)
            gxp = np.zeros(xp.shape, dtype=xp.dtype)
            for i in range(kh):
                for j in range(kw):
                    gxp[:, :, i : i + h_out, j : j + w_out] += gcols[..., i, j].transpose(0, 3, 1, 2)
            x.accumulate(gxp[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]], fresh=True)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return result(np.ascontiguousarray(out), parents, backward)


@register_op("causal_conv")
def causal_conv(x: Tensor, weight: Tensor, bias: Tensor | None = None, dilation: int = 1, relu: bool = False) -> Tensor:
    """Causal dilated convolution of a time-major sequence, fused with an optional ReLU.

    x (L, B, C_in), weight (C_out, C_in, K) as Conv1d's, bias (C_out,). Returns (L, B, C_out):
    out_t = bias + sum_j weight[:, :, j] x_{t - (K-1-j) dilation}, with zeros before the start
    (Conv1d over (K-1) * dilation left zeros, transposed). `relu=True` applies max(., 0) in place.
    The batch runs in row blocks (`scan_blocks.Blocks`), each in its own thread through its
    products, bias and ReLU, and on the way back through its input gradient and weight shares.
    """
    steps, batch, c_in = x.shape
    c_out, c_group, k = weight.shape
    if c_group != c_in:
        raise ValueError(f"causal_conv cannot apply weight {weight.shape} to input {x.shape}")
    # (tap, shift): tap j reads the input `shift` steps back; taps that reach only the padding drop out
    taps = [(j, (k - 1 - j) * dilation) for j in range(k - 1, -1, -1) if (k - 1 - j) * dilation < steps]
    w = [np.ascontiguousarray(weight.data[:, :, j].T) for j in range(k)]  # per tap (C_in, C_out)
    blocks = Blocks(batch, sum(steps - shift for _, shift in taps) * c_in * c_out // steps)
    out = blocks.output((steps, batch, c_out), np.result_type(x.data, weight.data))

    def forward(part: int, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        xs = np.ascontiguousarray(x.data[:, rows])  # (L, b, C_in)
        o = _taps_forward(xs, w, taps)
        if bias is not None:
            o += bias.data
        if relu:
            np.maximum(o, 0, out=o)
        blocks.place(out, rows, o)
        return xs, o

    saved = blocks.run(forward)
    out = saved[0][1] if out is None else out

    def backward(g: np.ndarray) -> None:
        gx = np.empty_like(x.data) if x.requires_grad else None

        def back(part: int, rows: slice) -> Shares:
            xs, o = saved[part]
            gb = np.multiply(g[:, rows], o > 0) if relu else np.ascontiguousarray(g[:, rows])
            shares: Shares = {}
            if weight.requires_grad:
                shares["weight"] = _taps_weight_grad(gb, xs, taps, k)
            if bias is not None and bias.requires_grad:
                shares["bias"] = gb.reshape(-1, c_out).sum(axis=0)
            if gx is not None:
                gx[:, rows] = _taps_input_grad(gb, w, taps, c_in)
            return shares

        shares = blocks.run(back)
        send(weight, shares, "weight")
        send(bias, shares, "bias")
        if gx is not None:
            x.accumulate(gx, fresh=True)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return result(out, parents, backward)


def _rows(a: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Time steps [start, stop) of a contiguous (L, b, C) block as (rows, channels)."""
    return a[start:stop].reshape(-1, a.shape[2])


def _taps_forward(xs: np.ndarray, w: list[np.ndarray], taps: list[tuple[int, int]]) -> np.ndarray:
    """A block's sum over taps of its input shifted back and multiplied by the tap's (C_in, C_out)."""
    steps, size, c_in = xs.shape
    first = w[taps[0][0]]
    if c_in == 1:  # an outer product: a broadcast multiply is 4x faster than BLAS with K = 1
        o = np.multiply(xs, first[0])
    else:
        o = np.matmul(_rows(xs, 0, steps), first).reshape(steps, size, -1)  # the unshifted tap fills every row
    for j, shift in taps[1:]:
        o[shift:] += (_rows(xs, 0, steps - shift) @ w[j]).reshape(steps - shift, size, -1)
    return o


def _taps_weight_grad(gb: np.ndarray, xs: np.ndarray, taps: list[tuple[int, int]], k: int) -> np.ndarray:
    """A block's share of the weight's gradient (C_out, C_in, K); taps that never reach the sequence get 0."""
    steps = len(gb)
    gw = np.zeros((gb.shape[2], xs.shape[2], k), dtype=gb.dtype)
    for j, shift in taps:
        gw[:, :, j] = _rows(gb, shift, steps).T @ _rows(xs, 0, steps - shift)
    return gw


def _taps_input_grad(gb: np.ndarray, w: list[np.ndarray], taps: list[tuple[int, int]], c_in: int) -> np.ndarray:
    """A block's input gradient (L, b, C_in): each tap's output gradient shifted forward through its weight."""
    steps, size, _ = gb.shape
    gx = (_rows(gb, 0, steps) @ w[taps[0][0]].T).reshape(steps, size, c_in)
    for j, shift in taps[1:]:
        gx[: steps - shift] += (_rows(gb, shift, steps) @ w[j].T).reshape(steps - shift, size, c_in)
    return gx
