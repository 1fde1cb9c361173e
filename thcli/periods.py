"""Periods: the days an export or a report covers, as a coordinator chooses them.

``--year 2026/27`` (a financial year, April to March), ``--quarter 2026Q3``
(a calendar quarter) or ``--from`` and ``--to`` (any days, both included).
The county export and the operational report both read their figures over a
:class:`Period`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from thcli import calendar, clock, dates
from thcli.errors import BadInput


@dataclass(frozen=True)
class Period:
    """The days an export or report covers, both ends included."""

    label: str
    start: dt.date
    end: dt.date

    def describe(self) -> str:
        """``2026/27 (01/04/2026 to 31/03/2027)``."""
        return f"{self.label} ({dates.format_date(self.start)} to {dates.format_date(self.end)})"

    def months(self) -> list[str]:
        """Every month the period touches, as ``YYYY-MM``."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(f"{day.year:04d}-{day.month:02d}")
            day = calendar.add_months(day, 1)
        return months

    def params(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


PERIOD_HINT = "--year 2026/27, --quarter 2026Q3, or --from 2026-04-01 --to 2026-06-30"


def period(*, start: dt.date | None = None, end: dt.date | None = None, quarter: str | None = None,
           year: str | None = None, today: dt.date | None = None, required: bool = True) -> Period:
    """The period chosen by ``--from/--to``, ``--quarter`` or ``--year`` (exactly one of them).

    Without any: BadInput when ``required``, else the current financial year.
    A quarter is a calendar quarter (``2026Q3``: July to September), a year a
    financial year (``2026/27``: April to March).
    """
    given = [name for name, value in (("--from/--to", start or end), ("--quarter", quarter), ("--year", year))
             if value]
    if len(given) > 1:
        raise BadInput(f"give one period, not {' and '.join(given)}: {PERIOD_HINT}")
    if quarter:
        try:
            first, last = dates.quarter(quarter)
        except BadInput as error:
            raise error.for_option("--quarter") from None
        return Period(f"{first.year}Q{(first.month + 2) // 3}", first, last)
    if year:
        try:
            label, first, last = dates.financial_year(year)
        except BadInput as error:
            raise error.for_option("--year") from None
        return Period(label, first, last)
    if end is not None and start is None:
        raise BadInput(f"the period needs its first day too, e.g. --from 2026-04-01 --to {end.isoformat()}", "--from")
    if start is not None and end is None:
        raise BadInput(f"the period needs its last day too, e.g. --from {start.isoformat()} --to 2026-06-30", "--to")
    if start is not None and end is not None:
        if end < start:
            raise BadInput(f"the period ends ({dates.format_date(end)}) before it starts "
                           f"({dates.format_date(start)}): swap --from and --to", "--to")
        return Period(f"{start.isoformat()}/{end.isoformat()}", start, end)
    if required:
        raise BadInput(f"say which period to export: {PERIOD_HINT}")
    label, first, last = dates.financial_year(dates.financial_year_of(today or clock.today()))
    return Period(label, first, last)
