"""The benchmark harness: hand-computed scores, windows, the reference, targets and the result document."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from modreg.errors import NotFound, UsageError
from modreg.forecast.bench.harness import (
    QUICK_STEPS,
    BenchOptions,
    evaluate,
    plan_windows,
    resolve_targets,
    run_bench,
    runtime_target,
)
from modreg.runtime.data import SeriesFrame

ROOT = Path(__file__).resolve().parents[3]
AIR = ROOT / "tests" / "data" / "air_passengers.csv"
EXAMPLE = ROOT / "registry.example"
RAMP = np.array([2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0])


def _evaluate(frame: SeriesFrame, *targets, **options):
    horizon = options.pop("horizon", 2)
    return evaluate(list(targets), frame, BenchOptions(horizon=horizon, **options), horizon=horizon, dataset="test")


def _row(result, name: str):
    return next(row for row in result.models if row.target == name)


def test_scores_match_hand_computed_values_including_a_constant_series() -> None:
    frame = SeriesFrame.from_arrays([RAMP, np.full(8, 5.0)], ids=["ramp", "flat"])
    result = _evaluate(frame, runtime_target("Naive", {"h": 2}), windows=2, step=1, season=1)
    naive = _row(result, "Naive")
    # window 1 forecasts 10 for 12, 14; window 2 forecasts 12 for 14, 16; the flat series is exact.
    assert naive.metrics["mae"] == pytest.approx((2 + 4 + 2 + 4) / 8)
    assert naive.metrics["rmse"] == pytest.approx(np.sqrt((4 + 16 + 4 + 16) / 8))
    smape = [200 * 2 / 22, 200 * 4 / 24, 200 * 2 / 26, 200 * 4 / 28]
    assert naive.metrics["smape"] == pytest.approx(sum(smape) / 8)
    # MASE per series and window: ramp 3 / 2 (in-sample naive error 2); flat 0 / its level 5.
    assert naive.metrics["mase"] == pytest.approx((1.5 + 0 + 1.5 + 0) / 4)
    assert naive.relative == {"mase": pytest.approx(1.0), "smape": pytest.approx(1.0)}  # season 1: SeasonalNaive = Naive


def test_zeros_give_finite_scores_and_a_json_document_without_nan() -> None:
    frame = SeriesFrame.from_arrays([np.zeros(12), np.array([0.0] * 9 + [3.0, 0.0, 0.0])], ids=["zero", "spike"])
    result = _evaluate(frame, runtime_target("Naive", {"h": 2}), runtime_target("SeasonalNaive", {"h": 2, "season_length": 3}),
                       windows=2, season=3)
    for row in result.models:
        assert row.ok and all(np.isfinite(v) for v in row.metrics.values())
    # spike: window 1 forecasts 0 for (0, 3), window 2 forecasts 3 for (0, 0): three points of 200; 0 vs 0 scores 0
    assert _row(result, "Naive").metrics["smape"] == pytest.approx(3 * 200 / 8)
    # spike, window 1: an all-zero history has scale 1, so MASE is the raw MAE 1.5; the zero series scores 0
    np.testing.assert_allclose(_row(result, "Naive").outcomes[0].scales, [1.0, 1.0])
    json.dumps(result.to_dict(), allow_nan=False)


def test_windows_have_exact_offsets_cutoffs_and_shapes() -> None:
    ds = [np.arange("2020-01", "2020-11", dtype="datetime64[M]").astype("datetime64[D]")]
    frame = SeriesFrame.from_arrays([np.arange(10.0)], ids=["s"], ds=ds)
    assert plan_windows(frame, 3, 2, 2) == (5, 3)
    result = _evaluate(frame, runtime_target("Naive", {"h": 3}), horizon=3, windows=2, step=2, season=1)
    assert result.windows == [{"window": 1, "offset": 5, "cutoff": "2020-05-01"},
                              {"window": 2, "offset": 3, "cutoff": "2020-07-01"}]
    first, second = _row(result, "Naive").outcomes
    np.testing.assert_array_equal(first.actual, [[5.0, 6.0, 7.0]])
    np.testing.assert_array_equal(second.actual, [[7.0, 8.0, 9.0]])
    np.testing.assert_array_equal(second.values[""], [[6.0, 6.0, 6.0]])


def test_a_series_too_short_for_the_windows_is_named() -> None:
    frame = SeriesFrame.from_arrays([np.arange(20.0), np.arange(6.0)], ids=["long", "short"])
    with pytest.raises(UsageError, match=r"series 'short' has 6 points, but 2 window\(s\) of h = 3 with step 3 need at least 7"):
        plan_windows(frame, 3, 2, 3)
    single = SeriesFrame.from_arrays([np.arange(20.0), np.arange(1.0)], ids=["long", "single"])
    with pytest.raises(UsageError, match=r"series 'single' has 1 point, but"):
        plan_windows(single, 3, 2, 3)


def test_the_reference_is_added_or_is_the_seasonal_naive_target() -> None:
    frame = SeriesFrame.from_arrays([np.arange(1.0, 25.0)], ids=["s"])
    added = _evaluate(frame, runtime_target("Naive", {"h": 2}), season=4)
    assert [(r.target, r.source, r.reference) for r in added.models if r.reference] == [("SeasonalNaive", "reference", True)]
    assert added.reference.params == {"h": 2, "season_length": 4}
    own = _evaluate(frame, runtime_target("SeasonalNaive", {"h": 2, "season_length": 4}), season=4)
    assert [(r.target, r.source, r.reference) for r in own.models] == [("SeasonalNaive", "runtime", True)]
    other = _evaluate(frame, runtime_target("SeasonalNaive", {"h": 2, "season_length": 2}), season=4)
    assert sorted(r.target for r in other.models) == ["SeasonalNaive", "SeasonalNaive (reference)"]


def test_probabilistic_models_get_coverage_and_crps() -> None:
    frame = SeriesFrame.from_arrays([np.sin(np.arange(40.0)) * 10 + 20], ids=["s"])
    params = {"h": 4, "input_size": 8, "hidden_size": 8, "max_steps": 3, "windows_batch_size": 16,
              "loss": {"type": "mqloss", "level": [80]}}
    row = _row(_evaluate(frame, runtime_target("MLP", params), horizon=4, windows=2), "MLP")
    actual = np.concatenate([o.actual for o in row.outcomes])
    lo, hi, median = (np.concatenate([o.values[k] for o in row.outcomes]) for k in ("-lo-80", "-hi-80", "-median"))
    assert row.metrics["coverage_80"] == pytest.approx(np.mean((actual >= lo) & (actual <= hi)))
    pinball = [np.maximum(q * (actual - f), (q - 1) * (actual - f)) for q, f in ((0.1, lo), (0.5, median), (0.9, hi))]
    assert row.metrics["crps"] == pytest.approx(2 * np.mean(pinball))
    assert row.metrics["mae"] == pytest.approx(np.mean(np.abs(actual - median)))


def test_timings_parameters_and_failures_are_per_model() -> None:
    frame = SeriesFrame.from_arrays([np.arange(30.0)], ids=["s"])
    mlp = runtime_target("MLP", {"h": 2, "input_size": 4, "hidden_size": 8, "max_steps": 2, "windows_batch_size": 8})
    short = runtime_target("MLP", {"h": 2, "input_size": 40, "hidden_size": 8, "max_steps": 2}, name="MLP-long-input")
    result = _evaluate(frame, mlp, short, windows=2)
    ok, failed = _row(result, "MLP"), _row(result, "MLP-long-input")
    assert ok.parameters == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2 and ok.timings["fit_seconds"] > 0
    assert ok.timings["windows_per_second"] > 0 and ok.timings["peak_memory_mb"] > 0 and ok.timings["creation_ms"] >= 0
    assert failed.status == "failed" and "no series is long enough" in failed.error["message"] and failed.error["window"] == 1
    assert result.failed == [failed] and result.models[-1] is failed  # failures rank last


def test_targets_resolve_like_run_with_the_benchmark_options(example_registry: Path) -> None:
    options = BenchOptions(horizon=6, quick=True, seed=7, params=("hidden_size=16",))
    targets, horizon = resolve_targets(["MLP", "Naive"], example_registry, options)
    mlp, naive = targets
    assert horizon == 6 and mlp.source == "registry" and mlp.registry == str(example_registry)
    assert (mlp.params["h"], mlp.params["max_steps"], mlp.params["random_seed"]) == (6, QUICK_STEPS, 7)
    assert mlp.params["hidden_size"] == 16 and mlp.params["input_size"] == 24  # the entry's own parameter stays
    assert naive.params == {"h": 6}  # Naive has no max_steps, seed or hidden_size


def test_the_horizon_is_the_one_the_targets_share(example_registry: Path) -> None:
    assert resolve_targets(["MLP", "Naive"], example_registry, BenchOptions())[1] == 12
    with pytest.raises(UsageError, match="No target sets a horizon"):
        resolve_targets(["Naive"], None, BenchOptions())


def test_a_param_that_no_model_has_is_a_usage_error(example_registry: Path) -> None:
    with pytest.raises(UsageError, match="none of the models benchmarked has a parameter `hiden_size`"):
        resolve_targets(["MLP"], example_registry, BenchOptions(params=("hiden_size=16",)))


@pytest.fixture
def registry_with_metadata_only(tmp_path: Path, example_registry: Path) -> Path:
    """A copy of registry.example where `Catalogue` is an entry without a [runtime] table."""
    import shutil

    copy = tmp_path / "registry"
    shutil.copytree(example_registry, copy, ignore=shutil.ignore_patterns(".modreg"))
    text = (copy / "models" / "Naive.toml").read_text()
    (copy / "models" / "Catalogue.toml").write_text(
        text[: text.index("[runtime]")].replace('name = "Naive"', 'name = "Catalogue"'))
    return copy


def test_run_bench_selects_entries_skips_those_without_runtime_and_describes_the_run(registry_with_metadata_only: Path) -> None:
    result = run_bench([], data=AIR, options=BenchOptions(windows=2), registry=registry_with_metadata_only,
                       select={"where": "name in ['Naive', 'Catalogue', 'NLinear']"})
    assert sorted(r.target for r in result.models) == ["NLinear", "Naive", "SeasonalNaive"]
    assert result.skipped == [{"target": "Catalogue", "reason": "no [runtime] table"}]
    document = result.to_dict()
    assert document["dataset"] == "air_passengers" and document["data"]["series"] == 1
    assert document["data"]["sha256"] and document["horizon"] == 12 and len(document["windows"]) == 2
    assert set(document["environment"]) >= {"modreg", "numpy", "python", "cpu_count", "seed", "max_steps"}


def test_nothing_to_benchmark_is_a_usage_error(registry_with_metadata_only: Path) -> None:
    with pytest.raises(UsageError, match="Name the models to benchmark"):
        run_bench([], data=AIR, options=BenchOptions(), registry=registry_with_metadata_only)
    with pytest.raises(UsageError, match="No registry entry with a \\[runtime\\] table matches"):
        run_bench([], data=AIR, options=BenchOptions(), registry=registry_with_metadata_only, select={"where": "name = 'Catalogue'"})


def test_a_param_h_is_the_horizon_and_an_unknown_target_is_not_found() -> None:
    assert resolve_targets(["Naive"], None, BenchOptions(params=("h=3",)))[1] == 3
    with pytest.raises(UsageError, match=r"--param h=\"abc\": the horizon h must be an integer >= 1"):
        resolve_targets(["Naive"], None, BenchOptions(params=('h="abc"',)))
    with pytest.raises(NotFound, match="Nope"):
        resolve_targets(["Nope"], None, BenchOptions())
