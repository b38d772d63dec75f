"""The fused scans: split across threads they give the same values and gradients as one block, their input
projection equals a `linear` before the scan, and both pass the float64 gradient check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import modreg.runtime.autograd as ag
from modreg.runtime.autograd import Tensor, blas, scan_blocks
from modreg.runtime.autograd.gradcheck import check_grads

_R = np.random.default_rng(7)


def _lstm(*args: Any, **kwargs: Any) -> Tensor:
    """lstm_scan's hidden states and final cell state as one tensor, (T + 1, B, H)."""
    hs, c_last = ag.lstm_scan(*args, **kwargs)
    return ag.concat([hs, c_last.unsqueeze(0)], axis=0)
T, B, H, F = 4, 2 * scan_blocks._MIN_ROWS + 3, 3, 2  # two blocks of rows on two threads

SCANS: dict[str, tuple[Callable[..., Any], list[np.ndarray]]] = {
    "lstm": (lambda xw, h, c, w: _lstm(xw, h, c, w),
             [_R.standard_normal((T, B, 4 * H)), _R.standard_normal((B, H)), _R.standard_normal((B, H)),
              0.5 * _R.standard_normal((4 * H, H))]),
    "gru": (lambda xw, h, w, b: ag.gru_scan(xw, h, w, b),
            [_R.standard_normal((T, B, 3 * H)), _R.standard_normal((B, H)), 0.5 * _R.standard_normal((3 * H, H)),
             _R.standard_normal(3 * H)]),
    "rnn": (lambda xw, h, w: ag.rnn_scan(xw, h, w), [_R.standard_normal((T, B, H)), _R.standard_normal((B, H)),
                                                      0.5 * _R.standard_normal((H, H))]),
    "rnn-relu": (lambda xw, h, w: ag.rnn_scan(xw, h, w, "relu"),
                 [_R.standard_normal((T, B, H)), _R.standard_normal((B, H)), 0.5 * _R.standard_normal((H, H))]),
    "lstm-projected": (lambda x, h, c, w, wi, b: _lstm(x, h, c, w, w_ih=wi, bias=b),
                       [_R.standard_normal((T, B, F)), _R.standard_normal((B, H)), _R.standard_normal((B, H)),
                        0.5 * _R.standard_normal((4 * H, H)), _R.standard_normal((4 * H, F)), _R.standard_normal(4 * H)]),
    "gru-projected": (lambda x, h, w, b, wi, bi: ag.gru_scan(x, h, w, b, w_ih=wi, b_ih=bi),
                      [_R.standard_normal((T, B, F)), _R.standard_normal((B, H)), 0.5 * _R.standard_normal((3 * H, H)),
                       _R.standard_normal(3 * H), _R.standard_normal((3 * H, F)), _R.standard_normal(3 * H)]),
    "rnn-projected": (lambda x, h, w, wi, b: ag.rnn_scan(x, h, w, w_ih=wi, bias=b),
                      [_R.standard_normal((T, B, F)), _R.standard_normal((B, H)), 0.5 * _R.standard_normal((H, H)),
                       _R.standard_normal((H, F)), _R.standard_normal(H)]),
}


def _values_and_grads(fn: Callable[..., Any], inputs: list[np.ndarray]) -> list[np.ndarray]:
    tensors = [Tensor(x.copy(), requires_grad=True) for x in inputs]
    out = fn(*tensors)
    (out * Tensor(np.linspace(-1.0, 1.0, out.data.size).reshape(out.shape))).sum().backward()
    return [out.data, *(t.grad for t in tensors)]


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blas._state, "cap", 2)
    monkeypatch.setattr(scan_blocks, "_MIN_BLOCK_MACS", 1)  # split these tiny scans too


@pytest.mark.parametrize("name", sorted(SCANS))
def test_a_scan_split_over_threads_equals_one_block(name: str, two_threads: None) -> None:
    fn, inputs = SCANS[name]
    with blas.ceiling(1):
        single = _values_and_grads(fn, inputs)
    with blas.ceiling(2):
        split = _values_and_grads(fn, inputs)
    for one, two in zip(single, split):
        np.testing.assert_allclose(two, one, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(SCANS))
def test_a_scan_split_over_threads_passes_the_float64_gradient_check(name: str, two_threads: None) -> None:
    fn, inputs = SCANS[name]
    with blas.ceiling(2):
        check_grads(fn, inputs)


