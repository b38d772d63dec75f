"""Windows over series, sampled like neuralforecast's BaseWindows, gathered with vectorised numpy.

A window is `input_size` input points followed by `h` target points. Every series' temporal
columns (`y`, then the historical exogenous, then the future exogenous) are stacked into one
array with zero padding and an availability mask, so a batch of windows is a single fancy-index
gather. A training window is kept when it has at least one available input point and one
available target point (neuralforecast's default `training_data_availability_threshold=0`).

Padding follows neuralforecast 3.3.0, where a batch of series is front-padded to its longest
series and `padder_train` adds `h` zeros after it (and `input_size - 1` zeros before it when
`start_padding_enabled`): every series gets `h` zeros after its end and, in front,
`input_size - 1` zeros with `start_padding_enabled`, else `min(input_size - 1, longest - length)`
zeros, `longest` being the panel's longest series. So a series shorter than `input_size + h`
still gives the windows that reach past its start (inputs partly padded), as it does in
neuralforecast, whose dataset pads every series to the panel's longest. With `step_size` > 1,
windows start every `step_size` points counted, as there, from the start of that panel-wide
padding, so a shorter series gets the same windows as in neuralforecast. Padded points are
masked: scalers and losses ignore them.

Each training step takes the next `batch_size` series of a shuffled pass over the series that
have a training window (the DataLoader's shuffle; a series too short for any window is only
forecast), then samples `windows_batch_size` of their windows (with replacement only when
there are fewer). Validation uses one window per series whose targets are the last
`h` points; prediction uses the last `input_size` points (zero-padded in front when shorter).
Windows are scaled one by one with statistics of their input part only (no leakage).

Sampling with replacement draws the same window many times when a batch asks for more windows
than the series have (1024 from AirPassengers' 97). `merge_duplicates` keeps one copy of each
and weights its target mask by the count: for a network whose rows are independent that is
the same loss and gradient at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from modreg.errors import UsageError
from modreg.runtime.autograd import Tensor
from modreg.runtime.components import Configurable, register_component
from modreg.runtime.data import SeriesFrame
from modreg.runtime.training.scalers import SCALER_NAMES, Scaler, get_scaler

__all__ = [
    "ScalerChoice",
    "Scaling",
    "SeriesStore",
    "Target",
    "WindowBatch",
    "WindowLayout",
    "WindowSampler",
    "Windows",
    "chunk_windows",
    "future_rows",
    "merge_duplicates",
    "predict_windows",
    "prepare",
    "validation_windows",
]


@dataclass(frozen=True)
class WindowLayout:
    """The shape of a window and the exogenous columns it carries."""

    input_size: int
    h: int
    hist: tuple[str, ...] = ()
    futr: tuple[str, ...] = ()
    stat: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return self.input_size + self.h

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the temporal channels exogenous part (after `y`)."""
        return (*self.hist, *self.futr)


@dataclass(frozen=True)
class Windows:
    """Raw windows: `temporal` (B, L+h, C) in data units, `mask` (B, L+h), `static` (B, S)."""

    temporal: np.ndarray
    mask: np.ndarray
    static: np.ndarray | None


@dataclass(frozen=True)
class WindowBatch:
    """What a network's `forward` receives; every value is already scaled per window.

    Args:
        insample_y: (B, L) the target's input part.
        insample_mask: (B, L) 1 where the input point exists, 0 for padding.
        hist_exog: (B, L, X) historical exogenous inputs, or None without `hist_exog_list`.
        futr_exog: (B, L + h, F) future exogenous inputs over input and horizon, or None.
        stat_exog: (B, S) static exogenous values (not scaled), or None.
    """

    insample_y: Tensor
    insample_mask: Tensor
    hist_exog: Tensor | None = None
    futr_exog: Tensor | None = None
    stat_exog: Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.insample_y.shape[0]


@dataclass(frozen=True)
class Scaling:
    """The target's per-window scaling, to bring outputs back to data units."""

    scaler: Scaler
    shift: np.ndarray
    scale: np.ndarray

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """(B, h, K) scaled values -> data units."""
        return self.scaler.inverse(z, self.shift, self.scale)


