"""The parsers of what coordinators type: each accepted and refused form, the
messages that say how to put it right, and properties over random text."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from thcli import dates, parse
from thcli.errors import BadInput

D = dt.date


def refused(parser, text, **kwargs) -> str:
    """The message of the BadInput that ``parser`` raises on ``text``."""
    with pytest.raises(BadInput) as caught:
        parser(text, **kwargs)
    message = caught.value.message
    assert "\n" not in message  # one line, for stderr
    return message


# --- money -----------------------------------------------------------------------


@pytest.mark.parametrize("text,pence", [
    ("£1,234.50", 123450),
    ("1234.5", 123450),
    ("1234", 123400),
    ("1,234", 123400),
    ("£0.99", 99),
    ("0", 0),
    ("£0.00", 0),
    ("  £12  ", 1200),
    ("£ 12.05", 1205),
    ("1,234,567.89", 123456789),
    ("£10,000,000", 1_000_000_000),
    ("0012", 1200),
])
def test_money_accepted(text, pence):
    assert parse.money(text) == pence


@pytest.mark.parametrize("text,message", [
    (".5", "'.5' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("1234.", "'1234.' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("12,34", "'12,34' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("1,2345", "'1,2345' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("0,123", "'0,123' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("1 234", "'1 234' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("$12", "'$12' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("12p", "'12p' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("", "'' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("١٢", "'١٢' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("１２", "'１２' is not an amount of money: write it like £1,234.50, 1234.50 or 1234"),
    ("1.234", "'1.234' has more decimals than pence: use at most two, like 12.50"),
    ("-5", "'-5': the amount cannot be negative"),
    ("-£5", "'-£5': the amount cannot be negative"),
    ("£-5", "'£-5': the amount cannot be negative"),
    ("10000000.01", "'10000000.01' is more than £10,000,000: check the amount"),
    ("£99,999,999", "'£99,999,999' is more than £10,000,000: check the amount"),
])
def test_money_refused(text, message):
    assert refused(parse.money, text) == message


def test_money_refuses_thousands_of_digits_without_choking():
    # int() raises ValueError past 4,300 digits: the parser must say BadInput first.
    assert refused(parse.money, "9" * 5000).startswith("'999")
    assert "more than £10,000,000" in refused(parse.money, "9" * 50)


@pytest.mark.parametrize("pence,shown,plain", [
    (123450, "£1,234.50", "1234.50"),
    (0, "£0.00", "0.00"),
    (5, "£0.05", "0.05"),
    (-1200, "-£12.00", "-12.00"),
    (-5, "-£0.05", "-0.05"),
    (1_000_000_000, "£10,000,000.00", "10000000.00"),
])
def test_format_money_and_pounds(pence, shown, plain):
    assert parse.format_money(pence) == shown
    assert parse.pounds(pence) == plain


@given(st.integers(min_value=0, max_value=parse.MAX_PENCE))
def test_money_round_trips(pence):
    assert parse.money(parse.format_money(pence)) == pence
    assert parse.money(parse.pounds(pence)) == pence


# --- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("2026-11-22", D(2026, 11, 22)),
    ("22/11/2026", D(2026, 11, 22)),
    ("1/4/2026", D(2026, 4, 1)),
    ("01/04/2026", D(2026, 4, 1)),
    ("03/04/2026", D(2026, 4, 3)),  # day first, always
    (" 29/02/2028 ", D(2028, 2, 29)),
    ("1900-01-01", D(1900, 1, 1)),
    ("31/12/2100", D(2100, 12, 31)),
    ("22 November 2026", D(2026, 11, 22)),
    ("1 april 2026", D(2026, 4, 1)),
    ("3 Sept 2026", D(2026, 9, 3)),
    ("9 Jan. 2027", D(2027, 1, 9)),
])
def test_date_accepted(text, expected):
    assert dates.date(text) == expected


@pytest.mark.parametrize("text,message", [
    ("31/02/2026", "'31/02/2026' is not a real date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("29/02/2027", "'29/02/2027' is not a real date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("2026-02-30", "'2026-02-30' is not a real date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("2026-22-11", "'2026-22-11' is not a real date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("11/22/2026", "'11/22/2026' looks like US order (month first): write 22/11/2026"),
    ("1/13/2026", "'1/13/2026' looks like US order (month first): write 13/01/2026"),
    # month first would be 31 February: not a real date either way
    ("02/31/2026", "'02/31/2026' is not a real date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("22-11-2026", "'22-11-2026' is not a date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("2026/11/22", "'2026/11/22' is not a date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("2026-1-5", "'2026-1-5' is not a date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("22 Novembre 2026", "'22 Novembre 2026': 'Novembre' is not a month: write it like 22 November 2026"),
    ("22 Nv 2026", "'22 Nv 2026': 'Nv' is not a month: write it like 22 November 2026"),
    ("31 June 2026", "'31 June 2026' is not a real date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("22 November 26", "'22 November 26': write the year in full with four digits, e.g. 22/11/2026"),
    ("tomorrow", "'tomorrow' is not a date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("", "'' is not a date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("٢٢/١١/٢٠٢٦", "'٢٢/١١/٢٠٢٦' is not a date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("22/11/26", "'22/11/26': write the year in full with four digits, e.g. 22/11/2026"),
    ("22/11/02026", "'22/11/02026': write the year in full with four digits, e.g. 22/11/2026"),
    ("31/12/1899", "'31/12/1899': the year must be between 1900 and 2100"),
    ("2101-01-01", "'2101-01-01': the year must be between 1900 and 2100"),
])
def test_date_refused(text, message):
    assert refused(dates.date, text) == message


def test_today_and_yesterday_relative_to_the_given_day():
    friday = D(2026, 11, 20)
    assert dates.date("today", today=friday) == friday
    assert dates.date(" Today ", today=friday) == friday
    assert dates.date("YESTERDAY", today=friday) == D(2026, 11, 19)
    assert dates.date("yesterday", today=D(2027, 1, 1)) == D(2026, 12, 31)


@freeze_time("2026-11-20")
def test_today_defaults_to_the_system_date():
    assert dates.date("today") == D(2026, 11, 20)
    assert dates.date("yesterday") == D(2026, 11, 19)


@pytest.mark.parametrize("value,short,long", [
    (D(2026, 11, 22), "22/11/2026", "22 November 2026"),
    (D(2026, 4, 1), "01/04/2026", "1 April 2026"),
    ("2026-04-01", "01/04/2026", "1 April 2026"),
    ("2026-04-01T09:30:00", "01/04/2026", "1 April 2026"),
    (dt.datetime(2026, 1, 9, 12, 0), "09/01/2026", "9 January 2026"),
    (None, "", ""),
    ("", "", ""),
])
def test_format_dates(value, short, long):
    assert dates.format_date(value) == short
    assert dates.format_long_date(value) == long


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31)))
def test_dates_round_trip(day):
    assert dates.date(dates.format_date(day)) == day
    assert dates.date(day.isoformat()) == day
    assert dates.date(f"{day.day}/{day.month}/{day.year}") == day
    assert dates.date(dates.format_long_date(day)) == day


# --- postcodes -------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("sw1a1aa", "SW1A 1AA"),    # AA9A
    ("pe21 6ab", "PE21 6AB"),   # AA99
    ("M1 1AE", "M1 1AE"),       # A9
    ("b33 8th", "B33 8TH"),     # A99
    ("CR2 6XH", "CR2 6XH"),     # AA9
    ("w1a 0ax", "W1A 0AX"),     # A9A
    ("  PE21   6AB ", "PE21 6AB"),
    ("SW1A\u00a01AA", "SW1A 1AA"),  # a non-breaking space from a pasted address
    ("gir 0aa", "GIR 0AA"),
    ("ZZ1 2AB", "ZZ1 2AB"),     # the made-up ZZ area of the demo and tests
])
def test_postcode_accepted(text, expected):
    assert parse.postcode(text) == expected


@pytest.mark.parametrize("text", [
    "", "PE21", "PE21 6A", "PE21 6ABC", "PE216 6AB", "1E21 6AB", "PE21 AAB", "PE21 66B",
    "QA1 1AA",   # Q is never the first letter
    "AI1 1AA",   # I is never the second letter
    "SW1A 1A A1", "ABC1 1AA", "GIR 0AB",
    "ﬀ1 1aa",    # upper() would make FF1 1AA of this ligature
    "ıg1 1aa",   # ... and IG1 1AA of a dotless i
    "ＰＥ２１ ６ＡＢ",
])
def test_postcode_refused(text):
    assert refused(parse.postcode, text) == f"{text!r} is not a UK postcode: write it like PE21 6AB"


def test_postcode_key_and_district():
    assert parse.postcode_key(" pe21  6ab ") == "PE216AB"
    assert parse.postcode_key("pe2") == "PE2"   # partial search text, not checked
    assert parse.postcode_key("") == ""
    assert parse.postcode_district("PE21 6AB") == "PE21"
    assert parse.postcode_district("sw1a1aa") == "SW1A"
    assert parse.postcode_district("M1 1AE") == "M1"
    with pytest.raises(BadInput):
        parse.postcode_district("nonsense")


_LETTER = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = st.sampled_from("0123456789")


@st.composite
def postcodes(draw):
    """A valid postcode in canonical form, built shape by shape."""
    first = draw(st.sampled_from("ABCDEFGHIJKLMNOPRSTUWYZ"))
    second = draw(st.sampled_from("ABCDEFGHKLMNOPQRSTUVWXYZ"))
    digit, letter = draw(_DIGIT), draw(_LETTER)
    outward = draw(st.sampled_from([
        first + digit,
        first + digit + draw(_DIGIT),
        first + second + digit,
        first + second + digit + draw(_DIGIT),
        first + digit + letter,
        first + second + digit + letter,
    ]))
    return f"{outward} {draw(_DIGIT)}{draw(_LETTER)}{draw(_LETTER)}"


@given(postcodes(), st.sampled_from(["{}", "{} ", " {}", "{}"]), st.booleans(), st.booleans())
def test_postcodes_normalise_and_round_trip(canonical, padding, lower, squash):
    typed = canonical.lower() if lower else canonical
    typed = typed.replace(" ", "") if squash else typed
    typed = padding.format(typed)
    assert parse.postcode(typed) == canonical
    assert parse.postcode(parse.postcode(typed)) == canonical
    assert parse.postcode_key(typed) == canonical.replace(" ", "")
    assert parse.postcode_district(typed) == canonical.split()[0]


# --- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("01205 318539", "01205 318539"),
    ("01205318539", "01205 318539"),
    ("(01205) 318-539", "01205 318539"),
    ("+44 1205 318539", "01205 318539"),
    ("+44 (0)1205 318539", "01205 318539"),
    ("00441205318539", "01205 318539"),
    ("020 7946 0123", "020 7946 0123"),
    ("07700 900123", "07700 900123"),    # Ofcom drama range, which phonenumbers calls unallocated
    ("+447700900999", "07700 900999"),
    ("01632 960001", "01632 960001"),
    ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
    ("+33123456789", "+33 1 23 45 67 89"),
])
def test_phone_accepted(text, expected):
    assert parse.phone(text) == expected


FORMS = "write it like 01205 318539 or +44 1205 318539"


@pytest.mark.parametrize("text,message", [
    ("0800 FLOWERS", f"'0800 FLOWERS' is not a phone number: {FORMS}"),
    ("01205 318539 ext 12", f"'01205 318539 ext 12' is not a phone number: {FORMS}"),
    ("", f"'' is not a phone number: {FORMS}"),
    ("+", f"'+' is not a phone number: {FORMS}"),
    ("01205+318539", f"'01205+318539' is not a phone number: {FORMS}"),
    ("٠١٢٠٥٣١٨٥٣٩", f"'٠١٢٠٥٣١٨٥٣٩' is not a phone number: {FORMS}"),
    ("999", f"'999' has too few digits for a phone number: {FORMS}"),
    ("012053185399999", f"'012053185399999' has too many digits for a phone number: {FORMS}"),
    ("0120", f"'0120' is not a valid phone number: {FORMS}"),
    ("07700 901123", f"'07700 901123' is not a valid phone number: {FORMS}"),
    ("1" * 31, f"{'1' * 31!r} is not a phone number: {FORMS}"),
])
def test_phone_refused(text, message):
    assert refused(parse.phone, text) == message


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("name@example.org", "name@example.org"),
    ("  First.Last+th@Example.ORG ", "First.Last+th@example.org"),
    ("a@b-c.example.co.uk", "a@b-c.example.co.uk"),
    ("o'brien@example.org", "o'brien@example.org"),
    ("x@xn--80ak6aa92e.xn--p1ai", "x@xn--80ak6aa92e.xn--p1ai"),
])
def test_email_accepted(text, expected):
    assert parse.email(text) == expected


@pytest.mark.parametrize("text", [
    "", "name", "name@", "@example.org", "name@example", "a@@example.org", "a@b@example.org",
    "a b@example.org", "a@exa mple.org", ".a@example.org", "a.@example.org", "a..b@example.org",
    "a@-example.org", "a@example-.org", "a@example..org", "a@example.o", "a@example.c0m",
    "zoë@example.org", "a@exämple.org", "a" * 65 + "@example.org", "a@" + "b" * 250 + ".org",
])
def test_email_refused(text):
    assert refused(parse.email, text) == f"{parse._show(text)} is not an email address: write it like name@example.org"


# --- codes, numbers, yes/no ------------------------------------------------------------------------

CODE_RULE = "codes are lower-case letters, digits and _ (at most 40, starting with a letter or digit)"


@pytest.mark.parametrize("text", ["door_alarm", "a", "9", "fire_extinguisher", "box_x", "q1_2", "a" * 40, " idva "])
def test_code_accepted(text):
    assert parse.code(text) == text.strip()


@pytest.mark.parametrize("text,message", [
    ("Fire", f"'Fire' is not a code: {CODE_RULE}, e.g. fire"),
    ("DOOR_ALARM", f"'DOOR_ALARM' is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("_fire", f"'_fire' is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("door-alarm", f"'door-alarm' is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("door alarm", f"'door alarm' is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("", f"'' is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("a" * 41, f"{parse._show('a' * 41)} is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("café", f"'café' is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("x١", f"'x١' is not a code: {CODE_RULE}, e.g. door_alarm"),
])
def test_code_refused(text, message):
    assert refused(parse.code, text) == message


def test_whole_number():
    assert parse.whole_number("0") == 0
    assert parse.whole_number(" 42 ") == 42
    assert parse.whole_number("007", minimum=1, maximum=10) == 7
    assert parse.whole_number("120", minimum=1, maximum=120) == 120
    assert parse.whole_number("99999999999") == 99_999_999_999


@pytest.mark.parametrize("text,kwargs,message", [
    ("121", {"minimum": 1, "maximum": 120}, "'121' is out of range: use a whole number from 1 to 120"),
    ("0", {"minimum": 1, "maximum": 120}, "'0' is out of range: use a whole number from 1 to 120"),
    ("0", {"minimum": 1}, "'0' is out of range: use a whole number from 1 or more"),
    ("-1", {}, "'-1' is not a whole number: use digits 0-9, from 0 or more"),
    ("-0", {"maximum": 9}, "'-0' is not a whole number: use digits 0-9, from 0 to 9"),
    ("1" * 5000, {}, f"{parse._show('1' * 5000)} is out of range: use a whole number from 0 or more"),
    ("1.5", {}, "'1.5' is not a whole number: use digits 0-9, from 0 or more"),
    ("1,000", {}, "'1,000' is not a whole number: use digits 0-9, from 0 or more"),
    ("+3", {}, "'+3' is not a whole number: use digits 0-9, from 0 or more"),
    ("three", {"maximum": 5}, "'three' is not a whole number: use digits 0-9, from 0 to 5"),
    ("", {}, "'' is not a whole number: use digits 0-9, from 0 or more"),
    ("１２", {}, "'１２' is not a whole number: use digits 0-9, from 0 or more"),
    ("١٢", {}, "'١٢' is not a whole number: use digits 0-9, from 0 or more"),
])
def test_whole_number_refused(text, kwargs, message):
    assert refused(parse.whole_number, text, **kwargs) == message


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**12))
def test_whole_number_in_range_round_trips(number, other):
    low, high = min(number, other), max(number, other)
    assert parse.whole_number(str(number), minimum=low, maximum=high) == number
    if number < high:
        with pytest.raises(BadInput):
            parse.whole_number(str(number), minimum=number + 1)


@pytest.mark.parametrize("text", ["yes", "Y", "TRUE", "1", " on "])
def test_yes(text):
    assert parse.yes_no(text) is True


@pytest.mark.parametrize("text", ["no", "N", "False", "0", "OFF"])
def test_no(text):
    assert parse.yes_no(text) is False


@pytest.mark.parametrize("text", ["maybe", "", "yes please", "２", "ｙｅｓ"])
def test_yes_no_refused(text):
    assert refused(parse.yes_no, text) == f"{text!r} is not yes or no: use yes, no, y, n, true, false, 1 or 0"


# --- financial years and quarters ---------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("2026/27", ("2026/27", D(2026, 4, 1), D(2027, 3, 31))),
    ("2026/2027", ("2026/27", D(2026, 4, 1), D(2027, 3, 31))),
    (" 1999/00 ", ("1999/00", D(1999, 4, 1), D(2000, 3, 31))),
    ("1999/2000", ("1999/00", D(1999, 4, 1), D(2000, 3, 31))),
    ("2099/00", ("2099/00", D(2099, 4, 1), D(2100, 3, 31))),
])
def test_financial_year(text, expected):
    assert dates.financial_year(text) == expected


@pytest.mark.parametrize("text,message", [
    ("2026/28", "'2026/28': the second year must follow the first, e.g. 2026/27"),
    ("2026/2026", "'2026/2026': the second year must follow the first, e.g. 2026/27"),
    ("1999/2001", "'1999/2001': the second year must follow the first, e.g. 1999/00"),
    ("2026-27", "'2026-27' is not a financial year: write it like 2026/27"),
    ("2026", "'2026' is not a financial year: write it like 2026/27"),
    ("26/27", "'26/27' is not a financial year: write it like 2026/27"),
    ("2026/7", "'2026/7' is not a financial year: write it like 2026/27"),
    ("", "'' is not a financial year: write it like 2026/27"),
    ("1899/00", "'1899/00': the year must be between 1900 and 2100"),
    ("2100/01", "'2100/01': the year must be between 1900 and 2100"),
])
def test_financial_year_refused(text, message):
    assert refused(dates.financial_year, text) == message


@pytest.mark.parametrize("day,year", [
    (D(2027, 3, 31), "2026/27"),
    (D(2027, 4, 1), "2027/28"),
    (D(2026, 4, 1), "2026/27"),
    (D(2000, 1, 1), "1999/00"),
])
def test_financial_year_of(day, year):
    assert dates.financial_year_of(day) == year


@given(st.dates(min_value=D(1900, 4, 1), max_value=D(2100, 3, 31)))
def test_financial_year_of_a_date_contains_it(day):
    label, start, end = dates.financial_year(dates.financial_year_of(day))
    assert label == dates.financial_year_of(day)
    assert start <= day <= end
    assert (start.month, start.day, end.month, end.day) == (4, 1, 3, 31)


@pytest.mark.parametrize("text,expected", [
    ("2026Q1", (D(2026, 1, 1), D(2026, 3, 31))),
    ("2026Q2", (D(2026, 4, 1), D(2026, 6, 30))),
    ("2026Q3", (D(2026, 7, 1), D(2026, 9, 30))),
    ("2026-Q3", (D(2026, 7, 1), D(2026, 9, 30))),
    ("2026q3", (D(2026, 7, 1), D(2026, 9, 30))),
    (" 2026-q4 ", (D(2026, 10, 1), D(2026, 12, 31))),
])
def test_quarter(text, expected):
    assert dates.quarter(text) == expected


@pytest.mark.parametrize("text", ["2026Q0", "2026Q5", "Q3 2026", "2026 Q3", "26Q3", "2026/Q3", "2026", "",
                                  "２０２６Q3"])
def test_quarter_refused(text):
    message = f"{text!r} is not a quarter: write it like 2026Q3 (calendar quarters Q1 to Q4)"
    assert refused(dates.quarter, text) == message


def test_quarter_year_range():
    assert refused(dates.quarter, "1899Q4") == "'1899Q4': the year must be between 1900 and 2100"


# --- measures -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("door_alarm", ("door_alarm", 1, None)),
    ("window_alarmx4", ("window_alarm", 4, None)),
    ("lock_change@£85", ("lock_change", 1, 8500)),
    ("window_alarmx3@12.50", ("window_alarm", 3, 1250)),
    ("fire_extinguisher", ("fire_extinguisher", 1, None)),
    ("fire_extinguisherx2", ("fire_extinguisher", 2, None)),
    ("box_x", ("box_x", 1, None)),
    ("box_xx2@£1,000", ("box_x", 2, 100000)),
    ("door_alarmx", ("door_alarmx", 1, None)),   # no digits after the x: part of the code
    ("door_alarm@0", ("door_alarm", 1, 0)),      # callers decide about a zero cost
    ("door_alarmx007", ("door_alarm", 7, None)),
    (" door_alarmx2 ", ("door_alarm", 2, None)),
])
def test_measure_spec(text, expected):
    assert parse.measure_spec(text) == expected


MEASURE_FORMS = "write CODE, CODExQTY, CODE@COST or CODExQTY@COST, e.g. window_alarmx3@12.50"


@pytest.mark.parametrize("text,message", [
    ("door_alarmx0", "'door_alarmx0': the quantity must be a whole number above zero (at most 9999)"),
    ("door_alarmx10000", "'door_alarmx10000': the quantity must be a whole number above zero (at most 9999)"),
    ("door_alarm@", "'door_alarm@': the unit cost '' is not an amount of money: "
                    "write it like £1,234.50, 1234.50 or 1234"),
    ("door_alarm@-5", "'door_alarm@-5': the unit cost '-5': the amount cannot be negative"),
    ("door_alarm@1.234", "'door_alarm@1.234': the unit cost '1.234' has more decimals than pence: "
                         "use at most two, like 12.50"),
    ("Door_alarm", f"'Door_alarm' is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("door_alarmx-1", f"'door_alarmx-1' is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("@12", f"'@12' is not a code: {CODE_RULE}, e.g. door_alarm"),
    ("window_alarm x4", f"'window_alarm x4' is not a measure: {MEASURE_FORMS}"),
    ("", f"'' is not a measure: {MEASURE_FORMS}"),
])
def test_measure_spec_refused(text, message):
    assert refused(parse.measure_spec, text) == message


def test_a_code_ending_in_x_and_digits_needs_its_quantity():
    # "box_x2" alone reads as two of box_ : the quantity must be written out.
    assert parse.measure_spec("box_x2") == ("box_", 2, None)
    assert parse.measure_spec("box_x2x1") == ("box_x2", 1, None)


_CODES = st.from_regex(re.compile(r"[a-z0-9][a-z0-9_]{0,39}"), fullmatch=True)


@given(_CODES, st.integers(min_value=1, max_value=9999),
       st.none() | st.integers(min_value=0, max_value=parse.MAX_PENCE))
def test_measure_spec_round_trips(code, quantity, cost):
    text = f"{code}x{quantity}" + (f"@{parse.format_money(cost)}" if cost is not None else "")
    assert parse.measure_spec(text) == (code, quantity, cost)


# --- age bands -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dob,band", [
    (None, "unknown"),
    (D(2011, 11, 21), "unknown"),   # 14
    (D(2010, 11, 21), "unknown"),   # 15 until tomorrow
    (D(2010, 11, 20), "16-17"),     # 16 today
    (D(2008, 11, 21), "16-17"),
    (D(2008, 11, 20), "18-24"),
    (D(2001, 11, 20), "25-34"),
    (D(1991, 11, 20), "35-44"),
    (D(1981, 11, 20), "45-54"),
    (D(1971, 11, 20), "55-64"),
    (D(1961, 11, 21), "55-64"),
    (D(1961, 11, 20), "65+"),
    (D(1920, 1, 1), "65+"),
    ("2001-11-20", "25-34"),
    (D(2030, 1, 1), "unknown"),     # born after the date: a mistake, not a band
])
def test_age_band(dob, band):
    assert dates.age_band(dob, D(2026, 11, 20)) == band


def test_age_band_on_29_february():
    assert dates.age_band(D(2008, 2, 29), D(2026, 2, 28)) == "16-17"
    assert dates.age_band(D(2008, 2, 29), D(2026, 3, 1)) == "18-24"


# --- names and free text --------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("  Alex   Example ", "Alex Example"),
    ("Siân O'Brien-Ng", "Siân O'Brien-Ng"),
    ("Alex\tExample\n", "Alex Example"),
    ("Alex\r\nExample", "Alex Example"),
    ("x" * 120, "x" * 120),
])
def test_name_accepted(text, expected):
    assert parse.name(text) == expected


@pytest.mark.parametrize("text,message", [
    ("", "'': a name cannot be empty"),
    ("   \t ", "'   \\t ': a name cannot be empty"),
    ("Alex\x00Example", "'Alex\\x00Example' contains control characters: type the name as plain text"),
    ("Alex\x1b[31m", "'Alex\\x1b[31m' contains control characters: type the name as plain text"),
    ("Alex\x85", "'Alex\\x85' contains control characters: type the name as plain text"),
    ("Alex\udcff", "'Alex\\udcff' contains control characters: type the name as plain text"),
    ("x" * 121, f"{parse._show('x' * 121)} is longer than 120 characters: shorten it"),
])
def test_name_refused(text, message):
    assert refused(parse.name, text) == message


def test_text():
    assert parse.text("  Called the client.\nNo answer.\t(left no message) ") == \
        "Called the client.\nNo answer.\t(left no message)"
    assert parse.text("line one\r\nline two\rline three") == "line one\nline two\nline three"
    assert parse.text("x" * 2000) == "x" * 2000
    assert parse.text("x" * 500, max_len=500) == "x" * 500


@pytest.mark.parametrize("text,kwargs,message", [
    ("", {}, "'': the text cannot be empty"),
    (" \n\t ", {}, "' \\n\\t ': the text cannot be empty"),
    ("bell\x07", {}, "'bell\\x07' contains control characters: only newlines and tabs are allowed"),
    ("esc\x1b[2J", {}, "'esc\\x1b[2J' contains control characters: only newlines and tabs are allowed"),
    ("x\udc80y", {}, "'x\\udc80y' contains control characters: only newlines and tabs are allowed"),
    ("x" * 2001, {}, f"{parse._show('x' * 2001)} is longer than 2000 characters: shorten it"),
    ("x" * 501, {"max_len": 500}, f"{parse._show('x' * 501)} is longer than 500 characters: shorten it"),
])
def test_text_refused(text, kwargs, message):
    assert refused(parse.text, text, **kwargs) == message


# --- every parser, any text: a value or BadInput, nothing else ------------------------------------------

PARSERS = [
    parse.money, dates.date, parse.postcode, parse.postcode_district, parse.phone, parse.email, parse.code,
    parse.whole_number, parse.yes_no, dates.financial_year, dates.quarter, parse.measure_spec, parse.name,
    parse.text, parse.invoice,
]

# Text close to what each parser wants, with the traps: non-ASCII digits, letters that
# upper() turns into ASCII, control characters and lone surrogates.
_NEAR = st.text(
    alphabet=st.sampled_from(
        list("0123456789£$,.-/@x+() _Qq:aAzZgGiIrR") + ["١", "٢", "１", "２", "\x00", "\n", "\t", "\x85",
                                                       "ß", "ﬀ", "ı", "\u00a0", "\udcff", "é"]
    ),
    max_size=30,
)
# Thousands of digits: past 4,300 int() raises ValueError. Built, not drawn character
# by character, which would be slow.
_LONG = st.builds(
    lambda head, length, tail: head + "1" * length + tail,
    st.sampled_from(["", "£", "1/1/", "a", "door_alarmx", "door_alarm@", "2026/", "+44"]),
    st.integers(min_value=4000, max_value=6000),
    st.sampled_from(["", ".5", "@1", "x1", "Q1", "@example.org"]),
)
_ANY = st.text() | _NEAR | _LONG


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@settings(max_examples=100, deadline=None)
@given(value=_ANY)
def test_any_text_gives_a_value_or_bad_input(parser, value):
    try:
        result = parser(value)
    except BadInput as error:
        assert error.exit_code == 2
        assert "\n" not in error.message
        assert len(error.message) < 300
        return
    assume(result is not None)
    if isinstance(result, str):
        assert result == result.strip()
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]", result)


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=8))
def test_only_ascii_digits_count(digits):
    assume(not digits.isascii())
    for parser in (parse.money, parse.whole_number, parse.phone, dates.date, dates.quarter):
        with pytest.raises(BadInput):
            parser(digits)


@pytest.mark.parametrize(("value", "message"), [
    ("A-\n1", "'A-\\n1' contains control characters or line breaks: give the invoice number as printed on it"),
    ("INV\t1", "'INV\\t1' contains control characters or line breaks: give the invoice number as printed on it"),
    ("   ", "give the invoice number as printed on it"),
    ("X" * 41, "'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX...' is longer than 40 characters: give the invoice number "
               "as printed on it"),
])
def test_an_invoice_number_is_one_short_line(value, message):
    # Any text was taken: a line break or 2,000 characters went into the ledger as an invoice number.
    with pytest.raises(BadInput) as caught:
        parse.invoice(value)
    assert caught.value.message == message


def test_an_invoice_number_is_trimmed_and_compared_as_people_read_it():
    assert parse.invoice("  INV-1001 ") == "INV-1001"
    assert parse.invoice("X" * 40) == "X" * 40
    assert parse.invoice_key("Ａ-1") == parse.invoice_key("a-1") == parse.invoice_key("A-1") == "a-1"
