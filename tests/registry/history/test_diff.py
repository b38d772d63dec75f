"""Structural diffs of an entry's versions: the example registry's real version pairs, deltas, views."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from modreg import api
from modreg.errors import NotFound, UsageError
from modreg.registry.history.diff import Change, View, compare, diff_versions

TODAY = dt.date(2026, 11, 20)


def _summary(changes: list[Change]) -> list[tuple[str, str, object, object]]:
    return [(c.path, c.kind, c.old, c.new) for c in changes]


# ----- The example registry's recorded versions -----


def test_nhits_1_0_0_to_1_1_0(example_registry: Path) -> None:
    diff = api.diff("NHITS", "1.0.0", "1.1.0", registry=example_registry)
    assert (diff.name, diff.old, diff.new) == ("NHITS", "1.0.0", "1.1.0")
    assert _summary(diff.changes) == [
        ("version", "changed", "1.0.0", "1.1.0"),
        ("runtime.params.max_steps", "changed", 50, 100),
        ("runtime.params.n_pool_kernel_size", "added", None, [2, 2, 1]),
        ("runtime.params.n_freq_downsample", "added", None, [4, 2, 1]),
    ]


def test_a_hand_written_snapshot_is_compared_only_on_what_it_recorded(example_registry: Path) -> None:
    diff = api.diff("LSTM", "1.0.0", registry=example_registry)  # against the file as it is now
    assert diff.new == "current"
    assert ("runtime.params.scaler_type", "changed", "standard", "robust") in _summary(diff.changes)
    assert {c.section for c in diff.changes} == {"version", "runtime"}  # 1.0.0 recorded only its runtime


def test_the_current_version_without_a_history_entry_is_the_file(example_registry: Path) -> None:
    diff = api.diff("NHITS", "1.1.0", "1.2.0", registry=example_registry)
    assert ("runtime.params.learning_rate", "added", None, 0.001) in _summary(diff.changes)


def test_an_unrecorded_version_lists_the_recorded_ones(example_registry: Path) -> None:
    with pytest.raises(NotFound) as caught:
        api.diff("NHITS", "0.9.0", "1.1.0", registry=example_registry)
    assert "1.0.0, 1.1.0, 1.2.0" in (caught.value.hint or "")


def test_a_version_that_is_not_semver_is_a_usage_error(example_registry: Path) -> None:
    with pytest.raises(UsageError):
        api.diff("NHITS", "latest", registry=example_registry)


# ----- Versions recorded by `modreg version` -----


@pytest.fixture
def bench_history(example_registry: Path, tmp_path: Path) -> Path:
    """A copy of the example where NHITS got a version (1.3.0), a benchmark and a version
    (1.3.1), a better benchmark, a parameter change and a deprecation, and a version (1.3.2)."""
    root = tmp_path / "reg"
    shutil.copytree(example_registry, root)
    api.version("NHITS", registry=root, bump="minor", message="recorded before any benchmark", today=TODAY)
    api.update("NHITS", registry=root, set_values={"performance.mase": 0.9, "performance.smape": 5.0, "performance.dataset": "air-passengers"}, today=TODAY)
    api.version("NHITS", registry=root, bump="patch", message="benchmarked", today=TODAY)
    api.update("NHITS", registry=root, set_values={"performance.mase": 0.81, "runtime.params.input_size": 36}, unset=["performance.smape"], today=TODAY)
    api.update("NHITS", registry=root, set_values={"dependencies.DLinear": ">=1.0"}, unset=["metadata.reference"], today=TODAY)
    api.deprecate("NHITS", registry=root, reason="try TiDE", replacement="TiDE", today=TODAY)
    api.version("NHITS", registry=root, bump="patch", message="longer input", today=TODAY)
    return root


def test_recorded_versions_show_performance_deltas_and_every_section(bench_history: Path) -> None:
    diff = api.diff("NHITS", "1.3.1", "1.3.2", registry=bench_history)
    changes = {c.path: c for c in diff.changes}
    assert (changes["status"].old, changes["status"].new) == ("active", "deprecated")
    mase = changes["performance.mase"]
    assert (mase.kind, mase.old, mase.new, mase.delta, mase.percent) == ("changed", 0.9, 0.81, -0.09, -10.0)
    assert changes["performance.smape"].kind == "removed" and changes["performance.smape"].old == 5.0
    assert (changes["runtime.params.input_size"].old, changes["runtime.params.input_size"].new) == (24, 36)
    assert changes["dependencies.DLinear"].kind == "added"
    assert changes["metadata.reference"].kind == "removed"
    assert "performance.dataset" not in changes


def test_a_benchmark_added_since_a_recorded_version_is_added(bench_history: Path) -> None:
    diff = api.diff("NHITS", "1.3.0", "1.3.1", registry=bench_history)  # 1.3.0 recorded `performance = {}`
    assert [(c.path, c.kind) for c in diff.changes if c.section == "performance"] == [
        ("performance.mase", "added"), ("performance.smape", "added"), ("performance.dataset", "added"),
    ]
    hand_written = api.diff("NHITS", "1.1.0", "1.3.1", registry=bench_history)  # 1.1.0 recorded only its runtime
    assert not [c for c in hand_written.changes if c.section == "performance"]


# ----- compare() itself -----


def test_compare_only_the_keys_both_sides_know() -> None:
    old = View("1.0.0", {"version": "1.0.0", "runtime": {"model": "A"}}, frozenset({"version", "runtime"}))
    new = View("current", {"version": "1.0.0", "runtime": {"model": "A"}, "summary": "new words", "tags": ["x"]})
    assert compare(old, new) == []


def test_compare_zero_baseline_has_a_delta_but_no_percent() -> None:
    changes = compare(View("a", {"performance": {"bias": 0}}), View("b", {"performance": {"bias": 0.5}}))
    assert [(c.delta, c.percent) for c in changes] == [(0.5, None)]


def test_compare_types_matter_and_tables_nest() -> None:
    changes = compare(View("a", {"runtime": {"params": {"h": 1, "x": {"y": 1}}}}), View("b", {"runtime": {"params": {"h": 1.0, "x": {"y": 2}}}}))
    assert _summary(changes) == [("runtime.params.h", "changed", 1, 1.0), ("runtime.params.x.y", "changed", 1, 2)]


def test_compare_records_by_their_key() -> None:
    old = {"history": [{"version": "1.0.0", "summary": "first"}], "artifacts": [{"path": "a", "sha256": "1"}]}
    new = {"history": [{"version": "1.0.0", "summary": "first"}, {"version": "1.1.0", "summary": "more"}], "artifacts": [{"path": "a", "sha256": "2"}]}
    assert _summary(compare(View("a", old), View("b", new))) == [
        ("artifacts.a", "changed", "1", "2"),
        ("history.1.1.0", "added", None, "more"),
    ]


def test_diff_versions_with_the_same_version_twice_is_empty() -> None:
    data = {"version": "1.0.0", "history": [{"version": "1.0.0", "date": TODAY, "summary": "x", "snapshot": {"runtime": {"model": "A"}}}]}
    assert diff_versions("A", data, "1.0.0", "1.0.0").changes == []
