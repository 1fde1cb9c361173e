"""Funds (DESIGN.md §5): a pot for one financial year (1 April to 31 March), county-wide or for one district,
and its figures from the ledger."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from thcli import audit, clock, codes, dates, parse
from thcli.budget.ledger import FIGURES, PLEDGES, append, effective, entry_row
from thcli.db import Database, one, write
from thcli.errors import BadInput, NotAllowed, NotFound


def year_span(year: str) -> tuple[dt.date, dt.date]:
    """First and last day of a financial year ``2026/27``."""
    _label, start, end = dates.financial_year(year)
    return start, end


def fund_code(name: str, year: str) -> str:
    """A fund's code from its name and year: ``Example OPCC`` 2026/27 -> ``example_opcc_2026_27``."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40].strip("_")
    suffix = year.replace("/", "_")
    if suffix not in slug:
        slug = f"{slug}_{suffix}" if slug else suffix
    if not slug[0].isalpha():
        slug = f"fund_{slug}"
    return slug


@dataclass
class Recorded:
    """What a money command wrote: its ledger entries and the fund's balance after."""

    entries: list[dict]
    fund: dict
    remaining_pence: int


def recorded(db: Database, entry_ids: list[int], fund: dict) -> Recorded:
    return Recorded([entry_row(db, e) for e in entry_ids], fund, remaining(db, fund["id"]))


def fund_label(fund: dict) -> str:
    return f"{fund['name']} ({fund['code']})"


def fund_row(db: Database, where: str, params: Iterable) -> dict | None:
    return one(db, f"SELECT * FROM funds WHERE {where}", list(params))


def fund_by_id(db: Database, fund_id: int) -> dict:
    """A fund a ledger entry or a measure line points at (the schema's foreign keys keep it)."""
    fund = fund_row(db, "id = ?", [fund_id])
    if fund is None:  # pragma: no cover - a foreign key points at it
        raise NotFound(f"there is no fund {fund_id}: see `thcli budget fund list`")
    return fund


def years(db: Database) -> list[str]:
    """The financial years that have funds, oldest first."""
    return [r[0] for r in db.conn.execute("SELECT DISTINCT year FROM funds ORDER BY year")]


def find_fund(db: Database, text: str, *, option: str = "--fund") -> dict:
    """A fund by its code (as shown by ``budget fund list``) or its number.

    BadInput (exit 2, naming ``option``) when there is no such fund.
    """
    wanted = (text or "").strip()
    fund = None
    if wanted.isascii() and wanted.isdigit():
        fund = fund_row(db, "id = ?", [int(wanted)])
    elif wanted:
        fund = fund_row(db, "code = ?", [wanted.lower()])
    if fund is not None:
        return fund
    this_year = dates.financial_year_of(clock.today())
    known = [r[0] for r in db.conn.execute("SELECT code FROM funds WHERE year = ? ORDER BY code", [this_year])]
    if known:
        hint = f"{this_year} funds are {', '.join(known)}"
    elif years(db):
        hint = f"funds exist for {', '.join(years(db))}"
    else:
        hint = "there are no funds yet: add one with `thcli budget fund add`"
    raise BadInput(f"there is no fund {wanted!r}: use a fund code or number from "
                   f"`thcli budget fund list` ({hint})", option)


def require_year(db: Database, year: str, *, option: str = "--year") -> str:
    """A financial year that has funds (BadInput, exit 2, otherwise)."""
    try:
        label = dates.financial_year(year)[0]
    except BadInput as error:
        raise error.for_option(option) from None
    if not db.conn.execute("SELECT 1 FROM funds WHERE year = ? LIMIT 1", [label]).fetchone():
        known = years(db)
        raise BadInput(f"there are no funds for {label}: "
                       + (f"funds exist for {', '.join(known)}" if known
                          else "add one with `thcli budget fund add NAME --year YYYY/YY ...`"), option)
    return label


