"""iTransformer-specific checks: parameter count, series as tokens (attention across series,
equivariance to their order), per-series normalisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.errors import UsageError
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.models.itransformer import iTransformer
from modreg.runtime.models.multivariate import PanelBatch

DATA = Path(__file__).resolve().parents[2] / "data"
H, L, N = 4, 8, 5


@pytest.fixture
def network():
    rng.seed(0)
    model = iTransformer(h=H, input_size=L, hidden_size=16, n_heads=4, d_ff=32)
    return model._build_network().to_dtype(np.float64).eval()


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(2, L, N)) * 3 + 10


def _forecast(network, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return network(PanelBatch(Tensor(x), Tensor(np.ones_like(x)))).data


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert iTransformer(h=12, input_size=24, n_series=4).num_parameters() == 6_324_748


def test_series_are_tokens_so_reordering_them_reorders_the_forecast(network, x: np.ndarray) -> None:
    order = [3, 0, 4, 1, 2]
    np.testing.assert_allclose(_forecast(network, x[:, :, order]), _forecast(network, x)[:, :, order], rtol=1e-10)


def test_attention_lets_each_series_see_the_others(network, x: np.ndarray) -> None:
    moved = x.copy()
    moved[:, :, 0] = moved[:, ::-1, 0]  # reverse series 0's window only
    change = np.abs(_forecast(network, moved) - _forecast(network, x))
    assert change.shape == (2, H, N, 1) and (change[:, :, 1:].max(axis=(1, 3)) > 1e-6).all()


def test_each_series_is_normalised_on_its_own(network, x: np.ndarray) -> None:
    scale, level = np.array([1.0, 2.0, 0.5, 10.0, 3.0]), np.array([0.0, -5.0, 100.0, 1.0, 7.0])
    expected = _forecast(network, x) * scale[:, None] + level[:, None]
    np.testing.assert_allclose(_forecast(network, x * scale + level), expected, rtol=1e-5)


def test_heads_must_divide_the_width() -> None:
    with pytest.raises(UsageError, match="divisible by n_heads"):
        iTransformer(h=H, input_size=L, hidden_size=18, n_heads=4)


def test_run_from_the_cli_on_visnights() -> None:
    params = ["h=8", "input_size=16", "hidden_size=32", "n_heads=4", "d_ff=64", "max_steps=3"]
    result = CliRunner().invoke(app, ["run", "iTransformer", "--data", str(DATA / "visnights.csv"),
                                      *(a for p in params for a in ("--param", p))])
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 + 20 * 8
