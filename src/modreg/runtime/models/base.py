"""The base classes of every runtime model: `Forecast`, `Forecaster` (see `forecaster.py`), `WindowForecaster`.

`WindowForecaster` is neuralforecast's window-based training (`BaseModel` with windows): a
subclass only declares its hyperparameters and builds its network. Write a model like this:

    @register_model("MLP", category="basic", capabilities=("multi_step", "exogenous"))
    class MLP(WindowForecaster):
        param_bounds = {"input_size": {"minimum": 1}}

        def __init__(self, h: int, input_size: int, hidden_size: int = 1024,
                     loss: LossSpec = "mae", ..., stat_exog_list: tuple[str, ...] | None = None) -> None:
            super().__init__(h=h, input_size=input_size, loss=loss, ..., stat_exog_list=stat_exog_list)
            self.hidden_size = hidden_size

        def _build_network(self) -> nn.Module:
            return _MLPNetwork(self.input_size, self.h, self.hidden_size, self.loss.outputsize_multiplier, ...)

The network contract: `network(batch: WindowBatch) -> Tensor (B, h, n_outputs)`, where
`n_outputs = self.loss.outputsize_multiplier` (1 for point losses) and the batch holds values
already scaled per window (see `modreg.runtime.training.windows.WindowBatch` for the shapes).
`_build_network` is called at fit (and at load), after `rng.seed(random_seed)`, so
initialisation is reproducible; it may read `self.hist_exog_size`, `self.futr_exog_size`,
`self.stat_exog_size` and `self.input_size` (already resolved: `input_size < 1` means 3·h).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import components, rng
from modreg.runtime.autograd import no_grad
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.data import SeriesFrame, require_length
from modreg.runtime.training.fit import ProgressFn, TrainHistory, TrainSettings, blas_threads, train
from modreg.runtime.models.forecast import Forecast
from modreg.runtime.training.windows import (
    SeriesStore, Target, WindowBatch, WindowLayout, WindowSampler, Windows, chunk_windows, future_rows,
    predict_windows, prepare, static_array, temporal_arrays, validation_windows,
)

from modreg.runtime.models.forecaster import Forecaster, Precision

if TYPE_CHECKING:
    from typing import Self

    from modreg.runtime.autograd import Tensor
    from modreg.runtime.nn import Module
    from modreg.runtime.training.scalers import Scaler

__all__ = ["Forecast", "Forecaster", "Precision", "WindowBatch", "WindowForecaster"]


class WindowForecaster(Forecaster):
    """neuralforecast's window-based training for a network built by `_build_network`.

    Args:
        h: forecast horizon (number of steps predicted at once).
        input_size: number of past points the network sees; < 1 means 3 * h.
        loss: training loss: mae, mse, rmse, huber, quantile, mqloss, distribution, the scale-free mape, smape, mase, relmse (a name or a table, e.g. {type = "mase", seasonality = 4}).
        max_steps: number of training steps (optimizer updates).
        learning_rate: Adam's learning rate.
        num_lr_decays: number of times the learning rate is halved during training (-1: never).
        early_stop_patience_steps: validations without improvement before stopping (-1: off); when on, the last h points of every series are held out for validation.
        val_check_steps: training steps between validations.
        batch_size: number of series per training step.
        windows_batch_size: number of windows sampled from those series per step.
        inference_windows_batch_size: windows per forward pass when predicting (-1: all at once).
        step_size: distance between consecutive training windows.
        start_padding_enabled: pad every series with input_size - 1 zeros in front, so that its first points are targets too (without it, series shorter than the longest are front-padded up to it, by at most input_size - 1 zeros, as neuralforecast's batches do).
        scaler_type: per-window scaler: identity, standard, robust, minmax, minmax1, invariant, revin, absmean (not neuralforecast's: no shift, so percentage losses keep their meaning).
        random_seed: seed of weight initialisation, window sampling and dropout.
        gradient_clip_val: clip the global gradient norm to this value (None: no clipping).
        optimizer: adam or sgd (a name or a table, e.g. {type = "sgd", momentum = 0.9}).
        precision: float32 or float64 arithmetic.
        futr_exog_list: exogenous columns known in the future (predict needs them for the horizon).
        hist_exog_list: exogenous columns known only in the past.
        stat_exog_list: static exogenous columns (constant within each series).
    """

    EXOGENOUS_FUTR: ClassVar[bool] = True
    EXOGENOUS_HIST: ClassVar[bool] = True
    EXOGENOUS_STAT: ClassVar[bool] = True
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "h": {"minimum": 1},
        "max_steps": {"minimum": 1},
        "learning_rate": {"exclusiveMinimum": 0},
        "val_check_steps": {"minimum": 1},
        "batch_size": {"minimum": 1},
        "windows_batch_size": {"minimum": 1},
        "step_size": {"minimum": 1},
        "gradient_clip_val": {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}]},
    }
    network: Module | None = None
    train_history: TrainHistory | None = None

    def __init__(
        self, *, h: int, input_size: int, loss: LossSpec = "mae", max_steps: int = 1000,
        learning_rate: float = 1e-3, num_lr_decays: int = -1, early_stop_patience_steps: int = -1,
        val_check_steps: int = 100, batch_size: int = 32, windows_batch_size: int = 1024,
        inference_windows_batch_size: int = -1, step_size: int = 1, start_padding_enabled: bool = False,
        scaler_type: ScalerSpec = "identity", random_seed: int = 1, gradient_clip_val: float | None = None,
        optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
        futr_exog_list: tuple[str, ...] | None = None, hist_exog_list: tuple[str, ...] | None = None,
        stat_exog_list: tuple[str, ...] | None = None,
    ) -> None:
        self._raw_params = {"input_size": input_size}
        self.h, self.input_size = h, input_size if input_size > 0 else 3 * h
        self.loss = components.build("loss", loss, owner=f"{self.name}.loss")
        self.optimizer = components.build("optimizer", optimizer, owner=f"{self.name}.optimizer")
        self.scaler_type = components.build("scaler", scaler_type, owner=f"{self.name}.scaler_type")
        self.max_steps, self.learning_rate, self.num_lr_decays = max_steps, learning_rate, num_lr_decays
        self.early_stop_patience_steps, self.val_check_steps = early_stop_patience_steps, val_check_steps
        self.batch_size, self.windows_batch_size = batch_size, windows_batch_size
        self.inference_windows_batch_size, self.step_size = inference_windows_batch_size, step_size
        self.start_padding_enabled, self.random_seed = start_padding_enabled, random_seed
        self.gradient_clip_val, self.precision = gradient_clip_val, precision
        self.futr_exog_list, self.hist_exog_list, self.stat_exog_list = (
            _names(futr_exog_list), _names(hist_exog_list), _names(stat_exog_list))
        self._check_exog_support()

    # ----- For subclasses -----

    def _build_network(self) -> Module:
        """The network for the current hyperparameters (see the module docstring)."""
        raise NotImplementedError

    @property
    def futr_exog_size(self) -> int:
        return len(self.futr_exog_list or ())

    @property
    def hist_exog_size(self) -> int:
        return len(self.hist_exog_list or ())

    @property
    def stat_exog_size(self) -> int:
        return len(self.stat_exog_list or ())

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.precision)

    @property
    def context_length(self) -> int:  # type: ignore[override]
        return self.input_size

    # ----- Fit -----

    def fit(self, data: SeriesFrame, *, progress: ProgressFn | None = None) -> Self:
        """Train on `data`; with early stopping the last h points are held out for validation."""
        self.check_params()
        layout, validating = self._layout(), self.early_stop_patience_steps > 0
        train_frame = self._training_frame(data, validating)
        rng.seed(self.random_seed)
        self.network = self._build_network().to_dtype(self.dtype)
        scaler = self.scaler_type.create()
        store = SeriesStore(temporal_arrays(train_frame, layout, self.dtype), static_array(data, layout, self.dtype),
                            layout, step_size=self.step_size, start_padding=self.start_padding_enabled)
        self._check_windows(store, train_frame, layout)
        sampler = WindowSampler(store, batch_size=self.batch_size, windows_batch_size=self.windows_batch_size,
                                rng=rng.generator())
        validate = self._validation(data, layout) if validating else None
        self.train_history = train(self.network, lambda: self._training_batch(sampler.sample(), layout, scaler),
                                   self.loss, self._settings(), validate=validate, progress=progress)
        self._remember(data)
        return self

    def _training_batch(self, windows: Windows, layout: WindowLayout, scaler: Scaler) -> tuple[WindowBatch, Target]:
        """A sampled training batch, scaled and split (DeepAR adds its teacher-forced inputs)."""
        return prepare(windows, layout, scaler)

    def _layout(self) -> WindowLayout:
        return WindowLayout(self.input_size, self.h, self.hist_exog_list or (), self.futr_exog_list or (),
                            self.stat_exog_list or ())

    def _training_frame(self, data: SeriesFrame, validating: bool) -> SeriesFrame:
        """The data to train on: without the last h points when validating (each series must keep one)."""
        if not validating:
            return data
        require_length(data, self.h + 1, f"{self.name} holds out the last h points of every series for early "
                       "stopping, so it needs at least h + 1",
                       hint="use longer series, a smaller h, or early_stop_patience_steps = -1")
        return data.slice_end(self.h)

    def _check_windows(self, store: SeriesStore, frame: SeriesFrame, layout: WindowLayout) -> None:
        """A UsageError when no series gives a training window (shorter series are padded, see `windows`)."""
        if store.counts.any():
            return
        longest = int(np.argmax(frame.lengths))
        count = frame.lengths[longest]
        if self.start_padding_enabled:
            need, what, hint = 2, "one input and one target point", "use series of at least 2 points"
        else:
            need, what = layout.input_size + 1, "a full input window and one target point"
            hint = "set start_padding_enabled = true, lower input_size, or use longer series"
        raise UsageError(
            f"no series is long enough to train {self.name}: the longest, '{frame.ids[longest]}', has "
            f"{count} point{'' if count == 1 else 's'}, and a training window needs {need} ({what}).",
            hint=hint, path=frame.source)

    def _settings(self) -> TrainSettings:
        return TrainSettings(self.max_steps, self.learning_rate, self.optimizer, self.num_lr_decays,  # type: ignore[arg-type]
                             self.val_check_steps, self.early_stop_patience_steps, self.gradient_clip_val)

    def _validation(self, data: SeriesFrame, layout: WindowLayout) -> Callable[[], float]:
        """The validation loss (data units) on one window per series ending at its last point."""
        windows = validation_windows(temporal_arrays(data, layout, self.dtype), static_array(data, layout, self.dtype),
                                     layout)
        parts = chunk_windows(windows, self.inference_windows_batch_size)

        def validate() -> float:
            losses = []
            with no_grad():
                for part in parts:
                    batch, target = prepare(part, layout, self.scaler_type.create())
                    losses.append(self.loss.valid_loss(self._network_output(batch, target), target))
            return float(np.average(losses, weights=[len(p.mask) for p in parts]))

        return validate

    # ----- Predict -----

    def _predict(self, data: SeriesFrame, h: int, futr: SeriesFrame | None) -> Forecast:
        rng.seed(self.random_seed)  # sampling losses draw from it: every predict gives the same forecast
        layout = self._layout()
        future = future_rows(data, futr, layout, self.dtype, self.name) if layout.futr else None
        windows = predict_windows(temporal_arrays(data, layout, self.dtype), static_array(data, layout, self.dtype),
                                  layout, future)
        parts = chunk_windows(windows, self.inference_windows_batch_size)
        outputs = np.concatenate([self._forecast_chunk(part, layout) for part in parts])
        names = self.loss.output_names
        values = {f"{self.name}{suffix}": outputs[:, :h, k].astype(np.float64) for k, suffix in enumerate(names)}
        if "" not in names and "-median" in names:
            values = {self.name: values[f"{self.name}-median"], **values}
        return Forecast(self.name, data.ids, data.future_ds(h), values)

    def _forecast_chunk(self, windows: Windows, layout: WindowLayout) -> np.ndarray:
        batch, target = prepare(windows, layout, self.scaler_type.create())
        assert self.network is not None
        self.network.eval()
        with no_grad(), blas_threads(1):
            mapped = self.loss.domain_map(self._network_output(batch, target)).data
        return self.loss.forecast(mapped, target.scaling)

    def _network_output(self, batch: WindowBatch, target: Target) -> Tensor:
        """The network's (B, h, K) outputs for a batch outside training (recurrent rollouts need the target's scaling)."""
        assert self.network is not None
        return self.network(batch)

    # ----- State -----

    def num_parameters(self) -> int:
        """Trainable scalars plus the loss's frozen ones, as neuralforecast counts (builds the
        network without disturbing the random stream)."""
        if self.network is not None:
            return self.network.num_parameters() + self.loss.frozen_parameters
        generator = rng.generator()
        state = generator.bit_generator.state
        try:
            return self._build_network().num_parameters() + self.loss.frozen_parameters
        finally:
            generator.bit_generator.state = state

    def _state(self) -> dict[str, np.ndarray]:
        assert self.network is not None
        return self.network.state_dict()

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        self.network = self._build_network().to_dtype(self.dtype)
        self.network.load_state_dict(state, strict=True)
        self.network.eval()

    def _check_exog_support(self) -> None:
        for kind, names in (("FUTR", self.futr_exog_list), ("HIST", self.hist_exog_list), ("STAT", self.stat_exog_list)):
            if names and not getattr(self, f"EXOGENOUS_{kind}"):
                raise UsageError(f"{self.name} does not support {kind.lower()}_exog_list.",
                                 hint="drop the exogenous columns from its parameters.")


def _names(values: Any) -> tuple[str, ...] | None:
    return None if values is None else tuple(str(v) for v in values)
