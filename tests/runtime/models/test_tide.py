"""TiDE-specific checks: parameter count, the covariate projection (temporal_width), the temporal
decoder, and training on real covariates (Victoria's electricity demand with temperature and work days)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.tide import TiDE

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 48
SMALL = {"hidden_size": 32, "decoder_output_dim": 8, "temporal_decoder_dim": 16}


@pytest.fixture(scope="module")
def vic() -> SeriesFrame:
    return read_series_csv(DATA / "vic_electricity_june2014.csv")


def _batch(frame: SeriesFrame, starts: range = range(0, 400, 50)) -> WindowBatch:
    y, temperature, workday = frame.y[0], frame.exog["temperature"][0], frame.exog["workday"][0]
    futr = np.stack([np.column_stack([temperature[s:s + L + H] / 10, workday[s:s + L + H]]) for s in starts])
    windows = np.stack([y[s:s + L] for s in starts])
    return WindowBatch(Tensor(windows.astype(np.float32)), Tensor(np.ones_like(windows, dtype=np.float32)),
                       futr_exog=Tensor(futr.astype(np.float32)))


def _network(**params):
    rng.seed(0)
    return TiDE(h=H, input_size=L, **{**SMALL, **params})._build_network()


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert TiDE(h=12, input_size=24).num_parameters() == 951_376


def test_covariates_are_projected_to_temporal_width_per_step() -> None:
    network = _network(futr_exog_list=("temperature", "workday"), hist_exog_list=("x",), stat_exog_list=("s",),
                       temporal_width=3)
    assert network.futr_exog_projection.lin1.in_features == 2 and network.futr_exog_projection.lin2.out_features == 3
    assert network.hist_exog_projection.lin1.in_features == 1
    # encoder input: window + projected hist (L * 3) + projected futr ((L + h) * 3) + static
    assert network.dense_encoder[0].lin1.in_features == L + L * 3 + (L + H) * 3 + 1
    assert network.temporal_decoder.lin1.in_features == 8 + 3  # decoder_output_dim + temporal_width
    assert _network().hist_exog_projection is None and _network().futr_exog_projection is None


def test_the_projection_of_a_step_depends_on_that_step_only(vic: SeriesFrame) -> None:
    projection = _network(futr_exog_list=("temperature", "workday")).futr_exog_projection
    projection.eval()
    futr = _batch(vic).futr_exog.data
    moved = futr.copy()
    moved[:, 20] += 1.0
    with no_grad():
        before, after = projection(Tensor(futr)).data, projection(Tensor(moved)).data
    changed = np.flatnonzero(np.abs(after - before).max(axis=(0, 2)) > 0)
    assert changed.tolist() == [20]


def test_with_layernorm_the_point_output_is_the_norm_bias_as_in_neuralforecast(vic: SeriesFrame) -> None:
    """LayerNorm over one output feature is constant, so only the global skip and that bias learn."""
    batch = _batch(vic)
    for layernorm, learns in ((True, False), (False, True)):
        network = _network(futr_exog_list=("temperature", "workday"), layernorm=layernorm, dropout=0.0)
        output = network(batch)
        output.sum().backward()
        gradient = np.abs(network.dense_encoder[0].lin1.weight.grad).sum()
        assert bool(gradient > 0) == learns
        if layernorm:
            skip = network.global_skip(batch.insample_y).data.reshape(-1, H, 1)
            np.testing.assert_allclose(output.data, skip + network.temporal_decoder.norm.bias.data, rtol=1e-6)
        assert np.abs(network.global_skip.weight.grad).sum() > 0


def test_trains_on_real_covariates_and_uses_the_future_ones(vic: SeriesFrame) -> None:
    train = vic.slice_end(H)
    model = TiDE(h=H, input_size=L, futr_exog_list=("temperature", "workday"), layernorm=False, max_steps=30,
                 windows_batch_size=64, scaler_type="standard", **SMALL).fit(train)
    assert model.train_history.train_loss[-1] < model.train_history.train_loss[0]
    future = _future(vic, H)
    forecast = model.predict(futr=future).point
    hot = _future(vic, H, temperature_shift=15.0)
    assert np.isfinite(forecast).all() and not np.allclose(forecast, model.predict(futr=hot).point)


def _future(frame: SeriesFrame, h: int, temperature_shift: float = 0.0) -> SeriesFrame:
    return SeriesFrame.from_arrays([frame.y[0][-h:]], ids=frame.ids, ds=[frame.ds[0][-h:]],
                                   exog={"temperature": [frame.exog["temperature"][0][-h:] + temperature_shift],
                                         "workday": [frame.exog["workday"][0][-h:]]})
