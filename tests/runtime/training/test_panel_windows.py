"""Panel windows: alignment check, window gathering, sampling and per-series scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.training.panel_windows import (
    PanelSampler, PanelStore, check_aligned, panel_array, predict_panel, prepare_panel, validation_panel,
)
from modreg.runtime.training.scalers import get_scaler
from modreg.runtime.training.windows import WindowLayout, static_array, temporal_arrays

DATA = Path(__file__).resolve().parents[2] / "data"
LAYOUT = WindowLayout(input_size=8, h=4)


@pytest.fixture(scope="module")
def visnights() -> SeriesFrame:
    return read_series_csv(DATA / "visnights.csv")


def _panel(frame: SeriesFrame, layout: WindowLayout = LAYOUT) -> np.ndarray:
    return panel_array(temporal_arrays(frame, layout, np.dtype(np.float64)))


def test_aligned_panel_passes(visnights: SeriesFrame) -> None:
    check_aligned(visnights, "M")


def test_a_series_with_other_timestamps_is_named_with_the_first_timestamp_that_differs(visnights) -> None:
    ds, y = list(visnights.ds), list(visnights.y)
    ds[3], y[3] = ds[3][1:], y[3][1:]  # starts one quarter later
    frame = SeriesFrame.from_arrays(y, ids=visnights.ids, ds=ds)
    with pytest.raises(UsageError, match=f"series '{visnights.ids[3]}' has 1998-04-01 at point 0 where "
                                         f"series '{visnights.ids[0]}' has 1998-01-01"):
        check_aligned(frame, "M")


def test_a_shorter_series_is_named_where_it_ends(visnights) -> None:
    frame = SeriesFrame.from_arrays([visnights.y[0], visnights.y[1][:-2]], ids=visnights.ids[:2],
                                    ds=[visnights.ds[0], visnights.ds[1][:-2]])
    with pytest.raises(UsageError, match=r"has nothing \(it ends earlier\) at point 74 where .* has 2016-07-01"):
        check_aligned(frame, "M")


def test_training_windows_hold_every_series_over_the_same_steps(visnights) -> None:
    panel = _panel(visnights)
    store = PanelStore(panel, None, LAYOUT)
    n = len(panel)
    np.testing.assert_array_equal(store.starts, np.arange(n - LAYOUT.input_size))  # >= 1 target point
    windows = store.gather(np.array([0, 5]))
    assert windows.temporal.shape == (2, LAYOUT.width, 1, visnights.n_series)
    np.testing.assert_array_equal(windows.temporal[1, :, 0, 7], visnights.y[7][5:5 + LAYOUT.width])
    last = store.gather(store.starts[-1:])
    assert last.mask[0, :, 0].tolist() == [1] * (LAYOUT.input_size + 1) + [0] * (LAYOUT.h - 1)


def test_sampler_draws_distinct_windows_when_there_are_enough(visnights) -> None:
    store = PanelStore(_panel(visnights), None, LAYOUT)
    sampler = PanelSampler(store, windows_batch_size=32, rng=np.random.default_rng(0))
    windows = sampler.sample()
    assert windows.temporal.shape[0] == 32
    assert len({w.tobytes() for w in windows.temporal}) == 32


def test_scaling_is_per_series_and_uses_the_input_part_only(visnights) -> None:
    store = PanelStore(_panel(visnights), None, LAYOUT)
    batch, target = prepare_panel(store.gather(np.array([3])), LAYOUT, get_scaler("standard"))
    assert batch.insample_y.shape == (1, LAYOUT.input_size, visnights.n_series)
    for i in (0, 11):
        x = visnights.y[i][3:3 + LAYOUT.input_size]
        np.testing.assert_allclose(batch.insample_y.data[0, :, i], (x - x.mean()) / (x.std() + 1e-6), rtol=1e-6)
        assert target.scaling.shift[0, 0, i, 0] == pytest.approx(x.mean())
    assert target.y.shape == target.mask.shape == (1, LAYOUT.h, visnights.n_series, 1)
    np.testing.assert_allclose(target.scaling.inverse(target.y), target.y_raw)


def test_exogenous_inputs_take_neuralforecasts_shapes() -> None:
    data = read_series_csv(DATA / "us_change.csv")
    layout = WindowLayout(8, 4, hist=("savings",), futr=("income", "production"), stat=())
    store = PanelStore(_panel(data, layout), None, layout)
    batch, _ = prepare_panel(store.gather(np.array([0, 1, 2])), layout, get_scaler("identity"))
    assert batch.hist_exog.shape == (3, 1, 8, 1) and batch.futr_exog.shape == (3, 2, 12, 1)
    np.testing.assert_array_equal(batch.futr_exog.data[1, 1, :, 0], data.exog["production"][0][1:13])


def test_static_values_are_one_row_per_series(visnights) -> None:
    frame = SeriesFrame.from_arrays(visnights.y, ids=visnights.ids, ds=visnights.ds,
                                    exog={"code": [np.full(len(y), float(i)) for i, y in enumerate(visnights.y)]})
    layout = WindowLayout(8, 4, stat=("code",))
    static = static_array(frame, layout, np.dtype(np.float64))
    batch, _ = prepare_panel(PanelStore(_panel(frame, layout), static, layout).gather(np.array([0, 1])), layout,
                             get_scaler("identity"))
    np.testing.assert_array_equal(batch.stat_exog.data[:, 0], np.arange(visnights.n_series))


def test_prediction_and_validation_windows_end_where_the_data_ends(visnights) -> None:
    panel = _panel(visnights)
    window = predict_panel(panel, None, LAYOUT)
    np.testing.assert_array_equal(window.temporal[0, :LAYOUT.input_size, 0], panel[-LAYOUT.input_size:, 0])
    assert window.mask[0, LAYOUT.input_size:].sum() == 0
    valid = validation_panel(panel, None, LAYOUT)
    np.testing.assert_array_equal(valid.temporal[0, :, 0], panel[-LAYOUT.width:, 0])
    short = predict_panel(panel[:5], None, LAYOUT)  # fewer points than input_size: zero-padded in front
    assert short.mask[0, :, 0].tolist() == [0, 0, 0] + [1] * 5 + [0] * 4
