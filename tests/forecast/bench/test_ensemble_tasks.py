"""An Ensemble in the benchmark: one row, the same figures whether its members fit as tasks or in one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.forecast.bench.ensemble_tasks import member_tasks
from modreg.forecast.bench.harness import BenchOptions, evaluate, runtime_target
from modreg.runtime.data import SeriesFrame, read_series_csv

ROOT = Path(__file__).resolve().parents[3]
AIR = ROOT / "tests" / "data" / "air_passengers.csv"
MEMBERS = [{"model": "MLP", "params": {"input_size": 24, "hidden_size": 16, "max_steps": 5}},
           {"model": "DLinear", "params": {"input_size": 24, "max_steps": 5}},
           {"model": "SeasonalNaive"}]


def _bench(frame: SeriesFrame, members: list, **options):
    target = runtime_target("Ensemble", {"h": 12, "members": members, "seeds": 2})
    return evaluate([target], frame, BenchOptions(horizon=12, windows=2, **options), horizon=12, dataset="air")


@pytest.fixture(scope="module")
def air() -> SeriesFrame:
    return read_series_csv(AIR)


@pytest.mark.parametrize("refit", [True, False])
def test_members_as_tasks_give_the_figures_of_one_task(air: SeriesFrame, refit: bool) -> None:
    one = next(m for m in _bench(air, MEMBERS, refit=refit).models if m.target == "Ensemble")
    many = next(m for m in _bench(air, MEMBERS, jobs=2, refit=refit).models if m.target == "Ensemble")
    assert one.ok and many.ok and one.metrics == many.metrics
    assert one.parameters == many.parameters and one.steps == many.steps == 2 * 2 * 5  # training fits x steps
    for a, b in zip(one.outcomes, many.outcomes):
        np.testing.assert_array_equal(a.values[""], b.values[""])


def test_only_several_jobs_split_an_ensemble(air: SeriesFrame) -> None:
    target = runtime_target("Ensemble", {"h": 12, "members": MEMBERS, "seeds": 2})
    assert member_tasks(target, [], BenchOptions(jobs=1)) is None
    assert member_tasks(runtime_target("Naive", {"h": 12}), [], BenchOptions(jobs=2)) is None
    assert member_tasks(target, [], BenchOptions(jobs=2)).ensemble.plans[0].label == "MLP-1#0"


def test_a_failing_member_fails_the_ensemble_naming_it(air: SeriesFrame) -> None:
    broken = [*MEMBERS[:1], {"model": "MLP", "name": "wide", "params": {"input_size": 200, "max_steps": 1}}]
    row = next(m for m in _bench(air, broken, jobs=2).models if m.target == "Ensemble")
    assert row.status == "failed" and "member wide#0 (MLP)" in row.error["message"]
