"""Finding cases for `referral list`: by status, district, risk, route, search and due date, newest first.

It reads only stored, indexed columns (the next due date is kept on each
case by targets.refresh_due), so that it stays quick on 100,000 cases, and it
imports only what a list needs (none of letters, money or surveys), so that
`referral list` starts quickly. One case in full is case_view.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from thcli import clock, codes, parse, targets, workflow
from thcli.cases import name_key
from thcli.db import Database
from thcli.errors import BadInput

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
    targets.catch_up(db)
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
        # Past its date; or, for a target in hours, past its moment today.
        where.append("c.next_due_on <= ? AND (c.next_due_on < ? OR c.next_due_at < ?)")
        now = clock.now() if today == clock.today() else dt.datetime.combine(today, dt.time(0, 0))
        params += [today.isoformat(), today.isoformat(), now.isoformat(timespec="minutes")]
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
                 c.emergency, c.next_due_on, c.next_due_what, c.next_due_at"""
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
