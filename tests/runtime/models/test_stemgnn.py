"""StemGNN-specific checks: the network against neuralforecast's, the learned graph, the Chebyshev filters, the DFT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import factory, nn, rng
from modreg.runtime.autograd import Tensor, irfft, no_grad, rfft
from modreg.runtime.models.stemgnn import StemGNN, chebyshev_filters, full_spectrum, normalized_laplacian

DATA = Path(__file__).resolve().parents[2] / "data"
_R = np.random.default_rng(5)


def _network(n_series: int = 3, input_size: int = 4, h: int = 2, multi_layer: int = 1, **params: Any) -> nn.Module:
    rng.seed(0)
    model = StemGNN(h=h, input_size=input_size, n_series=n_series, multi_layer=multi_layer, **params)
    return model._build_network().to_dtype(np.float64)


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert StemGNN(h=12, input_size=24, n_series=4).num_parameters() == 4_221_980


def test_only_two_stacks_are_supported() -> None:
    with pytest.raises(UsageError, match="n_stacks"):
        factory.create("StemGNN", h=12, input_size=24, n_stacks=3)


def test_forecast_and_gradients_equal_neuralforecasts() -> None:
    """tests/data/stemgnn_neuralforecast.npz: weights, input, output and gradients from neuralforecast 3.3.0."""
    ref = np.load(DATA / "stemgnn_neuralforecast.npz")
    network = _network().eval()
    network.load_state_dict({k[6:]: ref[k] for k in ref.files if k.startswith("state/")}, strict=True)
    x = Tensor(ref["insample_y"], requires_grad=True)
    out = network.forecast(x)[..., 0]  # (B, h, N, 1) -> (B, h, N)
    np.testing.assert_allclose(out.data, ref["forecast"], rtol=1e-10, atol=1e-12)
    (out * ref["loss_weights"]).sum().backward()
    np.testing.assert_allclose(x.grad, ref["grad/insample_y"], rtol=1e-9, atol=1e-12)
    for name, param in network.named_parameters():
        if f"grad/{name}" in ref.files:
            np.testing.assert_allclose(param.grad, ref[f"grad/{name}"], rtol=1e-9, atol=1e-12, err_msg=name)
        else:  # the second block's backcast shortcut exists but is never used, as in the reference
            assert name.startswith("stock_block.1.backcast_short_cut") and param.grad is None


def _adjacency(n: int) -> np.ndarray:
    scores = _R.standard_normal((n, n))
    return np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)  # softmax rows, like the attention


def test_laplacian_is_the_symmetric_normalised_form() -> None:
    attention = _adjacency(5) * _R.uniform(0.5, 1.5, size=(5, 1))  # rows not summing to 1, as after dropout
    degree = attention.sum(axis=1)
    expected = np.diag(degree ** -0.5) @ (np.diag(degree) - (attention + attention.T) / 2) @ np.diag(degree ** -0.5)
    laplacian = normalized_laplacian(Tensor(attention)).data
    np.testing.assert_allclose(laplacian, expected, rtol=1e-6)
    np.testing.assert_allclose(laplacian, laplacian.T)


def test_uniform_attention_gives_the_complete_graphs_laplacian() -> None:
    n = 6
    laplacian = normalized_laplacian(Tensor(np.full((n, n), 1.0 / n))).data  # I - J/n
    eigenvalues = np.linalg.eigvalsh(laplacian)
    np.testing.assert_allclose(eigenvalues, [0.0] + [1.0] * (n - 1), atol=1e-6)
    np.testing.assert_allclose(laplacian @ np.ones(n), 0.0, atol=1e-6)


def test_chebyshev_filters_follow_the_recurrence_from_a_zero_first_term() -> None:
    a = _R.standard_normal((4, 4))
    laplacian = (a + a.T) / 4
    terms = chebyshev_filters(Tensor(laplacian)).data
    assert terms.shape == (4, 4, 4)
    np.testing.assert_allclose(terms[0], 0.0)
    np.testing.assert_allclose(terms[1], laplacian)
    np.testing.assert_allclose(terms[2], 2 * laplacian @ laplacian)
    np.testing.assert_allclose(terms[3], 4 * laplacian @ laplacian @ laplacian - laplacian, atol=1e-12)


@pytest.mark.parametrize("n", [3, 4, 7])
def test_full_spectrum_is_numpys_fft_and_irfft_inverts_it(n: int) -> None:
    x = _R.standard_normal((2, 3, n, 5))
    real, imag = full_spectrum(*rfft(Tensor(x), axis=2), n=n, axis=2)
    np.testing.assert_allclose(real.data + 1j * imag.data, np.fft.fft(x, axis=2), atol=1e-12)
    np.testing.assert_allclose(irfft(real, imag, n=n, axis=2).data, x, atol=1e-12)  # the extra bins are ignored


def test_latent_correlation_layer_learns_one_symmetric_graph_from_the_batch() -> None:
    network = _network(n_series=5, input_size=8).eval()
    x = Tensor(_R.standard_normal((7, 5, 8)))  # (B, N, L)
    with no_grad():
        attention = network.self_graph_attention(network.GRU(x)[0]).data
        filters, adjacency = network.latent_correlation_layer(x)
    np.testing.assert_allclose(attention.sum(axis=2), 1.0)  # softmax over the neighbours, per window
    mean = attention.mean(axis=0)
    np.testing.assert_allclose(adjacency.data, (mean + mean.T) / 2)
    laplacian = normalized_laplacian(Tensor(mean)).data
    np.testing.assert_allclose(filters.data[1], laplacian)
    np.testing.assert_allclose(np.diag(laplacian), (1 - np.diag(mean)) / (1 + 1e-7) ** 2)  # degrees are 1 in eval


def test_attention_dropout_only_while_training() -> None:
    network = _network(n_series=5, input_size=8)
    x = Tensor(_R.standard_normal((3, 8, 5)))
    with no_grad():
        rng.seed(1)
        first, second = network.forecast(x).data, network.forecast(x).data
        network.eval()
        third, fourth = network.forecast(x).data, network.forecast(x).data
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(third, fourth)
