"""The view of one case for `referral show`: a reader that gathers many nouns.

:func:`show_case` gathers everything about one case (client, contact,
consent, timeline, surveys, measures, money, letters, follow-ups, what is
due) as the JSON contract of ``referral show``, and audits the view. It
changes no case; the rules live in the nouns it reads. Finding cases
(`referral list`) is case_list.py, which loads none of the letters or money
code, so that the list starts quickly.
"""

from __future__ import annotations

from thcli import (
    audit,
    budget,
    eligibility,
    followups,
    letters,
    measures,
    surveys,
    targets,
)
from thcli.cases import case_row, client_details, consent_state, flag, household, landlord, referrer
from thcli.db import Database, one, write

# --- reading one case ---------------------------------------------------------


def show_case(db: Database, ref: str, *, by: str, with_perpetrator: bool = False) -> dict:
    """Everything about a case, as the JSON contract of ``referral show`` (audited)."""
    case = case_row(db, ref)
    client = one(db, "SELECT * FROM clients WHERE id = ?", [case["client_id"]]) or {}
    address = one(db, "SELECT * FROM addresses WHERE id = ?", [case["address_id"]]) or {}
    contact = one(db, "SELECT * FROM contacts WHERE case_id = ?", [case["id"]]) or {}
    repeats = [
        r[0] for r in db.conn.execute(
            "SELECT e.ref FROM case_repeats r JOIN cases e ON e.id = r.earlier_case_id "
            "WHERE r.case_id = ? ORDER BY e.received_on, e.id", [case["id"]]
        )
    ]
    later = [
        r[0] for r in db.conn.execute(
            "SELECT l.ref FROM case_repeats r JOIN cases l ON l.id = r.case_id "
            "WHERE r.earlier_case_id = ? ORDER BY l.received_on, l.id", [case["id"]]
        )
    ]
    timeline = list(db.query(
        "SELECT at, kind, detail, by FROM events WHERE case_id = ? ORDER BY id", [case["id"]]
    ))
    failing = eligibility.outstanding(db, case)

    result = {
        "ref": case["ref"],
        "status": case["status"],
        "status_before_hold": case["status_before_hold"],
        "reason": case["reason"],
        "district": case["district"],
        "route": case["route"],
        "risk_level": case["risk_level"],
        "received_on": case["received_on"],
        "received_at": case["received_at"],
        "emergency": bool(case["emergency"]),
        "marac": flag(case["marac"]),
        "marac_date": case["marac_date"],
        "dash_date": case["dash_date"],
        "dash_score": case["dash_score"],
        "referral_form": bool(case["referral_form"]),
        "crime_ref": case["crime_ref"],
        "referrer": referrer(case),
        "support_worker": case["support_worker"],
        "tenure": case["tenure"],
        "landlord": landlord(case),
        "landlord_permission": case["landlord_permission"],
        "landlord_permission_on": case["landlord_permission_on"],
        "household": household(case),
        "eligibility": {
            "chooses_to_stay": flag(case["chooses_to_stay"]),
            "perpetrator_lives_there": flag(case["perpetrator_lives_there"]),
            "perpetrator_can_enter": flag(case["perpetrator_can_enter"]),
            "problems": [p.text for p in failing],
            "rules": [p.as_dict() for p in failing],
            "overridden": eligibility.overridden(db, case["id"]),
        },
        "consent": consent_state(db, case["id"]),
        "client": {
            **client_details(client),
            "address": address.get("address"),
            "postcode": address.get("postcode"),
            "do_not_disclose": bool(address.get("do_not_disclose")),
            "address_is_current": bool(address.get("current")),
        },
        "safe_contact": {
            "call": bool(contact.get("safe_call")),
            "text": bool(contact.get("safe_text")),
            "voicemail": bool(contact.get("safe_voicemail")),
            "email": bool(contact.get("safe_email")),
            "post": bool(contact.get("safe_post")),
        },
        "contact": {
            "phone": contact.get("phone"), "email": contact.get("email"),
            "safe_times": contact.get("safe_times"),
            "third_party_name": contact.get("third_party_name"),
            "third_party_phone": contact.get("third_party_phone"),
        },
        "repeat_of": repeats,
        "repeated_by": later,
        "first_contact_on": case["first_contact_on"],
        "fitted_on": case["fitted_on"],
        "closed_on": case["closed_on"],
        "legal_hold": bool(case["legal_hold"]),
        "next_due_on": case["next_due_on"],
        "next_due_what": case["next_due_what"],
        "next_due_at": case["next_due_at"],
        "timeline": timeline,
        "money": budget.case_money(db, case["id"]),
        "surveys": surveys.case_surveys(db, case["id"]),
        "measures": measures.case_lines(db, case["id"]),
        "followups": followups.case_followups(db, case["id"]),
        "due": targets.case_due(db, case),
        # The letters made, with their file names (the table of `referral show` may leave the file out).
        "letters": letters.case_letters(db, case["ref"]),
    }
    with write(db):
        audit.record(db, by=by, action="referral.show", ref=case["ref"])
        if with_perpetrator:
            row = one(db, "SELECT name, relationship, whereabouts, court_orders, notes "
                          "FROM perpetrators WHERE case_id = ?", [case["id"]])
            result["perpetrator"] = row or {
                "name": None, "relationship": None, "whereabouts": None,
                "court_orders": None, "notes": None,
            }
            audit.record(db, by=by, action="referral.show_perpetrator", ref=case["ref"])
    return result


