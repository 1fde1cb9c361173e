"""Dates, times and periods as coordinators type them and read them: UK day-first dates
(``22/11/2026``, ``22 November 2026``) and ISO ones, times of day, the moment a referral came
in, financial years and quarters, and the county's age bands.

Like parse.py, every parser takes text and returns a clean value or raises BadInput with a
one-line message that quotes the value and says the accepted forms.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from thcli import clock
from thcli.errors import BadInput
from thcli.parse import shown as _show

_DATE_FORMS = "use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"


_ISO = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
# The year may be any length here so that "22/11/26" gets its own message.
_UK = re.compile(r"(?P<day>[0-9]{1,2})/(?P<month>[0-9]{1,2})/(?P<year>[0-9]{1,8})")
# The long UK form, as on letters: 22 November 2026, 1 Apr 2026, 3 Sept 2026.
_LONG = re.compile(r"(?P<day>[0-9]{1,2})\s+(?P<month>[A-Za-z]+)\.?,?\s+(?P<year>[0-9]{1,8})")
FIRST_YEAR = 1900
LAST_YEAR = 2100


def _real(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def date(text: str, *, today: dt.date | None = None) -> dt.date:
    """A date: ISO ``2026-11-22``, UK ``22/11/2026`` or ``1/4/2026``, or ``today``/``yesterday``.

    The UK form is always day first: ``11/22/2026`` is refused as US order, and
    ``03/04/2026`` is 3 April. ``today`` is the ``today`` argument, or the
    system date when it is not given. Years are 1900 to 2100, written in full.
    """
    value = str(text).strip()
    if len(value) > 40:
        raise BadInput(f"{_show(text)} is not a date: {_DATE_FORMS}")
    word = value.lower()
    if word in ("today", "yesterday"):
        base = today or dt.date.today()
        return base if word == "today" else base - dt.timedelta(days=1)
    match = _ISO.fullmatch(value) or _UK.fullmatch(value) or _LONG.fullmatch(value)
    if not match:
        raise BadInput(f"{_show(text)} is not a date: {_DATE_FORMS}")
    if len(match.group("year")) != 4:
        raise BadInput(f"{_show(text)}: write the year in full with four digits, e.g. 22/11/2026")
    if match.re is _LONG:
        month_number = _month_number(match.group("month"))
        if month_number is None:
            raise BadInput(f"{_show(text)}: {match.group('month')!r} is not a month: write it like 22 November 2026")
        year, month, day = int(match.group("year")), month_number, int(match.group("day"))
    else:
        year, month, day = (int(match.group(part)) for part in ("year", "month", "day"))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadInput(f"{_show(text)}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    found = _real(year, month, day)
    if found is None:
        # 11/22/2026 cannot be day first, but is a real date month first: say so,
        # rather than only "not a real date", so that the fix is obvious.
        if match.re is _UK and month > 12 and _real(year, day, month):
            raise BadInput(
                f"{_show(text)} looks like US order (month first): write {month:02d}/{day:02d}/{year}"
            )
        raise BadInput(f"{_show(text)} is not a real date: {_DATE_FORMS}")
    return found


_TIME = re.compile(r"(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2}))?\s*(?P<half>am|pm|a\.m\.|p\.m\.)?",
                   re.IGNORECASE)
_TIME_FORMS = "use the 24-hour clock, e.g. 16:30 (or 4:30pm)"


def time_of_day(text: str) -> dt.time:
    """A time of day: ``16:30``, ``9:05``, ``16.30``, ``4:30pm``, ``4pm`` (to the minute)."""
    value = str(text).strip()
    match = _TIME.fullmatch(value) if len(value) <= 12 else None
    if not match or (match.group("minute") is None and match.group("half") is None):
        raise BadInput(f"{_show(text)} is not a time: {_TIME_FORMS}")
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    half = (match.group("half") or "").lower().replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            raise BadInput(f"{_show(text)} is not a time: with am or pm the hour is 1 to 12")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise BadInput(f"{_show(text)} is not a time: {_TIME_FORMS}")
    return dt.time(hour, minute)


@dataclass(frozen=True)
class Moment:
    """A date with the time of day when it is known (``--received "01/12/2026 16:30"``)."""

    day: dt.date
    time: dt.time | None = None

    @property
    def at(self) -> dt.datetime:
        """The moment, from the start of the day when the time is not known."""
        return dt.datetime.combine(self.day, self.time or dt.time(0, 0))


def moment(text: str, *, today: dt.date | None = None) -> Moment:
    """A date with an optional time after it: ``01/12/2026 16:30``, ``2026-12-01T16:30``, ``today 9:15``.

    The date takes every form :func:`date` does; the time every form of
    :func:`time_of_day`.
    """
    value = " ".join(str(text).replace("T", " ", 1).split()) if _ISO.match(str(text).strip()) else \
        " ".join(str(text).split())
    match = re.fullmatch(r"(?P<day>.+?)(?:,?\s+(?:at\s+)?(?P<time>[0-9]{1,2}(?:[:.][0-9]{2})?\s*"
                         r"(?:am|pm|a\.m\.|p\.m\.)?))?", value, re.IGNORECASE)
    if match and match.group("time") and not _LONG.fullmatch(value):
        return Moment(date(match.group("day"), today=today), time_of_day(match.group("time")))
    return Moment(date(value, today=today))


def format_time(value: dt.time | dt.datetime | str | None) -> str:
    """``16:30`` (an ISO moment as stored is accepted; None gives "")."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return f"{value.hour:02d}:{value.minute:02d}"


