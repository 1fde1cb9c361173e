"""Letters: Word documents from the scheme's templates, safe by default (DESIGN.md §6).

A letter is made from a template (a .docx with docxtpl merge fields: the
defaults ship in ``thcli/templates/``, a scheme may replace any of them with
its own, kept in the ``letter_templates`` table), for one case and one
recipient, and written as ``REF-KIND-DATE.docx`` (mode 0600, through a
temporary file and a link, never over a file: a second letter of the same
name is ``REF-KIND-DATE-2.docx``; a name made from a stored reference that
would leave the folder is refused). Each letter is recorded in the
``letters`` table, on the case timeline and in the audit log with the file's
SHA-256, which is always the hash of the file at the recorded path.

A kind is made only at the points of a case where what it says is true
(:attr:`Kind.statuses`: an acknowledgement before the survey, a completion
after the fitting...), and the dates it promises are the case's own due
dates (targets.case_targets), never on or before the letter's date.

The safety rules, each refusing the letter with a message that names the rule:

- **safe post**: a letter to the survivor's home needs post marked safe; the
  only rule that can be overridden (``--override-safety REASON``, audited);
- **previous address**: no letter goes to, mentions or is about an address
  that is not current (a previous address, or the home of a client who moved);
- **do not disclose**: a do-not-disclose address is written only on the works
  order and the survey request (other letters leave it out, and are refused
  if it turns up in what they would say);
- **no perpetrator detail**: the perpetrator's name appears in no letter, and
  no part of it (given name, surname, "Mr Surname"...) in the free text a
  landlord, contractor or surveyor reads (screening.py);
- **no account of the abuse**: landlord and contractor letters never use a
  word of screening's vocabulary, in the merge data or in the letter as the
  template writes it, and no third party reads such a word in a case's free
  text;
- **consent to share**: survey requests need consent to share with the
  police, landlord letters with the landlord, works orders with the
  contractor.

Letters to professionals (referrer, surveyor, landlord, contractor) carry the
protective marking (setting ``protective_marking``); the document's own
properties (author, title, subject, comments, last modified by) are set by
thcli.

Rendering compiles each template once (docxtpl's own clean-up of Word's split
runs, then Jinja, in templating.py's sandbox after its check) and keeps it in
memory, so that ``letter batch`` makes 500 letters in a few seconds.
python-docx, docxtpl and Jinja are imported only when a template is compiled.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thcli import audit, case_files, clock, codes, parse, screening, settings, targets, templating, workflow
from thcli.cases import case_row, consent_state, event
from thcli.db import Database, one, write
from thcli.errors import BadInput, NotAllowed, NotFound
from thcli.files import (
    inside,
    is_docx,
    may_replace,
    printable,
    private_folder,
    publish_new,
    sync_folder,
    write_atomically,
)

# --- the kinds of letter -------------------------------------------------------

#: Who a letter can go to. Everyone but the survivor is a professional.
RECIPIENTS = {
    "referrer": "the referrer",
    "survivor": "the client",
    "cro": "the Crime Reduction Officer",
    "landlord": "the landlord",
    "contractor": "the contractor",
}
PROFESSIONALS = ("referrer", "cro", "landlord", "contractor")

#: Merge fields every template may use.
COMMON_FIELDS = (
    "scheme_name", "scheme_address", "scheme_address_line", "scheme_phone", "scheme_email", "marking",
    "date", "ref", "subject", "recipient", "to_survivor", "recipient_name", "recipient_address",
    "salutation", "coordinator", "client_name", "contact_us",
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
    #: consent needed to share the client's details with the recipient
    consent: str | None = None

    @property
    def all_fields(self) -> tuple[str, ...]:
        return COMMON_FIELDS + tuple(self.fields)


_FITTED = "list of measures fitted: m.label, m.quantity, m.fitted_on"
KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("acknowledgement", "Acknowledgement of a referral", ("referrer", "survivor"), "new", {
        "received_on": "the date the referral was received",
        "contacted": "true once the client has been contacted (the case is past new)",
        "first_contact_on": "the date the client was first contacted (empty before)",
        "first_contact_by": "the date the client will be contacted by (empty once contacted)",
        "survey_by": "the date the survey should be done by",
    }, statuses=("new", "triage", "survey")),
    Kind("decline", "Referral not accepted", ("referrer", "survivor"), "declined", {
        "received_on": "the date the referral was received",
        "decline_reason": "why the referral was declined, in plain words",
        "declined_on": "the date it was declined",
    }, statuses=("declined",)),
    Kind("survey-request", "Request for a home security survey", ("cro",), "survey", {
        "surveyor": "the surveyor's name (from `thcli survey request`)",
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


def _a(word: str) -> str:
    """``a works-order``, ``an acknowledgement``."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


with_article = _a


def kind_spec(kind: str) -> Kind:
    """The kind named (BadInput naming the kinds when unknown)."""
    spec = KINDS.get(kind.strip().lower()) if isinstance(kind, str) else None
    if spec is None:
        raise BadInput(f"{kind!r} is not a kind of letter: use one of {', '.join(KINDS)}")
    return spec


def default_out_dir(db_path: Path) -> Path:
    """Where letters go by default: a ``letters`` folder beside the database."""
    return Path(db_path).expanduser().resolve().parent / "letters"


# --- what a letter is made from --------------------------------------------------


@dataclass
class Scheme:
    """The scheme's settings a letter uses, read once per command."""

    name: str
    address_lines: list[str]
    phone: str
    email: str
    marking: str
    surveyor_address: list[str]
    rules: targets.Rules
    #: the scheme's own words to screen for (setting screened_words)
    screened_words: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, db: Database) -> Scheme:
        return cls(
            name=settings.get(db, "scheme_name"),
            address_lines=_lines_of(settings.get(db, "scheme_address")),
            phone=settings.get(db, "scheme_phone"),
            email=settings.get(db, "scheme_email"),
            marking=settings.get(db, "protective_marking"),
            surveyor_address=_lines_of(settings.get(db, "surveyor_address")),
            rules=targets.load_rules(db),
            screened_words=screening.extra_words(db),
        )

    @property
    def contact_us(self) -> str:
        if self.phone and self.email:
            return f"call us on {self.phone} or email {self.email}"
        if self.phone:
            return f"call us on {self.phone}"
        if self.email:
            return f"email {self.email}"
        return "contact the scheme office"


@dataclass
class CaseData:
    """Everything about a case a letter may draw on, read in one go (and nothing about the perpetrator
    except what is needed to keep it out)."""

    case: dict
    client_name: str
    address: dict | None
    contact: dict
    lines: list[dict]
    consent: dict[str, bool]
    surveyor: str | None
    tenure_label: str
    tenure_county: str | None
    risk_label: str
    reason_label: str
    contractors: dict[str, dict]
    #: disability, access needs, language and interpreter (for a surveyor's visit)
    client: dict = field(default_factory=dict)
    survey_requested_on: str | None = None
    #: follow-ups recorded so far
    followups_done: int = 0
    #: kept only to make sure they never appear in a letter
    perpetrator_names: list[str] = field(default_factory=list)
    previous_addresses: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return self.case["ref"]


