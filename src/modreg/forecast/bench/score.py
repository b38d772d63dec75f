"""Scores of one benchmarked model: accuracy over its windows, timings, and the failure if any.

Accuracy is computed over every series and window together (the windows of a model are
stacked into one (n_series * K, h) array):

- `mae`, `rmse`, `smape` (0..200): over every forecast point;
- `mase`: per series and window, the MAE divided by the in-sample seasonal naive MAE of that
  window's history (season from the frequency or --season), then averaged (Hyndman & Koehler
  2006); the zero cases follow `modreg.runtime.metrics` (never NaN or infinite; the run's
  notices name the windows scaled that way, see `windows.unscaled_windows`);
- for probabilistic forecasts (columns `-lo-L` / `-hi-L`): `coverage_L` (0..1, the share of
  actuals inside the L% interval) and `crps`, approximated from the quantiles 0.5 +- L/200 and
  the median (twice the mean pinball loss).

Timings: `creation_ms` (building the model, mean per build), `fit_seconds` (mean per fit),
`predict_seconds` (mean per window), `windows_per_second` (forecast windows, i.e. series x
windows, per second of prediction), `peak_memory_mb` (the largest traced allocation peak of a
task, numpy buffers included), and the parameter count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modreg._plain import plain
from modreg.runtime import metrics
from modreg.forecast.bench.tasks import TaskResult, WindowOutcome

__all__ = ["ModelScore", "relative_to", "score"]

_BOUND = re.compile(r"-(lo|hi)-(\d+(?:\.\d+)?)$")


@dataclass
class ModelScore:
    """One row of the benchmark: a target's figures, or why it failed.

    `params` are the parameters the model was built with: after a successful run every one of
    them, defaults included (so that the JSON document reproduces the run). `outcomes` keeps
    every window's actuals and forecasts for Python users (not in `to_dict`).
    """

    target: str
    model: str
    source: str
    params: dict[str, Any]
    reference: bool = False
    status: str = "ok"
    metrics: dict[str, float] = field(default_factory=dict)
    relative: dict[str, float | None] = field(default_factory=dict)
    timings: dict[str, float | None] = field(default_factory=dict)
    parameters: int | None = None
    steps: int | None = None
    error: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    outcomes: tuple[WindowOutcome, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "model": self.model, "source": self.source, "reference": self.reference,
            "status": self.status, "params": plain(self.params), "metrics": self.metrics,
            "relative": self.relative, "timings": self.timings, "parameters": self.parameters, "steps": self.steps,
            "error": self.error, "warnings": self.warnings,
        }


def score(row: ModelScore, results: Sequence[TaskResult], n_series: int) -> ModelScore:
    """`row` with its figures from the results of its tasks, or failed with the first error."""
    failed = [r for r in results if not r.ok]
    if failed:
        first = failed[0]
        where = f"window {first.windows[0]}" if len(first.windows) == 1 else "its windows"
        row.status = first.status
        row.error = {"message": first.error, "hint": first.hint, "window": first.windows[0], "where": where, "code": 1}
        return row
    outcomes = tuple(o for r in results for o in r.outcomes)
    row.outcomes, row.metrics = outcomes, accuracy(outcomes)
    row.timings = _timings(results, n_series * len(outcomes))
    row.params = next((r.params for r in results if r.params is not None), row.params)  # every parameter, defaults too
    row.parameters = next((r.parameters for r in reversed(results) if r.parameters is not None), None)
    row.steps = next((r.steps for r in reversed(results) if r.steps is not None), None)
    return row


def accuracy(outcomes: Sequence[WindowOutcome]) -> dict[str, float]:
    """MAE, RMSE, sMAPE, MASE (and coverage/CRPS for intervals) over all windows; see the module docstring."""
    actual = np.concatenate([o.actual for o in outcomes])
    point = np.concatenate([_point(o.values) for o in outcomes])
    scales = np.concatenate([o.scales for o in outcomes])
    found = {
        "mae": float(metrics.mae(actual, point)),
        "rmse": float(metrics.rmse(actual, point)),
        "smape": float(metrics.smape(actual, point)),
        "mase": float(np.mean(np.mean(np.abs(actual - point), axis=1) / scales)),
    }
    found.update(_probabilistic(actual, point, outcomes))
    return found


def _point(values: dict[str, np.ndarray]) -> np.ndarray:
    return values[""] if "" in values else values.get("-median", next(iter(values.values())))


def _probabilistic(actual: np.ndarray, point: np.ndarray, outcomes: Sequence[WindowOutcome]) -> dict[str, float]:
    levels = sorted({m.group(2) for name in outcomes[0].values if (m := _BOUND.search(name))}, key=float)
    levels = [lv for lv in levels if f"-lo-{lv}" in outcomes[0].values and f"-hi-{lv}" in outcomes[0].values]
    if not levels:
        return {}
    stacked = {name: np.concatenate([o.values[name] for o in outcomes]) for name in outcomes[0].values}
    found = {f"coverage_{lv}": float(metrics.coverage(actual, stacked[f"-lo-{lv}"], stacked[f"-hi-{lv}"]))
             for lv in levels}
    quantiles = [(0.5, stacked.get("-median", point))]
    for lv in levels:
        quantiles += [(0.5 - float(lv) / 200, stacked[f"-lo-{lv}"]), (0.5 + float(lv) / 200, stacked[f"-hi-{lv}"])]
    quantiles.sort(key=lambda pair: pair[0])
    y_q = np.stack([values for _, values in quantiles], axis=-1)
    found["crps"] = float(metrics.crps_from_quantiles(actual, y_q, [q for q, _ in quantiles]))
    return found


def _timings(results: Sequence[TaskResult], forecast_windows: int) -> dict[str, float | None]:
    creation = [s for r in results for s in r.creation_seconds]
    fits = [s for r in results for s in r.fit_seconds]
    predicts = [s for r in results for s in r.predict_seconds]
    predict_total = float(sum(predicts))
    return {
        "creation_ms": 1000 * float(np.mean(creation)) if creation else None,
        "fit_seconds": float(np.mean(fits)) if fits else None,
        "predict_seconds": float(np.mean(predicts)) if predicts else None,
        "windows_per_second": forecast_windows / predict_total if predict_total > 0 else None,
        "peak_memory_mb": max(r.peak_memory for r in results) / 2**20,
        "total_seconds": float(sum(creation) + sum(fits) + predict_total),
    }


def relative_to(rows: Sequence[ModelScore], reference: ModelScore) -> None:
    """Set each row's MASE and sMAPE relative to the reference's (None when undefined)."""
    for row in rows:
        if row.ok:
            row.relative = {name: _ratio(row.metrics.get(name), reference.metrics.get(name) if reference.ok else None)
                            for name in ("mase", "smape")}


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None
