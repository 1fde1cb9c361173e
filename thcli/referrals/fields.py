"""What a referral records (:class:`ReferralInput`), where each field is stored, and the rules its values
must meet (:func:`check`): one definition for adding, editing and the wizard alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from thcli import clock, codes, dates, parse, workflow
from thcli.cases import CONSENT_SCOPES
from thcli.db import Database, one
from thcli.errors import BadInput

SAFE_CHANNELS = ("call", "text", "voicemail", "email", "post")
LANDLORD_PERMISSIONS = ("requested", "granted", "refused", "not_needed")


@dataclass
class ReferralInput:
    """Everything a referral can record, already parsed (see parse.py).

    ``None`` means "not given" (unknown); contact channels are unsafe unless
    marked safe.
    """

    name: str
    postcode: str
    district: str
    route: str
    risk_level: str
    received_on: dt.date | None = None
    #: the time of day it came in (None: not known; today's referral without one is received now)
    received_time: dt.time | None = None
    emergency: bool = False
    marac: bool | None = None
    marac_date: dt.date | None = None
    dash_date: dt.date | None = None
    dash_score: int | None = None
    referral_form: bool = False
    crime_ref: str | None = None
    referrer_name: str | None = None
    referrer_org: str | None = None
    referrer_role: str | None = None
    referrer_phone: str | None = None
    referrer_email: str | None = None
    support_worker: str | None = None
    dob: dt.date | None = None
    gender: str | None = None
    ethnicity: str | None = None
    disabled: bool | None = None
    access_needs: str | None = None
    language: str | None = None
    interpreter: bool | None = None
    nrpf: bool | None = None
    lgbt: bool | None = None
    mental_health_needs: bool | None = None
    substance_use_needs: bool | None = None
    address: str | None = None
    do_not_disclose: bool = False
    phone: str | None = None
    safe_call: bool = False
    safe_text: bool = False
    safe_voicemail: bool = False
    email: str | None = None
    safe_email: bool = False
    safe_post: bool = False
    safe_times: str | None = None
    third_party_name: str | None = None
    third_party_phone: str | None = None
    adults: int | None = None
    children: int | None = None
    children_ages: str | None = None
    pregnant: bool | None = None
    tenure: str | None = None
    landlord_name: str | None = None
    landlord_email: str | None = None
    landlord_phone: str | None = None
    chooses_to_stay: bool | None = None
    perpetrator_lives_there: bool | None = None
    perpetrator_can_enter: bool | None = None
    perpetrator_name: str | None = None
    perpetrator_relationship: str | None = None
    perpetrator_whereabouts: str | None = None
    perpetrator_court_orders: str | None = None
    perpetrator_notes: str | None = None
    consent: list[str] = field(default_factory=list)
    note: str | None = None
    new_client: bool = False

# Which code list each coded field of a referral belongs to.
CODED_FIELDS = {
    "district": "district",
    "route": "route",
    "risk_level": "risk",
    "gender": "gender",
    "ethnicity": "ethnicity",
    "tenure": "tenure",
    "perpetrator_relationship": "relationship",
    "perpetrator_whereabouts": "whereabouts",
}

CLIENT_FIELDS = (
    "dob", "gender", "ethnicity", "disabled", "access_needs", "language", "interpreter",
    "nrpf", "lgbt", "mental_health_needs", "substance_use_needs",
)

CASE_FIELDS = (
    "received_on", "district", "route", "risk_level", "emergency", "marac", "marac_date",
    "dash_date", "dash_score", "referral_form", "crime_ref", "referrer_name", "referrer_org",
    "referrer_role", "referrer_phone", "referrer_email", "support_worker", "adults", "children",
    "children_ages", "pregnant", "tenure", "landlord_name", "landlord_email", "landlord_phone",
    "chooses_to_stay", "perpetrator_lives_there", "perpetrator_can_enter",
)

CONTACT_FIELDS = {
    "phone": "phone", "safe_call": "safe_call", "safe_text": "safe_text",
    "safe_voicemail": "safe_voicemail", "email": "email", "safe_email": "safe_email",
    "safe_post": "safe_post", "safe_times": "safe_times", "third_party_name": "third_party_name",
    "third_party_phone": "third_party_phone",
}

PERPETRATOR_FIELDS = {
    "perpetrator_name": "name", "perpetrator_relationship": "relationship",
    "perpetrator_whereabouts": "whereabouts", "perpetrator_court_orders": "court_orders",
    "perpetrator_notes": "notes",
}

ADDRESS_FIELDS = ("address", "postcode", "do_not_disclose")


def sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def check(db: Database, data: ReferralInput, *, today: dt.date | None = None,
          kept: frozenset[str] = frozenset()) -> None:
    """Every rule a referral's values must meet; BadInput (exit 2) naming the option.

    ``kept`` names fields an edit leaves as they were: a code retired since is
    still valid there (retiring a code keeps old cases valid).
    """
    today = today or clock.today()
    for name, list_name in CODED_FIELDS.items():
        value = getattr(data, name)
        if value is not None:
            try:
                codes.require(db, list_name, value, allow_retired=name in kept)
            except BadInput as error:
                raise error.for_option("--" + name.replace("_level", "").replace("_", "-")) from None
    for scope in data.consent:
        if scope not in CONSENT_SCOPES:
            raise BadInput(f"{scope!r} is not a consent scope: use {', '.join(CONSENT_SCOPES)}", "--consent")
    received = data.received_on or today
    if received > today:
        raise BadInput(f"{dates.format_date(received)} is in the future: a referral is logged once received",
                       "--received")
    if data.received_time is not None and received == today and data.received_time > clock.now().time():
        raise BadInput(f"{dates.format_time(data.received_time)} today is in the future: a referral is logged "
                       "once received", "--received")
    for option, value in (("--dob", data.dob), ("--dash-date", data.dash_date), ("--marac-date", data.marac_date)):
        if value is not None and value > today:
            raise BadInput(f"{option}: {dates.format_date(value)} is in the future")
    if data.dob is not None and data.dob > received:
        raise BadInput("--dob: the date of birth is after the referral date")
    if data.marac_date is not None and data.marac is False:
        raise BadInput("--marac-date was given with --no-marac: leave one of them out")
    if data.dash_score is not None and not 0 <= data.dash_score <= 27:
        raise BadInput(f"--dash-score: {data.dash_score} is not a DASH score: use 0 to 27")
    needs = (
        (data.safe_call or data.safe_text or data.safe_voicemail, data.phone,
         "--safe-to-call, --safe-to-text and --safe-voicemail need --phone"),
        (data.safe_email, data.email, "--safe-email needs --email"),
        (data.safe_post, data.address, "--safe-post needs --address"),
    )
    for marked, detail, message in needs:
        if marked and not detail:
            raise BadInput(message)
    if data.adults is not None and data.adults < 1:
        raise BadInput("--adults: a household has at least one adult (the client)")


#: What the eligibility rules read of a referral (eligibility.problems).
ELIGIBILITY_FIELDS = ("route", "marac", "risk_level", "tenure", "dash_date", "referral_form", "chooses_to_stay",
                      "perpetrator_lives_there", "perpetrator_can_enter")


def eligibility_warnings(db: Database, data: ReferralInput) -> list[str]:
    """The scheme's eligibility rules this referral fails, in words, each naming its rule."""
    return workflow.eligibility_problems(db, {name: getattr(data, name) for name in ELIGIBILITY_FIELDS})