def _as_date(value: dt.date | str) -> dt.date:
    """A date, or an ISO string as stored in the database (time part ignored)."""
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value


def not_future(day: dt.date, why: str, option: str = "--date") -> dt.date:
    """``day``, unless it is after today: then BadInput naming ``option``, ``why`` saying when to record it."""
    if day > clock.today():
        raise BadInput(f"{format_date(day)} is in the future: {why}", option)
    return day


def format_date(value: dt.date | str | None) -> str:
    """UK short form: ``22/11/2026`` (an ISO string is accepted; None gives "")."""
    if not value:
        return ""
    d = _as_date(value)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def _month_number(name: str) -> int | None:
    """1-12 for a month's name or its usual abbreviation (``Nov``, ``Sept``), any case; else None."""
    word = name.lower()
    for number, month in enumerate(MONTHS, start=1):
        if word == month.lower() or (len(word) >= 3 and month.lower().startswith(word)):
            return number
    return None


def format_long_date(value: dt.date | str | None) -> str:
    """UK long form for letters: ``22 November 2026``, ``1 April 2026`` (None gives "")."""
    if not value:
        return ""
    d = _as_date(value)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


# --- periods ---------------------------------------------------------------------------

_FINANCIAL_YEAR = re.compile(r"(?P<start>[0-9]{4})/(?P<end>[0-9]{2}|[0-9]{4})")


def _short_year(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def financial_year(text: str) -> tuple[str, dt.date, dt.date]:
    """A financial year, April to March: ``2026/27`` -> ('2026/27', 1 April 2026, 31 March 2027).

    ``2026/2027`` is accepted too and normalised to ``2026/27``.
    """
    value = str(text).strip()
    match = _FINANCIAL_YEAR.fullmatch(value)
    if not match:
        raise BadInput(f"{_show(text)} is not a financial year: write it like 2026/27")
    start, end = int(match.group("start")), match.group("end")
    follows = str(start + 1) if len(end) == 4 else f"{(start + 1) % 100:02d}"
    if end != follows:
        raise BadInput(f"{_show(text)}: the second year must follow the first, e.g. {_short_year(start)}")
    if not FIRST_YEAR <= start < LAST_YEAR:
        raise BadInput(f"{_show(text)}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return _short_year(start), dt.date(start, 4, 1), dt.date(start + 1, 3, 31)


def financial_year_of(day: dt.date) -> str:
    """The financial year a date falls in: 31 March 2027 -> ``2026/27``, 1 April 2027 -> ``2027/28``."""
    return _short_year(day.year if day.month >= 4 else day.year - 1)


# Explicit [Qq] rather than re.IGNORECASE, which would let some non-ASCII letters match.
_QUARTER = re.compile(r"(?P<year>[0-9]{4})-?[Qq](?P<q>[1-4])")


def quarter(text: str) -> tuple[dt.date, dt.date]:
    """A calendar quarter: ``2026Q3`` (or ``2026-Q3``, ``2026q3``) -> (1 July 2026, 30 September 2026)."""
    value = str(text).strip()
    match = _QUARTER.fullmatch(value)
    if not match:
        raise BadInput(f"{_show(text)} is not a quarter: write it like 2026Q3 (calendar quarters Q1 to Q4)")
    year, q = int(match.group("year")), int(match.group("q"))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadInput(f"{_show(text)}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year, 12, 31) if q == 4 else dt.date(year, 3 * q + 1, 1) - dt.timedelta(days=1)
    return start, end


# --- people ---------------------------------------------------------------------------

AGE_BANDS = [(16, 17, "16-17"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"),
             (45, 54, "45-54"), (55, 64, "55-64"), (65, 200, "65+")]


def age_band(dob: dt.date | str | None, on: dt.date | str) -> str:
    """The county's age band on a date: ``16-17`` ... ``65+``, or ``unknown``
    (no date of birth, or under 16, which the county does not band).
    """
    if not dob:
        return "unknown"
    born, day = _as_date(dob), _as_date(on)
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    for low, high, band in AGE_BANDS:
        if low <= age <= high:
            return band
    return "unknown"
