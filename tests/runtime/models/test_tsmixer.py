"""TSMixer-specific checks: parameter count, RevIN, time mixing within a series, feature mixing within a step."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.models.multivariate import PanelBatch
from modreg.runtime.models.tsmixer import TSMixer

DATA = Path(__file__).resolve().parents[2] / "data"
H, L, N = 4, 8, 3


@pytest.fixture
def network():
    rng.seed(0)
    model = TSMixer(h=H, input_size=L, n_series=N, dropout=0.0)
    return model._build_network().to_dtype(np.float64).eval()


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(2, L, N)) * 5 + 20


def _forecast(network, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return network(PanelBatch(Tensor(x), Tensor(np.ones_like(x)))).data


def test_default_parameter_count_and_dropout_equal_neuralforecast() -> None:
    model = TSMixer(h=12, input_size=24, n_series=4)
    assert model.num_parameters() == 3_436
    assert model.dropout == 0.9
    assert model._build_network().mixing_layers[0].temporal_mixer.temporal_drop.p == 0.9


def test_revin_makes_the_forecast_follow_each_series_scale_and_level(network, x: np.ndarray) -> None:
    scale, level = np.array([1.0, 3.0, 0.5]), np.array([0.0, -40.0, 7.0])
    np.testing.assert_allclose(_forecast(network, x * scale + level),
                               _forecast(network, x) * scale[:, None] + level[:, None], rtol=1e-5)  # up to RevIN eps
    assert _forecast(network, x).shape == (2, H, N, 1)


def test_time_mixing_stays_within_a_series_and_feature_mixing_within_a_step(network, x: np.ndarray) -> None:
    layer = network.mixing_layers[0]
    moved = x.copy()
    moved[:, 2, 1] += 1.0  # one step of one series

    def run(module, values: np.ndarray) -> np.ndarray:
        with no_grad():
            return module(Tensor(values)).data

    temporal = run(layer.temporal_mixer, moved) - run(layer.temporal_mixer, x)
    assert np.abs(temporal[:, :, [0, 2]]).max() == 0 and np.abs(temporal[:, :, 1]).max() > 0
    feature = run(layer.feature_mixer, moved) - run(layer.feature_mixer, x)
    assert np.abs(np.delete(feature, 2, axis=1)).max() == 0 and np.abs(feature[:, 2]).max() > 0


def test_training_updates_the_batch_norm_statistics() -> None:
    from modreg.runtime.data import read_series_csv

    model = TSMixer(h=H, input_size=L, max_steps=2).fit(read_series_csv(DATA / "visnights.csv"))
    norm = model.network.mixing_layers[0].temporal_mixer.temporal_norm
    assert norm.running_mean.shape == (20 * L,) and int(norm.num_batches_tracked) == 2
    assert np.abs(norm.running_mean).max() > 0


def test_run_from_the_cli_on_visnights() -> None:
    result = CliRunner().invoke(app, ["run", "TSMixer", "--data", str(DATA / "visnights.csv"), "--param", "h=8",
                                      "--param", "input_size=16", "--param", "max_steps=3"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 20 * 8 and np.isfinite([float(r["TSMixer"]) for r in rows]).all()
