"""Scalers: neuralforecast's statistics by hand, masks, constant windows, dtypes, inverses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from modreg.errors import UsageError
from modreg.runtime.training.scalers import SCALER_NAMES, get_scaler, masked_mean, masked_median

EPS = 1e-6
WINDOW = np.array([[1.0, 2.0, 3.0, 10.0]])


@pytest.mark.parametrize(
    ("name", "shift", "scale"),
    [
        ("identity", 0.0, 1.0),
        ("standard", 4.0, np.sqrt((9 + 4 + 1 + 36) / 4) + EPS),
        ("robust", 2.0, 1.0 + EPS),  # lower median 2; |x - 2| = 1, 0, 1, 8 -> lower median 1
        ("invariant", 2.0, 1.0 + EPS),
        ("minmax", 1.0, 9.0 + EPS),
        ("minmax1", 1.0, 9.0 + EPS),
        ("revin", 4.0, np.sqrt((9 + 4 + 1 + 36) / 4) + EPS),
        ("absmean", 0.0, 4.0 + EPS),
    ],
)
def test_statistics_by_hand(name: str, shift: float, scale: float) -> None:
    got_shift, got_scale = get_scaler(name).stats(WINDOW, axis=-1)
    assert got_shift.shape == got_scale.shape == (1, 1)
    assert got_shift.item() == pytest.approx(shift) and got_scale.item() == pytest.approx(scale)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("standard", (WINDOW - 4.0) / (np.sqrt(12.5) + EPS)),
        ("robust", (WINDOW - 2.0) / (1 + EPS)),
        ("invariant", np.arcsinh((WINDOW - 2.0) / (1 + EPS))),
        ("minmax", (WINDOW - 1.0) / (9 + EPS)),
        ("minmax1", (WINDOW - 1.0) / (9 + EPS) * 2 - 1),
        ("identity", WINDOW),
    ],
)
def test_transform_and_inverse(name: str, expected: np.ndarray) -> None:
    scaler = get_scaler(name)
    shift, scale = scaler.stats(WINDOW)
    z = scaler.transform(WINDOW, shift, scale)
    np.testing.assert_allclose(z, expected, rtol=1e-12)
    np.testing.assert_allclose(scaler.inverse(z, shift, scale), WINDOW, rtol=1e-12)


def test_minmax_ranges() -> None:
    for name, low in (("minmax", 0.0), ("minmax1", -1.0)):
        scaler = get_scaler(name)
        z = scaler.transform(WINDOW, *scaler.stats(WINDOW))
        assert z.min() == pytest.approx(low) and z.max() == pytest.approx(1.0, abs=1e-6)


def test_robust_falls_back_to_std_when_mad_is_zero() -> None:
    window = np.array([5.0, 5.0, 5.0, 9.0])  # MAD 0, population std sqrt(3)
    _, scale = get_scaler("robust").stats(window)
    assert scale.item() == pytest.approx(np.sqrt(3.0) * 0.6744897501960817 + EPS)


@pytest.mark.parametrize("name", SCALER_NAMES)
def test_constant_window_is_finite(name: str) -> None:
    window = np.full((2, 8), 7.0)
    scaler = get_scaler(name)
    shift, scale = scaler.stats(window)
    z = scaler.transform(window, shift, scale)
    assert np.all(scale > 0) and np.isfinite(z).all()
    np.testing.assert_allclose(scaler.inverse(z, shift, scale), window)


def test_absmean_keeps_every_ratio_of_errors() -> None:
    """No shift: a forecast's percentage error is the same on scaled and on raw values."""
    x = np.array([[-3.0, 0.5, 2.0, 0.0, 4.5]])
    mask = np.array([[0.0, 1.0, 1.0, 1.0, 1.0]])  # the padded -3 does not count
    scaler = get_scaler("absmean")
    shift, scale = scaler.stats(x, mask, axis=-1)
    assert shift.item() == 0.0 and scale.item() == pytest.approx(7.0 / 4 + EPS)
    y, y_hat = x[0, 1:], np.array([0.4, 2.5, 0.1, 4.0])
    z, z_hat = scaler.transform(y, shift[0], scale[0]), scaler.transform(y_hat, shift[0], scale[0])
    assert np.allclose(np.abs(z - z_hat)[[0, 1, 3]] / np.abs(z)[[0, 1, 3]],
                       np.abs(y - y_hat)[[0, 1, 3]] / np.abs(y)[[0, 1, 3]])


def test_masks_ignore_padding() -> None:
    x = np.array([[0.0, 0.0, 4.0, 6.0], [1.0, 2.0, 3.0, 5.0]])
    mask = np.array([[0, 0, 1, 1], [1, 1, 1, 1]])
    shift, scale = get_scaler("standard").stats(x, mask)
    np.testing.assert_allclose(shift.ravel(), [5.0, 2.75])
    np.testing.assert_allclose(scale.ravel(), [1.0 + EPS, np.sqrt(2.1875) + EPS])
    low, width = get_scaler("minmax").stats(x, mask)
    np.testing.assert_allclose(low.ravel(), [4.0, 1.0])
    np.testing.assert_allclose(width.ravel(), [2.0 + EPS, 4.0 + EPS])


def test_fully_masked_window_is_neutral() -> None:
    x = np.array([[3.0, 4.0]])
    for name in SCALER_NAMES:
        shift, scale = get_scaler(name).stats(x, np.zeros_like(x))
        assert shift.item() == 0.0 and scale.item() == pytest.approx(1.0 + EPS if name != "identity" else 1.0)


def test_median_of_an_even_count_is_the_lower_middle() -> None:
    assert masked_median(np.array([4.0, 1.0, 3.0, 2.0])).item() == 2.0
    assert masked_median(np.array([4.0, 1.0, 3.0, 2.0]), np.array([1, 0, 1, 1])).item() == 3.0
    assert masked_mean(np.array([1.0, 2.0, 9.0]), np.array([True, True, False])).item() == 1.5


def test_axis_one_of_batch_time_channels() -> None:
    x = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    shift, scale = get_scaler("standard").stats(x, axis=1)
    assert shift.shape == (2, 1, 3) and shift.dtype == np.float32 and scale.dtype == np.float32
    np.testing.assert_allclose(shift[0, 0], [4.5, 5.5, 6.5])


@pytest.mark.parametrize("name", SCALER_NAMES)
def test_float32_stays_float32(name: str) -> None:
    x = np.array([[1.0, 5.0, 2.0]], dtype=np.float32)
    scaler = get_scaler(name)
    shift, scale = scaler.stats(x)
    z = scaler.transform(x, shift, scale)
    assert shift.dtype == scale.dtype == z.dtype == np.float32


def test_unknown_scaler_suggests_a_name() -> None:
    with pytest.raises(UsageError, match="did you mean 'robust'") as caught:
        get_scaler("robst")
    assert "identity, standard" in str(caught.value.hint)
    assert get_scaler(None).name == "identity"


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(SCALER_NAMES),
    x=hnp.arrays(np.float64, (3, 6), elements=st.floats(-1e6, 1e6, allow_nan=False)),
)
def test_inverse_undoes_transform(name: str, x: np.ndarray) -> None:
    scaler = get_scaler(name)
    shift, scale = scaler.stats(x)
    z = scaler.transform(x, shift, scale)
    assert np.isfinite(z).all() and np.all(scale > 0)
    # revin's inverse scale carries RevIN's relu(w) + eps = 1 + eps, as neuralforecast's does
    expected = x + (x - shift) * EPS if name == "revin" else x
    np.testing.assert_allclose(scaler.inverse(z, shift, scale), expected, rtol=1e-9, atol=1e-6)
