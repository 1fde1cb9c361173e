"""Referrals: logging a case, and editing what it records.

The one path for a new referral is :func:`add_referral`, used by
``thcli referral add``, the wizard and the demo alike, so every rule applies
everywhere. Lifecycle moves are in workflow.py, time targets in targets.py;
finding and reading cases is case_view.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from thcli import audit, clock, codes, parse, screening, settings, targets, workflow
from thcli.cases import CONSENT_SCOPES, case_row, consent_state, event, is_rented, name_key
from thcli.db import Database, one, write
from thcli.errors import BadInput, NotAllowed

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


@dataclass
class AddResult:
    ref: str
    case_id: int
    status: str
    warnings: list[str]
    repeat_of: list[str]


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


def _sql_value(value: Any) -> Any:
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
        raise BadInput(f"{parse.format_date(received)} is in the future: a referral is logged once received",
                       "--received")
    for option, value in (("--dob", data.dob), ("--dash-date", data.dash_date), ("--marac-date", data.marac_date)):
        if value is not None and value > today:
            raise BadInput(f"{option}: {parse.format_date(value)} is in the future")
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


def eligibility_warnings(db: Database, data: ReferralInput) -> list[str]:
    """The scheme's eligibility tests this referral fails, in words."""
    return workflow.eligibility_problems(
        db,
        {
            "risk_level": data.risk_level,
            "chooses_to_stay": data.chooses_to_stay,
            "perpetrator_lives_there": data.perpetrator_lives_there,
            "perpetrator_can_enter": data.perpetrator_can_enter,
            "dash_date": data.dash_date,
            "referral_form": data.referral_form,
        },
        documents=False,
    )


def find_earlier(
    db: Database, *, name: str | None, dob: dt.date | None = None, postcode: str | None = None,
    loose: bool = False,
) -> list[dict]:
    """Earlier cases of a client matching this one.

    A match is the same name and date of birth, or the same name and postcode
    (of any address of theirs). With ``loose`` (the wizard, as answers come in),
    any one of name, date of birth or postcode is enough to show them.
    """
    conditions, params = [], []
    key = name_key(name) if name else None
    pc_key = parse.postcode_key(postcode) if postcode else None
    if loose:
        if key:
            conditions.append("cl.name_key = ?")
            params.append(key)
        if dob:
            conditions.append("cl.dob = ?")
            params.append(dob.isoformat())
        if pc_key:
            conditions.append("cl.id IN (SELECT client_id FROM addresses WHERE postcode_key = ?)")
            params.append(pc_key)
    elif key:
        if dob:
            conditions.append("(cl.name_key = ? AND cl.dob = ?)")
            params += [key, dob.isoformat()]
        if pc_key:
            conditions.append(
                "(cl.name_key = ? AND cl.id IN (SELECT client_id FROM addresses WHERE postcode_key = ?))"
            )
            params += [key, pc_key]
    if not conditions:
        return []
    sql = f"""SELECT c.id, c.ref, c.status, c.reason, c.received_on, c.client_id
              FROM cases c JOIN clients cl ON cl.id = c.client_id
              WHERE {' OR '.join(conditions)}
              ORDER BY c.received_on, c.id"""
    return list(db.query(sql, params))


def _next_ref(db: Database, year: int) -> str:
    prefix = settings.get(db, "ref_prefix")
    db.conn.execute(
        "INSERT INTO ref_counters (year, last) VALUES (?, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = last + 1",
        [year],
    )
    number = db.conn.execute("SELECT last FROM ref_counters WHERE year = ?", [year]).fetchone()[0]
    return f"{prefix}-{year}-{number:04d}"


