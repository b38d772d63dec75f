"""Benchmark tasks: exact windows, failures isolated, timeouts, crashes, worker processes and dask."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import factory
from modreg.forecast.bench.executors import run_tasks
from modreg.forecast.bench.tasks import BenchTask, ModelRef, TaskResult, run_task
from modreg.runtime.data import SeriesFrame
from modreg.runtime.models.base import Forecast, Forecaster

Y = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0])
FRAME = SeriesFrame.from_arrays([Y, Y * 10], ids=["a", "b"])


class _Broken(Forecaster):
    """Fails in fit, as a model with a bug would."""

    def __init__(self, h: int) -> None:
        self.h = h

    def fit(self, data: SeriesFrame, *, progress: Any = None) -> _Broken:
        raise ZeroDivisionError("the broken model divided by zero")


class _Hangs(_Broken):
    """Never finishes fitting (within a test's patience)."""

    def fit(self, data: SeriesFrame, *, progress: Any = None) -> _Hangs:
        time.sleep(120)
        return self


class _Crashes(_Broken):
    """Kills the process it runs in, as a segfault would."""

    def fit(self, data: SeriesFrame, *, progress: Any = None) -> _Crashes:
        os._exit(3)


class _Mean(Forecaster):
    """Forecasts each series' mean: a deterministic model registered at run time."""

    def __init__(self, h: int) -> None:
        self.h = h

    def fit(self, data: SeriesFrame, *, progress: Any = None) -> _Mean:
        self.check_params()
        self._remember(data)
        return self

    def _predict(self, data: SeriesFrame, h: int, futr: SeriesFrame | None) -> Forecast:
        values = np.stack([np.full(h, y.mean()) for y in data.y])
        return Forecast(self.name, data.ids, data.future_ds(h), {self.name: values})


TEST_MODELS = {"BenchBroken": _Broken, "BenchHangs": _Hangs, "BenchCrashes": _Crashes, "BenchMean": _Mean}


@pytest.fixture
def test_models() -> Iterator[None]:
    for name, cls in TEST_MODELS.items():
        factory.register_model(name, category="custom")(cls)
    yield
    for name in TEST_MODELS:
        if factory.is_registered(name):
            factory.unregister_model(name)


def _task(model: str, windows: tuple[int, ...] = (1,), offsets: tuple[int, ...] = (3,), *, h: int = 3,
          refit: bool = True, params: dict[str, Any] | None = None) -> BenchTask:
    return BenchTask(model, ModelRef.of(model), params or {"h": h}, FRAME, windows, offsets, h, 1, refit)


def test_a_window_forecasts_from_the_points_before_its_cutoff() -> None:
    result = run_task(_task("Naive", (1, 2), (5, 3), h=2))
    first, second = result.outcomes
    assert result.ok and (first.window, first.offset, second.offset) == (1, 5, 3)
    np.testing.assert_array_equal(first.actual, [Y[5:7], 10 * Y[5:7]])
    np.testing.assert_array_equal(first.values[""], [[5.0, 5.0], [50.0, 50.0]])  # Y[4], the last point before the cutoff
    np.testing.assert_array_equal(second.actual, [Y[7:9], 10 * Y[7:9]])
    np.testing.assert_array_equal(second.values[""], [[2.0, 2.0], [20.0, 20.0]])
    assert first.cutoffs == (4, 4) and second.cutoffs == (6, 6)
    np.testing.assert_allclose(first.scales, [np.mean(np.abs(np.diff(Y[:5]))), 10 * np.mean(np.abs(np.diff(Y[:5])))])
    assert len(result.fit_seconds) == len(result.predict_seconds) == len(result.creation_seconds) == 2
    assert result.peak_memory > 0 and result.parameters == 0


def test_without_refit_a_model_is_fitted_once_and_forecasts_each_window_from_its_history() -> None:
    result = run_task(_task("Naive", (1, 2), (5, 3), h=2, refit=False))
    assert result.ok and len(result.fit_seconds) == 1 and len(result.predict_seconds) == 2
    np.testing.assert_array_equal(result.outcomes[1].values[""], [[2.0, 2.0], [20.0, 20.0]])


def test_a_failing_model_is_isolated_and_named(test_models: None) -> None:
    results = run_tasks([_task("BenchBroken"), _task("Naive")])
    broken, naive = results
    assert (broken.status, naive.status) == ("failed", "ok")
    assert broken.error is not None and "ZeroDivisionError: the broken model divided by zero" in broken.error
    assert "test_tasks.py" in broken.error  # where it happened
    assert broken.outcomes == () and naive.outcomes


def test_a_modreg_error_keeps_its_message_and_hint() -> None:
    result = run_task(_task("Naive", params={"h": 3, "bogus": 1}))
    assert result.status == "failed" and "bogus" in (result.error or "") and result.hint


def test_worker_processes_give_the_same_results_and_isolate_failures(test_models: None) -> None:
    tasks = [_task("BenchMean"), _task("BenchBroken"), _task("Naive", (1, 2), (5, 3), h=2), _task("MLP", params={
        "h": 3, "input_size": 4, "hidden_size": 8, "max_steps": 3, "windows_batch_size": 8, "start_padding_enabled": True})]
    seen: list[int] = []
    pooled = run_tasks(tasks, jobs=2, on_result=lambda index, result: seen.append(index))
    local = [run_task(task) for task in tasks]
    assert sorted(seen) == [0, 1, 2, 3] and [r.status for r in pooled] == ["ok", "failed", "ok", "ok"]
    _assert_same_forecasts(pooled, local)


def test_a_task_past_its_timeout_is_stopped_and_the_others_finish(test_models: None) -> None:
    started = time.monotonic()
    hung, naive = run_tasks([_task("BenchHangs"), _task("Naive")], jobs=1, timeout=2.0)
    assert time.monotonic() - started < 60
    assert hung.status == "timeout" and "did not finish within 2 s" in (hung.error or "")
    assert naive.ok


def test_a_worker_that_dies_is_reported_and_replaced(test_models: None) -> None:
    crashed, naive = run_tasks([_task("BenchCrashes"), _task("Naive")], jobs=1, timeout=60)
    assert crashed.status == "crashed" and "exit code 3" in (crashed.error or "")
    assert naive.ok


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jobs": 0}, "--jobs must be 1 or more"),
        ({"timeout": 0}, "--timeout must be a positive"),
        ({"executor": "spark"}, "`spark` is not an executor"),
        ({"executor": "dask"}, "needs --scheduler"),
        ({"scheduler": "tcp://127.0.0.1:8786"}, "only with --executor dask"),
    ],
)
def test_bad_options_are_usage_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run_tasks([_task("Naive")], **options)