@dataclass(frozen=True)
class Target:
    """What a batch of windows must predict.

    Args:
        y: (B, h, 1) targets in the window's scaled units.
        y_raw: (B, h, 1) targets in data units.
        mask: (B, h, 1) 1 where the target exists, 0 for padding past a series' end; a loss
            treats it as weights (after `merge_duplicates`, a window's count where it exists).
        scaling: the target's per-window scaling.
        insample: (B, L, 1) the window's input part in the scaled units of `y` (MASE's scale and
            relMSE's benchmark read it), or None.
        insample_mask: (B, L, 1) 1 where an input point exists, 0 for padding, or None.
    """

    y: np.ndarray
    y_raw: np.ndarray
    mask: np.ndarray
    scaling: Scaling
    insample: np.ndarray | None = None
    insample_mask: np.ndarray | None = None


# ----- Building windows -----


def temporal_arrays(frame: SeriesFrame, layout: WindowLayout, dtype: np.dtype) -> list[np.ndarray]:
    """Per series, a (T, C) array of `y` and the exogenous columns in layout order."""
    missing = [c for c in (*layout.columns, *layout.stat) if c not in frame.exog]
    if missing:
        raise UsageError(
            f"the data has no exogenous column '{missing[0]}', which the model was configured with.",
            hint=f"columns found: {', '.join(frame.exog) or '(none)'}; add it or drop it from the model's exog lists",
            path=frame.source,
        )
    return [np.column_stack([frame.y[i], *(frame.exog[c][i] for c in layout.columns)]).astype(dtype, copy=False)
            for i in range(frame.n_series)]


def static_array(frame: SeriesFrame, layout: WindowLayout, dtype: np.dtype) -> np.ndarray | None:
    """(n_series, S): each static column's value per series (it must be constant in time)."""
    if not layout.stat:
        return None
    for name in layout.stat:
        for sid, values in zip(frame.ids, frame.exog[name]):
            if np.any(values != values[0]):
                raise UsageError(f"series '{sid}' has varying values in the static column '{name}'.",
                                 hint="a static exogenous column holds one value per series", path=frame.source)
    return np.array([[frame.exog[n][i][0] for n in layout.stat] for i in range(frame.n_series)], dtype=dtype)


class SeriesStore:
    """All series padded and concatenated, with every valid training window's start."""

    def __init__(self, arrays: Sequence[np.ndarray], static: np.ndarray | None, layout: WindowLayout, *,
                 step_size: int = 1, start_padding: bool = False) -> None:
        longest = max((len(a) for a in arrays), default=0)
        start_pad = layout.input_size - 1 if start_padding else 0
        fronts = [start_pad or min(layout.input_size - 1, longest - len(a)) for a in arrays]
        padded = [np.pad(a, ((front, layout.h), (0, 0))) for a, front in zip(arrays, fronts)]
        masks = [np.pad(np.ones(len(a), dtype=a.dtype), (front, layout.h)) for a, front in zip(arrays, fronts)]
        self.layout, self.static = layout, static
        self.values = np.concatenate(padded)
        self.mask = np.concatenate(masks)
        offsets = np.cumsum([0, *(len(p) for p in padded)])[:-1]
        # neuralforecast's windows start every step_size points from the start of the panel padded to its
        # longest series (and start_pad more): the first of ours that is on that grid
        firsts = [-(longest - len(a) + start_pad - front) % step_size for a, front in zip(arrays, fronts)]
        starts = [self._valid_starts(o, len(p), step_size, first) for o, p, first in zip(offsets, padded, firsts)]
        self.counts = np.array([len(s) for s in starts], dtype=np.int64)
        self.first = np.cumsum(np.concatenate([[0], self.counts]))[:-1]
        self.starts = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)

    def _valid_starts(self, offset: int, length: int, step: int, first: int) -> np.ndarray:
        width, size = self.layout.width, self.layout.input_size
        candidates = offset + np.arange(first, length - width + 1, step, dtype=np.int64)
        csum = np.concatenate([[0], np.cumsum(self.mask[offset:offset + length])])
        local = candidates - offset
        inputs = csum[local + size] - csum[local]
        targets = csum[local + width] - csum[local + size]
        return candidates[(inputs > 0) & (targets > 0)]

    def gather(self, starts: np.ndarray, series: np.ndarray) -> Windows:
        index = starts[:, None] + np.arange(self.layout.width)
        static = self.static[series] if self.static is not None else None
        return Windows(self.values[index], self.mask[index], static)