def load_case(db: Database, ref: str) -> CaseData:
    """Read what letters need about a case (NotFound when there is no such case)."""

    case = case_row(db, ref)
    if case["client_id"] is None:
        raise NotAllowed(f"{case['ref']}: the client's details have been erased, so no letter can be made")
    client = one(db, "SELECT name, disabled, access_needs, language, interpreter FROM clients WHERE id = ?",
                 [case["client_id"]]) or {}
    address = one(db, "SELECT * FROM addresses WHERE id = ?", [case["address_id"]]) if case["address_id"] else None
    contact = one(db, "SELECT * FROM contacts WHERE case_id = ?", [case["id"]]) or {}
    cursor = db.conn.execute(
        """SELECT l.*, coalesce(c.label, l.code) AS label FROM measure_lines l
           LEFT JOIN codes c ON c.list = 'measure' AND c.code = l.code
           WHERE l.case_id = ? ORDER BY l.line""", [case["id"]])
    names = [d[0] for d in cursor.description]
    lines = [dict(zip(names, row, strict=True)) for row in cursor]
    contractors = {}
    for code in sorted({line["contractor"] for line in lines if line["contractor"]}):
        detail = one(db, "SELECT address, email, phone FROM contractor_details WHERE code = ?", [code]) or {}
        contractors[code] = {"label": codes.label(db, "contractor", code), **detail}
    survey = db.conn.execute("SELECT surveyor, requested_on FROM surveys WHERE case_id = ? ORDER BY id DESC LIMIT 1",
                             [case["id"]]).fetchone()
    tenure = codes.get(db, "tenure", case["tenure"]) if case["tenure"] else None
    perpetrators = screening.perpetrator_names(db, case["client_id"])
    followups_done = db.conn.execute("SELECT count(*) FROM followups WHERE case_id = ?", [case["id"]]).fetchone()[0]
    previous = [(row[0], row[1]) for row in db.conn.execute(
        "SELECT address, postcode FROM addresses WHERE client_id = ? AND current = 0", [case["client_id"]])]
    reason_list = workflow.REASON_LISTS.get(case["status"])
    return CaseData(
        case=case,
        client_name=client.get("name") or "",
        address=address,
        contact=contact,
        lines=lines,
        consent=consent_state(db, case["id"]),
        surveyor=survey[0] if survey else None,
        survey_requested_on=survey[1] if survey else None,
        tenure_label=tenure["label"] if tenure else "not recorded",
        tenure_county=(tenure["county_code"] or tenure["code"]) if tenure else None,
        risk_label=codes.label(db, "risk", case["risk_level"]),
        reason_label=codes.label(db, reason_list, case["reason"]) if reason_list and case["reason"] else "",
        contractors=contractors,
        client=client,
        followups_done=followups_done,
        perpetrator_names=perpetrators,
        previous_addresses=previous,
    )


# --- who the letter goes to ------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    kind: str                       # referrer, survivor, cro, landlord, contractor
    contractor: str | None = None   # the contractor's code, for a works order


def recipients_for(spec: Kind, data: CaseData, to: str | None) -> list[Recipient]:
    """Who this letter goes to: one recipient, or one per contractor for a works order without ``--to``."""
    if spec.name == "works-order":
        ordered = _ordered_by_contractor(data)
        if to is None or to == "contractor":
            return [Recipient("contractor", code) for code in ordered] or [Recipient("contractor")]
        if to not in ordered:
            known = ", ".join(ordered) or "none"
            raise BadInput(f"{to!r}: give a contractor with measures ordered on {data.ref} (ordered from: "
                           f"{known})", "--to")
        return [Recipient("contractor", to)]
    if to is None:
        first = spec.recipients[0]
        if first == "referrer" and not data.case["referrer_name"] and "survivor" in spec.recipients:
            return [Recipient("survivor")]  # a self-referral: the letter goes to the client
        return [Recipient(first)]
    if to not in spec.recipients:
        raise BadInput(f"{_a(spec.name)} letter goes to {' or '.join(spec.recipients)}, not {to!r}", "--to")
    return [Recipient(to)]


def _ordered_by_contractor(data: CaseData) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in data.lines:
        if line["status"] == "ordered" and line["contractor"]:
            out.setdefault(line["contractor"], []).append(line)
    return dict(sorted(out.items()))


# --- the merge data ---------------------------------------------------------------


def build_context(spec: Kind, data: CaseData, recipient: Recipient, scheme: Scheme, *, on: dt.date,
                  by: str) -> dict[str, Any]:
    """The merge fields of a letter (NotAllowed when the case lacks what the letter needs, or is at a point
    where the letter would not be true; LetterRefused when a letter about the home would go to one the client
    has left)."""
    require_status(spec, data)
    if spec.about_home or recipient.kind == "survivor":
        require_current_home(spec, data)
    case = data.case
    ref = data.ref
    rtype = recipient.kind
    name, address_lines, salutation = _addressee(spec, data, recipient, scheme)
    ctx: dict[str, Any] = {
        "scheme_name": scheme.name,
        "scheme_address": "\n".join(scheme.address_lines),
        "scheme_address_line": ", ".join(scheme.address_lines),
        "scheme_phone": scheme.phone,
        "scheme_email": scheme.email,
        "marking": scheme.marking if rtype in PROFESSIONALS else "",
        "date": parse.format_long_date(on),
        "ref": ref,
        "subject": "",
        "recipient": rtype,
        "to_survivor": rtype == "survivor",
        "recipient_name": name,
        "recipient_address": "\n".join(address_lines),
        "salutation": salutation,
        "coordinator": by,
        "client_name": data.client_name,
        "contact_us": scheme.contact_us,
    }
    received = dt.date.fromisoformat(case["received_on"])
    client = data.client_name
    survivor = rtype == "survivor"
    due = targets.case_targets(case, scheme.rules)
    if spec.name == "acknowledgement":
        ctx["subject"] = "Your request for help with home security" if survivor else f"Referral received: {client}"
        contacted = case["status"] != "new"
        contacted_on = db_date(case["first_contact_on"])
        ctx.update(received_on=parse.format_long_date(received), contacted=contacted,
                   first_contact_on=parse.format_long_date(contacted_on) if contacted and contacted_on else "",
                   first_contact_by="" if contacted else _promise(due.first_contact, on),
                   survey_by=_promise(due.survey, on))
    elif spec.name == "decline":
        ctx["subject"] = "Your request for help with home security" if survivor else \
            f"Referral of {client}: not accepted"
        ctx.update(received_on=parse.format_long_date(received), decline_reason=data.reason_label,
                   declined_on=parse.format_long_date(case["closed_on"] or on))
    elif spec.name == "survey-request":
        requested = db_date(data.survey_requested_on) if case["status"] == "survey" else None
        ctx["subject"] = f"Home security survey request: {ref}"
        ctx.update(surveyor=data.surveyor or "", home_address=_home(data, spec), do_not_disclose=_dnd(data),
                   risk_level=_risk(data), household=_household(case), tenure=data.tenure_label,
                   visit_needs=_visit_needs(data), access=_access(data, scheme),
                   survey_by=_promise(due.survey, on),
                   requested_on=parse.format_long_date(requested or on))
    elif spec.name == "landlord-permission":
        proposed = [line for line in data.lines if line["status"] in ("recommended", "approved")]
        if not proposed:
            raise NotAllowed(f"{ref} has no measures recommended or approved to ask the landlord about: record "
                             f"the survey first with `thcli survey record {ref} ...`")
        ctx["subject"] = f"Permission for security improvements: {client}"
        # Asked already: the answer is due by the case's own date; asked now, by this letter: counted from today.
        reply_due = due.landlord or targets.due_date(on, scheme.rules.landlord)
        ctx.update(property="" if _dnd(data) else _home(data, spec), measures=[_item(line) for line in proposed],
                   reply_by=_promise(reply_due, on))
    elif spec.name == "works-order":
        ordered = _ordered_by_contractor(data).get(recipient.contractor or "", [])
        if not ordered:
            raise NotAllowed(f"{ref} has no measures ordered from a contractor: order them with "
                             f"`thcli measures order {ref} --contractor CODE`")
        total = sum(line["estimated_cost_pence"] for line in ordered)
        order_date = max(db_date(line["ordered_on"]) or on for line in ordered)
        complete_by, on_target = targets.promise(due.fitted, on)
        ctx["subject"] = f"Works order {ref}"
        ctx.update(home_address=_home(data, spec), do_not_disclose=_dnd(data), access=_access(data, scheme),
                   order_date=parse.format_long_date(order_date),
                   complete_by=parse.format_long_date(complete_by),
                   priority=_priority(case, due.fitted_target, complete_by, on_target),
                   lines=[{"number": line["line"], "label": line["label"], "quantity": line["quantity"],
                           "location": line["location"] or "", "unit_cost": parse.format_money(line["unit_cost_pence"]),
                           "cost": parse.format_money(line["estimated_cost_pence"])} for line in ordered],
                   total=parse.format_money(total))
    elif spec.name in ("completion", "follow-up", "bedroom-tax-evidence"):
        fitted = [line for line in data.lines if line["status"] == "fitted"]
        if not fitted:
            raise NotAllowed(f"{ref} has no measures fitted yet: record them with "
                             f"`thcli measures fitted {ref} --date DATE`")
        fitted_on = db_date(case["fitted_on"]) or max(db_date(line["fitted_on"]) or on for line in fitted)
        ctx.update(fitted=[_item(line) for line in fitted], fitted_on=parse.format_long_date(fitted_on))
        if spec.name == "completion":
            ctx["subject"] = "The security measures at your home" if survivor else \
                f"Security measures fitted: {client}"
            ctx["followups"] = _followups(targets.followup_dates(fitted_on, scheme.rules, data.followups_done), on)
        elif spec.name == "follow-up":
            ctx["subject"] = "Checking on your home security" if survivor else f"Follow-up: {client}"
            ctx["months_since"] = _months_since(fitted_on, on)
        else:
            if data.tenure_county not in SOCIAL_TENURES:
                raise NotAllowed(
                    f"{ref}: the under-occupancy deduction applies only to council and housing association "
                    f"tenants, and this home's tenure is {data.tenure_label.lower()}. Correct the tenure with "
                    f"`thcli referral edit {ref} --tenure CODE` if it is wrong")
            home = "" if _dnd(data) else _home(data, spec).replace("\n", ", ")
            ctx["subject"] = "Confirmation of sanctuary scheme measures at your home"
            ctx.update(tenure=data.tenure_label, home_address_phrase=f" at {home}" if home else "")
    elif spec.name == "equipment-removal":
        lent = [line for line in data.lines if line["status"] == "fitted" and line["removable"]]
        if not lent:
            raise NotAllowed(f"{ref} has no removable equipment in the home to collect")
        ctx["subject"] = "Collecting lent security equipment" if survivor else \
            f"Collecting lent security equipment: {client}"
        ctx["equipment"] = [_item(line) for line in lent]
    return _clean(ctx)


