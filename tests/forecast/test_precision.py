"""check_precision: values a float32 model cannot hold are refused before the fit."""

from __future__ import annotations

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.forecast.precision import check_precision
from modreg.runtime.data import SeriesFrame


def _frame(value: float) -> SeriesFrame:
    y = np.arange(20.0)
    y[7] = value
    return SeriesFrame.from_arrays([np.arange(20.0), y], ids=["ok", "big"])


def test_a_value_beyond_float32_is_refused_for_a_float32_model() -> None:
    with pytest.raises(UsageError, match=r"series 'big' has the value -1e\+300 in column 'y', beyond what MLP") as caught:
        check_precision("MLP", "MLP", {"h": 2, "input_size": 4}, _frame(-1e300))
    assert caught.value.hint and 'precision="float64"' in caught.value.hint


@pytest.mark.parametrize(("model", "params", "value"), [
    ("MLP", {"h": 2, "input_size": 4, "precision": "float64"}, 1e300),  # float64 holds it
    ("Naive", {"h": 2}, 1e300),  # no precision parameter: computes in float64
    ("MLP", {"h": 2, "input_size": 4}, 3e38),  # within float32
])
def test_what_the_model_can_hold_passes(model: str, params: dict, value: float) -> None:
    check_precision(model, model, params, _frame(value))


def test_an_ensembles_float32_members_are_checked() -> None:
    members = [{"model": "Naive"}, {"model": "MLP", "params": {"input_size": 4}}]
    with pytest.raises(UsageError, match="E's member MLP computes with in float32"):
        check_precision("E", "Ensemble", {"h": 2, "members": members}, _frame(1e300))


def test_a_forecast_that_overflowed_is_refused_not_written() -> None:
    from modreg.forecast.precision import check_finite
    from modreg.runtime.models.forecast import Forecast

    frame = _frame(1e20)
    stamps = (np.array([20, 21]), np.array([20, 21]))
    check_finite("MLP", Forecast("MLP", frame.ids, stamps, {"MLP": np.ones((2, 2))}), frame)
    broken = Forecast("MLP", frame.ids, stamps, {"MLP": np.array([[1.0, 2.0], [3.0, -np.inf]])})
    with pytest.raises(UsageError, match=r"the forecast column 'MLP' of series 'big' is -inf at step 2: MLP's "
                                         r"computation overflowed on data as large as 1e\+20"):
        check_finite("MLP", broken, frame)