def add_fund(db: Database, name: str, *, year: str, source: str, amount_pence: int, by: str,
             district: str | None = None, code: str | None = None, on: dt.date | None = None) -> dict:
    """Create a fund for a financial year with its allocation; returns the fund row."""
    try:
        label = dates.financial_year(year)[0]
    except BadInput as error:
        raise error.for_option("--year") from None
    if not name.strip():
        raise BadInput("NAME: give the fund a name, e.g. \"Example OPCC\"")
    try:
        name = parse.label(name)
    except BadInput as error:
        raise BadInput(f"NAME: {error.message}") from None
    if amount_pence <= 0:
        raise BadInput("a fund's allocation must be more than £0.00", "--amount")
    try:
        codes.require(db, "fund_source", source)
    except BadInput as error:
        raise error.for_option("--source") from None
    if district is not None:
        try:
            codes.require(db, "district", district)
        except BadInput as error:
            raise error.for_option("--district") from None
    if code is None:
        code = fund_code(name, label)
    else:
        try:
            code = parse.code(code)
        except BadInput as error:
            raise error.for_option("--code") from None
    on = on or clock.today()
    with write(db):
        existing = fund_row(db, "code = ?", [code])
        if existing:
            raise NotAllowed(f"there is already a fund {code} ({existing['name']}, {existing['year']}): "
                             "give this one another code with --code")
        same = fund_row(db, "lower(name) = ? AND year = ?", [name.lower(), label])
        if same:
            raise NotAllowed(f"there is already a fund called {same['name']} for {label} ({same['code']})")
        now = clock.now_iso()
        fund_id = db.conn.execute(
            "INSERT INTO funds (code, name, year, source, district, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", [code, name, label, source, district, now, by]).lastrowid
        append(db, kind="allocation", amount=amount_pence, fund_id=fund_id, on=on, by=by,
                memo="opening allocation")
        audit.record(db, by=by, action="budget.fund_add", detail=f"{code} {amount_pence}")
        return fund_by_id(db, fund_id)


def not_future(on: dt.date | None, option: str = "--date") -> dt.date:
    """The day money moved: today when not given, and never after it."""
    return clock.today() if on is None else dates.not_future(on, "money is recorded when it moves", option)


def allocate(db: Database, fund_text: str, amount_pence: int, *, by: str, on: dt.date | None = None,
             memo: str | None = None) -> Recorded:
    """Add money to a fund during its year (a grant top-up, donations)."""
    if amount_pence <= 0:
        raise BadInput("an allocation must be more than £0.00", "--amount")
    on = not_future(on)
    with write(db):
        fund = find_fund(db, fund_text, option="FUND")
        entry = append(db, kind="allocation", amount=amount_pence, fund_id=fund["id"], on=on, by=by,
                        memo=memo or "allocation added")
        audit.record(db, by=by, action="budget.allocate", detail=f"{fund['code']} entry {entry}")
        return recorded(db, [entry], fund)


def list_funds(db: Database, *, year: str | None = None) -> list[dict]:
    """Funds (of one year, or all) with their figures; ``fund`` is the code ``--fund`` accepts."""
    label = require_year(db, year) if year else None
    return [{"fund": r["code"], **{k: v for k, v in r.items() if k != "code"}}
            for r in fund_figures(db, year=label)]


def fund_figures(db: Database, *, year: str | None = None) -> list[dict]:
    """Every fund (of a year) with its figures: one aggregate over its ledger rows."""
    where, params = [], []
    if year:
        where.append("f.year = ?")
        params.append(year)
    chosen = f"l.fund_id IN (SELECT f.id FROM funds f WHERE {' AND '.join(where)})" if where else "1"
    sql = f"""
        WITH effective AS ({effective(chosen)}),
        figures AS (SELECT fund_id, {FIGURES} FROM effective GROUP BY fund_id),
        pledges AS (SELECT fund_id, sum(outstanding) AS pledged_pence FROM ({PLEDGES.format(where='')})
                    GROUP BY fund_id)
        SELECT f.id, f.code, f.name, f.year, f.source, f.district,
               coalesce(g.allocated_pence, 0) AS allocated_pence,
               coalesce(g.contributions_pence, 0) AS contributions_pence,
               coalesce(p.pledged_pence, 0) AS pledged_pence,
               coalesce(g.committed_pence, 0) AS committed_pence,
               coalesce(g.paid_pence, 0) AS paid_pence,
               coalesce(g.remaining_pence, 0) AS remaining_pence
        FROM funds f LEFT JOIN figures g ON g.fund_id = f.id LEFT JOIN pledges p ON p.fund_id = f.id
        {'WHERE ' + ' AND '.join(where) if where else ''}
        ORDER BY f.year, f.district IS NOT NULL, f.district, f.code
    """
    return list(db.query(sql, params * 2))  # the funds are chosen twice: in the ledger and in the result


def remaining(db: Database, fund_id: int) -> int:
    """What is left in a fund: allocations and contributions received, less payments and open commitments."""
    return db.conn.execute(
        "SELECT coalesce(sum(amount_pence), 0) FROM ledger WHERE fund_id = ? AND pledged = 0", [fund_id]
    ).fetchone()[0]
