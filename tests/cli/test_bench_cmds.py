"""CLI: `modreg bench` (table, --json document, failures, --quick, --output, --record round-trip and its lock, dask hint)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.runtime import factory
from modreg.runtime.data import SeriesFrame
from modreg.runtime.models.base import Forecaster

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "registry.example"
AIR = ROOT / "tests" / "data" / "air_passengers.csv"
BASE = ["bench", "--data", AIR, "--horizon", "12", "--windows", "2"]

runner = CliRunner()


def invoke(*args: Any):
    return runner.invoke(app, [str(a) for a in args])


class _Broken(Forecaster):
    """Fails in fit."""

    def __init__(self, h: int) -> None:
        self.h = h

    def fit(self, data: SeriesFrame, *, progress: Any = None) -> _Broken:
        raise RuntimeError("this model is broken on purpose")


@pytest.fixture
def broken_model() -> Iterator[str]:
    factory.register_model("BenchCliBroken", category="custom")(_Broken)
    yield "BenchCliBroken"
    factory.unregister_model("BenchCliBroken")


@pytest.fixture
def registry_copy(tmp_path: Path) -> Path:
    """A copy of registry.example with a comment added to Naive.toml, for --record."""
    copy = tmp_path / "registry"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".modreg"))
    naive = copy / "models" / "Naive.toml"
    text = naive.read_text().replace("[runtime.params]\nh = 12\n", "[runtime.params]\n# one year ahead\nh = 12  # months\n")
    naive.write_text(text)
    return copy


def test_json_document_has_every_figure_and_the_environment() -> None:
    result = invoke(*BASE, "Naive", "--seed", "3", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"format", "kind", "dataset", "data", "horizon", "step", "season", "refit", "quick", "max_steps",
                             "windows", "reference", "items", "failed", "skipped", "recorded", "environment", "notices"}
    assert (document["format"], document["kind"]) == (1, "bench")
    assert (document["dataset"], document["horizon"], document["step"], document["season"]) == ("air_passengers", 12, 12, 12)
    assert [w["cutoff"] for w in document["windows"]] == ["1958-12-01", "1959-12-01"]
    assert [m["target"] for m in document["items"]] == ["SeasonalNaive", "Naive"]  # sorted by MASE
    naive = document["items"][1]
    assert set(naive["metrics"]) == {"mae", "rmse", "smape", "mase"} and naive["relative"]["mase"] > 1
    assert set(naive["timings"]) == {"creation_ms", "fit_seconds", "predict_seconds", "windows_per_second",
                                     "peak_memory_mb", "total_seconds"}
    assert naive["params"] == {"h": 12} and naive["parameters"] == 0 and naive["status"] == "ok"
    environment = document["environment"]
    assert environment["seed"] == 3 and environment["cpu_count"] >= 1 and environment["numpy"]
    assert result.stderr == ""


def test_table_is_sorted_by_mase_and_marks_the_reference() -> None:
    result = invoke(*BASE, "Naive", "DLinear", "--param", "input_size=24", "--max-steps", "2")
    assert result.exit_code == 0, result.output
    rows = [re.split(r"\s{2,}", line.strip()) for line in result.stdout.splitlines() if re.match(r"\d+ ", line)]
    names = [row[1] for row in rows]
    assert names[0] == "SeasonalNaive (ref)" and set(names) == {"SeasonalNaive (ref)", "Naive", "DLinear"}
    mase = [float(row[2]) for row in rows]
    assert mase == sorted(mase)
    assert "…" not in result.stdout  # off a terminal, nothing is cut
    assert "air_passengers: 1 series, h = 12, 2 windows (step 12), season 12" in result.stdout
    assert "max_steps = 2" in result.stdout


def test_quick_says_so_in_the_table_and_on_stderr() -> None:
    result = invoke(*BASE, "Naive", "--quick")
    assert result.exit_code == 0
    assert "QUICK: a small step budget" in result.stdout
    assert "--quick: every neural model trained for only 20 steps" in result.stderr


def test_a_failing_model_is_reported_and_the_others_finish(broken_model: str) -> None:
    result = invoke(*BASE, broken_model, "Naive", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["failed"] == [broken_model]
    failed = next(m for m in document["items"] if m["target"] == broken_model)
    assert failed["status"] == "failed" and "broken on purpose" in failed["error"]["message"]
    assert all(m["status"] == "ok" for m in document["items"] if m["target"] != broken_model)
    assert json.loads(result.stderr)["error"]["message"] == f"1 of 3 models failed: {broken_model}."


def test_failures_are_explained_on_stderr(broken_model: str) -> None:
    result = invoke(*BASE, broken_model, "Naive")
    assert result.exit_code == 1
    assert f"error: {broken_model} failed (window 1): RuntimeError: this model is broken on purpose" in result.stderr
    assert "Naive" in result.stdout


def test_an_unknown_target_fails_with_not_found_and_the_others_run() -> None:
    result = invoke(*BASE, "Naive", "Naiv")
    assert result.exit_code == 3
    assert "Naiv failed (before running): No registry entry or runtime model named `Naiv`." in result.stderr
    assert "Naive" in result.stdout


def test_output_writes_the_same_document(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    result = invoke(*BASE, "Naive", "--output", target, "--json")
    assert result.exit_code == 0
    written = json.loads(target.read_text())
    assert {key: value for key, value in written.items() if key not in ("forecasts", "forecast_columns")} == json.loads(result.stdout)
    assert written["forecast_columns"] == ["unique_id", "ds", "cutoff", "y", "SeasonalNaive", "Naive"]
    assert {row["cutoff"] for row in written["forecasts"]} == {"1958-12-01", "1959-12-01"} and len(written["forecasts"]) == 24


def test_record_writes_performance_keeping_comments_and_is_searchable(registry_copy: Path) -> None:
    naive = registry_copy / "models" / "Naive.toml"
    yaml_entry = registry_copy / "models" / "SeasonalNaive.yaml"
    before, yaml_before = naive.read_text(), yaml_entry.read_text()
    result = invoke(*BASE, "Naive", "SeasonalNaive", "--registry", registry_copy, "--record")
    assert result.exit_code == 0, result.output
    assert f"recorded the [performance] of Naive in {naive}" in result.stderr
    after = naive.read_text()
    assert "# one year ahead\nh = 12  # months\n" in after
    assert _only_added(before, after) and _only_added(yaml_before, yaml_entry.read_text())
    assert "season_length: 12   # months in a year; use 4 for quarterly data" in yaml_entry.read_text()
    table = _performance(registry_copy, "Naive")
    assert table["dataset"] == "air_passengers" and (table["horizon"], table["windows"]) == (12, 2)
    assert set(table) >= {"mase", "smape", "mae", "rmse", "fit_seconds", "predict_seconds", "windows_per_second",
                          "parameters", "measured", "modreg_version"}
    audit = [json.loads(line) for line in (registry_copy / "audit.jsonl").read_text().splitlines()]
    assert {(a["command"], a["name"]) for a in audit} >= {("bench", "Naive"), ("bench", "SeasonalNaive")}
    assert invoke("validate", "--registry", registry_copy).exit_code == 0
    found = invoke("search", "--registry", registry_copy, "--where", "performance.mase < 5", "--json")
    assert sorted(hit["name"] for hit in json.loads(found.stdout)["items"]) == ["Naive", "SeasonalNaive"]
    assert invoke("report", "--registry", registry_copy).exit_code == 0
    summary = (registry_copy / "reports" / "registry_summary.md").read_text()
    assert "### air_passengers, horizon 12" in summary and "[SeasonalNaive](registry_report.md#seasonalnaive)" in summary


def test_record_dry_run_prints_the_diff_and_writes_nothing(registry_copy: Path) -> None:
    naive = registry_copy / "models" / "Naive.toml"
    before = naive.read_text()
    result = invoke(*BASE, "Naive", "--registry", registry_copy, "--record", "--dry-run")
    assert result.exit_code == 0
    assert "+++ b/models/Naive.toml" in result.stdout and "+[performance]" in result.stdout
    assert naive.read_text() == before and not (registry_copy / "audit.jsonl").exists()


def test_record_waits_for_the_lock_for_lock_timeout_then_exits_4(registry_copy: Path, lock_held_elsewhere) -> None:
    naive = registry_copy / "models" / "Naive.toml"
    before = naive.read_text()
    with lock_held_elsewhere(registry_copy) as holder:
        result = invoke(*BASE, "Naive", "--registry", registry_copy, "--record", "--lock-timeout", "0.2")
    assert result.exit_code == 4, result.output
    assert f"locked by process {holder}" in result.stderr
    assert naive.read_text() == before


def test_record_refuses_quick_figures_before_running(registry_copy: Path) -> None:
    result = invoke(*BASE, "Naive", "--registry", registry_copy, "--record", "--quick")
    assert result.exit_code == 2 and "does not record figures measured with --quick" in result.stderr
    assert result.stdout == ""


def test_dry_run_needs_record() -> None:
    result = invoke(*BASE, "Naive", "--dry-run")
    assert result.exit_code == 2 and "--dry-run applies only with --record" in result.stderr


def test_dask_executor_without_dask_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = invoke(*BASE, "Naive", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2
    assert "needs dask.distributed, which is not installed" in result.stderr
    assert "pip install 'modreg-forecast[distributed]'" in result.stderr


def test_bench_needs_targets() -> None:
    result = invoke("bench", "--data", AIR)
    assert result.exit_code == 2 and "Name the models to benchmark" in result.stderr


def _only_added(before: str, after: str) -> bool:
    """Every line of `before` is still in `after`, in order (the edit only added lines)."""
    remaining = iter(after.splitlines())
    return all(any(line == other for other in remaining) for line in before.splitlines())


def _performance(registry: Path, name: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads((registry / "models" / f"{name}.toml").read_text())["performance"]


def test_record_keeps_what_a_rerun_needs_and_leaderboards_rank_only_like_with_like(registry_copy: Path) -> None:
    data = registry_copy / "data" / "air_passengers.csv"
    options = ["bench", "--data", data, "--horizon", "12", "--registry", registry_copy, "--record"]
    assert invoke(*options, "--windows", "2", "Naive", "SeasonalNaive").exit_code == 0
    assert invoke(*options, "--windows", "2", "--max-steps", "3", "DLinear").exit_code == 0
    table = _performance(registry_copy, "DLinear")
    assert table["data_path"] == "data/air_passengers.csv"
    assert table["data_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert (table["horizon"], table["windows"], table["step"], table["season"], table["refit"]) == (12, 2, 12, 12, True)
    assert table["max_steps"] == 3 and isinstance(table["seed"], int) and "max_steps" not in _performance(registry_copy, "Naive")
    found = invoke("search", "--registry", registry_copy, "--where", "performance.max_steps = 3", "--json")
    assert [hit["name"] for hit in json.loads(found.stdout)["items"]] == ["DLinear"]
    assert invoke("validate", "--registry", registry_copy).exit_code == 0
    assert invoke("report", "--registry", registry_copy).exit_code == 0
    summary = (registry_copy / "reports" / "registry_summary.md").read_text()
    boards = summary.split("### air_passengers, horizon 12")[1:]
    assert len(boards) == 2  # the 3-step DLinear is not ranked against the untrained baselines
    assert sum("3 training steps" in board for board in boards) == 1
