"""Layers: PyTorch's parameter counts and initialisation, shapes, train/eval behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor

_R = np.random.default_rng(3)


def _x(*shape: int) -> Tensor:
    return Tensor(_R.standard_normal(shape).astype(np.float32))


# Expected counts by PyTorch's formulas (torch is not installed here).
@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (lambda: nn.Linear(24, 512), 24 * 512 + 512),
        (lambda: nn.Linear(7, 3, bias=False), 21),
        (lambda: nn.LSTM(1, 200, num_layers=2), 4 * (200 * 1 + 200 * 200 + 2 * 200) + 4 * (200 * 200 + 200 * 200 + 2 * 200)),
        (lambda: nn.GRU(3, 16, num_layers=3), 3 * (16 * 3 + 16 * 16 + 32) + 2 * 3 * (16 * 16 + 16 * 16 + 32)),
        (lambda: nn.RNN(5, 8, num_layers=2), (8 * 5 + 64 + 16) + (64 + 64 + 16)),
        (lambda: nn.Conv1d(6, 4, 3, groups=2), 4 * 3 * 3 + 4),
        (lambda: nn.Conv1d(2, 5, 4, bias=False), 5 * 2 * 4),
        (lambda: nn.Conv2d(3, 4, (3, 2)), 4 * 3 * 3 * 2 + 4),
        (lambda: nn.CausalConv1d(3, 8, 2, dilation=4), 8 * 3 * 2 + 8),
        (lambda: nn.MultiHeadAttention(16, 4), 4 * (16 * 16 + 16)),
        (lambda: nn.LayerNorm(10), 20),
        (lambda: nn.BatchNorm1d(6), 12),
        (lambda: nn.Embedding(7, 3), 21),
        (lambda: nn.RevIN(4), 8),
    ],
)
def test_parameter_counts_equal_pytorch(layer, expected: int) -> None:  # type: ignore[no-untyped-def]
    assert layer().num_parameters() == expected


def test_linear_and_conv_initialisation_bounds_follow_fan_in() -> None:
    rng.seed(0)
    linear = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert np.abs(linear.weight.data).max() <= bound and np.abs(linear.bias.data).max() <= bound
    assert linear.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)  # U(-b, b)
    conv = nn.Conv1d(8, 16, 5, groups=2)
    assert np.abs(conv.weight.data).max() <= 1 / math.sqrt(4 * 5)
    lstm = nn.LSTM(3, 64)
    assert np.abs(lstm.weight_hh_l0.data).max() <= 1 / 8 and lstm.weight_hh_l0.dtype == np.float32


def test_seed_makes_initialisation_reproducible() -> None:
    rng.seed(5)
    a = nn.Linear(4, 4).weight.data
    rng.seed(5)
    np.testing.assert_array_equal(a, nn.Linear(4, 4).weight.data)


def test_dropout_trains_and_evaluates_like_pytorch() -> None:
    rng.seed(0)
    drop = nn.Dropout(0.25)
    x = Tensor(np.ones((400, 250), np.float32))
    y = drop(x).data
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert drop.eval()(x) is x
    with pytest.raises(ValueError, match="dropout probability"):
        nn.Dropout(1.0)


def test_batchnorm_uses_batch_stats_in_training_and_running_stats_in_eval() -> None:
    bn = nn.BatchNorm1d(3, momentum=0.5)
    x = Tensor((5.0 + 2.0 * _R.standard_normal((64, 3, 10))).astype(np.float32))
    y = bn(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 2)), 1.0, atol=1e-3)
    n = 64 * 10
    np.testing.assert_allclose(bn.running_mean, 0.5 * x.data.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, 0.5 + 0.5 * x.data.var(axis=(0, 2)) * n / (n - 1), rtol=1e-5)
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    expected = (x.data - bn.running_mean[None, :, None]) / np.sqrt(bn.running_var[None, :, None] + bn.eps)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-5, atol=1e-5)
    assert nn.BatchNorm2d(3)(_x(2, 3, 4, 5)).shape == (2, 3, 4, 5)
    assert nn.BatchNorm1d(3)(_x(8, 3)).shape == (8, 3)


def test_layernorm_normalises_the_last_axis() -> None:
    y = nn.LayerNorm(6)(_x(4, 5, 6) * 3 + 1).data
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-6)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, atol=1e-3)


def test_embedding_looks_up_rows_and_checks_range() -> None:
    emb = nn.Embedding(5, 3)
    idx = np.array([[0, 4], [4, 4]])
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[:, 0], [1, 0, 0, 0, 3])
    with pytest.raises(IndexError, match="out of range"):
        emb(np.array([5]))


def test_revin_denorm_inverts_norm() -> None:
    revin = nn.RevIN(2)
    x = _x(3, 12, 2) * 10 + 4
    y = revin.norm(x)
    np.testing.assert_allclose(y.data.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(revin.denorm(y).data, x.data, rtol=1e-4, atol=1e-4)
    last = nn.RevIN(2, subtract_last=True, affine=False)
    np.testing.assert_allclose(last.norm(x).data[:, -1], 0.0, atol=1e-6)
    with pytest.raises(RuntimeError, match="before norm"):
        nn.RevIN(2).denorm(y)


def test_conv_shapes() -> None:
    assert nn.Conv1d(3, 5, 3, stride=2, padding=1, dilation=2)(_x(2, 3, 20)).shape == (2, 5, 9)
    assert nn.Conv2d(3, 4, 3, padding=1)(_x(2, 3, 6, 7)).shape == (2, 4, 6, 7)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv1d(3, 4, 2, groups=2)


def test_causal_conv_never_looks_ahead() -> None:
    conv = nn.CausalConv1d(2, 3, kernel_size=3, dilation=2)
    x = _R.standard_normal((1, 2, 16)).astype(np.float32)
    changed = x.copy()
    changed[:, :, 10:] += 5.0
    a, b = conv(Tensor(x)).data, conv(Tensor(changed)).data
    assert a.shape == (1, 3, 16)
    np.testing.assert_array_equal(a[:, :, :10], b[:, :, :10])
    assert not np.allclose(a[:, :, 10:], b[:, :, 10:])


@pytest.mark.parametrize(("kernel", "dilation", "relu"), [(2, 1, False), (2, 16, True), (3, 4, False), (2, 30, True)])
def test_causal_conv_time_major_equals_the_padded_convolution(kernel: int, dilation: int, relu: bool) -> None:
    conv = nn.CausalConv1d(3, 5, kernel_size=kernel, dilation=dilation).to_dtype(np.float64)
    x = _R.standard_normal((4, 3, 24))
    expected = conv(Tensor(x)).data.transpose(2, 0, 1)  # (B, C, L) -> (L, B, C)
    got = conv.time_major(Tensor(x.transpose(2, 0, 1)), relu=relu).data
    np.testing.assert_allclose(got, np.maximum(expected, 0) if relu else expected, atol=1e-12)


def test_attention_masks_and_shapes() -> None:
    q, k, v = _x(2, 3, 5, 4), _x(2, 3, 6, 4), _x(2, 3, 6, 2)
    assert nn.scaled_dot_product_attention(q, k, v).shape == (2, 3, 5, 2)
    only_first = np.zeros((5, 6), dtype=bool)
    only_first[:, 0] = True
    out = nn.scaled_dot_product_attention(q, k, v, mask=only_first).data
    np.testing.assert_allclose(out, np.broadcast_to(v.data[:, :, :1], out.shape), rtol=1e-6)
    causal = nn.scaled_dot_product_attention(q, k, v, is_causal=True).data
    np.testing.assert_allclose(causal[:, :, 0], v.data[:, :, 0], rtol=1e-6)


def test_multi_head_attention_forward_and_backward() -> None:
    mha = nn.MultiHeadAttention(8, 2, dropout=0.1)
    x = Tensor(_R.standard_normal((2, 5, 8)).astype(np.float32), requires_grad=True)
    out = mha(x, x, x)
    assert out.shape == (2, 5, 8)
    out.sum().backward()
    assert x.grad.shape == (2, 5, 8) and mha.query_projection.weight.grad is not None
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x).data, mha(x, x, x).data)
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiHeadAttention(10, 3)
