"""Pictures of forecasts and benchmarks: `run --plot FILE` and `bench --plot FILE` (PNG or SVG).

matplotlib is optional (the `plot` extra) and imported only here, with the Agg backend, so no
display is needed. `check_plot` runs before any work, so a missing matplotlib or a bad suffix
stops the command at once (exit 2, naming the install command). Every series' history,
forecast and interval band carries an id (`history-ID`, `forecast-ID`, `interval-ID`) in an
SVG, so scripts and tests can find them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modreg.errors import UsageError

__all__ = ["DEFAULT_SERIES", "check_plot", "plot_bench", "plot_run"]

DEFAULT_SERIES = 4
_HISTORY_POINTS = 200  # at most this many points of history before the forecast
_SUFFIXES = (".png", ".svg")
_INTERVAL = re.compile(r"-lo-(\d+(?:\.\d+)?)$")


def check_plot(path: Path | None) -> None:
    """UsageError (exit 2) for a suffix other than .png/.svg, or when matplotlib is missing."""
    if path is None:
        return
    if path.suffix.lower() not in _SUFFIXES:
        raise UsageError(f"--plot {path}: the picture's suffix must be .png or .svg.", hint="e.g. --plot forecast.png")
    _pyplot()


def _pyplot() -> Any:
    from modreg._version import install_hint

    try:
        import matplotlib
    except ImportError:
        raise UsageError("--plot needs matplotlib, which is not installed.",
                         hint=f"install the plot extra: `{install_hint('plot')}`.") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _chosen(ids: Sequence[str], wanted: Sequence[str], limit: int) -> list[int]:
    """Indices of the series to draw: those named (UsageError for an unknown one), else the first `limit`."""
    if not wanted:
        return list(range(min(limit, len(ids))))
    missing = [sid for sid in wanted if sid not in ids]
    if missing:
        shown = ", ".join(list(ids)[:8]) + (", ..." if len(ids) > 8 else "")
        raise UsageError(f"--plot-series {missing[0]}: the data has no such series.", hint=f"series: {shown}")
    return [list(ids).index(sid) for sid in wanted]


def plot_run(result: Any, path: Path, *, series: Sequence[str] = (), limit: int = DEFAULT_SERIES) -> Path:
    """History, forecast and interval bands of each chosen series, one panel per series."""
    plt = _pyplot()
    forecast, history = result.forecast, result.history
    chosen = _chosen(forecast.ids, series, limit)
    figure, axes = plt.subplots(len(chosen), 1, figsize=(8, 2.6 * len(chosen) + 0.4), squeeze=False)
    for axis, i in zip(axes[:, 0], chosen):
        sid = forecast.ids[i]
        if history is not None and sid in history.ids:
            j = history.ids.index(sid)
            line, = axis.plot(history.ds[j][-_HISTORY_POINTS:], history.y[j][-_HISTORY_POINTS:], color="#444444",
                              linewidth=1.2, label="history")
            line.set_gid(f"history-{sid}")
        _intervals(axis, forecast, i, sid)
        line, = axis.plot(forecast.ds[i], forecast.point[i], color="#1f77b4", linewidth=1.8, label=result.target)
        line.set_gid(f"forecast-{sid}")
        axis.set_title(f"{result.target}: {sid}", fontsize=10, loc="left")
        axis.legend(loc="upper left", fontsize=8, frameon=False)
        axis.grid(alpha=0.3)
    return _save(plt, figure, path)


def _intervals(axis: Any, forecast: Any, i: int, sid: str) -> None:
    levels = sorted((float(m.group(1)), column) for column in forecast.values if (m := _INTERVAL.search(column)))
    for level, low in reversed(levels):
        high = low.replace("-lo-", "-hi-")
        if high in forecast.values:
            band = axis.fill_between(forecast.ds[i], forecast.values[low][i], forecast.values[high][i], alpha=0.25,
                                     color="#1f77b4", linewidth=0, label=f"{level:g}% interval")
            band.set_gid(f"interval-{sid}-{level:g}")


def plot_bench(result: Any, path: Path, *, series: Sequence[str] = ()) -> Path:
    """Per-model MASE relative to SeasonalNaive (bars), and every window's forecasts of one series."""
    plt = _pyplot()
    frame = result.frame
    ok = [row for row in result.models if row.ok]
    figure, (bars, lines) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1, 2]})
    names = [row.target for row in ok]
    values = [row.relative.get("mase") or float("nan") for row in ok]
    drawn = bars.barh(names[::-1], values[::-1], color=["#999999" if row.reference else "#1f77b4" for row in ok][::-1])
    for patch, name in zip(drawn.patches, names[::-1]):
        patch.set_gid(f"bar-{name}")
    bars.axvline(1.0, color="#d62728", linewidth=1, linestyle="--")
    bars.set_xlabel("MASE relative to SeasonalNaive (below 1 is better)")
    bars.set_title(f"{result.dataset}, h = {result.horizon}, {len(result.windows)} window(s)", fontsize=10, loc="left")
    if frame is not None:
        _window_lines(lines, result, ok, _chosen(frame.ids, series[:1], 1)[0])
    figure.tight_layout()
    return _save(plt, figure, path, tight=False)


def _window_lines(axis: Any, result: Any, rows: Sequence[Any], i: int) -> None:
    frame = result.frame
    sid, stamps, values = frame.ids[i], frame.ds[i], frame.y[i]
    first = max(0, len(values) - max(row.outcomes[0].offset for row in rows if row.outcomes) - 3 * result.horizon)
    actual, = axis.plot(stamps[first:], values[first:], color="#444444", linewidth=1.2, label="actual")
    actual.set_gid(f"actual-{sid}")
    colours = plt_colours(len(rows))
    for colour, row in zip(colours, rows):
        for number, outcome in enumerate(row.outcomes):
            start = len(values) - outcome.offset
            point = outcome.values.get("", next(iter(outcome.values.values())))
            line, = axis.plot(stamps[start:start + point.shape[1]], point[i], color=colour, linewidth=1.4,
                              label=row.target if number == 0 else None)
            line.set_gid(f"window-{row.target}-{outcome.window}")
    axis.set_title(f"{sid}: forecasts of every window", fontsize=10, loc="left")
    axis.legend(loc="upper left", fontsize=8, frameon=False)
    axis.grid(alpha=0.3)


def plt_colours(count: int) -> list[Any]:
    """`count` distinct colours from matplotlib's default cycle (repeated when there are more)."""
    import matplotlib

    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    return [cycle[k % len(cycle)] for k in range(count)]


def _save(plt: Any, figure: Any, path: Path, *, tight: bool = True) -> Path:
    if tight:
        figure.tight_layout()
    try:
        figure.savefig(path, dpi=100, metadata={"Date": None} if path.suffix.lower() == ".svg" else None)
    except OSError as error:
        raise UsageError(f"modreg cannot write {path} ({error.strerror or error}).", path=path) from None
    finally:
        plt.close(figure)
    return path
