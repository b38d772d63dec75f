"""Panel windows for multivariate models: every window holds all series over the same time steps.

neuralforecast's multivariate models (`MULTIVARIATE = True`) see the `n_series` series of a
panel together: a window is (L + h, C, N) instead of (L + h, C), and a training step samples
`windows_batch_size` windows of the whole panel (the series are never split across batches).
The series must share their timestamps (`check_aligned`), so one availability mask serves
them all and padding (`h` zeros after the end; `input_size - 1` before the start when
`start_padding_enabled`) happens once. Scalers work per series and channel: statistics over
the input part of each window, as for univariate windows.

Shapes (B windows, L input_size, h horizon, N series, X historical, F future, S static):
`PanelBatch.insample_y` (B, L, N), `insample_mask` (B, L, N), `hist_exog` (B, X, L, N),
`futr_exog` (B, F, L + h, N), `stat_exog` (N, S), as neuralforecast passes them; the
`Target` holds y, y_raw and mask as (B, h, N, 1) and the scaling as (B, 1, N, 1), so the
losses (mask-weighted over any leading axes) and `Scaling.inverse` work unchanged on network
outputs of shape (B, h, N, n_outputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from modreg.errors import UsageError
from modreg.runtime.autograd import Tensor
from modreg.runtime.data import SeriesFrame
from modreg.runtime.data.frequency import format_timestamps
from modreg.runtime.training.scalers import Scaler
from modreg.runtime.training.windows import Scaling, Target, WindowLayout

__all__ = [
    "PanelBatch",
    "PanelSampler",
    "PanelStore",
    "PanelWindows",
    "check_aligned",
    "panel_array",
    "predict_panel",
    "prepare_panel",
    "validation_panel",
]


@dataclass(frozen=True)
class PanelWindows:
    """Raw panel windows: `temporal` (B, L+h, C, N) in data units, `mask` (B, L+h, N), `static` (N, S)."""

    temporal: np.ndarray
    mask: np.ndarray
    static: np.ndarray | None


@dataclass(frozen=True)
class PanelBatch:
    """What a multivariate network's `forward` receives (scaled per window and series, see module doc)."""

    insample_y: Tensor
    insample_mask: Tensor
    hist_exog: Tensor | None = None
    futr_exog: Tensor | None = None
    stat_exog: Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.insample_y.shape[0]

    @property
    def n_series(self) -> int:
        return self.insample_y.shape[2]


# ----- The panel -----


def check_aligned(frame: SeriesFrame, model: str) -> None:
    """Raise a UsageError naming the first series and timestamp that differ from the first series'.

    Raises:
        UsageError: some series does not have exactly the first series' timestamps.
    """
    first, stamps = frame.ids[0], frame.ds[0]
    for sid, ds in zip(frame.ids[1:], frame.ds[1:]):
        if len(ds) == len(stamps) and np.array_equal(ds, stamps):
            continue
        common = min(len(ds), len(stamps))
        point = int(np.flatnonzero(ds[:common] != stamps[:common])[0]) if np.any(ds[:common] != stamps[:common]) \
            else common
        theirs = format_timestamps(ds[point:point + 1]) or ["nothing (it ends earlier)"]
        ours = format_timestamps(stamps[point:point + 1]) or ["nothing (it ends earlier)"]
        raise UsageError(
            f"{model} is multivariate, so every series needs the same timestamps: series '{sid}' has "
            f"{theirs[0]} at point {point} where series '{first}' has {ours[0]}.",
            hint="give every series the same time range (trim or fill them), or use a univariate model.",
            path=frame.source,
        )


