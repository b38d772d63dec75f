"""TCN-specific checks: parameter count, causality and receptive field, context adapter, exogenous."""

from __future__ import annotations

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.tcn import TCN

H, L = 12, 24


def _network(input_size: int = L, **params):
    rng.seed(0)
    return TCN(h=H, input_size=input_size, **params)._build_network().to_dtype(np.float64).eval()


def _encode(network, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return network.hist_encoder(Tensor(x.transpose(2, 0, 1))).data.transpose(1, 2, 0)  # (B, C, L) -> (L, B, C) -> (B, H, L)


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert TCN(h=H, input_size=L).num_parameters() == 148_909


def test_input_size_minus_one_means_three_horizons_for_the_context_adapter() -> None:
    model = TCN(h=H)
    adapter = model._build_network().context_adapter
    assert model.get_params()["input_size"] == -1 and (adapter.in_features, adapter.out_features) == (36, H)


def test_encoder_is_causal() -> None:
    network = _network()
    x = np.random.default_rng(1).standard_normal((2, 1, L))
    changed = x.copy()
    changed[:, :, 10] += 1.0
    moved = np.abs(_encode(network, changed) - _encode(network, x)).max(axis=(0, 1)) > 0
    assert not moved[:10].any() and moved[10]


def test_receptive_field_is_one_plus_the_sum_of_dilations() -> None:
    network = _network(input_size=40)
    x = np.random.default_rng(2).standard_normal((1, 1, 40))
    last = _encode(network, x)[:, :, -1]
    for position, reaches in ((7, False), (8, True)):  # (kernel - 1) * (1 + 2 + 4 + 8 + 16) = 31 steps back
        changed = x.copy()
        changed[:, :, position] += 1.0
        assert bool(np.abs(_encode(network, changed)[:, :, -1] - last).max() > 0) is reaches


def test_future_exogenous_feed_the_encoder_and_each_horizon_step() -> None:
    network = _network(futr_exog_list=("f", "g"))
    assert network.hist_encoder.tcn[0].conv.weight.shape == (128, 3, 2)
    assert network.mlp_decoder.layers[0].in_features == 130
    gen = np.random.default_rng(3)
    y, futr = gen.standard_normal((2, L)), gen.standard_normal((2, L + H, 2))
    changed = futr.copy()
    changed[:, L + 3] += 1.0
    with no_grad():
        before = network(WindowBatch(Tensor(y), Tensor(np.ones_like(y)), futr_exog=Tensor(futr))).data
        after = network(WindowBatch(Tensor(y), Tensor(np.ones_like(y)), futr_exog=Tensor(changed))).data
    assert (np.abs(after - before).max(axis=(0, 2)) > 0).tolist() == [k == 3 for k in range(H)]


def test_activation_and_dilations_are_validated() -> None:
    assert _network(encoder_activation="Tanh", dilations=(1, 2)).num_parameters() == 384 + 32_896 + 300 + 16_641
    with pytest.raises(UsageError, match="dilations"):
        TCN(h=H, input_size=L, dilations=(1, 0)).check_params()
