"""PatchTST-specific checks: patching, RevIN, residual attention, channel independence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.patchtst import PatchTST, make_patches, patch_count

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def windows() -> np.ndarray:
    """Six AirPassengers windows of 24 points."""
    y = read_series_csv(DATA / "air_passengers.csv").y[0]
    return np.stack([y[i:i + 24] for i in range(0, 60, 10)])


def _batch(values: np.ndarray) -> WindowBatch:
    return WindowBatch(insample_y=Tensor(values), insample_mask=Tensor(np.ones_like(values)))


def test_patches_of_16_every_8_over_the_window_padded_with_its_last_value() -> None:
    z = Tensor(np.arange(24.0)[None])
    patches = make_patches(z, patch_len=16, stride=8).data[0]
    assert patches.shape == (3, 16) and patch_count(24, 16, 8) == 3
    np.testing.assert_array_equal(patches[0], np.arange(16))
    np.testing.assert_array_equal(patches[1], np.arange(8, 24))
    np.testing.assert_array_equal(patches[2], [*range(16, 24), *[23] * 8])  # ReplicationPad1d((0, stride))
    assert [patch_count(n, 16, 8) for n in (16, 25, 40)] == [2, 3, 5] and patch_count(4, 12, 8) == 1


def test_patch_length_is_capped_at_input_size_plus_stride() -> None:
    network = PatchTST(h=4, input_size=6, hidden_size=8, n_heads=2)._build_network()
    assert network.W_P.in_features == 14 and network.W_pos.shape == (1, 8)


def test_revin_subtracting_the_last_value_round_trips(windows: np.ndarray) -> None:
    revin = nn.RevIN(1, affine=False, subtract_last=True)
    assert not revin.parameters()  # affine off: nothing to learn
    x = Tensor(windows[..., None])
    normed = revin.norm(x)
    np.testing.assert_allclose(normed.data[:, -1], 0.0, atol=1e-12)  # centred on the last value
    np.testing.assert_allclose(normed.data.std(axis=1), 1.0, rtol=1e-4)
    np.testing.assert_allclose(revin.denorm(normed).data, windows[..., None], rtol=1e-12)


def test_forecasts_follow_shifts_and_scalings_of_the_window(windows: np.ndarray) -> None:
    rng.seed(0)
    network = PatchTST(h=12, input_size=24, hidden_size=16, n_heads=4, linear_hidden_size=32)._build_network()
    network.to_dtype(np.float64).eval()
    with no_grad():
        base = network(_batch(windows)).data
        moved = network(_batch(3.0 * windows + 50.0)).data
    np.testing.assert_allclose(moved, 3.0 * base + 50.0, rtol=1e-6)  # RevIN undoes what it removed


def test_each_window_is_forecast_on_its_own(windows: np.ndarray) -> None:
    rng.seed(1)
    network = PatchTST(h=12, input_size=24, hidden_size=16, n_heads=4, linear_hidden_size=32)._build_network()
    network.to_dtype(np.float64).eval()
    with no_grad():
        together = network(_batch(windows)).data
        alone = np.concatenate([network(_batch(w[None])).data for w in windows])
    np.testing.assert_allclose(together, alone, rtol=1e-12)


def test_residual_attention_adds_the_previous_layers_scores() -> None:
    rng.seed(2)
    attention = nn.ResidualMultiHeadAttention(hidden_size=16, n_heads=4).to_dtype(np.float64)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 16)))
    plain_out, scores = attention(x)
    q = (x.data @ attention.W_Q.weight.data.T + attention.W_Q.bias.data).reshape(2, 3, 4, 4).transpose(0, 2, 1, 3)
    k = (x.data @ attention.W_K.weight.data.T + attention.W_K.bias.data).reshape(2, 3, 4, 4).transpose(0, 2, 1, 3)
    np.testing.assert_allclose(scores.data, q @ k.transpose(0, 1, 3, 2) / 2.0, rtol=1e-12)  # scale 4 ** -0.5
    _, carried = attention(x, prev=scores)
    np.testing.assert_allclose(carried.data, 2.0 * scores.data, rtol=1e-12)
    assert not attention.scale.requires_grad  # frozen, but counted like neuralforecast
    network = PatchTST(h=12, input_size=24, res_attention=False, hidden_size=16, n_heads=4)._build_network()
    assert network.res_attention is False
    assert np.isfinite(plain_out.data).all()


def test_the_output_dropout_and_the_callers_next_dropout_are_drawn_as_one() -> None:
    rng.seed(3)
    attention = nn.ResidualMultiHeadAttention(hidden_size=16, n_heads=4, proj_dropout=0.2).to_dtype(np.float64)
    x = Tensor(np.random.default_rng(1).standard_normal((400, 3, 16)))
    expected = attention.eval()(x)[0].data
    out = attention.train()(x, then_dropout=0.3)[0].data
    kept = out != 0
    assert abs(kept.mean() - 0.8 * 0.7) < 0.01  # two independent masks: keep with (1 - 0.2)(1 - 0.3)
    np.testing.assert_allclose(out[kept], expected[kept] / (0.8 * 0.7), rtol=1e-12)


def test_the_frozen_scales_count_in_the_parameters_but_are_not_trained(windows: np.ndarray) -> None:
    model = PatchTST(h=12, input_size=24, hidden_size=16, n_heads=4, linear_hidden_size=32, max_steps=2,
                     windows_batch_size=8)
    network = model._build_network()
    frozen = sum(p.size for p in network.parameters() if not p.requires_grad)
    assert frozen == 3 and network.num_parameters() == sum(p.size for p in network.parameters())
    model.fit(SeriesFrame.from_arrays(read_series_csv(DATA / "air_passengers.csv").y[0]))
    assert all(float(layer.self_attn.scale.data) == 0.5 for layer in model.network.layers)
