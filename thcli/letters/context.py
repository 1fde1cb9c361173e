"""The merge data of a letter (:func:`build_context`): what each kind says, true to the case at that point.

A kind is made only where what it says is true (an acknowledgement before
the survey, a completion after the fitting...), and the dates it promises are
the case's own due dates (targets.case_targets), never on or before the
letter's date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from thcli import codes, dates, parse, settings, targets
from thcli.errors import NotAllowed
from thcli.letters.data import CaseData, Scheme, dnd, lines_of, ordered_by_contractor, sample_case
from thcli.letters.kinds import (
    PREVIOUS_ADDRESS,
    PROFESSIONALS,
    SOCIAL_TENURES,
    Kind,
    LetterRefused,
    Recipient,
    with_article,
)
from thcli.parse import one_of
from thcli.workflow import ENDED


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
    head = scheme.letterhead(data.district)
    ctx: dict[str, Any] = {
        "scheme_name": scheme.name,
        "scheme_address": "\n".join(scheme.address_lines),
        "scheme_address_line": ", ".join(scheme.address_lines),
        "scheme_phone": scheme.phone,
        "scheme_email": scheme.email,
        "letterhead": head.name,
        "letterhead_address": "\n".join(head.address_lines),
        "letterhead_address_line": ", ".join(head.address_lines),
        "letterhead_phone": head.phone,
        "letterhead_email": head.email,
        "valediction": "Yours faithfully" if salutation == SIR_OR_MADAM else "Yours sincerely",
        "marking": scheme.marking if rtype in PROFESSIONALS else "",
        "date": dates.format_long_date(on),
        "ref": ref,
        "subject": "",
        "recipient": rtype,
        "to_survivor": rtype == "survivor",
        "recipient_name": name,
        "recipient_address": "\n".join(address_lines),
        "salutation": salutation,
        "coordinator": by,
        "client_name": data.client_name,
        "contact_us": head.contact_us,
    }
    received = dt.date.fromisoformat(case["received_on"])
    client = data.client_name
    survivor = rtype == "survivor"
    due = targets.case_targets(case, scheme.rules)
    if spec.name == "acknowledgement":
        ctx["subject"] = "Your request for help with home security" if survivor else f"Referral received: {client}"
        contacted = case["status"] != "new"
        contacted_on = db_date(case["first_contact_on"])
        ctx.update(received_on=dates.format_long_date(received), contacted=contacted, **_referral(data),
                   first_contact_on=dates.format_long_date(contacted_on) if contacted and contacted_on else "",
                   first_contact_by="" if contacted else _promise(due.first_contact, on),
                   survey_by=_promise(due.survey, on))
    elif spec.name == "decline":
        ctx["subject"] = "Your request for help with home security" if survivor else \
            f"Referral of {client}: not accepted"
        ctx.update(received_on=dates.format_long_date(received), **_referral(data),
                   decline_reason=to_you(data.reason_label) if survivor else data.reason_label,
                   declined_on=dates.format_long_date(case["closed_on"] or on))
    elif spec.name == "survey-request":
        requested = db_date(data.survey_requested_on) if case["status"] == "survey" else None
        ctx["subject"] = f"Home security survey request: {ref}"
        ctx.update(surveyor=data.surveyor or "", shared_with=shared_with(data.assessor),
                   home_address=_home(data, spec), do_not_disclose=dnd(data),
                   risk_level=_risk(data), household=_household(case), tenure=data.tenure_label,
                   visit_needs=_visit_needs(data), access=_access(data, scheme),
                   survey_by=_promise(due.survey, on),
                   requested_on=dates.format_long_date(requested or on))
    elif spec.name == "landlord-permission":
        proposed = [line for line in data.lines if line["status"] in ("recommended", "approved")]
        if not proposed:
            raise NotAllowed(f"{ref} has no measures recommended or approved to ask the landlord about: record "
                             f"the survey first with `thcli survey record {ref} ...`")
        ctx["subject"] = f"Permission for security improvements: {client}"
        # Asked already: the answer is due by the case's own date; asked now, by this letter: counted from today.
        reply_due = due.landlord or targets.due_date(on, scheme.rules.landlord)
        ctx.update(property="" if dnd(data) else _home(data, spec), measures=[_item(line) for line in proposed],
                   reply_by=_promise(reply_due, on), **_landlord_contribution(data, scheme))
    elif spec.name == "works-order":
        ordered = ordered_by_contractor(data).get(recipient.contractor or "", [])
        if not ordered:
            raise NotAllowed(f"{ref} has no measures ordered from a contractor: order them with "
                             f"`thcli measures order {ref} --contractor CODE`")
        total = sum(line["estimated_cost_pence"] for line in ordered)
        order_date = max(db_date(line["ordered_on"]) or on for line in ordered)
        complete_by, on_target = targets.promise(due.fitted, on)
        ctx["subject"] = f"Works order {ref}"
        ctx.update(home_address=_home(data, spec), do_not_disclose=dnd(data), access=_access(data, scheme),
                   order_date=dates.format_long_date(order_date),
                   complete_by=dates.format_long_date(complete_by),
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
        ctx.update(fitted=[_item(line) for line in fitted], fitted_on=dates.format_long_date(fitted_on))
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
            home = "" if dnd(data) else _home(data, spec).replace("\n", ", ")
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
    raise NotAllowed(f"{ref} is {status}: {with_article(spec.name)} letter is only made for a case that is "
                     f"{one_of(spec.statuses)}")


def require_current_home(spec: Kind, data: CaseData) -> None:
    """A letter about the home (or to it) is refused once the client no longer lives there."""
    if data.address is not None and not data.address["current"]:
        ref = data.ref
        if data.case["status"] in ENDED:
            # An ended case is read-only: `referral edit` would refuse the new address, so never suggest it.
            fix = (f"{ref} has ended ({data.case['status']}), so it takes no new address: reach the client another "
                   f"safe way (`thcli referral show {ref}` lists the safe contact routes) and note it with "
                   f"`thcli referral note {ref} TEXT`.")
        else:
            fix = (f"If the client has moved within the scheme's area, record the new address with "
                   f"`thcli referral edit {ref} --address TEXT --postcode POSTCODE`.")
        raise LetterRefused(
            ref, spec.name, PREVIOUS_ADDRESS,
            "the case's address is no longer the client's current address, and no letter goes to or "
            "is about a home the client has left", fix)


def _priority(case: dict, target: settings.Duration, complete_by: dt.date, on_target: bool) -> str:
    """The works order's sentence on urgency: true to the case's own target, never claiming a missed one."""
    by = dates.format_long_date(complete_by)
    urgent = bool(case["emergency"]) or case["risk_level"] == "high"
    if on_target:
        if urgent:
            return f"Urgent: the work must be complete by {by}, within {target} of the referral."
        return f"Standard priority: please complete the work by {by}, within {target} of the referral."
    if urgent:
        return f"Urgent: please complete the work as soon as possible, and by {by} at the latest."
    return f"Please complete the work as soon as possible, and by {by} at the latest."


def shared_with(assessor: dict) -> str:
    """Who a survey request shares the client's details with, in words: the police, or the contractor."""
    return "the police" if assessor["kind"] == "police" else assessor["label"]


