"""What a letter is made from: the scheme's settings (:class:`Scheme`) and everything about a case a letter
may draw on (:class:`CaseData`, read in one go), and who it goes to."""

from __future__ import annotations

from dataclasses import dataclass, field

from thcli import budget, codes, screening, settings, targets, workflow
from thcli.cases import case_row, consent_state
from thcli.db import Database, one
from thcli.errors import BadInput, NotAllowed
from thcli.letters.kinds import Kind, Recipient, with_article


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
    #: how a landlord pays a contribution asked of them (setting landlord_payment)
    landlord_payment: str = ""

    @classmethod
    def load(cls, db: Database) -> Scheme:
        return cls(
            name=settings.get(db, "scheme_name"),
            address_lines=lines_of(settings.get(db, "scheme_address")),
            phone=settings.get(db, "scheme_phone"),
            email=settings.get(db, "scheme_email"),
            marking=settings.get(db, "protective_marking"),
            surveyor_address=lines_of(settings.get(db, "surveyor_address")),
            rules=targets.load_rules(db),
            screened_words=screening.extra_words(db),
            landlord_payment=settings.get(db, "landlord_payment"),
        )

    @property
    def contact_us(self) -> str:
        return contact_us(self.phone, self.email)

    def letterhead(self, district: dict | None) -> Letterhead:
        """What a letter is headed with: the case's district's details where it has them (``codes edit
        district``), the scheme's otherwise, field by field."""
        district = district or {}
        address = lines_of(district.get("address") or "") or self.address_lines
        return Letterhead(name=district.get("letterhead") or self.name, address_lines=address,
                          phone=district.get("phone") or self.phone, email=district.get("email") or self.email)


def contact_us(phone: str, email: str) -> str:
    if phone and email:
        return f"call us on {phone} or email {email}"
    if phone:
        return f"call us on {phone}"
    if email:
        return f"email {email}"
    return "contact the scheme office"


@dataclass(frozen=True)
class Letterhead:
    """The name, address, phone and e-mail a letter is headed with, and who the reader contacts."""

    name: str
    address_lines: list[str]
    phone: str
    email: str

    @property
    def contact_us(self) -> str:
        return contact_us(self.phone, self.email)


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
    #: who assesses the home (the last survey's assessor, or the scheme's default_assessor): code, label, kind,
    #: address, email, phone
    assessor: dict = field(default_factory=lambda: {"code": "police_cro", "label": "Police Crime Reduction Officer",
                                                    "kind": "police", "address": None, "email": None,
                                                    "phone": None})
    #: follow-ups recorded so far
    followups_done: int = 0
    #: kept only to make sure they never appear in a letter
    perpetrator_names: list[str] = field(default_factory=list)
    previous_addresses: list[tuple[str, str]] = field(default_factory=list)
    #: the case's district's letterhead (name, address, phone, email), where set
    district: dict = field(default_factory=dict)
    #: the route's county code (``self`` for a self-referral)
    route_county: str | None = None
    #: what the landlord pledged towards the works, and what was received from them (pence)
    landlord_money: tuple[int, int] = (0, 0)

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
    survey = db.conn.execute("SELECT surveyor, requested_on, assessor FROM surveys WHERE case_id = ? "
                             "ORDER BY id DESC LIMIT 1", [case["id"]]).fetchone()
    assessor_code = (survey[2] if survey else None) or settings.get(db, "default_assessor")
    assessor = next((row for row in codes.list_codes(db, "assessor") if row["code"] == assessor_code),
                    {"code": assessor_code, "label": assessor_code, "kind": "police", "address": None, "email": None,
                     "phone": None})
    tenure = codes.get(db, "tenure", case["tenure"]) if case["tenure"] else None
    perpetrators = screening.perpetrator_names(db, case["client_id"])
    followups_done = db.conn.execute("SELECT count(*) FROM followups WHERE case_id = ?", [case["id"]]).fetchone()[0]
    previous = [(row[0], row[1]) for row in db.conn.execute(
        "SELECT address, postcode FROM addresses WHERE client_id = ? AND current = 0", [case["client_id"]])]
    reason_list = workflow.REASON_LISTS.get(case["status"])
    district = one(db, "SELECT letterhead, address, email, phone FROM district_details WHERE code = ?",
                   [case["district"]]) or {}
    route = codes.get(db, "route", case["route"])
    return CaseData(
        case=case,
        client_name=client.get("name") or "",
        address=address,
        contact=contact,
        lines=lines,
        consent=consent_state(db, case["id"]),
        surveyor=survey[0] if survey else None,
        survey_requested_on=survey[1] if survey else None,
        assessor=assessor,
        tenure_label=tenure["label"] if tenure else "not recorded",
        tenure_county=(tenure["county_code"] or tenure["code"]) if tenure else None,
        risk_label=codes.label(db, "risk", case["risk_level"]),
        reason_label=codes.label(db, reason_list, case["reason"]) if reason_list and case["reason"] else "",
        contractors=contractors,
        client=client,
        followups_done=followups_done,
        perpetrator_names=perpetrators,
        previous_addresses=previous,
        district=district,
        route_county=(route["county_code"] or route["code"]) if route else None,
        landlord_money=budget.contributions_from(db, case["id"], "landlord"),
    )


def require_recipient(db: Database, spec: Kind, to: str | None) -> None:
    """BadInput (naming --to) for a recipient this kind never goes to: one of its recipients, or for a works
    order ``contractor`` or a contractor's code."""
    if to is None or to in spec.recipients:
        return
    if spec.name == "works-order" and codes.get(db, "contractor", to) is not None:
        return
    raise _not_a_recipient(spec, to)


def _not_a_recipient(spec: Kind, to: str) -> BadInput:
    also = " or a contractor's code (`thcli codes list contractor`)" if spec.name == "works-order" else ""
    return BadInput(f"{with_article(spec.name)} letter goes to {' or '.join(spec.recipients)}{also}, not {to!r}",
                    "--to")


def recipients_for(spec: Kind, data: CaseData, to: str | None) -> list[Recipient]:
    """Who this letter goes to: one recipient, or one per contractor for a works order without ``--to``."""
    if spec.name == "works-order":
        ordered = ordered_by_contractor(data)
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
        raise _not_a_recipient(spec, to)
    return [Recipient(to)]


def ordered_by_contractor(data: CaseData) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in data.lines:
        if line["status"] == "ordered" and line["contractor"]:
            out.setdefault(line["contractor"], []).append(line)
    return dict(sorted(out.items()))


def dnd(data: CaseData) -> bool:
    return bool(data.address and data.address["do_not_disclose"])


def lines_of(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


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
