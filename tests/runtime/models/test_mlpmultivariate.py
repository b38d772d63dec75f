"""MLPMultivariate-specific checks: parameter count, joint input across series, exogenous inputs, the CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from modreg.cli import app
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.mlpmultivariate import MLPMultivariate
from modreg.runtime.models.multivariate import PanelBatch

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 24


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert MLPMultivariate(h=H, input_size=L, n_series=4).num_parameters() == 1_198_128


def test_every_forecast_sees_every_series() -> None:
    rng.seed(0)
    network = MLPMultivariate(h=4, input_size=8, n_series=3, hidden_size=16)._build_network().to_dtype(np.float64)
    x = np.random.default_rng(1).normal(size=(2, 8, 3))
    moved = x.copy()
    moved[:, :, 0] += 1.0  # only series 0 changes

    def forecast(values: np.ndarray) -> np.ndarray:
        with no_grad():
            return network(PanelBatch(Tensor(values), Tensor(np.ones_like(values)))).data

    before, after = forecast(x), forecast(moved)
    assert before.shape == (2, 4, 3, 1)
    assert np.all(np.abs(after[:, :, 1:] - before[:, :, 1:]).max(axis=(1, 3)) > 0)  # series 1 and 2 react


def test_static_and_future_exogenous_of_a_panel() -> None:
    panel = read_series_csv(DATA / "visnights.csv")
    n = panel.lengths[0]
    quarter = [np.tile(np.arange(4.0), n // 4 + 1)[:n] for _ in panel.ids]
    code = [np.full(n, float(i)) for i in range(panel.n_series)]
    frame = SeriesFrame.from_arrays(panel.y, ids=panel.ids, ds=panel.ds, exog={"quarter": quarter, "code": code})
    model = MLPMultivariate(h=4, input_size=8, hidden_size=16, max_steps=2, futr_exog_list=("quarter",),
                            stat_exog_list=("code",)).fit(frame.slice_end(4))
    futr = SeriesFrame.from_arrays([v[-4:] for v in panel.y], ids=panel.ids, ds=[d[-4:] for d in panel.ds],
                                   exog={"quarter": [q[-4:] for q in quarter]})
    assert model.network.mlp[0].in_features == 20 * (8 + 12 + 1)
    forecast = model.predict(futr=futr)
    assert forecast.point.shape == (20, 4) and np.isfinite(forecast.point).all()


def test_run_from_the_cli_on_visnights(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "MLPMultivariate", "--data", str(DATA / "visnights.csv"),
                                      "--param", "h=8", "--param", "input_size=16", "--param", "hidden_size=32",
                                      "--param", "max_steps=3", "--save", str(tmp_path / "m.npz")])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 20 * 8 and rows[0]["unique_id"] == "NSWMetro" and rows[0]["ds"] == "2017-01-01"
    loaded = CliRunner().invoke(app, ["run", "MLPMultivariate", "--data", str(DATA / "visnights.csv"),
                                      "--load", str(tmp_path / "m.npz")])
    assert loaded.exit_code == 0 and loaded.stdout == result.stdout
