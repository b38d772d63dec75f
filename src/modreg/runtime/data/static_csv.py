"""Static exogenous values from their own CSV, one row per series, joined to the series data.

neuralforecast takes static covariates as a `static_df` beside the series; `modreg run --static
FILE` reads the same table, `unique_id,<static columns>`, with `read_static_csv`, and
`attach_static` adds each column to a `SeriesFrame` as a constant exogenous column, where a
model's `stat_exog_list` reads it (as it reads static columns kept in the data file itself).
Every bad cell is a `UsageError` at its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modreg.errors import UsageError
from modreg.runtime.data.csv_reader import (
    _check_header,
    _parse_floats,
    _read_records,
    _Rows,
)
from modreg.runtime.data.frame import SeriesFrame

__all__ = ["StaticValues", "attach_static", "read_static_csv"]

_LAYOUT_HINT = "expected the header unique_id,<static columns> and one row per series"


@dataclass(frozen=True)
class StaticValues:
    """Static exogenous values: per column, one value per series of `ids` (in file order)."""

    ids: tuple[str, ...]
    columns: dict[str, np.ndarray]
    source: str | None = None


def read_static_csv(path: str | Path, *, id_col: str = "unique_id") -> StaticValues:
    """Read `unique_id,<columns>`: numeric values, one row per series.

    Raises:
        NotFound: the file does not exist.
        UsageError: no `unique_id` or no value column, a repeated series, or a value that is not
            a finite number, naming the file and the line.
    """
    path = Path(path)
    records = _read_records(path)
    line, header = records[0]
    _check_header(header, path, line)
    if id_col not in header or len(header) < 2:
        detail = f"no column '{id_col}'" if id_col not in header else "no static value columns"
        raise UsageError(f"the static file has {detail}.", hint=f"{_LAYOUT_HINT} (found: {', '.join(header)})",
                         path=path, line=line)
    body = records[1:]
    if not body:
        raise UsageError("the static file has a header but no rows.", hint=_LAYOUT_HINT, path=path)
    for number, cells in body:
        if len(cells) != len(header):
            raise UsageError(f"the row has {len(cells)} fields but the header has {len(header)}.",
                             hint=_LAYOUT_HINT, path=path, line=number)
    key = header.index(id_col)
    rows = _Rows(path, [cells[key] for _, cells in body], np.array([number for number, _ in body]))
    _check_unique(rows)
    columns = {name: _parse_floats(rows, [cells[i] for _, cells in body], name, None)
               for i, name in enumerate(header) if i != key}
    return StaticValues(tuple(rows.ids), columns, str(path))


def _check_unique(rows: _Rows) -> None:
    seen: dict[str, int] = {}
    for index, sid in enumerate(rows.ids):
        if not sid:
            raise rows.error(index, "has an empty unique_id", "name every row's series")
        if sid in seen:
            first = int(rows.lines[seen[sid]])
            raise rows.error(index, f"has a second row (the first is on line {first})",
                             "a static file holds one row per series")
        seen[sid] = index


def attach_static(frame: SeriesFrame, static: StaticValues) -> SeriesFrame:
    """`frame` with every static column added as an exogenous column, constant within each series.

    Raises:
        UsageError: a series of `frame` has no row in `static`, or a static column has the name of
            one of the frame's columns.
    """
    clash = [name for name in static.columns if name in frame.exog or name in ("y", "ds")]
    if clash:
        raise UsageError(f"the static column '{clash[0]}' is also a column of the series data.",
                         hint="rename it in one of the two files", path=static.source)
    where = {sid: i for i, sid in enumerate(static.ids)}
    absent = [sid for sid in frame.ids if sid not in where]
    if absent:
        more = f" ({len(absent) - 1} other series too)" if len(absent) > 1 else ""
        raise UsageError(f"series '{absent[0]}' has no row in the static file{more}.",
                         hint=f"add a row '{absent[0]},...' for it (series found: {_sample(static.ids)})",
                         path=static.source)
    added = {name: tuple(np.full(len(y), values[where[sid]]) for sid, y in zip(frame.ids, frame.y))
             for name, values in static.columns.items()}
    return SeriesFrame(ids=frame.ids, ds=frame.ds, y=frame.y, freq=frame.freq, exog={**frame.exog, **added},
                       notices=frame.notices, source=frame.source)


def _sample(ids: tuple[str, ...], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > limit else "")
