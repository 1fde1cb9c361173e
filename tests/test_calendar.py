"""English working days: bank holidays (substitute days included), counting and
adding working days, months and hours, checked against known dates and against
a plain day-by-day count."""

from __future__ import annotations

import datetime as dt
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thcli import bank_holidays, calendar

D = dt.date
ONE_DAY = dt.timedelta(days=1)


def weekday_holidays(year: int) -> list[dt.date]:
    """Monday-to-Friday days of ``year`` that are not working days."""
    day, found = D(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5 and not calendar.is_working_day(day):
            found.append(day)
        day += ONE_DAY
    return found


# The bank holidays in England as GOV.UK lists them, substitute days included.
@pytest.mark.parametrize("year,expected", [
    (2020, [D(2020, 1, 1), D(2020, 4, 10), D(2020, 4, 13), D(2020, 5, 8),     # May Day moved to VE Day
            D(2020, 5, 25), D(2020, 8, 31), D(2020, 12, 25), D(2020, 12, 28)]),
    (2022, [D(2022, 1, 3), D(2022, 4, 15), D(2022, 4, 18), D(2022, 5, 2),
            D(2022, 6, 2), D(2022, 6, 3),                                       # Platinum Jubilee
            D(2022, 8, 29), D(2022, 9, 19),                                     # the Queen's funeral
            D(2022, 12, 26), D(2022, 12, 27)]),
    (2023, [D(2023, 1, 2), D(2023, 4, 7), D(2023, 4, 10), D(2023, 5, 1),
            D(2023, 5, 8),                                                      # the Coronation
            D(2023, 5, 29), D(2023, 8, 28), D(2023, 12, 25), D(2023, 12, 26)]),
    (2026, [D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4), D(2026, 5, 25),
            D(2026, 8, 31), D(2026, 12, 25),
            D(2026, 12, 28)]),                                                  # Boxing Day is a Saturday
    (2027, [D(2027, 1, 1), D(2027, 3, 26), D(2027, 3, 29), D(2027, 5, 3), D(2027, 5, 31),
            D(2027, 8, 30),
            D(2027, 12, 27), D(2027, 12, 28)]),                                 # both Christmas days at a weekend
    (2028, [D(2028, 1, 3), D(2028, 4, 14), D(2028, 4, 17), D(2028, 5, 1), D(2028, 5, 29),
            D(2028, 8, 28), D(2028, 12, 25), D(2028, 12, 26)]),
])
def test_bank_holidays_of_a_year(year, expected):
    assert weekday_holidays(year) == expected


@pytest.mark.parametrize("day,working", [
    (D(2026, 4, 2), True),      # Maundy Thursday
    (D(2026, 4, 3), False),     # Good Friday 2026
    (D(2026, 4, 4), False),     # Easter Saturday
    (D(2026, 4, 5), False),     # Easter Sunday
    (D(2026, 4, 6), False),     # Easter Monday 2026
    (D(2026, 4, 7), True),
    (D(2026, 12, 24), True),
    (D(2026, 12, 25), False),   # Christmas Day, a Friday
    (D(2026, 12, 26), False),   # Boxing Day, a Saturday...
    (D(2026, 12, 28), False),   # ... so Monday 28 December is the substitute
    (D(2026, 12, 29), True),
    (D(2027, 3, 26), False),    # Good Friday 2027
    (D(2027, 3, 29), False),    # Easter Monday 2027
    (D(2027, 12, 24), True),
    (D(2027, 12, 27), False),   # substitute for Christmas Day, a Saturday
    (D(2027, 12, 28), False),   # substitute for Boxing Day, a Sunday
    (D(2027, 12, 29), True),
    (D(2026, 11, 20), True),    # a Friday
    (D(2026, 11, 21), False),   # a Saturday
    (D(2026, 11, 22), False),   # a Sunday
])
def test_is_working_day(day, working):
    assert calendar.is_working_day(day) is working


