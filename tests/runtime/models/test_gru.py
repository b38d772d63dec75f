"""GRU-specific checks: neuralforecast's parameter count and defaults, the encoder, exogenous wiring."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.gru import GRU

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 24


def _network(**params):
    rng.seed(0)
    return GRU(h=H, input_size=L, **params)._build_network().to_dtype(np.float64).eval()


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert GRU(h=H, input_size=L).num_parameters() == 388_857


def test_input_size_minus_one_means_three_horizons_and_hidden_size_is_200() -> None:
    model = GRU(h=H)
    assert model.input_size == 3 * H and model.get_params()["input_size"] == -1
    assert model.get_params()["encoder_hidden_size"] == 200


def test_encoder_equals_the_reference_gru_layer() -> None:
    encoder = _network().hist_encoder
    reference = nn.GRU(1, 200, num_layers=2).to_dtype(np.float64)
    reference.load_state_dict(encoder.state_dict())
    x = Tensor(np.random.default_rng(1).standard_normal((4, L, 1)))
    np.testing.assert_allclose(encoder(x)[0].data, reference(x)[0].data, atol=1e-12)


def test_encoder_without_bias_has_no_bias_parameters() -> None:
    assert GRU(h=H, input_size=L, encoder_bias=False).num_parameters() == 388_857 - 2 * 2 * 600


def test_encoder_reads_y_then_historical_then_static_exogenous() -> None:
    network = _network(hist_exog_list=("a", "b"), stat_exog_list=("s",))
    assert network.hist_encoder.weight_ih_l0.shape == (600, 4)
    gen = np.random.default_rng(2)
    y = gen.standard_normal((2, L))
    hist, stat = gen.standard_normal((2, L, 2)), gen.standard_normal((2, 1))
    batch = WindowBatch(Tensor(y), Tensor(np.ones_like(y)), hist_exog=Tensor(hist), stat_exog=Tensor(stat))
    x = np.concatenate([y[:, :, None], hist, np.repeat(stat[:, None], L, axis=1)], axis=2)
    with no_grad():
        expected = network.mlp_decoder(network.hist_encoder(Tensor(x))[0][:, -H:]).data
        np.testing.assert_allclose(network(batch).data, expected, atol=1e-12)


def test_excluding_the_target_makes_forecasts_ignore_it() -> None:
    network = _network(exclude_insample_y=True)
    y = np.random.default_rng(3).standard_normal((2, L))
    with no_grad():
        first = network(WindowBatch(Tensor(y), Tensor(np.ones_like(y)))).data
        second = network(WindowBatch(Tensor(y * 5.0), Tensor(np.ones_like(y)))).data
    np.testing.assert_array_equal(first, second)


def test_recurrent_mode_projects_every_hidden_state() -> None:
    network = _network(recurrent=True)
    assert (network.proj.in_features, network.proj.out_features) == (200, 1)
    assert network.num_parameters() == 363_000 + 201


def test_rollout_reads_the_future_exogenous_of_the_step_it_predicts() -> None:
    network = _network(recurrent=True, futr_exog_list=("f",))
    gen = np.random.default_rng(4)
    y, futr = gen.standard_normal((2, L + 1)), gen.standard_normal((2, L + 1 + H, 1))
    changed = futr.copy()
    changed[:, L + 1 + 4] += 1.0  # the horizon's fifth step
    with no_grad():
        before = network(WindowBatch(Tensor(y), Tensor(np.ones_like(y)), futr_exog=Tensor(futr))).data
        after = network(WindowBatch(Tensor(y), Tensor(np.ones_like(y)), futr_exog=Tensor(changed))).data
    assert (np.abs(after - before).max(axis=(0, 2)) > 0).tolist() == [k >= 4 for k in range(H)]


def test_recurrent_mode_trains_and_forecasts_with_exogenous_columns() -> None:
    data = read_series_csv(DATA / "us_change.csv")
    futr = SeriesFrame.from_arrays([data.exog["income"][0][-H:]], ids=data.ids, ds=[data.ds[0][-H:]],
                                   exog={"income": [data.exog["income"][0][-H:]]})
    model = GRU(h=H, input_size=L, recurrent=True, max_steps=3, windows_batch_size=16, encoder_hidden_size=16,
                hist_exog_list=("savings",), futr_exog_list=("income",), stat_exog_list=None)
    forecast = model.fit(data.slice_end(H)).predict(futr=futr)
    assert forecast.point.shape == (1, H) and np.isfinite(forecast.point).all()
