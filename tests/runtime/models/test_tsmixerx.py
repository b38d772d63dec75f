"""TSMixerx-specific checks: parameter counts with and without covariates, the (h, C) LayerNorm,
and static, historical and future covariates of a real panel changing the forecast."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.tsmixerx import TSMixerx, _LayerNorm2d

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 4, 8
COVARIATES = {"futr_exog_list": ("quarter",), "hist_exog_list": ("total",), "stat_exog_list": ("state",)}


def test_parameter_counts_equal_neuralforecast() -> None:
    assert TSMixerx(h=12, input_size=24, n_series=4).num_parameters() == 41_548
    # neuralforecast 3.3.0 with hist_exog_list=[a, b], futr_exog_list=[c], stat_exog_list=[s]: 119,820
    both = TSMixerx(h=12, input_size=24, n_series=4, hist_exog_list=("a", "b"), futr_exog_list=("c",),
                    stat_exog_list=("s",))
    assert both.num_parameters() == 119_820
    assert TSMixerx(h=12, input_size=24, n_series=4, futr_exog_list=("c",)).num_parameters() == 62_284


def test_layer_norm_normalises_over_horizon_and_features_together() -> None:
    x = np.random.default_rng(0).normal(size=(3, H, 5)) * 4 + 2
    with no_grad():
        out = _LayerNorm2d(H, 5).to_dtype(np.float64)(Tensor(x)).data
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(1, 2)), 1, rtol=1e-4)
    assert np.abs(out.mean(axis=2)).max() > 0.01  # not per step


@pytest.fixture(scope="module")
def panel() -> SeriesFrame:
    """visnights with a future (quarter of the year), a historical (all regions' total) and a static (state) covariate."""
    data = read_series_csv(DATA / "visnights.csv")
    n = data.lengths[0]
    quarter = np.tile(np.arange(1.0, 5.0), n // 4 + 1)[:n]
    total = np.sum(data.y, axis=0)
    states = sorted({sid[:3] for sid in data.ids})
    exog = {"quarter": [quarter] * data.n_series, "total": [total] * data.n_series,
            "state": [np.full(n, float(states.index(sid[:3]))) for sid in data.ids]}
    return SeriesFrame.from_arrays(data.y, ids=data.ids, ds=data.ds, exog=exog)


def _horizon(frame: SeriesFrame, h: int, quarter_shift: float = 0.0) -> SeriesFrame:
    return SeriesFrame.from_arrays([v[-h:] for v in frame.y], ids=frame.ids, ds=[d[-h:] for d in frame.ds],
                                   exog={"quarter": [q[-h:] + quarter_shift for q in frame.exog["quarter"]]})


def _with_static(frame: SeriesFrame, shift: float) -> SeriesFrame:
    return SeriesFrame.from_arrays(frame.y, ids=frame.ids, ds=frame.ds,
                                   exog={**frame.exog, "state": [s + shift for s in frame.exog["state"]]})


def test_static_historical_and_future_covariates_all_reach_the_forecast(panel: SeriesFrame) -> None:
    history = panel.slice_end(H)
    model = TSMixerx(h=H, input_size=L, ff_dim=8, max_steps=3, **COVARIATES).fit(history)
    assert model.n_series == 20 and len(model.network.mixing_block) == 2
    futr = _horizon(panel, H)
    base = model.predict(futr=futr).point
    assert base.shape == (20, H) and np.isfinite(base).all()
    assert not np.allclose(model.predict(futr=_horizon(panel, H, 1.0)).point, base)
    assert not np.allclose(model.predict(_with_static(history, 1.0), futr=futr).point, base)
    total = {**history.exog, "total": [t * 1.5 for t in history.exog["total"]]}
    scaled = SeriesFrame.from_arrays(history.y, ids=history.ids, ds=history.ds, exog=total)
    assert not np.allclose(model.predict(scaled, futr=futr).point, base)
    with pytest.raises(Exception, match="future exogenous"):
        model.predict()


def test_a_missing_covariate_is_one_clear_error(panel: SeriesFrame) -> None:
    with pytest.raises(Exception, match="no exogenous column 'holiday'"):
        TSMixerx(h=H, input_size=L, max_steps=1, hist_exog_list=("holiday",)).fit(panel)


def test_run_from_the_cli_on_visnights() -> None:
    result = CliRunner().invoke(app, ["run", "TSMixerx", "--data", str(DATA / "visnights.csv"), "--param", "h=8",
                                      "--param", "input_size=16", "--param", "ff_dim=16", "--param", "max_steps=3"])
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 + 20 * 8
