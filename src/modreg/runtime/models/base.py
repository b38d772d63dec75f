"""The base classes of every runtime model: `Forecast`, `Forecaster`, `WindowForecaster`.

`Forecaster` is the interface `modreg run`, `bench` and the contract test use; every model,
statistical or neural, subclasses it. Its hyperparameters are its explicit `__init__`
parameters, each stored as an attribute of the same name (the parameter schema, `get_params`,
`set_params` and saving all come from that signature).

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
already scaled per window (see `modreg.runtime.windows.WindowBatch` for the shapes).
`_build_network` is called at fit (and at load), after `rng.seed(random_seed)`, so
initialisation is reproducible; it may read `self.hist_exog_size`, `self.futr_exog_size`,
`self.stat_exog_size` and `self.input_size` (already resolved: `input_size < 1` means 3·h).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from modreg.errors import NotFound, UsageError
from modreg.runtime import components, rng
from modreg.runtime.autograd import no_grad
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.data import SeriesFrame, require_length
from modreg.runtime.frequency import Frequency
from modreg.runtime.serialize import SavedModel, read_model_file, write_model_file
from modreg.runtime.train import ProgressFn, TrainHistory, TrainSettings, blas_threads, train
from modreg.runtime.models.forecast import Forecast
from modreg.runtime.windows import (
    SeriesStore, WindowBatch, WindowLayout, WindowSampler, Windows, chunk_windows, future_rows, predict_windows,
    prepare, static_array, temporal_arrays, validation_windows,
)

if TYPE_CHECKING:
    from typing import Self

    from modreg.runtime.nn import Module

__all__ = ["Forecast", "Forecaster", "Precision", "WindowBatch", "WindowForecaster"]

Precision = Literal["float32", "float64"]


class Forecaster:
    """Base of every runtime model.

    Class attributes:
        model_name: the registered name (set by `@register_model`); prefixes forecast columns.
        param_bounds: JSON Schema bounds per parameter, e.g. {"h": {"minimum": 1}}.

    Subclasses implement `fit`, `_predict` and, when they have learned state, `_state` /
    `_load_state`. `fit` must call `self._remember(data)` so that `predict()` without data and
    a saved model can forecast from the training data's last `context_length` points.
    """

    model_name: ClassVar[str] = ""
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {}
    context_length: int | None = None
    _context: SeriesFrame | None = None

    # ----- The interface -----

    def fit(self, data: SeriesFrame, *, progress: ProgressFn | None = None) -> Self:
        raise NotImplementedError

    def predict(self, data: SeriesFrame | None = None, h: int | None = None, *,
                futr: SeriesFrame | None = None) -> Forecast:
        """Forecast `h` steps after each series of `data` (default: the training data).

        `futr` holds the future exogenous values (the `futr_exog_list` columns) for the `h`
        steps after `data`, one row per step, for models configured with them.
        """
        if self._context is None:
            raise UsageError(f"{self.name} is not fitted yet.", hint="call fit(data) first, or load a saved model.")
        frame = data if data is not None else self._context
        return self._predict(frame, self._horizon(h), futr)

    def _predict(self, data: SeriesFrame, h: int, futr: SeriesFrame | None) -> Forecast:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self.model_name or type(self).__name__

    @property
    def is_fitted(self) -> bool:
        return self._context is not None

    def num_parameters(self) -> int:
        """The number of learned scalars (0 for models without weights)."""
        return 0

    # ----- Parameters -----

    def get_params(self) -> dict[str, Any]:
        """Every `__init__` parameter and its value (components as their name or table)."""
        raw = getattr(self, "_raw_params", {})
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {n: _spec(raw[n] if n in raw else getattr(self, n)) for n in names}

    def set_params(self, **params: Any) -> Self:
        """Change parameters (validated); the model is re-initialised and must be fitted again."""
        from modreg.runtime.params import validate_against

        merged = validate_against(type(self), {**self.get_params(), **params}, owner=self.name)
        self.__init__(**merged)  # type: ignore[misc]
        self._context = None
        return self

    def check_params(self) -> None:
        """Validate the current parameters against the schema (UsageError naming the bad one)."""
        from modreg.runtime.params import validate_against

        validate_against(type(self), self.get_params(), owner=self.name)

    def _horizon(self, h: int | None) -> int:
        trained = getattr(self, "h", None)
        if h is None:
            if trained is None:
                raise UsageError(f"{self.name} needs a horizon h to forecast.")
            return trained
        if h < 1 or (trained is not None and h > trained):
            raise UsageError(f"{self.name} was trained for h = {trained}; it cannot forecast h = {h}.",
                             hint=f"use an h between 1 and {trained}, or fit again with --horizon {h}.")
        return h

    # ----- Context: the training data's tail -----

    def _remember(self, data: SeriesFrame) -> None:
        keep = self.context_length
        if keep is None:
            self._context = data
            return
        self._context = SeriesFrame(
            ids=data.ids, ds=tuple(d[-keep:] for d in data.ds), y=tuple(v[-keep:] for v in data.y),
            freq=data.freq, exog={k: tuple(v[-keep:] for v in vs) for k, vs in data.exog.items()},
        )

    def _context_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        frame = self._context
        assert frame is not None
        arrays = {"lengths": np.array(frame.lengths, dtype=np.int64), "ds": np.concatenate(frame.ds),
                  "y": np.concatenate(frame.y)}
        arrays.update({f"exog/{k}": np.concatenate(v) for k, v in frame.exog.items()})
        return arrays, {"ids": list(frame.ids), "freq": frame.freq.name, "exog": list(frame.exog)}

    def _restore_context(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        cuts = np.cumsum(arrays["lengths"])[:-1]
        self._context = SeriesFrame(
            ids=tuple(meta["ids"]), ds=tuple(np.split(arrays["ds"], cuts)), y=tuple(np.split(arrays["y"], cuts)),
            freq=Frequency.from_name(meta["freq"]),
            exog={k: tuple(np.split(arrays[f"exog/{k}"], cuts)) for k in meta["exog"]},
        )

    # ----- Saving -----

    def _state(self) -> dict[str, np.ndarray]:
        """Learned arrays to save (the network's state_dict for neural models)."""
        return {}

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what `_state` returned."""

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to one `.npz` (parameters as JSON, weights and context as arrays)."""
        if self._context is None:
            raise UsageError(f"{self.name} is not fitted, so there is nothing to save.", hint="fit it first.")
        context, meta = self._context_arrays()
        saved = SavedModel(model=self.name, params=_json_params(self.get_params()), state=self._state(),
                           context=context, meta={"context": meta}, class_name=_qualified(type(self)))
        return write_model_file(path, saved)

    @classmethod
    def load(cls, path: str | Path) -> Forecaster:
        """Read a model saved by `save`: `cls(**params)`, then a strict load of its arrays.

        Raises:
            NotFound: no such file, or the runtime model it names is not registered.
            IntegrityError: not a model file, or weights that do not fit the parameters.
        """
        from modreg.runtime.factory import get_model
        from modreg.runtime.params import validate_against

        saved = read_model_file(path)
        try:
            info = get_model(saved.model)
        except NotFound as error:
            raise NotFound(f"{path} holds a {saved.model} model, which is not registered here.",
                           hint=error.hint, path=path) from None
        if not issubclass(info.cls, cls):
            raise UsageError(f"{path} holds a {saved.model} model, not a {cls.__name__}.", path=path)
        model: Forecaster = info.cls(**validate_against(info.cls, saved.params, owner=saved.model))
        model._load_state(saved.state)
        model._restore_context(saved.context, saved.meta["context"])
        return model


class WindowForecaster(Forecaster):
    """neuralforecast's window-based training for a network built by `_build_network`.

    Args:
        h: forecast horizon (number of steps predicted at once).
        input_size: number of past points the network sees; < 1 means 3 * h.
        loss: training loss: mae, mse, rmse, huber, quantile, mqloss (a name or a table).
        max_steps: number of training steps (optimizer updates).
        learning_rate: Adam's learning rate.
        num_lr_decays: number of times the learning rate is halved during training (-1: never).
        early_stop_patience_steps: validations without improvement before stopping (-1: off); when on, the last h points of every series are held out for validation.
        val_check_steps: training steps between validations.
        batch_size: number of series per training step.
        windows_batch_size: number of windows sampled from those series per step.
        inference_windows_batch_size: windows per forward pass when predicting (-1: all at once).
        step_size: distance between consecutive training windows.
        start_padding_enabled: pad series with input_size - 1 zeros in front so that short series give windows.
        scaler_type: per-window scaler: identity, standard, robust, minmax, minmax1, invariant.
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
        sampler = WindowSampler(store, batch_size=self.batch_size, windows_batch_size=self.windows_batch_size,
                                rng=rng.generator())
        validate = self._validation(data, layout) if validating else None
        self.train_history = train(self.network, lambda: prepare(sampler.sample(), layout, scaler), self.loss,
                                   self._settings(), validate=validate, progress=progress)
        self._remember(data)
        return self

    def _layout(self) -> WindowLayout:
        return WindowLayout(self.input_size, self.h, self.hist_exog_list or (), self.futr_exog_list or (),
                            self.stat_exog_list or ())

    def _training_frame(self, data: SeriesFrame, validating: bool) -> SeriesFrame:
        need = (1 if self.start_padding_enabled else self.input_size) + self.h
        what = "h + 1" if self.start_padding_enabled else "input_size + h"
        if validating:
            need, what = need + self.h, what + " + h (the last h points are held out for early stopping)"
        require_length(data, need, f"{self.name} needs at least {what}")
        return data.slice_end(self.h) if validating else data

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
                    losses.append(self.loss.valid_loss(self.network(batch), target))  # type: ignore[misc]
            return float(np.average(losses, weights=[len(p.mask) for p in parts]))

        return validate

    # ----- Predict -----

    def _predict(self, data: SeriesFrame, h: int, futr: SeriesFrame | None) -> Forecast:
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
            mapped = self.loss.domain_map(self.network(batch)).data
        return self.loss.forecast(mapped, target.scaling)

    # ----- State -----

    def num_parameters(self) -> int:
        """Trainable scalars (builds the network without disturbing the random stream)."""
        if self.network is not None:
            return self.network.num_parameters()
        generator = rng.generator()
        state = generator.bit_generator.state
        try:
            return self._build_network().num_parameters()
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


def _spec(value: Any) -> Any:
    return value.to_config() if isinstance(value, components.Configurable) else value


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
