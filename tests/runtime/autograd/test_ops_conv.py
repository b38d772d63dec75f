"""causal_conv split into row blocks over threads: the same values and gradients as one block, gradient-checked."""

from __future__ import annotations

import numpy as np
import pytest

from modreg.runtime.autograd import Tensor, blas, scan_blocks
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.autograd.ops_conv import causal_conv

_R = np.random.default_rng(11)
L, B = 6, 2 * scan_blocks._MIN_ROWS + 1  # two blocks of rows on two threads


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blas._state, "cap", 2)
    monkeypatch.setattr(scan_blocks, "_MIN_BLOCK_MACS", 1)  # split these tiny convolutions too


def _values_and_grads(inputs: list[np.ndarray], dilation: int, relu: bool) -> list[np.ndarray]:
    tensors = [Tensor(a.copy(), requires_grad=True) for a in inputs]
    out = causal_conv(*tensors, dilation=dilation, relu=relu)
    (out * Tensor(np.linspace(-1.0, 1.0, out.data.size).reshape(out.shape))).sum().backward()
    return [out.data, *(t.grad for t in tensors)]


@pytest.mark.parametrize(("c_in", "dilation", "relu"), [(1, 1, True), (3, 2, False), (2, 4, True)])
def test_causal_conv_split_over_threads_equals_one_block(c_in: int, dilation: int, relu: bool,
                                                         two_threads: None) -> None:
    inputs = [_R.standard_normal((L, B, c_in)), _R.standard_normal((4, c_in, 2)), _R.standard_normal(4)]
    with blas.ceiling(1):
        single = _values_and_grads(inputs, dilation, relu)
    with blas.ceiling(2):
        split = _values_and_grads(inputs, dilation, relu)
    for one, two in zip(single, split, strict=True):
        np.testing.assert_allclose(two, one, rtol=1e-12, atol=1e-12)


def test_causal_conv_split_over_threads_passes_the_float64_gradient_check(two_threads: None) -> None:
    with blas.ceiling(2):
        check_grads(lambda x, w, b: causal_conv(x, w, b, dilation=2, relu=True),
                    [_R.standard_normal((L, B, 2)), _R.standard_normal((3, 2, 3)), _R.standard_normal(3)])
