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
