"""Losses: values against numpy formulas (with masks), gradients by finite differences, naming."""

from __future__ import annotations

import numpy as np
import pytest

from modreg.runtime import components
from modreg.runtime.autograd import Tensor
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.training.losses import MAE, MSE, RMSE, HuberLoss, MQLoss, QuantileLoss
from modreg.runtime.training.scalers import get_scaler
from modreg.runtime.training.windows import Scaling, Target

GEN = np.random.default_rng(7)
Y = GEN.normal(size=(4, 6, 1))
Y_HAT = GEN.normal(size=(4, 6, 1))
MASK = (GEN.random(size=(4, 6, 1)) > 0.3).astype(np.float64)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> float:
    weights = np.broadcast_to(mask, values.shape)
    return float((values * weights).sum() / weights.sum())


def _pinball(y: np.ndarray, y_hat: np.ndarray, q: np.ndarray) -> np.ndarray:
    diff = y - y_hat
    return np.maximum(q * diff, (q - 1) * diff)


@pytest.mark.parametrize(
    ("loss", "pointwise"),
    [
        (MAE(), lambda y, f: np.abs(y - f)),
        (MSE(), lambda y, f: (y - f) ** 2),
        (HuberLoss(delta=0.5), lambda y, f: np.where(np.abs(y - f) <= 0.5, 0.5 * (y - f) ** 2, 0.5 * (np.abs(y - f) - 0.25))),
        (QuantileLoss(q=0.2), lambda y, f: _pinball(y, f, np.array(0.2))),
    ],
)
def test_point_losses_are_masked_means(loss, pointwise) -> None:
    value = loss(Y, Tensor(Y_HAT), MASK).item()
    assert value == pytest.approx(_masked_mean(pointwise(Y, Y_HAT), MASK), rel=1e-10)
    assert loss(Y, Tensor(Y_HAT)).item() == pytest.approx(pointwise(Y, Y_HAT).mean(), rel=1e-10)


def test_rmse_is_the_root_of_the_masked_mse() -> None:
    expected = np.sqrt(_masked_mean((Y - Y_HAT) ** 2, MASK))
    assert RMSE()(Y, Tensor(Y_HAT), MASK).item() == pytest.approx(expected, rel=1e-8)


def test_mqloss_is_the_mean_pinball_over_quantiles() -> None:
    loss = MQLoss(level=(80, 90))
    y_hat = GEN.normal(size=(4, 6, 5))
    q = np.array([0.5, 0.05, 0.1, 0.9, 0.95])
    expected = _masked_mean(_pinball(Y, y_hat, q), MASK)
    assert loss(Y, Tensor(y_hat), MASK).item() == pytest.approx(expected, rel=1e-10)


def test_empty_mask_gives_zero_not_nan() -> None:
    value = MAE()(Y, Tensor(Y_HAT), np.zeros_like(MASK)).item()
    assert value == 0.0


@pytest.mark.parametrize("loss", [MAE(), MSE(), RMSE(), HuberLoss(delta=0.3), QuantileLoss(q=0.7), MQLoss(level=(50,))])
def test_loss_gradients_match_finite_differences(loss) -> None:
    k = loss.outputsize_multiplier
    y_hat = GEN.normal(size=(3, 5, k))
    check_grads(lambda f: loss(Y[:3, :5], f, MASK[:3, :5]), [y_hat])


def test_mqloss_output_names_follow_neuralforecast() -> None:
    assert MQLoss().output_names == ("-median", "-lo-90", "-lo-80", "-hi-80", "-hi-90")
    assert MQLoss().outputsize_multiplier == 5
    named = MQLoss(quantiles=(0.1, 0.5, 0.975))
    assert named.output_names == ("-lo-80", "-median", "-hi-95")
    np.testing.assert_allclose(named._q, [0.1, 0.5, 0.975])
    assert QuantileLoss(q=0.25).output_names == ("_ql0.25",)
    assert MAE().output_names == ("",) and MAE().outputsize_multiplier == 1


def test_forecast_undoes_the_window_scaling() -> None:
    raw = GEN.normal(loc=50.0, scale=9.0, size=(2, 10, 1))
    scaler = get_scaler("invariant")
    shift, scale = scaler.stats(raw, np.ones_like(raw), axis=1)
    scaled = scaler.transform(raw, shift, scale)
    back = MAE().forecast(scaled, Scaling(scaler, shift, scale))
    np.testing.assert_allclose(back, raw, rtol=1e-10)


def test_train_and_valid_loss_use_scaled_and_raw_targets() -> None:
    scaler = get_scaler("standard")
    raw = GEN.normal(loc=100.0, scale=10.0, size=(3, 4, 1))
    shift, scale = np.full((3, 1, 1), 100.0), np.full((3, 1, 1), 10.0)
    target = Target(y=(raw - shift) / scale, y_raw=raw, mask=np.ones_like(raw), scaling=Scaling(scaler, shift, scale))
    output = Tensor(np.zeros((3, 4, 1)))
    assert MAE().train_loss(output, target).item() == pytest.approx(np.abs((raw - 100.0) / 10.0).mean())
    assert MAE().valid_loss(output, target) == pytest.approx(np.abs(raw - 100.0).mean())


def test_losses_round_trip_through_their_config() -> None:
    for spec in ("mae", "mse", "rmse", "huber", {"type": "huber", "delta": 0.5}, {"type": "quantile", "q": 0.9},
                 {"type": "mqloss", "level": [95], "quantiles": None}):
        built = components.build("loss", spec)
        assert components.build("loss", built.to_config()) == built
        assert built.to_config() == spec