def db_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def require_status(spec: Kind, data: CaseData) -> None:
    """Refuse (NotAllowed) a letter the case's status makes untrue: an acknowledgement after the survey, a
    completion before the fitting..."""
    status = data.case["status"]
    if status in spec.statuses:
        return
    ref = data.ref
    if spec.name == "decline":
        raise NotAllowed(f"{ref} is {status}, not declined: decline it first with "
                         f"`thcli referral move {ref} declined --reason CODE`")
    raise NotAllowed(f"{ref} is {status}: {_a(spec.name)} letter is only made for a case that is "
                     f"{one_of(spec.statuses)}")


def one_of(words: Iterable[str]) -> str:
    """``new, triage or survey``."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def require_current_home(spec: Kind, data: CaseData) -> None:
    """A letter about the home (or to it) is refused once the client no longer lives there."""
    if data.address is not None and not data.address["current"]:
        raise LetterRefused(
            data.ref, spec.name, PREVIOUS_ADDRESS,
            "the case's address is no longer the client's current address, and no letter goes to or "
            "is about a home the client has left",
            f"If the client has moved within the scheme's area, record the new address with "
            f"`thcli referral edit {data.ref} --address TEXT --postcode POSTCODE`.")


def _priority(case: dict, target: settings.Duration, complete_by: dt.date, on_target: bool) -> str:
    """The works order's sentence on urgency: true to the case's own target, never claiming a missed one."""
    by = parse.format_long_date(complete_by)
    urgent = bool(case["emergency"]) or case["risk_level"] == "high"
    if on_target:
        if urgent:
            return f"Urgent: the work must be complete by {by}, within {target} of the referral."
        return f"Standard priority: please complete the work by {by}, within {target} of the referral."
    if urgent:
        return f"Urgent: please complete the work as soon as possible, and by {by} at the latest."
    return f"Please complete the work as soon as possible, and by {by} at the latest."


def _addressee(spec: Kind, data: CaseData, recipient: Recipient, scheme: Scheme) -> tuple[str, list[str], str]:
    """The recipient's name, address lines and salutation (NotAllowed when not recorded)."""
    case, ref = data.case, data.ref
    if recipient.kind == "referrer":
        if not case["referrer_name"]:
            raise NotAllowed(f"{ref} has no referrer recorded: add one with `thcli referral edit {ref} --referrer "
                             f"NAME`, or write to the client with --to survivor")
        lines = [x for x in (case["referrer_role"], case["referrer_org"]) if x]
        if case["referrer_email"]:
            lines.append(f"By email: {case['referrer_email']}")
        return case["referrer_name"], lines, f"Dear {case['referrer_name']}"
    if recipient.kind == "survivor":
        lines = [] if _dnd(data) else _home(data, spec).split("\n")
        return data.client_name, lines, f"Dear {data.client_name}"
    if recipient.kind == "cro":
        if not scheme.surveyor_address:
            raise NotAllowed("where survey requests go is not set: set it with "
                             "`thcli settings set surveyor_address \"Crime Reduction Officers, ..., POSTCODE\"`")
        name = data.surveyor or "The Crime Reduction Officer"
        return name, scheme.surveyor_address, f"Dear {data.surveyor}" if data.surveyor else \
            "Dear Crime Reduction Officer"
    if recipient.kind == "landlord":
        if data.tenure_county not in codes.RENTED_TENURES:
            raise NotAllowed(f"{ref}: the home is not rented (tenure {data.tenure_label.lower()}), so there is "
                             f"no landlord to write to")
        if not case["landlord_name"]:
            raise NotAllowed(f"{ref} has no landlord recorded: add one with `thcli referral edit {ref} --landlord "
                             f"NAME --landlord-email EMAIL`")
        lines = [f"By email: {case['landlord_email']}"] if case["landlord_email"] else []
        return case["landlord_name"], lines, f"Dear {case['landlord_name']}"
    contractor = data.contractors.get(recipient.contractor or "")
    if contractor is None:
        raise NotAllowed(f"{ref} has no measures ordered from a contractor: order them with "
                         f"`thcli measures order {ref} --contractor CODE`")
    lines = _lines_of(contractor.get("address") or "")
    if contractor.get("email"):
        lines.append(f"By email: {contractor['email']}")
    return contractor["label"], lines, "Dear Sir or Madam"


def _dnd(data: CaseData) -> bool:
    return bool(data.address and data.address["do_not_disclose"])


def _home(data: CaseData, spec: Kind) -> str:
    """The home's address as lines (the case's address, which must be current)."""
    address = data.address
    if address is None or (not address["address"] and not address["postcode"]):
        raise NotAllowed(f"{data.ref} has no address recorded: add it with `thcli referral edit {data.ref} "
                         f"--address TEXT --postcode POSTCODE`")
    if not address["current"]:
        raise LetterRefused(
            data.ref, spec.name, PREVIOUS_ADDRESS,
            "the case's address is no longer the client's current address, and no letter goes to or "
            "describes a previous address",
            f"Record where the client lives now with `thcli referral edit {data.ref} --address TEXT "
            f"--postcode POSTCODE`.")
    return "\n".join(_lines_of(address["address"]) + [address["postcode"]])


