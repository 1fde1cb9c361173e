"""Changing what a case records: details (``referral edit``), notes, consent and the landlord's permission.

A closed or declined case is read-only except for notes, and an anonymised
one can no longer be changed. Free text a landlord, contractor or surveyor
would read is screened as it is saved (screening.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from thcli import audit, clock, dates, parse, screening, targets, workflow
from thcli.cases import CONSENT_SCOPES, case_row, consent_state, event, is_rented, name_key
from thcli.db import Database, one, write
from thcli.errors import BadInput, NotAllowed
from thcli.referrals.fields import (
    CASE_FIELDS,
    CLIENT_FIELDS,
    CODED_FIELDS,
    CONTACT_FIELDS,
    LANDLORD_PERMISSIONS,
    PERPETRATOR_FIELDS,
    ReferralInput,
    check,
    current_address,
    sql_value,
)


def _writable(db: Database, ref: str) -> dict:
    case = case_row(db, ref)
    workflow.require_not_read_only(case)
    if case.get("anonymised_on"):
        raise NotAllowed(
            f"{case['ref']} was anonymised under the retention schedule: its details can no longer be changed"
        )
    return case


EDITABLE = (
    {"name", "address", "postcode", "do_not_disclose", "received_time"}
    | set(CLIENT_FIELDS) | set(CASE_FIELDS) | set(CONTACT_FIELDS) | set(PERPETRATOR_FIELDS)
)


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

    A wrong received date (``received_on``, with ``received_time`` when the
    time is known) is corrected within the year the reference is numbered in,
    and not after anything done on the case; the timeline records the old and
    the new, and every target moves with it.
    """
    unknown = set(changes) - EDITABLE
    if unknown:
        raise BadInput(f"cannot edit {', '.join(sorted(unknown))}")
    if not changes:
        raise BadInput("nothing to change: give the options to edit (see `thcli referral edit --help`)")
    if "received_time" in changes and "received_on" not in changes:
        raise BadInput("give the date with the time, e.g. --received \"01/12/2026 16:30\"", "--received")
    with write(db):
        case = _writable(db, ref)
        received = _received_change(db, case, changes) if "received_on" in changes else None
        merged = _input_from_case(db, case)
        for key, value in changes.items():
            setattr(merged, key, value)
        check(db, merged, kept=frozenset(CODED_FIELDS) - set(changes))
        now = clock.now_iso()
        client_changes = {k: sql_value(v) for k, v in changes.items() if k in CLIENT_FIELDS}
        if "name" in changes:
            client_changes.update(name=changes["name"], name_key=name_key(changes["name"]))
        if client_changes:
            db["clients"].update(case["client_id"], client_changes)
        case_changes = {k: sql_value(v) for k, v in changes.items() if k in CASE_FIELDS}
        if "tenure" in changes and case["landlord_permission"] in (None, "not_needed"):
            case_changes["landlord_permission"] = None if is_rented(db, changes["tenure"]) else "not_needed"
        if {"address", "postcode"} & set(changes):
            address_id = current_address(db, case["client_id"], merged, now)
            case_changes["address_id"] = address_id
        elif "do_not_disclose" in changes and case["address_id"]:
            db["addresses"].update(case["address_id"], {"do_not_disclose": int(changes["do_not_disclose"])})
        case_changes["updated_at"] = now
        if received is not None:
            case_changes["received_at"] = received[1]
        db["cases"].update(case["id"], case_changes)
        contact_changes = {CONTACT_FIELDS[k]: sql_value(v) for k, v in changes.items() if k in CONTACT_FIELDS}
        if contact_changes:
            db["contacts"].upsert({"case_id": case["id"], **contact_changes}, pk="case_id")
        perp_changes = {PERPETRATOR_FIELDS[k]: v for k, v in changes.items() if k in PERPETRATOR_FIELDS}
        if perp_changes:
            db["perpetrators"].upsert({"case_id": case["id"], **perp_changes}, pk="case_id")
        # The received date and time are one option (--received), and one change.
        changed = sorted({"received" if k in ("received_on", "received_time") else k for k in changes})
        event(db, case["id"], "edit", "changed: " + ", ".join(changed), by=by)
        if received is not None:
            event(db, case["id"], "received", received[0], by=by)
        audit.record(db, by=by, action="referral.edit", ref=case["ref"], detail=",".join(changed))
        targets.refresh_due(db, case["id"])
        # A new perpetrator name can make text typed earlier unsafe: then every field is screened again.
        renamed = "perpetrator_name" in changes
        warnings = screening.case_warnings(db, case, None if renamed else changes, lines=renamed)
    return Edited(changed, warnings)


def _shown_received(on: str, at: str | None) -> str:
    return dates.format_date(on) + (f" {dates.format_time(at)}" if at else "")