def require_outside_assessor(data: CaseData) -> None:
    """A survey request goes to an outside assessor (the police, a contractor's surveyor): the scheme's own
    assessor reads the case itself, so no copy of the client's address is made for them."""
    if data.assessor["kind"] == "scheme":
        ref = data.ref
        raise NotAllowed(
            f"{ref}: the survey is by the scheme's own assessor ({data.assessor['label']}), so no survey request "
            f"letter goes out: they read the case with `thcli referral show {ref}` (the view is audited). For an "
            f"outside assessor, request the survey from them with `thcli survey request {ref} --assessor CODE`."
        )
SIR_OR_MADAM = "Dear Sir or Madam"

#: Words that mark a landlord's name as an organisation's (a letting agent, a housing association, a council):
#: a letter to one is to "Sir or Madam", never "Dear Example Homes Ltd".
ORGANISATION_WORDS = frozenset((
    "ltd", "limited", "llp", "plc", "cic", "co", "company", "homes", "housing", "lettings", "letting", "lets",
    "association", "council", "properties", "property", "estates", "estate", "agents", "agent", "agency",
    "trust", "group", "management", "services", "partnership", "society", "rentals", "residential",
))


def is_organisation(name: str) -> bool:
    """Whether a landlord's name is an organisation's rather than a person's (ORGANISATION_WORDS, or '&')."""
    words = re.findall(r"[a-z]+|&", name.lower())
    return "&" in words or any(word in ORGANISATION_WORDS for word in words)


