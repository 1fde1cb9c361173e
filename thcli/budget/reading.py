"""Reading the money back: ``budget ledger`` (entries by year, fund, case and kind), and the money of one
case (``referral show``, subject access)."""

from __future__ import annotations

from dataclasses import dataclass

from thcli.budget.funds import find_fund, require_year
from thcli.budget.ledger import ENTRY_SQL, FIGURES, KINDS, PLEDGES, effective, shown_entry
from thcli.cases import case_row
from thcli.db import Database
from thcli.errors import BadInput


@dataclass
class LedgerFilters:
    year: str | None = None
    fund: str | None = None
    ref: str | None = None
    kind: str | None = None


def ledger_entries(db: Database, filters: LedgerFilters) -> list[dict]:
    """Ledger entries, oldest first, by fund year, fund, case and kind."""
    where, params = [], []
    if filters.year:
        where.append("f.year = ?")
        params.append(require_year(db, filters.year))
    if filters.fund:
        where.append("l.fund_id = ?")
        params.append(find_fund(db, filters.fund)["id"])
    if filters.ref:

        where.append("l.case_id = ?")
        params.append(case_row(db, filters.ref)["id"])
    if filters.kind:
        kind = filters.kind.strip().lower()
        if kind not in KINDS:
            raise BadInput(f"{filters.kind!r} is not a kind of entry: use one of {', '.join(KINDS)}",
                           "--kind")
        where.append("l.kind = ?")
        params.append(kind)
    sql = ENTRY_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY l.id"
    return [shown_entry(r) for r in db.query(sql, params)]


def case_money(db: Database, case_id: int) -> dict:
    """Committed, paid and contributions of a case, and the funds they are in."""
    rows = list(db.query(
        f"""WITH effective AS ({effective("l.case_id = :case")}),
            pledges AS (SELECT fund_id, sum(outstanding) AS pledged_pence
                        FROM ({PLEDGES.format(where='')}) GROUP BY fund_id)
            SELECT f.code AS fund, f.name, f.year, {FIGURES},
                   coalesce(p.pledged_pence, 0) AS pledged_pence
            FROM effective e JOIN funds f ON f.id = e.fund_id LEFT JOIN pledges p ON p.fund_id = e.fund_id
            GROUP BY e.fund_id ORDER BY f.year, f.code""", {"case": case_id}))
    funds = [{"fund": r["fund"], "name": r["name"], "year": r["year"], "committed_pence": r["committed_pence"],
              "paid_pence": r["paid_pence"], "contributions_pence": r["contributions_pence"],
              "pledged_pence": r["pledged_pence"]} for r in rows]
    return {
        "committed_pence": sum(f["committed_pence"] for f in funds),
        "paid_pence": sum(f["paid_pence"] for f in funds),
        "contributions_pence": sum(f["contributions_pence"] for f in funds),
        "pledged_pence": sum(f["pledged_pence"] for f in funds),
        "funds": funds,
    }


def open_pledges(db: Database, *, case_id: int | None = None, year: str | None = None,
                 pledged_from: str | None = None, pledged_to: str | None = None) -> list[dict]:
    """Pledges not yet received (net of money received from the same contributor for the case, and of
    corrections), oldest first: for one case, one year's funds, or pledged between two ISO dates."""
    where = ["l.case_id IS NOT NULL", "l.kind IN ('contribution', 'correction')"]
    params: list[int | str] = []
    if case_id is not None:
        where.append("l.case_id = ?")
        params.append(case_id)
    if year is not None:
        where.append("l.fund_id IN (SELECT id FROM funds WHERE year = ?)")
        params.append(year)
    sql = f"""
        WITH effective AS ({effective(" AND ".join(where))}),
        open AS ({PLEDGES.format(where='')}),
        pledges AS (SELECT e.case_id, e.fund_id, e.contributor, min(e.on_date) AS pledged_on, max(e.id) AS entry
                    FROM effective e
                    WHERE e.kind = 'contribution' AND e.pledged = 1
                      AND NOT EXISTS (SELECT 1 FROM ledger x WHERE x.corrects_id = e.id)
                    GROUP BY e.case_id, e.fund_id, e.contributor)
        SELECT c.ref, o.contributor, f.code AS fund, o.outstanding AS outstanding_pence, p.pledged_on, p.entry
        FROM open o JOIN cases c ON c.id = o.case_id JOIN funds f ON f.id = o.fund_id
        LEFT JOIN pledges p ON p.case_id = o.case_id AND p.fund_id = o.fund_id AND p.contributor = o.contributor
        WHERE o.outstanding > 0 {"AND p.pledged_on >= ?" if pledged_from else ""}
              {"AND p.pledged_on <= ?" if pledged_to else ""}
        ORDER BY p.pledged_on, c.ref, o.contributor"""
    params += [day for day in (pledged_from, pledged_to) if day]
    return list(db.query(sql, params))


def outstanding(db: Database, case_id: int) -> dict[str, list[dict]]:
    """The money a case still has open: commitments not yet paid (per line and fund) and pledges not yet
    received. What closing a case asks about (workflow.py)."""
    commitments = list(db.query(
        f"""WITH effective AS ({effective("l.case_id = ? AND l.line_id IS NOT NULL")})
            SELECT m.line, m.status, f.code AS fund,
                   -sum(CASE WHEN e.counts_as IN ('commitment', 'release') THEN e.amount_pence ELSE 0 END)
                       AS committed_pence
            FROM effective e JOIN measure_lines m ON m.id = e.line_id JOIN funds f ON f.id = e.fund_id
            GROUP BY e.line_id, e.fund_id HAVING committed_pence > 0 ORDER BY m.line, f.code""", [case_id]))
    return {"commitments": commitments, "pledges": open_pledges(db, case_id=case_id)}


def contributions_from(db: Database, case_id: int, contributor: str) -> tuple[int, int]:
    """What one contributor (the landlord...) pledged towards a case, and what was received from them, net of
    corrections: what their letter asks for."""
    row = db.conn.execute(
        f"""WITH effective AS ({effective("l.case_id = ? AND l.contributor = ?")})
            SELECT coalesce(sum(CASE WHEN pledged = 1 THEN amount_pence END), 0),
                   coalesce(sum(CASE WHEN pledged = 0 THEN amount_pence END), 0)
            FROM effective WHERE counts_as = 'contribution'""", [case_id, contributor]).fetchone()
    return int(row[0]), int(row[1])