def _received_change(db: Database, case: dict, changes: dict[str, Any]) -> tuple[str, str | None]:
    """Check a corrected received date (and time); returns the timeline's words and the new received_at."""
    day: dt.date = dates.not_future(changes["received_on"], "a referral is logged once received", "--received")
    time: dt.time | None = changes.get("received_time")
    ref = case["ref"]
    numbered = int(ref.rsplit("-", 2)[-2]) if ref.count("-") >= 2 and ref.rsplit("-", 2)[-2].isdigit() else day.year
    if day.year != numbered:
        raise BadInput(f"{ref} is numbered in {numbered}, and {dates.format_date(day)} is in {day.year}: a "
                       f"referral received then is numbered in {day.year}. If it really came in then, log it again "
                       f"with `thcli referral add --received DATE` and withdraw {ref}", "--received")
    done = db.conn.execute(
        """SELECT min(d) FROM (
               SELECT first_contact_on AS d FROM cases WHERE id = :id
               UNION ALL SELECT requested_on FROM surveys WHERE case_id = :id
               UNION ALL SELECT surveyed_on FROM surveys WHERE case_id = :id
               UNION ALL SELECT approved_on FROM measure_lines WHERE case_id = :id
               UNION ALL SELECT fitted_on FROM measure_lines WHERE case_id = :id
               UNION ALL SELECT done_on FROM followups WHERE case_id = :id) WHERE d IS NOT NULL""",
        {"id": case["id"]}).fetchone()[0]
    if done and day > dt.date.fromisoformat(done):
        raise BadInput(f"{dates.format_date(day)} is after work on {ref} began ({dates.format_date(done)}): a "
                       "referral is received before anything is done on it", "--received")
    at = dt.datetime.combine(day, time).isoformat(timespec="minutes") if time is not None else None
    before = _shown_received(case["received_on"], case["received_at"])
    return f"received date corrected: {before} → {_shown_received(day.isoformat(), at)}", at


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


def set_landlord(
    db: Database, ref: str, *, by: str, permission: str | None = None, address: str | None = None,
    postcode: str | None = None, on: dt.date | None = None,
) -> dict:
    """Record the landlord's permission for works, and where to write to them (``referral landlord``).

    The address and postcode are the landlord's own, printed on the landlord
    letter; they go together. Returns the case after the change.
    """
    if permission is not None and permission not in LANDLORD_PERMISSIONS:
        raise BadInput(f"{permission!r}: use one of {', '.join(LANDLORD_PERMISSIONS)}", "--permission")
    if permission is None and address is None and postcode is None:
        raise BadInput("say what to record: --permission STATE, or the landlord's --address TEXT and --postcode "
                       "POSTCODE")
    if (address is None) != (postcode is None):
        missing = "--postcode" if postcode is None else "--address"
        raise BadInput("the landlord's address needs its postcode too: give --address TEXT and --postcode POSTCODE "
                       "together", missing)
    if address is not None:
        if not address.strip():
            raise BadInput("give the landlord's postal address, e.g. \"Lettings Office, 2 Sample Street, "
                           "Millbrook\"", "--address")
        address = parse.text(" ".join(address.split()), max_len=200)
        try:
            postcode = parse.postcode(postcode or "")
        except BadInput as error:
            raise error.for_option("--postcode") from None
    on = on or clock.today()
    with write(db):
        case = _writable(db, ref)
        if not is_rented(db, case["tenure"]) and (permission not in (None, "not_needed") or address is not None):
            needed = "no landlord permission is needed" if permission not in (None, "not_needed") else \
                "there is no landlord to write to"
            raise NotAllowed(
                f"{case['ref']}: the home is not rented (tenure {case['tenure'] or 'unknown'}), so {needed}; "
                "set the tenure first with `thcli referral edit --tenure`"
            )
        changes: dict = {"updated_at": clock.now_iso()}
        if permission is not None:
            changes.update(landlord_permission=permission, landlord_permission_on=on.isoformat())
            event(db, case["id"], "landlord", f"landlord permission {permission.replace('_', ' ')}", by=by)
            audit.record(db, by=by, action="referral.landlord", ref=case["ref"], detail=permission)
        if address is not None:
            changes.update(landlord_address=address, landlord_postcode=postcode)
            event(db, case["id"], "landlord", "the landlord's address recorded", by=by)
            audit.record(db, by=by, action="referral.landlord_address", ref=case["ref"])
        db["cases"].update(case["id"], changes)
        targets.refresh_due(db, case["id"])
        return case_row(db, case["ref"])


def set_landlord_permission(
    db: Database, ref: str, permission: str, *, by: str, on: dt.date | None = None
) -> None:
    """Record where the landlord's permission for works stands."""
    set_landlord(db, ref, permission=permission, by=by, on=on)
