"""Autoformer-specific checks: the FFT autocorrelation against a direct sum, the time-delay
aggregation against explicit rolls (training: delays of the batch mean; evaluation: each window's
own), its gradients, and the series decomposition."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.models._decomposition import SeriesDecomp
from modreg.runtime.models.autoformer import Autoformer, _AutoCorrelation, _mean_correlation

_R = np.random.default_rng(11)


def _direct_correlation(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """out[b, tau] = mean_c sum_t q[b, (t + tau) % L, c] * k[b, t, c], by loops."""
    b, length, _ = q.shape
    out = np.zeros((b, length))
    for tau in range(length):
        for t in range(length):
            out[:, tau] += (q[:, (t + tau) % length] * k[:, t]).mean(axis=-1)
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("length", [24, 13])
def test_fft_autocorrelation_equals_the_direct_sum(length: int) -> None:
    q, k = _R.standard_normal((3, length, 5)), _R.standard_normal((3, length, 5))
    np.testing.assert_allclose(_mean_correlation(Tensor(q), Tensor(k)).data, _direct_correlation(q, k), atol=1e-12)


@pytest.mark.parametrize("training", [True, False])
def test_time_delay_aggregation_rolls_the_values_by_the_top_k_delays(training: bool) -> None:
    b, length, heads, width = 3, 20, 2, 3
    q, k, v = (_R.standard_normal((b, length, heads, width)) for _ in range(3))
    block = _AutoCorrelation(factor=2).train(training)
    with no_grad():
        out = block(Tensor(q), Tensor(k), Tensor(v)).data.reshape(b, length, -1)
    corr = _direct_correlation(q.reshape(b, length, -1), k.reshape(b, length, -1))
    top_k = int(2 * math.log(length))
    flat = v.reshape(b, length, -1)
    for i in range(b):
        delays = np.argsort(-(corr.mean(axis=0) if training else corr[i]))[:top_k]
        weights = _softmax(corr[i, delays])
        expected = sum(w * np.roll(flat[i], -d, axis=0) for w, d in zip(weights, delays))
        np.testing.assert_allclose(out[i], expected, atol=1e-12)


def test_shorter_keys_are_zero_padded_and_longer_ones_truncated() -> None:
    q = _R.standard_normal((2, 12, 1, 2))
    block = _AutoCorrelation(factor=1).eval()
    for size in (7, 18):
        k, v = _R.standard_normal((2, size, 1, 2)), _R.standard_normal((2, size, 1, 2))
        fitted = [np.concatenate([x, np.zeros((2, 12 - size, 1, 2))], axis=1) if size < 12 else x[:, :12]
                  for x in (k, v)]
        with no_grad():
            got = block(Tensor(q), Tensor(k), Tensor(v)).data
            want = block(Tensor(q), Tensor(fitted[0]), Tensor(fitted[1])).data
        np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("training", [True, False])
def test_autocorrelation_gradients_reach_queries_keys_and_values(training: bool) -> None:
    block = _AutoCorrelation(factor=1).train(training)
    check_grads(lambda q, k, v: block(q, k, v), [_R.standard_normal((2, 8, 2, 2)) for _ in range(3)])


def test_series_decomposition_is_the_edge_padded_moving_average() -> None:
    x = _R.standard_normal((2, 9, 3))
    seasonal, trend = SeriesDecomp(5)(Tensor(x))
    padded = np.concatenate([np.repeat(x[:, :1], 2, axis=1), x, np.repeat(x[:, -1:], 2, axis=1)], axis=1)
    expected = np.stack([padded[:, t:t + 5].mean(axis=1) for t in range(9)], axis=1)
    np.testing.assert_allclose(trend.data, expected, atol=1e-12)
    np.testing.assert_allclose(seasonal.data + trend.data, x, atol=1e-12)


def test_parameters_are_checked() -> None:
    assert Autoformer(h=12, input_size=24).num_parameters() == 290_561
    with pytest.raises(UsageError, match="odd"):
        Autoformer(h=12, input_size=24, MovingAvg_window=24)
    with pytest.raises(UsageError, match="decoder_input_size_multiplier"):
        Autoformer(h=12, input_size=24, decoder_input_size_multiplier=0.99)
