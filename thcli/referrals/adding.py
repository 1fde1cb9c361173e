"""Logging a referral: the one path for a new case (``referral add``, the wizard and the demo alike),
with repeat referrals found and warned about, and the next steps to copy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from thcli import audit, clock, codes, eligibility, parse, screening, settings, targets, workflow
from thcli.cases import case_row, consent_state, event, is_rented, name_key
from thcli.db import Database, write
from thcli.referrals.fields import (
    CASE_FIELDS,
    CLIENT_FIELDS,
    CONTACT_FIELDS,
    PERPETRATOR_FIELDS,
    ReferralInput,
    check,
    current_address,
    eligibility_warnings,
    received_at,
    sql_value,
)


@dataclass
class AddResult:
    ref: str
    case_id: int
    status: str
    warnings: list[str]
    repeat_of: list[str]


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
        client_values = {f: sql_value(getattr(data, f)) for f in CLIENT_FIELDS}
        if client_id is None:
            client_id = db["clients"].insert(
                {"name": data.name, "name_key": name_key(data.name), "created_at": now, **client_values}
            ).last_pk
        else:
            known = {k: v for k, v in client_values.items() if v is not None}
            if known:
                db["clients"].update(client_id, known)
            # Cases of every matching client count as earlier ones.
        address_id = current_address(db, client_id, data, now)
        ref = _next_ref(db, received.year)
        case = {f: sql_value(getattr(data, f)) for f in CASE_FIELDS}
        case.update(
            ref=ref, client_id=client_id, address_id=address_id, status="new",
            received_on=received.isoformat(), received_at=received_at(data, today), created_at=now, updated_at=now,
            landlord_permission=None if is_rented(db, data.tenure) else "not_needed",
        )
        case_id = db["cases"].insert(case).last_pk
        db["contacts"].insert(
            {"case_id": case_id, **{col: sql_value(getattr(data, f)) for f, col in CONTACT_FIELDS.items()}}
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
            warnings += [f"eligibility {p}" for p in problems]
            targets.refresh_due(db, case_id)
    return AddResult(ref, case_id, status, warnings, [r["ref"] for r in earlier])


def _outcome(case: dict) -> str:
    return case["status"] + (f": {case['reason']}" if case.get("reason") else "")


def next_steps(db: Database, result: AddResult) -> list[str]:
    """What to do after saving, as commands to copy (with a comment each); never one the case's rules would
    refuse: no survey request while a required document is missing or the case is not eligible, no letter
    that has no safe way to its reader."""
    ref = result.ref
    case = case_row(db, ref)
    contact = db.conn.execute("SELECT safe_post FROM contacts WHERE case_id = ?", [result.case_id]).fetchone()
    to = "the referrer" if case["referrer_name"] else "the client"
    letter = bool(case["referrer_name"]) or bool(contact and contact[0])
    no_letter = (f'thcli referral note {ref} "Told the client by TEXT"',
                 "no safe postal route: tell the client another safe way, and note it")
    if result.status == "declined":
        steps = [(f"thcli letter make {ref} decline", f"tell {to} why") if letter else no_letter]
    else:
        consent = consent_state(db, result.case_id)
        who = workflow.assessor(db)
        needed = [workflow.ASSESSOR_CONSENT.get(who["kind"]), "contractor"]
        missing = [scope for scope in dict.fromkeys(needed) if scope and not consent[scope]]
        steps = []
        if missing:
            steps.append((f"thcli referral consent {ref} --scope {','.join(missing)}", "once the client agrees"))
        failing = eligibility.outstanding(db, case)
        others = [p for p in failing if p.rule.key != "required_documents"]
        required = settings.get(db, "required_documents")
        if "dash" in required and not case["dash_date"]:
            steps.append((f"thcli referral edit {ref} --dash-date DATE", "the DASH assessment, needed before a survey"))
        if "referral_form" in required and not case["referral_form"]:
            steps.append((f"thcli referral edit {ref} --referral-form", "once the referral form arrives (needed "
                                                                        "before a survey)"))
        if others:
            steps.append((f"thcli referral move {ref} declined --reason CODE", f"not eligible: {others[0].why}"))
        elif len(others) == len(failing):
            whom = {"police": "the police Crime Reduction Officer", "scheme": "the scheme's own assessor",
                    "contractor": f"{who['label']}, a contractor's surveyor"}[who["kind"]]
            steps.append((f'thcli survey request {ref} --surveyor "NAME"', whom))
        if letter:
            steps.append((f"thcli letter make {ref} acknowledgement", f"to {to}"))
    width = max(len(command) for command, _ in steps)
    return [f"{command.ljust(width)}   # {why}" for command, why in steps]
