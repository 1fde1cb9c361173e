"""The scheme's settings: what makes Boston different from South Holland.

Every setting is declared here once, with its type, default and a line of
help. Values are stored as text in the ``settings`` table and read back typed.
``thcli settings set`` parses a value with the same parsers as the options
(and scheme.py stores it: a changed time target moves every case's due date).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from thcli import codes, parse
from thcli.db import Database
from thcli.errors import BadInput, NotFound

DURATION_UNITS = {
    "working day": "working_days",
    "working days": "working_days",
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
    "month": "months",
    "months": "months",
}


@dataclass(frozen=True)
class Duration:
    """A time target: an amount of working days, hours, days or months."""

    amount: int
    unit: str  # working_days, hours, days, months

    def __str__(self) -> str:
        words = {"working_days": "working day", "hours": "hour", "days": "day", "months": "month"}
        word = words[self.unit]
        return f"{self.amount} {word}{'' if self.amount == 1 else 's'}"


def parse_duration(text: str) -> Duration:
    match = re.fullmatch(r"\s*([0-9]{1,4})\s*([a-z ]+?)\s*", text.lower().replace("_", " "))
    if not match or match.group(2) not in DURATION_UNITS:
        raise BadInput(
            f"{text!r} is not a time target: write for example '5 working days', "
            "'48 hours', '14 days' or '3 months'"
        )
    return Duration(int(match.group(1)), DURATION_UNITS[match.group(2)])


def _parse_prefix(text: str) -> str:
    value = text.strip()
    if not re.fullmatch(r"[A-Z]{1,6}", value):
        raise BadInput(f"{text!r} is not a reference prefix: use 1 to 6 capital letters, e.g. TH")
    return value


def _parse_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    return [parse.code(item) for item in items]


def _parse_int_list(text: str) -> list[int]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise BadInput(f"{text!r}: give whole numbers separated by commas, e.g. 3,6")
    return [parse.whole_number(item, minimum=1, maximum=120) for item in items]


def _parse_words(text: str) -> list[str]:
    """Words or short phrases separated by commas (letters, spaces, hyphens and apostrophes)."""
    words = []
    for item in text.split(","):
        word = " ".join(item.split()).lower()
        if not word:
            continue
        if not re.fullmatch(r"[^\W\d_]+(?:[-' ][^\W\d_]+)*", word) or len(word) < 2 or len(word) > 40:
            raise BadInput(f"{item.strip()!r} is not a word to screen for: use words or short phrases of letters, "
                           "separated by commas, e.g. 'gang, knuckleduster, no contact order'")
        words.append(word)
    return list(dict.fromkeys(words))


def _parse_text(text: str) -> str:
    return parse.text(text, max_len=500)


def _parse_list_or_all(text: str) -> list[str] | None:
    """``all`` (None: every code of the list, those added later too), or codes separated by commas."""
    if text.strip().lower() == "all":
        return None
    return _parse_list(text)


def _parse_documents(text: str) -> list[str]:
    return [] if text.strip().lower() == "none" else _parse_list(text)


def _parse_bool(text: str) -> bool:
    return parse.yes_no(text)


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str
    default: str
    help: str
    #: for list settings: the code list the items must belong to
    code_list: str | None = None
    #: hidden settings are kept by thcli itself and not shown or set by users
    hidden: bool = False
    #: whole numbers: the smallest and largest value that makes sense, and why the smallest
    minimum: int = 0
    maximum: int = 1000
    why_minimum: str = ""


#: The smallest suppression threshold anywhere (the district setting, ``county combine --threshold``):
#: below it a count of 1 would be published, and nothing would be suppressed.
SUPPRESSION_MINIMUM = 2
SUPPRESSION_WHY = f"below {SUPPRESSION_MINIMUM} nothing would be suppressed"

SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in [
        Setting("scheme_name", "label", "Sanctuary Scheme", "the scheme's name, as on letters"),
        Setting("scheme_code", "code", "scheme", "the scheme's code in county exports"),
        Setting("ref_prefix", "prefix", "TH", "case references are PREFIX-YYYY-NNNN"),
        Setting("scheme_address", "text", "", "the scheme's postal address, lines separated by commas"),
        Setting("scheme_phone", "phone", "", "the scheme's telephone number, as on letters"),
        Setting("scheme_email", "email", "", "the scheme's email address, as on letters"),
        Setting("surveyor_address", "text", "",
                "where survey requests to the police go (unless the assessor has its own address)"),
        Setting("default_assessor", "code", "police_cro",
                "who assesses a home when no --assessor is given (`thcli codes list assessor`)",
                code_list="assessor"),
        Setting("eligible_routes", "list_or_all", "all",
                "referral routes the scheme accepts: all, or route codes", code_list="route"),
        Setting("marac_required", "bool", "no", "yes when the scheme helps only cases heard at MARAC"),
        Setting("eligible_risks", "list", "standard,medium,high",
                "risk levels the scheme helps (e.g. high for MARAC-only schemes)", code_list="risk"),
        Setting("eligible_tenures", "list_or_all", "all",
                "tenures of the homes the scheme helps: all, or tenure codes", code_list="tenure"),
        Setting("required_documents", "documents", "",
                "documents needed before a survey or any later step: dash, referral_form (or none)"),
        Setting("works_offered", "bool", "yes", "no for equipment-only schemes (works measures cannot be approved)"),
        Setting("household_cap", "money", "0",
                "most a scheme spends on one household without an over-cap reason (0: no cap)"),
        Setting("contribution_cap", "money", "0",
                "most a scheme contributes towards works per household, as East Lindsey's £200 (0: no rule)"),
        Setting("landlord_payment", "text", "",
                "how a landlord pays a contribution, as their letter says it (e.g. by bank transfer to ...)"),
        Setting("protective_marking", "label", "OFFICIAL-SENSITIVE", "marking on letters to professionals"),
        Setting("target_first_contact", "duration", "1 working day", "first contact with the survivor after referral"),
        Setting("target_survey", "duration", "5 working days", "survey done after referral"),
        Setting("target_fitted", "duration", "10 working days",
                "measures fitted after referral (standard and medium risk)"),
        Setting("target_fitted_high", "duration", "48 hours", "measures fitted after referral for high-risk cases"),
        Setting("target_emergency", "duration", "1 day",
                "measures fitted after referral for emergency cases (same-day lock change)"),
        Setting("target_landlord", "duration", "10 working days", "landlord's answer after permission is requested"),
        Setting("followup_months", "int_list", "3,6", "follow-ups after fitting, in months"),
        Setting("equipment_review_months", "int", "12", "months after fitting when removable equipment is reviewed",
                minimum=1, maximum=120, why_minimum="a review is some months after fitting"),
        Setting("reorder_level", "int", "2", "stock at or below this quantity is flagged for reordering"),
        Setting("screened_words", "words", "",
                "words (or phrases) the scheme adds to those that no landlord, contractor or surveyor may read "
                "in a case's free text, e.g. 'gang, no contact order'"),
        Setting("moved_reasons", "list", "moved_away,rehoused,moved_on",
                "reasons for ending a case that mean the client has moved: the address stops being current and "
                "no letter goes there"),
        Setting("suppression_threshold", "int", "5", "counts below this are suppressed in the county summary",
                minimum=SUPPRESSION_MINIMUM, maximum=100, why_minimum=SUPPRESSION_WHY),
        Setting("retention_case_years", "int", "6", "years closed cases are kept after closing",
                minimum=1, maximum=100, why_minimum="a case is kept at least a year after it ends"),
        Setting("retention_finance_years", "int", "7", "years finance records are kept (6 + 1)",
                minimum=6, maximum=100,
                why_minimum="finance records are kept at least 6 years after their financial year"),
        Setting("demo", "bool", "no", "this database was made by `thcli demo`", hidden=True),
        Setting("due_dates_stale", "bool", "no", "stored due dates are to be worked out again (an upgrade)",
                hidden=True),
    ]
}

_PARSERS: dict[str, Callable[[str], Any]] = {
    "text": _parse_text,
    "label": parse.label,
    "list_or_all": _parse_list_or_all,
    "documents": _parse_documents,
    "code": parse.code,
    "prefix": _parse_prefix,
    "phone": parse.phone,
    "email": parse.email,
    "list": _parse_list,
    "words": _parse_words,
    "int_list": _parse_int_list,
    "bool": _parse_bool,
    "money": parse.money,
    "int": parse.whole_number,  # as stored; a value being set is checked against its range (_whole_number)
    "duration": parse_duration,
}


def setting(key: str) -> Setting:
    try:
        return SETTINGS[key]
    except KeyError:
        known = ", ".join(k for k, s in SETTINGS.items() if not s.hidden)
        raise NotFound(f"there is no setting {key!r}. Settings are: {known}") from None


def _typed(s: Setting, stored: str) -> Any:
    if s.kind in ("phone", "email", "text") and stored == "":
        return ""
    if s.kind in ("list", "words", "documents") and stored == "":
        return []
    return _PARSERS[s.kind](stored)


def _stored(s: Setting, value: Any) -> str:
    if s.kind == "list_or_all":
        return "all" if value is None else ",".join(value)
    if s.kind in ("list", "words", "documents"):
        return ",".join(value)
    if s.kind == "int_list":
        return ",".join(str(v) for v in value)
    if s.kind == "bool":
        return "yes" if value else "no"
    if s.kind == "money":
        return str(value)
    return str(value)


def get(db: Database, key: str) -> Any:
    """A setting's typed value (its default when never set)."""
    s = setting(key)
    row = db.conn.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    stored = row[0] if row else s.default
    if s.kind == "money":
        return int(stored) if stored.isascii() and stored.isdigit() else parse.money(stored)
    return _typed(s, stored)


