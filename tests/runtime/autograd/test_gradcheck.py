"""Every op in the autograd table has a float64 gradient check, and a wrong gradient is caught."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import modreg.runtime.autograd as ag
from modreg.runtime import rng
from modreg.runtime.autograd import OPS, Tensor
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.autograd import ops_nn as ag_nn
from modreg.runtime.autograd.ops_conv import causal_conv
from modreg.runtime.autograd.ops_nn import glu_add_norm, masked_softmax

_R = np.random.default_rng(42)


def _lstm(*args: Any, **kwargs: Any) -> Tensor:
    """lstm_scan's hidden states and final cell state as one tensor, (T + 1, B, H)."""
    hs, c_last = ag.lstm_scan(*args, **kwargs)
    return ag.concat([hs, c_last.unsqueeze(0)], axis=0)


def randn(*shape: int) -> np.ndarray:
    return _R.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return 0.5 + _R.random(shape)


def away_from_zero(*shape: int) -> np.ndarray:
    return np.sign(randn(*shape)) * positive(*shape)


Case = tuple[Callable[..., Any], list[np.ndarray]]
_MASK = _R.random((3, 4)) > 0.5

CASES: dict[str, list[Case]] = {
    # ----- Binary arithmetic -----
    "add": [(lambda a, b: a + b, [randn(2, 3, 4), randn(3, 1)]), (lambda a: 1.5 + a, [randn(3)])],
    "sub": [(lambda a, b: a - b, [randn(3, 4), randn(4)]), (lambda a: 2.0 - a, [randn(3)])],
    "mul": [(lambda a, b: a * b, [randn(3, 4), randn(3, 1)]), (lambda a: a * np.arange(4.0), [randn(2, 4)])],
    "div": [(lambda a, b: a / b, [randn(3, 4), away_from_zero(4)]), (lambda a: 1.0 / a, [away_from_zero(5)])],
    "neg": [(lambda a: -a, [randn(3, 2)])],
    "power": [(lambda a: a**3, [randn(4)]), (lambda a: a**0.5, [positive(4)]), (lambda a: a**-1.5, [positive(2, 3)])],
    "maximum": [(lambda a, b: ag.maximum(a, b), [randn(3, 4), randn(4)]), (lambda a: ag.maximum(a, 0.1), [randn(6)])],
    "minimum": [(lambda a, b: ag.minimum(a, b), [randn(3, 4), randn(3, 1)])],
    "where": [(lambda a, b: ag.where(_MASK, a, b), [randn(3, 4), randn(4)])],
    # ----- Matrix products -----
    "matmul": [
        (lambda a, b: a @ b, [randn(2, 3, 4), randn(4, 5)]),
        (lambda a, b: a @ b, [randn(4), randn(4, 5)]),
        (lambda a, b: a @ b, [randn(3, 4), randn(4)]),
        (lambda a, b: a @ b, [randn(2, 1, 3, 4), randn(5, 4, 2)]),
        (lambda a: np.ones((2, 3)) @ a, [randn(3, 2)]),
    ],
    "linear": [
        (lambda x, w, b: ag.linear(x, w, b), [randn(2, 3, 4), randn(5, 4), randn(5)]),
        (lambda x, w: ag.linear(x, w), [randn(3, 4), randn(2, 4)]),
        (lambda x, w, b: ag.linear(x, w, b, relu=True), [randn(6, 4), randn(5, 4), randn(5)]),
    ],
    # ----- Elementwise -----
    "exp": [(lambda a: a.exp(), [randn(3, 4)])],
    "log": [(lambda a: a.log(), [positive(3, 4)])],
    "sqrt": [(lambda a: a.sqrt(), [positive(3, 4)])],
    "abs": [(lambda a: a.abs(), [away_from_zero(3, 4)])],
    "tanh": [(lambda a: a.tanh(), [randn(3, 4)])],
    "sigmoid": [(lambda a: a.sigmoid(), [3 * randn(3, 4)])],
    "relu": [(lambda a: a.relu(), [away_from_zero(3, 4)])],
    "softplus": [(lambda a: a.softplus(), [3 * randn(3, 4)])],
    "gelu": [(lambda a: a.gelu(), [2 * randn(3, 4)])],
    "lgamma": [(lambda a: ag.lgamma(a), [np.array([1e-3, 0.3, 1.0, 2.5, 7.9, 8.1, 40.0, 1e4])]),
               (lambda a: ag.lgamma(a * a + 0.5), [randn(3, 4)])],
    "clip": [(lambda a: a.clip(-0.5, 0.5), [randn(4, 5)]), (lambda a: a.clip(None, 0.2), [randn(6)])],
    "astype": [(lambda a: a.astype(np.float32).astype(np.float64) * 2.0, [randn(5)])],
    # ----- Reductions -----
    "sum": [(lambda a: a.sum(), [randn(3, 4)]), (lambda a: a.sum(axis=(0, 2), keepdims=True), [randn(2, 3, 4)]),
            (lambda a: a.sum(axis=1), [randn(2, 3, 4)])],
    "mean": [(lambda a: a.mean(), [randn(3, 4)]), (lambda a: a.mean(axis=-1, keepdims=True), [randn(2, 5)])],
    "max": [(lambda a: a.max(axis=1), [randn(3, 5)]), (lambda a: a.max(), [randn(3, 5)])],
    "min": [(lambda a: a.min(axis=0, keepdims=True), [randn(3, 5)])],
    "var": [(lambda a: a.var(axis=1, ddof=1), [randn(3, 5)]), (lambda a: a.var(), [randn(4, 2)])],
    "logsumexp": [(lambda a: a.logsumexp(axis=-1), [randn(3, 5)]), (lambda a: a.logsumexp(axis=(0, 2), keepdims=True), [randn(2, 3, 4)])],
    "softmax": [(lambda a: a.softmax(axis=1), [randn(3, 5, 2)])],
    "log_softmax": [(lambda a: a.log_softmax(axis=-1), [randn(3, 5)])],
    # ----- Shape -----
    "reshape": [(lambda a: a.reshape(4, -1), [randn(2, 3, 2)]), (lambda a: a.unsqueeze(1).squeeze(1), [randn(3, 2)])],
    "transpose": [(lambda a: a.transpose(2, 0, 1), [randn(2, 3, 4)]), (lambda a: a.T, [randn(2, 3)]),
                  (lambda a: a.swapaxes(0, 1), [randn(2, 3)])],
    "expand": [(lambda a: a.expand(2, 3, 4), [randn(3, 1)])],
    "flip": [(lambda a: a.flip(1), [randn(2, 3, 4)]), (lambda a: a.flip(), [randn(2, 3)])],
    "getitem": [
        (lambda a: a[1:, ::2], [randn(3, 5)]),
        (lambda a: a[np.array([0, 2, 2, 1])], [randn(3, 4)]),
        (lambda a: a[:, np.array([[0, 1], [1, 1]])], [randn(3, 4)]),
        (lambda a: a[_MASK], [randn(3, 4)]),
        (lambda a: a[-1], [randn(3, 4)]),
    ],
    "concat": [(lambda a, b: ag.concat([a, b], axis=1), [randn(2, 3), randn(2, 5)])],
    "stack": [(lambda a, b: ag.stack([a, b], axis=-1), [randn(2, 3), randn(2, 3)])],
    "pad": [
        (lambda a: ag.pad(a, ((1, 2), (0, 3)), value=0.5), [randn(3, 4)]),
        (lambda a: ag.pad(a, ((0, 0), (2, 1), (3, 0)), mode="edge"), [randn(2, 3, 4)]),
        (lambda a: ag.pad(a, 2, mode="edge"), [randn(3)]),
    ],
    # ----- Fused neural-network ops -----
    "dropout": [(lambda a: (rng.seed(3), ag.dropout(a, 0.3))[1], [randn(4, 5)])],
    "layer_norm": [
        (lambda x, w, b: ag.layer_norm(x, w, b), [randn(2, 3, 6), randn(6), randn(6)]),
        (lambda x: ag.layer_norm(x, None, None), [randn(4, 5)]),
    ],
    "batch_norm": [
        (lambda x, w, b: ag_nn.batch_norm(x, w, b)[0], [randn(6, 3), randn(3), randn(3)]),
        (lambda x, w, b: ag_nn.batch_norm(x, w, b, 1e-3)[0], [randn(4, 2, 5), randn(2), randn(2)]),
    ],
    "glu_add_norm": [
        (lambda x, s, w, b: glu_add_norm(x, s, w, b), [randn(2, 3, 8), randn(2, 3, 4), randn(4), randn(4)]),
        (lambda x, s, w, b: glu_add_norm(x, s, w, b, 1e-3), [randn(2, 3, 6), randn(2, 1, 3), randn(3), randn(3)]),
    ],
    "masked_softmax": [
        (lambda a: masked_softmax(a), [randn(2, 3, 3)]),
        (lambda a: masked_softmax(a, 0.7, np.tril(np.ones((4, 5), dtype=bool), 1)), [randn(2, 4, 5)]),
        (lambda a: masked_softmax(a, 2.0), [randn(2, 40)]),  # a long axis: numpy's own row maxima
    ],
    # ----- Convolution, pooling, resampling -----
    "conv1d": [
        (lambda x, w, b: ag.conv1d(x, w, b), [randn(2, 3, 9), randn(4, 3, 3), randn(4)]),
        (lambda x, w: ag.conv1d(x, w, padding=2, dilation=3), [randn(2, 3, 9), randn(2, 3, 2)]),
        (lambda x, w, b: ag.conv1d(x, w, b, stride=2, padding=1, groups=2), [randn(2, 4, 10), randn(6, 2, 3), randn(6)]),
    ],
    "conv2d": [(lambda x, w, b: ag.conv2d(x, w, b, padding=(1, 0)), [randn(2, 3, 5, 6), randn(4, 3, 3, 2), randn(4)])],
    "causal_conv": [
        (lambda x, w, b: causal_conv(x, w, b, dilation=2), [randn(7, 2, 3), randn(4, 3, 2), randn(4)]),
        (lambda x, w: causal_conv(x, w, dilation=3), [randn(5, 3, 2), randn(3, 2, 3)]),  # the first tap never reaches
        (lambda x, w, b: causal_conv(x, w, b, relu=True), [randn(6, 2, 3), randn(4, 3, 3), randn(4)]),
        (lambda x, w, b: causal_conv(x, w, b, dilation=2), [randn(6, 2, 1), randn(4, 1, 2), randn(4)]),  # one channel in
    ],
    "max_pool1d": [
        (lambda x: ag.max_pool1d(x, 3, ceil_mode=True), [randn(2, 3, 11)]),
        (lambda x: ag.max_pool1d(x, 3, stride=2), [randn(2, 3, 11)]),
        (lambda x: ag.max_pool1d(x, 2, stride=1), [randn(1, 2, 6)]),
    ],
    "avg_pool1d": [(lambda x: ag.avg_pool1d(x, 3), [randn(2, 3, 8)]), (lambda x: ag.avg_pool1d(x, 2, stride=2), [randn(2, 3, 9)])],
    "interpolate_linear": [
        (lambda x: ag.interpolate_linear(x, 13), [randn(2, 3, 5)]),
        (lambda x: ag.interpolate_linear(x, 3), [randn(2, 3, 7)]),
    ],
    # ----- FFT -----
    "rfft": [
        (lambda x: ag.rfft(x), [randn(2, 8)]),
        (lambda x: ag.rfft(x, n=7), [randn(2, 9)]),
        (lambda x: ag.rfft(x, n=12, axis=0), [randn(9, 2)]),
    ],
    "irfft": [
        (lambda re, im: ag.irfft(re, im, n=8), [randn(2, 5), randn(2, 5)]),
        (lambda re, im: ag.irfft(re, im, n=7), [randn(2, 5), randn(2, 5)]),
        (lambda re, im: ag.irfft(re, im, n=12, axis=0), [randn(4, 3), randn(4, 3)]),
    ],
    # ----- Fused recurrences -----
    "lstm_scan": [
        (lambda xw, h, c, w: _lstm(xw, h, c, w), [randn(5, 3, 8), randn(3, 2), randn(3, 2), 0.5 * randn(8, 2)]),
        (lambda x, h, c, w, wi, b: _lstm(x, h, c, w, w_ih=wi, bias=b),
         [randn(5, 3, 3), randn(3, 2), randn(3, 2), 0.5 * randn(8, 2), randn(8, 3), randn(8)]),
    ],
    "gru_scan": [
        (lambda xw, h, w, b: ag.gru_scan(xw, h, w, b), [randn(5, 3, 6), randn(3, 2), 0.5 * randn(6, 2), randn(6)]),
        (lambda x, h, w, b, wi, bi: ag.gru_scan(x, h, w, b, w_ih=wi, b_ih=bi),
         [randn(5, 3, 1), randn(3, 2), 0.5 * randn(6, 2), randn(6), randn(6, 1), randn(6)]),
    ],
    "rnn_scan": [
        (lambda xw, h, w: ag.rnn_scan(xw, h, w), [randn(5, 3, 4), randn(3, 4), 0.5 * randn(4, 4)]),
        (lambda xw, h, w: ag.rnn_scan(xw, h, w, "relu"), [randn(5, 3, 4), randn(3, 4), 0.5 * randn(4, 4)]),
        (lambda x, h, w, wi, b: ag.rnn_scan(x, h, w, w_ih=wi, bias=b),
         [randn(5, 3, 2), randn(3, 4), 0.5 * randn(4, 4), randn(4, 2), randn(4)]),
    ],
    # ----- Gating and amplitudes (TFT, TimesNet) -----
    "elu": [(lambda a: ag.elu(a), [away_from_zero(3, 4)]), (lambda a: ag.elu(a, 1.7), [2 * away_from_zero(5)])],
    "glu": [(lambda a: ag.glu(a), [randn(3, 2, 6)]), (lambda a: ag.glu(a, axis=0), [randn(4, 3)])],
    "complex_abs": [(lambda re, im: ag.complex_abs(re, im), [randn(3, 4), randn(3, 4)])],
    # ----- Index -----
    "gather": [
        (lambda a: ag.gather(a, np.array([[3, 0], [1, 1], [2, 0]]), axis=1), [randn(3, 4, 2)]),
        (lambda a: ag.gather(a, np.array([[[1, 0, 2]], [[2, 2, 0]]]), axis=-1), [randn(2, 1, 3)]),
    ],
    "scatter": [
        (lambda a, v: ag.scatter(a, np.array([[2, 0], [1, 3]]), v, axis=1), [randn(2, 4, 3), randn(2, 2, 3)]),
        (lambda a, v: ag.scatter(a, np.array([[0], [2]]), v, axis=-1), [randn(2, 3), randn(2, 1)]),
    ],
    "cumsum": [(lambda a: ag.cumsum(a, axis=1), [randn(2, 5, 3)]), (lambda a: ag.cumsum(a, axis=0), [randn(4)])],
    # ----- Complex -----
    "complex_matmul": [
        (lambda ar, ai, br, bi: ag.complex_matmul(ar, ai, br, bi), [randn(2, 3, 4), randn(2, 3, 4), randn(4, 5), randn(4, 5)]),
        (lambda ar, ai, br, bi: ag.complex_matmul(ar, ai, br, bi),
         [randn(2, 1, 3, 4), randn(2, 1, 3, 4), randn(3, 4, 2), randn(3, 4, 2)]),
    ],
    "complex_tanh": [(lambda re, im: ag.complex_tanh(re, im), [0.7 * randn(3, 4), 0.7 * randn(3, 4)])],
}

