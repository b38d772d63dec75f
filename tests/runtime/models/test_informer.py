"""Informer-specific checks: ProbSparse query selection, output and memory against full attention,
the distilling layer, and the generative decoder input."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.informer import Informer, _ConvLayer, _ProbAttention, _sample_size, _top_queries

_R = np.random.default_rng(5)


def _full_scores(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The dense (B, H, L_Q, L_K) score matrix that ProbSparse avoids."""
    return q @ np.swapaxes(k, -1, -2)


@pytest.mark.parametrize(("l_q", "l_k", "factor"), [(24, 24, 3), (40, 200, 1)])  # dense chunks; gathered keys
def test_selected_queries_are_the_top_u_by_sparsity_of_the_sampled_full_scores(l_q: int, l_k: int, factor: int) -> None:
    q, k = _R.standard_normal((2, 3, l_q, 4)), _R.standard_normal((2, 3, l_k, 4))
    sample = _R.integers(l_k, size=(l_q, _sample_size(factor, l_k)))
    n_top = _sample_size(factor, l_q)
    sampled = np.take_along_axis(_full_scores(q, k), np.broadcast_to(sample, (2, 3) + sample.shape), axis=-1)
    measure = sampled.max(axis=-1) - sampled.sum(axis=-1) / l_k
    expected = np.sort(np.argsort(-measure, axis=-1)[..., :n_top], axis=-1)
    np.testing.assert_array_equal(np.sort(_top_queries(q, k, sample, n_top), axis=-1), expected)


def test_sample_size_is_factor_times_ceil_log_capped_at_the_length() -> None:
    assert _sample_size(3, 24) == 12 and _sample_size(3, 13) == 9 and _sample_size(5, 4) == 4


@pytest.mark.parametrize("mask_flag", [False, True])
def test_active_queries_get_full_attention_and_the_others_the_value_mean_or_running_sum(mask_flag: bool) -> None:
    b, length, heads, width = 2, 24, 2, 4
    q, k, v = (_R.standard_normal((b, length, heads, width)) for _ in range(3))
    attention = _ProbAttention(mask_flag, factor=3).eval()
    with no_grad():
        out = attention(Tensor(q), Tensor(k), Tensor(v)).data  # (B, H, L, E)
    qh, kh, vh = (x.transpose(0, 2, 1, 3) for x in (q, k, v))
    scores = _full_scores(qh, kh) / math.sqrt(width)
    if mask_flag:
        scores = np.where(np.tril(np.ones((length, length), dtype=bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    full = (weights / weights.sum(axis=-1, keepdims=True)) @ vh
    lazy = np.cumsum(vh, axis=2) if mask_flag else np.broadcast_to(vh.mean(axis=2, keepdims=True), vh.shape)
    active = ~np.isclose(out, lazy).all(axis=-1)  # (B, H, L): rows that were attended
    u = _sample_size(3, length)  # (a masked query at position 0 attends to v[0] only, its running sum)
    assert (active.sum(axis=-1) <= u).all() and (mask_flag or (active.sum(axis=-1) == u).all())
    np.testing.assert_allclose(out[active], full[active], rtol=1e-10)
    np.testing.assert_allclose(out[~active], lazy[~active], rtol=1e-10)


def test_probsparse_memory_stays_far_below_full_attention() -> None:
    length, width = 2048, 8
    q, k, v = (Tensor(_R.standard_normal((1, length, 1, width)).astype(np.float32)) for _ in range(3))
    attention = _ProbAttention(False, factor=3).eval()

    def peak(fn) -> int:
        tracemalloc.start()
        with no_grad():
            fn()
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return used

    sparse = peak(lambda: attention(q, k, v))
    full = peak(lambda: nn.scaled_dot_product_attention(q.swapaxes(1, 2), k.swapaxes(1, 2), v.swapaxes(1, 2)))
    assert full >= length * length * 4  # the (L, L) float32 score matrix
    assert sparse < full / 10, (sparse, full)


def test_inference_samples_are_fixed_so_forecasts_repeat() -> None:
    q = Tensor(_R.standard_normal((2, 24, 2, 4)))
    attention = _ProbAttention(False, factor=1).eval()
    with no_grad():
        np.testing.assert_array_equal(attention(q, q, q).data, attention(q, q, q).data)


def test_distilling_layer_is_circular_conv_batchnorm_elu_and_padded_max_pool() -> None:
    rng.seed(0)
    layer = _ConvLayer(3).to_dtype(np.float64).eval()
    x = _R.standard_normal((2, 10, 3))  # (B, L, D)
    with no_grad():
        out = layer(Tensor(x)).data
    xp = np.concatenate([x[:, -2:], x, x[:, :2]], axis=1)  # circular padding 2
    w, bias = layer.downConv.weight.data, layer.downConv.bias.data  # (D, D, 3)
    conv = np.stack([np.einsum("bkc,ock->bo", xp[:, t:t + 3], w) for t in range(12)], axis=1) + bias
    normed = (conv - layer.norm.running_mean) / np.sqrt(layer.norm.running_var + 1e-5)
    act = np.where(normed > 0, normed, np.expm1(normed))
    act = np.pad(act, ((0, 0), (1, 1), (0, 0)), constant_values=-np.inf)
    expected = np.stack([act[:, s:s + 3].max(axis=1) for s in range(0, 12, 2)], axis=1)
    assert out.shape == (2, 6, 3)  # 10 -> (10 + 1) // 2 + 1
    np.testing.assert_allclose(out, expected, rtol=1e-10)


def test_decoder_reads_the_last_half_of_the_window_then_zeros(monkeypatch: pytest.MonkeyPatch) -> None:
    model = Informer(h=4, input_size=8, hidden_size=8, n_head=2, conv_hidden_size=4, precision="float64")
    rng.seed(0)
    network = model._build_network().to_dtype(np.float64).eval()
    seen = []
    original = network.dec_embedding.forward
    monkeypatch.setattr(network.dec_embedding, "forward",
                        lambda x, mark=None: (seen.append(x.data), original(x, mark))[1])
    y = np.arange(16.0).reshape(2, 8)
    with no_grad():
        out = network(WindowBatch(Tensor(y), Tensor(np.ones_like(y))))
    assert out.shape == (2, 4, 1) and model.label_len == 4
    np.testing.assert_array_equal(seen[0][..., 0], np.concatenate([y[:, 4:], np.zeros((2, 4))], axis=1))


def test_parameter_count_at_defaults() -> None:
    assert Informer(h=12, input_size=24).num_parameters() == 341_985
    assert Informer(h=12, input_size=24, distil=False).num_parameters() == 341_985 - 49_536  # the conv layer