def test_dask_missing_is_a_usage_error_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now raises ImportError
    with pytest.raises(UsageError, match="not installed") as error:
        run_tasks([_task("Naive")], executor="dask", scheduler="tcp://127.0.0.1:1")
    assert "pip install 'modreg-forecast[distributed]'" in (error.value.hint or "")


def test_dask_cluster_gives_identical_results(test_models: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from modreg.runtime.autograd import blas

    # the in-process worker caps this process's BLAS threads (as a real worker's); undo it after
    monkeypatch.setattr(blas._state, "cap", blas._state.cap)
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'modreg-forecast[distributed]')")
    tasks = [_task("Naive", (1, 2), (5, 3), h=2), _task("BenchMean"), _task("BenchBroken"), _task("MLP", params={
        "h": 3, "input_size": 4, "hidden_size": 8, "max_steps": 3, "windows_batch_size": 8, "start_padding_enabled": True})]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        remote = run_tasks(tasks, executor="dask", scheduler=cluster.scheduler_address)
    assert [r.status for r in remote] == ["ok", "ok", "failed", "ok"]
    _assert_same_forecasts(remote, [run_task(task) for task in tasks])


def test_an_unreachable_dask_scheduler_is_a_usage_error() -> None:
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'modreg-forecast[distributed]')")
    from modreg.forecast.bench.dask_executor import connect

    with pytest.raises(UsageError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9"):
        connect("tcp://127.0.0.1:9", timeout=0.5)


def _assert_same_forecasts(results: list[TaskResult], expected: list[TaskResult]) -> None:
    for got, want in zip(results, expected):
        assert got.status == want.status and got.error == want.error
        for a, b in zip(got.outcomes, want.outcomes):
            assert a.values.keys() == b.values.keys()
            for column in a.values:
                np.testing.assert_array_equal(a.values[column], b.values[column])


def test_a_pool_or_dask_worker_runs_blas_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from modreg.forecast.bench.dask_executor import run_on_one_thread
    from modreg.forecast.bench.pool import serve
    from modreg.runtime.autograd import blas

    class _Pipe:
        def __init__(self) -> None:
            self.sent: list[Any] = []

        def send(self, message: Any) -> None:
            self.sent.append(message)

        def recv(self) -> None:
            return None  # no task: the worker stops

    monkeypatch.setattr(blas._state, "cap", 2)
    pipe = _Pipe()
    serve(pipe)
    assert pipe.sent == [("ready",)] and blas.thread_ceiling() == 1
    monkeypatch.setattr(blas._state, "cap", 2)
    assert run_on_one_thread(_task("Naive", (1, 2), (5, 3), h=2)).status == "ok"
    assert blas.thread_ceiling() == 1