def _lines_of(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _item(line: dict) -> dict:
    return {"label": line["label"], "quantity": line["quantity"], "location": line["location"] or "",
            "fitted_on": parse.format_long_date(line["fitted_on"]) if line["fitted_on"] else ""}


def _risk(data: CaseData) -> str:
    case = data.case
    text = data.risk_label
    if case["marac"]:
        text += " (MARAC)"
    if case["emergency"]:
        text += "; emergency"
    return text


def _household(case: dict) -> str:
    parts = []
    if case["adults"] is not None:
        parts.append(f"{case['adults']} adult{'s' if case['adults'] != 1 else ''}")
    if case["children"] is not None:
        text = f"{case['children']} child{'ren' if case['children'] != 1 else ''}"
        if case["children"] and case["children_ages"]:
            text += f" (ages {case['children_ages']})"
        parts.append(text)
    if case["pregnant"]:
        parts.append("a pregnancy")
    return ", ".join(parts) or "not recorded"


def _visit_needs(data: CaseData) -> str:
    client = data.client
    parts = []
    if client.get("disabled"):
        parts.append("disabled")
    if client.get("access_needs"):
        parts.append(client["access_needs"])
    if client.get("interpreter"):
        parts.append(f"interpreter needed ({client['language']})" if client.get("language") else "interpreter needed")
    elif client.get("language"):
        parts.append(f"speaks {client['language']}")
    return "; ".join(parts) or "none recorded"


def _access(data: CaseData, scheme: Scheme) -> str:
    """How to arrange a visit, by the routes marked safe only."""
    k = data.contact
    lines = []
    phone = k.get("phone")
    if phone and k.get("safe_call"):
        text = f"Telephone {phone}"
        if k.get("safe_text"):
            text += "; texts are safe"
        if not k.get("safe_voicemail"):
            text += "; do not leave a voicemail"
        lines.append(text)
    elif phone and k.get("safe_text"):
        lines.append(f"Text {phone} only; do not call")
    if k.get("email") and k.get("safe_email"):
        lines.append(f"Email {k['email']}")
    if k.get("third_party_name"):
        lines.append("Through " + " on ".join(x for x in (k["third_party_name"], k.get("third_party_phone")) if x))
    if not lines:
        office = f" ({scheme.phone})" if scheme.phone else ""
        lines.append(f"Only through the scheme office{office}: do not contact the resident directly")
    if k.get("safe_times"):
        lines.append(f"Safe times: {k['safe_times']}")
    return "\n".join(lines)


def _promise(due: dt.date, on: dt.date) -> str:
    """A due date of the case as a letter dated ``on`` may promise it (targets.promise: always after ``on``)."""
    return parse.format_long_date(targets.promise(due, on)[0])


def _followups(dates: Iterable[dt.date], on: dt.date) -> str:
    """``in February 2027 and May 2027``: the follow-ups still to come (empty when none is)."""
    coming = [d for d in dates if d > on]
    if not coming:
        return ""
    words = list(dict.fromkeys(f"{parse.MONTHS[d.month - 1]} {d.year}" for d in coming))
    return "in " + (" and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else words[0])


def _months_since(fitted_on: dt.date, on: dt.date) -> str:
    months = (on.year - fitted_on.year) * 12 + on.month - fitted_on.month - (on.day < fitted_on.day)
    if months < 1:
        return "a few weeks"
    return "one month" if months == 1 else f"{months} months"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(value: Any) -> Any:
    """Strip characters a Word document cannot hold (keeping line breaks)."""
    if isinstance(value, str):
        return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


# --- the safety rules ---------------------------------------------------------------


def _texts(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every text in the merge data, with where it is (``lines[2].location``)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, item in enumerate(value, start=1):
            yield from _texts(item, f"{where}[{i}]")


def _where(path: str) -> str:
    """A merge field's path in words."""
    match = re.fullmatch(r"(\w+)\[(\d+)\]\.(\w+)", path)
    if match:
        return f"the {match.group(3)} of item {match.group(2)} of {match.group(1)}"
    return {"scheme_name": "the scheme's name (setting scheme_name)",
            "scheme_address": "the scheme's address (setting scheme_address)",
            "scheme_address_line": "the scheme's address (setting scheme_address)",
            "marking": "the protective marking (setting protective_marking)"}.get(path, f"the field {path}")


def _phrase(text: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in text.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


#: Recipients who are not told why the work is done, and what each is called in a refusal.
THIRD_PARTIES = {"landlord": "landlord", "contractor": "contractor", "cro": "surveyor"}


def free_text(spec: Kind, data: CaseData, recipient: Recipient) -> list[tuple[str, str | None, str]]:
    """The free text typed about the case that this letter can carry to a third party, as (what it is, the
    text, the command that changes it)."""
    if recipient.kind not in THIRD_PARTIES:
        return []
    ref, contact, items = data.ref, data.contact, []

    def field_of(name: str, value: str | None) -> tuple[str, str | None, str]:
        return screening.CASE_FIELDS[name][0], value, f"`{screening.case_fix(ref, name)}`"

    if spec.name in ("survey-request", "works-order"):  # the "arranging access" lines
        items += [field_of("safe_times", contact.get("safe_times")),
                  field_of("third_party_name", contact.get("third_party_name"))]
    if spec.name == "survey-request":  # visit needs and household
        items += [field_of("access_needs", data.client.get("access_needs")),
                  field_of("language", data.client.get("language")),
                  field_of("children_ages", data.case.get("children_ages"))]
    if spec.name == "landlord-permission":
        lines = [line for line in data.lines if line["status"] in ("recommended", "approved")]
    elif spec.name == "works-order":
        lines = _ordered_by_contractor(data).get(recipient.contractor or "", [])
    else:
        lines = []
    items += [(f"the location of measure line {line['line']}", line["location"],
               f"`{screening.line_fix(ref, line['line'])}`") for line in lines]
    return [item for item in items if item[1]]


def check_safety(spec: Kind, data: CaseData, recipient: Recipient, ctx: dict[str, Any], *,
                 override_reason: str | None, screen: screening.Screen | None = None) -> list[str]:
    """Refuse the letter (LetterRefused) if a safety rule says no; returns the rules overridden.

    ``screen`` holds the perpetrator's names and the scheme's vocabulary (made from ``data`` when not given).
    """
    ref = data.ref
    overridden: list[str] = []
    if spec.consent and not data.consent.get(spec.consent):
        raise LetterRefused(ref, spec.name, CONSENT,
                            f"there is no consent to share the client's details with the {spec.consent}",
                            f"Record it with `thcli referral consent {ref} --scope {spec.consent}` once given.")
    if recipient.kind == "survivor":
        if spec.name == "decline" and data.case["reason"] in PERPETRATOR_REASONS:
            raise LetterRefused(ref, spec.name, NO_PERPETRATOR,
                                "the reason for declining is about the perpetrator, which no letter to the "
                                "client's home may say", "Tell the client by a safe route instead, or write to "
                                "the referrer with --to referrer.")
        if data.address is None or not data.address["current"]:
            raise LetterRefused(ref, spec.name, PREVIOUS_ADDRESS,
                                "the case's address is no longer the client's current address, and no letter "
                                "goes to a previous address",
                                f"Record where the client lives now with `thcli referral edit {ref} --address "
                                f"TEXT --postcode POSTCODE`.")
        if not data.contact.get("safe_post"):
            if override_reason is None:
                raise LetterRefused(ref, spec.name, SAFE_POST,
                                    "post to the client's home is not marked safe",
                                    f"Write to the referrer instead (--to referrer) where the letter allows it, "
                                    f"or mark post safe with `thcli referral edit {ref} --safe-post` once the "
                                    f"client confirms it.", overridable=True)
            overridden.append(SAFE_POST)
    screen = screen or screening.Screen(data.perpetrator_names)
    for what, text, fix in free_text(spec, data, recipient):
        hit = screen.check(text)
        if hit:
            raise LetterRefused(ref, spec.name, NO_PERPETRATOR if hit.kind == "name" else NO_ACCOUNT,
                                f"{what} {hit.describe()}, which no {THIRD_PARTIES[recipient.kind]} may read",
                                f"Reword it with {fix}.")
    texts = [(_where(where), text) for where, text in _texts(ctx)]
    _refuse_leaks(spec, data, texts)
    if recipient.kind in ("landlord", "contractor"):
        for where, text in [(_where(path), text) for path, text in _texts(ctx) if not _is_label(path)]:
            word = screen.word(text)
            if word:
                raise LetterRefused(ref, spec.name, NO_ACCOUNT,
                                    f"{where} says {word!r}, and a {recipient.kind} letter "
                                    f"gives no account of the abuse", "Reword it before making the letter.")
    return overridden


def _is_label(path: str) -> bool:
    """A measure's name from the catalogue (``lines[2].label``): what is fitted, in the scheme's own words.

    It is printed as the catalogue has it (a contractor must know to fit an
    "alarm linked to the police"), so the words check leaves it alone; every
    other rule still reads it.
    """
    return re.fullmatch(r"\w+\[\d+\]\.label", path) is not None


def check_written(spec: Kind, data: CaseData, recipient: Recipient, text: str, screen: screening.Screen,
                  ctx: dict[str, Any] | None = None) -> None:
    """The same rules on the letter's whole text as it would be written (template wording and expressions
    included), after the merge data passed: what a template adds is checked too."""
    where = "the letter as it would be written"
    fix = (f"Change the template (`thcli letter templates export {spec.name} FILE`, edit, then `use`), or go "
           f"back to thcli's own with `thcli letter templates reset {spec.name}`.")
    _refuse_leaks(spec, data, [(where, text)], fix=fix)
    if recipient.kind in ("landlord", "contractor"):
        labels = sorted({t for path, t in _texts(ctx or {}) if _is_label(path) and t}, key=len, reverse=True)
        for label in labels:
            text = text.replace(label, " ")
        word = screen.word(text)
        if word:
            raise LetterRefused(data.ref, spec.name, NO_ACCOUNT,
                                f"{where} says {word!r}, and a {recipient.kind} letter gives no account of the "
                                f"abuse", fix)


def _refuse_leaks(spec: Kind, data: CaseData, texts: list[tuple[str, str]], *,
                  fix: str = "Remove it from the case's records before making the letter.") -> None:
    """The perpetrator's name, a previous address, or a do-not-disclose address where it may not be."""
    ref = data.ref
    for name in data.perpetrator_names:
        if len(name.strip()) < 2:
            continue
        pattern = _phrase(name)
        for where, text in texts:
            if pattern.search(text):
                raise LetterRefused(ref, spec.name, NO_PERPETRATOR, f"{where} contains the perpetrator's name", fix)
    current = data.address or {}
    current_key = parse.postcode_key(current.get("postcode") or "")
    for old_address, old_postcode in data.previous_addresses:
        patterns = [_phrase(line) for line in _telling_lines(old_address, current.get("address"))]
        if old_postcode and parse.postcode_key(old_postcode) != current_key:
            patterns.append(_postcode_pattern(old_postcode))
        for pattern in patterns:
            for where, text in texts:
                if pattern.search(text):
                    raise LetterRefused(ref, spec.name, PREVIOUS_ADDRESS,
                                        f"{where} contains a previous address of the client", fix)
    if _dnd(data) and not spec.shows_home:
        patterns = [_postcode_pattern(current["postcode"])] if current.get("postcode") else []
        patterns += [_phrase(line) for line in _telling_lines(current.get("address"), None)]
        for pattern in patterns:
            for where, text in texts:
                if pattern.search(text):
                    raise LetterRefused(ref, spec.name, DO_NOT_DISCLOSE,
                                        f"{where} contains the client's do-not-disclose address, which "
                                        f"only a works order or a survey request may carry", fix)


def _telling_lines(address: str | None, other: str | None) -> list[str]:
    """The lines of an address that point at one home (a number and a street), and are not in ``other``."""
    others = {line.lower() for line in _lines_of(other or "")}
    return [line for line in _lines_of(address or "")
            if len(line) >= 5 and re.search(r"\d", line) and line.lower() not in others]


def _postcode_pattern(postcode: str) -> re.Pattern[str]:
    key = parse.postcode_key(postcode)
    if len(key) < 5:
        return _phrase(postcode)
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(key[:-3]) + r"\s*" + re.escape(key[-3:]) + r"(?![A-Za-z0-9])",
                      re.IGNORECASE)


# --- templates ------------------------------------------------------------------------


def default_template(kind: str) -> bytes:
    """The default .docx of a kind, shipped in thcli/templates/."""
    from importlib import resources

    return resources.files("thcli.templates").joinpath(f"{kind_spec(kind).name}.docx").read_bytes()


def template_in_use(db: Database, kind: str) -> tuple[str, bytes, str]:
    """(``default`` or ``custom``, the .docx bytes, their SHA-256) for a kind."""
    spec = kind_spec(kind)
    row = db.conn.execute("SELECT content, sha256 FROM letter_templates WHERE kind = ?", [spec.name]).fetchone()
    if row:
        return "custom", bytes(row[0]), row[1]
    content = default_template(spec.name)
    return "default", content, hashlib.sha256(content).hexdigest()


_MARK = "THCLI-BODY-GOES-HERE"


class CompiledTemplate:
    """A .docx template compiled once: docxtpl's clean-up of Word's XML, then Jinja.

    Rendering a letter renders the compiled Jinja templates of the body,
    headers and footers, lets docxtpl resolve line breaks and tables, and
    writes the package again from the parts kept in memory, with new document
    properties. Nothing is read from disk per letter.
    """

    def __init__(self, content: bytes):
        import jinja2
        from docxtpl import DocxTemplate
        from lxml import etree

        self._etree = etree
        try:
            tpl = DocxTemplate(io.BytesIO(content))
            tpl.render_init()
        except Exception as error:  # python-docx says why in its own words
            raise BadInput(f"this is not a Word .docx file that thcli can read ({error})") from None
        self._tpl = tpl
        env = templating.environment()  # the sandbox: see templating.py
        self.sources: dict[str, str] = {}
        doc = tpl.docx
        body_name = doc.part.partname.lstrip("/")
        self.sources[body_name] = tpl.patch_xml(tpl.get_xml())
        root = etree.fromstring(etree.tostring(doc.element))
        body = root.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}body")
        for child in list(body):
            body.remove(child)
        body.text = _MARK
        shell = etree.tostring(root, encoding="unicode")
        start = shell.index(_MARK)
        open_tag = shell.rfind("<", 0, start)
        end = shell.index(">", start) + 1
        self._shell = (shell[:open_tag], shell[end:])
        self._body_name = body_name
        for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
            for _, part in tpl.get_headers_footers(uri):
                name = part.partname.lstrip("/")
                self.sources[name] = tpl.patch_xml(tpl.get_part_xml(part))
        try:
            split = {name: re.sub(r"<w:p([ >])", r"\n<w:p\1", src) for name, src in self.sources.items()}
            for src in split.values():  # before anything is compiled, let alone run
                templating.check(src, env)
            self._compiled = {name: env.from_string(src) for name, src in split.items()}
        except jinja2.TemplateSyntaxError as error:
            raise NotAllowed(f"the template has a merge field that cannot be read: {error.message} "
                             f"(near \"{_near(error)}\")") from None
        from docx.opc.constants import RELATIONSHIP_TYPE

        doc.core_properties  # noqa: B018  (makes sure the package has a core properties part)
        core_name = doc.part.package.part_related_by(RELATIONSHIP_TYPE.CORE_PROPERTIES).partname.lstrip("/")
        buffer = io.BytesIO()
        doc.save(buffer)
        with zipfile.ZipFile(buffer) as package:
            self._entries = [(info.filename, package.read(info.filename)) for info in package.infolist()]
        self._core_name = core_name
        # docxtpl's table fix-up is needed only where a {%tc %} loop changes a table's columns.
        self._column_loops = "{%tc" in self.sources[body_name]
        self.variables = self._variables(env)
        self.static_text = _static_text(self.sources.values())

    def _variables(self, env) -> set[str]:
        from jinja2 import meta

        names: set[str] = set()
        for src in self.sources.values():
            names |= meta.find_undeclared_variables(env.parse(src))
        return names

    def render(self, ctx: dict[str, Any], properties: dict[str, str]) -> bytes:
        """The finished .docx of a letter."""
        return self.render_with_text(ctx, properties)[0]

    def render_with_text(self, ctx: dict[str, Any], properties: dict[str, str]) -> tuple[bytes, str]:
        """The finished .docx of a letter, and its whole text (body, headers and footers) as a reader sees it."""
        import jinja2
        from jinja2.exceptions import SecurityError

        rendered: dict[str, bytes] = {}
        texts: list[str] = []
        try:
            for name, template in self._compiled.items():
                xml = self._finish(template.render(ctx))
                tree = self._etree.fromstring(xml.encode("utf-8"))  # proves the part is still well-formed XML
                if name == self._body_name:
                    if self._column_loops:
                        tree = self._tpl.fix_tables(xml)
                    body = self._etree.tostring(tree, encoding="unicode")
                    xml = self._shell[0] + body + self._shell[1]
                texts.append(_plain_text(tree))
                rendered[name] = _xml_declared(xml)
        except SecurityError as error:  # the sandbox said no (templating.check should have first)
            raise NotAllowed(f"the template tried something unsafe and was stopped: {error}") from None
        except jinja2.UndefinedError as error:
            raise NotAllowed(f"the template uses a merge field this letter does not have: {error.message}") from None
        except jinja2.TemplateError as error:
            raise NotAllowed(f"the template could not be filled in: {error}") from None
        except self._etree.XMLSyntaxError as error:
            raise NotAllowed(f"the template's merge tags break the document's structure ({error}); check that "
                             "each {%p ...%} and {%tr ...%} tag stands in its own paragraph or row") from None
        rendered[self._core_name] = _core_xml(properties)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
            for name, data in self._entries:
                package.writestr(name, rendered.get(name, data))
        return out.getvalue(), "\n".join(texts)

    def _finish(self, xml: str) -> str:
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        return self._tpl.resolve_listing(xml)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _plain_text(tree) -> str:
    """The text of a Word part as a reader sees it: one line per paragraph, runs joined."""
    lines = []
    for paragraph in tree.iter(_W + "p"):
        pieces = []
        for element in paragraph.iter(_W + "t", _W + "tab", _W + "br", _W + "cr"):
            pieces.append((element.text or "") if element.tag == _W + "t" else
                          " " if element.tag == _W + "tab" else "\n")
        lines.append("".join(pieces))
    return "\n".join(lines)


def _near(error) -> str:
    source = error.source or ""
    lines = source.splitlines()
    if error.lineno and 0 < error.lineno <= len(lines):
        return re.sub(r"<[^>]+>", "", lines[error.lineno - 1]).strip()[:80]
    return ""


def _static_text(sources: Iterable[str]) -> str:
    text = " ".join(re.sub(r"<[^>]+>", " ", src) for src in sources)
    return re.sub(r"\{[{%#].*?[}%#]\}", " ", text, flags=re.DOTALL)


def _xml_declared(xml: str) -> bytes:
    return ("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n" + xml).encode("utf-8")


def _core_xml(p: dict[str, str]) -> bytes:
    from xml.sax.saxutils import escape

    now = clock.now_iso()
    return _xml_declared(
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(p['title'])}</dc:title><dc:subject>{escape(p['subject'])}</dc:subject>"
        f"<dc:creator>{escape(p['author'])}</dc:creator><cp:keywords></cp:keywords>"
        f"<dc:description>{escape(p['comments'])}</dc:description>"
        f"<cp:lastModifiedBy>{escape(p['last_modified_by'])}</cp:lastModifiedBy><cp:revision>1</cp:revision>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
        "<cp:category>Letter</cp:category><dc:language>en-GB</dc:language>"
        "</cp:coreProperties>")


#: Compiled templates by their SHA-256, so a batch compiles each once.
_COMPILED: dict[str, CompiledTemplate] = {}


def compiled(content: bytes, sha256: str) -> CompiledTemplate:
    template = _COMPILED.get(sha256)
    if template is None:
        template = _COMPILED[sha256] = CompiledTemplate(content)
    return template


def _template(db: Database, spec: Kind, cache: dict[str, CompiledTemplate]) -> CompiledTemplate:
    """The compiled template of a kind (checked by templating.check as it compiles, whoever stored it)."""
    if spec.name not in cache:
        source, content, sha = template_in_use(db, spec.name)
        try:
            template = compiled(content, sha)
        except NotAllowed as error:
            raise NotAllowed(f"the scheme's {spec.name} template cannot be used: {error.message}. Go back to "
                             f"thcli's own with `thcli letter templates reset {spec.name}`") from None
        unknown = sorted(template.variables - set(spec.all_fields))
        if unknown:
            raise NotAllowed(f"the scheme's {spec.name} template uses {', '.join(unknown)}, which "
                             f"{_a(spec.name)} letter does not have. Go back to thcli's own with "
                             f"`thcli letter templates reset {spec.name}`")
        cache[spec.name] = template
    return cache[spec.name]


# --- making a letter -------------------------------------------------------------------


@dataclass
class Made:
    """A letter written to disk and recorded."""

    ref: str
    kind: str
    recipient: str
    recipient_name: str
    path: Path
    sha256: str
    override_reason: str | None = None
    notes: list[str] = field(default_factory=list)


def file_name(spec: Kind, data: CaseData, recipient: Recipient, on: dt.date) -> str:
    """``REF-KIND-DATE.docx``, naming the recipient when the kind's first choice is not the one."""
    extra = ""
    if spec.name == "works-order":
        if len(_ordered_by_contractor(data)) > 1 and recipient.contractor:
            extra = f"-{recipient.contractor.replace('_', '-')}"
    elif recipient.kind != spec.recipients[0]:
        extra = f"-{recipient.kind}"
    return f"{data.ref}-{spec.name}{extra}-{on.isoformat()}.docx"


def prepare_out_dir(out_dir: Path) -> Path:
    """The folder letters go into, created owner-only if new."""
    return private_folder(out_dir, option="--out")


def _make(db: Database, spec: Kind, data: CaseData, recipient: Recipient, *, by: str, out_dir: Path,
          on: dt.date, scheme: Scheme, override_reason: str | None,
          cache: dict, sync: bool = True) -> Made:
    """Build, check, render, write and record one letter (inside the caller's write transaction)."""
    ctx = build_context(spec, data, recipient, scheme, on=on, by=by)
    template = _template(db, spec, cache)
    screen = screening.Screen(data.perpetrator_names, scheme.screened_words)
    overridden = check_safety(spec, data, recipient, ctx, override_reason=override_reason, screen=screen)
    title = f"{spec.title}: {data.ref}"
    document, text = template.render_with_text(ctx, {
        "title": title, "subject": ctx["subject"], "author": scheme.name, "last_modified_by": by,
        "comments": f"Made by thcli from the scheme's {spec.name} template on {parse.format_long_date(on)}.",
    })
    check_written(spec, data, recipient, text, screen, ctx)
    digest = hashlib.sha256(document).hexdigest()
    # The name comes from stored data: it must stay inside the folder, and never replace a letter made before.
    folder = prepare_out_dir(out_dir)
    try:
        path = inside(folder, file_name(spec, data, recipient, on))
    except NotAllowed:
        raise NotAllowed(f"{data.ref!r} is not a case reference thcli makes (PREFIX-YYYY-NNNN), and as a file name "
                         f"it would leave {printable(folder)}: nothing was written. Check where this database "
                         f"came from") from None
    path = publish_new(path, document, sync=sync)
    try:
        _record(db, spec, data, recipient, path, digest, by=by, override=override_reason if overridden else None,
                overridden=overridden)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    notes = []
    if recipient.kind == "survivor" and _dnd(data):
        notes.append("the client's address is do-not-disclose, so it is not printed on the letter: address the "
                     "envelope by hand")
    if override_reason is not None and not overridden:
        notes.append("--override-safety was not needed for this letter, so none was recorded")
    return Made(data.ref, spec.name, recipient.kind, ctx["recipient_name"], path, digest,
                override_reason if overridden else None, notes)


def _record(db: Database, spec: Kind, data: CaseData, recipient: Recipient, path: Path, digest: str, *, by: str,
            override: str | None, overridden: list[str]) -> None:
    case = data.case
    who = recipient.kind + (f" ({recipient.contractor})" if recipient.contractor else "")
    # Relative to the database's letters folder, with the database that wrote it: retention
    # on a copy of the database then never deletes the original's letters (case_files.py).
    here = case_files.database_file(db)
    db.conn.execute(
        "INSERT INTO letters (case_id, kind, recipient, path, sha256, made_at, made_by, override_reason, made_in) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [case["id"], spec.name, recipient.kind, case_files.stored_path(here, path), digest, clock.now_iso(), by,
         override, str(here) if here else None])
    detail = f"{spec.name} letter to {RECIPIENTS[recipient.kind]} made: {path.name}"
    if override:
        detail += f" (safety rule \"{', '.join(overridden)}\" overridden: {override})"
    event(db, case["id"], "letter", detail, by=by)
    audit.record(db, by=by, action="letter.make", ref=case["ref"],
                 detail=f"{spec.name} to {who}; sha256 {digest}")
    if override:
        audit.record(db, by=by, action="letter.override", ref=case["ref"],
                     detail=f"{spec.name}: safety rule {', '.join(overridden)} overridden (reason on the timeline)")


