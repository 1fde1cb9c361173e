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

import re
import unicodedata
from collections.abc import Iterable

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


def one_of(words: Iterable[str]) -> str:
    """Choices as a message lists them: ``new, triage or survey`` (one word alone as it is)."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


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


INVOICE_MAX = 40


def invoice(text: str) -> str:
    """An invoice or credit-note number (``INV-1001``): one line of plain text, trimmed, at most 40 characters."""
    raw = str(text)
    if _CONTROL.search(raw) or any(c in raw for c in "\t\n\r"):
        raise BadInput(f"{_show(text)} contains control characters or line breaks: give the invoice number as "
                       "printed on it")
    value = raw.strip()
    if not value:
        raise BadInput("give the invoice number as printed on it")
    if len(value) > INVOICE_MAX:
        raise BadInput(f"{_show(text)} is longer than {INVOICE_MAX} characters: give the invoice number as printed "
                       "on it")
    return value


def invoice_key(text: str | None) -> str | None:
    """An invoice number as compared when checking it is entered once: 'Ａ-1', 'a-1' and 'A-1' are the same."""
    return None if text is None else unicodedata.normalize("NFKC", text).casefold().strip()


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


def is_code(text: str) -> bool:
    """Whether text is a code as written, by the rule :func:`code` enforces (a district's file is checked with it)."""
    return _CODE.fullmatch(text) is not None


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
