"""Output: Rich tables for people, JSON and CSV for scripts and spreadsheets.

JSON follows the contract in CLI.md: ISO dates, money as integer pence in
``*_pence`` fields, codes as codes. CSV cells that a spreadsheet would run as a
formula are defused (:func:`safe_cell`). Tables show dates and money the UK way.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, JustifyMethod, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from thcli import dates, parse

#: stdout and stderr consoles; tests set COLUMNS for a fixed width (see output_width).
#: Markup is off: names, notes and addresses are printed as typed, even with
#: square brackets in them. Colour is given as rich Text objects, never as markup
#: in strings that could carry someone's data.
console = Console(highlight=False, soft_wrap=False, markup=False)
err_console = Console(stderr=True, highlight=False, markup=False)
# Rich fixes a console's width from COLUMNS when it is made; thcli reads COLUMNS (or the terminal) at each
# print instead (output_width), so that a long-lived process, the tests among them, follows it.
console._width = err_console._width = None

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


def uk_date(value: Any, row: dict | None = None) -> str:
    return dates.format_date(value) if value else ""


def money(value: Any, row: dict | None = None) -> str:
    return parse.format_money(value) if value is not None else ""


def yes_no(value: Any, row: dict | None = None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


@dataclass
class Column:
    """One column of a table: where its value comes from, and how it may be fitted to the width.

    ``kind`` says what the column holds. A code, a reference, a date, an
    amount or a number (``WHOLE``) is never cut or wrapped: the column keeps
    the width of its widest value (only its heading may wrap, at a space).
    Free text wraps at spaces (``"text"``) or is kept to one line and
    shortened with an ellipsis (``"line"``), and gives up width first. Left
    as None, the kind is read from ``show`` (money, uk_date, yes_no) and the
    key (``*_pence`` money, ``*_on`` a date, ``ref`` a reference), else text.

    ``drop`` says which columns go when even the narrowest layout does not
    fit: 1 goes first, then 2, and so on; 0 never goes. Left as None, the
    first column never goes and the others go after every numbered one,
    from the right. (A column that went may come back when a wider one went
    after it and made room.) A table says which it left out
    (:func:`left_out_note`).
    """

    key: str
    header: str
    #: the cell from the value and its row: text, or rich Text (a colour)
    show: Callable[[Any, dict], Any] | None = None
    justify: JustifyMethod | None = None
    style: str | None = None
    kind: str | None = None
    drop: int | None = None
    #: how the note of left-out columns names it (default: the header)
    name: str | None = None
    #: free text: the narrowest it is squeezed to (default TEXT_MIN)
    min_width: int | None = None
    #: the older way to say "never wrap this": a column given it and no kind is kept whole
    no_wrap: bool = False

    def __post_init__(self) -> None:
        if self.kind is None:
            self.kind = "whole" if self.no_wrap and _kind_of(self) == "text" else _kind_of(self)
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.justify is None:
            self.justify = "right" if self.kind in ("money", "number") else "left"

    @property
    def whole(self) -> bool:
        return self.kind in WHOLE

    def cell(self, row: dict) -> Any:
        value = row.get(self.key)
        return self.show(value, row) if self.show else ("" if value is None else str(value))


#: Kinds whose values are never cut or wrapped.
WHOLE = ("code", "ref", "date", "money", "number", "whole")
#: Free text: wraps at spaces, or kept to one line and shortened.
KINDS = (*WHOLE, "text", "line")
#: Free text is not squeezed below this (unless its widest value is narrower)...
TEXT_MIN = 10
#: ...nor below its longest word, up to this many characters (a longer word is broken).
WORD_MAX = 20
#: Between two columns: a space of padding and the (blank) divider.
GAP = 2


def _kind_of(column: Column) -> str:
    show = column.show
    if show is money or column.key.endswith("_pence"):
        return "money"
    if show is uk_date or column.key.endswith(("_on", "_date")):
        return "date"
    if show is yes_no:
        return "code"
    if column.key == "ref":
        return "ref"
    return "text"


def output_width() -> int:
    """The width tables are laid out for: the terminal's; in a pipe, ``COLUMNS`` or 80."""
    if console.is_terminal:
        return console.width
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isascii() and columns.isdigit() and int(columns) > 0 else 80


