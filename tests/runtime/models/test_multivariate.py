"""The multivariate data path (`MultivariateForecaster`), exercised with a small MLPMultivariate.

n_series from the data, unaligned panels refused (exit 2 from the CLI), the training series and
their order kept through save and load, other series refused, reordered series followed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.errors import UsageError
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import Forecaster
from modreg.runtime.models.mlpmultivariate import MLPMultivariate

DATA = Path(__file__).resolve().parents[2] / "data"
SMALL = {"h": 4, "input_size": 8, "hidden_size": 16, "max_steps": 3}


@pytest.fixture(scope="module")
def visnights() -> SeriesFrame:
    return read_series_csv(DATA / "visnights.csv")


@pytest.fixture(scope="module")
def fitted(visnights: SeriesFrame) -> MLPMultivariate:
    return MLPMultivariate(**SMALL).fit(visnights)


def _subset(frame: SeriesFrame, order: list[int]) -> SeriesFrame:
    return SeriesFrame.from_arrays([frame.y[i] for i in order], ids=[frame.ids[i] for i in order],
                                   ds=[frame.ds[i] for i in order])


def test_n_series_comes_from_the_data_and_is_kept(fitted: MLPMultivariate, visnights) -> None:
    assert fitted.n_series == visnights.n_series == fitted.get_params()["n_series"]
    assert fitted.network.out.out_features == SMALL["h"] * visnights.n_series


def test_a_given_n_series_must_match_the_data(visnights) -> None:
    with pytest.raises(UsageError, match="n_series = 4, but the data has 20 series"):
        MLPMultivariate(**SMALL, n_series=4).fit(visnights)
    with pytest.raises(UsageError, match="does not know n_series before it is fitted"):
        MLPMultivariate(**SMALL).num_parameters()


def test_save_and_load_keep_the_series_and_their_order(fitted: MLPMultivariate, visnights, tmp_path: Path) -> None:
    loaded = Forecaster.load(fitted.save(tmp_path / "m.npz"))
    assert loaded.predict().ids == visnights.ids
    np.testing.assert_array_equal(loaded.predict(visnights).point, fitted.predict(visnights).point)


def test_forecasting_other_series_is_an_error(fitted: MLPMultivariate, visnights) -> None:
    with pytest.raises(UsageError, match=f"trained on, and series '{visnights.ids[19]}' is missing"):
        fitted.predict(_subset(visnights, list(range(19))))
    renamed = SeriesFrame.from_arrays(visnights.y, ids=[*visnights.ids[:-1], "Elsewhere"], ds=visnights.ds)
    with pytest.raises(UsageError, match="'Elsewhere' was not in the training data"):
        fitted.predict(renamed)


def test_series_in_another_order_get_their_own_forecasts(fitted: MLPMultivariate, visnights) -> None:
    order = list(range(19, -1, -1))
    forecast = fitted.predict(_subset(visnights, order))
    assert forecast.ids == tuple(visnights.ids[i] for i in order)
    np.testing.assert_allclose(forecast.point, fitted.predict(visnights).point[order], rtol=1e-6)


def test_early_stopping_validates_on_the_last_panel_window(visnights) -> None:
    model = MLPMultivariate(**{**SMALL, "max_steps": 4}, early_stop_patience_steps=1, val_check_steps=2)
    history = model.fit(visnights).train_history
    assert [step for step, _ in history.val_loss][:1] == [2] and np.isfinite(history.val_loss[0][1])


def test_unaligned_panel_is_a_usage_error_from_the_cli(visnights, tmp_path: Path) -> None:
    lines = (DATA / "visnights.csv").read_text().splitlines()
    dropped = next(i for i, line in enumerate(lines) if line.startswith(f"{visnights.ids[2]},"))
    (tmp_path / "ragged.csv").write_text("\n".join(lines[:dropped] + lines[dropped + 1:]) + "\n")
    result = CliRunner().invoke(app, ["run", "MLPMultivariate", "--data", str(tmp_path / "ragged.csv"),
                                      *(f"--param={k}={v}" for k, v in SMALL.items())])
    assert result.exit_code == 2
    assert f"series '{visnights.ids[2]}' has 1998-04-01 at point 0 where series 'NSWMetro' has 1998-01-01" \
        in result.stderr
