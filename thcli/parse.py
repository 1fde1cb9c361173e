"""Parsers for what coordinators type, and formatters for what they read.

Every parser takes text and returns a clean value or raises BadInput with a
message that quotes the value and says the accepted forms (the CLI adds the
option's name). Only ASCII digits count as digits: Python's int() also accepts
Arabic-Indic and full-width digits, which would slip past a check by eye.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from thcli.errors import BadInput

MAX_PENCE = 10_000_000 * 100
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _show(text: object) -> str:
    """The value as quoted in a message (shortened, control characters escaped)."""
    value = str(text)
    if len(value) > 40:
        value = value[:37] + "..."
    return repr(value)


# --- money ---------------------------------------------------------------------

_MONEY = re.compile(r"£?\s*(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<fraction>[0-9]+))?")


def money(text: str) -> int:
    """Money as integer pence: ``£1,234.50``, ``1234.5`` and ``1234`` are accepted."""
    value = str(text).strip()
    match = _MONEY.fullmatch(value)
    if not match:
        if value.startswith("-") or value.startswith("£-"):
            raise BadInput(f"{_show(text)}: the amount cannot be negative")
        raise BadInput(f"{_show(text)} is not an amount of money: write it like £1,234.50, 1234.50 or 1234")
    fraction = match.group("fraction") or ""
    if len(fraction) > 2:
        raise BadInput(f"{_show(text)} has more decimals than pence: use at most two, like 12.50")
    pence = int(match.group("whole").replace(",", "")) * 100 + int((fraction + "00")[:2])
    if pence > MAX_PENCE:
        raise BadInput(f"{_show(text)} is more than £10,000,000: check the amount")
    return pence


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

_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_UK = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]+)")
_DATE_FORMS = "use YYYY-MM-DD or DD/MM/YYYY (day first)"


def date(text: str, *, today: dt.date | None = None) -> dt.date:
    """A date: ISO ``2026-11-22``, UK ``22/11/2026``, or ``today``/``yesterday``."""
    value = str(text).strip()
    lowered = value.lower()
    if lowered in ("today", "yesterday"):
        base = today or dt.date.today()
        return base if lowered == "today" else base - dt.timedelta(days=1)
    iso = _ISO.fullmatch(value)
    uk = _UK.fullmatch(value)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif uk:
        day, month, year = (int(g) for g in uk.groups())
        if len(uk.group(3)) != 4:
            raise BadInput(f"{_show(text)}: write the year in full, e.g. 22/11/2026")
        if month > 12 and day <= 12:
            raise BadInput(
                f"{_show(text)} looks like US order (month first): write {month:02d}/{day:02d}/{year}"
            )
    else:
        raise BadInput(f"{_show(text)} is not a date: {_DATE_FORMS}")
    if not 1900 <= year <= 2100:
        raise BadInput(f"{_show(text)}: the year must be between 1900 and 2100")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise BadInput(f"{_show(text)} is not a real date: {_DATE_FORMS}") from None


def _as_date(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value


def format_date(value: dt.date | str | None) -> str:
    """UK short form: ``22/11/2026``."""
    if not value:
        return ""
    d = _as_date(value)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def format_long_date(value: dt.date | str | None) -> str:
    """UK long form: ``22 November 2026``, ``1 April 2026``."""
    if not value:
        return ""
    d = _as_date(value)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


# --- postcodes -------------------------------------------------------------------

_POSTCODE = re.compile(
    # The standard pattern, except that a second letter Z is allowed: the ZZ area
    # does not exist, which makes it the safe choice for made-up addresses.
    r"(GIR0AA|(?:[A-Z][0-9]{1,2}|[A-Z][A-HK-Z][0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z][A-HK-Z][0-9][A-Z])[0-9][A-Z]{2})"
)


def postcode_key(text: str) -> str:
    """Upper case with no spaces, for matching and search."""
    return "".join(str(text).split()).upper()


def postcode(text: str) -> str:
    """A UK postcode, upper case with one space: ``pe216ab`` -> ``PE21 6AB``."""
    key = postcode_key(text)
    if not key.isascii() or not _POSTCODE.fullmatch(key):
        raise BadInput(f"{_show(text)} is not a UK postcode: write it like PE21 6AB")
    return f"{key[:-3]} {key[-3:]}"


def postcode_district(value: str) -> str:
    """The outward code: ``PE21 6AB`` -> ``PE21``."""
    return postcode(value).split()[0]


# --- phones and emails -------------------------------------------------------------


def phone(text: str) -> str:
    """A valid phone number, in national form for UK numbers (``01205 318539``)."""
    import phonenumbers

    value = str(text).strip()
    if not value or not value.isascii() or re.search(r"[A-Za-z]", value) or len(value) > 30:
        raise BadInput(f"{_show(text)} is not a phone number: write it like 01205 318539 or +44 1205 318539")
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise BadInput(f"{_show(text)} is not a valid phone number: write it like 01205 318539 or +44 1205 318539")
    if number.country_code == 44:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def email(text: str) -> str:
    """An email address (domain lower-cased)."""
    value = str(text).strip()
    local, at, domain = value.rpartition("@")
    labels = domain.split(".")
    if (
        not at or not local or len(value) > 254 or not value.isascii() or "@" in local
        or not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local
        or len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels)
        or not labels[-1].isalpha()
    ):
        raise BadInput(f"{_show(text)} is not an email address: write it like name@example.org")
    return f"{local}@{domain.lower()}"


# --- codes and numbers ---------------------------------------------------------------

_CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")


def code(text: str) -> str:
    """A code-list code: lower-case letters, digits and _ (at most 40)."""
    value = str(text).strip()
    if not _CODE.fullmatch(value):
        raise BadInput(f"{_show(text)} is not a code: codes are lower-case letters, digits and _, e.g. door_alarm")
    return value


def whole_number(text: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number in ASCII digits within a range."""
    value = str(text).strip()
    if not re.fullmatch(r"[0-9]{1,12}", value):
        raise BadInput(f"{_show(text)} is not a whole number: use digits 0-9")
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        upper = f" to {maximum}" if maximum is not None else " or more"
        raise BadInput(f"{_show(text)} is out of range: use {minimum}{upper}")
    return number


