"""Window sampling, padding, validation/prediction windows and per-window scaling."""

from __future__ import annotations

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import components, nn
from modreg.runtime.data import SeriesFrame
from modreg.runtime.training.scalers import get_scaler
from modreg.runtime.training.windows import (
    SeriesStore, WindowLayout, WindowSampler, merge_duplicates, predict_windows, prepare, static_array,
    temporal_arrays, validation_windows,
)
from modreg.runtime.training.losses import MQLoss

LAYOUT = WindowLayout(input_size=4, h=3)


def _series(*lengths: int) -> list[np.ndarray]:
    """Series i holds 100*i + 0, 1, 2, ... so a window's values say where it came from."""
    return [np.arange(n, dtype=np.float64)[:, None] + 100 * i for i, n in enumerate(lengths)]


def test_training_windows_need_an_input_and_a_target_point() -> None:
    store = SeriesStore(_series(10), None, LAYOUT)
    assert store.counts.tolist() == [6]  # starts 0..T-L-1: the last ones have padded targets
    windows = store.gather(store.starts, np.zeros(6, dtype=np.int64))
    np.testing.assert_array_equal(windows.temporal[0, :, 0], np.arange(7))
    np.testing.assert_array_equal(windows.mask[-1], [1, 1, 1, 1, 1, 0, 0])  # start 5: one real target


def test_step_size_and_start_padding() -> None:
    assert SeriesStore(_series(10), None, LAYOUT, step_size=2).counts.tolist() == [3]
    padded = SeriesStore(_series(10), None, LAYOUT, start_padding=True)
    assert padded.counts.tolist() == [9]
    first = padded.gather(padded.starts[:1], np.zeros(1, dtype=np.int64))
    np.testing.assert_array_equal(first.mask[0], [0, 0, 0, 1, 1, 1, 1])