def make_letter(db: Database, ref: str, kind: str, *, by: str, out_dir: Path, to: str | None = None,
                override_reason: str | None = None, on: dt.date | None = None) -> list[Made]:
    """``letter make``: one letter (or one per contractor for a works order) for a case.

    Refuses with LetterRefused (a safety rule) or NotAllowed (something the
    letter needs is missing), naming how to put it right.
    """
    spec = kind_spec(kind)
    if override_reason is not None:
        try:
            override_reason = parse.text(override_reason, max_len=500)
        except BadInput as error:
            raise error.for_option("--override-safety") from None
    to = to.strip().lower() if to else None
    on = on or clock.today()
    scheme = Scheme.load(db)
    cache: dict = {}
    with write(db):
        data = load_case(db, ref)
        chosen = recipients_for(spec, data, to)
        if len(chosen) > 1:
            names = ", ".join(r.contractor or "" for r in chosen)
            raise BadInput(f"{data.ref} has measures ordered from more than one contractor ({names}): make one "
                           f"works order at a time with --to CODE", "--to")
        made = [_make(db, spec, data, chosen[0], by=by, out_dir=out_dir, on=on, scheme=scheme,
                      override_reason=override_reason, cache=cache)]
    sync_folder(made[0].path.parent)
    return made


# --- batches ----------------------------------------------------------------------------


