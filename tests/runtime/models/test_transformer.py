"""Checks of the pieces Informer, Autoformer and FEDformer share: the embeddings (circular value
convolution, sinusoidal positions, future exogenous marks), the seasonal layer norm, and the real
Fourier transforms (DFT matrices or FFT)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.runtime import factory, rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models import _fourier
from modreg.runtime.models._decomposition import SeasonalLayerNorm
from modreg.runtime.models._transformer import DataEmbedding, positional_table

DATA = Path(__file__).resolve().parents[2] / "data"
H = 6
_R = np.random.default_rng(8)


def test_positional_table_is_sines_and_cosines_of_geometric_frequencies() -> None:
    table = positional_table(7, 6, "<f8")
    pos, i = 5, 2  # column pair 2i, 2i + 1
    angle = pos / 10000 ** (2 * i / 6)
    np.testing.assert_allclose(table[pos, 2 * i:2 * i + 2], [np.sin(angle), np.cos(angle)])


def test_data_embedding_sums_circular_convolution_positions_and_marks() -> None:
    rng.seed(0)
    embedding = DataEmbedding(1, 2, 4, pos_embedding=True, dropout=0.5).to_dtype(np.float64).eval()
    x, marks = _R.standard_normal((2, 5, 1)), _R.standard_normal((2, 5, 2))
    with no_grad():
        out = embedding(Tensor(x), Tensor(marks)).data
    w = embedding.value_embedding.tokenConv.weight.data[:, 0]  # (D, 3)
    wrapped = np.concatenate([x[:, -1:], x, x[:, :1]], axis=1)[..., 0]  # circular padding 1
    conv = np.stack([wrapped[:, t:t + 3] @ w.T for t in range(5)], axis=1)
    expected = conv + positional_table(5, 4, "<f8") + marks @ embedding.temporal_embedding.weight.data.T
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_seasonal_layer_norm_leaves_zero_mean_over_time() -> None:
    out = SeasonalLayerNorm(4)(Tensor(_R.standard_normal((2, 6, 4)))).data
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-6)


@pytest.fixture(params=["dft", "fft"])
def transform(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with DFT matrices and again with the FFT ops."""
    if request.param == "fft":
        monkeypatch.setattr(_fourier, "DFT_MAX", 0)
    return request.param


@pytest.mark.parametrize("n", [10, 9])
def test_spectrum_and_signal_are_rfft_and_irfft_at_chosen_bins(transform: str, n: int) -> None:
    x = _R.standard_normal((2, n, 3))
    re, im = _fourier.spectrum(Tensor(x), axis=1)
    np.testing.assert_allclose(re.data + 1j * im.data, np.fft.rfft(x, axis=1), atol=1e-12)
    bins = np.array([0, 2, 3])
    re, im = _fourier.spectrum(Tensor(x.swapaxes(1, 2)), axis=-1, bins=bins)
    np.testing.assert_allclose(re.data + 1j * im.data, np.fft.rfft(x.swapaxes(1, 2))[..., bins], atol=1e-12)
    z = _R.standard_normal((2, 3, 3)) + 1j * _R.standard_normal((2, 3, 3))
    full = np.zeros((2, 3, n // 2 + 1), dtype=complex)
    full[..., bins] = z
    out = _fourier.signal(Tensor(z.real), Tensor(z.imag), n, axis=-1, bins=bins)
    np.testing.assert_allclose(out.data, np.fft.irfft(full, n=n), atol=1e-12)


def test_transforms_have_correct_gradients(transform: str) -> None:
    def roundtrip(x: Tensor) -> Tensor:
        re, im = _fourier.spectrum(x, axis=1, bins=np.array([1, 3]))
        return _fourier.signal(re * re, im, 8, axis=1, bins=np.array([0, 2]))

    check_grads(roundtrip, [_R.standard_normal((2, 8, 3))])


@pytest.mark.parametrize("name", ["Informer", "Autoformer", "FEDformer"])
def test_future_exogenous_marks_reach_the_forecast(name: str) -> None:
    data = read_series_csv(DATA / "us_change.csv")
    train, n = data.slice_end(H), data.lengths[0]
    small = dict(h=H, input_size=12, hidden_size=16, conv_hidden_size=4, max_steps=1, windows_batch_size=8)
    model = factory.create(name, **small, futr_exog_list=("income",)).fit(train)

    def future(income: np.ndarray) -> SeriesFrame:
        return SeriesFrame.from_arrays([data.y[0][-H:]], ids=data.ids, ds=[data.ds[0][n - H:]],
                                       exog={"income": [income]})

    base = model.predict(futr=future(data.exog["income"][0][-H:])).point
    moved = model.predict(futr=future(data.exog["income"][0][-H:] + 5.0)).point
    assert np.isfinite(base).all() and not np.allclose(base, moved)
    with pytest.raises(Exception, match="future exogenous"):
        model.predict()
    with pytest.raises(Exception, match="no parameter `hist_exog_list`"):
        factory.create(name, **small, hist_exog_list=("savings",))
