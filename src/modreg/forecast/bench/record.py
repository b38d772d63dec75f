"""`modreg bench --record`: write each benchmarked entry's `[performance]` table.

Only registry entries that were benchmarked successfully are recorded (runtime model names
and the added reference have no file). The table is replaced as a whole by the new figures and
by what it takes to measure them again:

    dataset, data_path, data_sha256, horizon, windows, step, season, refit, [max_steps, seed],
    mase, smape, mae, rmse, [crps, coverage_L],
    fit_seconds, predict_seconds, windows_per_second, parameters, measured, modreg_version

`data_path` is relative to the registry root when the data lives inside the registry; the
leaderboards compare only rows with the same data, horizon, windows and step budget.

Figures are rounded to 6 significant digits so that the diff stays readable. All entries are
written in one registry transaction (lock, comment-preserving edits, validation, atomic writes,
one audit line per file), so `search --where "performance.mase < 1"`, `stats` and the summary
report's leaderboard use them at once. Figures measured with `--quick` are not recorded: a
smoke budget says nothing about a model's accuracy.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from modreg.errors import UsageError
from modreg.forecast.bench.harness import BenchResult
from modreg.forecast.bench.score import ModelScore
from modreg.registry.store.lock import DEFAULT_TIMEOUT

__all__ = ["check_recordable", "performance_table", "record_performance"]

_ACCURACY = ("mase", "smape", "mae", "rmse", "crps")
_TIMINGS = ("fit_seconds", "predict_seconds", "windows_per_second")


def record_performance(result: BenchResult, registry: str | Path | None, *, today: dt.date | None = None,
                       dry_run: bool = False, lock_timeout: float = DEFAULT_TIMEOUT) -> list[Any]:
    """Write the `[performance]` table of every successfully benchmarked registry entry.

    Returns one `Mutation` per entry (with its diff; nothing written under `dry_run`).

    Raises:
        UsageError: the result was measured with --quick.
    """
    check_recordable(result.quick)
    rows = [row for row in result.models if row.ok and row.source == "registry"]
    if not rows:
        return []
    from modreg.registry.store.layout import find_root
    from modreg.registry.mutation.transaction import transaction

    day = today or dt.date.today()
    paths = find_root(registry)
    with transaction(paths, "bench", dry_run=dry_run, lock_timeout=lock_timeout) as txn:
        for row in rows:
            table = performance_table(row, result, day, root=paths.root)
            txn.edit(row.target, lambda data, table=table: {**data, "performance": table})
    return txn.results


def check_recordable(quick: bool) -> None:
    """UsageError for figures measured with --quick (checked before a benchmark runs, too)."""
    if quick:
        raise UsageError("--record does not record figures measured with --quick's small step budget.",
                         hint="run without --quick (set the budget with --max-steps N) to record.")


def performance_table(row: ModelScore, result: BenchResult, day: dt.date, *, root: Path | None = None) -> dict[str, Any]:
    """The `[performance]` table of one benchmarked entry (see the module docstring)."""
    from modreg._version import __version__

    table: dict[str, Any] = {"dataset": result.dataset}
    if "path" in result.data:
        table["data_path"] = _relative(Path(result.data["path"]), root)
        table["data_sha256"] = result.data["sha256"]
    table.update({"horizon": result.horizon, "windows": len(result.windows), "step": result.step,
                  "season": result.season, "refit": result.refit})
    table.update({key: row.params[name] for key, name in (("max_steps", "max_steps"), ("seed", "random_seed"))
                  if isinstance(row.params.get(name), int)})
    table.update({name: _rounded(row.metrics[name]) for name in _ACCURACY if name in row.metrics})
    table.update({name: _rounded(value) for name, value in row.metrics.items() if name.startswith("coverage_")})
    table.update({name: _rounded(row.timings[name]) for name in _TIMINGS if row.timings.get(name) is not None})
    if row.parameters is not None:
        table["parameters"] = row.parameters
    table.update({"measured": day, "modreg_version": __version__})
    return table


def _rounded(value: Any) -> float:
    return float(f"{float(value):.6g}")


def _relative(path: Path, root: Path | None) -> str:
    """`path` relative to the registry root when it is inside it (portable), else as given."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()