def parse_value(db: Database | None, key: str, text: str) -> Any:
    """Parse a value for ``key`` as typed by a user (BadInput when wrong).

    Every setting is checked for a value that makes sense, not only one of
    the right type: no empty list of eligible risks, no retention of 0
    years, follow-ups in order, a time target of at least 1... Without a
    database (the scheme's identity, checked before one exists) a value is
    parsed only: no code list is looked up.
    """
    s = setting(key)
    if s.hidden:
        raise NotFound(f"there is no setting {key!r}")
    if s.kind in ("phone", "email") and text.strip() == "":
        return ""
    try:
        value = _whole_number(s, text) if s.kind == "int" else _PARSERS[s.kind](text)
        _check(s, value, text)
        if db is not None:
            _check_codes(db, s, value)
    except BadInput as error:
        if error.option or error.message.startswith(s.key):
            raise
        raise error.for_option(s.key) from None
    return value


def _check_codes(db: Database, s: Setting, value: Any) -> None:
    if s.key == "moved_reasons":
        lists = sorted(set(codes.REASON_LISTS.values()))
        for item in value:
            if not any(codes.get(db, name, item) for name in lists):
                raise BadInput(f"{item!r} is not a reason for ending a case: use codes of "
                               f"{', '.join(lists)} (see `thcli codes list outcome_reason`)")
    if s.code_list:
        for item in ([value] if isinstance(value, str) else value or []):
            codes.require(db, s.code_list, item)


