"""Tables in four formats: `--format table|tsv|md|json`, the same for every command that lists.

- `table`: on a terminal, aligned columns fitted to its width (a rich table where the command
  asks for one); anywhere else (a pipe, a file, CI) plain aligned columns that are never cut;
- `tsv`: a header and one line per row, tab-separated (tabs and newlines in cells become spaces);
  when a command prints several tables, each starts with `# title` and a blank line parts them;
- `md`: a GitHub markdown table per table, its title as a heading;
- `json`: the command's JSON document (as `--json`), which the command prints itself.

A command builds `Table`s (title, columns, rows of text) and calls `print_tables`. Control
characters and newlines in any cell are shown as escapes (`\x1b`, `\n`), so text from a
descriptor can neither drive the terminal nor forge a row, in any format.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from modreg.cli.console import State, escape_controls

__all__ = ["FormatOpt", "Table", "TableFormat", "cell", "print_tables", "table_of"]


class TableFormat(str, Enum):
    """How a command prints its table."""

    table = "table"
    tsv = "tsv"
    md = "md"
    json = "json"


FormatOpt = Annotated[
    Optional[TableFormat],
    typer.Option("--format", help="table (aligned; never cut when not on a terminal), tsv, md, or json (as --json).",
                 show_default=False),
]


@dataclass
class Table:
    """One table: an optional title and caption, column names, rows of cell texts."""

    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    title: str | None = None
    caption: str | None = None
    right: frozenset[str] = frozenset()  # columns aligned right (numbers)


def cell(value: Any) -> str:
    """A value as a cell's text: lists joined by ", ", floats to 4 significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table_of(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, title: str | None = None) -> Table:
    """A Table of dict rows, one column per key in `columns`."""
    return Table(list(columns), [[cell(row.get(column)) for column in columns] for row in rows], title)


def print_tables(state: State, tables: Sequence[Table], fmt: TableFormat | None, *, cut_last: bool = False) -> None:
    """Print `tables` on stdout as `fmt` says (default `table`); `cut_last` trims the last
    column to a terminal's width (never off a terminal)."""
    chosen = fmt or TableFormat.table
    blocks = []
    for table in map(_escaped, tables):
        if chosen is TableFormat.tsv:
            blocks.append(_tsv(table, titled=len(tables) > 1))
        elif chosen is TableFormat.md:
            blocks.append(_markdown(table))
        elif state.out.is_terminal and not cut_last:
            state.out.print(_rich(table))
        else:
            blocks.append(_columns(table, state.out.width - 1 if cut_last and state.out.is_terminal else None))
    if blocks:
        typer.echo("\n\n".join(blocks))  # as it is: rich would expand the tabs of tsv


def _escaped(table: Table) -> Table:
    def clean(text: str) -> str:
        return escape_controls(text, newlines=True)

    return Table([clean(c) for c in table.columns], [[clean(c) for c in row] for row in table.rows],
                 clean(table.title) if table.title else None, clean(table.caption) if table.caption else None,
                 frozenset(clean(c) for c in table.right))


def _tsv(table: Table, titled: bool) -> str:
    lines = [f"# {table.title}"] if titled and table.title else []
    lines += ["\t".join(table.columns), *("\t".join(_flat(c) for c in row) for row in table.rows)]
    return "\n".join(lines)


def _flat(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _markdown(table: Table) -> str:
    lines = [f"### {table.title}", ""] if table.title else []
    lines.append("| " + " | ".join(_md(c) or " " for c in table.columns) + " |")
    lines.append("|" + "|".join("---:" if c in table.right else "---" for c in table.columns) + "|")
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows]
    if table.caption:
        lines += ["", table.caption]
    return "\n".join(lines)


def _md(text: str) -> str:
    return _flat(text).replace("|", "\\|")


def _columns(table: Table, width: int | None) -> str:
    """Plain aligned columns; with `width`, the last column is cut to fit it (on a terminal)."""
    rows = [table.columns, *table.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(table.columns) - 1)]
    room = max(width - sum(widths) - 2 * len(widths), 20) if width else sys.maxsize

    def line(cells: Sequence[str]) -> str:
        last = cells[-1] if len(cells[-1]) <= room else cells[-1][: room - 1] + "…"
        padded = [c.rjust(w) if name in table.right else c.ljust(w) for c, w, name in zip(cells, widths, table.columns)]
        return "  ".join([*padded, last]).rstrip()

    lines = [table.title] if table.title else []
    lines += [line(row) for row in rows]
    if table.caption:
        lines.append(table.caption)
    return "\n".join(lines)


def _rich(table: Table) -> Any:
    from rich.table import Table as RichTable

    shown = RichTable(title=table.title, caption=table.caption, header_style="bold")
    for column in table.columns:
        shown.add_column(column, justify="right" if column in table.right else "left")
    for row in table.rows:
        shown.add_row(*row)
    return shown