def _lines(cell: Any) -> list[str]:
    if isinstance(cell, Text):
        return cell.plain.split("\n")
    if isinstance(cell, str):
        return cell.split("\n")
    return [" " * Measurement.get(console, console.options, cell).maximum]


def _widest(lines: Iterable[str]) -> int:
    return max((cell_len(line) for line in lines), default=0)


def _longest_word(lines: Iterable[str]) -> int:
    return max((cell_len(word) for line in lines for word in line.split()), default=0)


@dataclass
class Fit:
    """How a table was fitted: the columns shown with their widths, and the ones left out."""

    shown: list[int]
    widths: list[int]
    left_out: list[str]

    @property
    def total(self) -> int:
        return sum(self.widths) + GAP * max(len(self.widths) - 1, 0)


def fit(columns: Sequence[Column], cells: Sequence[Sequence[Any]], width: int) -> Fit:
    """Choose the columns and their widths so that the table is at most ``width`` wide if it can be.

    Whole columns keep their widest value; free text shrinks to TEXT_MIN (or
    its widest word, if shorter) first; then columns are dropped in their
    ``drop`` order until the narrowest layout fits. What is left shares the
    width: every column grows towards its natural width, the narrow ones
    reaching it first. When even the columns that are never dropped cannot
    fit, they are laid out at their narrowest and the line is longer than
    ``width`` (the terminal wraps it): nothing is ever cut.
    """
    natural, narrowest = [], []
    for index, column in enumerate(columns):
        lines = [line for row in cells for line in _lines(row[index])]
        heading = column.header.split("\n")
        content = _widest(lines)
        natural.append(max(content, _widest(heading)))
        if column.whole:
            narrowest.append(max(content, _longest_word(heading)))
        else:
            # Not below its longest word (up to WORD_MAX), so that words break only when they must.
            floor = column.min_width or TEXT_MIN
            if column.kind == "text":
                floor = max(floor, min(_longest_word(lines), WORD_MAX))
            narrowest.append(max(_longest_word(heading), min(content, floor)))
    order = _drop_order(columns)
    shown = list(range(len(columns)))

    def needed(chosen: list[int], sizes: Sequence[int]) -> int:
        return sum(sizes[i] for i in chosen) + GAP * max(len(chosen) - 1, 0)

    dropped = []
    for index in order:
        if needed(shown, narrowest) <= width:
            break
        shown.remove(index)
        dropped.append(index)
    for index in reversed(dropped):  # a column that went before a wider one may fit again now
        if needed(sorted([*shown, index]), narrowest) <= width:
            shown = sorted([*shown, index])
            dropped.remove(index)
    room = width - GAP * max(len(shown) - 1, 0)
    if needed(shown, natural) <= width:
        widths = [natural[i] for i in shown]
    elif needed(shown, narrowest) >= width:
        widths = [narrowest[i] for i in shown]
    else:
        # The highest level such that every column at min(natural, max(narrowest, level)) fits the room.
        level = 0
        while sum(min(natural[i], max(narrowest[i], level + 1)) for i in shown) <= room:
            level += 1
        widths = [min(natural[i], max(narrowest[i], level)) for i in shown]
        spare = room - sum(widths)
        for position, i in enumerate(shown):  # what is left over, to the first columns still short of natural
            if spare and widths[position] < natural[i]:
                widths[position] += 1
                spare -= 1
    left_out = [columns[i].name or columns[i].header for i in sorted(dropped)]
    return Fit(shown, widths, left_out)


