"""Parsers for what coordinators type, and formatters for what they read.

Every parser takes text and returns a clean value or raises BadInput (and
nothing else) with a one-line message that quotes the value and says the
accepted forms; the CLI adds the option's name, so messages never name it.

Only ASCII digits count as digits: Python's int() also accepts Arabic-Indic
and full-width digits ('١٢', '１２'), which would slip past a check by eye, so
the patterns here say [0-9], never \\d. Long input is refused before any int()
(Python refuses to convert more than 4,300 digits, with a ValueError).

phonenumbers is imported inside phone() only: it is slow to load and the CLI
must start fast.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from thcli import clock
from thcli.errors import BadInput

MAX_PENCE = 10_000_000 * 100
MAX_QUANTITY = 9999
NAME_MAX = 120
EMAIL_MAX = 254

# C0 and C1 control characters, and lone surrogates (what Python makes of bytes that are
# not UTF-8 on a command line: they cannot be written to the database or a letter).
# Tab, newline and carriage return are left to each parser: names fold them into spaces,
# free text keeps newlines and tabs.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_DATE_FORMS = "use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"


def _show(value: object) -> str:
    """The value as quoted in a message: shortened, control characters escaped."""
    # repr() escapes control characters and lone surrogates, so a message stays one
    # printable line whatever was typed; an escaped character is up to ten long, so the
    # value is shortened until its escaped form fits (at most 42 characters, quotes included).
    text = str(value)
    if len(text) <= 40 and len(repr(text)) <= 42:
        return repr(text)
    text = text[:37]
    while len(repr(text + "...")) > 42:
        text = text[:-1]
    return repr(text + "...")


def shown(value: object) -> str:
    """A value as quoted in a message (shortened, control characters escaped)."""
    return _show(value)


LABEL_MAX = 120


def label(text: str) -> str:
    """A label people read in lists and letters (a fund's name, a code's label): one line, at most 120 characters.

    Control characters and line breaks are refused rather than folded: a
    label is typed as it should show, and an escape sequence in it would
    reach every terminal, CSV file and letter that shows it.
    """
    raw = str(text)
    if _CONTROL.search(raw) or any(c in raw for c in "\t\n\r"):
        raise BadInput(f"{_show(text)} contains control characters or line breaks: type it as one line of plain text")
    value = " ".join(raw.split())
    if not value:
        raise BadInput(f"{_show(text)}: it cannot be empty")
    if len(value) > LABEL_MAX:
        raise BadInput(f"{_show(text)} is longer than {LABEL_MAX} characters: shorten it")
    return value


SEARCH_MAX = 100


def search(text: str) -> str:
    """What ``--search`` looks for: part of a reference, a name or a postcode (plain text, at most 100 characters)."""
    raw = str(text)
    if _CONTROL.search(raw):
        raise BadInput(f"{_show(text)} contains control characters: search for part of a reference, a name or a "
                       "postcode")
    value = " ".join(raw.split())
    if not value:
        raise BadInput("give part of a reference, a name or a postcode")
    if len(value) > SEARCH_MAX:
        raise BadInput(f"{_show(text)} is longer than {SEARCH_MAX} characters: search for part of a reference, a "
                       "name or a postcode")
    return value


_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


def reference(text: str) -> str:
    """A case reference as typed (``TH-2026-0042``): letters, digits and hyphens, at most 40 characters."""
    value = str(text).strip()
    if not _REFERENCE.fullmatch(value):
        raise BadInput(f"{_show(text)} is not a case reference: write it like TH-2026-0042")
    return value


# --- money ---------------------------------------------------------------------

# Thousands separators must be well placed: "1,234" and "12,345,678", never "12,34";
# a number with separators does not start with 0. A digit is required before the point.
_MONEY = re.compile(
    r"£? *(?P<whole>[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<fraction>[0-9]+))?"
)
_NEGATIVE = re.compile(r"-|£ *-")
_MONEY_FORMS = "write it like £1,234.50, 1234.50 or 1234"


def money(text: str) -> int:
    """Money as integer pence: ``£1,234.50`` -> 123450; ``1234.5`` and ``1234`` too.

    Never goes through float. Refuses negative amounts, more than two decimals and
    more than £10,000,000; zero is accepted (callers decide whether it makes sense).
    """
    value = str(text).strip()
    if len(value) > 100:
        raise BadInput(f"{_show(text)} is not an amount of money: {_MONEY_FORMS}")
    match = _MONEY.fullmatch(value)
    if not match:
        if _NEGATIVE.match(value):
            raise BadInput(f"{_show(text)}: the amount cannot be negative")
        raise BadInput(f"{_show(text)} is not an amount of money: {_MONEY_FORMS}")
    fraction = match.group("fraction") or ""
    if len(fraction) > 2:
        raise BadInput(f"{_show(text)} has more decimals than pence: use at most two, like 12.50")
    whole = match.group("whole").replace(",", "").lstrip("0") or "0"
    # Checked on the digits before int(): ten digits of pounds is already too much.
    if len(whole) > 8 or int(whole) * 100 + int(fraction.ljust(2, "0")) > MAX_PENCE:
        raise BadInput(f"{_show(text)} is more than £10,000,000: check the amount")
    return int(whole) * 100 + int(fraction.ljust(2, "0"))


def format_money(pence: int) -> str:
    """``£1,234.50`` (negative amounts as ``-£12.00``)."""
    sign = "-" if pence < 0 else ""
    pounds_part, pence_part = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds_part:,}.{pence_part:02d}"


def pounds(pence: int) -> str:
    """``1234.50`` for CSV: no symbol, no separators (negative ``-12.00``)."""
    sign = "-" if pence < 0 else ""
    pounds_part, pence_part = divmod(abs(int(pence)), 100)
    return f"{sign}{pounds_part}.{pence_part:02d}"


# --- dates ---------------------------------------------------------------------

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


# --- postcodes -------------------------------------------------------------------

_POSTCODE = re.compile(
    # The standard shapes (outward A9, A99, AA9, AA99, A9A, AA9A; inward 9AA), with the
    # standard rules that the first letter is never Q, V or X and the second never I or
    # J. The second letter may be Z, though no real area is: the made-up ZZ area is
    # what the demo and the tests use, because it can never be someone's address.
    r"GIR0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[0-9][A-Z]|[A-HK-Z][0-9]{1,2}|[A-HK-Z][0-9][A-Z])[0-9][A-Z]{2}"
)


def postcode_key(text: str) -> str:
    """Upper case with no spaces, for matching and search (no check: used on partial text)."""
    return "".join(str(text).split()).upper()


def postcode(text: str) -> str:
    """A UK postcode, upper case with one space: ``pe216ab`` -> ``PE21 6AB``."""
    compact = "".join(str(text).split())
    # ASCII is checked before upper(), which turns some other letters into ASCII ones
    # ('ﬀ' -> 'FF', 'ı' -> 'I').
    key = compact.upper() if compact.isascii() else ""
    if not _POSTCODE.fullmatch(key):
        raise BadInput(f"{_show(text)} is not a UK postcode: write it like PE21 6AB")
    return f"{key[:-3]} {key[-3:]}"


def postcode_district(value: str) -> str:
    """The outward code of a postcode: ``PE21 6AB`` -> ``PE21``."""
    return postcode(value).split()[0]


# --- phones and emails -------------------------------------------------------------

# What people type in a phone number: digits, spaces, brackets, dashes and dots,
# with a + only in front. Letters ("ext. 12", "0800 FLOWERS") are refused.
_PHONE_TEXT = re.compile(r"\+?[0-9 ().-]+")
_PHONE_FORMS = "write it like 01205 318539 or +44 1205 318539"


# Ofcom keeps these ranges for drama and examples: no one will ever have them, which makes
# them the numbers of the demo and of documentation. phonenumbers calls them invalid
# (they are unallocated), so they are let through by name. Other drama ranges (020 7946
# 0xxx, 0113 496 0xxx ...) sit inside allocated ranges and pass the ordinary check.
_DRAMA = re.compile(r"7700900[0-9]{3}|1632960[0-9]{3}")


def _drama(country_code: int, national_number: int) -> bool:
    return country_code == 44 and bool(_DRAMA.fullmatch(str(national_number)))


def phone(text: str) -> str:
    """A valid phone number: UK numbers in national form (``01205 318539``), others
    in international form (``+33 1 23 45 67 89``). Numbers without a + are read as UK.
    Valid means phonenumbers' is_valid_number, plus Ofcom's 07700 900xxx and 01632 960xxx
    drama ranges.
    """
    value = " ".join(str(text).split())
    if not value or len(value) > 30 or not _PHONE_TEXT.fullmatch(value) or not re.search(r"[0-9]", value):
        raise BadInput(f"{_show(text)} is not a phone number: {_PHONE_FORMS}")
    # Imported here: phonenumbers takes tens of milliseconds to load.
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        raise BadInput(f"{_show(text)} is not a phone number: {_PHONE_FORMS}") from None
    if not phonenumbers.is_valid_number(number) and not _drama(number.country_code or 0, number.national_number or 0):
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason == phonenumbers.ValidationResult.TOO_SHORT:
            raise BadInput(f"{_show(text)} has too few digits for a phone number: {_PHONE_FORMS}")
        if reason == phonenumbers.ValidationResult.TOO_LONG:
            raise BadInput(f"{_show(text)} has too many digits for a phone number: {_PHONE_FORMS}")
        raise BadInput(f"{_show(text)} is not a valid phone number: {_PHONE_FORMS}")
    if number.country_code == 44:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TOP_LABEL = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")  # letters, or an IDN top level in punycode


def email(text: str) -> str:
    """An email address, with its domain lower-cased: ``Name@Example.ORG`` -> ``Name@example.org``.

    A pragmatic check, not RFC 5322: one @, a local part of ASCII letters, digits and
    the usual symbols (no spaces, no leading, trailing or double dots), and a domain
    of at least two valid labels ending in letters; at most 254 characters.
    """
    value = str(text).strip()
    local, at, domain = value.partition("@")
    labels = domain.split(".")
    if (
        not at or len(value) > EMAIL_MAX or len(local) > 64 or not value.isascii()
        or not _LOCAL.fullmatch(local) or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels[:-1])
        or not _TOP_LABEL.fullmatch(labels[-1])
    ):
        # A second @ lands in the domain, which then fails the label check.
        raise BadInput(f"{_show(text)} is not an email address: write it like name@example.org")
    return f"{local}@{domain.lower()}"


# --- codes and numbers ---------------------------------------------------------------

_CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")
_CODE_RULE = "codes are lower-case letters, digits and _ (at most 40, starting with a letter or digit)"


def code(text: str) -> str:
    """A code-list code: lower-case ASCII letters, digits and _, 1 to 40 characters.

    ``Fire`` is refused rather than lower-cased: a code is typed as it is listed,
    and guessing would hide a mistyped code.
    """
    value = str(text).strip()
    if _CODE.fullmatch(value):
        return value
    if _CODE.fullmatch(value.lower()) and value.isascii():
        raise BadInput(f"{_show(text)} is not a code: {_CODE_RULE}, e.g. {value.lower()}")
    raise BadInput(f"{_show(text)} is not a code: {_CODE_RULE}, e.g. door_alarm")


def _range_words(minimum: int, maximum: int | None) -> str:
    return f"{minimum} to {maximum}" if maximum is not None else f"{minimum} or more"


def whole_number(text: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number in ASCII digits (no sign, no separators) from ``minimum`` to ``maximum``."""
    value = str(text).strip()
    # No sign: every range in thcli starts at 0 or above.
    if not re.fullmatch(r"[0-9]+", value):
        raise BadInput(
            f"{_show(text)} is not a whole number: use digits 0-9, from {_range_words(minimum, maximum)}"
        )
    digits = value.lstrip("0") or "0"
    # Too many digits is out of any range we use; checked before int(), which would
    # choke on thousands of digits.
    number = None if len(digits) > 18 else int(digits)
    if number is None or number < minimum or (maximum is not None and number > maximum):
        raise BadInput(f"{_show(text)} is out of range: use a whole number from {_range_words(minimum, maximum)}")
    return number