@pytest.mark.parametrize("start,n,expected", [
    (D(2026, 11, 20), 1, D(2026, 11, 23)),   # Friday to Monday
    (D(2026, 11, 20), 0, D(2026, 11, 20)),   # a working day itself
    (D(2026, 11, 21), 0, D(2026, 11, 23)),   # a Saturday: the next working day
    (D(2026, 11, 21), 1, D(2026, 11, 23)),
    (D(2026, 11, 21), 2, D(2026, 11, 24)),
    (D(2026, 11, 16), 5, D(2026, 11, 23)),
    (D(2026, 11, 16), 10, D(2026, 11, 30)),
    (D(2026, 4, 2), 1, D(2026, 4, 7)),       # over Good Friday, the weekend and Easter Monday
    (D(2026, 4, 2), 5, D(2026, 4, 13)),
    (D(2026, 4, 3), 0, D(2026, 4, 7)),       # Good Friday itself: the next working day
    (D(2026, 12, 24), 1, D(2026, 12, 29)),   # over Christmas, Boxing Day and its substitute
    (D(2026, 12, 24), 5, D(2027, 1, 5)),     # ... and New Year's Day
    (D(2026, 12, 25), 0, D(2026, 12, 29)),
    (D(2027, 12, 24), 1, D(2027, 12, 29)),   # two substitute days in 2027
    (D(2027, 12, 23), 2, D(2027, 12, 29)),
    (D(2026, 1, 1), 253, D(2026, 12, 31)),   # 253 working days in 2026 (261 weekdays, 8 holidays)
    (D(2026, 1, 1), 254, D(2027, 1, 4)),     # ... then over New Year's Day 2027 and a weekend
])
def test_add_working_days(start, n, expected):
    assert calendar.add_working_days(start, n) == expected


def test_add_working_days_refuses_to_count_backwards():
    with pytest.raises(ValueError):
        calendar.add_working_days(D(2026, 11, 20), -1)


@pytest.mark.parametrize("start,end,count", [
    (D(2026, 11, 20), D(2026, 11, 23), 1),
    (D(2026, 11, 20), D(2026, 11, 22), 0),   # only the weekend
    (D(2026, 11, 20), D(2026, 11, 20), 0),
    (D(2026, 11, 23), D(2026, 11, 20), 0),   # end before start
    (D(2026, 4, 2), D(2026, 4, 7), 1),
    (D(2026, 12, 24), D(2027, 1, 5), 5),
    (D(2027, 12, 24), D(2027, 12, 29), 1),
    (D(2025, 12, 31), D(2026, 12, 31), 253),  # every working day of 2026
    (D(2026, 12, 31), D(2027, 12, 31), 253),  # ... and of 2027
])
def test_working_days_between(start, end, count):
    assert calendar.working_days_between(start, end) == count


def test_dates_far_from_today_still_count():
    # Any year a coordinator can type (1900 to 2100) has its bank holidays; no error.
    assert calendar.is_working_day(D(1910, 12, 26)) is False
    assert calendar.is_working_day(D(2099, 12, 25)) is False
    assert calendar.add_working_days(D(2099, 12, 24), 1) == D(2099, 12, 29)   # Boxing Day substitute
    assert calendar.working_days_between(D(1989, 12, 29), D(1990, 1, 2)) == 1
    # Past the table (a target counted from late 2100) only weekends are off: no error either.
    assert calendar.add_working_days(D(2100, 12, 31), 20).year == 2101


def test_the_bank_holiday_table_is_what_the_holidays_package_gives():
    # The table stands in for the package at run time (importing it costs ~140 ms a
    # command); a newer package that knows of a new one-off holiday fails here until
    # the table is regenerated with `python -m thcli.bank_holidays`.
    pytest.importorskip("holidays")
    expected = bank_holidays.from_package()
    assert list(bank_holidays.TABLE) == list(range(1900, 2101))
    differing = {year: (bank_holidays.TABLE[year], days) for year, days in expected.items()
                 if bank_holidays.TABLE[year] != days}
    assert differing == {}


