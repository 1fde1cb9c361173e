"""The kinds of letter: who each goes to, what it may say, at which points of a case it is true,
and the names of the safety rules that refuse one."""

from __future__ import annotations

from dataclasses import dataclass

from thcli import screening
from thcli.errors import BadInput, NotAllowed

#: Who a letter can go to. Everyone but the survivor is a professional.
RECIPIENTS = {
    "referrer": "the referrer",
    "survivor": "the client",
    "cro": "the surveyor",
    "landlord": "the landlord",
    "contractor": "the contractor",
}

PROFESSIONALS = ("referrer", "cro", "landlord", "contractor")

#: Merge fields every template may use.
COMMON_FIELDS = (
    "scheme_name", "scheme_address", "scheme_address_line", "scheme_phone", "scheme_email", "marking",
    "date", "ref", "subject", "recipient", "to_survivor", "recipient_name", "recipient_address",
    "salutation", "coordinator", "client_name", "contact_us",
    # What the letter is headed with: the case's district's details where set (codes edit district), the
    # scheme's otherwise; and the close that goes with the salutation ("Yours faithfully" to Sir or Madam).
    "letterhead", "letterhead_address", "letterhead_address_line", "letterhead_phone", "letterhead_email",
    "valediction",
)

@dataclass(frozen=True)
class Kind:
    """A kind of letter: who it goes to, what it may say, which cases a batch takes."""

    name: str
    title: str
    #: recipients in order of preference (a referrer letter goes to the client when there is no referrer)
    recipients: tuple[str, ...]
    #: the status ``letter batch`` takes by default
    batch_status: str
    #: merge fields of this kind, besides COMMON_FIELDS (name -> what it holds)
    fields: dict[str, str]
    #: the statuses of a case this letter is made for (DESIGN.md §3: what is true at that point)
    statuses: tuple[str, ...] = ()
    #: the home's address may be written on it (even a do-not-disclose one)
    shows_home: bool = False
    #: the letter is about the home itself, so it is refused once the address is not current
    about_home: bool = False
    #: consent needed to share the client's details with the recipient (a survey request: the assessor's, see
    #: letters.safety.consent_needed)
    consent: str | None = None

    @property
    def all_fields(self) -> tuple[str, ...]:
        return COMMON_FIELDS + tuple(self.fields)

_FITTED = "list of measures fitted: m.label, m.quantity, m.fitted_on"

KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("acknowledgement", "Acknowledgement of a referral", ("referrer", "survivor"), "new", {
        "received_on": "the date the referral was received",
        "self_referral": "true when the client asked for help themself (not referred by someone else)",
        "referred_by": "who referred the client, as the client's letter says it (empty for a self-referral)",
        "contacted": "true once the client has been contacted (the case is past new)",
        "first_contact_on": "the date the client was first contacted (empty before)",
        "first_contact_by": "the date the client will be contacted by (empty once contacted)",
        "survey_by": "the date the survey should be done by",
    }, statuses=("new", "triage", "survey")),
    Kind("decline", "Referral not accepted", ("referrer", "survivor"), "declined", {
        "received_on": "the date the referral was received",
        "self_referral": "true when the client asked for help themself (not referred by someone else)",
        "referred_by": "who referred the client, as the client's letter says it (empty for a self-referral)",
        "decline_reason": "why the referral was declined, in plain words (to the client: addressed to them)",
        "declined_on": "the date it was declined",
    }, statuses=("declined",)),
    Kind("survey-request", "Request for a home security survey", ("cro",), "survey", {
        "surveyor": "the surveyor's name (from `thcli survey request`)",
        "shared_with": "who the client agreed we may share these details with: the police, or the contractor "
                       "whose surveyor visits",
        "home_address": "the home's address (lines)",
        "do_not_disclose": "true when the address must not be disclosed",
        "risk_level": "the risk level, with MARAC and emergency",
        "household": "adults and children in the household",
        "tenure": "the tenure of the home",
        "visit_needs": "disability, access needs, language and interpreter",
        "access": "how to arrange access by the safe contact route (lines)",
        "survey_by": "the date the survey should be done by",
        "requested_on": "the date the survey was requested",
    }, statuses=("triage", "survey"), shows_home=True, about_home=True, consent="police"),
    Kind("landlord-permission", "Request for the landlord's permission", ("landlord",), "approval", {
        "property": "the property's address (empty for a do-not-disclose address)",
        "measures": "list of measures: m.label, m.quantity, m.location",
        "reply_by": "the date the landlord should answer by",
        "landlord_contribution": "what the scheme asks the landlord to contribute, e.g. £150.00 (empty when "
                                 "nothing is asked: the work is at no cost to them)",
        "landlord_contribution_due": "what of it is still to be paid (empty once it is received)",
        "how_to_pay": "how the landlord pays it (setting landlord_payment)",
    }, statuses=("approval", "works"), about_home=True, consent="landlord"),
    Kind("works-order", "Works order", ("contractor",), "works", {
        "home_address": "the home's address (lines)",
        "do_not_disclose": "true when the address must not be disclosed",
        "access": "how to arrange access by the safe contact route (lines)",
        "order_date": "the date the measures were ordered",
        "complete_by": "the date the work should be complete by",
        "priority": "how urgent the work is, with the date, in words",
        "lines": "list of ordered lines: line.number, line.label, line.quantity, line.location, "
                 "line.unit_cost, line.cost",
        "total": "the order total, in pounds",
    }, statuses=("works",), shows_home=True, about_home=True, consent="contractor"),
    Kind("completion", "Measures fitted", ("referrer", "survivor"), "fitted", {
        "fitted": _FITTED,
        "fitted_on": "the date the last measure was fitted",
        "followups": "when the follow-ups still to come will be, in words (empty when none is left)",
    }, statuses=("fitted", "follow_up")),
    Kind("follow-up", "Follow-up after fitting", ("survivor", "referrer"), "follow_up", {
        "fitted": _FITTED,
        "fitted_on": "the date the last measure was fitted",
        "months_since": "how long ago that was, in words",
    }, statuses=("fitted", "follow_up")),
    Kind("bedroom-tax-evidence", "Evidence of sanctuary scheme measures", ("survivor",), "fitted", {
        "fitted": _FITTED,
        "fitted_on": "the date the last measure was fitted",
        "tenure": "the tenure of the home",
        "home_address_phrase": "' at ADDRESS' (empty for a do-not-disclose address)",
    }, statuses=("fitted", "follow_up", "closed"), about_home=True),
    Kind("equipment-removal", "Collection of lent equipment", ("survivor", "referrer"), "closed", {
        "equipment": "list of removable equipment in the home: m.label, m.quantity, m.fitted_on",
    }, statuses=("fitted", "follow_up", "closed", "withdrawn")),
]}

#: Words that give an account of the abuse: never in a landlord or contractor letter (screening.py's
#: vocabulary, ``FORBIDDEN_WORDS.search(text)``; the scheme's own words are added per letter).
FORBIDDEN_WORDS = screening.Screen()

#: Decline reasons that speak about the perpetrator: said to the referrer, never in a letter to the home.
PERPETRATOR_REASONS = ("perpetrator_in_home", "perpetrator_right_to_enter")

#: Tenures (by county code) where the under-occupancy deduction applies.
SOCIAL_TENURES = ("council", "housing_association")

SAFE_POST = "safe post"
PREVIOUS_ADDRESS = "previous address"
DO_NOT_DISCLOSE = "do not disclose"
NO_PERPETRATOR = "no perpetrator detail"
NO_ACCOUNT = "no account of the abuse"
CONSENT = "consent to share"


class LetterRefused(NotAllowed):
    """A safety rule says no to this letter (exit 1)."""

    def __init__(self, ref: str, kind: str, rule: str, why: str, fix: str = "", overridable: bool = False):
        self.ref, self.kind, self.rule, self.why, self.overridable = ref, kind, rule, why, overridable
        message = f"{ref}: the {kind} letter is refused by the safety rule \"{rule}\": {why}."
        if fix:
            message += f" {fix}"
        if overridable:
            message += " If you are sure it is safe, add --override-safety REASON (the override is audited)."
        super().__init__(message)


def with_article(word: str) -> str:
    """``a works-order``, ``an acknowledgement``."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def kind_spec(kind: str) -> Kind:
    """The kind named (BadInput naming the kinds when unknown)."""
    spec = KINDS.get(kind.strip().lower()) if isinstance(kind, str) else None
    if spec is None:
        raise BadInput(f"{kind!r} is not a kind of letter: use one of {', '.join(KINDS)}")
    return spec


@dataclass(frozen=True)
class Recipient:
    kind: str                       # referrer, survivor, cro, landlord, contractor
    contractor: str | None = None   # the contractor's code, for a works order