# on/off as well, because settings are often switched with them.
_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}


def yes_no(text: str) -> bool:
    """yes/no, y/n, true/false, 1/0 (and on/off), in any case."""
    value = str(text).strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise BadInput(f"{_show(text)} is not yes or no: use yes, no, y, n, true, false, 1 or 0")


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


# --- measures ------------------------------------------------------------------------

# The code is as short as possible (lazy) so that a final x and digits before any @ are
# the quantity; an x elsewhere (fire_extinguisher, box_x) stays part of the code.
_MEASURE = re.compile(r"(?P<code>.+?)(?:x(?P<qty>[0-9]+))?(?:@(?P<cost>.*))?")
_MEASURE_FORMS = "write CODE, CODExQTY, CODE@COST or CODExQTY@COST, e.g. window_alarmx3@12.50"


def measure_spec(text: str) -> tuple[str, int, int | None]:
    """A measure as typed to ``survey record --measure``: ``CODE[xQTY][@COST]``.

    ``window_alarmx3@12.50`` -> ('window_alarm', 3, 1250): the cost is per unit, in
    pence, and None when not given; the quantity is 1 when not given.
    """
    value = str(text).strip()
    if not value or len(value) > 100 or re.search(r"\s", value):
        raise BadInput(f"{_show(text)} is not a measure: {_MEASURE_FORMS}")
    match = _MEASURE.fullmatch(value)
    if not match:
        raise BadInput(f"{_show(text)} is not a measure: {_MEASURE_FORMS}")
    quantity = 1
    if match.group("qty") is not None:
        digits = match.group("qty").lstrip("0")
        if not digits or len(digits) > len(str(MAX_QUANTITY)) or int(digits) > MAX_QUANTITY:
            raise BadInput(f"{_show(text)}: the quantity must be a whole number above zero (at most {MAX_QUANTITY})")
        quantity = int(digits)
    cost = None
    if match.group("cost") is not None:
        try:
            cost = money(match.group("cost"))
        except BadInput as error:
            raise BadInput(f"{_show(text)}: the unit cost {error.bare_message}") from None
    return code(match.group("code")), quantity, cost