#: How a sentence about "the client" reads to the client: the words, then the verbs that follow them.
_YOU = ((re.compile(r"\bthe client's\b", re.IGNORECASE), "your"), (re.compile(r"\bthe client\b", re.IGNORECASE), "you"),
        (re.compile(r"\bthe home\b", re.IGNORECASE), "your home"))
_VERBS = {"is": "are", "was": "were", "has": "have", "does": "do", "wishes": "wish", "wants": "want",
          "chooses": "choose", "lives": "live", "needs": "need"}


def to_you(text: str) -> str:
    """A reason written about the client, as said to them: "The client does not wish to stay in the home" ->
    "You do not wish to stay in your home"."""
    out = text
    for pattern, word in _YOU:
        out = pattern.sub(word, out)
    out = re.sub(r"\byou (\w+)", lambda m: f"you {_VERBS.get(m.group(1), m.group(1))}", out, flags=re.IGNORECASE)
    return out[:1].upper() + out[1:] if out else out


def _referral(data: CaseData) -> dict[str, Any]:
    """Whether the client asked for help themself, and if not who referred them, as a letter to them says it."""
    case = data.case
    if data.route_county == "self" or (data.route_county is None and not case["referrer_name"]):
        return {"self_referral": True, "referred_by": ""}
    return {"self_referral": False,
            "referred_by": case["referrer_org"] or case["referrer_name"] or "a professional who is supporting you"}


def _landlord_contribution(data: CaseData, scheme: Scheme) -> dict[str, Any]:
    """What the landlord is asked to contribute (their pledge, or what they gave), what is still due, and how
    to pay; a letter asking for money it does not say how to pay is refused."""
    pledged, received = data.landlord_money
    asked = max(pledged, received)
    due = max(pledged - received, 0)
    if due and not scheme.landlord_payment:
        raise NotAllowed(f"{data.ref}: the landlord is asked to contribute {parse.format_money(asked)}, and their "
                         "letter must say how to pay: set it once with `thcli settings set landlord_payment \"by "
                         "bank transfer to ..., quoting the case reference\"`")
    return {"landlord_contribution": parse.format_money(asked) if asked > 0 else "",
            "landlord_contribution_due": parse.format_money(due) if due else "",
            "how_to_pay": scheme.landlord_payment if due else ""}


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
        lines = [] if dnd(data) else _home(data, spec).split("\n")
        return data.client_name, lines, f"Dear {data.client_name}"
    if recipient.kind == "cro":
        who = data.assessor
        require_outside_assessor(data)
        lines = lines_of(who.get("address") or "") or (scheme.surveyor_address if who["kind"] == "police" else [])
        if not lines:
            where = ("`thcli settings set surveyor_address \"Crime Reduction Officers, ..., POSTCODE\"`, or "
                     if who["kind"] == "police" else "")
            raise NotAllowed(f"where survey requests to {who['label']} go is not set: set it with {where}"
                             f"`thcli codes edit assessor {who['code']} --address \"..., POSTCODE\"`")
        if who.get("email"):
            lines = [*lines, f"By email: {who['email']}"]
        if who["kind"] == "police":
            return data.surveyor or "The Crime Reduction Officer", lines, \
                f"Dear {data.surveyor}" if data.surveyor else "Dear Crime Reduction Officer"
        name = data.surveyor or who["label"]
        return name, lines, f"Dear {data.surveyor}" if data.surveyor and data.surveyor != who["label"] else \
            "Dear Sir or Madam"
    if recipient.kind == "landlord":
        if data.tenure_county not in codes.RENTED_TENURES:
            raise NotAllowed(f"{ref}: the home is not rented (tenure {data.tenure_label.lower()}), so there is "
                             f"no landlord to write to")
        if not case["landlord_name"]:
            raise NotAllowed(f"{ref} has no landlord recorded: add one with `thcli referral edit {ref} --landlord "
                             f"NAME --landlord-email EMAIL`")
        lines = lines_of(case.get("landlord_address") or "")
        if case.get("landlord_postcode"):
            lines.append(case["landlord_postcode"])
        if case["landlord_email"]:
            lines.append(f"By email: {case['landlord_email']}")
        name = case["landlord_name"]
        return name, lines, SIR_OR_MADAM if is_organisation(name) else f"Dear {name}"
    contractor = data.contractors.get(recipient.contractor or "")
    if contractor is None:
        raise NotAllowed(f"{ref} has no measures ordered from a contractor: order them with "
                         f"`thcli measures order {ref} --contractor CODE`")
    lines = lines_of(contractor.get("address") or "")
    if contractor.get("email"):
        lines.append(f"By email: {contractor['email']}")
    return contractor["label"], lines, SIR_OR_MADAM


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
    return "\n".join(lines_of(address["address"]) + [address["postcode"]])