def test_blocks_cover_every_row_once_and_small_batches_stay_whole(two_threads: None) -> None:
    seen: list[tuple[int, int]] = []
    with blas.ceiling(2):
        seen += [(rows.start, rows.stop) for rows in scan_blocks.Blocks(B).rows]
        seen += [(rows.start, rows.stop) for rows in scan_blocks.Blocks(scan_blocks._MIN_ROWS).rows]
    assert sorted(seen[:2]) == [(0, B // 2), (B // 2, B)] and seen[2:] == [(0, scan_blocks._MIN_ROWS)]


def test_a_batch_whose_blocks_would_do_too_little_work_stays_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blas._state, "cap", 2)
    seen: list[tuple[int, int]] = []
    small = scan_blocks._MIN_BLOCK_MACS // B  # B rows of this work make one block's worth, not two
    with blas.ceiling(2):
        seen += [(rows.start, rows.stop) for rows in scan_blocks.Blocks(B, small).rows]
        seen += [(rows.start, rows.stop) for rows in scan_blocks.Blocks(B, 4 * small).rows]
    assert seen[0] == (0, B) and sorted(seen[1:]) == [(0, B // 2), (B // 2, B)]


_ZERO = Tensor(np.zeros((B, H)))  # a zero initial state without a gradient, as the encoders start
ZERO_START: dict[str, tuple[Callable[..., Any], list[np.ndarray]]] = {
    "lstm": (lambda xw, w: _lstm(xw, _ZERO, _ZERO, w), [SCANS["lstm"][1][0], SCANS["lstm"][1][3]]),
    "gru": (lambda xw, w, b: ag.gru_scan(xw, _ZERO, w, b), [SCANS["gru"][1][0], *SCANS["gru"][1][2:]]),
    "rnn": (lambda xw, w: ag.rnn_scan(xw, _ZERO, w), [SCANS["rnn"][1][0], SCANS["rnn"][1][2]]),
}


@pytest.mark.parametrize("name", sorted(ZERO_START))
def test_a_scan_from_a_zero_state_without_gradient_passes_the_gradient_check(name: str) -> None:
    """Step 0's recurrent product (zero) and the product feeding dh0 (not needed) are skipped."""
    fn, inputs = ZERO_START[name]
    check_grads(fn, inputs)


@pytest.mark.parametrize("name", sorted(ZERO_START))
def test_a_scan_from_a_zero_state_equals_one_from_a_zero_state_with_gradient(name: str) -> None:
    fn, inputs = ZERO_START[name]
    with_grad = {"lstm": lambda xw, w: _lstm(xw, Tensor(np.zeros((B, H)), requires_grad=True), _ZERO, w),
                 "gru": lambda xw, w, b: ag.gru_scan(xw, Tensor(np.zeros((B, H)), requires_grad=True), w, b),
                 "rnn": lambda xw, w: ag.rnn_scan(xw, Tensor(np.zeros((B, H)), requires_grad=True), w)}[name]
    for skipped, full in zip(_values_and_grads(fn, inputs), _values_and_grads(with_grad, inputs)):
        np.testing.assert_array_equal(skipped, full)


_PROJECTED = {
    "lstm": (lambda x, wi, b, w: _lstm(x, _ZERO, _ZERO, w, w_ih=wi, bias=b),
             lambda x, wi, b, w: _lstm(ag.linear(x, wi, b), _ZERO, _ZERO, w), 4),
    "gru": (lambda x, wi, b, w: ag.gru_scan(x, _ZERO, w, b, w_ih=wi, b_ih=b),
            lambda x, wi, b, w: ag.gru_scan(ag.linear(x, wi, b), _ZERO, w, b), 3),
    "rnn": (lambda x, wi, b, w: ag.rnn_scan(x, _ZERO, w, w_ih=wi, bias=b),
            lambda x, wi, b, w: ag.rnn_scan(ag.linear(x, wi, b), _ZERO, w), 1),
}


@pytest.mark.parametrize("features", [1, 5])  # one feature takes the broadcast product, more a matmul
@pytest.mark.parametrize("name", sorted(_PROJECTED))
def test_a_scan_projecting_its_input_equals_a_linear_then_the_scan(name: str, features: int, two_threads: None) -> None:
    fused, composed, gates = _PROJECTED[name]
    inputs = [_R.standard_normal((T, B, features)), _R.standard_normal((gates * H, features)),
              _R.standard_normal(gates * H), 0.5 * _R.standard_normal((gates * H, H))]
    with blas.ceiling(2):
        for one, two in zip(_values_and_grads(fused, inputs), _values_and_grads(composed, inputs)):
            np.testing.assert_allclose(one, two, rtol=1e-10, atol=1e-12)