def received_at(data: ReferralInput, today: dt.date) -> str | None:
    """The moment a referral came in, as stored (``2026-12-01T16:30``): the time given, or now for a referral
    received today without one; None when the time is not known (an earlier day's referral)."""
    received = data.received_on or today
    time = data.received_time
    if time is None and received == today:
        time = clock.now().time()
    return dt.datetime.combine(received, time).isoformat(timespec="minutes") if time is not None else None


def current_address(db: Database, client_id: int, data: ReferralInput, now: str) -> int:
    """The client's current address row for this referral (new if it changed)."""
    key = parse.postcode_key(data.postcode)
    current = one(
        db, "SELECT id, address, postcode_key FROM addresses WHERE client_id = ? AND current = 1",
        [client_id],
    )
    if current and current["postcode_key"] == key and (data.address in (None, current["address"])):
        db["addresses"].update(current["id"], {"do_not_disclose": int(data.do_not_disclose)})
        return current["id"]
    if current:
        db["addresses"].update(current["id"], {"current": 0, "ended_at": now})
    return db["addresses"].insert(
        {
            "client_id": client_id, "address": data.address or "", "postcode": data.postcode,
            "postcode_key": key, "do_not_disclose": int(data.do_not_disclose), "current": 1,
            "recorded_at": now,
        }
    ).last_pk
