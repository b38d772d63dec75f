"""TimesNet-specific checks: FFT period discovery, 1-D -> 2-D folding, the Inception block, amplitude weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, conv2d
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.timesnet import TimesNet, _InceptionBlock, _TimesBlock, fft_periods

DATA = Path(__file__).resolve().parents[2] / "data"
_R = np.random.default_rng(11)


def test_fft_finds_the_periods_of_a_synthetic_series_strongest_first() -> None:
    t = np.arange(36.0)
    wave = 2.0 * np.sin(2 * np.pi * t / 12) + 1.0 * np.cos(2 * np.pi * t / 4) + 0.5 * np.sin(2 * np.pi * t / 18)
    x = Tensor(np.stack([wave + 10.0, 0.9 * wave - 3.0])[:, :, None] * np.ones((1, 1, 3)))  # (B=2, T=36, N=3)
    periods, amplitude = fft_periods(x, 3)
    assert list(periods) == [12, 4, 18]  # the level (frequency 0) never counts
    assert amplitude.shape == (2, 3)
    np.testing.assert_allclose(amplitude.data[0], [36.0, 18.0, 9.0], rtol=1e-9)  # |rfft| = n * a / 2 per wave


def test_inception_block_equals_the_mean_of_its_separate_same_convolutions() -> None:
    rng.seed(0)
    block = _InceptionBlock(3, 4, num_kernels=4).to_dtype(np.float64)
    for kernel in block.kernels:
        kernel.bias.data = _R.standard_normal(kernel.bias.shape)
    for rows, cols in [(1, 9), (2, 5), (6, 7), (8, 8)]:  # small inputs crop the taps that only see padding
        x = Tensor(_R.standard_normal((2, 3, rows, cols)))
        expected = np.mean([conv2d(x, k.weight, k.bias, padding=i).data for i, k in enumerate(block.kernels)], axis=0)
        np.testing.assert_allclose(block(x).data, expected, rtol=1e-10, atol=1e-12)


def test_inception_gradients_reach_every_kernel() -> None:
    rng.seed(1)
    block = _InceptionBlock(2, 2, num_kernels=3).to_dtype(np.float64)
    block(Tensor(_R.standard_normal((1, 2, 2, 6)))).sum().backward()
    grads = [k.weight.grad for k in block.kernels]
    assert all(g is not None and g.shape == k.weight.shape for g, k in zip(grads, block.kernels))
    assert np.all(grads[2][:, :, [0, 4]] == 0)  # rows 2 away from the centre never touch a 2-row input


def _reference_block(block: _TimesBlock, x: np.ndarray) -> np.ndarray:
    """TimesBlock by neuralforecast's recipe, each Inception kernel applied separately."""
    b, t, n = x.shape
    spectrum = np.abs(np.fft.rfft(x, axis=1))
    ranking = spectrum.mean(axis=(0, 2))
    ranking[0] = 0
    top = np.argsort(-ranking, kind="stable")[:block.k]
    outs = []
    for period in t // top:
        length = -(-t // period) * period
        grid = np.concatenate([x, np.zeros((b, length - t, n))], axis=1).reshape(b, length // period, period, n)
        z = Tensor(grid.transpose(0, 3, 1, 2))
        for i, inception in enumerate(block.conv):
            z = Tensor(np.mean([conv2d(z, k.weight, k.bias, padding=j).data for j, k in enumerate(inception.kernels)],
                               axis=0))
            z = z.gelu() if i == 0 else z
        outs.append(z.data.transpose(0, 2, 3, 1).reshape(b, length, n)[:, :t])
    weights = spectrum.mean(axis=2)[:, top]
    weights = np.exp(weights - weights.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)
    return (np.stack(outs, -1) * weights[:, None, None, :]).sum(-1) + x


def test_times_block_folds_each_period_to_2d_and_weighs_by_amplitude() -> None:
    rng.seed(2)
    block = _TimesBlock(k=3, hidden_size=4, conv_hidden_size=5, num_kernels=3).to_dtype(np.float64)
    t = np.arange(36.0)[None, :, None]
    x = np.sin(2 * np.pi * t / 7) + 0.3 * _R.standard_normal((2, 36, 4))  # period 7: 6 cycles, 6 zeros of padding
    np.testing.assert_allclose(block(Tensor(x)).data, _reference_block(block, x), rtol=1e-9, atol=1e-11)


def test_top_k_must_fit_the_spectrum() -> None:
    with pytest.raises(UsageError, match="top_k"):
        TimesNet(h=2, input_size=4, top_k=4)


def test_future_exogenous_values_feed_the_embedding() -> None:
    data = read_series_csv(DATA / "us_change.csv")
    train = data.slice_end(12)
    futr = SeriesFrame.from_arrays([data.y[0][-12:]], ids=data.ids, ds=[data.ds[0][-12:]],
                                   exog={"income": [data.exog["income"][0][-12:]]})
    model = TimesNet(h=12, input_size=24, futr_exog_list=("income",), hidden_size=8, conv_hidden_size=8, num_kernels=2,
                     top_k=2, max_steps=2, windows_batch_size=8).fit(train)
    assert model.network.enc_embedding.temporal_embedding.weight.shape == (8, 1)
    base = model.predict(futr=futr).point
    assert np.isfinite(base).all()
    changed = SeriesFrame.from_arrays(train.y, ids=train.ids, ds=train.ds, exog={**train.exog,
                                      "income": [train.exog["income"][0][::-1]]})
    assert not np.allclose(model.predict(changed, futr=futr).point, base)
