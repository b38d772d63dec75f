"""DeepNPTS-specific checks: parameter count, softmax weights over the past values (a convex
combination of the window), point losses only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.deepnpts import DeepNPTS

DATA = Path(__file__).resolve().parents[2] / "data"
H, L = 12, 24


def test_default_parameter_count_equals_neuralforecast() -> None:
    assert DeepNPTS(h=H, input_size=L).num_parameters() == 11_488


def test_the_forecast_is_the_softmax_weighted_sum_of_the_window() -> None:
    rng.seed(0)
    network = DeepNPTS(h=H, input_size=L, hidden_size=8)._build_network()
    network.eval()
    y = np.random.default_rng(0).normal(size=(5, L)).astype(np.float32)
    batch = WindowBatch(Tensor(y), Tensor(np.ones_like(y)))
    with no_grad():
        forecast = network(batch).data
        x = Tensor(y)
        for layer in network.layers:
            x = layer(x)
        scores = network.output(x).data.reshape(5, H, L)  # one score per horizon step (rows) and past step
    weights = np.exp(scores - scores.max(axis=2, keepdims=True))
    weights /= weights.sum(axis=2, keepdims=True)
    np.testing.assert_allclose(forecast[..., 0], np.einsum("bhl,bl->bh", weights, y), rtol=1e-5, atol=1e-6)


def test_forecasts_stay_within_the_range_of_the_window() -> None:
    frame = read_series_csv(DATA / "visnights.csv")
    model = DeepNPTS(h=4, input_size=8, max_steps=20, windows_batch_size=64, random_seed=3).fit(frame)
    forecast = model.predict().point
    window = np.stack([y[-8:] for y in frame.y])
    assert (forecast >= window.min(axis=1, keepdims=True) - 1e-6).all()
    assert (forecast <= window.max(axis=1, keepdims=True) + 1e-6).all()


def test_only_point_losses_and_the_target_are_accepted() -> None:
    with pytest.raises(UsageError, match="only supports point losses"):
        DeepNPTS(h=H, input_size=L, loss={"type": "mqloss"})
    with pytest.raises(UsageError, match="cannot exclude"):
        DeepNPTS(h=H, input_size=L, exclude_insample_y=True)
    assert DeepNPTS(h=H, input_size=L, loss="huber").loss.outputsize_multiplier == 1