def add_referral(
    db: Database, data: ReferralInput, *, by: str, decline_reason: str | None = None
) -> AddResult:
    """Log a referral: client, address, safe contact, perpetrator apart, case.

    Returns the new reference with warnings (repeat referral, eligibility) that
    do not stop it being saved. With ``decline_reason`` the referral is saved
    and declined at once (the wizard, when an eligibility test fails).
    """
    today = clock.today()
    check(db, data, today=today)
    if decline_reason is not None:
        codes.require(db, "decline_reason", decline_reason)
    received = data.received_on or today
    now = clock.now_iso()
    warnings: list[str] = []
    with write(db):
        earlier = [] if data.new_client else find_earlier(
            db, name=data.name, dob=data.dob, postcode=data.postcode
        )
        client_id = earlier[-1]["client_id"] if earlier else None
        client_values = {f: _sql_value(getattr(data, f)) for f in CLIENT_FIELDS}
        if client_id is None:
            client_id = db["clients"].insert(
                {"name": data.name, "name_key": name_key(data.name), "created_at": now, **client_values}
            ).last_pk
        else:
            known = {k: v for k, v in client_values.items() if v is not None}
            if known:
                db["clients"].update(client_id, known)
            # Cases of every matching client count as earlier ones.
        address_id = _current_address(db, client_id, data, now)
        ref = _next_ref(db, received.year)
        case = {f: _sql_value(getattr(data, f)) for f in CASE_FIELDS}
        case.update(
            ref=ref, client_id=client_id, address_id=address_id, status="new",
            received_on=received.isoformat(), created_at=now, updated_at=now,
            landlord_permission=None if is_rented(db, data.tenure) else "not_needed",
        )
        case_id = db["cases"].insert(case).last_pk
        db["contacts"].insert(
            {"case_id": case_id, **{col: _sql_value(getattr(data, f)) for f, col in CONTACT_FIELDS.items()}}
        )
        perpetrator = {col: getattr(data, f) for f, col in PERPETRATOR_FIELDS.items()}
        if any(v is not None for v in perpetrator.values()):
            db["perpetrators"].insert({"case_id": case_id, **perpetrator})
        for row in earlier:
            db.conn.execute(
                "INSERT OR IGNORE INTO case_repeats (case_id, earlier_case_id) VALUES (?, ?)",
                [case_id, row["id"]],
            )
        for scope in dict.fromkeys(data.consent):
            db["consents"].insert(
                {"case_id": case_id, "scope": scope, "given_on": received.isoformat(), "given_by": by}
            )
        event(db, case_id, "received", f"referral received ({data.route}, {data.risk_level} risk)", by=by)
        if data.consent:
            event(db, case_id, "consent", "consent given: " + ", ".join(dict.fromkeys(data.consent)), by=by)
        if data.note:
            event(db, case_id, "note", data.note, by=by)
        audit.record(db, by=by, action="referral.add", ref=ref)
        if earlier:
            warnings.append(
                "repeat referral: earlier case" + ("s " if len(earlier) > 1 else " ")
                + ", ".join(f"{r['ref']} ({_outcome(r)})" for r in earlier)
            )
        warnings += screening.case_warnings(db, {"id": case_id, "ref": ref, "client_id": client_id})
        problems = eligibility_warnings(db, data)
        status = "new"
        if decline_reason is not None:
            workflow.move(db, ref, "declined", reason=decline_reason, by=by)
            status = "declined"
        else:
            warnings += [f"eligibility: {p}" for p in problems]
            targets.refresh_due(db, case_id)
    return AddResult(ref, case_id, status, warnings, [r["ref"] for r in earlier])


def _outcome(case: dict) -> str:
    return case["status"] + (f": {case['reason']}" if case.get("reason") else "")


def _current_address(db: Database, client_id: int, data: ReferralInput, now: str) -> int:
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


# --- changing a case -----------------------------------------------------------


def _writable(db: Database, ref: str) -> dict:
    case = case_row(db, ref)
    workflow.require_not_read_only(case)
    if case.get("anonymised_on"):
        raise NotAllowed(
            f"{case['ref']} was anonymised under the retention schedule: its details can no longer be changed"
        )
    return case


EDITABLE = (
    {"name", "address", "postcode", "do_not_disclose"}
    | set(CLIENT_FIELDS) | set(CASE_FIELDS) | set(CONTACT_FIELDS) | set(PERPETRATOR_FIELDS)
) - {"received_on"}


class Edited(list):
    """The names of the fields an edit changed, with ``warnings`` that did not stop it."""

    def __init__(self, changed: list[str], warnings: list[str]):
        super().__init__(changed)
        self.warnings = warnings