_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}


def yes_no(text: str) -> bool:
    value = str(text).strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise BadInput(f"{_show(text)}: answer yes or no")


# --- periods ---------------------------------------------------------------------------


def financial_year(text: str) -> tuple[str, dt.date, dt.date]:
    """``2026/27`` -> ('2026/27', 1 April 2026, 31 March 2027); ``2026/2027`` too."""
    value = str(text).strip()
    match = re.fullmatch(r"([0-9]{4})/([0-9]{2}|[0-9]{4})", value)
    if not match:
        raise BadInput(f"{_show(text)} is not a financial year: write it like 2026/27")
    start = int(match.group(1))
    end = match.group(2)
    follows = f"{(start + 1) % 100:02d}" if len(end) == 2 else str(start + 1)
    if end != follows:
        raise BadInput(f"{_show(text)}: the second year must follow the first, e.g. {start}/{(start + 1) % 100:02d}")
    if not 1900 <= start <= 2100:
        raise BadInput(f"{_show(text)}: the year must be between 1900 and 2100")
    return f"{start}/{(start + 1) % 100:02d}", dt.date(start, 4, 1), dt.date(start + 1, 3, 31)


def financial_year_of(day: dt.date) -> str:
    """The financial year a date falls in (April to March)."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def quarter(text: str) -> tuple[dt.date, dt.date]:
    """A calendar quarter: ``2026Q3`` -> 1 July to 30 September 2026."""
    value = str(text).strip().upper()
    match = re.fullmatch(r"([0-9]{4})-?Q([1-4])", value)
    if not match:
        raise BadInput(f"{_show(text)} is not a quarter: write it like 2026Q3 (calendar quarters Q1 to Q4)")
    year, q = int(match.group(1)), int(match.group(2))
    if not 1900 <= year <= 2100:
        raise BadInput(f"{_show(text)}: the year must be between 1900 and 2100")
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year, 12, 31) if q == 4 else dt.date(year, 3 * q + 1, 1) - dt.timedelta(days=1)
    return start, end


# --- measures ------------------------------------------------------------------------

_MEASURE = re.compile(r"(?P<code>.+?)(?:x(?P<qty>[0-9]+))?(?:@(?P<cost>.+))?")


def measure_spec(text: str) -> tuple[str, int, int | None]:
    """``CODE[xQTY][@COST]``: ``window_alarmx3@12.50`` -> ('window_alarm', 3, 1250), cost per unit."""
    value = str(text).strip()
    match = _MEASURE.fullmatch(value)
    if not match:
        raise BadInput(f"{_show(text)} is not a measure: write CODE, CODExQTY or CODExQTY@COST, e.g. window_alarmx3")
    qty_text = match.group("qty")
    quantity = 1
    if qty_text is not None:
        quantity = int(qty_text)
        if quantity < 1:
            raise BadInput(f"{_show(text)}: the quantity must be a whole number above zero")
    cost = money(match.group("cost")) if match.group("cost") is not None else None
    return code(match.group("code")), quantity, cost


# --- people ---------------------------------------------------------------------------

AGE_BANDS = [(16, 17, "16-17"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 54, "45-54"),
             (55, 64, "55-64"), (65, 200, "65+")]


def age_band(dob: dt.date | str | None, on: dt.date | str) -> str:
    """The county's age band on a date (``unknown`` without a date of birth, or under 16)."""
    if not dob:
        return "unknown"
    born, day = _as_date(dob), _as_date(on)
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    for low, high, band in AGE_BANDS:
        if low <= age <= high:
            return band
    return "unknown"


def name(text: str) -> str:
    """A person's or organisation's name: trimmed, single-spaced, at most 120 characters."""
    value = " ".join(str(text).split())
    if not value:
        raise BadInput("a name cannot be empty")
    if _CONTROL.search(str(text).replace("\n", " ").replace("\t", " ")):
        raise BadInput(f"{_show(text)} contains control characters")
    if len(value) > 120:
        raise BadInput(f"{_show(text)} is longer than 120 characters")
    return value


def text(value: str, *, max_len: int = 2000) -> str:
    """Free text: trimmed; no control characters but newlines and tabs."""
    cleaned = str(value).strip()
    if not cleaned:
        raise BadInput("the text cannot be empty")
    if _CONTROL.search(cleaned):
        raise BadInput(f"{_show(value)} contains control characters")
    if len(cleaned) > max_len:
        raise BadInput(f"the text is longer than {max_len} characters")
    return cleaned


def ceil_days(hours: int) -> int:
    return math.ceil(hours / 24)
