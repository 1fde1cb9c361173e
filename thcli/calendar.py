"""English working days: Monday to Friday, except bank holidays in England.

The bank holidays come from bank_holidays.py, a table generated from the
``holidays`` package (substitute days included: Boxing Day 2026 falls on a
Saturday, so Monday 28 December is off) for 1900 to 2100, the years a
coordinator can type. Past the table's end (a target counted from late 2100)
only weekends are off. Counting is arithmetic on whole weeks plus a sorted list
of the holidays that fall on weekdays, so working out the targets of 100,000
cases stays quick and no date is ever out of range.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools

from thcli import bank_holidays


@functools.cache
def _weekday_holidays() -> tuple[int, ...]:
    """Ordinals of the bank holidays in England that fall on weekdays, sorted (worked out once, about 1 ms)."""
    # Weekend holidays change nothing: the weekend is off anyway, and their substitute
    # days (Boxing Day 2026 -> Monday 28 December) are in the table in their own right.
    return tuple(sorted(d.toordinal() for d in bank_holidays.dates() if d.weekday() < 5))


def _weekdays_through(ordinal: int) -> int:
    """Monday-to-Friday days from ordinal 1 up to and including ``ordinal``."""
    # date.fromordinal(1) (1 January of year 1) is a Monday.
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * 5 + min(rest + 1, 5)


def _kth_weekday(k: int) -> int:
    """The ordinal of the k-th Monday-to-Friday day (k >= 1), the inverse of _weekdays_through."""
    weeks, rest = divmod(k - 1, 5)
    return weeks * 7 + rest + 1


def is_working_day(day: dt.date) -> bool:
    """True on Monday to Friday unless it is a bank holiday in England."""
    if day.weekday() >= 5:
        return False
    ordinals = _weekday_holidays()
    ordinal = day.toordinal()
    index = bisect.bisect_left(ordinals, ordinal)
    return not (index < len(ordinals) and ordinals[index] == ordinal)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start).

    ``working_days_between(d, add_working_days(d, n)) == n`` for a working day d.
    """
    if end <= start:
        return 0
    a, b = start.toordinal(), end.toordinal()
    ordinals = _weekday_holidays()
    holidays_between = bisect.bisect_right(ordinals, b) - bisect.bisect_right(ordinals, a)
    return _weekdays_through(b) - _weekdays_through(a) - holidays_between


# Cached: the demo asks about a million times, and every case's targets many more,
# for a few thousand different days; each answer never changes.
@functools.lru_cache(maxsize=1 << 16)
def add_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th working day after ``day``.

    With n = 0: ``day`` itself if it is a working day, else the next working day.
    From Friday 20 November 2026, n = 1 is Monday 23 November 2026.
    """
    if n < 0:
        raise ValueError("add_working_days counts forwards: n must not be negative")
    if n == 0:
        if is_working_day(day):
            return day
        n = 1  # the next working day after a day off is the first working day after it
    start = day.toordinal()
    ordinals = _weekday_holidays()
    # We want the first ordinal o after day with (weekdays - holidays) through o equal
    # to the count through day plus n. Guess the weekday count ignoring the holidays
    # not yet passed, then raise it by each holiday found on the way; the guess never
    # overshoots, and the loop ends after at most one round per holiday crossed.
    passed = bisect.bisect_right(ordinals, start)
    target = _weekdays_through(start) - passed + n  # working days through day, plus n
    while True:
        candidate = _kth_weekday(target + passed)
        now_passed = bisect.bisect_right(ordinals, candidate)
        if now_passed == passed:
            return dt.date.fromordinal(candidate)
        passed = now_passed


@functools.lru_cache(maxsize=1 << 16)  # as add_working_days
def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later (or earlier when negative), clamped to the month's end.

    31 August 2026 + 6 months is 28 February 2027; 31 August 2027 + 6 months is 29 February 2028.
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    following = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    last = (following - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def due_after(start: dt.date, amount: int, unit: str) -> dt.date:
    """The date on which a target of ``amount`` ``unit`` from ``start`` falls due.

    Units: ``working_days`` (bank holidays skipped), ``hours`` (the day on which
    that many hours from the start of ``start`` run out: 48 hours from a Friday is
    the Sunday, because a promise in hours runs over weekends and holidays),
    ``days`` (calendar days) and ``months`` (calendar months, clamped).
    """
    if unit == "working_days":
        return add_working_days(start, amount)
    if unit == "hours":
        return start + dt.timedelta(days=-(-amount // 24))  # ceil(amount / 24) in whole numbers
    if unit == "days":
        return start + dt.timedelta(days=amount)
    if unit == "months":
        return add_months(start, amount)
    # A unit comes from settings, which only store the four above: anything else is a bug.
    raise ValueError(f"unknown unit of time {unit!r}: use working_days, hours, days or months")


#: Working days are counted from here (the calendar's first year), so that the
#: days between two dates are a difference of two remembered counts.
_EPOCH = dt.date(1990, 1, 1)
_EPOCH_ISO = _EPOCH.isoformat()


class WorkingDays(dict):
    """Working days from _EPOCH up to each ISO date, worked out once per date."""

    def __missing__(self, iso: str) -> int:
        value = self[iso] = working_days_between(_EPOCH, dt.date.fromisoformat(iso))
        return value

    def between(self, start: str, end: str) -> int:
        """working_days_between for ISO dates."""
        if start < _EPOCH_ISO or end < _EPOCH_ISO:
            return working_days_between(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
        return max(0, self[end] - self[start])
