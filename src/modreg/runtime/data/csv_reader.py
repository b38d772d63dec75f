"""Reading long-format series CSV into a `SeriesFrame`, every bad cell located at its line.

Accepted layouts (Nixtla's convention): `unique_id,ds,y[,exogenous...]`, `ds,y[,exogenous...]`
(one series called "series"), or a single numeric column with or without a header (one series,
`ds` the integer steps 0..n-1). Every bad value is a `UsageError` located at the file and CSV
line, naming the series. Unsorted timestamps are sorted and reported in `SeriesFrame.notices`.
The column names are options (`id_col`, `time_col`, `target_col`); with `exog` given, only
those extra columns are read as exogenous and the others are ignored, with a notice.
`read_series_text` reads the same from text (a pandas DataFrame's CSV, for the API).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modreg.errors import NotFound, UsageError
from modreg.runtime.data.frequency import (
    FORMATS_HINT,
    Frequency,
    FrequencyError,
    TimestampError,
    format_timestamps,
    infer_frequency,
    parse_timestamps,
)

from modreg.runtime.data.frame import DEFAULT_ID, SeriesFrame

__all__ = ["read_future_csv", "read_series_csv", "read_series_text"]

_MISSING = {"", "na", "n/a", "nan", "null", "none"}
_NAMED_AT_MOST = 10  # a notice about a 10,000-column file names a few columns, not all of them
_LAYOUT_HINT = "expected the header unique_id,ds,y[,exogenous...], or ds,y, or one numeric column"
_MISSING_HINT = "fill or drop the missing values; modreg does not impute them"
_REGULAR_HINT = "timestamps must be regular: fill the missing periods (or drop the extra ones)"


@dataclass(frozen=True)
class _Layout:
    """Which column holds what; `has_header` is False for a bare numeric column."""

    id_col: str
    id_index: int | None
    ds_index: int | None
    y_index: int
    target: str
    exog: tuple[tuple[str, int], ...]
    has_header: bool
    width: int
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Rows:
    """The parsed body: one entry per data row, with its CSV line number."""

    path: Path
    ids: list[str]
    lines: np.ndarray

    def error(self, index: int, detail: str, hint: str | None = None) -> UsageError:
        """A UsageError for row `index`: the series, the file and the line."""
        line = int(self.lines[index])
        return UsageError(f"series '{self.ids[index]}' {detail}.", hint=hint, path=self.path, line=line)


def read_series_csv(
    path: str | Path, *, id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y",
    exog: Sequence[str] | None = None,
) -> SeriesFrame:
    """Read and validate a series CSV (see the module docstring for the layouts).

    `exog`: the extra columns to read as exogenous (None: every extra column); the others are
    ignored, with a notice in `SeriesFrame.notices`.

    Raises:
        NotFound: the file does not exist.
        UsageError: bad layout or values, naming the file, the series and the line.
    """
    path = Path(path)
    return _frame_of(path, _read_records(path), id_col, time_col, target_col, exog)


def read_series_text(
    text: str, *, source: str, id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y",
    exog: Sequence[str] | None = None,
) -> SeriesFrame:
    """`read_series_csv` of CSV text; errors name `source` (e.g. "DataFrame") and the CSV line."""
    path = Path(source)
    return _frame_of(path, _parse_records(text, path), id_col, time_col, target_col, exog)


def _frame_of(path: Path, records: list[tuple[int, list[str]]], id_col: str, time_col: str, target_col: str,
              exog: Sequence[str] | None) -> SeriesFrame:
    layout = _find_layout(records[0], path, id_col, time_col, target_col, exog)
    body = records[1:] if layout.has_header else records
    if not body:
        raise UsageError("the data file has a header but no rows.", hint=_LAYOUT_HINT, path=path)
    frame = _build_frame(path, layout, body)
    if not layout.ignored:
        return frame
    shown = layout.ignored[:_NAMED_AT_MOST]
    names = ", ".join(f"'{name}'" for name in shown)
    if len(layout.ignored) > len(shown):
        names += f" and {len(layout.ignored) - len(shown):,} more"
    notice = (f"{path}: ignored the column{'s' * (len(layout.ignored) > 1)} {names}: not the id, time or target "
              "column, and not declared exogenous (hist_exog_list, futr_exog_list or stat_exog_list).")
    return dataclasses.replace(frame, notices=(*frame.notices, notice))


def read_future_csv(path: str | Path, *, target_col: str = "y", id_col: str = "unique_id", time_col: str = "ds",
                    exog: Sequence[str] | None = None, freq: Frequency | None = None) -> SeriesFrame:
    """Read the future values of exogenous columns: `unique_id,ds,<columns>` for the horizon.

    The same layouts and checks as `read_series_csv`; the target column may be left out (it is
    not known in the future), in which case it reads as zeros. `freq`, the data's frequency, is
    taken as the file's instead of inferring one: one row per series (h = 1) has none to infer.
    """
    path = Path(path)
    records = _read_records(path)
    if len(records[0][1]) > 1 and target_col not in records[0][1]:
        records = [(line, [*cells, target_col if i == 0 else "0"]) for i, (line, cells) in enumerate(records)]
    layout = _find_layout(records[0], path, id_col, time_col, target_col, exog)
    if len(records) < 2:
        raise UsageError("the future values file has a header but no rows.", hint=_LAYOUT_HINT, path=path)
    return _build_frame(path, layout, records[1:], freq)


def _read_records(path: Path) -> list[tuple[int, list[str]]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound("the data file does not exist.", path=path,
                       hint="check the path (relative paths start from the current folder).") from None
    except IsADirectoryError:
        raise UsageError("the data path is a folder, not a CSV file.", path=path,
                         hint="name the CSV file inside it.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        start = error.start + 3 * data.startswith(codecs.BOM_UTF8)
        line = data.count(b"\n", 0, start) + 1
        raise UsageError(f"the data file is not UTF-8 text: the byte 0x{data[start]:02x} cannot be decoded.",
                         path=path, line=line,
                         hint="save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 FILE`).") from None
    return _parse_records(text, path)


def _parse_records(text: str, path: Path) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        records = [(reader.line_num, cells) for cells in map(_strip_cells, reader) if any(cells)]
    except csv.Error as error:
        line = reader.line_num
        raise UsageError(f"the data file is not valid CSV ({error}).", path=path, line=line) from None
    if not records:
        raise UsageError("the data file is empty.", hint=_LAYOUT_HINT, path=path)
    return records


def _strip_cells(row: list[str]) -> list[str]:
    return [c.strip() for c in row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _find_layout(
    first: tuple[int, list[str]], path: Path, id_col: str, time_col: str, target_col: str, wanted: Sequence[str] | None
) -> _Layout:
    line, header = first
    if len({id_col, time_col, target_col}) < 3:
        raise UsageError(f"the id, time and target columns must differ, but they are '{id_col}', '{time_col}' and "
                         f"'{target_col}'.", hint="name three different columns with --id-col, --time-col, --target-col.")
    if len(header) == 1:
        named = not _is_number(header[0])
        return _Layout(id_col, None, None, 0, header[0] if named else target_col, (), named, 1)
    _check_header(header, path, line)
    for column in (time_col, target_col):
        if column not in header:
            hint = f"{_LAYOUT_HINT} (found: {', '.join(header)}); name other columns with --id-col, --time-col, --target-col"
            raise UsageError(f"the data file has no column '{column}'.", hint=hint, path=path, line=line)
    roles = {time_col, target_col, id_col}
    extra = [(name, i) for i, name in enumerate(header) if name not in roles]
    exog = tuple((name, i) for name, i in extra if wanted is None or name in wanted)
    ignored = tuple(name for name, _ in extra if wanted is not None and name not in wanted)
    id_index = header.index(id_col) if id_col in header else None
    ds_index, y_index = header.index(time_col), header.index(target_col)
    return _Layout(id_col, id_index, ds_index, y_index, target_col, exog, True, len(header), ignored)


def _check_header(header: list[str], path: Path, line: int) -> None:
    for i, name in enumerate(header):
        if not name:
            message = f"column {i + 1} of the header has no name."
            raise UsageError(message, hint=_LAYOUT_HINT, path=path, line=line)
        if header.index(name) != i:
            message = f"the header repeats the column '{name}'."
            raise UsageError(message, hint=_LAYOUT_HINT, path=path, line=line)


def _build_frame(path: Path, layout: _Layout, body: list[tuple[int, list[str]]],
                 known: Frequency | None = None) -> SeriesFrame:
    _check_widths(path, layout, body)
    columns = list(zip(*(row for _, row in body)))
    ids = list(columns[layout.id_index]) if layout.id_index is not None else [DEFAULT_ID] * len(body)
    rows = _Rows(path, ids, np.array([line for line, _ in body]))
    _check_ids(rows)
    steps = np.arange(len(body))
    stamps = steps if layout.ds_index is None else _parse_ds(rows, columns[layout.ds_index])
    rename = f"rename it to '{layout.id_col}'" if layout.id_index is None and layout.exog else None
    target = _parse_floats(rows, columns[layout.y_index], layout.target, None)
    exog = {name: _parse_floats(rows, columns[i], name, rename) for name, i in layout.exog}
    groups, notices = _group_sorted(rows, stamps)
    freq = known if known is not None else _file_frequency(rows, stamps, groups)
    return SeriesFrame(
        ids=tuple(sid for sid, _ in groups),
        ds=tuple(stamps[idx] for _, idx in groups),
        y=tuple(target[idx] for _, idx in groups),
        freq=freq,
        exog={name: tuple(values[idx] for _, idx in groups) for name, values in exog.items()},
        notices=notices,
        source=str(path),
    )


def _check_widths(path: Path, layout: _Layout, body: list[tuple[int, list[str]]]) -> None:
    for line, row in body:
        if len(row) != layout.width:
            has_id = layout.id_index is not None and len(row) > layout.id_index
            sid = row[layout.id_index] if has_id else DEFAULT_ID  # type: ignore[index]
            raise UsageError(
                f"the row of series '{sid}' has {len(row)} fields but the header has {layout.width}.",
                hint=_LAYOUT_HINT,
                path=path,
                line=line,
            )


def _check_ids(rows: _Rows) -> None:
    if "" in rows.ids:
        index = rows.ids.index("")
        line = int(rows.lines[index])
        hint = "name every row's series"
        raise UsageError("the row has an empty unique_id.", hint=hint, path=rows.path, line=line)


def _parse_ds(rows: _Rows, cells: Sequence[str]) -> np.ndarray:
    try:
        return parse_timestamps(cells)
    except TimestampError as error:
        raise rows.error(error.index, error.detail, FORMATS_HINT) from None


def _parse_floats(rows: _Rows, cells: Sequence[str], column: str, rename: str | None) -> np.ndarray:
    """A numeric column as float64; `rename` hints at a series column under the wrong name."""
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        index = next((i for i, c in enumerate(cells) if not _is_number(c)), None)
        if index is None:
            return np.array([float(c) for c in cells], dtype=np.float64)
        raise rows.error(index, *_describe_bad(cells[index], column, rename)) from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise rows.error(int(bad[0]), *_describe_bad(cells[bad[0]], column, rename))
    return values


def _describe_bad(cell: str, column: str, rename: str | None) -> tuple[str, str]:
    """The detail and hint for a cell that is not a finite number."""
    if cell.lower() in _MISSING:
        return f"has a missing value in column '{column}'", _MISSING_HINT
    if _is_number(cell):
        return f"has an infinite value ('{cell}') in column '{column}'", "replace the infinite values"
    hint = f"column '{column}' must hold numbers" + (f"; if it names the series, {rename}" if rename else "")
    return f"has '{cell}' in column '{column}', which is not a number", hint


def _group_sorted(rows: _Rows, stamps: np.ndarray) -> tuple[list[tuple[str, np.ndarray]], tuple[str, ...]]:
    """Row indices per series (first-appearance order), sorted by time; duplicates raise."""
    uniq, first, inverse = np.unique(np.asarray(rows.ids), return_index=True, return_inverse=True)
    ordered = np.argsort(inverse, kind="stable")
    chunks = np.split(ordered, np.cumsum(np.bincount(inverse))[:-1])
    groups, unsorted = [], []
    for g in np.argsort(first):
        idx = chunks[g]
        backwards = np.diff(stamps[idx].view(np.int64)) < 0  # datetimes as their int64 count: no bare-int timedelta
        if backwards.any():
            unsorted.append((str(uniq[g]), int(rows.lines[idx[int(np.argmax(backwards)) + 1]])))
            idx = idx[np.argsort(stamps[idx], kind="stable")]
        _check_duplicates(rows, stamps, idx)
        groups.append((str(uniq[g]), idx))
    return groups, _sorted_notice(rows.path, unsorted)


def _check_duplicates(rows: _Rows, stamps: np.ndarray, idx: np.ndarray) -> None:
    same = np.flatnonzero(stamps[idx][1:] == stamps[idx][:-1])
    if same.size:
        first, again = idx[same[0]], idx[same[0] + 1]
        stamp = format_timestamps(stamps[again : again + 1])[0]
        detail = f"repeats the timestamp {stamp} (first on line {rows.lines[first]})"
        raise rows.error(int(again), detail, "keep one row per series and timestamp")


def _sorted_notice(path: Path, unsorted: list[tuple[str, int]]) -> tuple[str, ...]:
    if not unsorted:
        return ()
    sid, line = unsorted[0]
    more = f", and those of {len(unsorted) - 1} other series" if len(unsorted) > 1 else ""
    return (f"{path}: sorted the timestamps of series '{sid}' (line {line} was out of order){more}.",)


def _file_frequency(rows: _Rows, stamps: np.ndarray, groups: list[tuple[str, np.ndarray]]) -> Frequency:
    try:
        return infer_frequency([stamps[idx] for _, idx in groups])
    except FrequencyError as error:
        if error.series is None or error.position is None:
            raise UsageError(f"every series {error.detail}.", hint=_REGULAR_HINT, path=rows.path) from None
        index = int(groups[error.series][1][error.position])
        raise rows.error(index, error.detail, _REGULAR_HINT) from None