def _item(line: dict) -> dict:
    return {"label": line["label"], "quantity": line["quantity"], "location": line["location"] or "",
            "fitted_on": dates.format_long_date(line["fitted_on"]) if line["fitted_on"] else ""}


def _risk(data: CaseData) -> str:
    case = data.case
    text = data.risk_label
    if case["marac"]:
        text += " (MARAC)"
    if case["emergency"]:
        text += "; emergency"
    return text


def _household(case: dict) -> str:
    """Who lives in the home, as a sentence reads it: ``1 adult and 2 children (ages 4, 7)``, ``1 adult and no
    children``."""
    parts = []
    if case["adults"] is not None:
        parts.append(f"{case['adults']} adult{'s' if case['adults'] != 1 else ''}")
    if case["children"] is not None:
        if not case["children"]:
            text = "no children"
        else:
            text = f"{case['children']} child{'ren' if case['children'] != 1 else ''}"
            if case["children_ages"]:
                text += f" (age{'s' if case['children'] != 1 else ''} {case['children_ages']})"
        parts.append(text)
    if case["pregnant"]:
        parts.append("a pregnancy")
    if not parts:
        return "not recorded"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


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
    return dates.format_long_date(targets.promise(due, on)[0])


def _followups(days: Iterable[dt.date], on: dt.date) -> str:
    """``in February 2027 and May 2027``: the follow-ups still to come (empty when none is)."""
    coming = [d for d in days if d > on]
    if not coming:
        return ""
    words = list(dict.fromkeys(f"{dates.MONTHS[d.month - 1]} {d.year}" for d in coming))
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


def sample_contexts(spec: Kind, scheme: Scheme) -> list[dict[str, Any]]:
    """Merge data for a test letter to each recipient of a kind, with and without a do-not-disclose address."""
    out = []
    on = dt.date(2026, 11, 20)
    # A test letter needs a surveyor's address even before the scheme has set one.
    scheme = dataclasses.replace(scheme, surveyor_address=scheme.surveyor_address or ["Police Station", "ZZ9 9ZZ"])
    for status in spec.statuses:
        for hidden in (False, True):
            data = sample_case(spec, do_not_disclose=hidden, status=status)
            for recipient in spec.recipients:
                chosen = Recipient(recipient, "sample" if recipient == "contractor" else None)
                out.append(build_context(spec, data, chosen, scheme, on=on, by="Jo Coordinator"))
    return out
