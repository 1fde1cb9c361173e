"""Views of cases for `referral list` and `referral show`: readers that gather many nouns.

:func:`list_cases` finds cases by status, district, risk, route, search and
due date, newest first, reading only stored, indexed columns (the next due
date is kept on each case by targets.refresh_due), so that it stays quick on
100,000 cases. :func:`show_case` gathers everything about one case (client,
contact, consent, timeline, surveys, measures, money, follow-ups, what is
due) as the JSON contract of ``referral show``, and audits the view. Neither
changes a case; the rules live in the nouns they read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from thcli import audit, budget, clock, codes, followups, letters, measures, parse, surveys, targets, workflow
from thcli.cases import case_row, client_details, consent_state, flag, household, landlord, name_key, referrer
from thcli.db import Database, one, write
from thcli.errors import BadInput

# --- finding cases -----------------------------------------------------------

LIST_COLUMNS = (
    "ref", "status", "district", "route", "risk_level", "received_on", "client_name",
    "postcode", "emergency", "next_due_on", "next_due_what",
)


@dataclass
class ListFilters:
    status: str | None = None   # a status, or "open"
    district: str | None = None
    risk: str | None = None
    route: str | None = None
    overdue: bool = False
    search: str | None = None
    since: dt.date | None = None
    limit: int | None = 50


def list_cases(db: Database, filters: ListFilters, *, today: dt.date | None = None) -> tuple[list[dict], int]:
    """Cases matching the filters, newest first, and how many matched in all."""
    today = today or clock.today()
    where, params = [], []
    if filters.status == "open":
        where.append(f"c.status IN ({','.join('?' * len(workflow.OPEN))})")
        params += list(workflow.OPEN)
    elif filters.status:
        if filters.status not in workflow.STATUSES:
            raise BadInput(
                f"{filters.status!r} is not a status: use open or one of {', '.join(workflow.STATUSES)}",
                "--status",
            )
        where.append("c.status = ?")
        params.append(filters.status)
    for column, value, list_name in (
        ("c.district", filters.district, "district"),
        ("c.risk_level", filters.risk, "risk"),
        ("c.route", filters.route, "route"),
    ):
        if value:
            if codes.get(db, list_name, value) is None:
                option = {"district": "--district", "risk": "--risk", "route": "--route"}[list_name]
                raise codes_error(db, list_name, value, option)
            where.append(f"{column} = ?")
            params.append(value)
    if filters.overdue:
        where.append("c.next_due_on < ?")
        params.append(today.isoformat())
    if filters.since:
        where.append("c.received_on >= ?")
        params.append(filters.since.isoformat())
    if filters.search:
        text = filters.search.strip()
        if not text:
            raise BadInput("--search: give part of a reference, a name or a postcode")
        # Names and postcodes are matched once in their own (narrow) tables, not through each
        # case's joins: counting the matches then needs no join (a fifth quicker on 100,000 cases).
        terms = ["c.ref LIKE ? ESCAPE '\\'",
                 "c.client_id IN (SELECT id FROM clients WHERE name_key LIKE ? ESCAPE '\\')"]
        like = "%" + _escape_like(name_key(text)) + "%"
        params += ["%" + _escape_like(text.upper()) + "%", like]
        pc = parse.postcode_key(text)
        if pc:
            terms.append("c.address_id IN (SELECT id FROM addresses WHERE postcode_key LIKE ? ESCAPE '\\')")
            params.append("%" + _escape_like(pc) + "%")
        where.append("(" + " OR ".join(terms) + ")")
    sql_where = (" WHERE " + " AND ".join(where)) if where else ""  # on cases c alone
    columns = """c.ref, c.status, c.district, c.route, c.risk_level, c.received_on,
                 coalesce(cl.name, '') AS client_name, coalesce(a.postcode, '') AS postcode,
                 c.emergency, c.next_due_on, c.next_due_what"""
    joins = """LEFT JOIN clients cl ON cl.id = c.client_id
               LEFT JOIN addresses a ON a.id = c.address_id"""
    page = "ORDER BY c.received_on DESC, c.id DESC" + (f" LIMIT {int(filters.limit)}" if filters.limit else "")
    if filters.search:
        # A search reads every case to count the matches: the page comes from the same pass
        # (the matches, counted, then sorted and joined), not from a second one.
        cursor = db.conn.execute(
            f"""WITH matched AS (SELECT c.id FROM cases c{sql_where})
                SELECT (SELECT count(*) FROM matched) AS total, {columns}
                FROM matched JOIN cases c ON c.id = matched.id {joins} {page}""", params)
        rows = cursor.fetchall()
        total = rows[0][0] if rows else 0
        rows = [row[1:] for row in rows]
        names = [d[0] for d in cursor.description][1:]
    else:
        # Filters alone are served by the indexes: the count, and the page in order.
        total = db.conn.execute(f"SELECT count(*) FROM cases c{sql_where}", params).fetchone()[0]
        cursor = db.conn.execute(f"SELECT {columns} FROM cases c {joins}{sql_where} {page}", params)
        rows = cursor.fetchall()
        names = [d[0] for d in cursor.description]
    out = []
    for row in rows:
        item = dict(zip(names, row, strict=True))
        item["emergency"] = bool(item["emergency"])
        out.append(item)
    return out, total


def codes_error(db: Database, list_name: str, value: str, option: str) -> BadInput:
    try:
        codes.require(db, list_name, value, allow_retired=True)
    except BadInput as error:
        return error.for_option(option)
    return BadInput(f"{value!r} is not a {list_name}", option)  # pragma: no cover - require raised


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")



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

    result = {
        "ref": case["ref"],
        "status": case["status"],
        "status_before_hold": case["status_before_hold"],
        "reason": case["reason"],
        "district": case["district"],
        "route": case["route"],
        "risk_level": case["risk_level"],
        "received_on": case["received_on"],
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
            "problems": workflow.eligibility_problems(db, case),
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