def edit_referral(db: Database, ref: str, changes: dict[str, Any], *, by: str) -> Edited:
    """Change recorded details of a case; returns the names of the fields changed (with warnings).

    A new address moves the old one to the client's previous addresses (never
    written to again). Changing the tenure re-checks whether landlord
    permission is needed. Free text a landlord, contractor or surveyor would
    read (safe times, the safe third party...) is screened as it is saved
    (screening.py): a hit is a warning, so that it can be reworded now.
    """
    unknown = set(changes) - EDITABLE - {"received_on"}
    if unknown:
        raise BadInput(f"cannot edit {', '.join(sorted(unknown))}")
    if not changes:
        raise BadInput("nothing to change: give the options to edit (see `thcli referral edit --help`)")
    if "received_on" in changes:
        raise BadInput("--received cannot be changed: the reference is numbered by it")
    with write(db):
        case = _writable(db, ref)
        merged = _input_from_case(db, case)
        for key, value in changes.items():
            setattr(merged, key, value)
        check(db, merged, kept=frozenset(CODED_FIELDS) - set(changes))
        now = clock.now_iso()
        client_changes = {k: _sql_value(v) for k, v in changes.items() if k in CLIENT_FIELDS}
        if "name" in changes:
            client_changes.update(name=changes["name"], name_key=name_key(changes["name"]))
        if client_changes:
            db["clients"].update(case["client_id"], client_changes)
        case_changes = {k: _sql_value(v) for k, v in changes.items() if k in CASE_FIELDS}
        if "tenure" in changes and case["landlord_permission"] in (None, "not_needed"):
            case_changes["landlord_permission"] = None if is_rented(db, changes["tenure"]) else "not_needed"
        if {"address", "postcode"} & set(changes):
            address_id = _current_address(db, case["client_id"], merged, now)
            case_changes["address_id"] = address_id
        elif "do_not_disclose" in changes and case["address_id"]:
            db["addresses"].update(case["address_id"], {"do_not_disclose": int(changes["do_not_disclose"])})
        case_changes["updated_at"] = now
        db["cases"].update(case["id"], case_changes)
        contact_changes = {CONTACT_FIELDS[k]: _sql_value(v) for k, v in changes.items() if k in CONTACT_FIELDS}
        if contact_changes:
            db["contacts"].upsert({"case_id": case["id"], **contact_changes}, pk="case_id")
        perp_changes = {PERPETRATOR_FIELDS[k]: v for k, v in changes.items() if k in PERPETRATOR_FIELDS}
        if perp_changes:
            db["perpetrators"].upsert({"case_id": case["id"], **perp_changes}, pk="case_id")
        changed = sorted(changes)
        event(db, case["id"], "edit", "changed: " + ", ".join(changed), by=by)
        audit.record(db, by=by, action="referral.edit", ref=case["ref"], detail=",".join(changed))
        targets.refresh_due(db, case["id"])
        # A new perpetrator name can make text typed earlier unsafe: then every field is screened again.
        renamed = "perpetrator_name" in changes
        warnings = screening.case_warnings(db, case, None if renamed else changes, lines=renamed)
    return Edited(changed, warnings)


def _input_from_case(db: Database, case: dict) -> ReferralInput:
    """The case as a ReferralInput, so an edit is checked by the same rules as add."""
    client = one(db, "SELECT * FROM clients WHERE id = ?", [case["client_id"]]) or {}
    address = one(db, "SELECT * FROM addresses WHERE id = ?", [case["address_id"]]) or {}
    contact = one(db, "SELECT * FROM contacts WHERE case_id = ?", [case["id"]]) or {}
    perp = one(db, "SELECT * FROM perpetrators WHERE case_id = ?", [case["id"]]) or {}
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in dataclasses.fields(ReferralInput)}
    sources = [(f, case.get(f)) for f in CASE_FIELDS] + [(f, client.get(f)) for f in CLIENT_FIELDS]
    sources += [(f, contact.get(col)) for f, col in CONTACT_FIELDS.items()]
    sources += [(f, perp.get(col)) for f, col in PERPETRATOR_FIELDS.items()]
    for name, value in sources:
        kind = str(types[name])
        if value is not None and "date" in kind:
            value = dt.date.fromisoformat(value)
        elif value is not None and "bool" in kind:
            value = bool(value)
        values[name] = value
    for name in ("emergency", "referral_form", "safe_call", "safe_text", "safe_voicemail",
                 "safe_email", "safe_post"):
        values[name] = bool(values.get(name))
    return ReferralInput(
        name=client.get("name") or "", postcode=address.get("postcode") or "",
        address=address.get("address") or None, do_not_disclose=bool(address.get("do_not_disclose")),
        **{k: v for k, v in values.items() if k not in ("name", "postcode", "address", "do_not_disclose")},
    )


