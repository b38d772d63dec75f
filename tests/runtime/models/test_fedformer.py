"""FEDformer-specific checks: the Fourier block and the Fourier cross-attention against a direct DFT
computation, the mode selection (kept with a saved model), and PyTorch's count of complex weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.base import Forecaster
from modreg.runtime.models.fedformer import FEDformer, _FourierBlock, _FourierCrossAttention, _frequency_modes

DATA = Path(__file__).resolve().parents[2] / "data"
_R = np.random.default_rng(3)


def _dft(x: np.ndarray) -> np.ndarray:
    """Half spectrum of x (..., L) by the DFT sum: X[f] = sum_t x[t] exp(-2 pi i f t / L), f <= L // 2."""
    length = x.shape[-1]
    f, t = np.arange(length // 2 + 1)[:, None], np.arange(length)[None, :]
    return x @ np.exp(-2j * np.pi * f * t / length).T


def _inverse_dft(z: np.ndarray, length: int) -> np.ndarray:
    """Real signal from a half spectrum (irfft): the imaginary parts of DC and Nyquist are ignored."""
    f = np.arange(z.shape[-1])
    weights = np.where((f == 0) | (2 * f == length), 1.0, 2.0)
    waves = np.exp(2j * np.pi * f[:, None] * np.arange(length)[None, :] / length)  # (F, L)
    return ((z * weights) @ waves).real / length


def _weights(block: _FourierBlock | _FourierCrossAttention) -> np.ndarray:
    return block.weights1.data[..., 0] + 1j * block.weights1.data[..., 1]  # (H, E, O, M)


def _block(cls: type, *args: object) -> _FourierBlock | _FourierCrossAttention:
    rng.seed(2)
    block = cls(*args).to_dtype(np.float64)
    block.weights1.data = _R.standard_normal(block.weights1.shape)  # make the outputs far from 0
    return block


def test_fourier_block_equals_the_direct_dft_computation() -> None:
    b, length, heads, width = 2, 20, 8, 2
    block = _block(_FourierBlock, 16, 16, length, 4, "random")
    q = _R.standard_normal((b, length, heads, width))
    with no_grad():
        out = block(Tensor(q), None, None).data  # (B, H, E, L)
    spectrum = _dft(q.transpose(0, 2, 3, 1))[..., block.index]  # (B, H, E, M)
    mixed = np.einsum("bhem,heom->bhom", spectrum, _weights(block))
    full = np.zeros((b, heads, width, length // 2 + 1), dtype=complex)
    full[..., : len(block.index)] = mixed  # neuralforecast writes mode w to bin w
    np.testing.assert_allclose(out, _inverse_dft(full, length), atol=1e-10)


def test_fourier_cross_attention_equals_the_direct_dft_computation() -> None:
    b, l_q, l_kv, heads, width = 2, 18, 24, 8, 2
    block = _block(_FourierCrossAttention, 16, 16, l_q, l_kv, 5, "random")
    q, k = _R.standard_normal((b, l_q, heads, width)), _R.standard_normal((b, l_kv, heads, width))
    with no_grad():
        out = block(Tensor(q), Tensor(k), None).data
    xq = _dft(q.transpose(0, 2, 3, 1))[..., block.index_q]
    xk = _dft(k.transpose(0, 2, 3, 1))[..., block.index_kv]
    qk = np.tanh(np.einsum("bhex,bhey->bhxy", xq, xk))
    mixed = np.einsum("bhex,heox->bhox", np.einsum("bhxy,bhey->bhex", qk, xk), _weights(block))
    full = np.zeros((b, heads, width, l_q // 2 + 1), dtype=complex)
    full[..., block.index_q] = mixed / (16 * 16)
    np.testing.assert_allclose(out, _inverse_dft(full, l_q), atol=1e-10)


def test_fourier_blocks_have_correct_gradients() -> None:
    block = _block(_FourierCrossAttention, 8, 8, 10, 12, 3, "random")
    check_grads(lambda q, k: block(q, k, None), [_R.standard_normal((2, 10, 8, 1)), _R.standard_normal((2, 12, 8, 1))])


def test_modes_are_random_sorted_and_distinct_or_the_lowest() -> None:
    rng.seed(0)
    random = _frequency_modes(200, 64, "random")
    assert len(random) == 64 and (np.diff(random) > 0).all() and random.max() < 100 and random.max() > 63
    np.testing.assert_array_equal(_frequency_modes(200, 64, "low"), np.arange(64))
    np.testing.assert_array_equal(_frequency_modes(24, 64, "random"), np.arange(12))  # all of L // 2


def test_random_modes_follow_the_seed_and_are_saved_with_the_model(tmp_path: Path) -> None:
    frame = read_series_csv(DATA / "air_passengers.csv")
    small = dict(h=6, input_size=36, modes=4, hidden_size=16, conv_hidden_size=4, max_steps=1, windows_batch_size=4)
    model = FEDformer(**small, random_seed=1).fit(frame)
    index = model.network.encoder.attn_layers[0].attention.inner_correlation.index.copy()
    loaded = Forecaster.load(model.save(tmp_path / "fed.npz"))
    np.testing.assert_array_equal(loaded.network.encoder.attn_layers[0].attention.inner_correlation.index, index)
    np.testing.assert_array_equal(loaded.predict().point, model.predict().point)
    other = FEDformer(**small, random_seed=2).fit(frame)
    assert not np.array_equal(other.network.encoder.attn_layers[0].attention.inner_correlation.index, index)


def test_complex_weights_count_once_and_the_encoder_block_is_shared() -> None:
    model = FEDformer(h=12, input_size=24)
    assert model.num_parameters() == 364_289
    rng.seed(0)
    network = model._build_network()
    first, second = (layer.attention.inner_correlation for layer in network.encoder.attn_layers)
    assert first is second and first.weights1.shape == (8, 16, 16, 12, 2)


def test_only_eight_heads_and_the_fourier_version_are_accepted() -> None:
    with pytest.raises(Exception, match="n_head"):
        FEDformer(h=12, input_size=24, n_head=4).check_params()
    with pytest.raises(Exception, match="version"):
        FEDformer(h=12, input_size=24, version="Wavelets").check_params()
