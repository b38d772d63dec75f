"""Registry statistics: counts, top tags, deprecations and performance leaderboards.

The same dictionary is `index/registry_statistics.json`, the body of `modreg stats --json`
and the source of the summary report, so the three never disagree.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from modreg.registry.store.facets import Entry, text
from modreg.registry.store.fields import CATEGORY_ORDER, STATUS_ORDER, number, ordered_keys, sorted_entries, table

__all__ = ["FORMAT", "LEADERBOARD_SIZE", "LEADER_METRICS", "TOP_TAGS", "build_statistics", "deprecations", "leaderboards"]

FORMAT = 1
LEADER_METRICS = ("mase", "smape", "rmse", "mae", "crps")  # lower is better, first present ranks
TOP_TAGS = 20
LEADERBOARD_SIZE = 10
# What was measured and how (the setup), not how well.
_NOT_METRICS = frozenset({"horizon", "windows", "step", "season", "max_steps", "seed", "refit"})
_SETUP = ("data_sha256", "windows", "step", "season", "refit", "max_steps")  # rows compare only within one setup


def build_statistics(entries: Iterable[Entry]) -> dict[str, Any]:
    """The statistics of a registry's entries (pure: no clock, stable order)."""
    ordered = sorted_entries(entries)
    categories = Counter(entry.category or "unknown" for entry in ordered)
    statuses = Counter(entry.status for entry in ordered)
    tags = Counter(tag for entry in ordered for tag in dict.fromkeys(entry.tags))
    runtimes = [bool(table(entry.facts, "runtime")) for entry in ordered]
    updated = [text(entry.facts, "updated") for entry in ordered if text(entry.facts, "updated")]
    return {
        "format": FORMAT,
        "total": len(ordered),
        "by_category": {key: categories[key] for key in ordered_keys(categories, CATEGORY_ORDER)},
        "by_status": {key: statuses[key] for key in ordered_keys(statuses, STATUS_ORDER)},
        "by_category_status": _cross_counts(ordered),
        "by_format": dict(Counter(_format_of(entry.file) for entry in ordered)),
        "runtime": {"with_runtime": sum(runtimes), "metadata_only": len(ordered) - sum(runtimes)},
        "tags": {"distinct": len(tags), "top": top_tags(tags)},
        "capabilities": dict(Counter(c for entry in ordered for c in dict.fromkeys(entry.capabilities))),
        "authors": dict(Counter(a for entry in ordered for a in dict.fromkeys(entry.authors))),
        "deprecations": deprecations(ordered),
        "leaderboards": leaderboards(ordered),
        "last_updated": max(updated) if updated else None,
    }


def _cross_counts(entries: list[Entry]) -> dict[str, dict[str, int]]:
    pairs = Counter((entry.category or "unknown", entry.status) for entry in entries)
    crossed: dict[str, dict[str, int]] = {}
    for (category, status), count in sorted(pairs.items()):
        crossed.setdefault(category, {})[status] = count
    return crossed


def top_tags(tags: Counter[str], limit: int = TOP_TAGS) -> list[dict[str, Any]]:
    """The most used tags, most used first, ties by name."""
    ranked = sorted(tags.items(), key=lambda item: (-item[1], item[0]))
    return [{"tag": tag, "count": count} for tag, count in ranked[:limit]]


def deprecations(entries: list[Entry]) -> list[dict[str, Any]]:
    """Deprecated entries (and archived ones that say why) with replacement and dates."""
    found = []
    for entry in entries:
        status, details = entry.status, table(entry.facts, "deprecation")
        if status != "deprecated" and not details:
            continue
        found.append(
            {
                "name": entry.name,
                "status": status,
                "reason": text(details, "reason") or None,
                "replacement": text(details, "replacement") or None,
                "since": text(details, "since") or None,
                "sunset": text(details, "sunset") or None,
            }
        )
    return found


def leaderboards(entries: list[Entry]) -> list[dict[str, Any]]:
    """Per (dataset, horizon) and setup (the data's sha256, windows, step, season, refit, step
    budget): the best `LEADERBOARD_SIZE` entries with recorded performance. Figures measured on
    other data or with another budget are never ranked together; `setup` is None for rows whose
    `[performance]` does not say how they were measured (recorded by hand or by an old modreg)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for entry in entries:
        row = _performance_row(entry)
        if row is not None:
            performance = table(entry.facts, "performance")
            setup = tuple(_setup_value(performance.get(key)) for key in _SETUP)
            key = (text(performance, "dataset") or "unspecified", number(performance.get("horizon")), setup)
            groups.setdefault(key, []).append(row)
    boards = []
    for (dataset, horizon, setup), rows in sorted(groups.items(), key=_board_order):
        metric = next(m for m in LEADER_METRICS if any(m in row["metrics"] for row in rows))
        rows.sort(key=lambda row: (metric not in row["metrics"], row["metrics"].get(metric, 0), row["name"]))
        ranking = [{"rank": rank, **row} for rank, row in enumerate(rows[:LEADERBOARD_SIZE], 1)]
        recorded = dict(zip(_SETUP, setup)) if any(value is not None for value in setup) else None
        boards.append({"dataset": dataset, "horizon": horizon, "setup": recorded, "metric": metric,
                       "entries": len(rows), "ranking": ranking})
    return boards


def _setup_value(value: Any) -> Any:
    return value if isinstance(value, (str, bool, int)) and not isinstance(value, float) else None


def _board_order(item: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    dataset, horizon, setup = item[0]
    return (dataset, horizon or 0, tuple((value is None, str(value)) for value in setup))


def _performance_row(entry: Entry) -> dict[str, Any] | None:
    performance = table(entry.facts, "performance")
    metrics = {
        key: value
        for key, value in performance.items()
        if key not in _NOT_METRICS and number(value) is not None and math.isfinite(value)
    }
    if not any(metric in metrics for metric in LEADER_METRICS):
        return None
    return {
        "name": entry.name,
        "version": entry.version,
        "status": entry.status,
        "measured": text(performance, "measured") or None,
        "metrics": metrics,
    }


def _format_of(file: str) -> str:
    suffix = file.rpartition(".")[2].lower() if "." in file.rpartition("/")[2] else ""
    return "yaml" if suffix in ("yaml", "yml") else suffix or "unknown"
