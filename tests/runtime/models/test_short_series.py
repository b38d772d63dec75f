"""Short series with neuralforecast's semantics, on M1 yearly and quarterly with input_size = 2h.

Many M1 series are shorter than input_size + h (yearly: 9 training points for input 12 + h 6).
Window models (NHITS, NBEATS, MLP) and a recurrent one (LSTM) must train on them, padded and
masked, and forecast every series, the shortest included; only a series the model cannot use at
all is an error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import factory
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.metrics import mase, smape
from modreg.runtime.models.base import WindowForecaster
from modreg.runtime.training.windows import SeriesStore, temporal_arrays

DATA = Path(__file__).resolve().parents[2] / "data"
GROUPS = {"yearly": (6, 1), "quarterly": (8, 4)}  # h, season
SMALL = {
    "NHITS": {"mlp_units": ((32, 32),) * 3},
    "NBEATS": {"mlp_units": ((32, 32),) * 3},
    "MLP": {"hidden_size": 32},
    "LSTM": {"encoder_hidden_size": 16, "decoder_hidden_size": 16},
}


def _split(group: str) -> tuple[SeriesFrame, np.ndarray, int, int]:
    frame = read_series_csv(DATA / f"m1_{group}.csv")
    h, season = GROUPS[group]
    actual = np.stack([y[-h:] for y in frame.y])
    return frame.slice_end(h), actual, h, season


def _fit(model: str, train: SeriesFrame, h: int, **extra: object) -> WindowForecaster:
    params = {"h": h, "input_size": 2 * h, "max_steps": 300, "scaler_type": "robust", "batch_size": 32,
              "windows_batch_size": 64, "random_seed": 1, **SMALL.get(model, {}), **extra}
    return factory.create(model, **params).fit(train)  # type: ignore[return-value]


@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("model", list(SMALL))
def test_models_train_and_forecast_panels_with_short_series(model: str, group: str) -> None:
    train, actual, h, season = _split(group)
    short = [n for n in train.lengths if n < 3 * h]
    assert short, "the group must hold series shorter than input_size + h"
    fitted = _fit(model, train, h)
    forecast = fitted.predict().values[model]
    assert forecast.shape == actual.shape and np.all(np.isfinite(forecast))
    naive = np.stack([y[np.arange(h) % season - season] for y in train.y])
    # 300 steps of a small network: near the seasonal naive (m1_bench.py trains longer and beats it)
    assert smape(actual, forecast) < 1.4 * smape(actual, naive)
    assert mase(actual, forecast, train.y, season) < 2 * mase(actual, naive, train.y, season)


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_short_series_gives_training_windows(group: str) -> None:
    train, _, h, _ = _split(group)
    model = factory.create("NHITS", h=h, input_size=2 * h)
    layout = model._layout()
    store = SeriesStore(temporal_arrays(train, layout, np.dtype("float64")), None, layout)
    assert np.all(store.counts[np.array(train.lengths) >= 2] > 0)


def test_forecasting_a_series_shorter_than_input_size_pads_its_input() -> None:
    train, _, h, _ = _split("yearly")
    fitted = _fit("MLP", train, h)
    tiny = SeriesFrame.from_arrays([np.array([5.0, 6.0, 7.0])], ids=["tiny"])
    assert np.all(np.isfinite(fitted.predict(tiny).values["MLP"]))


def test_a_panel_without_any_training_window_is_one_usage_error() -> None:
    tiny = SeriesFrame.from_arrays([np.arange(8.0), np.arange(5.0)], ids=["a", "b"])
    with pytest.raises(UsageError, match=r"no series is long enough to train MLP: the longest, 'a', has 8 points, "
                                         r"and a training window needs 13") as caught:
        _fit("MLP", tiny, 6)
    assert "start_padding_enabled" in (caught.value.hint or "")
    _fit("MLP", tiny, 6, start_padding_enabled=True)  # with start padding, 2 points are enough


def test_a_one_point_panel_with_start_padding_says_what_is_missing() -> None:
    tiny = SeriesFrame.from_arrays([np.array([3.0])], ids=["a"])
    with pytest.raises(UsageError, match=r"the longest, 'a', has 1 point, and a training window needs 2 "
                                         r"\(one input and one target point\)") as caught:
        _fit("MLP", tiny, 6, start_padding_enabled=True)
    assert caught.value.hint == "use series of at least 2 points"  # start padding is on already


def test_a_series_with_nothing_left_after_the_validation_split_is_an_error() -> None:
    frame = SeriesFrame.from_arrays([np.arange(40.0), np.arange(6.0)], ids=["long", "short"])
    with pytest.raises(UsageError, match="series 'short' has 6 points; MLP holds out the last h points"):
        _fit("MLP", frame, 6, early_stop_patience_steps=2, val_check_steps=5)
    single = SeriesFrame.from_arrays([np.arange(40.0), np.arange(1.0)], ids=["long", "single"])
    with pytest.raises(UsageError, match="series 'single' has 1 point; MLP holds out"):
        _fit("MLP", single, 6, early_stop_patience_steps=2, val_check_steps=5)
    _fit("MLP", SeriesFrame.from_arrays([np.arange(40.0), np.arange(7.0)], ids=["long", "short"]), 6,
         early_stop_patience_steps=2, val_check_steps=5)


def test_recurrent_rollouts_train_and_forecast_short_series() -> None:
    train, actual, h, _ = _split("yearly")
    fitted = _fit("GRU", train, h, recurrent=True, encoder_hidden_size=16, decoder_hidden_size=16, max_steps=20)
    forecast = fitted.predict().values["GRU"]
    assert forecast.shape == actual.shape and np.all(np.isfinite(forecast))