@dataclass
class BatchResult:
    kind: str
    status: str
    made: list[Made]
    refused: list[dict]
    already_made: int
    candidates: int
    #: the statuses whose cases were taken (``open`` takes only those the kind is made for)
    statuses: list[str] = field(default_factory=list)


#: What a case must have for a batch to take it (the rest have nothing for this letter to say).
_LINES = "EXISTS (SELECT 1 FROM measure_lines m WHERE m.case_id = c.id AND {})"
BATCH_FILTERS = {
    "landlord-permission": _LINES.format("m.status IN ('recommended', 'approved')"),
    "works-order": _LINES.format("m.status = 'ordered' AND m.contractor IS NOT NULL"),
    "completion": _LINES.format("m.status = 'fitted'"),
    "follow-up": _LINES.format("m.status = 'fitted'"),
    "bedroom-tax-evidence": _LINES.format("m.status = 'fitted'") + (
        " AND c.tenure IN (SELECT code FROM codes WHERE list = 'tenure' AND coalesce(county_code, code) IN "
        "('council', 'housing_association'))"),
    "equipment-removal": _LINES.format("m.status = 'fitted' AND m.removable = 1"),
}

#: How many letters a batch writes per transaction (the files themselves are each written atomically).
BATCH_CHUNK = 100


