"""Module: registration, PyTorch-style state-dict keys, strict loading, modes, dtype."""

from __future__ import annotations

import numpy as np
import pytest

from modreg.errors import IntegrityError, ModregError
from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor


class _Net(nn.Module):
    def __init__(self, hidden: int = 4) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, hidden), nn.Linear(hidden, 2)])
        self.norm = nn.BatchNorm1d(2)
        self.drop = nn.Dropout(0.5)
        self.scale = 2.0  # a plain attribute, not registered

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x).relu()
        return self.drop(self.norm(x)) * self.scale


def test_state_dict_keys_follow_pytorch_naming() -> None:
    assert list(_Net().state_dict()) == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
        "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked",
    ]


def test_num_parameters_counts_trainable_scalars_once() -> None:
    net = _Net()
    assert net.num_parameters() == (3 * 4 + 4) + (4 * 2 + 2) + 2 + 2
    net.tied = net.layers[0]  # sharing a module does not double-count its parameters
    assert net.num_parameters() == (3 * 4 + 4) + (4 * 2 + 2) + 2 + 2


def test_state_dict_round_trip_restores_outputs() -> None:
    rng.seed(1)
    source, target = _Net().eval(), _Net().eval()
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    assert not np.allclose(source(x).data, target(x).data)
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_state_dict_is_a_copy() -> None:
    net = _Net()
    state = net.state_dict()
    state["layers.0.weight"][...] = 0.0
    assert np.any(net.layers[0].weight.data != 0.0)


def test_strict_load_names_missing_and_unexpected_keys() -> None:
    state = _Net().state_dict()
    state.pop("layers.1.bias")
    state["extra.weight"] = np.zeros(3)
    with pytest.raises(IntegrityError, match=r"missing key layers\.1\.bias.*unexpected key extra\.weight") as info:
        _Net().load_state_dict(state)
    assert isinstance(info.value, ModregError) and info.value.hint


def test_shape_mismatch_raises_even_when_not_strict() -> None:
    with pytest.raises(IntegrityError, match=r"shape of layers\.0\.weight is \(8, 3\), expected \(4, 3\)"):
        _Net().load_state_dict(_Net(hidden=8).state_dict(), strict=False)


def test_non_strict_load_reports_what_it_skipped() -> None:
    state = _Net().state_dict()
    state.pop("norm.weight")
    state["other"] = np.ones(1)
    report = _Net().load_state_dict(state, strict=False)
    assert report.missing_keys == ("norm.weight",) and report.unexpected_keys == ("other",)


def test_train_and_eval_reach_every_submodule() -> None:
    net = _Net().eval()
    assert not net.training and not net.layers[1].training and not net.drop.training
    net.train()
    assert all(m.training for _, m in net.named_modules())


def test_to_dtype_converts_parameters_and_float_buffers() -> None:
    net = _Net().to_dtype(np.float64)
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.norm.running_mean.dtype == np.float64
    assert net.norm.num_batches_tracked.dtype == np.int64
    out = net(Tensor(np.ones((4, 3))))
    assert out.dtype == np.float64


def test_zero_grad_clears_gradients() -> None:
    net = _Net()
    net(Tensor(np.ones((4, 3), np.float32))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_sequential_applies_modules_in_order() -> None:
    seq = nn.Sequential(nn.Linear(3, 5), nn.Identity(), nn.Linear(5, 1))
    assert seq(Tensor(np.ones((2, 3), np.float32))).shape == (2, 1)
    assert len(seq) == 3 and list(seq.state_dict())[0] == "0.weight"


def test_forgetting_super_init_is_a_clear_error() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.weight = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_reassigning_an_attribute_unregisters_it() -> None:
    net = _Net()
    net.layers = None  # type: ignore[assignment]
    assert not any(k.startswith("layers") for k in net.state_dict())
