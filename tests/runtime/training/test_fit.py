"""The fit loop: learning, seeds, validation with early stopping, clipping, divergence."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.training.losses import MAE, MSE
from modreg.runtime.models.mlp import MLP
from modreg.runtime.training.optim import AdamConfig, SGDConfig
from modreg.runtime.training.scalers import get_scaler
from modreg.runtime.training.fit import EarlyStopping, TrainSettings, blas_threads, retain_freed_memory, train
from modreg.runtime.training.windows import Scaling, Target, WindowBatch


class _Linear(nn.Module):
    """insample (B, L) -> (B, h, 1) through one Linear layer."""

    def __init__(self, size: int, h: int) -> None:
        super().__init__()
        self.h = h
        self.proj = nn.Linear(size, h)

    def forward(self, batch: WindowBatch) -> Tensor:
        return self.proj(batch.insample_y).reshape(batch.batch_size, self.h, 1)


def _sample(value: float = 1.0):
    x = np.tile(np.linspace(0, 1, 4, dtype=np.float32), (8, 1))
    y = np.full((8, 2, 1), value, dtype=np.float32)
    target = Target(y, y, np.ones_like(y), Scaling(get_scaler("identity"), np.zeros((8, 1, 1)), np.ones((8, 1, 1))))
    return lambda: (WindowBatch(Tensor(x), Tensor(np.ones_like(x))), target)


def test_training_reduces_the_loss_and_reports_each_step() -> None:
    seen: list[tuple[int, float, float | None]] = []
    history = train(_Linear(4, 2), _sample(), MSE(), TrainSettings(60, 0.05, AdamConfig()),
                    progress=lambda s, loss, val: seen.append((s, loss, val)))
    assert history.steps == 60 and len(seen) == 60 and seen[0][0] == 1
    assert history.train_loss[-1] < history.train_loss[0] / 10
    assert all(val is None for _, _, val in seen) and not history.stopped_early


def test_validation_runs_every_val_check_steps_and_early_stopping_stops() -> None:
    values = iter([3.0, 2.0, 2.5, 2.0, 2.2, 9.0])
    settings = TrainSettings(100, 0.01, AdamConfig(), val_check_steps=5, early_stop_patience_steps=3)
    history = train(_Linear(4, 2), _sample(), MAE(), settings, validate=lambda: next(values))
    assert [step for step, _ in history.val_loss] == [5, 10, 15, 20, 25]
    assert history.stopped_early and history.steps == 25


def test_early_stopping_needs_a_strict_improvement() -> None:
    stopper = EarlyStopping(patience=2)
    assert [stopper.should_stop(v) for v in (1.0, 1.0, 0.5, 0.5, 0.5)] == [False, False, False, False, True]
    assert not any(EarlyStopping(-1).should_stop(v) for v in (1.0, 2.0, 3.0))


def test_gradient_clipping_bounds_each_update() -> None:
    net = _Linear(4, 2)
    before = [p.data.copy() for p in net.parameters()]
    train(net, _sample(1000.0), MSE(), TrainSettings(1, 0.1, SGDConfig(), gradient_clip_val=0.5))
    moved = np.sqrt(sum(float(np.sum((p.data - b) ** 2)) for p, b in zip(net.parameters(), before)))
    assert moved == pytest.approx(0.1 * 0.5, rel=1e-3)


def test_a_nan_loss_stops_training_with_a_usage_error() -> None:
    with pytest.raises(UsageError, match="diverged"):
        train(_Linear(4, 2), _sample(float("nan")), MAE(), TrainSettings(5, 0.01, AdamConfig()))


@pytest.fixture(scope="module")
def air() -> SeriesFrame:
    return read_series_csv(Path(__file__).resolve().parents[2] / "data" / "air_passengers.csv")


def _small_mlp(**params) -> MLP:
    settings = {"hidden_size": 32, "max_steps": 15, "windows_batch_size": 64, **params}
    return MLP(h=12, input_size=24, **settings)


def test_a_fixed_seed_gives_identical_results(air: SeriesFrame) -> None:
    first, second = _small_mlp(random_seed=3).fit(air), _small_mlp(random_seed=3).fit(air)
    assert first.train_history.train_loss == second.train_history.train_loss
    np.testing.assert_array_equal(first.predict().point, second.predict().point)
    other = _small_mlp(random_seed=4).fit(air)
    assert not np.array_equal(first.predict().point, other.predict().point)


def test_model_early_stopping_holds_out_the_last_h_points(air: SeriesFrame) -> None:
    model = _small_mlp(max_steps=500, val_check_steps=1, early_stop_patience_steps=2, learning_rate=0.5)
    model.fit(air)
    history = model.train_history
    assert history.stopped_early and history.steps < 500
    assert [s for s, _ in history.val_loss] == list(range(1, history.steps + 1))
    assert model.predict().ds[0][0] == np.datetime64("1961-01-01")


def test_training_runs_inside_a_blas_ceiling_of_its_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from modreg.runtime.training import fit

    calls: list[int | None] = []

    @contextlib.contextmanager
    def ceiling(threads: int | None):  # records the ceiling the loop asks for
        calls.append(threads)
        yield

    monkeypatch.setattr(fit, "ceiling", ceiling)
    train(_Linear(4, 2), _sample(), MSE(), TrainSettings(2, 0.05, AdamConfig()))
    train(_Linear(4, 2), _sample(), MSE(), TrainSettings(2, 0.05, AdamConfig(), threads=1))
    assert calls == [None, 1]  # every core by default, once for the whole loop


def test_blas_threads_really_limits_numpys_blas() -> None:
    from threadpoolctl import threadpool_info

    with blas_threads(1):
        blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_identical_windows_reach_a_row_independent_network_once() -> None:
    network = _Linear(4, 2)  # `_sample` draws the same window 8 times
    assert train(network, _sample(), MSE(), TrainSettings(3, 0.05, AdamConfig())).rows == 3 * 8
    network.independent_rows = True
    assert train(network, _sample(), MSE(), TrainSettings(3, 0.05, AdamConfig())).rows == 3


def test_freed_memory_is_retained_once_per_process_on_glibc() -> None:
    import platform

    assert retain_freed_memory() is retain_freed_memory()  # cached: mallopt runs once
    if sys.platform == "linux" and platform.libc_ver()[0] == "glibc":
        assert retain_freed_memory() is True


def test_the_next_batch_is_drawn_during_the_update_in_the_loops_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from modreg.runtime.training import optim

    events: list[str] = []
    batch = _sample()

    class _Recording(optim.Adam):
        def step(self, alongside=None) -> None:
            events.append("update")
            super().step(alongside)

    monkeypatch.setattr(optim, "Adam", _Recording)

    def sample():
        events.append("sample")
        return batch()

    def validate() -> float:
        events.append("validate")
        return 1.0

    train(_Linear(4, 2), sample, MAE(), TrainSettings(6, 0.05, AdamConfig(), val_check_steps=3), validate=validate)
    ahead = ["sample", "update", "sample", "update", "sample", "update", "validate"]  # step 3 validates: no draw ahead
    assert events == ahead + ahead  # the draws and validations of the plain loop, in its order, none extra


def test_adam_runs_alongside_once_and_updates_as_without_it() -> None:
    from modreg.runtime.autograd.blas import ceiling
    from modreg.runtime.training.optim import Adam

    gen = np.random.default_rng(2)
    starts = [gen.normal(size=(64, 32)).astype(np.float32) for _ in range(5)]
    grads = [[gen.normal(size=(64, 32)).astype(np.float32) for _ in starts] for _ in range(3)]
    results, calls = [], []
    for alongside in (None, lambda: calls.append(1)):
        params = [nn.Parameter(start.copy()) for start in starts]
        adam = Adam(params, lr=0.01)
        with ceiling(2):  # two groups of parameters, the first updated after `alongside` in this thread
            for step in grads:
                for param, grad in zip(params, step):
                    param.grad = grad
                adam.step(alongside)
        results.append([param.data for param in params])
    assert calls == [1, 1, 1]
    for ours, plain in zip(results[1], results[0]):
        np.testing.assert_array_equal(ours, plain)