def panel_array(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Per-series (T, C) arrays of aligned series -> one (T, C, N) array."""
    return np.stack(arrays, axis=-1)


class PanelStore:
    """The padded panel and the start of every valid training window."""

    def __init__(self, panel: np.ndarray, static: np.ndarray | None, layout: WindowLayout, *,
                 step_size: int = 1, start_padding: bool = False) -> None:
        front = layout.input_size - 1 if start_padding else 0
        self.layout, self.static = layout, static
        self.values = np.pad(panel, ((front, layout.h), (0, 0), (0, 0)))  # (T', C, N)
        self.mask = np.pad(np.ones(len(panel), dtype=panel.dtype), (front, layout.h))  # (T',)
        width, size = layout.width, layout.input_size
        candidates = np.arange(0, len(self.mask) - width + 1, step_size, dtype=np.int64)
        csum = np.concatenate([[0], np.cumsum(self.mask)])
        inputs = csum[candidates + size] - csum[candidates]
        targets = csum[candidates + width] - csum[candidates + size]
        self.starts = candidates[(inputs > 0) & (targets > 0)]

    def gather(self, starts: np.ndarray) -> PanelWindows:
        index = starts[:, None] + np.arange(self.layout.width)  # (B, L+h)
        n_series = self.values.shape[2]
        mask = np.repeat(self.mask[index][:, :, None], n_series, axis=2)
        return PanelWindows(self.values[index], mask, self.static)


class PanelSampler:
    """Draws `windows_batch_size` panel windows per step (with replacement only when there are fewer)."""

    def __init__(self, store: PanelStore, *, windows_batch_size: int, rng: np.random.Generator) -> None:
        if not len(store.starts):
            raise UsageError("the series have no training window.", hint="use longer series or a smaller input_size")
        self.store, self.rng, self.windows_batch_size = store, rng, windows_batch_size

    def sample(self) -> PanelWindows:
        total = len(self.store.starts)
        picks = self.rng.choice(total, size=self.windows_batch_size, replace=total < self.windows_batch_size)
        return self.store.gather(self.store.starts[picks])


def _tail(panel: np.ndarray, width: int, future: np.ndarray | None) -> PanelWindows:
    """One window: the last rows of `panel` (T, C, N), then `future` rows (unavailable), front zero-padded."""
    rows = panel if future is None else np.concatenate([panel, future])
    mask = np.concatenate([np.ones(len(panel)), np.zeros(0 if future is None else len(future))])
    rows, mask = rows[-width:], mask[-width:].astype(panel.dtype)
    missing = width - len(rows)
    rows, mask = np.pad(rows, ((missing, 0), (0, 0), (0, 0))), np.pad(mask, (missing, 0))
    return PanelWindows(rows[None], np.repeat(mask[None, :, None], panel.shape[2], axis=2), None)


def validation_panel(panel: np.ndarray, static: np.ndarray | None, layout: WindowLayout) -> PanelWindows:
    """The one window whose targets are the panel's last `h` points."""
    window = _tail(panel, layout.width, None)
    return PanelWindows(window.temporal, window.mask, static)


def predict_panel(panel: np.ndarray, static: np.ndarray | None, layout: WindowLayout,
                  future: np.ndarray | None = None) -> PanelWindows:
    """The one window of the last `input_size` points and `h` unknown steps (`future` (h, C, N) or zeros)."""
    rows = future if future is not None else np.zeros((layout.h, *panel.shape[1:]), dtype=panel.dtype)
    window = _tail(panel, layout.width, rows)
    return PanelWindows(window.temporal, window.mask, static)


# ----- From windows to network inputs -----


def prepare_panel(windows: PanelWindows, layout: WindowLayout, scaler: Scaler, *,
                  exclude_insample_y: bool = False) -> tuple[PanelBatch, Target]:
    """Scale each series of each window with its input-part statistics; split inputs and targets."""
    size, n_hist = layout.input_size, len(layout.hist)
    stats_mask = windows.mask.copy()
    stats_mask[:, size:] = 0
    shift, scale = scaler.stats(windows.temporal, stats_mask[:, :, None, :], axis=1)  # (B, 1, C, N)
    scaled = scaler.transform(windows.temporal, shift, scale).astype(windows.temporal.dtype, copy=False)
    insample = scaled[:, :size, 0]  # (B, L, N)
    batch = PanelBatch(
        insample_y=Tensor(insample * 0 if exclude_insample_y else insample),
        insample_mask=Tensor(windows.mask[:, :size]),
        hist_exog=Tensor(scaled[:, :size, 1:1 + n_hist].transpose(0, 2, 1, 3)) if n_hist else None,  # (B, X, L, N)
        futr_exog=Tensor(scaled[:, :, 1 + n_hist:].transpose(0, 2, 1, 3)) if layout.futr else None,  # (B, F, L+h, N)
        stat_exog=Tensor(windows.static) if windows.static is not None else None,  # (N, S)
    )
    target = Target(
        y=scaled[:, size:, 0, :, None],  # (B, h, N, 1)
        y_raw=windows.temporal[:, size:, 0, :, None],
        mask=windows.mask[:, size:, :, None],
        scaling=Scaling(scaler, shift[:, :, 0, :, None], scale[:, :, 0, :, None]),  # (B, 1, N, 1)
        insample=insample[..., None],  # (B, L, N, 1)
        insample_mask=windows.mask[:, :size, :, None],
    )
    return batch, target