def _whole_number(s: Setting, text: str) -> int:
    """A whole-number setting, in its range: the Setting's minimum and maximum are the one source of it."""
    try:
        return parse.whole_number(text, minimum=s.minimum, maximum=s.maximum)
    except BadInput:
        digits = text.strip()
        if not (digits.isascii() and digits.isdigit()):
            raise  # not a whole number at all: the message gives the range
    number = digits.lstrip("0") or "0"
    below = len(number) <= 18 and int(number) < s.minimum  # thousands of digits would choke int()
    why = f" ({s.why_minimum})" if s.why_minimum and below else ""
    shown = number if len(number) <= 20 else f"{number[:20]}..."
    raise BadInput(f"{s.key} is a whole number from {s.minimum} to {s.maximum}, not {shown}{why}")


def _check(s: Setting, value: Any, text: str) -> None:
    """The rules a setting's value meets beyond its type (BadInput saying what would make sense)."""
    if s.kind == "duration" and value.amount < 1:
        raise BadInput(f"{s.key} of {value} would be due at once: give at least 1, e.g. '1 working day' or "
                       "'4 hours'")
    if s.kind == "int_list" and list(value) != sorted(set(value)):
        raise BadInput(f"{text.strip()!r}: give the months in order, each once, e.g. 3,6")
    if s.kind in ("list", "list_or_all") and value is not None and len(value) != len(set(value)):
        raise BadInput(f"{text.strip()!r}: give each code once")
    if s.kind in ("list", "list_or_all") and value == [] and s.key != "moved_reasons":
        every = " (or all)" if s.kind == "list_or_all" else ""
        raise BadInput(f"{s.key} cannot be empty: give at least one {s.code_list} code{every}, e.g. "
                       f"{_EXAMPLES.get(s.key, 'high')}")
    if s.kind == "documents":
        unknown = [item for item in value if item not in DOCUMENTS]
        if unknown:
            raise BadInput(f"{', '.join(unknown)}: required documents can be dash and referral_form (or none)")
        if len(value) != len(set(value)):
            raise BadInput(f"{text.strip()!r}: give each document once")


#: An example value for a list setting that cannot be empty.
_EXAMPLES = {"eligible_risks": "high", "eligible_routes": "self,marac,idva", "eligible_tenures": "owner,council"}
#: The documents a scheme can require before a case goes on (setting required_documents).
DOCUMENTS = {"dash": "the DASH risk assessment", "referral_form": "the scheme's referral form"}


def put(db: Database, key: str, value: Any) -> None:
    """Store a typed value (inside the caller's transaction)."""
    s = setting(key)
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, _stored(s, value)],
    )


def display(s: Setting, value: Any) -> str:
    if s.kind == "money":
        return parse.format_money(value)
    if s.kind == "list_or_all":
        return "all" if value is None else ", ".join(value)
    if s.kind in ("list", "int_list", "words", "documents"):
        return ", ".join(str(v) for v in value) or "(none)"
    if s.kind == "bool":
        return "yes" if value else "no"
    return str(value) if value != "" else "(not set)"


def all_settings(db: Database) -> list[dict]:
    """Every visible setting with its value, as plain dicts (for show)."""
    out = []
    for s in SETTINGS.values():
        if s.hidden:
            continue
        value = get(db, s.key)
        if isinstance(value, Duration):
            json_value: Any = str(value)
        elif s.kind == "list_or_all" and value is None:
            json_value = "all"
        else:
            json_value = value
        out.append({"key": s.key, "value": json_value, "display": display(s, value), "help": s.help})
    return out