_LINE_AMOUNT = re.compile(r"(?P<line>[0-9]{1,4}):(?P<money>.+)")


def line_amount(text: str) -> tuple[int, int]:
    """A measure line and an amount as typed to ``budget pay --line``: ``2:40`` -> (2, 4000).

    The amount must be more than £0.00.
    """
    value = str(text).strip()
    match = _LINE_AMOUNT.fullmatch(value)
    if not match or int(match.group("line")) < 1:
        raise BadInput(f"{_show(text)} is not LINE:MONEY: write the line number and the amount, e.g. 2:40 "
                       "(line 2, £40.00)")
    try:
        amount = money(match.group("money"))
    except BadInput as error:
        raise BadInput(f"{_show(text)}: the amount {error.bare_message}") from None
    if amount <= 0:
        raise BadInput(f"{_show(text)}: the amount must be more than £0.00")
    return int(match.group("line")), amount


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


def name(text: str) -> str:
    """A person's or organisation's name: trimmed, inner spaces collapsed, at most 120 characters."""
    raw = str(text)
    if _CONTROL.search(raw):
        raise BadInput(f"{_show(text)} contains control characters: type the name as plain text")
    # Tabs and line breaks (from a paste) fold into single spaces with the rest.
    value = " ".join(raw.split())
    if not value:
        raise BadInput(f"{_show(text)}: a name cannot be empty")
    if len(value) > NAME_MAX:
        raise BadInput(f"{_show(text)} is longer than {NAME_MAX} characters: shorten it")
    return value


def text(value: str, *, max_len: int = 2000) -> str:
    """Free text: trimmed; newlines and tabs kept, other control characters refused.

    Windows (\\r\\n) and old Mac (\\r) line endings become \\n. Empty text is refused.
    """
    cleaned = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(cleaned):
        raise BadInput(f"{_show(value)} contains control characters: only newlines and tabs are allowed")
    if not cleaned:
        raise BadInput(f"{_show(value)}: the text cannot be empty")
    if len(cleaned) > max_len:
        raise BadInput(f"{_show(value)} is longer than {max_len} characters: shorten it")
    return cleaned
