"""`Forecaster`: the interface every runtime model implements, statistical or neural.

`modreg run`, `bench` and the contract test use only this: `fit`, `predict`, `get_params`,
`set_params`, `save`, `load`. Its hyperparameters are its explicit `__init__` parameters, each
stored as an attribute of the same name (the parameter schema, `get_params`, `set_params` and
saving all come from that signature). Saved models are one `.npz` (see `serialize`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from modreg.errors import NotFound, UsageError
from modreg.runtime import components
from modreg.runtime.data import SeriesFrame
from modreg.runtime.data.frequency import Frequency
from modreg.runtime.serialize import SavedModel, read_model_file, write_model_file
from modreg.runtime.training.fit import ProgressFn
from modreg.runtime.models.forecast import Forecast

if TYPE_CHECKING:
    from typing import Self


__all__ = ["Forecast", "Forecaster", "Precision"]

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


def _spec(value: Any) -> Any:
    return value.to_config() if isinstance(value, components.Configurable) else value


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