def test_working_days_do_not_load_the_holidays_package():
    import subprocess
    import sys

    code = ("import sys, datetime; from thcli import calendar; "
            "calendar.add_working_days(datetime.date(2026, 12, 24), 5); "
            "print('holidays' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- properties, and a day-by-day count to check the arithmetic against -----------------------------


def walk_add(day: dt.date, n: int) -> dt.date:
    if n == 0:
        while not calendar.is_working_day(day):
            day += ONE_DAY
        return day
    counted = 0
    while counted < n:
        day += ONE_DAY
        counted += calendar.is_working_day(day)
    return day


def walk_between(start: dt.date, end: dt.date) -> int:
    count = 0
    while start < end:
        start += ONE_DAY
        count += calendar.is_working_day(start)
    return count


DAYS = st.dates(min_value=D(2000, 1, 1), max_value=D(2060, 12, 31))


@settings(max_examples=300)
@given(DAYS, st.integers(min_value=0, max_value=300))
def test_adding_then_counting_gives_n_back(day, n):
    working = calendar.add_working_days(day, 0)   # a working day to start from
    result = calendar.add_working_days(working, n)
    assert calendar.working_days_between(working, result) == n
    assert calendar.is_working_day(result)
    if n >= 1:
        assert result > working
        # ... and it is the first such day: the day before is one working day short.
        assert calendar.working_days_between(working, result - ONE_DAY) == n - 1


@settings(max_examples=300)
@given(DAYS, st.integers(min_value=0, max_value=60))
def test_add_working_days_agrees_with_a_day_by_day_walk(day, n):
    result = calendar.add_working_days(day, n)
    assert calendar.is_working_day(result)
    assert result == walk_add(day, n)


@settings(max_examples=200)
@given(DAYS, st.integers(min_value=-5, max_value=60))
def test_counting_agrees_with_a_day_by_day_walk(day, span):
    end = day + dt.timedelta(days=span)
    assert calendar.working_days_between(day, end) == walk_between(day, end)


@settings(max_examples=200)
@given(DAYS, st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=400))
def test_counting_adds_up_over_consecutive_spans(day, first, second):
    middle = day + dt.timedelta(days=first)
    end = middle + dt.timedelta(days=second)
    assert calendar.working_days_between(day, middle) + calendar.working_days_between(middle, end) == \
        calendar.working_days_between(day, end)


def test_a_hundred_thousand_targets_are_quick():
    rng = random.Random(7)
    starts = [D(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 730)) for _ in range(100_000)]
    spans = [rng.randint(0, 60) for _ in range(100_000)]
    calendar.is_working_day(starts[0])   # the holidays are worked out once, outside the timing
    began = time.perf_counter()
    for start, span in zip(starts, spans, strict=True):
        calendar.working_days_between(start, start + dt.timedelta(days=span))
    counted = time.perf_counter() - began
    began = time.perf_counter()
    for start, span in zip(starts, spans, strict=True):
        calendar.add_working_days(start, span)
    added = time.perf_counter() - began
    # About 0.35 s each on a laptop; the bound leaves room for a slow CI machine.
    assert counted < 2.5 and added < 2.5, (counted, added)


# --- months and hours ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start,months,expected", [
    (D(2026, 8, 31), 6, D(2027, 2, 28)),
    (D(2027, 8, 31), 6, D(2028, 2, 29)),
    (D(2026, 1, 31), 1, D(2026, 2, 28)),
    (D(2026, 3, 31), 1, D(2026, 4, 30)),
    (D(2026, 11, 20), 3, D(2027, 2, 20)),
    (D(2026, 11, 20), 12, D(2027, 11, 20)),
    (D(2026, 12, 15), 1, D(2027, 1, 15)),
    (D(2026, 11, 20), 0, D(2026, 11, 20)),
    (D(2026, 3, 31), -1, D(2026, 2, 28)),
    (D(2027, 1, 15), -1, D(2026, 12, 15)),
])
def test_add_months(start, months, expected):
    assert calendar.add_months(start, months) == expected


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31)), st.integers(min_value=-120, max_value=120))
def test_add_months_lands_in_the_right_month(day, months):
    result = calendar.add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result.day < day.day and (result + ONE_DAY).day == 1)


@pytest.mark.parametrize("start,amount,unit,expected", [
    (D(2026, 11, 20), 1, "working_days", D(2026, 11, 23)),
    (D(2026, 12, 24), 5, "working_days", D(2027, 1, 5)),
    (D(2026, 11, 20), 48, "hours", D(2026, 11, 22)),   # Friday + 48 hours: Sunday
    (D(2026, 11, 20), 24, "hours", D(2026, 11, 21)),
    (D(2026, 11, 20), 25, "hours", D(2026, 11, 22)),   # part of a day counts as the day
    (D(2026, 11, 20), 0, "hours", D(2026, 11, 20)),
    (D(2026, 12, 24), 48, "hours", D(2026, 12, 26)),   # hours run over holidays
    (D(2026, 12, 24), 1, "days", D(2026, 12, 25)),
    (D(2026, 11, 20), 14, "days", D(2026, 12, 4)),
    (D(2026, 8, 31), 6, "months", D(2027, 2, 28)),
])
def test_due_after(start, amount, unit, expected):
    assert calendar.due_after(start, amount, unit) == expected


def test_due_after_an_unknown_unit_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown unit of time 'weeks'"):
        calendar.due_after(D(2026, 11, 20), 2, "weeks")
