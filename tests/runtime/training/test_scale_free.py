"""Scale-free losses: values against numpy formulas, padding ignored, float64 gradient checks, training."""

from __future__ import annotations

import numpy as np
import pytest

from modreg.runtime import components, factory
from modreg.runtime.autograd import Tensor
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.data import SeriesFrame
from modreg.runtime.training.scale_free import MAPE, MASE, SMAPE, RelMSE, seasonal_scale
from modreg.runtime.training.scalers import get_scaler
from modreg.runtime.training.windows import SeriesStore, WindowLayout, prepare

GEN = np.random.default_rng(3)
Y = GEN.normal(size=(4, 6, 1)) + 2.0
Y_HAT = GEN.normal(size=(4, 6, 1)) + 2.0
MASK = (GEN.random(size=(4, 6, 1)) > 0.3).astype(np.float64)
PAST = GEN.normal(size=(4, 10, 1)) * 3.0
PAST_MASK = np.ones_like(PAST)
PAST_MASK[0, :4] = 0  # a short series' window: its first 4 input points are padding


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> float:
    weights = np.broadcast_to(mask, values.shape)
    return float((values * weights).sum() / weights.sum())


def _naive_scale(past: np.ndarray, m: int) -> np.ndarray:
    return np.array([np.mean(np.abs(p[m:] - p[:-m])) for p in past[..., 0]])[:, None, None]


def test_mape_and_smape_are_masked_means_of_their_formulas() -> None:
    assert MAPE()(Y, Tensor(Y_HAT), MASK).item() == pytest.approx(
        _masked_mean(np.abs(Y - Y_HAT) / np.abs(Y), MASK), rel=1e-10)
    assert SMAPE()(Y, Tensor(Y_HAT), MASK).item() == pytest.approx(
        _masked_mean(2 * np.abs(Y - Y_HAT) / (np.abs(Y) + np.abs(Y_HAT)), MASK), rel=1e-10)


def test_zero_actuals_and_zero_sums_give_zero_not_nan() -> None:
    y, y_hat = np.zeros((1, 2, 1)), np.array([[[0.0], [1.0]]])
    assert MAPE()(y, Tensor(y_hat)).item() == 0.0
    assert SMAPE()(y, Tensor(y_hat)).item() == pytest.approx(1.0)  # (0 + 2) / 2 points


def test_mase_divides_by_the_seasonal_naive_error_of_the_available_input() -> None:
    loss = MASE(seasonality=2)
    value = loss(Y, Tensor(Y_HAT), MASK, insample=PAST, insample_mask=PAST_MASK).item()
    scale = _naive_scale(PAST, 2)
    scale[0] = np.mean(np.abs(PAST[0, 6:, 0] - PAST[0, 4:-2, 0]))  # padded points are not differenced
    assert value == pytest.approx(_masked_mean(np.abs(Y - Y_HAT) / scale, MASK), rel=1e-10)
    changed = PAST.copy()
    changed[0, :4] = 1e6  # what padding holds does not matter
    assert loss(Y, Tensor(Y_HAT), MASK, insample=changed, insample_mask=PAST_MASK).item() == pytest.approx(value)


def test_mase_is_invariant_to_affine_scaling() -> None:
    loss = MASE(seasonality=4)
    raw = loss(Y, Tensor(Y_HAT), MASK, insample=PAST).item()
    scaled = loss(3 * Y + 7, Tensor(3 * Y_HAT + 7), MASK, insample=3 * PAST + 7).item()
    assert scaled == pytest.approx(raw, rel=1e-10)


def test_mase_falls_back_to_lag_one_and_skips_flat_windows() -> None:
    past = np.array([[[1.0], [2.0], [4.0]], [[5.0], [5.0], [5.0]]])  # 3 points < season 4; the second is flat
    np.testing.assert_allclose(seasonal_scale(past, np.ones_like(past), 4)[:, 0, 0], [1.5, 0.0])
    y, y_hat = np.ones((2, 1, 1)), np.array([[[4.0]], [[100.0]]])
    assert MASE(seasonality=4)(y, Tensor(y_hat), insample=past).item() == pytest.approx(3.0 / 1.5)


