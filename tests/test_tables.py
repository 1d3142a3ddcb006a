"""Tables that never cut a value: the table when it fits whole, else one "header: value" line per cell."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from mcugen.tables import cells, fits_whole, print_table


def _regions() -> Table:
    t = Table(title="Per memory region")
    for col in ("region", "base", "size", "used", "free", "contents"):
        t.add_column(col, justify="right")
    t.add_row("flash", "0x08000000", "2,097,152", "294,444", "1,802,708", "code 23,052, weights 271,392")
    t.add_row("axisram", "0x24000000", "524,288", "37,328", "486,960", "[green]arena[/green] 37,328")
    return t


def _printed(table: Table, width: int) -> str:
    out = io.StringIO()
    print_table(Console(file=out, width=width, color_system=None), table)
    return out.getvalue()


def test_a_table_that_fits_prints_as_a_table():
    assert fits_whole(_regions(), 120)
    text = _printed(_regions(), 120)
    assert "┏" in text and "region" in text and "2,097,152" in text


def test_a_narrow_console_gets_every_value_whole_vertically():
    assert not fits_whole(_regions(), 60)  # rich would print "0x0800…" or fold the numbers
    text = _printed(_regions(), 60)
    lines = text.splitlines()
    for row in cells(_regions()):
        for value in row:
            assert any(value in line for line in lines), value
    assert "…" not in text and "base: 0x24000000" in text and max(map(len, lines)) <= 60


def test_markup_is_read_as_text_when_checking():
    assert cells(_regions())[1][5] == "arena 37,328"