class WindowSampler:
    """Draws training windows: `batch_size` series per step, `windows_batch_size` windows."""

    def __init__(self, store: SeriesStore, *, batch_size: int, windows_batch_size: int,
                 rng: np.random.Generator) -> None:
        self.store, self.rng = store, rng
        self.batch_size, self.windows_batch_size = batch_size, windows_batch_size
        self._order = np.zeros(0, dtype=np.int64)

    def _next_series(self) -> np.ndarray:
        if not len(self._order):
            self._order = self.rng.permutation(np.flatnonzero(self.store.counts))
        chosen, self._order = self._order[: self.batch_size], self._order[self.batch_size:]
        return chosen

    def sample(self) -> Windows:
        """The next training batch of windows."""
        if not self.store.counts.any():
            raise UsageError("the series have no training window.", hint="use longer series or a smaller input_size")
        series = self._next_series()
        counts = self.store.counts[series]
        total = int(counts.sum())
        picks = self.rng.choice(total, size=self.windows_batch_size, replace=total < self.windows_batch_size)
        ends = np.cumsum(counts)
        pos = np.searchsorted(ends, picks, side="right")
        index = self.store.first[series[pos]] + picks - (ends - counts)[pos]
        return self.store.gather(self.store.starts[index], series[pos])


def _tail_window(values: np.ndarray, width: int, future: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The last `width` rows of `values` (+ `future` rows, unavailable), front zero-padded."""
    rows = values if future is None else np.concatenate([values, future])
    mask = np.concatenate([np.ones(len(values)), np.zeros(0 if future is None else len(future))])
    rows, mask = rows[-width:], mask[-width:]
    missing = width - len(rows)
    return np.pad(rows, ((missing, 0), (0, 0))), np.pad(mask.astype(values.dtype), (missing, 0))


def validation_windows(arrays: Sequence[np.ndarray], static: np.ndarray | None, layout: WindowLayout) -> Windows:
    """One window per series whose targets are the series' last `h` points."""
    pairs = [_tail_window(a, layout.width, None) for a in arrays]
    return Windows(np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), static)


def predict_windows(arrays: Sequence[np.ndarray], static: np.ndarray | None, layout: WindowLayout,
                    future: Sequence[np.ndarray] | None = None) -> Windows:
    """One window per series: its last `input_size` points and `h` unknown steps.

    `future` gives per series (h, C) rows for the horizon (future exogenous values in their
    columns); without it the horizon is zeros.
    """
    rows = future or [np.zeros((layout.h, a.shape[1]), dtype=a.dtype) for a in arrays]
    pairs = [_tail_window(a, layout.width, f) for a, f in zip(arrays, rows)]
    return Windows(np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), static)


def chunk_windows(windows: Windows, size: int) -> list[Windows]:
    """`windows` in consecutive parts of at most `size` (all at once when size <= 0)."""
    n = len(windows.mask)
    if size <= 0 or size >= n:
        return [windows]
    return [Windows(windows.temporal[i:i + size], windows.mask[i:i + size],
                    None if windows.static is None else windows.static[i:i + size]) for i in range(0, n, size)]


def future_rows(data: SeriesFrame, futr: SeriesFrame | None, layout: WindowLayout, dtype: np.dtype,
                model: str) -> list[np.ndarray]:
    """Per series (h, C) rows for the horizon: zeros except the future exogenous columns from `futr`.

    Raises:
        UsageError: `futr` is missing, lacks a column or a series, or has fewer than h rows for one.
    """
    if futr is None:
        raise UsageError(f"{model} uses future exogenous columns ({', '.join(layout.futr)}), "
                         "so forecasting needs their values for the horizon.",
                         hint="give their values for the h steps after the data: `modreg run --futr FILE.csv` "
                              "(unique_id,ds,<columns>), or predict(..., futr=read_future_csv(...)).")
    absent = [c for c in layout.futr if c not in futr.exog]
    if absent:
        raise UsageError(f"the future values have no column '{absent[0]}', which {model} needs for the horizon.",
                         hint=f"columns found: {', '.join(futr.exog) or '(none)'}", path=futr.source)
    lookup = dict(zip(futr.ids, range(futr.n_series)))
    rows = []
    for sid in data.ids:
        if sid not in lookup or futr.lengths[lookup[sid]] < layout.h:
            raise UsageError(f"series '{sid}' needs {layout.h} future rows of {', '.join(layout.futr)}.",
                             path=futr.source)
        row = np.zeros((layout.h, 1 + len(layout.columns)), dtype=dtype)
        for c, name in enumerate(layout.futr, start=1 + len(layout.hist)):
            row[:, c] = futr.exog[name][lookup[sid]][: layout.h]
        rows.append(row)
    return rows