def add_note(db: Database, ref: str, text: str, *, by: str) -> None:
    """A note on the timeline: allowed on every case, closed ones included."""
    text = parse.text(text)
    with write(db):
        case = case_row(db, ref)
        event(db, case["id"], "note", text, by=by)
        db["cases"].update(case["id"], {"updated_at": clock.now_iso()})
        audit.record(db, by=by, action="referral.note", ref=case["ref"])


def record_consent(
    db: Database, ref: str, scopes: list[str], *, by: str, withdraw: bool = False,
    on: dt.date | None = None,
) -> dict[str, bool]:
    """Record consent given (or withdrawn) for each scope; returns the new state."""
    if not scopes:
        raise BadInput("--scope: give one or more of " + ", ".join(CONSENT_SCOPES))
    for scope in scopes:
        if scope not in CONSENT_SCOPES:
            raise BadInput(f"{scope!r} is not a consent scope: use {', '.join(CONSENT_SCOPES)}", "--scope")
    on = on or clock.today()
    with write(db):
        case = _writable(db, ref)
        state = consent_state(db, case["id"])
        for scope in dict.fromkeys(scopes):
            if withdraw:
                if not state[scope]:
                    raise NotAllowed(f"{case['ref']}: there is no {scope} consent to withdraw")
                db.conn.execute(
                    "UPDATE consents SET withdrawn_on = ?, withdrawn_by = ? "
                    "WHERE case_id = ? AND scope = ? AND withdrawn_on IS NULL",
                    [on.isoformat(), by, case["id"], scope],
                )
            elif not state[scope]:
                db["consents"].insert(
                    {"case_id": case["id"], "scope": scope, "given_on": on.isoformat(), "given_by": by}
                )
        what = "withdrawn" if withdraw else "given"
        event(db, case["id"], "consent", f"consent {what}: {', '.join(dict.fromkeys(scopes))}", by=by)
        audit.record(db, by=by, action="referral.consent", ref=case["ref"],
                     detail=f"{what}:{','.join(dict.fromkeys(scopes))}")
        return consent_state(db, case["id"])


def set_landlord_permission(
    db: Database, ref: str, permission: str, *, by: str, on: dt.date | None = None
) -> None:
    """Record where the landlord's permission for works stands."""
    if permission not in LANDLORD_PERMISSIONS:
        raise BadInput(f"{permission!r}: use one of {', '.join(LANDLORD_PERMISSIONS)}", "--permission")
    on = on or clock.today()
    with write(db):
        case = _writable(db, ref)
        if permission != "not_needed" and not is_rented(db, case["tenure"]):
            raise NotAllowed(
                f"{case['ref']}: the home is not rented (tenure {case['tenure'] or 'unknown'}), so no "
                "landlord permission is needed; set the tenure first with `thcli referral edit --tenure`"
            )
        db["cases"].update(case["id"], {
            "landlord_permission": permission, "landlord_permission_on": on.isoformat(),
            "updated_at": clock.now_iso(),
        })
        event(db, case["id"], "landlord", f"landlord permission {permission.replace('_', ' ')}", by=by)
        audit.record(db, by=by, action="referral.landlord", ref=case["ref"], detail=permission)
        targets.refresh_due(db, case["id"])


def next_steps(db: Database, result: AddResult) -> list[str]:
    """What to do after saving, as commands to copy (with a comment each)."""
    ref = result.ref
    if result.status == "declined":
        steps = [(f"thcli letter make {ref} decline", "tell the referrer why")]
    else:
        consent = consent_state(db, result.case_id)
        missing = [scope for scope in ("police", "contractor") if not consent[scope]]
        steps = []
        if missing:
            steps.append((f"thcli referral consent {ref} --scope {','.join(missing)}", "once the client agrees"))
        steps += [
            (f'thcli survey request {ref} --surveyor "NAME"', "the police Crime Reduction Officer"),
            (f"thcli letter make {ref} acknowledgement", "to the referrer"),
        ]
    width = max(len(command) for command, _ in steps)
    return [f"{command.ljust(width)}   # {why}" for command, why in steps]
