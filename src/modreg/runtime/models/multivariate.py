"""`MultivariateForecaster`: neuralforecast's multivariate training (`MULTIVARIATE = True`).

A multivariate model sees all `n_series` series of a panel over the same time steps in one
window (see `modreg.runtime.training.panel_windows` for the shapes), so it can learn how the
series move together. Compared with `WindowForecaster`:

- the series must share their timestamps: anything else is one UsageError naming the first
  series and timestamp that differ, never a silent misalignment;
- `n_series` is taken from the training data when not given (a given value must match), and a
  fitted model's parameters hold the resolved value;
- the training series and their order are part of the fitted model (saved with it): forecasting
  needs exactly those series (in any order, the forecast follows the data's order);
- each step samples `windows_batch_size` windows (default 32, neuralforecast's multivariate
  default) of the whole panel; `batch_size` has no effect since every step takes every series;
- the series keep their order in every batch. (neuralforecast 3.3.0's training DataLoader
  shuffles the series of each batch, so a network that reads series by position, such as
  MLPMultivariate or TSMixer, sees them in a new order every epoch; modreg does not copy that.)
- the network contract: `network(batch: PanelBatch) -> Tensor (B, h, N, n_outputs)`. Networks
  keep `independent_rows = False` (the static inputs are shared by all rows of a batch).

Write a model like `WindowForecaster`'s, with `_build_network` reading `self.series_count`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import rng
from modreg.runtime.autograd import no_grad
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.data import SeriesFrame
from modreg.runtime.models.base import Forecast, Precision, WindowForecaster
from modreg.runtime.training.fit import ProgressFn, blas_threads, train
from modreg.runtime.training.panel_windows import (
    PanelBatch, PanelSampler, PanelStore, PanelWindows, check_aligned, panel_array, predict_panel, prepare_panel,
    validation_panel,
)
from modreg.runtime.training.scalers import Scaler
from modreg.runtime.training.windows import Target, WindowLayout, future_rows, static_array, temporal_arrays

if TYPE_CHECKING:
    from typing import Self

__all__ = ["MultivariateForecaster", "PanelBatch"]


class MultivariateForecaster(WindowForecaster):
    """neuralforecast's multivariate window training for a network built by `_build_network`.

    Args:
        n_series: number of series in the panel (None: taken from the training data).
        exclude_insample_y: zero the target's past values in the inputs (models with exogenous inputs only).
        batch_size: no effect (kept for neuralforecast's signature): every step takes every series.
        windows_batch_size: number of panel windows sampled per training step.
        inference_windows_batch_size: no effect (neuralforecast's signature): prediction uses one panel window.
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "n_series": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
    }

    def __init__(
        self, *, h: int, input_size: int, n_series: int | None = None, exclude_insample_y: bool = False,
        loss: LossSpec = "mae", max_steps: int = 1000, learning_rate: float = 1e-3, num_lr_decays: int = -1,
        early_stop_patience_steps: int = -1, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 32, inference_windows_batch_size: int = 32, step_size: int = 1,
        start_padding_enabled: bool = False, scaler_type: ScalerSpec = "identity", random_seed: int = 1,
        gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
        futr_exog_list: tuple[str, ...] | None = None, hist_exog_list: tuple[str, ...] | None = None,
        stat_exog_list: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
            futr_exog_list=futr_exog_list, hist_exog_list=hist_exog_list, stat_exog_list=stat_exog_list,
        )
        self.n_series, self.exclude_insample_y = n_series, exclude_insample_y
        if exclude_insample_y and not (self.EXOGENOUS_FUTR or self.EXOGENOUS_HIST or self.EXOGENOUS_STAT):
            raise UsageError(f"{self.name} does not support exclude_insample_y=True: without exogenous inputs "
                             "it would see nothing.", hint="set exclude_insample_y = false.")

    @property
    def series_count(self) -> int:
        """`n_series`, which the network needs (known once given or fitted)."""
        if self.n_series is None:
            raise UsageError(f"{self.name} does not know n_series before it is fitted.",
                             hint="give n_series, or fit the model on the panel first.")
        return self.n_series

    # ----- Fit -----

    def fit(self, data: SeriesFrame, *, progress: ProgressFn | None = None) -> Self:
        """Train on the panel `data`; with early stopping its last h points are held out for validation."""
        self.check_params()
        check_aligned(data, self.name)
        self._resolve_n_series(data)
        layout, validating = self._layout(), self.early_stop_patience_steps > 0
        train_frame = self._training_frame(data, validating)
        rng.seed(self.random_seed)
        self.network = self._build_network().to_dtype(self.dtype)
        scaler = self.scaler_type.create()
        store = PanelStore(panel_array(temporal_arrays(train_frame, layout, self.dtype)),
                           static_array(data, layout, self.dtype), layout, step_size=self.step_size,
                           start_padding=self.start_padding_enabled)
        sampler = PanelSampler(store, windows_batch_size=self.windows_batch_size, rng=rng.generator())
        validate = self._validation(data, layout) if validating else None
        self.train_history = train(self.network, lambda: self._prepare(sampler.sample(), layout, scaler), self.loss,
                                   self._settings(), validate=validate, progress=progress)
        self._remember(data)
        return self

    def _resolve_n_series(self, data: SeriesFrame) -> None:
        if self.n_series is None:
            self.n_series = data.n_series
        elif self.n_series != data.n_series:
            raise UsageError(f"{self.name} has n_series = {self.n_series}, but the data has {data.n_series} series.",
                             hint="drop n_series to take it from the data, or give the number of series.",
                             path=data.source)

    def _prepare(self, windows: PanelWindows, layout: WindowLayout, scaler: Scaler) -> tuple[PanelBatch, Target]:
        return prepare_panel(windows, layout, scaler, exclude_insample_y=self.exclude_insample_y)

    def _validation(self, data: SeriesFrame, layout: WindowLayout) -> Callable[[], float]:
        """The validation loss (data units) on the panel window ending at the last point."""
        window = validation_panel(panel_array(temporal_arrays(data, layout, self.dtype)),
                                  static_array(data, layout, self.dtype), layout)

        def validate() -> float:
            with no_grad():
                batch, target = self._prepare(window, layout, self.scaler_type.create())
                return self.loss.valid_loss(self.network(batch), target)  # type: ignore[misc]

        return validate

    # ----- Predict -----

    def _predict(self, data: SeriesFrame, h: int, futr: SeriesFrame | None) -> Forecast:
        check_aligned(data, self.name)
        order = self._series_order(data)
        layout = self._layout()
        arrays = temporal_arrays(data, layout, self.dtype)
        future = future_rows(data, futr, layout, self.dtype, self.name) if layout.futr else None
        static = static_array(data, layout, self.dtype)
        window = predict_panel(panel_array([arrays[i] for i in order]), None if static is None else static[order],
                               layout, None if future is None else panel_array([future[i] for i in order]))
        outputs = self._forecast_panel(window, layout)[0][:, np.argsort(order)]  # (h, N, K), data order
        names = self.loss.output_names
        values = {f"{self.name}{suffix}": outputs[:h, :, k].T.astype(np.float64) for k, suffix in enumerate(names)}
        if "" not in names and "-median" in names:
            values = {self.name: values[f"{self.name}-median"], **values}
        return Forecast(self.name, data.ids, data.future_ds(h), values)

    def _forecast_panel(self, windows: PanelWindows, layout: WindowLayout) -> np.ndarray:
        batch, target = self._prepare(windows, layout, self.scaler_type.create())
        assert self.network is not None
        self.network.eval()
        with no_grad(), blas_threads(1):
            mapped = self.loss.domain_map(self.network(batch)).data
        return self.loss.forecast(mapped, target.scaling)  # (B, h, N, K)

    def _series_order(self, data: SeriesFrame) -> np.ndarray:
        """Positions in `data` of the training series, in training order.

        Raises:
            UsageError: `data` lacks a training series or holds another one.
        """
        assert self._context is not None
        trained = self._context.ids
        position, known = {sid: i for i, sid in enumerate(data.ids)}, set(trained)
        missing = [sid for sid in trained if sid not in position]
        extra = [sid for sid in data.ids if sid not in known]
        problems = [f"series '{extra[0]}' was not in the training data"] if extra else []
        problems += [f"series '{missing[0]}' is missing"] if missing else []
        if problems:
            raise UsageError(f"{self.name} forecasts the {len(trained)} series it was trained on, and "
                             f"{' and '.join(problems)}.",
                             hint="give the same series as in training (any order), or fit the model on these.",
                             path=data.source)
        return np.array([position[sid] for sid in trained], dtype=np.int64)