# ----- From windows to network inputs -----


def prepare(windows: Windows, layout: WindowLayout, scaler: Scaler) -> tuple[WindowBatch, Target]:
    """Scale windows with their input-part statistics and split them into inputs and targets."""
    size, n_hist = layout.input_size, len(layout.hist)
    shift, scale = scaler.stats(windows.temporal[:, :size], windows.mask[:, :size, None], axis=1)  # no leakage
    scaled = scaler.transform(windows.temporal, shift, scale).astype(windows.temporal.dtype, copy=False)
    batch = WindowBatch(
        insample_y=Tensor(scaled[:, :size, 0]),
        insample_mask=Tensor(windows.mask[:, :size]),
        hist_exog=Tensor(scaled[:, :size, 1:1 + n_hist]) if n_hist else None,
        futr_exog=Tensor(scaled[:, :, 1 + n_hist:]) if layout.futr else None,
        stat_exog=Tensor(windows.static) if windows.static is not None else None,
    )
    target = Target(
        y=scaled[:, size:, :1],
        y_raw=windows.temporal[:, size:, :1],
        mask=windows.mask[:, size:, None],
        scaling=Scaling(scaler, shift[:, :, :1], scale[:, :, :1]),
        insample=scaled[:, :size, :1],
        insample_mask=windows.mask[:, :size, None],
    )
    return batch, target


def merge_duplicates(batch: WindowBatch, target: Target) -> tuple[WindowBatch, Target]:
    """One row per distinct window (first occurrences, in order), its target mask times its count.

    Rows are compared by the bytes of everything a loss or network reads (inputs, masks,
    targets and scaling), so only exact copies merge.
    """
    size = len(target.y)
    if _distinct(batch.insample_y.data.reshape(size, -1)):
        return batch, target
    fields = [batch.insample_y, batch.insample_mask, batch.hist_exog, batch.futr_exog, batch.stat_exog]
    arrays = [t.data for t in fields if t is not None]
    arrays += [target.y, target.y_raw, target.mask, target.scaling.shift, target.scaling.scale]
    key = np.concatenate([np.ascontiguousarray(a).reshape(size, -1).view(np.uint8) for a in arrays], axis=1)
    rows = np.ascontiguousarray(key).view(np.dtype((np.void, key.shape[1]))).ravel()
    _, first, counts = np.unique(rows, return_index=True, return_counts=True)
    if len(first) == size:
        return batch, target
    order = np.argsort(first)
    first, counts = first[order], counts[order].astype(target.mask.dtype)
    merged = WindowBatch(*(None if t is None else Tensor(t.data[first]) for t in fields))
    scaling = Scaling(target.scaling.scaler, target.scaling.shift[first], target.scaling.scale[first])
    weights = target.mask[first] * counts.reshape((-1,) + (1,) * (target.mask.ndim - 1))
    insample = [None if a is None else a[first] for a in (target.insample, target.insample_mask)]
    return merged, Target(target.y[first], target.y_raw[first], weights, scaling, *insample)


def _distinct(rows: np.ndarray) -> bool:
    """Whether no two rows are equal, told by a hash of their bits (rows that hash alike may still
    differ: False then only means the exact comparison must decide). A batch drawn without
    replacement rarely repeats a window: this costs 60 microseconds where the comparison of
    every field costs 400."""
    if rows.shape[1] > len(_HASH_WEIGHTS):
        return False
    bits = np.ascontiguousarray(rows).view(np.uint32 if rows.itemsize == 4 else np.uint64).astype(np.uint64)
    bits *= _HASH_WEIGHTS[: bits.shape[1]]  # uint64 products wrap: a hash, the same for equal rows
    hashes = np.sort(bits.sum(axis=1))
    return not np.any(hashes[1:] == hashes[:-1])


_HASH_WEIGHTS = np.random.default_rng(0).integers(1, 2**63, size=4096, dtype=np.uint64) | np.uint64(1)


# ----- Scaler components -----


class ScalerChoice(Configurable):
    """A window scaler of neuralforecast's TemporalNorm; takes no parameters."""

    def create(self) -> Scaler:
        return get_scaler(self.component_name)


for _name in SCALER_NAMES:
    register_component("scaler", _name)(
        type(f"{_name.title()}ScalerChoice", (ScalerChoice,), {"__doc__": f"The '{_name}' window scaler."})
    )
