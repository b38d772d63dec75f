"""Metrics against hand-computed values, zeros and constant series: never NaN or infinite."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from modreg.runtime.metrics import (
    coverage,
    crps_from_quantiles,
    mae,
    mape,
    mase,
    mase_scale,
    mse,
    quantile_loss,
    rmse,
    smape,
)

Y = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
F = np.array([[2.0, 2.0, 2.0], [0.0, 1.0, 0.0]])


def test_point_metrics_by_hand() -> None:
    assert mae(Y, F) == pytest.approx(3 / 6)
    assert mse(Y, F) == pytest.approx(3 / 6)
    assert rmse(Y, F) == pytest.approx(np.sqrt(0.5))
    np.testing.assert_allclose(mae(Y, F, axis=-1), [2 / 3, 1 / 3])
    np.testing.assert_allclose(rmse(Y, F, axis=1), [np.sqrt(2 / 3), np.sqrt(1 / 3)])


def test_smape_by_hand_with_zeros() -> None:
    # series 1: 200/3, 0, 40; series 2: 0 (both zero), 200, 0 (both zero)
    np.testing.assert_allclose(smape(Y, F, axis=-1), [(200 / 3 + 40) / 3, 200 / 3])
    assert smape(Y, F) == pytest.approx((200 / 3 + 40 + 200) / 6)
    assert smape(np.zeros(4), np.zeros(4)) == 0.0


def test_mape_skips_zero_actuals() -> None:
    np.testing.assert_allclose(mape(Y, F, axis=-1), [(100 + 0 + 100 / 3) / 3, 0.0])
    assert mape(Y, F) == pytest.approx((100 + 100 / 3) / 3)
    assert mape(np.zeros(3), np.ones(3)) == 0.0


def test_mase_by_hand() -> None:
    train = np.array([1.0, 2.0, 4.0, 7.0])  # season 2: |4-1|, |7-2| -> scale 4
    assert mase_scale(train, 2) == pytest.approx(4.0)
    assert mase(np.array([8.0, 9.0]), np.array([10.0, 9.0]), train, season=2) == pytest.approx(1 / 4)


def test_mase_scale_fallbacks() -> None:
    assert mase_scale(np.array([1.0, 3.0, 6.0]), 12) == pytest.approx(2.5)  # too short: season 1
    assert mase_scale(np.array([1.0, 5.0, 1.0, 5.0]), 2) == pytest.approx(4.0)  # seasonal 0: naive-1
    assert mase_scale(np.full(10, -4.0), 4) == pytest.approx(4.0)  # constant: its level
    assert mase_scale(np.zeros(10), 4) == 1.0  # all zero: raw error
    assert mase_scale(np.array([3.0]), 1) == 3.0  # a single point


def test_mase_per_series_and_mean_on_constant_and_zero_series() -> None:
    trains = [np.array([1.0, 2.0, 3.0, 4.0]), np.zeros(5)]
    per_series = mase(Y, F, trains, season=1, axis=-1)
    np.testing.assert_allclose(per_series, [2 / 3, 1 / 3])
    assert mase(Y, F, trains, season=1) == pytest.approx(0.5)
    assert mase(Y, Y, np.zeros((2, 6)), season=12) == 0.0


def test_mase_checks_the_number_of_training_series() -> None:
    with pytest.raises(ValueError, match="1 training series for 2 forecast series"):
        mase(Y, F, [np.ones(4)], season=1)


def test_quantile_loss_and_crps_by_hand() -> None:
    y = np.array([[10.0]])
    y_q = np.array([[[8.0, 10.0, 13.0]]])
    levels = [0.1, 0.5, 0.9]
    # pinball: 0.1 * 2 = 0.2, 0, (0.9 - 1) * -3 = 0.3
    assert quantile_loss(y, y_q, levels) == pytest.approx(0.5 / 3)
    assert crps_from_quantiles(y, y_q, levels) == pytest.approx(1 / 3)
    assert crps_from_quantiles(y, np.full((1, 1, 3), 10.0), levels) == 0.0


def test_quantile_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="do not match"):
        quantile_loss(np.zeros((2, 3)), np.zeros((2, 3, 2)), [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        quantile_loss(np.zeros(2), np.zeros((2, 1)), [1.0])


def test_coverage() -> None:
    y = np.array([[1.0, 5.0, 3.0, 3.0]])
    lo, hi = np.full((1, 4), 2.0), np.full((1, 4), 3.0)
    assert coverage(y, lo, hi) == pytest.approx(0.5)  # bounds are inclusive
    np.testing.assert_allclose(coverage(y, lo, hi, axis=-1), [0.5])


def test_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        mae(np.zeros((2, 3)), np.zeros((3, 2)))


_VALUES = st.sampled_from([0.0, 0.0, 1.0, -1.0, 5.0, 1e-12, 1e6])


@settings(max_examples=80, deadline=None)
@given(
    y=hnp.arrays(np.float64, (3, 4), elements=_VALUES),
    y_hat=hnp.arrays(np.float64, (3, 4), elements=_VALUES),
    train=hnp.arrays(np.float64, (3, 6), elements=_VALUES),
    season=st.integers(min_value=1, max_value=8),
)
def test_no_nan_or_inf_with_zeros_and_constants(
    y: np.ndarray, y_hat: np.ndarray, train: np.ndarray, season: int
) -> None:
    quantiles = np.stack([y_hat, y_hat + 1], axis=-1)
    figures = [
        mae(y, y_hat),
        rmse(y, y_hat),
        smape(y, y_hat, axis=-1),
        mape(y, y_hat, axis=-1),
        mase(y, y_hat, train, season, axis=-1),
        crps_from_quantiles(y, quantiles, [0.1, 0.9]),
        coverage(y, y_hat, y_hat + 1),
    ]
    assert all(np.isfinite(f).all() for f in figures)
    assert np.all((smape(y, y_hat, axis=-1) >= 0) & (smape(y, y_hat, axis=-1) <= 200))
