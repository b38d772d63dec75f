"""Registry statistics: counts, top tags, deprecations and performance leaderboards.

The same dictionary is `index/registry_statistics.json`, the body of `modreg stats --json`
and the source of the summary report, so the three never disagree.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from modreg.outputs.entry import Entry, entry_name
from modreg.outputs.fields import (
    CATEGORY_ORDER,
    STATUS_ORDER,
    number,
    ordered_keys,
    sorted_entries,
    status_of,
    strings,
    table,
    text,
)

__all__ = ["FORMAT", "LEADER_METRICS", "TOP_TAGS", "build_statistics", "deprecations", "leaderboards"]

FORMAT = 1
LEADER_METRICS = ("mase", "smape", "rmse", "mae", "crps")  # lower is better, first present ranks
TOP_TAGS = 20
_NOT_METRICS = frozenset({"horizon"})


def build_statistics(entries: Iterable[Entry]) -> dict[str, Any]:
    """The statistics of a registry's entries (pure: no clock, stable order)."""
    ordered = sorted_entries(entries)
    datas = [entry.data for entry in ordered]
    categories = Counter(text(data, "category", "unknown") for data in datas)
    statuses = Counter(status_of(data) for data in datas)
    tags = Counter(tag for data in datas for tag in dict.fromkeys(strings(data, "tags")))
    with_runtime = sum(1 for data in datas if table(data, "runtime"))
    updated = [text(data, "updated") for data in datas if text(data, "updated")]
    return {
        "format": FORMAT,
        "total": len(ordered),
        "by_category": {key: categories[key] for key in ordered_keys(categories, CATEGORY_ORDER)},
        "by_status": {key: statuses[key] for key in ordered_keys(statuses, STATUS_ORDER)},
        "by_category_status": _cross_counts(datas),
        "by_format": dict(Counter(_format_of(entry.file) for entry in ordered)),
        "runtime": {"with_runtime": with_runtime, "metadata_only": len(ordered) - with_runtime},
        "tags": {"distinct": len(tags), "top": top_tags(tags)},
        "capabilities": dict(Counter(c for data in datas for c in dict.fromkeys(strings(data, "capabilities")))),
        "authors": dict(Counter(a for data in datas for a in dict.fromkeys(strings(data, "authors")))),
        "deprecations": deprecations(ordered),
        "leaderboards": leaderboards(ordered),
        "last_updated": max(updated) if updated else None,
    }


def _cross_counts(datas: list[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    pairs = Counter((text(data, "category", "unknown"), status_of(data)) for data in datas)
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
        status, details = status_of(entry.data), table(entry.data, "deprecation")
        if status != "deprecated" and not details:
            continue
        found.append(
            {
                "name": entry_name(entry),
                "status": status,
                "reason": text(details, "reason") or None,
                "replacement": text(details, "replacement") or None,
                "since": text(details, "since") or None,
                "sunset": text(details, "sunset") or None,
            }
        )
    return found


def leaderboards(entries: list[Entry]) -> list[dict[str, Any]]:
    """One ranking per (dataset, horizon) of the entries with recorded performance."""
    groups: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for entry in entries:
        row = _performance_row(entry)
        if row is not None:
            performance = table(entry.data, "performance")
            key = (text(performance, "dataset") or "unspecified", number(performance.get("horizon")))
            groups.setdefault(key, []).append(row)
    boards = []
    for (dataset, horizon), rows in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        metric = next(m for m in LEADER_METRICS if any(m in row["metrics"] for row in rows))
        rows.sort(key=lambda row: (metric not in row["metrics"], row["metrics"].get(metric, 0), row["name"]))
        ranking = [{"rank": rank, **row} for rank, row in enumerate(rows, 1)]
        boards.append({"dataset": dataset, "horizon": horizon, "metric": metric, "ranking": ranking})
    return boards


def _performance_row(entry: Entry) -> dict[str, Any] | None:
    performance = table(entry.data, "performance")
    metrics = {
        key: value
        for key, value in performance.items()
        if key not in _NOT_METRICS and number(value) is not None and math.isfinite(value)
    }
    if not any(metric in metrics for metric in LEADER_METRICS):
        return None
    return {
        "name": entry_name(entry),
        "version": text(entry.data, "version"),
        "status": status_of(entry.data),
        "measured": text(performance, "measured") or None,
        "metrics": metrics,
    }


def _format_of(file: str) -> str:
    suffix = PurePosixPath(file).suffix.lower()
    return "yaml" if suffix in (".yaml", ".yml") else suffix.lstrip(".") or "unknown"
