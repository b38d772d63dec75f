"""THE contract test: every registered runtime model, on real data, end to end.

Parametrized over `factory.list_models()` at collection time, so models added later are
included automatically. Each model is fitted for a few steps (h=12, input_size=24 where the
model has them), forecasts, is saved and loaded, and must forecast identically. Capability
flags add assertions: `probabilistic` (interval columns), `exogenous` (historical and future
exogenous columns), `multivariate` (a panel of series). A model needing a required parameter
this file does not know fails with a message saying where to add it.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from modreg.runtime import factory
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import Forecast, Forecaster, WindowForecaster
from modreg.runtime.params import schema_for

DATA = Path(__file__).resolve().parents[2] / "data"
H, INPUT_SIZE = 12, 24
MODELS = sorted(factory.list_models())

# Small training budgets (and TimeLLM's text prototypes), applied when the model has the parameter
# (defaults stay faithful).
SMALL: dict[str, Any] = {"h": H, "input_size": INPUT_SIZE, "max_steps": 2, "windows_batch_size": 16,
                         "inference_windows_batch_size": -1, "val_check_steps": 1, "num_tokens": 32,
                         "members": ({"model": "MLP", "params": {"input_size": INPUT_SIZE, "hidden_size": 16}},
                                     {"model": "SeasonalNaive"})}

# Parameter counts of neuralforecast 3.3.0's default models at h=12, input_size=24
# (n_series=4 for multivariate ones), from MODELS.md; a faithful port has the same.
EXPECTED_PARAMETERS = {
    "MLP": 1_087_500, "DLinear": 600, "NLinear": 300, "MLPMultivariate": 1_198_128, "RNN": 66_433,
    "LSTM": 215_809, "GRU": 388_857, "NBEATS": 2_447_322, "NBEATSx": 2_447_322, "NHITS": 2_437_725,
    "TiDE": 951_376, "TFT": 870_158, "Informer": 341_985, "Autoformer": 290_561, "FEDformer": 364_289,
    "PatchTST": 404_623, "iTransformer": 6_324_748, "DeepAR": 199_560, "DeepNPTS": 11_488, "TCN": 148_909,
    "BiTCN": 6_013, "TimesNet": 4_688_645, "StemGNN": 4_221_980, "TSMixer": 3_436, "TSMixerx": 41_548,
}


def _capabilities(name: str) -> tuple[str, ...]:
    return factory.get_model(name).capabilities


def _frame(name: str) -> SeriesFrame:
    file = "visnights.csv" if "multivariate" in _capabilities(name) else "air_passengers.csv"
    return read_series_csv(DATA / file)


def _params(name: str, frame: SeriesFrame, **extra: Any) -> dict[str, Any]:
    schema = schema_for(factory.get_model(name).cls)
    known = {**SMALL, "n_series": frame.n_series, **extra}
    missing = [p for p in schema.get("required", []) if p not in known]
    if missing:
        pytest.fail(f"{name} requires {missing}; add a small value for it to SMALL in {__file__}")
    return {k: v for k, v in known.items() if k in schema["properties"]}


def _fit(name: str, frame: SeriesFrame, **extra: Any) -> Forecaster:
    return factory.create(name, **_params(name, frame, **extra)).fit(frame)


def _assert_same(a: Forecast, b: Forecast) -> None:
    assert a.columns == b.columns and a.ids == b.ids
    for column in a.columns:
        np.testing.assert_array_equal(a.values[column], b.values[column], err_msg=column)
    for da, db in zip(a.ds, b.ds):
        np.testing.assert_array_equal(da, db)


@pytest.fixture(scope="module", params=MODELS)
def fitted(request: pytest.FixtureRequest) -> tuple[str, SeriesFrame, Forecaster, Forecast]:
    name = request.param
    frame = _frame(name)
    model = _fit(name, frame)
    return name, frame, model, model.predict()


def test_forecasts_have_the_right_shape_dates_and_finite_values(fitted) -> None:
    name, frame, model, forecast = fitted
    assert model.is_fitted and forecast.model == name and forecast.ids == frame.ids
    assert name in forecast.columns, "every model writes a point forecast column named after it"
    for column, values in forecast.values.items():
        assert column.startswith(name)
        assert values.shape == (frame.n_series, H) and np.isfinite(values).all(), column
    for i, dates in enumerate(forecast.ds):
        np.testing.assert_array_equal(dates, frame.future_ds(H)[i])
        assert dates[0] > frame.ds[i][-1]


def test_save_and_load_give_identical_forecasts(fitted, tmp_path: Path) -> None:
    name, _, model, forecast = fitted
    path = model.save(tmp_path / f"{name}.npz")
    loaded = Forecaster.load(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    _assert_same(forecast, loaded.predict())
    _assert_same(forecast, model.predict())  # predicting twice changes nothing


def test_shorter_horizons_and_new_data(fitted) -> None:
    name, frame, model, forecast = fitted
    short = model.predict(h=H // 2)
    assert short.h == H // 2 and np.isfinite(short.point).all()
    with pytest.raises(Exception, match="cannot forecast h"):
        model.predict(h=H + 1)
    moved = model.predict(frame.slice_end(H))
    np.testing.assert_array_equal(moved.ds[0], frame.ds[0][-H:])


def test_parameters_round_trip_and_schema_is_valid(fitted) -> None:
    name, frame, model, _ = fitted
    cls = factory.get_model(name).cls
    schema = schema_for(cls)
    jsonschema.Draft202012Validator.check_schema(schema)
    params = model.get_params()
    assert set(params) == set(schema["properties"])
    jsonschema.Draft202012Validator(schema).validate(_json(params))
    clone = factory.create(name, **params)
    assert clone.get_params() == params


def test_parameter_count_matches_neuralforecast(fitted) -> None:
    name, frame, model, _ = fitted
    if name not in EXPECTED_PARAMETERS:
        assert model.num_parameters() >= 0
        return
    defaults = factory.create(name, **_params(name, frame, n_series=4))
    assert defaults.num_parameters() == EXPECTED_PARAMETERS[name]


def test_window_models_pass_on_every_base_parameter(fitted) -> None:
    name, frame, model, _ = fitted
    cls = factory.get_model(name).cls
    if not issubclass(cls, WindowForecaster):
        return
    unsupported = {f"{kind.lower()}_exog_list" for kind in ("FUTR", "HIST", "STAT") if not getattr(cls, f"EXOGENOUS_{kind}")}
    base = [p for p in inspect.signature(WindowForecaster.__init__).parameters if p not in ("self", *unsupported)]
    own = inspect.signature(cls.__init__).parameters
    assert not [p for p in base if p not in own], f"{name}.__init__ must accept and pass on every base parameter"
    changed = {"random_seed": 11, "scaler_type": "robust", "num_lr_decays": 2, "step_size": 2, "batch_size": 7,
               "gradient_clip_val": 1.5, "optimizer": {"type": "sgd", "momentum": 0.5, "dampening": 0.0,
                                                       "weight_decay": 0.0, "nesterov": False},
               "early_stop_patience_steps": 4, "start_padding_enabled": True, "precision": "float64"}
    rebuilt = factory.create(name, **{**model.get_params(), **changed}).get_params()
    assert {k: rebuilt[k] for k in changed} == changed


def test_float64_precision(fitted) -> None:
    name, frame, model, _ = fitted
    if "precision" not in model.get_params():
        return
    wide = _fit(name, frame, precision="float64", max_steps=1)
    assert np.isfinite(wide.predict().point).all()
    if isinstance(wide, WindowForecaster):
        assert all(p.data.dtype == np.float64 for p in wide.network.parameters())


def test_probabilistic_models_give_ordered_intervals(fitted) -> None:
    name, frame, model, forecast = fitted
    if "probabilistic" not in _capabilities(name):
        return
    assert f"{name}-lo-90" in forecast.columns and f"{name}-hi-90" in forecast.columns
    assert (forecast.values[f"{name}-lo-90"] <= forecast.values[f"{name}-hi-90"]).all()


def test_exogenous_models_use_historical_and_future_columns(fitted) -> None:
    name, _, model, _ = fitted
    if "exogenous" not in _capabilities(name):
        return
    data = read_series_csv(DATA / "us_change.csv")
    train, n = data.slice_end(H), data.lengths[0]
    futr = SeriesFrame.from_arrays([data.y[0][-H:]], ids=data.ids, ds=[data.ds[0][-H:]],
                                   exog={"income": [data.exog["income"][0][-H:]]})
    exo = _fit(name, train, hist_exog_list=("savings", "unemployment"), futr_exog_list=("income",), max_steps=1)
    forecast = exo.predict(futr=futr)
    assert np.isfinite(forecast.point).all() and forecast.point.shape == (1, H)
    np.testing.assert_array_equal(forecast.ds[0], data.ds[0][n - H:])
    with pytest.raises(Exception, match="future exogenous"):
        exo.predict()


def _json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value
