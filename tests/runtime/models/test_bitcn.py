"""BiTCN-specific checks: parameter count, layer counts, the backward TCN's causality, the forward TCN
over future covariates, and training on real covariates (Victoria's electricity demand)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, conv1d, no_grad
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.bitcn import BiTCN, _OneSidedConv1d, tcn_layers

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 48
FUTR = ("temperature", "workday")


@pytest.fixture(scope="module")
def vic() -> SeriesFrame:
    return read_series_csv(DATA / "vic_electricity_june2014.csv")


def _network(**params):
    rng.seed(0)
    network = BiTCN(h=H, input_size=L, **params)._build_network()
    network.eval()
    return network


def _encoded(tcn, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return tcn(Tensor(x.astype(np.float32))).data


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert BiTCN(h=12, input_size=24).num_parameters() == 6_013


def test_enough_dilated_layers_cover_the_window_and_the_horizon() -> None:
    assert [tcn_layers(n) for n in (2, 3, 24, 33, 36)] == [1, 2, 5, 6, 6]
    network = _network(futr_exog_list=FUTR)
    assert len(network.net_bwd.cells) == tcn_layers(L) == 6 and len(network.net_fwd.cells) == tcn_layers(L + H) == 6
    assert [c.conv1.dilation for c in network.net_fwd.cells] == [1, 2, 4, 8, 16, 32]
    assert network.output_lin.in_features == 3 * 16 and not hasattr(_network(), "net_fwd")
    assert _network().output_lin.in_features == 16


@pytest.mark.parametrize(("mode", "sides"), [("backward", (4, 0)), ("forward", (0, 4))])
def test_one_sided_convolution_is_conv1d_over_the_input_padded_on_one_side(mode: str, sides: tuple[int, int]) -> None:
    rng.seed(0)
    conv = _OneSidedConv1d(3, 5, 2, dilation=4, mode=mode)
    x = np.random.default_rng(1).normal(size=(2, 3, 20)).astype(np.float32)  # (B, C, T)
    expected = conv1d(Tensor(np.pad(x, ((0, 0), (0, 0), sides))), conv.weight, conv.bias, dilation=4).data
    with no_grad():
        np.testing.assert_allclose(conv(Tensor(x.transpose(0, 2, 1))).data, expected.transpose(0, 2, 1), rtol=1e-5,
                                   atol=1e-6)


def test_the_backward_tcn_looks_back_and_the_forward_tcn_looks_ahead(vic: SeriesFrame) -> None:
    network = _network(futr_exog_list=FUTR)
    x = np.random.default_rng(0).normal(size=(2, L + H, 16))  # (B, T, hidden): channel-last
    moved = x.copy()
    moved[:, 30] += 1.0
    for tcn, unchanged in ((network.net_bwd, slice(0, 30)), (network.net_fwd, slice(31, None))):
        before, after = _encoded(tcn, x), _encoded(tcn, moved)
        np.testing.assert_array_equal(before[:, unchanged], after[:, unchanged])
        assert not np.allclose(before[:, 30], after[:, 30])
    first = x.copy()
    first[:, 0] += 1.0  # the receptive field spans the window: the last step sees the first
    assert not np.allclose(_encoded(network.net_bwd, x[:, :L])[:, -1], _encoded(network.net_bwd, first[:, :L])[:, -1])


def test_future_covariates_reach_the_horizon_through_the_forward_tcn(vic: SeriesFrame) -> None:
    network = _network(futr_exog_list=FUTR)
    y, futr = vic.y[0], np.column_stack([vic.exog["temperature"][0] / 10, vic.exog["workday"][0]])
    starts = range(0, 300, 60)
    batch = WindowBatch(Tensor(np.stack([y[s:s + L] for s in starts]).astype(np.float32)),
                        Tensor(np.ones((len(starts), L), dtype=np.float32)),
                        futr_exog=Tensor(np.stack([futr[s:s + L + H] for s in starts]).astype(np.float32)))
    moved = batch.futr_exog.data.copy()
    moved[:, L + 5] += 1.0  # one horizon step's covariates, which only the forward TCN reads
    with no_grad():
        before = network(batch).data
        after = network(WindowBatch(batch.insample_y, batch.insample_mask, futr_exog=Tensor(moved))).data
    assert np.abs(after - before).max() > 1e-4
    network.train()
    network(batch).sum().backward()
    assert all(np.abs(p.grad).sum() > 0 for _, p in network.net_fwd.named_parameters())


def test_trains_on_real_covariates_and_uses_the_future_ones(vic: SeriesFrame) -> None:
    model = BiTCN(h=H, input_size=L, futr_exog_list=FUTR, max_steps=30, windows_batch_size=64,
                  scaler_type="standard").fit(vic.slice_end(H))
    assert model.train_history.train_loss[-1] < model.train_history.train_loss[0]
    future, workday = _future(vic, H), _future(vic, H, flip_workday=True)
    forecast = model.predict(futr=future).point
    assert np.isfinite(forecast).all() and not np.allclose(forecast, model.predict(futr=workday).point)


def _future(frame: SeriesFrame, h: int, flip_workday: bool = False) -> SeriesFrame:
    workday = frame.exog["workday"][0][-h:]
    return SeriesFrame.from_arrays([frame.y[0][-h:]], ids=frame.ids, ds=[frame.ds[0][-h:]],
                                   exog={"temperature": [frame.exog["temperature"][0][-h:]],
                                         "workday": [1 - workday if flip_workday else workday]})
