"""English working days: Monday to Friday, except bank holidays in England.

The bank holidays come from the ``holidays`` package (offline), substitute days
included (Boxing Day 2026 falls on a Saturday, so Monday 28 December is off).
Counting is arithmetic on whole weeks plus a sorted list of holidays, so that
working out the targets of 100,000 cases stays quick.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools

FIRST_YEAR = 2000
LAST_YEAR = 2060


@functools.lru_cache(maxsize=1)
def _bank_holidays() -> tuple[tuple[int, ...], frozenset[int]]:
    """Weekday bank holidays as sorted ordinals (and a set for lookups)."""
    import holidays

    days = holidays.country_holidays("GB", subdiv="ENG", years=range(FIRST_YEAR, LAST_YEAR + 1))
    ordinals = sorted(d.toordinal() for d in days if d.weekday() < 5)
    return tuple(ordinals), frozenset(ordinals)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day.toordinal() not in _bank_holidays()[1]


def _weekdays_through(ordinal: int) -> int:
    """Monday-to-Friday days from an epoch up to and including ``ordinal``."""
    # date.fromordinal(1) is a Monday.
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * 5 + min(rest + 1, 5)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    a, b = start.toordinal(), end.toordinal()
    weekdays = _weekdays_through(b) - _weekdays_through(a)
    ordinals = _bank_holidays()[0]
    holidays_between = bisect.bisect_right(ordinals, b) - bisect.bisect_right(ordinals, a)
    return weekdays - holidays_between


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th working day after ``day`` (n = 0: ``day`` itself if working, else the next)."""
    if n < 0:
        raise ValueError("n must not be negative")
    current = day
    if n == 0:
        while not is_working_day(current):
            current += dt.timedelta(days=1)
        return current
    # Jump close with whole weeks, then step: holidays only ever push the date later.
    current += dt.timedelta(days=(n // 5) * 7)
    counted = working_days_between(day, current)
    while counted < n:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            counted += 1
    while counted > n or not is_working_day(current):  # pragma: no cover - overshoot guard
        current -= dt.timedelta(days=1)
        counted = working_days_between(day, current)
    return current


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later, clamped to the month's end (31 August + 6 months = 28/29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = (following - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def due_after(start: dt.date, amount: int, unit: str) -> dt.date:
    """When a target of ``amount`` ``unit`` from ``start`` falls due."""
    if unit == "working_days":
        return add_working_days(start, amount)
    if unit == "hours":
        return start + dt.timedelta(days=-(-amount // 24))
    if unit == "days":
        return start + dt.timedelta(days=amount)
    if unit == "months":
        return add_months(start, amount)
    raise ValueError(f"unknown unit {unit!r}")
