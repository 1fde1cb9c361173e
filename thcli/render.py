"""Output: Rich tables for people, JSON and CSV for scripts and spreadsheets.

JSON follows the contract in CLI.md: ISO dates, money as integer pence in
``*_pence`` fields, codes as codes. CSV cells that a spreadsheet would run as a
formula are defused (:func:`safe_cell`). Tables show dates and money the UK way.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console, JustifyMethod
from rich.table import Table

from thcli import parse

#: stdout and stderr consoles; tests set THCLI_WIDTH / COLUMNS for a fixed width.
#: Markup is off: names, notes and addresses are printed as typed, even with
#: square brackets in them. Colour is given as rich Text objects, never as markup
#: in strings that could carry someone's data.
console = Console(highlight=False, soft_wrap=False, markup=False)
err_console = Console(stderr=True, highlight=False, markup=False)

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


#: Control characters (not tab or line breaks, which a quoted cell keeps) shown as \\xNN in CSV: an
#: escape sequence in a stored name must not reach the terminal or spreadsheet that opens the file.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def safe_cell(value: Any) -> Any:
    """A text cell that Excel would not run as a formula (prefixed with '), its control characters neutralised."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", value)
    if value.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def resolve_format(fmt: Any) -> str:
    """The format asked for, else table on a terminal and JSON in a pipe."""
    if fmt is not None:
        return getattr(fmt, "value", fmt)
    return "table" if sys.stdout.isatty() else "json"


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def print_json(data: Any) -> None:
    sys.stdout.write(to_json(data) + "\n")


def print_csv(rows: Iterable[dict], columns: Sequence[str]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(c)) for c in columns])


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return safe_cell(";".join(str(v) for v in value))
    return safe_cell(value)


@dataclass
class Column:
    key: str
    header: str
    #: the cell from the value and its row: text, or rich Text (a colour)
    show: Callable[[Any, dict], Any] | None = None
    justify: JustifyMethod = "left"
    style: str | None = None
    no_wrap: bool = False


def uk_date(value: Any, row: dict | None = None) -> str:
    return parse.format_date(value) if value else ""


def money(value: Any, row: dict | None = None) -> str:
    return parse.format_money(value) if value is not None else ""


def yes_no(value: Any, row: dict | None = None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def hours_text(hours_late: int) -> str:
    """How far a moment counted in hours is: ``in 31 hours``, ``5 hours late`` (in days from 72 hours on)."""
    late = hours_late >= 0
    hours = hours_late if late else -hours_late
    if late and hours == 0:
        return "less than an hour late"
    amount = f"{hours // 24} days" if hours >= 72 else f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{amount} late" if late else f"in {amount}"


def table(rows: Sequence[dict], columns: Sequence[Column], *, title: str | None = None,
          caption: str | None = None) -> Table:
    # A light frame: lists are read in narrow terminals, so the columns get the width.
    t = Table(title=title, caption=caption, header_style="bold", title_justify="left", box=box.SIMPLE_HEAD,
              caption_justify="left", show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for c in columns:
        t.add_column(c.header, justify=c.justify, style=c.style, overflow="fold", no_wrap=c.no_wrap)
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c.key)
            cells.append(c.show(value, row) if c.show else ("" if value is None else str(value)))
        t.add_row(*cells)
    return t


def emit(rows: Sequence[dict], fmt: Any, columns: Sequence[Column], *, csv_columns: Sequence[str] | None = None,
         title: str | None = None, caption: str | None = None, empty: str = "Nothing to show.") -> None:
    """Rows as a table, JSON array or CSV."""
    chosen = resolve_format(fmt)
    if chosen == "json":
        print_json(list(rows))
    elif chosen == "csv":
        print_csv(rows, csv_columns or [c.key for c in columns])
    elif not rows:
        console.print(empty)
    else:
        console.print(table(rows, columns, title=title, caption=caption))