def test_relmse_compares_with_the_last_season_repeated() -> None:
    loss = RelMSE(seasonality=3)
    benchmark = PAST[:, [7, 8, 9, 7, 8, 9]]
    expected = _masked_mean((Y - Y_HAT) ** 2, MASK) / (_masked_mean((Y - benchmark) ** 2, MASK) + 1e-5)
    assert loss(Y, Tensor(Y_HAT), MASK, insample=PAST).item() == pytest.approx(expected, rel=1e-10)


def test_relmse_repeats_the_last_value_where_the_last_season_reaches_into_padding() -> None:
    loss = RelMSE(seasonality=3)
    past_mask = PAST_MASK.copy()
    past_mask[1, :8] = 0  # a short series' window: 2 input points, fewer than a season
    benchmark = PAST[:, [7, 8, 9, 7, 8, 9]]
    benchmark[1] = PAST[1, 9]
    expected = _masked_mean((Y - Y_HAT) ** 2, MASK) / (_masked_mean((Y - benchmark) ** 2, MASK) + 1e-5)
    value = loss(Y, Tensor(Y_HAT), MASK, insample=PAST, insample_mask=past_mask).item()
    assert value == pytest.approx(expected, rel=1e-10)
    changed = PAST.copy()
    changed[1, :8] = 1e6  # what padding holds does not matter
    assert loss(Y, Tensor(Y_HAT), MASK, insample=changed, insample_mask=past_mask).item() == pytest.approx(value)


@pytest.mark.parametrize("loss", [MAPE(), SMAPE(), MASE(seasonality=2), RelMSE(seasonality=2)],
                         ids=["mape", "smape", "mase", "relmse"])
def test_gradients_match_finite_differences_in_float64(loss) -> None:
    extra = {"insample": PAST, "insample_mask": PAST_MASK} if isinstance(loss, (MASE, RelMSE)) else {}
    check_grads(lambda y_hat: loss(Y, y_hat, MASK, **extra), [Y_HAT])


@pytest.mark.parametrize("spec", ["mape", "smape", {"type": "mase", "seasonality": 4}, "relmse"])
def test_components_by_name_or_table(spec) -> None:
    loss = components.build("loss", spec)
    assert loss.to_config() == spec and loss.output_names == ("",)


def test_training_loss_is_scaled_and_validation_loss_in_data_units() -> None:
    layout = WindowLayout(input_size=6, h=3)
    series = [np.linspace(1.0, 30.0, 30)[:, None] * 100.0, np.linspace(2.0, 5.0, 5)[:, None]]
    store = SeriesStore(series, None, layout)
    _, target = prepare(store.gather(store.starts, np.zeros(len(store.starts), dtype=np.int64)), layout,
                       get_scaler("robust"))
    assert target.insample_mask is not None and target.insample_mask[-1, :, 0].tolist() == [0, 0, 1, 1, 1, 1]
    loss = MASE(seasonality=1)
    output = Tensor(target.y + 0.5)
    raw_forecast = target.scaling.inverse(target.y + 0.5)
    raw_past = target.scaling.inverse(target.insample)
    expected = loss(target.y_raw, Tensor(raw_forecast), target.mask, insample=raw_past,
                    insample_mask=target.insample_mask).item()
    assert loss.valid_loss(output, target) == pytest.approx(expected, rel=1e-6)
    assert loss.train_loss(output, target).item() == pytest.approx(expected, rel=1e-6)  # MASE: scale-free


@pytest.mark.parametrize("spec", ["mape", "smape", {"type": "mase", "seasonality": 4}, {"type": "relmse", "seasonality": 4}])
def test_models_train_on_series_of_very_different_scales(spec) -> None:
    t = np.arange(40.0)
    frame = SeriesFrame.from_arrays([1000 * (10 + np.sin(t)), 0.01 * (10 + np.cos(t)), 5 + t[:14] % 4],
                                    ids=["big", "small", "short"])
    model = factory.create("NHITS", h=4, input_size=8, loss=spec, max_steps=20, mlp_units=((16, 16),) * 3,
                           early_stop_patience_steps=2, val_check_steps=10)
    forecast = model.fit(frame).predict().values["NHITS"]
    assert np.all(np.isfinite(forecast)) and len(model.train_history.val_loss) == 2