def _drop_order(columns: Sequence[Column]) -> list[int]:
    """The columns in the order they are dropped: by their number, then those without one from the right."""
    numbered = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop)
    unnumbered = [i for i in reversed(range(len(columns))) if columns[i].drop is None and i > 0]
    return [i for _, i in numbered] + unnumbered


@dataclass
class Laid:
    """A table fitted to a width, with its title and caption as lines of their own (see :func:`table`)."""

    table: Table
    left_out: list[str]
    title: str | None = None
    caption: str | None = None

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = max(self.table.width or 0, cell_len(self.title or ""), cell_len(self.caption or ""))
        return Measurement(width, width).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.title:
            yield Text(self.title, style="table.title")
        yield self.table
        if self.caption:
            yield Text(self.caption, style="table.caption")


def hours_text(hours_late: int) -> str:
    """How far a moment counted in hours is: ``in 31 hours``, ``5 hours late`` (in days from 72 hours on)."""
    late = hours_late >= 0
    hours = hours_late if late else -hours_late
    if late and hours == 0:
        return "less than an hour late"
    amount = f"{hours // 24} days" if hours >= 72 else f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{amount} late" if late else f"in {amount}"


def table(rows: Sequence[dict], columns: Sequence[Column], *, title: str | None = None,
          caption: str | None = None, width: int | None = None,
          row_style: Callable[[dict], str | None] | None = None) -> Laid:
    """Rows as a table fitted to ``width`` (default :func:`output_width`): see :class:`Column` and :func:`fit`."""
    cells = [[c.cell(row) for c in columns] for row in rows]
    chosen = fit(columns, cells, output_width() if width is None else width)
    # A light frame: lists are read in narrow terminals, so the columns get the width.
    t = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
              width=chosen.total)
    for index, size in zip(chosen.shown, chosen.widths, strict=True):
        c = columns[index]
        t.add_column(c.header, justify=c.justify or "left", style=c.style, width=size,
                     overflow="ellipsis" if c.kind == "line" else "fold",
                     no_wrap=c.kind == "line")
    for row, row_cells in zip(rows, cells, strict=True):
        t.add_row(*[row_cells[i] for i in chosen.shown], style=row_style(row) if row_style else None)
    return Laid(t, chosen.left_out, title, caption)


def left_out_note(left_out: Sequence[str], width: int | None = None) -> str | None:
    """The last line under a table that had to leave columns out, or None."""
    if not left_out:
        return None
    names = ", ".join(name for name in dict.fromkeys(left_out))
    return (f"Left out to fit {output_width() if width is None else width} columns: {names} "
            "(--format json or a wider window shows them).")


def show(*renderables: Any, left_out: Sequence[str] = ()) -> None:
    """Print to stdout at :func:`output_width`, then the note of any columns left out."""
    width = output_width()
    for renderable in renderables:
        # Not cropped: a table whose unbreakable columns are wider than the window is wrapped by the
        # terminal, never cut.
        console.print(renderable, width=width, crop=False)
    note = left_out_note(left_out, width)
    if note:
        console.print(textwrap.fill(note, width), soft_wrap=True)


def print_table(rows: Sequence[dict], columns: Sequence[Column], *, title: str | None = None,
                caption: str | None = None, row_style: Callable[[dict], str | None] | None = None) -> None:
    laid = table(rows, columns, title=title, caption=caption, row_style=row_style)
    show(laid, left_out=laid.left_out)


def emit(rows: Sequence[dict], fmt: Any, columns: Sequence[Column], *, csv_columns: Sequence[str] | None = None,
         title: str | None = None, caption: str | None = None, empty: str = "Nothing to show.",
         row_style: Callable[[dict], str | None] | None = None) -> None:
    """Rows as a table, JSON array or CSV."""
    chosen = resolve_format(fmt)
    if chosen == "json":
        print_json(list(rows))
    elif chosen == "csv":
        print_csv(rows, csv_columns or [c.key for c in columns])
    elif not rows:
        console.print(empty, soft_wrap=True)
    else:
        print_table(rows, columns, title=title, caption=caption, row_style=row_style)