_TOLERANCE: dict[str, dict[str, float]] = {"astype": {"eps": 1e-3, "rtol": 1e-3, "atol": 1e-4}}


def test_every_op_in_the_table_has_a_gradient_check() -> None:
    unchecked = sorted(set(OPS) - set(CASES))
    assert not unchecked, f"ops without a gradient check in CASES: {unchecked}"
    assert not sorted(set(CASES) - set(OPS)), "CASES names an op that is not registered"


@pytest.mark.parametrize(
    ("fn", "inputs", "name"),
    [pytest.param(fn, inputs, name, id=f"{name}-{i}") for name, cases in CASES.items() for i, (fn, inputs) in enumerate(cases)],
)
def test_op_gradient(fn: Callable[..., Any], inputs: list[np.ndarray], name: str) -> None:
    check_grads(fn, inputs, **_TOLERANCE.get(name, {}))


def _square_with_wrong_gradient(a: Tensor) -> Tensor:
    """a**2 whose backward forgets the factor 2 (a deliberately broken op)."""
    return ag.result(a.data**2, (a,), lambda g: a.accumulate(g * a.data))


def test_a_wrong_gradient_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"gradient of input 0 .* analytic .* vs numeric"):
        check_grads(_square_with_wrong_gradient, [randn(3, 4)])


def test_a_missing_broadcast_reduction_is_caught() -> None:
    def add_forgetting_unbroadcast(a: Tensor, b: Tensor) -> Tensor:
        return ag.result(a.data + b.data, (a, b), lambda g: (a.accumulate(g), b.accumulate(g[0])))

    with pytest.raises(AssertionError, match="input 1"):
        check_grads(add_forgetting_unbroadcast, [randn(3, 4), randn(4)])


def test_check_grads_accepts_correct_gradients_of_a_composite() -> None:
    check_grads(lambda x, w: (x @ w).tanh().softmax(axis=-1).log().mean(axis=0), [randn(4, 3), randn(3, 5)])
