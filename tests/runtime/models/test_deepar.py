"""DeepAR: neuralforecast's layout, teacher forcing, the exogenous shift and the sampled rollout."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import factory, rng
from modreg.runtime.autograd import Tensor, concat, no_grad
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.deepar import DeepAR
from modreg.runtime.training.scalers import get_scaler
from modreg.runtime.training.windows import WindowLayout, Windows, prepare

DATA = Path(__file__).resolve().parents[2] / "data"
GEN = np.random.default_rng(5)
SMALL = {"lstm_hidden_size": 8, "lstm_dropout": 0.0, "max_steps": 3, "windows_batch_size": 16}


def _windows(batch: int, width: int, channels: int = 1) -> Windows:
    return Windows(GEN.normal(10.0, 2.0, (batch, width, channels)), np.ones((batch, width)), None)


def _network(model: DeepAR) -> DeepAR:
    rng.seed(0)
    model.network = model._build_network().to_dtype(np.float64)
    model.network.eval()
    return model


def test_defaults_follow_neuralforecast() -> None:
    model = DeepAR(h=12)
    assert model.input_size == 36 and model.context_length == 37 and model.num_lr_decays == 3
    assert model.num_parameters() == 199_560  # LSTM 199,168 + Linear(128 -> 3) + the loss's 5 frozen quantiles
    shapes = {k: v.shape for k, v in model._build_network().state_dict().items()}
    assert shapes["hist_encoder.weight_ih_l1"] == (512, 128) and shapes["decoder.layers.0.weight"] == (3, 128)
    assert model.get_params()["loss"]["distribution"] == "StudentT"
    with pytest.raises(UsageError, match="exclude_insample_y"):
        DeepAR(h=12, exclude_insample_y=True)
    with pytest.raises(UsageError, match="hist_exog_list"):
        factory.create("DeepAR", h=12, hist_exog_list=("x",))


def test_teacher_forcing_feeds_the_observed_targets_and_stays_causal() -> None:
    model = _network(DeepAR(h=4, input_size=6, h_train=3, **SMALL))
    batch, target = model._training_batch(_windows(5, 10), WindowLayout(7, 3), get_scaler("standard"))
    assert batch.insample_y.shape == (5, 9)
    np.testing.assert_array_equal(batch.insample_y.data[:, 7:], target.y[:, :2, 0])
    with no_grad():
        out = model.network(batch).data
        bumped = batch.insample_y.data.copy()
        bumped[:, -1] += 1.0
        moved = model.network(dataclasses.replace(batch, insample_y=Tensor(bumped))).data
    assert out.shape == (5, 3, 3)
    np.testing.assert_array_equal(out[:, :2], moved[:, :2])
    assert not np.allclose(out[:, 2], moved[:, 2])


def test_each_input_reads_the_future_exogenous_of_the_step_it_predicts() -> None:
    model = _network(DeepAR(h=3, input_size=4, futr_exog_list=("f",), **SMALL))
    batch, _ = prepare(_windows(2, 6, channels=2), WindowLayout(5, 1, futr=("f",)), get_scaler("identity"))
    with no_grad():
        out = model.network(batch).data
        for index, changes in ((0, False), (5, True)):  # f_0 is never read; f_5 belongs to the target step
            futr = batch.futr_exog.data.copy()
            futr[:, index] += 1.0
            moved = model.network(dataclasses.replace(batch, futr_exog=Tensor(futr))).data
            assert np.allclose(out, moved) != changes


def test_the_rollout_continues_the_lstm_with_each_fed_back_value() -> None:
    model = _network(DeepAR(h=5, input_size=6, **SMALL))
    batch, target = prepare(_windows(3, 12), WindowLayout(7, 5), get_scaler("robust"))
    fed = Tensor(np.full((3, 1), 0.25))
    with no_grad():
        raw, _ = model._rollout(batch, target.scaling, 1, lambda out, scaling: (fed, None))
        forced = concat([batch.insample_y, Tensor(np.full((3, 4), 0.25))], axis=1)
        whole, _ = model.network.step(forced, None, None, None)
    np.testing.assert_allclose(raw.data, whole.data[:, -5:], atol=1e-12)


def test_forecasts_sample_paths_that_feed_back_their_own_draws() -> None:
    model = _network(DeepAR(h=4, input_size=6, **SMALL))
    batch, target = prepare(_windows(2, 11), WindowLayout(7, 4), get_scaler("robust"))
    with no_grad():
        raw, draws = model._rollout(batch, target.scaling, 50, model._draw)
    paths = raw.data.reshape(2, 50, 4, 3)
    assert draws is not None and draws.shape == (100, 4)
    assert np.ptp(paths[:, :, 0], axis=1).max() == 0  # every path starts from the same window
    assert np.ptp(paths[:, :, 1], axis=1).min() > 0  # then each continues from its own draw


def test_a_fitted_deepar_gives_widening_ordered_intervals() -> None:
    frame = read_series_csv(DATA / "air_passengers.csv")
    model = DeepAR(h=12, input_size=24, scaler_type="robust", lstm_hidden_size=16, max_steps=30,
                   windows_batch_size=64, trajectory_samples=200).fit(frame)
    forecast = model.predict()
    lo, hi = forecast.values["DeepAR-lo-90"][0], forecast.values["DeepAR-hi-90"][0]
    assert (lo <= forecast.values["DeepAR-lo-80"][0]).all() and (forecast.values["DeepAR-hi-80"][0] <= hi).all()
    assert (hi - lo)[-3:].mean() > (hi - lo)[:3].mean()  # uncertainty accumulates along the paths
    point = DeepAR(h=12, input_size=24, loss="mae", **SMALL).fit(frame).predict()
    assert point.columns == ("DeepAR",) and np.isfinite(point.point).all()
