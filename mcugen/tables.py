"""Printing rich tables without cutting a value.

A rich table narrower than its content shrinks its columns: numbers become
"2,097,1…" and names fold mid-word, which is useless in a CI log or a pipe (80
columns, no TTY). `print_table` renders the table at the console's width first
and checks that every word of every cell (and of the headers) came out whole; when
one did not, it prints the rows vertically instead, one "header: value" line per
cell, which never needs more width than its longest word.
"""

from __future__ import annotations

import io

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text


def _plain(cell: RenderableType) -> str:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return ""  # other renderables: nothing to check


def cells(table: Table) -> list[list[str]]:
    """The plain text of every row of `table` (markup removed), in column order."""
    columns = [list(col.cells) for col in table.columns]
    rows = max((len(c) for c in columns), default=0)
    return [[_plain(c[r]) if r < len(c) else "" for c in columns] for r in range(rows)]


def _render(table: Table, width: int) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, highlight=False, emoji=False,
            legacy_windows=False).print(table)
    return buffer.getvalue()


def fits_whole(table: Table, width: int) -> bool:
    """True when `table` printed at `width` columns shows every word of its cells and headers whole."""
    text = _render(table, width)
    lines = text.splitlines()
    rows = cells(table)
    words = {w for row in rows for cell in row for w in cell.split()}
    words |= {w for col in table.columns for w in _plain(col.header).split()}
    # rich marks a cut cell with an ellipsis: more of them than the cells hold means a cut
    own = sum(cell.count("…") for row in rows for cell in row) + _plain(table.title or "").count("…")
    return text.count("…") <= own and all(any(w in line for line in lines) for w in words)


def print_vertical(console: Console, table: Table) -> None:
    """Each row as a block of "header: value" lines, the first column as the block's heading."""
    title = _plain(table.title) if table.title else ""
    if title:
        console.print(Text(title, style="italic"))
    headers = [_plain(col.header) for col in table.columns]
    for n, row in enumerate(cells(table)):
        if n:
            console.print()
        first = True
        for header, value in zip(headers, row):
            if not value:
                continue
            if first and not header:  # an unnamed first column names the row
                console.print(Text(value, style="bold"))
            else:
                console.print(Text(f"  {header or '-'}: {value}" if header else f"  {value}"))
            first = False


def print_table(console: Console, table: Table) -> None:
    """`table` as a table when it fits the console whole, else vertically (see the module doc)."""
    if fits_whole(table, console.width):
        console.print(table)
    else:
        print_vertical(console, table)
