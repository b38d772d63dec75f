"""NBEATSx-specific checks: parameter count, exogenous inputs to the blocks, the exogenous basis,
and training on real covariates (US consumption with income and production)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.nbeats import NBEATS
from modreg.runtime.models.nbeatsx import NBEATSx

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 8, 16
UNITS = ((16, 16),)


@pytest.fixture(scope="module")
def us() -> SeriesFrame:
    return read_series_csv(DATA / "us_change.csv")


def _batch(frame: SeriesFrame, futr: tuple[str, ...] = ("income", "production"), stat: bool = False) -> WindowBatch:
    starts = range(0, 120, 20)
    y = np.stack([frame.y[0][s:s + L] for s in starts]).astype(np.float32)
    covariates = np.column_stack([frame.exog[c][0] for c in futr])
    return WindowBatch(Tensor(y), Tensor(np.ones_like(y)),
                       futr_exog=Tensor(np.stack([covariates[s:s + L + H] for s in starts]).astype(np.float32)),
                       stat_exog=Tensor(np.arange(len(starts), dtype=np.float32)[:, None]) if stat else None)


def _network(**params):
    rng.seed(0)
    network = NBEATSx(h=H, input_size=L, mlp_units=UNITS, **params)._build_network()
    network.eval()
    return network


def test_default_parameter_count_equals_neuralforecast_and_nbeats() -> None:
    assert NBEATSx(h=12, input_size=24).num_parameters() == 2_447_322 == NBEATS(h=12, input_size=24).num_parameters()


def test_every_block_reads_the_flattened_exogenous_inputs() -> None:
    network = _network(hist_exog_list=("a", "b"), futr_exog_list=("c",), stat_exog_list=("d", "e", "f"))
    assert {b.layers.input.in_features for b in network.blocks} == {L + 2 * L + (L + H) + 3}


def test_the_exogenous_basis_projects_on_the_future_and_static_covariates(us: SeriesFrame) -> None:
    network = _network(futr_exog_list=("income", "production"), stat_exog_list=("s",),
                       stack_types=("exogenous",), n_blocks=(1,))
    block, batch = network.blocks[0], _batch(us, stat=True)
    assert block.layers.output.out_features == 2 * (2 + 1)  # forecast and backcast weights per covariate
    covariates = np.concatenate([batch.futr_exog.data, np.repeat(batch.stat_exog.data[:, None], L + H, 1)], axis=2)
    with no_grad():
        theta = block.layers(_block_input(batch)).data
        backcast, forecast = block(batch.insample_y.flip(1), batch)
    np.testing.assert_allclose(backcast.data, np.einsum("bc,btc->bt", theta[:, 3:], covariates[:, :L]), rtol=1e-5)
    np.testing.assert_allclose(forecast.data[..., 0], np.einsum("bc,btc->bt", theta[:, :3], covariates[:, L:]),
                               rtol=1e-5)


def _block_input(batch: WindowBatch) -> Tensor:
    size = batch.batch_size
    parts = [batch.insample_y.data[:, ::-1], batch.futr_exog.data.reshape(size, -1), batch.stat_exog.data]
    return Tensor(np.concatenate(parts, axis=1))


def test_an_exogenous_stack_needs_future_or_static_columns() -> None:
    with pytest.raises(UsageError, match="exogenous stacks"):
        NBEATSx(h=H, input_size=L, stack_types=("identity", "exogenous"), n_blocks=(1, 1), hist_exog_list=("a",))
    with pytest.raises(UsageError, match="one n_blocks entry per stack"):
        NBEATSx(h=H, input_size=L, stack_types=("identity",), n_blocks=(1, 1))


def test_excluding_the_target_leaves_a_forecast_from_the_covariates_only(us: SeriesFrame) -> None:
    network = _network(futr_exog_list=("income", "production"), exclude_insample_y=True)
    batch = _batch(us)
    other = WindowBatch(batch.insample_y * 3.0 + 1.0, batch.insample_mask, futr_exog=batch.futr_exog)
    with no_grad():
        np.testing.assert_array_equal(network(batch).data, network(other).data)


def test_trains_on_real_covariates_and_uses_the_future_ones(us: SeriesFrame) -> None:
    futr = ("income", "production")
    model = NBEATSx(h=H, input_size=L, futr_exog_list=futr, hist_exog_list=("savings",), mlp_units=UNITS,
                    stack_types=("identity", "exogenous"), n_blocks=(1, 1), max_steps=30,
                    windows_batch_size=64).fit(us.slice_end(H))
    assert model.train_history.train_loss[-1] < model.train_history.train_loss[0]
    future = _future(us, H, futr)
    forecast = model.predict(futr=future).point
    richer = _future(us, H, futr, shift=2.0)
    assert np.isfinite(forecast).all() and not np.allclose(forecast, model.predict(futr=richer).point)


def _future(frame: SeriesFrame, h: int, columns: tuple[str, ...], shift: float = 0.0) -> SeriesFrame:
    return SeriesFrame.from_arrays([frame.y[0][-h:]], ids=frame.ids, ds=[frame.ds[0][-h:]],
                                   exog={c: [frame.exog[c][0][-h:] + shift] for c in columns})