def batch(db: Database, kind: str, *, by: str, out_dir: Path, status: str | None = None, limit: int | None = None,
          to: str | None = None, again: bool = False, on: dt.date | None = None,
          progress: Callable[[int, int], None] | None = None) -> BatchResult:
    """``letter batch``: the letter for every case of a status, oldest referral first.

    Only cases the letter has something to say about are taken (a completion
    letter needs fitted measures, ...); those that already have a letter of
    this kind are left out unless ``again``. A letter a rule refuses is listed with its reason, never
    silently skipped; no safety rule is overridden in a batch. ``status`` open takes the open cases at a
    point the letter is made for (Kind.statuses); a status it is not made for is taken, and each of its
    cases listed as refused with the reason. ``limit`` caps
    the letters made. ``progress(made, total)`` is called as letters are made.
    """
    spec = kind_spec(kind)
    status = status or spec.batch_status
    if status != "open" and status not in workflow.STATUSES:
        raise BadInput(f"{status!r} is not a status: use open or one of {', '.join(workflow.STATUSES)}", "--status")
    to = to.strip().lower() if to else None
    if to is not None and to not in spec.recipients and not (spec.name == "works-order"):
        raise BadInput(f"{_a(spec.name)} letter goes to {' or '.join(spec.recipients)}, not {to!r}", "--to")
    on = on or clock.today()
    out_dir = prepare_out_dir(out_dir)
    scheme = Scheme.load(db)
    statuses = [s for s in workflow.OPEN if s in spec.statuses] if status == "open" else [status]
    marks = ",".join("?" * len(statuses))
    relevant = BATCH_FILTERS.get(spec.name, "1")
    rows = db.conn.execute(
        f"""SELECT c.ref, EXISTS (SELECT 1 FROM letters l WHERE l.case_id = c.id AND l.kind = ?)
            FROM cases c WHERE c.status IN ({marks}) AND {relevant} ORDER BY c.received_on, c.id""",
        [spec.name, *statuses]).fetchall()
    refs = [ref for ref, done in rows if again or not done]
    already = len(rows) - len(refs)
    total = min(len(refs), limit) if limit else len(refs)
    made: list[Made] = []
    refused: list[dict] = []
    cache: dict = {}
    if progress:
        progress(0, total)
    position = 0
    stopped = False
    while position < len(refs) and not stopped:
        chunk = refs[position:position + BATCH_CHUNK]
        position += len(chunk)
        written: list[Path] = []
        try:
            with write(db):
                for ref in chunk:
                    if limit and len(made) >= limit:
                        stopped = True
                        break
                    try:
                        data = load_case(db, ref)
                        chosen = recipients_for(spec, data, to)
                        if limit and made and len(made) + len(chosen) > limit:
                            stopped = True  # this case's letters (one per contractor) would go past the limit
                            break
                        letters = [_make(db, spec, data, recipient, by=by, out_dir=out_dir, on=on, scheme=scheme,
                                         override_reason=None, cache=cache, sync=True) for recipient in chosen]
                    except LetterRefused as error:
                        refused.append({"ref": ref, "rule": error.rule, "reason": error.why})
                    except (NotAllowed, NotFound) as error:
                        refused.append({"ref": ref, "rule": None, "reason": _without_ref(error.message, ref)})
                    except BadInput as error:
                        refused.append({"ref": ref, "rule": None, "reason": _without_ref(error.message, ref)})
                    else:
                        written += [letter.path for letter in letters]
                        made += letters
                        if progress:
                            progress(len(made), total)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
    sync_folder(out_dir)
    return BatchResult(spec.name, status, made, refused, already, len(refs), statuses)


def _without_ref(message: str, ref: str) -> str:
    """A message without the reference it starts with (the batch listing shows it already)."""
    for start in (f"{ref}: ", f"{ref} "):
        if message.startswith(start):
            return message[len(start):]
    return message


def make_for_case(db: Database, spec: Kind, ref: str, *, by: str, out_dir: Path, on: dt.date, scheme: Scheme,
                   to: str | None, cache: dict, sync: bool) -> list[Made]:
    """Every letter of a kind a case needs (one per contractor for a works order), in the caller's transaction."""
    data = load_case(db, ref)
    return [_make(db, spec, data, recipient, by=by, out_dir=out_dir, on=on, scheme=scheme, override_reason=None,
                  cache=cache, sync=sync)
            for recipient in recipients_for(spec, data, to)]


# --- the scheme's own templates ---------------------------------------------------------------


def template_rows(db: Database) -> list[dict]:
    """``letter templates list``: each kind, who it goes to, and whether the scheme's own template is used."""
    custom = {row[0]: row for row in db.conn.execute(
        "SELECT kind, filename, sha256, set_at, set_by FROM letter_templates")}
    rows = []
    for spec in KINDS.values():
        row = custom.get(spec.name)
        rows.append({
            "kind": spec.name, "title": spec.title, "recipients": list(spec.recipients),
            "template": "custom" if row else "default",
            "filename": row[1] if row else f"{spec.name}.docx",
            "sha256": row[2] if row else hashlib.sha256(default_template(spec.name)).hexdigest(),
            "set_at": row[3] if row else None, "set_by": row[4] if row else None,
        })
    return rows


def export_template(db: Database, kind: str, dest: Path, *, force: bool = False) -> dict:
    """``letter templates export``: the template in use, as a .docx to edit in Word (mode 0600)."""
    spec = kind_spec(kind)
    source, content, _ = template_in_use(db, spec.name)
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / f"{spec.name}.docx"
    if dest.suffix.lower() != ".docx":
        raise BadInput(f"{dest.name}: give a file name ending in .docx, so that Word opens it")
    if not dest.parent.is_dir():
        raise BadInput(f"{printable(dest.parent)} is not a folder")
    # Only an earlier Word file is replaced, and only with --force; never the database (files.may_replace).
    replacing = may_replace(dest, what="Word document", is_earlier=is_docx, force=force,
                            database=getattr(db, "path", None))
    write_atomically(dest, content, replace=replacing)
    return {"kind": spec.name, "template": source, "path": str(dest), "fields": list(spec.all_fields)}