def test_short_series_are_front_padded_up_to_the_longest_as_neuralforecast_batches() -> None:
    store = SeriesStore(_series(10, 5, 2, 1), None, LAYOUT)
    # 5 points: 3 zeros in front (input_size - 1) -> starts -3..0 give targets; 2 points: starts -3..-3;
    # 1 point: no window has both an input and a target point
    assert store.counts.tolist() == [6, 4, 1, 0]
    first = store.gather(store.starts[6:7], np.ones(1, dtype=np.int64))
    np.testing.assert_array_equal(first.mask[0], [0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(first.temporal[0, :, 0], [0, 0, 0, 100, 101, 102, 103])
    nearly = SeriesStore(_series(10, 9), None, LAYOUT)  # one point shorter: one zero in front, not three
    assert nearly.counts.tolist() == [6, 6]


def test_step_size_counts_from_the_panel_wide_padding_as_neuralforecast() -> None:
    """Window starts relative to each series' first point, as neuralforecast 3.3.0's _create_windows
    gives them for this panel (series padded to the longest, then by input_size - 1, then every 2nd)."""
    store = SeriesStore(_series(10, 5, 9), None, LAYOUT, step_size=2, start_padding=True)
    windows = store.gather(store.starts, np.zeros(len(store.starts), dtype=np.int64))
    first = windows.mask.argmax(axis=1)  # the first real point of each window
    values = windows.temporal[np.arange(len(first)), first, 0]
    relative = (values % 100 - first).astype(int)
    assert store.counts.tolist() == [5, 2, 4]
    assert relative.tolist() == [-3, -1, 1, 3, 5, -2, 0, -2, 0, 2, 4]
    unpadded = SeriesStore(_series(12, 3, 8), None, LAYOUT, step_size=3)
    windows = unpadded.gather(unpadded.starts, np.zeros(len(unpadded.starts), dtype=np.int64))
    first = windows.mask.argmax(axis=1)
    relative = (windows.temporal[np.arange(len(first)), first, 0] % 100 - first).astype(int)
    assert relative.tolist() == [0, 3, 6, -3, -1, 2]  # neuralforecast's, with the 12-point series' grid


def test_sampler_skips_series_without_windows() -> None:
    store = SeriesStore(_series(1, 12, 1), None, LAYOUT)
    sampler = WindowSampler(store, batch_size=1, windows_batch_size=8, rng=np.random.default_rng(0))
    for _ in range(4):
        assert set((sampler.sample().temporal[:, :, 0].max(axis=1) // 100).astype(int)) == {1}


def test_sampler_takes_batch_size_series_per_step_and_covers_all_per_pass() -> None:
    store = SeriesStore(_series(12, 12, 12), None, LAYOUT)
    sampler = WindowSampler(store, batch_size=1, windows_batch_size=50, rng=np.random.default_rng(0))
    origins = [set((sampler.sample().temporal[:, 0, 0] // 100).astype(int)) for _ in range(3)]
    assert all(len(o) == 1 for o in origins)
    assert set().union(*origins) == {0, 1, 2}


def test_sampler_without_replacement_when_enough_windows() -> None:
    store = SeriesStore(_series(40), None, LAYOUT)  # 36 windows
    sampler = WindowSampler(store, batch_size=32, windows_batch_size=20, rng=np.random.default_rng(1))
    firsts = sampler.sample().temporal[:, 0, 0]
    assert len(set(firsts.tolist())) == 20
    many = WindowSampler(store, batch_size=32, windows_batch_size=100, rng=np.random.default_rng(1)).sample()
    assert many.temporal.shape == (100, 7, 1) and len(set(many.temporal[:, 0, 0].tolist())) <= 36


def test_sampler_is_deterministic_for_a_seed() -> None:
    store = SeriesStore(_series(30, 25), None, LAYOUT)
    draws = [WindowSampler(store, batch_size=2, windows_batch_size=16, rng=np.random.default_rng(5)).sample()
             for _ in range(2)]
    np.testing.assert_array_equal(draws[0].temporal, draws[1].temporal)


def test_series_without_windows_are_reported() -> None:
    store = SeriesStore(_series(3), None, LAYOUT)
    with pytest.raises(UsageError, match="no training window"):
        WindowSampler(store, batch_size=1, windows_batch_size=4, rng=np.random.default_rng(0)).sample()


def test_validation_and_prediction_windows_use_the_series_end() -> None:
    val = validation_windows(_series(10, 5), None, LAYOUT)
    np.testing.assert_array_equal(val.temporal[0, :, 0], np.arange(3, 10))
    np.testing.assert_array_equal(val.mask[1], [0, 0, 1, 1, 1, 1, 1])  # 5 points, front-padded
    pred = predict_windows(_series(10, 2), None, LAYOUT)
    np.testing.assert_array_equal(pred.temporal[0, :, 0], [6, 7, 8, 9, 0, 0, 0])
    np.testing.assert_array_equal(pred.mask[0], [1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(pred.mask[1], [0, 0, 1, 1, 0, 0, 0])


def test_prepare_scales_with_input_statistics_only() -> None:
    windows = predict_windows(_series(10), None, LAYOUT)
    windows.temporal[0, 4:, 0] = 1e6  # must not leak into the statistics
    batch, target = prepare(windows, LAYOUT, get_scaler("standard"))
    np.testing.assert_allclose(target.scaling.shift[0, 0, 0], 7.5)
    np.testing.assert_allclose(batch.insample_y.data.mean(), 0.0, atol=1e-6)
    assert batch.insample_y.shape == (1, 4) and target.y.shape == (1, 3, 1) and target.mask.shape == (1, 3, 1)
    assert batch.hist_exog is None and batch.futr_exog is None and batch.stat_exog is None


def test_exogenous_channels_and_statics() -> None:
    n = 12
    frame = SeriesFrame.from_arrays(
        [np.arange(n, dtype=float), np.arange(n, dtype=float) + 50],
        ids=["a", "b"],
        exog={"hist": [np.full(n, 2.0), np.full(n, 3.0)], "futr": [np.arange(n) * 10.0] * 2,
              "group": [np.full(n, 1.0), np.full(n, 7.0)]},
    )
    layout = WindowLayout(4, 3, hist=("hist",), futr=("futr",), stat=("group",))
    arrays = temporal_arrays(frame, layout, np.dtype(np.float32))
    assert arrays[0].shape == (n, 3) and arrays[0].dtype == np.float32
    static = static_array(frame, layout, np.dtype(np.float32))
    np.testing.assert_array_equal(static, [[1.0], [7.0]])
    batch, _ = prepare(validation_windows(arrays, static, layout), layout, get_scaler("identity"))
    assert batch.hist_exog.shape == (2, 4, 1) and batch.futr_exog.shape == (2, 7, 1)
    np.testing.assert_array_equal(batch.futr_exog.data[0, :, 0], np.arange(5, 12) * 10.0)
    np.testing.assert_array_equal(batch.stat_exog.data, [[1.0], [7.0]])


def test_missing_and_varying_exogenous_columns_are_usage_errors() -> None:
    frame = SeriesFrame.from_arrays([np.arange(8.0)], exog={"x": [np.arange(8.0)]})
    with pytest.raises(UsageError, match="no exogenous column 'price'"):
        temporal_arrays(frame, WindowLayout(2, 2, hist=("price",)), np.dtype(np.float64))
    with pytest.raises(UsageError, match="varying values in the static column 'x'"):
        static_array(frame, WindowLayout(2, 2, stat=("x",)), np.dtype(np.float64))


def test_scaler_components_name_the_data_scalers() -> None:
    assert set(components.entries("scaler")) == {"identity", "standard", "robust", "minmax", "minmax1", "invariant", "revin",
                                                 "absmean"}
    robust = components.build("scaler", {"type": "robust"})
    assert robust.to_config() == "robust" and robust.create().name == "robust"


def _loss_and_grads(network: nn.Module, batch, target) -> tuple[float, list[np.ndarray]]:
    network.zero_grad()
    loss = MQLoss().train_loss(network(batch.insample_y).reshape(batch.batch_size, LAYOUT.h, -1), target)
    loss.backward()
    return loss.item(), [p.grad.copy() for p in network.parameters()]


def test_merging_duplicate_windows_keeps_the_loss_and_its_gradient() -> None:
    store = SeriesStore(_series(9, 8), None, LAYOUT)  # 8 distinct windows, drawn 64 times
    sampler = WindowSampler(store, batch_size=2, windows_batch_size=64, rng=np.random.default_rng(3))
    batch, target = prepare(sampler.sample(), LAYOUT, get_scaler("robust"))
    merged, weighted = merge_duplicates(batch, target)
    distinct = len(np.unique(target.y_raw[:, 0, 0]))  # each window's first target tells where it starts
    assert merged.batch_size == distinct < 16  # scaled inputs all coincide here: targets keep windows apart
    assert weighted.mask.sum() == target.mask.sum()  # the loss's denominator is unchanged
    np.testing.assert_array_equal(merged.insample_y.data[0], batch.insample_y.data[0])  # first occurrences, in order
    network = nn.Linear(LAYOUT.input_size, LAYOUT.h * MQLoss().outputsize_multiplier)
    full_loss, full_grads = _loss_and_grads(network, batch, target)
    loss, grads = _loss_and_grads(network, merged, weighted)
    assert loss == pytest.approx(full_loss, rel=1e-6)
    for grad, full in zip(grads, full_grads, strict=True):
        np.testing.assert_allclose(grad, full, rtol=1e-5, atol=1e-6)


def test_merging_leaves_a_batch_of_distinct_windows_alone() -> None:
    store = SeriesStore(_series(40), None, LAYOUT)
    sampler = WindowSampler(store, batch_size=1, windows_batch_size=20, rng=np.random.default_rng(1))
    batch, target = prepare(sampler.sample(), LAYOUT, get_scaler("identity"))
    assert merge_duplicates(batch, target) == (batch, target)


def test_the_quick_distinctness_test_never_calls_equal_rows_distinct() -> None:
    from modreg.runtime.training.windows import _distinct

    rows = np.random.default_rng(5).normal(size=(300, 7)).astype(np.float32)
    assert _distinct(rows) and _distinct(rows.astype(np.float64))
    rows[17] = rows[250]
    assert not _distinct(rows)
    assert not _distinct(np.zeros((2, 5000)))  # wider than the hash's weights: the exact comparison decides