def use_template(db: Database, kind: str, path: Path, *, by: str) -> dict:
    """``letter templates use``: check a scheme's own template and store it in the database.

    Refused when the file is not a .docx (BadInput); when an expression could
    reach outside the template (templating.check: internal attributes, calls,
    filters not offered...), when a merge field is unknown to this kind of
    letter, when a tag cannot be read or filled in, or when a landlord or
    contractor template gives an account of the abuse, in its own wording or
    in what it writes (NotAllowed, naming the expression or the word). A
    test letter of every recipient is rendered in the sandbox first, so a
    mistake shows now rather than in a coordinator's batch.
    """
    spec = kind_spec(kind)
    path = Path(path).expanduser()
    if not path.is_file():
        raise BadInput(f"{path}: there is no such file")
    content = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            is_word = "word/document.xml" in package.namelist()
    except zipfile.BadZipFile:
        is_word = False
    if not is_word:
        raise BadInput(f"{path.name} is not a Word .docx file: save it from Word as a Word Document (.docx)")
    try:
        template = CompiledTemplate(content)
    except templating.TemplateRefused as error:
        raise NotAllowed(f"{path.name}: {error.message}") from None
    unknown = sorted(template.variables - set(spec.all_fields))
    if unknown:
        raise NotAllowed(
            f"{path.name} uses {'merge fields' if len(unknown) > 1 else 'a merge field'} that {_a(spec.name)} "
            f"letter does not have: {', '.join(unknown)} ({'they' if len(unknown) > 1 else 'it'} would print "
            f"blank). The fields of {_a(spec.name)} letter are: {', '.join(spec.all_fields)}")
    if all(r in ("landlord", "contractor") for r in spec.recipients):
        found = FORBIDDEN_WORDS.search(template.static_text)
        if found:
            raise NotAllowed(f"{path.name} says {found.group(0)!r}: {_a(spec.name)} letter gives no account of the "
                             f"abuse. Reword the template and try again")
    scheme = Scheme.load(db)
    for ctx in sample_contexts(spec, scheme):
        to = RECIPIENTS[ctx["recipient"]]
        try:
            _, text = template.render_with_text(ctx, {"title": "", "subject": "", "author": "", "last_modified_by": "",
                                                      "comments": ""})
        except NotAllowed as error:
            raise NotAllowed(f"{path.name}: a test {spec.name} letter to {to} failed: {error.message}") from None
        found = FORBIDDEN_WORDS.search(text) if ctx["recipient"] in ("landlord", "contractor") else None
        if found:
            raise NotAllowed(f"{path.name}: a test {spec.name} letter to {to} says {found.group(0)!r}: "
                             f"{_a(spec.name)} letter gives no account of the abuse. Reword the template and try "
                             f"again")
    digest = hashlib.sha256(content).hexdigest()
    with write(db):
        db.conn.execute(
            "INSERT INTO letter_templates (kind, filename, content, sha256, set_at, set_by) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (kind) DO UPDATE SET filename = excluded.filename, content = excluded.content, "
            "sha256 = excluded.sha256, set_at = excluded.set_at, set_by = excluded.set_by",
            [spec.name, path.name, content, digest, clock.now_iso(), by])
        audit.record(db, by=by, action="letter.template.use", detail=f"{spec.name}; sha256 {digest}")
    return {"kind": spec.name, "filename": path.name, "sha256": digest, "fields": sorted(template.variables)}


def reset_template(db: Database, kind: str, *, by: str) -> None:
    """``letter templates reset``: go back to thcli's default template for a kind."""
    spec = kind_spec(kind)
    with write(db):
        gone = db.conn.execute("DELETE FROM letter_templates WHERE kind = ?", [spec.name]).rowcount
        if not gone:
            raise NotAllowed(f"the {spec.name} letter already uses thcli's default template")
        audit.record(db, by=by, action="letter.template.reset", detail=spec.name)


def sample_case(spec: Kind, *, do_not_disclose: bool = False, status: str | None = None) -> CaseData:
    """A made-up case that every letter of ``spec`` can be made for (to test a template)."""
    case = {
        "id": 0, "ref": "TH-2026-0042", "status": status or spec.statuses[0], "first_contact_on": "2026-11-17",
        "received_on": "2026-11-16", "referrer_name": "Pat Sample", "referrer_role": "IDVA",
        "referrer_org": "Example IDVA Service", "referrer_email": "pat@example.org", "risk_level": "high",
        "marac": 1, "emergency": 0, "adults": 1, "children": 2, "children_ages": "4, 7", "pregnant": 0,
        "tenure": "council", "landlord_name": "Example Homes", "landlord_email": "lettings@example.org",
        "landlord_permission": "requested", "landlord_permission_on": "2026-11-18", "reason": "out_of_area",
        "closed_on": "2026-11-18", "fitted_on": "2026-11-19",
    }
    lines = [
        {"line": 1, "code": "lock_change_door", "label": "Change of door locks (per door)", "quantity": 2,
         "unit_cost_pence": 8500, "estimated_cost_pence": 17000, "status": "ordered", "contractor": "sample",
         "ordered_on": "2026-11-18", "fitted_on": None, "location": "Front and back doors", "removable": 0},
        {"line": 2, "code": "window_alarm", "label": "Window alarm", "quantity": 3, "unit_cost_pence": 800,
         "estimated_cost_pence": 2400, "status": "fitted", "contractor": None, "ordered_on": None,
         "fitted_on": "2026-11-19", "location": "Ground floor", "removable": 1},
        {"line": 3, "code": "pir_light", "label": "Security light with PIR sensor", "quantity": 1,
         "unit_cost_pence": 6500, "estimated_cost_pence": 6500, "status": "recommended", "contractor": None,
         "ordered_on": None, "fitted_on": None, "location": "", "removable": 0},
    ]
    return CaseData(
        case=case, client_name="Alex Example",
        address={"address": "12 Sample Road, Millbrook", "postcode": "ZZ1 2AB", "current": 1,
                 "do_not_disclose": int(do_not_disclose)},
        contact={"phone": "020 7946 0123", "safe_call": 1, "safe_text": 1, "safe_voicemail": 0, "safe_post": 1,
                 "safe_times": "Weekdays 9am to 3pm"},
        lines=lines, consent={"police": True, "contractor": True, "landlord": True, "county": True},
        surveyor="PC Sam Example", tenure_label="Council tenancy", tenure_county="council", risk_label="High",
        reason_label="The home is outside the scheme's area",
        contractors={"sample": {"label": "Example Security Ltd", "address": "1 Trade Park, Millbrook, ZZ1 9ZZ",
                                "email": "orders@example.org"}},
        client={"disabled": 0, "access_needs": None, "language": "Polish", "interpreter": 1},
        survey_requested_on="2026-11-17",
    )


def sample_contexts(spec: Kind, scheme: Scheme) -> list[dict[str, Any]]:
    """Merge data for a test letter to each recipient of a kind, with and without a do-not-disclose address."""
    out = []
    on = dt.date(2026, 11, 20)
    # A test letter needs a surveyor's address even before the scheme has set one.
    scheme = dataclasses.replace(scheme, surveyor_address=scheme.surveyor_address or ["Police Station", "ZZ9 9ZZ"])
    for status in spec.statuses:
        for dnd in (False, True):
            data = sample_case(spec, do_not_disclose=dnd, status=status)
            for recipient in spec.recipients:
                chosen = Recipient(recipient, "sample" if recipient == "contractor" else None)
                out.append(build_context(spec, data, chosen, scheme, on=on, by="Jo Coordinator"))
    return out


# --- reading letters back ----------------------------------------------------------


def case_letters(db: Database, ref: str) -> list[dict]:
    """The letters made for a case, oldest first."""

    case = case_row(db, ref)
    return [
        {"kind": row[0], "recipient": row[1], "file": Path(row[2]).name if row[2] else None, "sha256": row[3],
         "made_at": row[4], "made_by": row[5], "override": row[6] is not None}
        for row in db.conn.execute(
            "SELECT kind, recipient, path, sha256, made_at, made_by, override_reason FROM letters "
            "WHERE case_id = ? ORDER BY id", [case["id"]])
    ]
